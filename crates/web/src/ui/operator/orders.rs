//! The operator's list of every order, paged.

use super::*;

pub struct OperatorOrderRow {
    pub id: i64,
    pub status: &'static str,
    pub status_label: &'static str,
    pub funder: String,
    pub booklets: i64,
    pub validity: String,
    pub total: String,
    pub issued: i64,
    pub redeemed: i64,
    pub remaining: String,
}

#[derive(Template)]
#[template(path = "operateur_commandes.html")]
pub(super) struct OrdersPage {
    layout: Layout,
    orders: Vec<OperatorOrderRow>,
    page: i64,
    has_next: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<i64>,
}

pub(super) const ORDERS_PER_PAGE: i64 = 50;

pub async fn orders(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let list = match st
        .store
        .list_orders(None, ORDERS_PER_PAGE + 1, (page - 1) * ORDERS_PER_PAGE)
        .await
    {
        Ok(l) => l,
        Err(e) => return crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    };
    let has_next = list.len() as i64 > ORDERS_PER_PAGE;
    let mut rows = vec![];
    for o in list.into_iter().take(ORDERS_PER_PAGE as usize) {
        let c = st.store.order_counts(o.id).await.unwrap_or_default();
        let funder = st
            .store
            .get_funder(o.funder_id)
            .await
            .map(|f| f.name)
            .unwrap_or_default();
        rows.push(OperatorOrderRow {
            id: o.id.0,
            status: o.status.as_str(),
            status_label: o.status.label(),
            funder,
            booklets: o.booklet_count,
            validity: format!(
                "du {} au {}",
                paris::format_date(o.valid_from),
                paris::format_date(o.valid_until)
            ),
            total: euros(o.total_cents),
            issued: c.issued,
            redeemed: c.redeemed,
            remaining: euros(c.remaining_value_cents),
        });
    }
    let view = OrdersPage {
        layout: Layout::new("Commandes", Some(&staff), &csrf, "/operateur/commandes"),
        orders: rows,
        page,
        has_next,
    };
    render(StatusCode::OK, &view, &csrf)
}
