use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_core::{InseeCode, OrgNumber, StatusDecision, VenueId, VenueStatus};
use passnum_store::{Actor, NewVenue};
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::{CreateVenue, Page, SetVenueStatus, VenueDto, date_in};
use crate::AppState;
use crate::auth::{Auth, OperatorAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

fn parse_status(s: &str) -> ApiResult<VenueStatus> {
    VenueStatus::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "invalid_status",
            "Statut inconnu : applied, waiting, qualified, refused, suspended, expired ou revoked.",
        )
    })
}

/// Register a venue (operator). A SIRET belongs to one venue only.
#[utoipa::path(post, path = "/api/v1/venues", tag = "venues", request_body = CreateVenue, security(("bearer" = [])),
    responses((status = 201, body = VenueDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiJson(body): ApiJson<CreateVenue>,
) -> ApiResult<(StatusCode, Json<VenueDto>)> {
    let v = NewVenue {
        siret: OrgNumber::parse(&body.siret)
            .map_err(|e| ApiError::invalid("invalid_siret", e.to_string()))?,
        name: body.name,
        commune: InseeCode::parse_known(&body.commune_insee)
            .map_err(|e| ApiError::invalid("invalid_commune", e.to_string()))?,
        status: parse_status(body.status.as_deref().unwrap_or("applied"))?,
        qualified_until: body
            .qualified_until
            .as_deref()
            .map(|d| date_in("qualified_until", d))
            .transpose()?,
        address: body.address.unwrap_or_default(),
        contact: body.contact.unwrap_or_default(),
        services: body.services,
    };
    if !matches!(v.status, VenueStatus::Applied | VenueStatus::Qualified) {
        return Err(ApiError::invalid(
            "invalid_status",
            "Un nouveau lieu est « applied » ou « qualified ».",
        ));
    }
    let created = st.store.create_venue(&v, st.clock.now()).await?;
    st.directory.invalidate();
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Venues: all of them for the operator and funders, itself for a venue.
#[utoipa::path(get, path = "/api/v1/venues", tag = "venues", params(Page), security(("bearer" = [])),
    responses((status = 200, body = Vec<VenueDto>)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Vec<VenueDto>>> {
    let venues = match auth.0 {
        Actor::Venue(v) => vec![st.store.get_venue(v).await?],
        _ => st.store.list_venues(page.limit(), page.offset()).await?,
    };
    Ok(Json(venues.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/venues/{id}", tag = "venues", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = VenueDto), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<VenueDto>> {
    if let Actor::Venue(v) = auth.0
        && v.0 != id
    {
        return Err(ApiError::not_found());
    }
    Ok(Json(st.store.get_venue(VenueId(id)).await?.into()))
}

/// Decide on a venue (operator): qualify (with an end date), ask it for more, refuse,
/// suspend, withdraw. Refusal and withdrawal are final; the decision is kept in the venue's
/// history with its reason.
#[utoipa::path(post, path = "/api/v1/venues/{id}/status", tag = "venues", params(("id" = i64, Path)),
    request_body = SetVenueStatus, security(("bearer" = [])),
    responses((status = 200, body = VenueDto), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_status(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetVenueStatus>,
) -> ApiResult<Json<VenueDto>> {
    let status = parse_status(&body.status)?;
    let until = body
        .qualified_until
        .as_deref()
        .map(|d| date_in("qualified_until", d))
        .transpose()?;
    let decision = StatusDecision {
        to: status,
        qualified_until: until,
        reason: body.reason.unwrap_or_default(),
    };
    let v = st
        .store
        // An API token is no staff member: the history says "by the programme's API".
        .set_venue_status(VenueId(id), &decision, None, st.clock.now())
        .await?;
    st.directory.invalidate();
    Ok(Json(v.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPracticalInfo {
    /// As a person reads it: "mardi et jeudi 9 h–12 h".
    pub opening_hours: String,
    /// Step-free access, hearing loop, languages spoken…
    pub accessibility: String,
}

/// Set a venue's opening hours and accessibility, shown when it is suggested (operator, or
/// the venue itself).
#[utoipa::path(put, path = "/api/v1/venues/{id}/practical-info", tag = "venues", params(("id" = i64, Path)),
    request_body = SetPracticalInfo, security(("bearer" = [])),
    responses((status = 200, body = VenueDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_practical_info(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetPracticalInfo>,
) -> ApiResult<Json<VenueDto>> {
    may_edit_venue(&auth, id)?;
    let v = st
        .store
        .set_venue_practical_info(
            VenueId(id),
            &body.opening_hours,
            &body.accessibility,
            st.clock.now(),
        )
        .await?;
    Ok(Json(v.into()))
}

/// One service of a venue's catalogue.
#[derive(Deserialize, serde::Serialize, ToSchema)]
pub struct CatalogueEntryDto {
    #[schema(example = "2.1.07")]
    pub service_code: String,
    /// individual, collective or both.
    #[schema(example = "collective")]
    pub format: String,
}

#[derive(Deserialize, serde::Serialize, ToSchema)]
pub struct CatalogueDto {
    pub services: Vec<CatalogueEntryDto>,
    /// Publics addressed specifically, in the national standard's values ("Seniors"…);
    /// left as they are when absent from a replacement.
    #[serde(default)]
    pub publics: Option<Vec<String>>,
    /// Specific support given, in the standard's values ("Surdité"…); same rule.
    #[serde(default)]
    pub specific_support: Option<Vec<String>>,
}

/// The operator, or the venue itself; others see nothing.
pub(super) fn may_edit_venue(auth: &Auth, id: i64) -> ApiResult<()> {
    match auth.0 {
        Actor::Operator => Ok(()),
        Actor::Venue(v) if v.0 == id => Ok(()),
        Actor::Venue(_) => Err(ApiError::not_found()),
        Actor::Funder(_) | Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => {
            Err(ApiError::forbidden())
        }
    }
}

/// A venue's catalogue: the services it gives, each individually, collectively or both
/// (operator, or the venue itself).
#[utoipa::path(get, path = "/api/v1/venues/{id}/catalogue", tag = "venues", params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = CatalogueDto), (status = 404, body = ErrorBody)))]
pub async fn get_catalogue(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CatalogueDto>> {
    may_edit_venue(&auth, id)?;
    let venue = st.store.get_venue(VenueId(id)).await?;
    let values = |s: &str| -> Vec<String> {
        s.split('|')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    };
    let services = st
        .store
        .venue_catalogue(VenueId(id))
        .await?
        .into_iter()
        .map(|(service_code, f)| CatalogueEntryDto {
            service_code,
            format: f.as_str().into(),
        })
        .collect();
    Ok(Json(CatalogueDto {
        services,
        publics: Some(values(&venue.publics)),
        specific_support: Some(values(&venue.specific_support)),
    }))
}

/// Replace a venue's catalogue (operator, or the venue itself). It takes effect at once, for
/// the next scan, and the change is recorded. A qualified venue keeps at least one service.
#[utoipa::path(put, path = "/api/v1/venues/{id}/catalogue", tag = "venues", params(("id" = i64, Path)),
    request_body = CatalogueDto, security(("bearer" = [])),
    responses((status = 200, body = CatalogueDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_catalogue(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CatalogueDto>,
) -> ApiResult<Json<CatalogueDto>> {
    may_edit_venue(&auth, id)?;
    let catalogue = passnum_core::catalogue::Catalogue::parse(
        body.services
            .iter()
            .map(|e| (e.service_code.as_str(), e.format.as_str())),
        |code| st.store.service_is_known(code),
    )
    .map_err(|e| ApiError::invalid(e.code(), e.to_string()))?;
    // Checked before anything is written: a bad value leaves the catalogue as it was.
    let current = st.store.get_venue(VenueId(id)).await?;
    let keep = |s: &str| -> Vec<String> {
        s.split('|')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    };
    let publics = body.publics.unwrap_or_else(|| keep(&current.publics));
    let support = body
        .specific_support
        .unwrap_or_else(|| keep(&current.specific_support));
    for (values, allowed) in [
        (&publics, &passnum_core::standard::PUBLICS[..]),
        (&support, &passnum_core::standard::SPECIFIC_SUPPORT[..]),
    ] {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        passnum_core::standard::in_list_order(&values, allowed).map_err(|bad| {
            ApiError::invalid(
                "invalid_public",
                format!("« {bad} » n'est pas une valeur du standard national."),
            )
        })?;
    }
    let now = st.clock.now();
    st.store
        .set_venue_catalogue(VenueId(id), &catalogue, None, now)
        .await?;
    let publics: Vec<&str> = publics.iter().map(String::as_str).collect();
    let support: Vec<&str> = support.iter().map(String::as_str).collect();
    st.store
        .set_venue_publics(VenueId(id), &publics, &support, now)
        .await?;
    get_catalogue(State(st), auth, ApiPath(id)).await
}
