//! The public application page: a venue applies with its organisation, address, legal
//! representative, catalogue, practical information, supporting documents and acceptance of
//! the charter; the applicant gets the venue's administrator account and lands on the venue's
//! file, signed in.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{FromRequest, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::application::{Document, MAX_DOCUMENTS};
use passnum_core::catalogue::{Catalogue, ServiceFormat};
use passnum_core::commune::communes;
use passnum_core::text::{MAX_ADDRESS_CHARS, MAX_EMAIL_CHARS, MAX_NAME_CHARS, kept};
use passnum_core::{InseeCode, OrgNumber, VenueStatus};
use passnum_store::{NewApplication, NewVenue, StoreError};

use super::catalogue::{CategoryGroup, service_groups};
use super::session::{Csrf, MaybeStaff, SESSION_COOKIE, SESSION_TTL_MS, set_cookie};
use super::{FieldErrors, Layout, PageError, render};
use crate::AppState;

/// The whole form: five documents of 5 MiB and the text fields.
pub const APPLICATION_BODY_BYTES: usize =
    MAX_DOCUMENTS * passnum_core::application::MAX_DOCUMENT_BYTES + 256 * 1024;

/// The charter shown while the operator has not written the programme's own.
pub const DEFAULT_CHARTER: &str = "En rejoignant le programme Pass Numérique, le lieu s'engage à :\n\
- accueillir toute personne qui présente un chèque, sans autre condition que celles affichées dans sa fiche ;\n\
- ne percevoir aucune somme de la personne pour un service payé par un chèque ;\n\
- n'encaisser un chèque que pour un service de son catalogue réellement rendu, un chèque par atelier ou accompagnement ;\n\
- tenir à jour sa fiche (horaires, accessibilité, services, prise de rendez-vous) ;\n\
- signaler tout chèque suspect à l'opérateur et accepter ses contrôles.";

#[derive(Default)]
pub struct ApplicationFields {
    pub number: String,
    pub name: String,
    pub legal_representative: String,
    pub address: String,
    pub postcode: String,
    pub commune: String,
    pub contact: String,
    pub opening_hours: String,
    pub accessibility: String,
    pub applicant_name: String,
    pub email: String,
    pub password: String,
    pub charter: bool,
    pub services: HashMap<String, String>,
}

#[derive(Template)]
#[template(path = "candidature.html")]
pub struct ApplicationPage {
    layout: Layout,
    f: ApplicationFields,
    groups: Vec<CategoryGroup>,
    charter: String,
    max_documents: usize,
    errors: FieldErrors,
}

async fn page(
    st: &AppState,
    csrf: &Csrf,
    f: ApplicationFields,
) -> Result<ApplicationPage, PageError> {
    let chosen: HashMap<String, ServiceFormat> = f
        .services
        .iter()
        .filter_map(|(c, v)| Some((c.clone(), ServiceFormat::parse(v)?)))
        .collect();
    let (charter, _) = st
        .store
        .charter()
        .await
        .map_err(|e| PageError::unavailable(e, "candidature"))?;
    Ok(ApplicationPage {
        layout: Layout::new("Candidater", None, csrf, "/candidature"),
        groups: service_groups(st, &chosen).await?,
        charter: if charter.trim().is_empty() {
            DEFAULT_CHARTER.to_string()
        } else {
            charter
        },
        max_documents: MAX_DOCUMENTS,
        f,
        errors: FieldErrors::default(),
    })
}

pub async fn form(
    State(st): State<AppState>,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = page(&st, &csrf, ApplicationFields::default()).await?;
    p.layout = Layout::new("Candidater", staff.as_ref(), &csrf, "/candidature");
    Ok(render(StatusCode::OK, &p, &csrf))
}

/// A file as sent: the name the browser gave, and its bytes.
type SentFile = (String, Vec<u8>);

/// The form as sent: its fields, its files and its CSRF token. `None` when the body could not
/// be read whole (over the limit, most often).
pub struct ApplicationUpload {
    read: Option<(ApplicationFields, Vec<SentFile>)>,
    token_ok: bool,
}

impl FromRequest<AppState> for ApplicationUpload {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, st: &AppState) -> Result<Self, PageError> {
        let csrf = Csrf::from_headers(req.headers());
        let m = Multipart::from_request(req, st)
            .await
            .map_err(|_| PageError::BadForm)?;
        Ok(match read_form(m).await {
            Ok((fields, files, token)) => Self {
                read: Some((fields, files)),
                token_ok: csrf.matches(&token),
            },
            Err(_) => Self {
                read: None,
                token_ok: false,
            },
        })
    }
}

async fn read_form(mut m: Multipart) -> Result<(ApplicationFields, Vec<SentFile>, String), String> {
    let mut f = ApplicationFields::default();
    let mut files = vec![];
    let mut csrf = String::new();
    let mut fields = 0;
    while let Some(field) = m.next_field().await.map_err(|e| e.to_string())? {
        fields += 1;
        // The référentiel has fewer than 200 services: a form with thousands of fields is
        // not one of passnum's.
        if fields > 1_000 {
            return Err("trop de champs".into());
        }
        let name = field.name().unwrap_or_default().to_string();
        if name == "documents" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(|e| e.to_string())?;
            // A file input left empty still sends an empty part.
            if !bytes.is_empty() || !file_name.is_empty() {
                files.push((file_name, bytes.to_vec()));
            }
            continue;
        }
        let value: String = field
            .text()
            .await
            .map_err(|e| e.to_string())?
            .chars()
            .take(3000)
            .collect();
        match name.as_str() {
            "csrf" => csrf = value,
            "number" => f.number = value,
            "name" => f.name = value,
            "legal_representative" => f.legal_representative = value,
            "address" => f.address = value,
            "postcode" => f.postcode = value,
            "commune" => f.commune = value,
            "contact" => f.contact = value,
            "opening_hours" => f.opening_hours = value,
            "accessibility" => f.accessibility = value,
            "applicant_name" => f.applicant_name = value,
            "email" => f.email = value,
            "password" => f.password = value,
            "charter" => f.charter = !value.is_empty(),
            other => {
                if let Some(code) = other.strip_prefix("s_") {
                    f.services.insert(code.chars().take(20).collect(), value);
                }
            }
        }
    }
    Ok((f, files, csrf))
}

/// At most five applications an hour from one client: enough for a network of venues
/// applying from one office, too few to fill the queue.
pub fn application_limit() -> passnum_app::throttle::PerClientLimit {
    passnum_app::throttle::PerClientLimit::new(
        5,
        3_600_000,
        std::num::NonZeroUsize::new(100_000).expect("non-zero"),
    )
}

pub async fn submit(
    State(st): State<AppState>,
    crate::deploy::ClientIp(client): crate::deploy::ClientIp,
    headers: HeaderMap,
    upload: ApplicationUpload,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let Some((f, files)) = upload.read else {
        let mut p = page(&st, &csrf, ApplicationFields::default()).await?;
        p.errors.add(
            "documents",
            "Le formulaire n'a pas pu être lu en entier : les documents dépassent sans doute 5 Mo chacun. Réduisez-les et recommencez.",
        );
        return Ok(render(StatusCode::PAYLOAD_TOO_LARGE, &p, &csrf));
    };
    // What was typed comes back, bounded, whatever happens next (never the password).
    let kept_fields = ApplicationFields {
        number: kept(&f.number, 40),
        name: kept(&f.name, MAX_NAME_CHARS),
        legal_representative: kept(&f.legal_representative, MAX_ADDRESS_CHARS),
        address: kept(&f.address, MAX_ADDRESS_CHARS),
        postcode: kept(&f.postcode, 10),
        commune: kept(&f.commune, MAX_NAME_CHARS),
        contact: kept(&f.contact, MAX_ADDRESS_CHARS),
        opening_hours: f.opening_hours.chars().take(600).collect(),
        accessibility: f.accessibility.chars().take(600).collect(),
        applicant_name: kept(&f.applicant_name, MAX_NAME_CHARS),
        email: kept(&f.email, MAX_EMAIL_CHARS),
        password: String::new(),
        charter: f.charter,
        services: f.services.clone(),
    };
    let mut p = page(&st, &csrf, kept_fields).await?;
    let files_again = "Les documents joints ne sont pas conservés : joignez-les à nouveau.";
    if !upload.token_ok {
        p.errors.add("number", super::STALE_FORM_KEPT);
        if !files.is_empty() {
            p.errors.add("documents", files_again);
        }
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    if !st.applications.allow(client, st.clock.now()) {
        p.errors.add(
            "number",
            "Trop de candidatures envoyées depuis votre connexion : réessayez dans une heure, ou écrivez à l'opérateur du programme.",
        );
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &p, &csrf));
    }
    let sent_files = !files.is_empty();
    let checked = check_fields(&st, &f, files, &mut p);
    let Some((number, commune, catalogue, documents)) = checked else {
        if sent_files {
            p.errors.add("documents", files_again);
        }
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
    };
    // Hashing holds 19 MiB: bounded with sign-in's checks.
    let Some(_permit) = st.password_checks.try_start() else {
        p.errors.add(
            "password",
            "Le service est très sollicité : renvoyez le formulaire dans un instant.",
        );
        p.errors.add("documents", files_again);
        return Ok(render(StatusCode::SERVICE_UNAVAILABLE, &p, &csrf));
    };
    let Ok(hash) = passnum_app::passwords::hash_password(f.password).await else {
        return Err(PageError::Unavailable);
    };
    let app = NewApplication {
        venue: NewVenue {
            siret: number,
            name: f.name,
            commune,
            status: VenueStatus::Applied,
            qualified_until: None,
            address: f.address,
            contact: f.contact,
            services: vec![],
        },
        legal_representative: f.legal_representative,
        catalogue,
        opening_hours: f.opening_hours,
        accessibility: f.accessibility,
        applicant_email: f.email,
        applicant_name: f.applicant_name,
        password_hash: hash,
        documents,
    };
    let now = st.clock.now();
    let admin = match st.store.submit_application(&app, now).await {
        Ok((_, admin)) => admin,
        Err(StoreError::Conflict { code, message })
        | Err(StoreError::Invalid { code, message }) => {
            let field = match code {
                "email_taken" | "invalid_email" => "email",
                "siret_taken" => "number",
                "too_many_documents" => "documents",
                _ => "name",
            };
            p.errors.add(field, message);
            p.errors.add("documents", files_again);
            return Ok(render(StatusCode::CONFLICT, &p, &csrf));
        }
        Err(e) => return Err(PageError::unavailable(e, "candidature")),
    };
    let token = st
        .store
        .create_session(admin.id, now, SESSION_TTL_MS)
        .await
        .map_err(|e| PageError::unavailable(e, "candidature"))?;
    let mut r = Redirect::to("/lieu/dossier?depose=1").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, &token, SESSION_TTL_MS / 1000))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// Every field checked at once, each problem on its field; the parsed parts when none.
fn check_fields(
    st: &AppState,
    f: &ApplicationFields,
    files: Vec<SentFile>,
    p: &mut ApplicationPage,
) -> Option<(OrgNumber, InseeCode, Catalogue, Vec<Document>)> {
    let e = &mut p.errors;
    let number = OrgNumber::parse(&f.number)
        .map_err(|x| e.add("number", x.to_string()))
        .ok();
    for (field, value, what) in [
        ("name", &f.name, "Indiquez le nom du lieu."),
        (
            "legal_representative",
            &f.legal_representative,
            "Indiquez le nom et la fonction du représentant légal.",
        ),
        ("address", &f.address, "Indiquez l'adresse du lieu."),
        (
            "contact",
            &f.contact,
            "Indiquez comment prendre rendez-vous : téléphone, adresse électronique ou site.",
        ),
        ("applicant_name", &f.applicant_name, "Indiquez votre nom."),
    ] {
        if value.trim().is_empty() {
            e.add(field, what);
        }
    }
    for (field, text) in [
        ("opening_hours", &f.opening_hours),
        ("accessibility", &f.accessibility),
    ] {
        if text.trim().chars().count() > 500 {
            e.add(field, "500 caractères au plus.");
        }
    }
    let commune = communes()
        .locate(&f.postcode, &f.commune)
        .map_err(|x| e.add("postcode", x.to_string()))
        .ok()
        .and_then(|c| InseeCode::parse(c.insee).ok());
    let pairs: Vec<(&str, &str)> = f
        .services
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(c, v)| (c.as_str(), v.as_str()))
        .collect();
    let first_service = p
        .groups
        .first()
        .and_then(|g| g.services.first())
        .map(|s| format!("s_{}", s.code))
        .unwrap_or_default();
    let e = &mut p.errors;
    let catalogue = match Catalogue::parse(pairs, |c| st.store.service_is_known(c)) {
        Ok(c) if c.is_empty() => {
            e.add(
                &first_service,
                "Choisissez au moins un service que votre lieu propose.",
            );
            None
        }
        Ok(c) => Some(c),
        Err(x) => {
            e.add(&first_service, x.to_string());
            None
        }
    };
    if passnum_store::normalize_email(&f.email).is_err() {
        e.add(
            "email",
            "Indiquez votre adresse électronique, par exemple nom@association.fr.",
        );
    }
    if let Some(problem) = passnum_app::passwords::password_problem(&f.password) {
        e.add("password", problem);
    }
    let mut documents = vec![];
    if files.len() > MAX_DOCUMENTS {
        e.add(
            "documents",
            passnum_core::application::DocumentError::TooMany.to_string(),
        );
    }
    for (name, bytes) in files.into_iter().take(MAX_DOCUMENTS) {
        match Document::check(&name, bytes) {
            Ok(d) => documents.push(d),
            Err(x) => e.add("documents", x.to_string()),
        }
    }
    if !f.charter {
        e.add(
            "charter",
            "Cochez la case pour accepter la charte du programme : sans elle, la candidature ne peut pas être enregistrée.",
        );
    }
    let (Some(number), Some(commune), Some(catalogue)) = (number, commune, catalogue) else {
        return None;
    };
    p.errors
        .is_empty()
        .then_some((number, commune, catalogue, documents))
}
