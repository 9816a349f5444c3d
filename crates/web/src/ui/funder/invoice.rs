//! The funder's invoice of an order and its monthly statement of use.

use super::*;

#[derive(Template)]
#[template(path = "facture.html")]
pub(super) struct InvoicePage {
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
        return crate::ui::message(
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
    pub venue: String,
    pub commune: String,
    pub cheques: i64,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "releve_mensuel.html")]
pub(super) struct MonthPage {
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
    // The months' rollup, kept in the redemptions' own transactions: a few rows per venue,
    // whatever the number of cheques.
    let per_venue = match first {
        Some(first) => {
            let key = i64::from(first.year()) * 100 + i64::from(u8::from(first.month()));
            match st
                .store
                .usage_by_venue_in_month(&passnum_store::FigureScope::funder(funder), key)
                .await
            {
                Ok(lines) => lines,
                Err(e) => {
                    return crate::ui::PageError::unavailable(e, "relevé mensuel").into_response();
                }
            }
        }
        None => vec![],
    };
    let (cheques, total) = per_venue
        .iter()
        .fold((0, 0), |(n, t), l| (n + l.cheques_used, t + l.used_cents));
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
            .map(|l| UsageRow {
                commune: passnum_core::commune::communes()
                    .name_of(&l.commune_insee)
                    .unwrap_or(&l.commune_insee)
                    .to_string(),
                venue: l.name,
                cheques: l.cheques_used,
                amount: euros(l.used_cents),
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
