//! The funder's list of its orders.

use super::*;

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
pub(super) struct OrdersPage {
    layout: Layout,
    funder_name: String,
    held: String,
    orders: Vec<OrderRow>,
    /// Page of the list, and whether older orders follow.
    page: i64,
    more: bool,
}

/// Each order line reads its counts: a page stays a few dozen reads.
const ORDERS_PER_PAGE: i64 = 20;

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    page: Option<i64>,
}

pub async fn orders(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(q): Query<OrdersQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let mut orders = st
        .store
        .list_orders(
            Some(funder),
            ORDERS_PER_PAGE + 1,
            (page - 1) * ORDERS_PER_PAGE,
        )
        .await
        .unwrap_or_default();
    let more = orders.len() as i64 > ORDERS_PER_PAGE;
    orders.truncate(ORDERS_PER_PAGE as usize);
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
    for o in orders {
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
        page,
        more,
    };
    render(StatusCode::OK, &page, &csrf)
}
