//! The public directory in JSON: qualified venues by place, category and format, and one
//! venue with its catalogue. No token: it is what `/lieux` shows to anyone.

use axum::Json;
use axum::extract::State;
use passnum_core::catalogue::ServiceFormat;
use passnum_core::commune::communes;
use passnum_core::{VenueId, VenueStatus, paris};
use passnum_store::{DirectorySearch, Venue};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// A commune's name, postcode or INSEE code ("Lyon" brings its arrondissements).
    pub q: Option<String>,
    /// A category of the référentiel, for example "2.2".
    pub category: Option<String>,
    /// individual or collective (a service given in both formats counts for each).
    pub format: Option<String>,
    /// At most 50; 20 by default.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryService {
    pub code: String,
    /// individual, collective or both.
    pub format: String,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryVenue {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub commune_insee: String,
    pub commune: String,
    /// How to book: telephone, e-mail or web page.
    pub contact: String,
    pub opening_hours: String,
    pub accessibility: String,
    pub services: Vec<DirectoryService>,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryAnswer {
    /// How many venues match in all.
    pub total: i64,
    pub venues: Vec<DirectoryVenue>,
}

async fn entry(st: &AppState, v: Venue) -> ApiResult<DirectoryVenue> {
    let services = st
        .store
        .venue_catalogue(v.id)
        .await?
        .into_iter()
        .map(|(code, f)| DirectoryService {
            code,
            format: f.as_str().into(),
        })
        .collect();
    Ok(DirectoryVenue {
        id: v.id.0,
        commune: crate::ui::directory::commune_name(&v.commune_insee),
        name: v.name,
        address: v.address,
        commune_insee: v.commune_insee,
        contact: v.contact,
        opening_hours: v.opening_hours,
        accessibility: v.accessibility,
        services,
    })
}

/// Qualified venues, by name: where a person can use a pass.
#[utoipa::path(get, path = "/api/v1/directory", tag = "directory", params(DirectoryQuery),
    responses((status = 200, body = DirectoryAnswer), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<DirectoryQuery>,
) -> ApiResult<Json<DirectoryAnswer>> {
    let place = q.q.as_deref().unwrap_or("").trim();
    if place.chars().count() > 80 {
        return Err(ApiError::invalid(
            "invalid_place",
            "Le lieu cherché dépasse 80 caractères.",
        ));
    }
    let format = match q.format.as_deref() {
        None | Some("") => None,
        Some(f) => Some(
            ServiceFormat::parse(f)
                .filter(|f| *f != ServiceFormat::Both)
                .ok_or_else(|| {
                    ApiError::invalid("invalid_format", "Le format est individual ou collective.")
                })?,
        ),
    };
    let category = q.category.filter(|c| !c.trim().is_empty());
    if let Some(c) = &category {
        let known = st.store.list_services().await?;
        if !known.iter().any(|s| &s.category_code == c) {
            return Err(ApiError::invalid(
                "unknown_category",
                format!(
                    "La catégorie « {} » n'existe pas dans le référentiel.",
                    c.chars().take(20).collect::<String>()
                ),
            ));
        }
    }
    let search = DirectorySearch {
        communes: (!place.is_empty()).then(|| {
            communes()
                .matching(place)
                .iter()
                .map(|c| c.insee.to_string())
                .collect()
        }),
        category,
        format,
    };
    let today = paris::local_date(st.clock.now());
    let (total, found) = st
        .store
        .search_directory(
            &search,
            today,
            q.limit.unwrap_or(20).clamp(1, 50),
            q.offset.unwrap_or(0).clamp(0, 1_000_000),
        )
        .await?;
    let mut venues = Vec::with_capacity(found.len());
    for v in found {
        venues.push(entry(&st, v).await?);
    }
    Ok(Json(DirectoryAnswer { total, venues }))
}

/// One qualified venue with its catalogue.
#[utoipa::path(get, path = "/api/v1/directory/{id}", tag = "directory", params(("id" = i64, Path)),
    responses((status = 200, body = DirectoryVenue), (status = 404, body = ErrorBody)))]
pub async fn one(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DirectoryVenue>> {
    let v = st.store.get_venue(VenueId(id)).await?;
    let qualified = v.status == VenueStatus::Qualified && v.view()?.is_qualified_at(st.clock.now());
    if !qualified {
        // Applications and withdrawn venues are not public.
        return Err(ApiError::not_found());
    }
    Ok(Json(entry(&st, v).await?))
}
