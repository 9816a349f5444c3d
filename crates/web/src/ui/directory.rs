//! The public directory: qualified venues, searched by commune or postcode, by category of
//! service and by format, a page at a time; and a page per venue.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use passnum_core::catalogue::ServiceFormat;
use passnum_core::commune::communes;
use passnum_core::{VenueId, paris};
use passnum_store::{DirectorySearch, StoreError};
use serde::Deserialize;

use super::session::{Csrf, MaybeStaff};
use super::{Layout, PageError, render};
use crate::AppState;

const VENUE_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Lieu introuvable",
    text: "Ce lieu n'existe pas ou n'accepte pas le Pass Numérique aujourd'hui. Cherchez un autre lieu dans la liste.",
};

/// Venues per page.
const PER_PAGE: i64 = 20;

#[derive(Deserialize, Default)]
pub struct DirectoryQuery {
    /// A commune's name, a postcode or an INSEE code.
    #[serde(default)]
    q: String,
    /// A category of the référentiel ("2.2").
    #[serde(default)]
    categorie: String,
    /// "individual" or "collective".
    #[serde(default)]
    format: String,
    #[serde(default)]
    page: Option<i64>,
}

pub struct ListedVenue {
    pub id: i64,
    pub name: String,
    /// The address, with the commune's name when the address does not already say it.
    pub place: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "lieux.html")]
pub struct DirectoryPage {
    layout: Layout,
    q: String,
    categories: Vec<Choice>,
    formats: Vec<Choice>,
    venues: Vec<ListedVenue>,
    total: i64,
    page: i64,
    pages: i64,
    /// The search, for the pagination links ("q=…&categorie=…&format=…").
    query: String,
    /// A sentence when the place typed matched no commune.
    unknown_place: bool,
}

/// "Place Lazare-Goujon, 69100 Villeurbanne" as it is; "30 rue X" becomes "30 rue X — Lyon".
pub(crate) fn address_line(address: &str, insee: &str) -> String {
    let commune = commune_name(insee);
    let address = address.trim();
    if address.is_empty() {
        commune
    } else if passnum_core::commune::folded(address)
        .contains(&passnum_core::commune::folded(&commune))
    {
        address.to_string()
    } else {
        format!("{address} — {commune}")
    }
}

pub fn commune_name(insee: &str) -> String {
    communes()
        .name_of(insee)
        .map_or_else(|| insee.to_string(), str::to_string)
}

pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
    Query(q): Query<DirectoryQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let unavailable = |e: StoreError| PageError::unavailable(e, "annuaire des lieux");
    let place: String = q.q.trim().chars().take(80).collect();
    let communes_asked = (!place.is_empty()).then(|| {
        communes()
            .matching(&place)
            .iter()
            .map(|c| c.insee.to_string())
            .collect::<Vec<_>>()
    });
    let services = st.store.list_services().await.map_err(unavailable)?;
    let mut categories: Vec<Choice> = vec![];
    for s in &services {
        if categories.last().is_none_or(|c| c.value != s.category_code) {
            categories.push(Choice {
                selected: s.category_code == q.categorie,
                value: s.category_code.clone(),
                label: format!("{} ({})", s.category_name, s.level_name),
            });
        }
    }
    let category = categories
        .iter()
        .find(|c| c.selected)
        .map(|c| c.value.clone());
    let format = ServiceFormat::parse(&q.format).filter(|f| *f != ServiceFormat::Both);
    let formats = [ServiceFormat::Individual, ServiceFormat::Collective]
        .into_iter()
        .map(|f| Choice {
            value: f.as_str().into(),
            label: match f {
                ServiceFormat::Individual => "Accompagnement individuel".into(),
                _ => "Atelier collectif".into(),
            },
            selected: Some(f) == format,
        })
        .collect();
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let search = DirectorySearch {
        communes: communes_asked.clone(),
        category: category.clone(),
        format,
    };
    let today = paris::local_date(st.clock.now());
    let (total, found) = st
        .store
        .search_directory(&search, today, PER_PAGE, (page - 1) * PER_PAGE)
        .await
        .map_err(unavailable)?;
    let query = serde_urlencoded::to_string([
        ("q", place.as_str()),
        ("categorie", category.as_deref().unwrap_or("")),
        ("format", format.map_or("", ServiceFormat::as_str)),
    ])
    .unwrap_or_default();
    let p = DirectoryPage {
        layout: Layout::new("Où utiliser mon pass", staff.as_ref(), &csrf, "/lieux"),
        unknown_place: communes_asked.as_ref().is_some_and(Vec::is_empty),
        q: place,
        categories,
        formats,
        venues: found
            .into_iter()
            .map(|v| ListedVenue {
                id: v.id.0,
                place: address_line(&v.address, &v.commune_insee),
                name: v.name,
            })
            .collect(),
        total,
        page,
        pages: (total + PER_PAGE - 1) / PER_PAGE,
        query,
    };
    Ok(render(StatusCode::OK, &p, &csrf))
}

pub struct OfferedService {
    pub name: String,
    pub format: &'static str,
}

pub struct OfferedCategory {
    pub heading: String,
    pub services: Vec<OfferedService>,
}

#[derive(Template)]
#[template(path = "lieu_fiche.html")]
pub struct VenueCard {
    layout: Layout,
    name: String,
    place: String,
    contact: String,
    opening_hours: String,
    accessibility: String,
    categories: Vec<OfferedCategory>,
    workshops: Vec<crate::ui::booking::PublicWorkshop>,
    id: i64,
}

pub async fn card(
    State(st): State<AppState>,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let id: i64 = id.parse().map_err(|_| VENUE_NOT_FOUND)?;
    let venue = match st.store.get_venue(VenueId(id)).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => return Err(VENUE_NOT_FOUND),
        Err(e) => return Err(PageError::unavailable(e, "fiche d'un lieu")),
    };
    // Only what the directory lists has a public page.
    if !venue
        .view()
        .is_ok_and(|v| v.is_qualified_at(st.clock.now()))
    {
        return Err(VENUE_NOT_FOUND);
    }
    let unavailable = |e| PageError::unavailable(e, "fiche d'un lieu");
    let offered = st
        .store
        .venue_catalogue(venue.id)
        .await
        .map_err(unavailable)?;
    let services = st.store.list_services().await.map_err(unavailable)?;
    let mut categories: Vec<OfferedCategory> = vec![];
    for s in services {
        let Some((_, f)) = offered.iter().find(|(c, _)| c == s.code.as_str()) else {
            continue;
        };
        let heading = s.category_name.clone();
        if categories.last().is_none_or(|c| c.heading != heading) {
            categories.push(OfferedCategory {
                heading,
                services: vec![],
            });
        }
        if let Some(c) = categories.last_mut() {
            c.services.push(OfferedService {
                name: s.name,
                format: f.label(),
            });
        }
    }
    let workshops = crate::ui::booking::upcoming(&st, venue.id)
        .await
        .map_err(unavailable)?;
    let p = VenueCard {
        workshops,
        id: venue.id.0,
        layout: Layout::new(venue.name.clone(), staff.as_ref(), &csrf, "/lieux"),
        place: address_line(&venue.address, &venue.commune_insee),
        name: venue.name,
        contact: venue.contact,
        opening_hours: venue.opening_hours,
        accessibility: venue.accessibility,
        categories,
    };
    Ok(render(StatusCode::OK, &p, &csrf))
}

pub struct ReferentielCategory {
    pub code: String,
    pub name: String,
    /// The national venue standard's `services` value the category maps to.
    pub standard: &'static str,
    /// (code, name) of each service.
    pub services: Vec<(String, String)>,
}

pub struct ReferentielLevel {
    pub level: i64,
    pub name: String,
    pub categories: Vec<ReferentielCategory>,
}

#[derive(Template)]
#[template(path = "referentiel.html")]
pub struct ReferentielPage {
    layout: Layout,
    levels: Vec<ReferentielLevel>,
}

/// `/referentiel`: every service of the référentiel, by level and category, for anyone.
pub async fn referentiel(
    State(st): State<AppState>,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let services = st
        .store
        .list_services()
        .await
        .map_err(|e| PageError::unavailable(e, "référentiel"))?;
    let mut levels: Vec<ReferentielLevel> = vec![];
    for s in services.into_iter().filter(|s| s.active) {
        if levels.last().is_none_or(|l| l.level != s.level) {
            levels.push(ReferentielLevel {
                level: s.level,
                name: s.level_name.clone(),
                categories: vec![],
            });
        }
        let Some(level) = levels.last_mut() else {
            continue;
        };
        if level
            .categories
            .last()
            .is_none_or(|c| c.code != s.category_code)
        {
            level.categories.push(ReferentielCategory {
                // The category's own value; a service may carry another, chosen by the operator.
                standard: passnum_core::standard::standard_service("", &s.category_code, s.level),
                code: s.category_code.clone(),
                name: s.category_name.clone(),
                services: vec![],
            });
        }
        if let Some(c) = level.categories.last_mut() {
            c.services.push((s.code.to_string(), s.name));
        }
    }
    let p = ReferentielPage {
        layout: Layout::new(
            "Le référentiel des services",
            staff.as_ref(),
            &csrf,
            "/referentiel",
        ),
        levels,
    };
    Ok(render(StatusCode::OK, &p, &csrf))
}
