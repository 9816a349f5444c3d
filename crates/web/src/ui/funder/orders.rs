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
