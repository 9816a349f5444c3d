//! Distributors and the sharing of an order's booklets among them.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_core::allocation::{AllocationKey, Criterion, StructureShare};
use passnum_core::{InseeCode, OrderId};
use passnum_store::{Distributor, DistributorId, DistributorStock};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::Page;
use crate::AppState;
use crate::auth::{Auth, OperatorAuth, OrderingAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDistributor {
    #[schema(example = "CCAS de Villeurbanne")]
    pub name: String,
    /// ccas, mairie, mediatheque, france_services, services_sociaux, association, autre.
    #[schema(example = "ccas")]
    pub kind: String,
    #[schema(example = "69266")]
    pub commune_insee: String,
}

#[derive(Serialize, ToSchema)]
pub struct DistributorDto {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub commune_insee: String,
}

impl From<Distributor> for DistributorDto {
    fn from(d: Distributor) -> Self {
        Self {
            id: d.id.0,
            name: d.name,
            kind: d.kind,
            commune_insee: d.commune_insee,
        }
    }
}

/// Register a distributing structure (operator).
#[utoipa::path(post, path = "/api/v1/distributors", tag = "distribution", request_body = CreateDistributor,
    security(("bearer" = [])), responses((status = 201, body = DistributorDto), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiJson(body): ApiJson<CreateDistributor>,
) -> ApiResult<(StatusCode, Json<DistributorDto>)> {
    let commune = InseeCode::parse_known(&body.commune_insee)
        .map_err(|e| ApiError::invalid("invalid_place", e.to_string()))?;
    let d = st
        .store
        .create_distributor(&body.name, &body.kind, &commune, st.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// The distributing structures (operator and funders).
#[utoipa::path(get, path = "/api/v1/distributors", tag = "distribution", params(Page),
    security(("bearer" = [])), responses((status = 200, body = Vec<DistributorDto>)))]
pub async fn list(
    State(st): State<AppState>,
    _who: OrderingAuth,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Vec<DistributorDto>>> {
    let list = st
        .store
        .list_distributors(page.limit(), page.offset())
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// The order, if the caller may share its booklets (operator, or its funder).
async fn own_order(st: &AppState, auth: &Auth, id: i64) -> ApiResult<OrderId> {
    Ok(super::orders::visible_order(st, auth, id).await?.id)
}

#[derive(Serialize, ToSchema)]
pub struct StockDto {
    pub distributor_id: i64,
    pub name: String,
    pub allocated: i64,
    pub handed_out: i64,
    /// Handed out and with at least one cheque used.
    pub started: i64,
    pub in_stock: i64,
}

impl From<DistributorStock> for StockDto {
    fn from(s: DistributorStock) -> Self {
        Self {
            distributor_id: s.distributor_id.0,
            name: s.name,
            allocated: s.allocated,
            handed_out: s.handed_out,
            started: s.started,
            in_stock: s.in_stock,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DistributionDto {
    /// Booklets still in the funder's stock.
    pub unallocated: i64,
    pub distributors: Vec<StockDto>,
}

/// Where an order's booklets are: the funder's stock and each distributor's.
#[utoipa::path(get, path = "/api/v1/orders/{id}/distribution", tag = "distribution", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = DistributionDto), (status = 404, body = ErrorBody)))]
pub async fn distribution(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DistributionDto>> {
    let order = own_order(&st, &auth, id).await?;
    Ok(Json(DistributionDto {
        unallocated: st.store.unallocated_booklets(order).await?,
        distributors: st
            .store
            .distribution_of(order)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Share {
    pub distributor_id: i64,
    pub booklets: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    pub allocations: Vec<Share>,
}

/// Give booklets from the funder's stock to distributors, all or nothing (by hand, or the
/// result of a preview).
#[utoipa::path(post, path = "/api/v1/orders/{id}/allocations", tag = "distribution", params(("id" = i64, Path)),
    request_body = AllocationRequest, security(("bearer" = [])),
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn allocate(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AllocationRequest>,
) -> ApiResult<StatusCode> {
    let order = own_order(&st, &auth, id).await?;
    let shares: Vec<(DistributorId, i64)> = body
        .allocations
        .iter()
        .map(|s| (DistributorId(s.distributor_id), s.booklets))
        .collect();
    st.store
        .allocate_booklets(order, &shares, &api_signature(&auth), st.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub from_distributor_id: i64,
    pub to_distributor_id: i64,
    pub booklets: i64,
}

/// Move booklets not yet handed out from one distributor to another.
#[utoipa::path(post, path = "/api/v1/orders/{id}/transfers", tag = "distribution", params(("id" = i64, Path)),
    request_body = TransferRequest, security(("bearer" = [])),
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transfer(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TransferRequest>,
) -> ApiResult<StatusCode> {
    let order = own_order(&st, &auth, id).await?;
    st.store
        .transfer_booklets(
            order,
            DistributorId(body.from_distributor_id),
            DistributorId(body.to_distributor_id),
            body.booklets,
            &api_signature(&auth),
            st.clock.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionDto {
    #[schema(example = "population")]
    pub name: String,
    #[schema(example = 70)]
    pub weight: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StructureDto {
    pub distributor_id: i64,
    /// Booklets given whatever the criteria.
    #[serde(default)]
    pub fixed: i64,
    /// One value per criterion, in the criteria's order.
    #[serde(default)]
    pub values: Vec<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    pub criteria: Vec<CriterionDto>,
    pub structures: Vec<StructureDto>,
    /// Adds a criterion "population" filled from the embedded commune list (the population
    /// of each distributor's commune), with this weight.
    #[serde(default)]
    pub commune_population_weight: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewAllocation {
    /// The funder's stock shared by the key.
    pub stock: i64,
    /// What `POST /allocations` would give each distributor: send it back to commit.
    pub allocations: Vec<Share>,
}

/// Preview an allocation key on the funder's current stock: nothing is written.
#[utoipa::path(post, path = "/api/v1/orders/{id}/allocation-preview", tag = "distribution", params(("id" = i64, Path)),
    request_body = KeyRequest, security(("bearer" = [])),
    responses((status = 200, body = PreviewAllocation), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<KeyRequest>,
) -> ApiResult<Json<PreviewAllocation>> {
    let order = own_order(&st, &auth, id).await?;
    let stock = st.store.unallocated_booklets(order).await?;
    let known: HashSet<i64> = st
        .store
        .distributor_ids()
        .await?
        .into_iter()
        .map(|d| d.0)
        .collect();
    if let Some(s) = body
        .structures
        .iter()
        .find(|s| !known.contains(&s.distributor_id))
    {
        return Err(ApiError::invalid(
            "distributor_unknown",
            format!(
                "La structure n° {} n'existe pas : vérifiez son numéro.",
                s.distributor_id
            ),
        ));
    }
    let key = build_key(&st, body).await?;
    let allocations = key
        .allocate(stock)
        .map_err(|e| ApiError::invalid("invalid_key", e.to_string()))?;
    Ok(Json(PreviewAllocation {
        stock,
        allocations: allocations
            .into_iter()
            .map(|(d, n)| Share {
                distributor_id: d,
                booklets: n,
            })
            .collect(),
    }))
}

async fn build_key(st: &AppState, body: KeyRequest) -> ApiResult<AllocationKey> {
    let mut criteria: Vec<Criterion> = body
        .criteria
        .into_iter()
        .map(|c| Criterion {
            name: c.name,
            weight: c.weight,
        })
        .collect();
    let populations = match body.commune_population_weight {
        Some(w) => {
            criteria.push(Criterion {
                name: "population".into(),
                weight: w,
            });
            Some(crate::allocation::populations(
                &st.store.distributor_communes().await?,
            ))
        }
        None => None,
    };
    Ok(AllocationKey {
        criteria,
        structures: body
            .structures
            .into_iter()
            .map(|s| {
                let mut values = s.values;
                if let Some(p) = &populations {
                    values.push(p.get(&s.distributor_id).copied().unwrap_or(0));
                }
                StructureShare {
                    id: s.distributor_id,
                    fixed: s.fixed,
                    values,
                }
            })
            .collect(),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// lost or stolen.
    #[schema(example = "lost")]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct BlockedDto {
    /// Cheques of the booklet blocked now (those already used stay as they are).
    pub blocked_cheques: i64,
}

/// Declare a booklet lost or stolen: its unused cheques are refused from now on, and their
/// value returns to the funder with the end-of-validity credit note.
#[utoipa::path(post, path = "/api/v1/orders/{id}/booklets/{number}/block", tag = "distribution",
    params(("id" = i64, Path), ("number" = i64, Path)), request_body = BlockRequest, security(("bearer" = [])),
    responses((status = 200, body = BlockedDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn block(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<BlockRequest>,
) -> ApiResult<Json<BlockedDto>> {
    let order = own_order(&st, &auth, id).await?;
    let stolen = match body.reason.as_str() {
        "lost" => false,
        "stolen" => true,
        _ => {
            return Err(ApiError::invalid(
                "invalid_reason",
                "Indiquez « lost » (perdu) ou « stolen » (volé).",
            ));
        }
    };
    let blocked = st
        .store
        .block_booklet(order, number, stolen, st.clock.now())
        .await?;
    Ok(Json(BlockedDto {
        blocked_cheques: blocked,
    }))
}

/// Who decided a move made through the API: the key's holder, as far as the request says.
pub(super) fn api_signature(auth: &Auth) -> String {
    format!(
        "API, clé de {} n° {}",
        auth.0.role().as_str(),
        auth.0.actor_id()
    )
}
