//! The operator's venues: the review queue by status, a venue's file (application,
//! catalogue, documents, history) with the decision form, and registration by hand.

use super::*;
use axum::extract::Query;
use passnum_core::OrgNumber;
use passnum_core::text::{MAX_ADDRESS_CHARS, MAX_NAME_CHARS, MAX_TYPED_ID_CHARS, kept};

pub struct VenueRow {
    pub id: i64,
    pub name: String,
    pub siret: String,
    pub commune: String,
    pub status_label: &'static str,
    pub until: String,
}

/// A tab of the queue: a status, its label and how many venues are in it.
pub struct QueueTab {
    pub status: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub current: bool,
}

pub struct EndingRow {
    pub id: i64,
    pub name: String,
    pub until: String,
}

/// Venues shown per page of the queue.
const QUEUE_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "operateur_lieux.html")]
pub(super) struct VenuesPage {
    layout: Layout,
    tabs: Vec<QueueTab>,
    current_label: &'static str,
    current_status: &'static str,
    page: i64,
    more: bool,
    ending: Vec<EndingRow>,
    charter: String,
    charter_updated: String,
    charter_saved: bool,
    venues: Vec<VenueRow>,
    siret: String,
    name: String,
    commune: String,
    qualified: bool,
    address: String,
    contact: String,
    opening_hours: String,
    accessibility: String,
    services: String,
    errors: FieldErrors,
}

pub fn status_label(s: VenueStatus) -> &'static str {
    s.label()
}

fn row(v: passnum_store::Venue) -> VenueRow {
    VenueRow {
        id: v.id.0,
        siret: passnum_core::org_number::display_stored(&v.siret),
        commune: crate::ui::directory::commune_name(&v.commune_insee),
        name: v.name,
        status_label: status_label(v.status),
        until: v
            .qualified_until
            .map(paris::format_date)
            .unwrap_or_default(),
    }
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    charte: Option<String>,
    #[serde(default)]
    statut: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

pub(super) async fn venues_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    q: &QueueQuery,
) -> VenuesPage {
    let counts = st.store.venue_status_counts().await.unwrap_or_default();
    // New applications first: that is where the operator's work is.
    let current = q
        .statut
        .as_deref()
        .and_then(VenueStatus::parse)
        .unwrap_or(VenueStatus::Applied);
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let mut venues: Vec<VenueRow> = st
        .store
        .venues_in_status(&[current], QUEUE_PAGE + 1, (page - 1) * QUEUE_PAGE)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(row)
        .collect();
    let more = venues.len() as i64 > QUEUE_PAGE;
    venues.truncate(QUEUE_PAGE as usize);
    let (charter, charter_updated) = st.store.charter().await.unwrap_or_default();
    VenuesPage {
        layout: Layout::new("Lieux de médiation", Some(staff), csrf, "/operateur/lieux"),
        tabs: counts
            .iter()
            .map(|(s, n)| QueueTab {
                status: s.as_str(),
                label: s.label(),
                count: *n,
                current: *s == current,
            })
            .collect(),
        current_label: current.label(),
        current_status: current.as_str(),
        page,
        more,
        ending: st
            .store
            .ending_qualifications(None)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|e| EndingRow {
                id: e.venue_id.0,
                name: e.venue_name,
                until: paris::format_date(e.qualified_until),
            })
            .collect(),
        charter: if charter.trim().is_empty() {
            crate::ui::application::DEFAULT_CHARTER.to_string()
        } else {
            charter
        },
        charter_updated: charter_updated
            .map(paris::format_moment)
            .unwrap_or_default(),
        charter_saved: q.charte.is_some(),
        venues,
        siret: String::new(),
        name: String::new(),
        commune: String::new(),
        qualified: false,
        address: String::new(),
        contact: String::new(),
        opening_hours: String::new(),
        accessibility: String::new(),
        services: String::new(),
        errors: FieldErrors::default(),
    }
}

pub async fn venues(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<QueueQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &venues_page(&st, &staff, &csrf, &q).await,
        &csrf,
    )
}

#[derive(Deserialize)]
pub struct VenueForm {
    #[serde(default)]
    siret: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    qualified: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    opening_hours: String,
    #[serde(default)]
    accessibility: String,
    #[serde(default)]
    services: String,
}

pub async fn create_venue(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<VenueForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = venues_page(&st, &staff, &csrf, &QueueQuery::default()).await;
    page.siret = kept(&f.siret, MAX_TYPED_ID_CHARS);
    page.name = kept(&f.name, MAX_NAME_CHARS);
    page.commune = kept(&f.commune, MAX_TYPED_ID_CHARS);
    page.qualified = f.qualified.is_some();
    page.address = kept(&f.address, MAX_ADDRESS_CHARS);
    page.contact = kept(&f.contact, MAX_ADDRESS_CHARS);
    page.opening_hours = f.opening_hours.chars().take(600).collect();
    page.accessibility = f.accessibility.chars().take(600).collect();
    page.services = f.services.chars().take(1000).collect();
    if !token_ok {
        page.errors.add("siret", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let siret = OrgNumber::parse(&f.siret)
        .map_err(|e| page.errors.add("siret", e.to_string()))
        .ok();
    if f.name.trim().is_empty() {
        page.errors.add("name", "Indiquez le nom du lieu.");
    }
    // Checked here so that the venue is not created when its practical info is refused.
    for (field, text) in [
        ("opening_hours", &f.opening_hours),
        ("accessibility", &f.accessibility),
    ] {
        if text.trim().chars().count() > 500 {
            page.errors.add(field, "500 caractères au plus.");
        }
    }
    let commune = passnum_app::workshops::find_commune(&f.commune);
    if commune.is_none() {
        page.errors.add("commune", crate::ui::COMMUNE_UNKNOWN);
    }
    let (Some(siret), Some(commune)) = (siret, commune) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    let v = NewVenue {
        siret,
        name: f.name,
        commune,
        status: if page.qualified {
            VenueStatus::Qualified
        } else {
            VenueStatus::Applied
        },
        qualified_until: None,
        address: f.address,
        contact: f.contact,
        services: f
            .services
            .split([',', ' ', ';'])
            .filter(|c| !c.trim().is_empty())
            .map(str::to_string)
            .collect(),
    };
    match st.store.create_venue(&v, st.clock.now()).await {
        Ok(created) => {
            st.directory.invalidate();
            if let Err(e) = st
                .store
                .set_venue_practical_info(
                    created.id,
                    &f.opening_hours,
                    &f.accessibility,
                    st.clock.now(),
                )
                .await
            {
                return crate::ui::PageError::unavailable(e, "page opérateur").into_response();
            }
            Redirect::to("/operateur/lieux").into_response()
        }
        Err(StoreError::Conflict { message, .. }) | Err(StoreError::Invalid { message, .. }) => {
            page.errors.add("siret", message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    }
}

#[derive(Deserialize)]
pub struct CharterForm {
    #[serde(default)]
    charter: String,
}

/// The operator writes the programme's charter, which applying venues accept from then on.
pub async fn set_charter(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<CharterForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = venues_page(&st, &staff, &csrf, &QueueQuery::default()).await;
    page.charter = f.charter.chars().take(21_000).collect();
    if !token_ok {
        page.errors.add("charter", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    if f.charter.trim().is_empty() {
        page.errors.add(
            "charter",
            "La charte ne peut pas être vide : les lieux qui candidatent l'acceptent.",
        );
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    match st.store.set_charter(&f.charter, st.clock.now()).await {
        Ok(()) => Redirect::to("/operateur/lieux?charte=1#charte").into_response(),
        Err(StoreError::Invalid { message, .. }) => {
            page.errors.add("charter", message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "charte").into_response(),
    }
}
