//! A funder's pages: its orders with their counts and its ring-fenced balance, and the list
//! of redemptions of its cheques with filters and a CSV export.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passnum_core::{FunderId, OrderId, Timestamp, paris};
use passnum_store::{LedgerScope, Redemption, RedemptionScope};
use serde::Deserialize;
use time::Date;

use super::session::{Csrf, FunderOrder, FunderStaff};
use super::{FieldErrors, Layout, euros, render};
use crate::AppState;
use crate::api::dto::date_out;

pub struct OrderRow {
    pub id: i64,
    pub status: &'static str,
    pub booklets: i64,
    pub validity: String,
    pub total: String,
    pub issued: i64,
    pub redeemed: i64,
    pub paid: i64,
    pub expired: i64,
    pub remaining: String,
}

#[derive(Template)]
#[template(path = "commanditaire.html")]
struct OrdersPage {
    layout: Layout,
    funder_name: String,
    held: String,
    orders: Vec<OrderRow>,
}

pub async fn orders(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let funder_name = st
        .store
        .get_funder(funder)
        .await
        .map(|f| f.name)
        .unwrap_or_default();
    let held = st
        .store
        .balances(LedgerScope::Funder(funder))
        .await
        .unwrap_or_default();
    let mut rows = vec![];
    for o in st
        .store
        .list_orders(Some(funder), 100, 0)
        .await
        .unwrap_or_default()
    {
        let c = st.store.order_counts(o.id).await.unwrap_or_default();
        rows.push(OrderRow {
            id: o.id.0,
            status: o.status.label(),
            booklets: o.booklet_count,
            validity: format!(
                "du {} au {}",
                paris::format_date(o.valid_from),
                paris::format_date(o.valid_until)
            ),
            total: euros(o.total_cents),
            issued: c.issued,
            redeemed: c.redeemed,
            paid: c.paid,
            expired: c.expired,
            remaining: euros(c.remaining_value_cents),
        });
    }
    let page = OrdersPage {
        layout: Layout::new("Mes commandes", Some(&staff), &csrf, "/commanditaire"),
        funder_name,
        held: euros(held.first().map_or(0, |b| b.balance_cents)),
        orders: rows,
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    commande: String,
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
}

struct Parsed {
    order: Option<OrderId>,
    from: Option<Date>,
    to: Option<Date>,
}

fn parse(f: &Filters, errors: &mut FieldErrors) -> Parsed {
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

fn keep(r: &Redemption, p: &Parsed) -> bool {
    let day = paris::local_date(r.redeemed_at);
    p.order.is_none_or(|o| o == r.order_id)
        && p.from.is_none_or(|d| day >= d)
        && p.to.is_none_or(|d| day <= d)
}

/// Every redemption of the funder's cheques matching the filters, newest first.
async fn matching(st: &AppState, funder: FunderId, p: &Parsed, max: usize) -> Vec<Redemption> {
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
    pub venue: i64,
    pub service: String,
    pub amount: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "encaissements.html")]
struct RedemptionsPage {
    layout: Layout,
    commande: String,
    du: String,
    au: String,
    errors: FieldErrors,
    rows: Vec<RedemptionRow>,
    total: String,
    csv_query: String,
}

fn status_of(r: &Redemption) -> &'static str {
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
    let page = RedemptionsPage {
        layout: Layout::new(
            "Encaissements",
            Some(&staff),
            &csrf,
            "/commanditaire/encaissements",
        ),
        csv_query: format!(
            "commande={}&du={}&au={}",
            super::session::urlencode(f.commande.trim()),
            super::session::urlencode(f.du.trim()),
            super::session::urlencode(f.au.trim())
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
                venue: r.venue_id.0,
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

fn iso(t: Timestamp) -> String {
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

#[derive(Template)]
#[template(path = "commande.html")]
struct OrderPage {
    layout: Layout,
    id: i64,
    status: &'static str,
    status_label: &'static str,
    status_help: &'static str,
    quantities: String,
    publics: String,
    funding: String,
    cover_text: String,
    has_logo: bool,
    invoice: bool,
    printable: bool,
    /// Booklets still in the funder's stock, and each distributor's.
    unallocated: i64,
    distribution: Vec<passnum_store::DistributorStock>,
    /// (public, handouts), then handouts with no priority public.
    per_public: Vec<(String, i64)>,
    /// (commune name, handouts), the 10 communes with most handouts.
    per_commune: Vec<(String, i64)>,
    handed_out: i64,
    /// "42 %" of handed-out booklets started within 30 days, when any was handed out.
    started_30: Option<String>,
    target_only: bool,
    one_per_household: bool,
    has_targets: bool,
    /// (number, name) of every distributing structure, for the move form.
    structures: Vec<(i64, String)>,
    validity: String,
    perimeter: String,
    booklets: Vec<passnum_store::BookletSummary>,
    after: i64,
    next_after: Option<i64>,
    /// (date, what happened) of the end-of-validity steps done so far.
    steps: Vec<(String, String)>,
    credit_note: Option<String>,
}

#[derive(Deserialize)]
pub struct BookletPage {
    #[serde(default)]
    apres: Option<i64>,
}

const BOOKLETS_PER_PAGE: i64 = 100;

/// One order of the funder with its booklets, a hundred at a time.
pub async fn order(
    State(st): State<AppState>,
    headers: HeaderMap,
    // Another funder's order looks exactly like one that does not exist.
    FunderOrder(staff, o): FunderOrder,
    Query(q): Query<BookletPage>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = o.id.0;
    let after = q.apres.unwrap_or(0).max(0);
    let booklets = st
        .store
        .booklet_summaries(o.id, after, BOOKLETS_PER_PAGE)
        .await
        .unwrap_or_default();
    let next_after = (booklets.len() as i64 == BOOKLETS_PER_PAGE)
        .then(|| booklets.last().map(|b| b.number))
        .flatten();
    let stats = st.store.distribution_stats(o.id).await.unwrap_or_default();
    let rules = st.store.order_rules(o.id).await.unwrap_or_default();
    let page = OrderPage {
        layout: Layout::new(format!("Commande n° {id}"), Some(&staff), &csrf, ""),
        id,
        status: o.status.as_str(),
        status_label: o.status.label(),
        status_help: super::ordering::status_help(o.status),
        quantities: format!(
            "{} carnets de {} chèques de {}, soit {}",
            o.booklet_count,
            o.cheques_per_booklet,
            euros(o.face_value_cents),
            euros(o.total_cents)
        ),
        publics: o
            .target_publics
            .iter()
            .map(|p| p.label())
            .collect::<Vec<_>>()
            .join(", "),
        funding: o
            .funding
            .iter()
            .map(|l| {
                format!(
                    "{} {} %",
                    l.source,
                    passnum_core::order_options::percent_text(l.basis_points)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        cover_text: o.cover_text.clone(),
        has_logo: o.has_logo,
        invoice: !matches!(
            o.status,
            passnum_core::OrderStatus::Draft | passnum_core::OrderStatus::Cancelled
        ),
        printable: matches!(
            o.status,
            passnum_core::OrderStatus::Issued | passnum_core::OrderStatus::Closed
        ),
        unallocated: st.store.unallocated_booklets(o.id).await.unwrap_or(0),
        distribution: stats.distributors.clone(),
        per_public: passnum_core::order_options::Public::ALL
            .iter()
            .map(|p| {
                (
                    p.label().to_string(),
                    stats.per_public.get(p.as_str()).copied().unwrap_or(0),
                )
            })
            .chain(std::iter::once((
                "Aucun public prioritaire".to_string(),
                stats.without_public,
            )))
            .collect(),
        per_commune: stats
            .per_commune
            .iter()
            .take(10)
            .map(|(c, n)| {
                let name = passnum_core::commune::communes().name_of(c);
                (name.map_or_else(|| c.clone(), str::to_string), *n)
            })
            .collect(),
        handed_out: stats.handed_out,
        started_30: stats
            .started_within_30_days_permille()
            .map(|pm| format!("{} %", passnum_core::order_options::percent_text(pm * 10))),
        target_only: rules.target_only,
        one_per_household: rules.one_per_household,
        has_targets: !rules.target_publics.is_empty(),
        structures: st
            .store
            .list_distributors(1000, 0)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d.id.0, d.name))
            .collect(),
        validity: format!(
            "du {} au {}, plus {} jours de tolérance",
            paris::format_date(o.valid_from),
            paris::format_date(o.valid_until),
            o.tolerance_days
        ),
        perimeter: crate::booklets::perimeter_words(&o),
        booklets,
        after,
        next_after,
        steps: st
            .store
            .closing_steps(o.id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|d| (paris::format_date(paris::local_date(d.done_at)), d.summary))
            .collect(),
        credit_note: st.store.credit_note(o.id).await.ok().flatten().map(|n| {
            format!(
                "Avoir du {} : {} pour {} chèques non utilisés.",
                paris::format_date(paris::local_date(n.issued_at)),
                euros(n.amount_cents),
                n.expired_cheques
            )
        }),
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Template)]
#[template(path = "facture.html")]
struct InvoicePage {
    layout: Layout,
    number: String,
    date: String,
    funder: String,
    booklets: i64,
    cheques_per_booklet: i64,
    face_value: String,
    cheques: i64,
    total: String,
    /// (rate in %, amount) of the operator's fee charged to the funder, if any.
    fee: Option<(String, String)>,
    grand_total: String,
    validity: String,
    paid: bool,
}

#[derive(Deserialize)]
pub struct RulesForm {
    #[serde(default)]
    publics_cibles: Option<String>,
    #[serde(default)]
    un_par_foyer: Option<String>,
}

/// The funder's handout rules for one of its orders.
pub async fn set_rules(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, o): FunderOrder,
    super::PageForm(f): super::PageForm<RulesForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    match st
        .store
        .set_order_rules(o.id, f.publics_cibles.is_some(), f.un_par_foyer.is_some())
        .await
    {
        Ok(_) => axum::response::Redirect::to(&format!("/commanditaire/commandes/{}", o.id.0))
            .into_response(),
        Err(passnum_store::StoreError::Invalid { message, .. }) => super::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&staff),
            &csrf,
            "Règles non enregistrées",
            &format!("{}.", crate::api::capitalize(&message)),
        ),
        Err(e) => super::unavailable(e, "règles de remise", Some(&staff), &csrf),
    }
}

/// The prepayment invoice of an order: the whole face value, payable before the cheques
/// circulate. Printable (the print stylesheet hides the navigation).
pub async fn invoice(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, o): FunderOrder,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = o.id.0;
    let funder_name = st
        .store
        .get_funder(o.funder_id)
        .await
        .map(|f| f.name)
        .unwrap_or_default();
    // The prepayment invoice exists from the confirmation of the order, dated that day.
    let Some(confirmed_at) = o
        .confirmed_at
        .filter(|_| o.status != passnum_core::OrderStatus::Cancelled)
    else {
        return super::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Pas encore de facture",
            "La facture de prépaiement est émise quand vous confirmez la commande.",
        );
    };
    let created = paris::local_date(confirmed_at);
    let page = InvoicePage {
        layout: Layout::new(
            format!("Facture de prépaiement, commande n° {id}"),
            Some(&staff),
            &csrf,
            "",
        ),
        number: format!("PN-{}-{:06}", created.year(), id),
        date: paris::format_date(created),
        funder: funder_name,
        booklets: o.booklet_count,
        cheques_per_booklet: o.cheques_per_booklet,
        face_value: euros(o.face_value_cents),
        cheques: o.booklet_count * o.cheques_per_booklet,
        total: euros(o.total_cents),
        fee: (o.funder_fee_cents > 0).then(|| {
            (
                passnum_core::order_options::percent_text(o.funder_fee_bp),
                euros(o.funder_fee_cents),
            )
        }),
        grand_total: euros(o.total_cents + o.funder_fee_cents),
        validity: format!(
            "du {} au {}",
            paris::format_date(o.valid_from),
            paris::format_date(o.valid_until)
        ),
        paid: o.paid_at.is_some(),
    };
    render(StatusCode::OK, &page, &csrf)
}

pub struct UsageRow {
    pub venue: i64,
    pub cheques: i64,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "releve_mensuel.html")]
struct MonthPage {
    layout: Layout,
    month: String,
    month_label: String,
    rows: Vec<UsageRow>,
    cheques: i64,
    total: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct MonthQuery {
    #[serde(default)]
    mois: String,
}

/// The monthly usage statement: cheques redeemed (not cancelled) in a month (Paris), per venue.
pub async fn monthly(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(q): Query<MonthQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let today = paris::local_date(st.clock.now());
    let mut errors = FieldErrors::default();
    let month = if q.mois.trim().is_empty() {
        format!("{:04}-{:02}", today.year(), u8::from(today.month()))
    } else {
        q.mois.trim().chars().take(7).collect()
    };
    let first = crate::api::dto::date_in("mois", &format!("{month}-01")).ok();
    if first.is_none() {
        errors.add(
            "mois",
            "Indiquez un mois au format AAAA-MM, par exemple 2026-06.",
        );
    }
    let mut per_venue: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    if let Some(first) = first {
        let parsed = Parsed {
            order: None,
            from: Some(first),
            to: first
                .replace_day(time::util::days_in_month(first.month(), first.year()))
                .ok(),
        };
        for r in matching(&st, funder, &parsed, usize::MAX)
            .await
            .into_iter()
            .filter(|r| r.rolled_back_at.is_none())
        {
            let e = per_venue.entry(r.venue_id.0).or_default();
            e.0 += 1;
            e.1 += r.amount_cents;
        }
    }
    let (cheques, total) = per_venue
        .values()
        .fold((0, 0), |(n, t), (a, b)| (n + a, t + b));
    let page = MonthPage {
        layout: Layout::new(
            "Relevé mensuel d'utilisation",
            Some(&staff),
            &csrf,
            "/commanditaire/releve",
        ),
        month_label: first
            .map(|d| format!("{:02}/{}", u8::from(d.month()), d.year()))
            .unwrap_or_default(),
        month,
        rows: per_venue
            .into_iter()
            .map(|(venue, (n, c))| UsageRow {
                venue,
                cheques: n,
                amount: euros(c),
            })
            .collect(),
        cheques,
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
