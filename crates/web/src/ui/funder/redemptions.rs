//! The funder's redemptions: filters, the paged list and its CSV export.

use super::*;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    commande: String,
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
}

pub(super) struct Parsed {
    pub(super) order: Option<OrderId>,
    pub(super) from: Option<Date>,
    pub(super) to: Option<Date>,
}

pub(super) fn parse(f: &Filters, errors: &mut FieldErrors) -> Parsed {
    let order = match f.commande.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if n > 0 => Some(OrderId(n)),
            _ => {
                errors.add(
                    "commande",
                    "Indiquez un numéro de commande (un nombre), ou laissez vide.",
                );
                None
            }
        },
    };
    let mut date = |field: &str, s: &str| match s.trim() {
        "" => None,
        s => match crate::api::dto::date_in(field, s) {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add(
                    field,
                    "Indiquez une date au format JJ/MM/AAAA ou AAAA-MM-JJ.",
                );
                None
            }
        },
    };
    let from = date("du", &french_date(&f.du));
    let to = date("au", &french_date(&f.au));
    Parsed { order, from, to }
}

/// Accepts "31/12/2026" as well as the "2026-12-31" a date field sends.
pub(crate) fn french_date(s: &str) -> String {
    let parts: Vec<&str> = s.trim().split('/').collect();
    if parts.len() == 3 {
        format!("{}-{:0>2}-{:0>2}", parts[2], parts[1], parts[0])
    } else {
        s.to_string()
    }
}

pub(super) fn keep(r: &Redemption, p: &Parsed) -> bool {
    let day = paris::local_date(r.redeemed_at);
    p.order.is_none_or(|o| o == r.order_id)
        && p.from.is_none_or(|d| day >= d)
        && p.to.is_none_or(|d| day <= d)
}

/// Every redemption of the funder's cheques matching the filters, newest first.
pub(super) async fn matching(
    st: &AppState,
    funder: FunderId,
    p: &Parsed,
    max: usize,
) -> Vec<Redemption> {
    let mut out = vec![];
    let mut before = 0;
    loop {
        let page = st
            .store
            .list_redemptions(RedemptionScope::Funder(funder), before, 500)
            .await
            .unwrap_or_default();
        let Some(last) = page.last() else { break };
        before = last.id.0;
        out.extend(page.into_iter().filter(|r| keep(r, p)));
        if out.len() >= max {
            out.truncate(max);
            break;
        }
    }
    out
}

pub struct RedemptionRow {
    pub when: String,
    pub code: String,
    pub order: i64,
    /// The venue's name (a funder knows its venues by name, not by number).
    pub venue: String,
    pub service: String,
    pub amount: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "encaissements.html")]
pub(super) struct RedemptionsPage {
    layout: Layout,
    commande: String,
    du: String,
    au: String,
    errors: FieldErrors,
    rows: Vec<RedemptionRow>,
    total: String,
    csv_query: String,
}

pub(super) fn status_of(r: &Redemption) -> &'static str {
    if r.rolled_back_at.is_some() {
        "Annulé"
    } else {
        "Encaissé"
    }
}

pub async fn redemptions(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(f): Query<Filters>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut errors = FieldErrors::default();
    let parsed = parse(&f, &mut errors);
    let list = if errors.is_empty() {
        matching(&st, funder, &parsed, 200).await
    } else {
        vec![]
    };
    let total: i64 = list
        .iter()
        .filter(|r| r.rolled_back_at.is_none())
        .map(|r| r.amount_cents)
        .sum();
    // The venues of the page, read once each: a page names a few venues many times.
    let mut venue_names: std::collections::HashMap<i64, String> = Default::default();
    for r in &list {
        if let std::collections::hash_map::Entry::Vacant(e) = venue_names.entry(r.venue_id.0)
            && let Ok(v) = st.store.get_venue(r.venue_id).await
        {
            e.insert(v.name);
        }
    }
    let page = RedemptionsPage {
        layout: Layout::new(
            "Encaissements",
            Some(&staff),
            &csrf,
            "/commanditaire/encaissements",
        ),
        csv_query: format!(
            "commande={}&du={}&au={}",
            crate::ui::session::urlencode(f.commande.trim()),
            crate::ui::session::urlencode(f.du.trim()),
            crate::ui::session::urlencode(f.au.trim())
        ),
        commande: f.commande,
        du: f.du,
        au: f.au,
        rows: list
            .iter()
            .map(|r| RedemptionRow {
                when: paris::format_moment(r.redeemed_at),
                code: r.cheque_code.clone(),
                order: r.order_id.0,
                venue: venue_names
                    .get(&r.venue_id.0)
                    .cloned()
                    .unwrap_or_else(|| format!("Lieu n° {}", r.venue_id.0)),
                service: r.service_code.clone(),
                amount: euros(r.amount_cents),
                status: status_of(r),
            })
            .collect(),
        total: euros(total),
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(status, &page, &csrf)
}

pub(super) fn iso(t: Timestamp) -> String {
    let d = paris::local_date(t);
    let o = t.to_offset_datetime();
    let local = o.to_offset(paris::offset_at(o));
    format!("{} {:02}:{:02}", date_out(d), local.hour(), local.minute())
}

/// CSV for a spreadsheet: semicolons and a UTF-8 BOM, as French spreadsheet software expects.
pub async fn redemptions_csv(
    State(st): State<AppState>,
    FunderStaff(_, funder): FunderStaff,
    Query(f): Query<Filters>,
) -> Response {
    let mut errors = FieldErrors::default();
    let parsed = parse(&f, &mut errors);
    if !errors.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Filtres invalides : corrigez-les sur la page des encaissements.",
        )
            .into_response();
    }
    let list = matching(&st, funder, &parsed, usize::MAX).await;
    let mut out =
        String::from("\u{feff}date (Paris);code;commande;lieu;service;montant_centimes;statut\n");
    for r in &list {
        out.push_str(&format!(
            "{};{};{};{};{};{};{}\n",
            iso(r.redeemed_at),
            r.cheque_code,
            r.order_id,
            r.venue_id,
            r.service_code,
            r.amount_cents,
            status_of(r)
        ));
    }
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"encaissements.csv\""),
    );
    resp
}
