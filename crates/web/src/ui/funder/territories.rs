//! An order's member territories for the funder (issue 16): the communes that joined by
//! délibération, declared with their acts; each territory's page with its communes, its
//! documents (PDF) and its structures. The two stages of the allocation are in
//! `ui::ordering::allocation`.

use axum::extract::{Path, State};
use axum::response::Redirect;
use passnum_core::TerritoryId;
use passnum_core::application::Document;
use passnum_core::member_territory::NewTerritory;
use passnum_core::territory::{Level, label_of};
use passnum_store::{DocumentKind, StoreError, Territory, TerritoryDocument};

use super::*;
use crate::ui::PageError;
use crate::ui::Submitted;
use crate::ui::dossier::OneDocument;

pub(super) const TERRITORY_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Territoire introuvable",
    text: "Cette commande n'a pas de territoire membre sous ce numéro.",
};

/// A territory as the list shows it.
pub struct TerritoryRow {
    pub t: Territory,
    /// "Liévin (62510), Lens (62498) et 3 autres".
    pub communes: String,
    pub deliberation: String,
    pub convention: String,
    /// The day it was declared, Paris time.
    pub declared: String,
}

impl TerritoryRow {
    fn of(t: Territory) -> Self {
        let named: Vec<String> = t
            .communes
            .iter()
            .take(3)
            .map(|c| label_of(Level::Commune, c))
            .collect();
        let more = t.communes.len().saturating_sub(3);
        let communes = match more {
            0 => named.join(", "),
            1 => format!("{} et 1 autre", named.join(", ")),
            n => format!("{} et {n} autres", named.join(", ")),
        };
        let deliberation = act(&t.deliberation_ref, &t.deliberation_on);
        let convention = match (&t.convention_ref, &t.convention_on) {
            (Some(r), Some(d)) => act(r, d),
            _ => "pas encore signée".into(),
        };
        Self {
            declared: day_of(t.created_at),
            t,
            communes,
            deliberation,
            convention,
        }
    }
}

fn day_of(ts: Timestamp) -> String {
    paris::format_date(paris::local_date(ts))
}

/// "n° 2026-045 du 12/03/2026".
fn act(reference: &str, iso: &str) -> String {
    let day = passnum_core::member_territory::parse_day(iso)
        .map(paris::format_date)
        .unwrap_or_else(|| iso.to_string());
    format!("n° {reference} du {day}")
}

#[derive(Template)]
#[template(path = "territoires.html")]
struct TerritoriesPage {
    layout: Layout,
    id: i64,
    /// Booklets still in the funder's stock.
    stock: i64,
    territories: Vec<TerritoryRow>,
    f: TerritoryForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct TerritoryForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    communes: String,
    #[serde(default)]
    deliberation: String,
    #[serde(default)]
    deliberation_date: String,
    #[serde(default)]
    convention: String,
    #[serde(default)]
    convention_date: String,
}

impl TerritoryForm {
    /// What the page shows back, cut to what a field may hold.
    fn kept(&self) -> Self {
        let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        Self {
            nom: cut(&self.nom, 200),
            communes: cut(&self.communes, 12_000),
            deliberation: cut(&self.deliberation, 100),
            deliberation_date: cut(&self.deliberation_date, 20),
            convention: cut(&self.convention, 100),
            convention_date: cut(&self.convention_date, 20),
        }
    }
}

async fn territories_page(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    csrf: &Csrf,
    order: OrderId,
    f: TerritoryForm,
) -> Result<TerritoriesPage, PageError> {
    let territories = st
        .store
        .territories_of(order)
        .await
        .map_err(|e| PageError::unavailable(e, "territoires"))?;
    Ok(TerritoriesPage {
        layout: Layout::new(
            format!("Territoires membres de la commande n° {}", order.0),
            Some(staff),
            csrf,
            "/commanditaire",
        ),
        id: order.0,
        stock: st.store.unallocated_booklets(order).await.unwrap_or(0),
        territories: territories.into_iter().map(TerritoryRow::of).collect(),
        f,
        errors: FieldErrors::default(),
    })
}

/// `/commanditaire/commandes/{id}/territoires`: the member territories and the form that
/// declares one.
pub async fn territories(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = territories_page(&st, &staff, &csrf, order.id, TerritoryForm::default()).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

/// Declares a territory; every refusal keeps what was typed and says what to fix.
pub async fn declare_territory(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Submitted { form: f, token_ok }: Submitted<TerritoryForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = territories_page(&st, &staff, &csrf, order.id, f.kept()).await?;
    if !token_ok {
        page.errors.add("nom", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let parsed = NewTerritory::parse(
        &f.nom,
        &f.communes,
        (&f.deliberation, &f.deliberation_date),
        (&f.convention, &f.convention_date),
    );
    let t = match parsed {
        Ok(t) => t,
        Err(e) => {
            page.errors.add(field_of(&e), e.to_string());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    match st
        .store
        .declare_territory(order.id, &t, &staff.signature(), st.clock.now())
        .await
    {
        Ok(t) => Ok(Redirect::to(&format!(
            "/commanditaire/commandes/{}/territoires/{}",
            order.id.0, t.id
        ))
        .into_response()),
        Err(StoreError::Invalid { code, message } | StoreError::Conflict { code, message }) => {
            let field = match code {
                "territory_name_taken" | "order_state" | "too_many_territories" => "nom",
                _ => "communes",
            };
            page.errors.add(field, message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "territoires")),
    }
}

/// The form field a parsing refusal is about.
/// A stored day ("2026-03-12") as the forms ask for it ("12/03/2026").
fn shown_day(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => iso.to_string(),
    }
}

pub(super) fn field_of(e: &passnum_core::member_territory::TerritoryError) -> &'static str {
    use passnum_core::member_territory::TerritoryError as E;
    match e {
        E::BadName | E::DuplicateName(_) | E::TooManyTerritories => "nom",
        E::MissingDeliberation | E::LongReference => "deliberation",
        E::HalfConvention => "convention",
        E::BadDate(_) => "deliberation_date",
        _ => "communes",
    }
}

#[derive(Template)]
#[template(path = "territoire.html")]
pub(super) struct TerritoryPage {
    layout: Layout,
    id: i64,
    row: TerritoryRow,
    /// Every commune, named.
    communes: Vec<String>,
    /// Each document and the day it was deposited.
    documents: Vec<(TerritoryDocument, String)>,
    /// (number, name, commune, booklets of this order in stock) of the structures it may give to.
    structures: Vec<(i64, String, String, i64)>,
    kinds: [DocumentKind; 3],
    /// (name, email) of its referents.
    referents: Vec<(String, String)>,
    /// The account just created and the link to hand over.
    link: Option<(String, String)>,
    referent_name: String,
    referent_email: String,
    convention_ref: String,
    convention_date: String,
    /// The name and the communes' codes as the correction form shows them (as typed after a
    /// refusal).
    pub(super) name_typed: String,
    pub(super) communes_typed: String,
    pub(super) deliberation_typed: String,
    pub(super) deliberation_date_typed: String,
    pub(super) errors: FieldErrors,
}

pub(super) async fn territory_page(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    csrf: &Csrf,
    order: OrderId,
    t: TerritoryId,
) -> Result<TerritoryPage, PageError> {
    let territory = match st.store.territory(order, t).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Err(TERRITORY_NOT_FOUND),
        Err(e) => return Err(PageError::unavailable(e, "territoire")),
    };
    let unavailable = |e| PageError::unavailable(e, "territoire");
    let documents = st
        .store
        .territory_documents(order, t)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|d| {
            let day = day_of(d.uploaded_at);
            (d, day)
        })
        .collect();
    let stocks = st.store.distribution_of(order).await.map_err(unavailable)?;
    let structures = st
        .store
        .structures_of_territory(order, t)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|d| {
            let held = stocks
                .iter()
                .find(|s| s.distributor_id == d.id)
                .map_or(0, |s| s.in_stock);
            (
                d.id.0,
                d.name,
                label_of(Level::Commune, &d.commune_insee),
                held,
            )
        })
        .collect();
    Ok(TerritoryPage {
        layout: Layout::new(
            format!("Territoire {}", territory.name),
            Some(staff),
            csrf,
            "/commanditaire",
        ),
        id: order.0,
        communes: territory
            .communes
            .iter()
            .map(|c| label_of(Level::Commune, c))
            .collect(),
        communes_typed: territory.communes.join(", "),
        name_typed: territory.name.clone(),
        deliberation_typed: territory.deliberation_ref.clone(),
        deliberation_date_typed: shown_day(&territory.deliberation_on),
        row: TerritoryRow::of(territory),
        documents,
        structures,
        kinds: DocumentKind::ALL,
        referents: st
            .store
            .staff_of(passnum_store::Actor::Referent(t))
            .await
            .map_err(unavailable)?
            .into_iter()
            .filter(|m| !m.disabled)
            .map(|m| (m.display_name, m.email))
            .collect(),
        link: None,
        referent_name: String::new(),
        referent_email: String::new(),
        convention_ref: String::new(),
        convention_date: String::new(),
        errors: FieldErrors::default(),
    })
}

/// `/commanditaire/commandes/{id}/territoires/{t}`.
pub async fn territory(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = territory_page(&st, &staff, &csrf, order.id, TerritoryId(t)).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

/// Attaches a PDF (délibération, convention, other piece) to a territory.
pub async fn attach_document(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
    upload: OneDocument,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let t = TerritoryId(t);
    let mut page = territory_page(&st, &staff, &csrf, order.id, t).await?;
    let kind = DocumentKind::parse(upload.field("kind"));
    let token_ok = upload.token_ok;
    let Some((name, bytes)) = upload.read else {
        page.errors.add("document", "La pièce n'a pas pu être lue en entier : elle dépasse sans doute 5 Mo. Réduisez-la et recommencez.");
        return Ok(render(StatusCode::PAYLOAD_TOO_LARGE, &page, &csrf));
    };
    if !token_ok {
        page.errors.add("document", crate::ui::STALE_FORM);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let Some(kind) = kind else {
        page.errors.add(
            "kind",
            "Choisissez la nature de la pièce : délibération, convention ou autre.",
        );
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
    };
    let doc = match Document::check(&name, bytes) {
        Ok(d) => d,
        Err(e) => {
            page.errors.add("document", e.to_string());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    match st
        .store
        .attach_territory_document(order.id, t, kind, &doc, &staff.signature(), st.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/commanditaire/commandes/{}/territoires/{}#pieces",
            order.id.0, t
        ))
        .into_response()),
        Err(StoreError::Invalid { message, .. }) => {
            page.errors.add("document", message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(StoreError::NotFound) => Err(TERRITORY_NOT_FOUND),
        Err(e) => Err(PageError::unavailable(e, "pièce")),
    }
}

/// A territory's document, downloaded (never shown inline: it comes from outside).
pub async fn territory_document(
    State(st): State<AppState>,
    FunderOrder(_, order): FunderOrder,
    Path((_, t, doc)): Path<(i64, i64, i64)>,
) -> Result<Response, PageError> {
    match st
        .store
        .territory_document(order.id, TerritoryId(t), doc)
        .await
    {
        Ok((file_name, bytes)) => Ok(crate::ui::operator::document_download(Document {
            file_name,
            kind: passnum_core::application::DocumentType::Pdf,
            bytes,
        })),
        Err(StoreError::NotFound) => Err(PageError::NotFound {
            heading: "Pièce introuvable",
            text: "Ce territoire n'a pas de pièce sous ce numéro.",
        }),
        Err(e) => Err(PageError::unavailable(e, "pièce")),
    }
}

#[derive(Deserialize)]
pub struct ReferentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// Designates a référent territorial, as the territory's délibération names one: an account
/// of the territory, with a link (valid three days) to choose a password, to hand over.
pub async fn designate_referent(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
    Submitted { form: f, token_ok }: Submitted<ReferentForm>,
) -> Result<Response, PageError> {
    use passnum_core::text::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, kept};
    let csrf = Csrf::from_headers(&headers);
    let t = TerritoryId(t);
    let mut page = territory_page(&st, &staff, &csrf, order.id, t).await?;
    page.referent_name = kept(&f.name, MAX_NAME_CHARS);
    page.referent_email = kept(&f.email, MAX_EMAIL_CHARS);
    if !token_ok {
        page.errors.add("referent_name", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    if f.name.trim().is_empty() {
        page.errors
            .add("referent_name", "Indiquez le nom du référent.");
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
    }
    let referent = passnum_store::Actor::Referent(t);
    match crate::ui::operator::invited_account(&st, &f.email, &f.name, referent).await {
        Ok(Ok(link)) => {
            let mut page = territory_page(&st, &staff, &csrf, order.id, t).await?;
            page.link = Some(link);
            Ok(render(StatusCode::OK, &page, &csrf))
        }
        Ok(Err(message)) => {
            page.errors.add("referent_email", message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "référent")),
    }
}

#[derive(Deserialize)]
pub struct ConventionForm {
    #[serde(default)]
    convention: String,
    #[serde(default)]
    convention_date: String,
}

/// Records the convention de mandat signed after the territory joined (or corrects it).
pub async fn record_convention(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
    Submitted { form: f, token_ok }: Submitted<ConventionForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let t = TerritoryId(t);
    let mut page = territory_page(&st, &staff, &csrf, order.id, t).await?;
    page.convention_ref = f.convention.chars().take(100).collect();
    page.convention_date = f.convention_date.chars().take(20).collect();
    if !token_ok {
        page.errors.add("convention", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let c =
        match passnum_core::member_territory::parse_convention(&f.convention, &f.convention_date) {
            Ok(c) => c,
            Err(e) => {
                page.errors.add("convention", e.to_string());
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
            }
        };
    match st.store.record_convention(order.id, t, &c).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/commanditaire/commandes/{}/territoires/{}",
            order.id.0, t
        ))
        .into_response()),
        Err(StoreError::NotFound) => Err(TERRITORY_NOT_FOUND),
        Err(e) => Err(PageError::unavailable(e, "convention")),
    }
}
