//! `GET /api/v1/figures`: the funnel and the last twelve months for the caller's perimeter —
//! the whole programme for the operator, its orders for a funder, the orders of the funders
//! and territories it is granted for an observer. Counts and amounts only, never a person.

use axum::Json;
use axum::extract::State;
use passnum_store::{Actor, FigureScope};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct FunnelDto {
    pub bought: i64,
    pub allocated: i64,
    pub handed_out: i64,
    pub booked: i64,
    pub first_used: i64,
    pub cheques_used: i64,
    pub used_cents: i64,
    pub cheques_paid: i64,
    pub paid_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MonthDto {
    /// "2026-11" (Paris calendar).
    pub month: String,
    pub handed_out: i64,
    pub cheques_used: i64,
    pub used_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresDto {
    /// The funders whose orders are counted; empty for the whole programme or an observer
    /// granted territories only.
    pub funder_ids: Vec<i64>,
    /// For an observer: every order counted (its funders' and its territories'); empty
    /// otherwise.
    pub order_ids: Vec<i64>,
    pub funnel: FunnelDto,
    /// The last twelve months, oldest first.
    pub months: Vec<MonthDto>,
}

/// The programme's figures for the caller's perimeter (operator, funder, observer).
#[utoipa::path(get, path = "/api/v1/figures", tag = "figures", security(("bearer" = [])),
    responses((status = 200, body = FiguresDto), (status = 403, body = ErrorBody)))]
pub async fn get(State(st): State<AppState>, auth: Auth) -> ApiResult<Json<FiguresDto>> {
    let (scope, funder_ids) = match auth.0 {
        Actor::Operator => (FigureScope::All, vec![]),
        Actor::Funder(f) => (FigureScope::funder(f), vec![f.0]),
        Actor::Observer(o) => {
            let (observer, scope) = st.store.observer_scope(o).await?;
            (scope, observer.funders.iter().map(|(f, _)| f.0).collect())
        }
        Actor::Venue(_) | Actor::Distributor(_) | Actor::Referent(_) => {
            return Err(ApiError::forbidden());
        }
    };
    let f = st.store.funnel(&scope).await?;
    let months = crate::ui::figures::last_months(st.clock.now());
    let spans: Vec<_> = months.iter().map(|(_, s)| *s).collect();
    let per = st.store.monthly_figures(&scope, &spans).await?;
    Ok(Json(FiguresDto {
        order_ids: match &scope {
            FigureScope::Orders(list) => list.iter().map(|o| o.0).collect(),
            FigureScope::All | FigureScope::Funders(_) => vec![],
        },
        funder_ids,
        funnel: FunnelDto {
            bought: f.bought,
            allocated: f.allocated,
            handed_out: f.handed_out,
            booked: f.booked,
            first_used: f.first_used,
            cheques_used: f.cheques_used,
            used_cents: f.used_cents,
            cheques_paid: f.cheques_paid,
            paid_cents: f.paid_cents,
        },
        months: months
            .iter()
            .zip(per)
            .map(|((m, _), p)| MonthDto {
                month: m.slug(),
                handed_out: p.handed_out,
                cheques_used: p.cheques_used,
                used_cents: p.used_cents,
            })
            .collect(),
    }))
}
