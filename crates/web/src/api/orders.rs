use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_core::order::OrderRequest;
use passnum_core::order_options::OrderOptionsRequest;
use passnum_core::{FunderId, NewOrder, OrderId};
use passnum_store::{Actor, Order};

use super::dto::{
    ChequeItemDto, ChequePage, ChequePageQuery, CreateOrder, OrderDto, Page, date_in,
};
use crate::AppState;
use crate::auth::{Auth, OrderingAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// Record a draft order (operator, or a funder for itself). Nothing is committed and no code
/// exists until it is confirmed, paid and issued.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = CreateOrder, security(("bearer" = [])),
    responses((status = 201, body = OrderDto), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    OrderingAuth(actor): OrderingAuth,
    ApiJson(body): ApiJson<CreateOrder>,
) -> ApiResult<(StatusCode, Json<OrderDto>)> {
    let funder = match (actor, body.funder_id) {
        (Actor::Operator, Some(f)) => FunderId(f),
        (Actor::Operator, None) => {
            return Err(ApiError::invalid(
                "funder_required",
                "Indiquez « funder_id » : le commanditaire de la commande.",
            ));
        }
        (Actor::Funder(f), None) => f,
        (Actor::Funder(f), Some(id)) if f.0 == id => f,
        (Actor::Funder(_), Some(_)) => return Err(ApiError::forbidden()),
        (Actor::Venue(_) | Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_), _) => {
            return Err(ApiError::forbidden());
        }
    };
    let order = NewOrder::parse(&OrderRequest {
        booklet_count: body.booklet_count,
        cheques_per_booklet: body.cheques_per_booklet,
        face_value_cents: body.face_value_cents,
        valid_from: date_in("valid_from", &body.valid_from)?,
        valid_until: date_in("valid_until", &body.valid_until)?,
        tolerance_days: body.tolerance_days,
        perimeter_communes: body.perimeter.communes,
        perimeter_departements: body.perimeter.departements,
        perimeter_epcis: body.perimeter.epcis,
        perimeter_regions: body.perimeter.regions,
    })
    .map_err(|e| ApiError::invalid("invalid_order", e.to_string()))?
    .with_options(&OrderOptionsRequest {
        target_publics: body.target_publics,
        cover_text: body.cover_text,
        funding: body
            .funding
            .into_iter()
            .map(|l| (l.source, l.basis_points))
            .collect(),
    })
    .map_err(|e| ApiError::invalid("invalid_order", e.to_string()))?;
    let created = st
        .store
        .create_draft_order(funder, &order, st.clock.now())
        .await
        .map_err(|e| match e {
            passnum_store::StoreError::NotFound => ApiError::invalid(
                "funder_unknown",
                "Ce commanditaire n'existe pas : vérifiez « funder_id ».",
            ),
            other => other.into(),
        })?;
    let mut dto = OrderDto::from(created);
    dto.counts = Some(st.store.order_counts(OrderId(dto.id)).await?.into());
    Ok((StatusCode::CREATED, Json(dto)))
}

/// Orders, newest first: all for the operator, its own for a funder.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(Page), security(("bearer" = [])),
    responses((status = 200, body = Vec<OrderDto>)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Vec<OrderDto>>> {
    let scope = match auth.0 {
        Actor::Operator => None,
        Actor::Funder(f) => Some(f),
        Actor::Venue(_) | Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => {
            return Err(ApiError::forbidden());
        }
    };
    let orders = st
        .store
        .list_orders(scope, page.limit(), page.offset())
        .await?;
    Ok(Json(orders.into_iter().map(Into::into).collect()))
}

/// An order the caller may see; another funder's order is reported as not found.
pub(crate) async fn visible_order(st: &AppState, auth: &Auth, id: i64) -> ApiResult<Order> {
    let order = st.store.get_order(OrderId(id)).await?;
    passnum_app::scopes::order(auth.0, &order)?;
    Ok(order)
}

/// One order with its counts.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderDto>> {
    let order = visible_order(&st, &auth, id).await?;
    let mut dto = OrderDto::from(order);
    dto.counts = Some(st.store.order_counts(OrderId(id)).await?.into());
    Ok(Json(dto))
}

/// The cheques of an order with their codes, in booklet order, page by page.
#[utoipa::path(get, path = "/api/v1/orders/{id}/cheques", tag = "orders", params(("id" = i64, Path), ChequePageQuery),
    security(("bearer" = [])), responses((status = 200, body = ChequePage), (status = 404, body = ErrorBody)))]
pub async fn cheques(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ChequePageQuery>,
) -> ApiResult<Json<ChequePage>> {
    visible_order(&st, &auth, id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let items = st
        .store
        .list_cheques(OrderId(id), q.after.unwrap_or(0), limit)
        .await?;
    let next_after = if items.len() as i64 == limit {
        items.last().map(|c| c.id)
    } else {
        None
    };
    Ok(Json(ChequePage {
        items: items
            .into_iter()
            .map(|c| ChequeItemDto {
                booklet_number: c.booklet_number,
                number: c.number,
                code: c.code,
                state: c.state.as_str().into(),
            })
            .collect(),
        next_after,
    }))
}

/// Which step of the workflow a request asks for.
#[derive(Clone, Copy)]
enum Step {
    Confirm,
    Pay,
    Issue,
    Cancel,
}

async fn step(st: &AppState, auth: &Auth, id: i64, step: Step) -> ApiResult<Json<OrderDto>> {
    let order = visible_order(st, auth, id).await?;
    // The funder confirms or cancels its own order; recording a payment and issuing the
    // codes are the operator's (it sees the money arrive and runs the printing).
    let operator_only = matches!(step, Step::Pay | Step::Issue);
    if operator_only && auth.0 != Actor::Operator {
        return Err(ApiError::forbidden());
    }
    let now = st.clock.now();
    let id = order.id;
    let done = match step {
        Step::Confirm => st.store.confirm_order(id, now).await?,
        Step::Pay => st.store.record_order_payment(id, now).await?,
        Step::Issue => st.store.issue_order(id, now).await?,
        Step::Cancel => st.store.cancel_order(id, now).await?,
    };
    let mut dto = OrderDto::from(done);
    dto.counts = Some(st.store.order_counts(id).await?.into());
    Ok(Json(dto))
}

/// Confirm a draft: the funder commits to it, within its declared budget; the prepayment
/// invoice becomes due.
#[utoipa::path(post, path = "/api/v1/orders/{id}/confirm", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn confirm(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderDto>> {
    step(&st, &auth, id, Step::Confirm).await
}

/// Record the funder's payment (operator): the whole face value is held for the funder.
#[utoipa::path(post, path = "/api/v1/orders/{id}/payment", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pay(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderDto>> {
    step(&st, &auth, id, Step::Pay).await
}

/// Issue a paid order (operator): one code per cheque, ready to print.
#[utoipa::path(post, path = "/api/v1/orders/{id}/issue", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn issue(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderDto>> {
    step(&st, &auth, id, Step::Issue).await
}

/// Cancel a draft or confirmed order (no money has moved yet).
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderDto>> {
    step(&st, &auth, id, Step::Cancel).await
}
