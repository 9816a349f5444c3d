//! The référent territorial's pages (issue 16): their territory's booklets and figures, and
//! the second stage of the allocation — the territory's stock among its own structures. A
//! referent sees only their territory: its number comes from the session, never the URL.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use passnum_core::territory::{Level, label_of};
use passnum_core::{OrderId, TerritoryId};

use super::ordering::{AllocationForm, Scope};
use super::session::{Csrf, ReferentStaff};
use super::{Layout, PageError, Submitted, render};
use crate::AppState;

/// One structure of the territory, with this order's booklets.
pub struct StructureLine {
    pub id: i64,
    pub name: String,
    pub commune: String,
    pub allocated: i64,
    pub handed_out: i64,
    pub started: i64,
    pub in_stock: i64,
}

#[derive(Template)]
#[template(path = "territoire_referent.html")]
struct HomePage {
    layout: Layout,
    territory: passnum_store::Territory,
    funder: String,
    order: i64,
    communes: Vec<String>,
    structures: Vec<StructureLine>,
    /// Totals over its structures: (handed out, started).
    handed_out: i64,
    started: i64,
}

async fn order_of(st: &AppState, t: TerritoryId) -> Result<OrderId, PageError> {
    st.store
        .order_of_territory(t)
        .await
        .map_err(|e| PageError::unavailable(e, "territoire"))
}

/// `/territoire`: the referent's territory, its stock and its structures' figures.
pub async fn home(
    State(st): State<AppState>,
    headers: HeaderMap,
    ReferentStaff(staff, t): ReferentStaff,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let unavailable = |e| PageError::unavailable(e, "territoire");
    let order = order_of(&st, t).await?;
    let territory = st.store.territory(order, t).await.map_err(unavailable)?;
    let o = st.store.get_order(order).await.map_err(unavailable)?;
    let funder = st
        .store
        .get_funder(o.funder_id)
        .await
        .map_err(unavailable)?
        .name;
    let stocks = st.store.distribution_of(order).await.map_err(unavailable)?;
    let structures: Vec<StructureLine> = st
        .store
        .structures_of_territory(order, t)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|d| {
            let s = stocks.iter().find(|s| s.distributor_id == d.id);
            StructureLine {
                id: d.id.0,
                name: d.name,
                commune: label_of(Level::Commune, &d.commune_insee),
                allocated: s.map_or(0, |s| s.allocated),
                handed_out: s.map_or(0, |s| s.handed_out),
                started: s.map_or(0, |s| s.started),
                in_stock: s.map_or(0, |s| s.in_stock),
            }
        })
        .collect();
    let page = HomePage {
        layout: Layout::new(
            format!("Territoire {}", territory.name),
            Some(&staff),
            &csrf,
            "/territoire",
        ),
        funder,
        order: order.0,
        communes: territory
            .communes
            .iter()
            .map(|c| label_of(Level::Commune, c))
            .collect(),
        handed_out: structures.iter().map(|s| s.handed_out).sum(),
        started: structures.iter().map(|s| s.started).sum(),
        structures,
        territory,
    };
    Ok(render(StatusCode::OK, &page, &csrf))
}

/// `/territoire/repartition`: the territory's booklets among its structures, by key.
pub async fn share_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    ReferentStaff(staff, t): ReferentStaff,
) -> Response {
    match order_of(&st, t).await {
        Ok(order) => {
            super::ordering::show(&st, &headers, &staff, order, Scope::OwnTerritory(t)).await
        }
        Err(e) => e.into_response(),
    }
}

pub async fn share_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    ReferentStaff(staff, t): ReferentStaff,
    form: Submitted<AllocationForm>,
) -> Response {
    match order_of(&st, t).await {
        Ok(order) => {
            super::ordering::submit(&st, &headers, &staff, order, Scope::OwnTerritory(t), form)
                .await
        }
        Err(e) => e.into_response(),
    }
}
