//! Handouts by distributor agents, the funder's handout rules and distribution figures.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_core::handout::{HandoutRequest, HouseholdRequest};
use passnum_core::{InseeCode, OrderId, paris};
use passnum_store::{DistributionStats, HandoutRecord, StockBooklet};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::Page;
use crate::AppState;
use crate::auth::{Auth, DistributorAuth, OrderingAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::orientation::SuggestedVenue;

#[derive(Serialize, ToSchema)]
pub struct StockBookletDto {
    pub order_id: i64,
    pub booklet_number: i64,
    pub funder: String,
    pub cheques: i64,
    pub face_value_cents: i64,
    pub valid_until: String,
    pub distribution_stopped: bool,
}

impl From<StockBooklet> for StockBookletDto {
    fn from(b: StockBooklet) -> Self {
        Self {
            order_id: b.order_id.0,
            booklet_number: b.number,
            funder: b.funder_name,
            cheques: b.cheques,
            face_value_cents: b.face_value_cents,
            valid_until: b.valid_until.to_string(),
            distribution_stopped: b.distribution_stopped,
        }
    }
}

/// The booklets of the agent's structure that can be handed out.
#[utoipa::path(get, path = "/api/v1/stock", tag = "handouts", params(Page),
    security(("bearer" = [])), responses((status = 200, body = Vec<StockBookletDto>), (status = 403, body = ErrorBody)))]
pub async fn stock(
    State(st): State<AppState>,
    who: DistributorAuth,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Vec<StockBookletDto>>> {
    let list = st
        .store
        .distributor_stock(who.0, page.limit(), page.offset())
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdDto {
    pub surname: String,
    /// AAAA-MM-JJ or JJ/MM/AAAA.
    pub birth_date: String,
    pub postcode: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHandout {
    pub order_id: i64,
    pub booklet_number: i64,
    /// The person's commune.
    #[schema(example = "69123")]
    pub commune_insee: String,
    /// online_procedures, email, device_basics, job_search, children_screens, safety_online.
    pub needs: Vec<String>,
    /// none, phone_only, computer.
    pub equipment: String,
    /// never, beginner, basics.
    pub level: String,
    #[serde(default)]
    pub language_need: bool,
    #[serde(default)]
    pub disability_need: bool,
    /// senior, isolated, non_french_speaker, young, minimum_income, job_seeker, disability.
    #[serde(default)]
    pub publics: Vec<String>,
    /// The person agreed to the handout being recorded (required).
    pub consent: bool,
    /// Why a person outside the order's target publics gets a booklet.
    pub override_reason: Option<String>,
    /// Required when the order allows one booklet per household; only a keyed hash is kept.
    pub household: Option<HouseholdDto>,
}

#[derive(Serialize, ToSchema)]
pub struct HandoutDto {
    pub id: i64,
    pub order_id: i64,
    pub booklet_number: i64,
    pub commune_insee: String,
    pub publics: Vec<String>,
    pub needs: Vec<String>,
    pub equipment: String,
    pub level: String,
    pub language_need: bool,
    pub disability_need: bool,
    pub handed_out_at: String,
}

impl From<HandoutRecord> for HandoutDto {
    fn from(h: HandoutRecord) -> Self {
        Self {
            id: h.id,
            order_id: h.order_id.0,
            booklet_number: h.booklet_number,
            commune_insee: h.commune_insee,
            publics: h.publics,
            needs: h.needs,
            equipment: h.equipment,
            level: h.level,
            language_need: h.language_need,
            disability_need: h.disability_need,
            handed_out_at: h.handed_out_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionDto {
    pub venue_id: i64,
    pub name: String,
    pub commune: String,
    pub address: String,
    pub opening_hours: String,
    pub accessibility: String,
    /// How to book.
    pub contact: String,
    pub distance_km: f64,
    /// True when a commune's position is the centre of its EPCI or département.
    pub distance_approximate: bool,
    /// Names of the wanted référentiel categories the venue offers.
    pub offers: Vec<String>,
}

impl From<SuggestedVenue> for SuggestionDto {
    fn from(s: SuggestedVenue) -> Self {
        Self {
            venue_id: s.card.id.0,
            name: s.card.name,
            commune: s.commune_name,
            address: s.card.address,
            opening_hours: s.card.opening_hours,
            accessibility: s.card.accessibility,
            contact: s.card.contact,
            distance_km: (s.distance_km * 10.0).round() / 10.0,
            distance_approximate: s.approximate,
            offers: s.offers,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HandoutCreated {
    pub handout: HandoutDto,
    /// The nearest fitting venues, nearest first.
    pub suggestions: Vec<SuggestionDto>,
}

async fn suggestions(st: &AppState, h: &HandoutRecord) -> ApiResult<Vec<SuggestionDto>> {
    let today = paris::local_date(st.clock.now());
    let list = crate::orientation::suggest(&st.store, &st.directory, h, today).await?;
    Ok(list.into_iter().map(Into::into).collect())
}

/// Hand a booklet of the structure's stock to a person, with the needs diagnostic. Answers
/// the venues to suggest.
#[utoipa::path(post, path = "/api/v1/handouts", tag = "handouts", request_body = CreateHandout,
    security(("bearer" = [])), responses((status = 201, body = HandoutCreated), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    who: DistributorAuth,
    ApiJson(body): ApiJson<CreateHandout>,
) -> ApiResult<(StatusCode, Json<HandoutCreated>)> {
    let commune = InseeCode::parse_known(&body.commune_insee)
        .map_err(|e| ApiError::invalid("invalid_place", e.to_string()))?;
    let req = HandoutRequest {
        needs: body.needs,
        equipment: body.equipment,
        level: body.level,
        language_need: body.language_need,
        disability_need: body.disability_need,
        publics: body.publics,
        consent: body.consent,
        override_reason: body.override_reason,
        household: body.household.map(|h| HouseholdRequest {
            surname: h.surname,
            birth_date: h.birth_date,
            postcode: h.postcode,
        }),
    };
    let h = crate::handing::hand_out(
        &st.store,
        &st.household,
        crate::handing::HandoutOf {
            distributor: who.0,
            staff_id: None,
            order: OrderId(body.order_id),
            booklet_number: body.booklet_number,
            commune: &commune,
        },
        &req,
        st.clock.now(),
    )
    .await?;
    let suggestions = suggestions(&st, &h).await?;
    Ok((
        StatusCode::CREATED,
        Json(HandoutCreated {
            handout: h.into(),
            suggestions,
        }),
    ))
}

/// The structure's handouts, newest first.
#[utoipa::path(get, path = "/api/v1/handouts", tag = "handouts", params(Page),
    security(("bearer" = [])), responses((status = 200, body = Vec<HandoutDto>)))]
pub async fn list(
    State(st): State<AppState>,
    who: DistributorAuth,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Vec<HandoutDto>>> {
    let list = st
        .store
        .handouts_of(who.0, page.limit(), page.offset())
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// The venues to suggest for one of the structure's handouts.
#[utoipa::path(get, path = "/api/v1/handouts/{id}/orientation", tag = "handouts", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<SuggestionDto>), (status = 404, body = ErrorBody)))]
pub async fn orientation(
    State(st): State<AppState>,
    who: DistributorAuth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<SuggestionDto>>> {
    let h = st.store.get_handout(who.0, id).await?;
    Ok(Json(suggestions(&st, &h).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockHandout {
    /// True for stolen, false for lost.
    pub stolen: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Blocked {
    /// Unused cheques now refused.
    pub blocked_cheques: i64,
}

/// The person reports a booklet from this structure lost or stolen: its unused cheques are
/// refused at once.
#[utoipa::path(post, path = "/api/v1/handouts/{id}/block", tag = "handouts", params(("id" = i64, Path)),
    request_body = BlockHandout, security(("bearer" = [])),
    responses((status = 200, body = Blocked), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn block(
    State(st): State<AppState>,
    who: DistributorAuth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BlockHandout>,
) -> ApiResult<Json<Blocked>> {
    let n = st
        .store
        .block_handed_out_booklet(who.0, id, body.stolen, st.clock.now())
        .await?;
    Ok(Json(Blocked { blocked_cheques: n }))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoutRulesDto {
    /// Only people of the order's target publics, unless the agent gives a reason.
    pub target_only: bool,
    /// One booklet per household (checked with a keyed hash; no name is stored).
    pub one_per_household: bool,
}

/// Set an order's handout rules (operator, or its funder).
#[utoipa::path(put, path = "/api/v1/orders/{id}/handout-rules", tag = "handouts", params(("id" = i64, Path)),
    request_body = HandoutRulesDto, security(("bearer" = [])),
    responses((status = 200, body = HandoutRulesDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_rules(
    State(st): State<AppState>,
    who: OrderingAuth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<HandoutRulesDto>,
) -> ApiResult<Json<HandoutRulesDto>> {
    let order = super::orders::visible_order(&st, &Auth(who.0), id).await?;
    let rules = st
        .store
        .set_order_rules(order.id, body.target_only, body.one_per_household)
        .await?;
    Ok(Json(HandoutRulesDto {
        target_only: rules.target_only,
        one_per_household: rules.one_per_household,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DistributionStatsDto {
    pub distributors: Vec<super::distribution::StockDto>,
    pub per_public: std::collections::BTreeMap<String, i64>,
    pub without_public: i64,
    /// [INSEE code, handouts], most first.
    pub per_commune: Vec<(String, i64)>,
    pub handed_out: i64,
    pub started_within_30_days: i64,
    /// Handed-out booklets with a place booked in a workshop.
    pub with_booking: i64,
    /// Handed-out booklets with a cheque used in a workshop.
    pub attended_workshop: i64,
    /// Median whole days from handout to the first workshop; null before any.
    pub median_days_to_first_workshop: Option<i64>,
}

impl From<DistributionStats> for DistributionStatsDto {
    fn from(s: DistributionStats) -> Self {
        Self {
            distributors: s.distributors.into_iter().map(Into::into).collect(),
            per_public: s.per_public,
            without_public: s.without_public,
            per_commune: s.per_commune,
            handed_out: s.handed_out,
            started_within_30_days: s.started_within_30_days,
            with_booking: s.with_booking,
            attended_workshop: s.attended_workshop,
            median_days_to_first_workshop: s.median_days_to_first_workshop,
        }
    }
}

/// How an order's booklets reach people: per structure, public and commune.
#[utoipa::path(get, path = "/api/v1/orders/{id}/distribution-stats", tag = "handouts", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = DistributionStatsDto), (status = 404, body = ErrorBody)))]
pub async fn stats(
    State(st): State<AppState>,
    who: OrderingAuth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DistributionStatsDto>> {
    let order = super::orders::visible_order(&st, &Auth(who.0), id).await?;
    Ok(Json(st.store.distribution_stats(order.id).await?.into()))
}
