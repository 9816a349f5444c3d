//! The venue's own file: where its application or qualification stands and why, its
//! history, its supporting documents (and adding one), answering the operator, and its team
//! (the venue's administrator invites its mediators).

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::application::Document;
use passnum_core::text::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, kept};
use passnum_core::{StatusDecision, VenueId, VenueStatus, paris};
use passnum_store::{Actor, StaffMember, StoreError};
use serde::Deserialize;

use super::session::{Csrf, VenueStaff};
use super::{FieldErrors, Layout, PageError, Submitted, render};
use crate::AppState;

pub struct HistoryLine {
    pub at: String,
    pub label: &'static str,
    pub reason: String,
}

pub struct DocumentLine {
    pub id: i64,
    pub name: String,
}

pub struct Member {
    pub name: String,
    pub email: String,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "lieu_dossier.html")]
pub struct DossierPage {
    layout: Layout,
    venue_name: String,
    status: &'static str,
    status_label: &'static str,
    until: String,
    ending: bool,
    last_reason: String,
    submitted: bool,
    saved: String,
    history: Vec<HistoryLine>,
    documents: Vec<DocumentLine>,
    team: Vec<Member>,
    is_admin: bool,
    invite_name: String,
    invite_email: String,
    link: Option<(String, String)>,
    answer: String,
    errors: FieldErrors,
}

async fn page(
    st: &AppState,
    staff: &StaffMember,
    venue: VenueId,
    csrf: &Csrf,
) -> Result<DossierPage, PageError> {
    let unavailable = |e| PageError::unavailable(e, "dossier du lieu");
    let v = st.store.get_venue(venue).await.map_err(unavailable)?;
    let history = st
        .store
        .venue_status_history(venue)
        .await
        .map_err(unavailable)?;
    let last_reason = history
        .last()
        .filter(|c| c.to == v.status && c.to.needs_reason())
        .map(|c| c.reason.clone())
        .unwrap_or_default();
    Ok(DossierPage {
        layout: Layout::new("Dossier du lieu", Some(staff), csrf, "/lieu/dossier"),
        venue_name: v.name,
        status: v.status.as_str(),
        status_label: v.status.label(),
        until: v
            .qualified_until
            .map(paris::format_date)
            .unwrap_or_default(),
        ending: !st
            .store
            .ending_qualifications(Some(venue))
            .await
            .map_err(unavailable)?
            .is_empty(),
        last_reason,
        submitted: false,
        saved: String::new(),
        history: history
            .into_iter()
            .rev()
            .map(|c| HistoryLine {
                at: paris::format_moment(c.at),
                label: c.to.label(),
                reason: c.reason,
            })
            .collect(),
        documents: st
            .store
            .venue_documents(venue)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|d| DocumentLine {
                id: d.id,
                name: d.file_name,
            })
            .collect(),
        team: st
            .store
            .staff_of(Actor::Venue(venue))
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|m| Member {
                name: m.display_name,
                email: m.email,
                admin: m.org_admin,
            })
            .collect(),
        is_admin: staff.org_admin,
        invite_name: String::new(),
        invite_email: String::new(),
        link: None,
        answer: String::new(),
        errors: FieldErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct Notice {
    #[serde(default)]
    depose: Option<String>,
    #[serde(default)]
    enregistre: Option<String>,
}

pub async fn show(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = page(&st, &staff, venue, &csrf).await?;
    p.submitted = q.depose.is_some();
    p.saved = match q.enregistre.as_deref() {
        Some("document") => "Document ajouté au dossier.".into(),
        Some("reponse") => {
            "Réponse envoyée : votre candidature revient dans la file de l'opérateur.".into()
        }
        _ => String::new(),
    };
    Ok(render(StatusCode::OK, &p, &csrf))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
}

/// The venue answers the operator's request: its application goes back to the queue.
pub async fn answer(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Submitted { form: f, token_ok }: Submitted<AnswerForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = page(&st, &staff, venue, &csrf).await?;
    p.answer = f.answer.chars().take(1100).collect();
    if !token_ok {
        p.errors.add("answer", super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    if f.answer.trim().is_empty() {
        p.errors.add(
            "answer",
            "Écrivez ce que vous avez fait ou joint, pour l'opérateur.",
        );
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
    }
    let decision = StatusDecision::new(VenueStatus::Applied, f.answer);
    match st
        .store
        .set_venue_status(venue, &decision, Some(staff.id), st.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to("/lieu/dossier?enregistre=reponse").into_response()),
        Err(StoreError::Conflict { message, .. }) | Err(StoreError::Invalid { message, .. }) => {
            p.errors.add("answer", message);
            Ok(render(StatusCode::CONFLICT, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "dossier du lieu")),
    }
}

/// One more document: a multipart form with one file and the CSRF token.
pub struct OneDocument {
    /// The file's name and bytes; `None` when the body could not be read whole.
    pub(crate) read: Option<(String, Vec<u8>)>,
    pub(crate) token_ok: bool,
    /// The form's other short text fields (a document's kind, for example), a few at most.
    fields: Vec<(String, String)>,
}

impl OneDocument {
    /// A text field of the form, or "".
    pub(crate) fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl FromRequest<AppState> for OneDocument {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, st: &AppState) -> Result<Self, PageError> {
        let csrf = Csrf::from_headers(req.headers());
        let mut m = Multipart::from_request(req, st)
            .await
            .map_err(|_| PageError::BadForm)?;
        let mut read = (String::new(), vec![], String::new());
        let mut ok = true;
        let mut fields = vec![];
        while let Ok(Some(field)) = m.next_field().await {
            match field.name().unwrap_or_default().to_string().as_str() {
                "document" => {
                    read.0 = field.file_name().unwrap_or_default().to_string();
                    match field.bytes().await {
                        Ok(b) => read.1 = b.to_vec(),
                        Err(_) => ok = false,
                    }
                }
                "csrf" => read.2 = field.text().await.unwrap_or_default(),
                name if fields.len() < 8 => {
                    let value: String = field
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect();
                    fields.push((name.chars().take(40).collect(), value));
                }
                _ => {}
            }
        }
        let (name, bytes, token) = read;
        Ok(Self {
            token_ok: csrf.matches(&token),
            read: ok.then_some((name, bytes)),
            fields,
        })
    }
}

pub async fn add_document(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    upload: OneDocument,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = page(&st, &staff, venue, &csrf).await?;
    let Some((name, bytes)) = upload.read else {
        p.errors.add("document", "Le document n'a pas pu être lu en entier : il dépasse sans doute 5 Mo. Réduisez-le et recommencez.");
        return Ok(render(StatusCode::PAYLOAD_TOO_LARGE, &p, &csrf));
    };
    if !upload.token_ok {
        p.errors.add("document", super::STALE_FORM);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    let document = match Document::check(&name, bytes) {
        Ok(d) => d,
        Err(e) => {
            p.errors.add("document", e.to_string());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
        }
    };
    match st
        .store
        .add_venue_document(venue, &document, st.clock.now())
        .await
    {
        Ok(()) => Ok(Redirect::to("/lieu/dossier?enregistre=document").into_response()),
        Err(StoreError::Conflict { message, .. }) => {
            p.errors.add("document", message);
            Ok(render(StatusCode::CONFLICT, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "dossier du lieu")),
    }
}

/// The venue's own document, downloaded.
pub async fn document(
    State(st): State<AppState>,
    VenueStaff(_staff, venue): VenueStaff,
    Path(doc): Path<i64>,
) -> Result<Response, PageError> {
    match st.store.venue_document(venue, doc).await {
        Ok(d) => Ok(super::operator::document_download(d)),
        Err(StoreError::NotFound) => Err(PageError::NotFound {
            heading: "Document introuvable",
            text: "Ce document n'existe pas dans le dossier de votre lieu.",
        }),
        Err(e) => Err(PageError::unavailable(e, "document")),
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// The venue's administrator invites a mediator: an account of the venue, with a link to
/// choose a password (valid three days) to hand over.
pub async fn invite(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Submitted { form: f, token_ok }: Submitted<InviteForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = page(&st, &staff, venue, &csrf).await?;
    if !staff.org_admin {
        return Err(PageError::Forbidden);
    }
    p.invite_name = kept(&f.name, MAX_NAME_CHARS);
    p.invite_email = kept(&f.email, MAX_EMAIL_CHARS);
    if !token_ok {
        p.errors.add("invite_name", super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    if f.name.trim().is_empty() {
        p.errors
            .add("invite_name", "Indiquez le nom de la personne invitée.");
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
    }
    match super::operator::invited_account(&st, &f.email, &f.name, Actor::Venue(venue)).await {
        Ok(Ok(link)) => {
            let mut p = page(&st, &staff, venue, &csrf).await?;
            p.link = Some(link);
            Ok(render(StatusCode::OK, &p, &csrf))
        }
        Ok(Err(message)) => {
            p.errors.add("invite_email", message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "équipe du lieu")),
    }
}
