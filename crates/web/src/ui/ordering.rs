//! Ordering from the funder's pages: a new order (draft) with its options and logo, then
//! confirmation or cancellation, and the printable booklets and letter once issued. The
//! operator records payments and issues orders from its order list.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::order::OrderRequest;
use passnum_core::order_options::{OrderOptionsRequest, Public, parse_percent, sniff_logo};
use passnum_core::{Money, NewOrder, OrderId, OrderStatus, paris};
use passnum_store::StoreError;
use serde::Deserialize;

use super::PageError;
use super::session::{Csrf, FunderOrder, FunderStaff, OperatorStaff};
use super::{FieldErrors, Layout, render};
use super::{PageForm, Submitted};
use crate::AppState;
use crate::api::capitalize;

/// The order form, as typed (kept on error so nothing is lost).
#[derive(Default, Clone)]
pub struct OrderFields {
    pub booklets: String,
    pub per_booklet: String,
    pub face_value: String,
    pub from: String,
    pub until: String,
    pub tolerance: String,
    pub communes: String,
    pub departements: String,
    pub publics: Vec<String>,
    pub cover_text: String,
    pub funding: String,
}

/// One text input of the form, with its error if any.
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "nouvelle_commande.html")]
struct NewOrderPage {
    layout: Layout,
    f: OrderFields,
    errors: FieldErrors,
    /// (legend, inputs) of each group of simple inputs.
    groups: Vec<(&'static str, Vec<Input>)>,
    publics: Vec<(&'static str, &'static str, bool)>,
}

fn page(layout: Layout, f: OrderFields, errors: FieldErrors) -> NewOrderPage {
    let publics = Public::ALL
        .iter()
        .map(|p| {
            (
                p.as_str(),
                p.label(),
                f.publics.iter().any(|x| x == p.as_str()),
            )
        })
        .collect();
    let input = |name, label, hint, value: &str| Input {
        name,
        label,
        hint,
        value: value.to_string(),
        error: errors.get(name).map(str::to_string),
    };
    let groups = vec![
        (
            "Carnets",
            vec![
                input(
                    "booklets",
                    "Nombre de carnets",
                    "par exemple 500",
                    &f.booklets,
                ),
                input(
                    "per_booklet",
                    "Chèques par carnet",
                    "10 d'habitude",
                    &f.per_booklet,
                ),
                input(
                    "face_value",
                    "Valeur d'un chèque en euros",
                    "10 d'habitude",
                    &f.face_value,
                ),
            ],
        ),
        (
            "Validité",
            vec![
                input("from", "Premier jour de validité", "JJ/MM/AAAA", &f.from),
                input("until", "Dernier jour de validité", "JJ/MM/AAAA", &f.until),
                input(
                    "tolerance",
                    "Tolérance après la fin de validité, en jours",
                    "les lieux acceptent encore les chèques pendant ce délai",
                    &f.tolerance,
                ),
            ],
        ),
        (
            "Territoire (laissez vide pour tous les lieux qualifiés)",
            vec![
                input(
                    "communes",
                    "Communes (codes INSEE)",
                    "séparés par des virgules, par exemple 69123, 69266",
                    &f.communes,
                ),
                input(
                    "departements",
                    "Départements",
                    "par exemple 69, 01",
                    &f.departements,
                ),
            ],
        ),
    ];
    NewOrderPage {
        layout,
        f,
        errors,
        groups,
        publics,
    }
}

pub async fn form(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, _funder): FunderStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let today = paris::local_date(st.clock.now());
    let f = OrderFields {
        per_booklet: "10".into(),
        face_value: "10".into(),
        tolerance: "30".into(),
        from: crate::api::dto::date_out(today),
        until: crate::api::dto::date_out(today.replace_year(today.year() + 1).unwrap_or(today)),
        ..Default::default()
    };
    let layout = Layout::new("Nouvelle commande", Some(&staff), &csrf, "/commanditaire");
    render(
        StatusCode::OK,
        &page(layout, f, FieldErrors::default()),
        &csrf,
    )
}

/// Reads the multipart form: text fields, then at most one logo file (bounded by the body
/// limit of the route).
async fn read_form(mut m: Multipart) -> Result<(OrderFields, String, Option<Vec<u8>>), String> {
    let mut f = OrderFields::default();
    let mut csrf = String::new();
    let mut logo = None;
    while let Some(field) = m.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "logo" {
            let bytes = field.bytes().await.map_err(|e| e.to_string())?;
            if !bytes.is_empty() {
                logo = Some(bytes.to_vec());
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
            "booklets" => f.booklets = value,
            "per_booklet" => f.per_booklet = value,
            "face_value" => f.face_value = value,
            "from" => f.from = value,
            "until" => f.until = value,
            "tolerance" => f.tolerance = value,
            "communes" => f.communes = value,
            "departements" => f.departements = value,
            "publics" => f.publics.push(value),
            "cover_text" => f.cover_text = value,
            "funding" => f.funding = value,
            _ => {}
        }
    }
    Ok((f, csrf, logo))
}

/// The multipart order form (fields and logo), its CSRF token checked before the handler
/// runs. `read` is `None` when the body could not be read whole (a file over the route's
/// body limit, most often).
pub struct UploadForm {
    read: Option<(OrderFields, Option<Vec<u8>>)>,
    token_ok: bool,
}

impl axum::extract::FromRequest<AppState> for UploadForm {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, st: &AppState) -> Result<Self, PageError> {
        let csrf = Csrf::from_headers(req.headers());
        let m = Multipart::from_request(req, st)
            .await
            .map_err(|_| PageError::BadForm)?;
        Ok(match read_form(m).await {
            Ok((fields, token, logo)) => Self {
                read: Some((fields, logo)),
                token_ok: csrf.matches(&token),
            },
            Err(_) => Self {
                read: None,
                token_ok: false,
            },
        })
    }
}

fn list(s: &str) -> Vec<String> {
    s.split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// "État = 50" per line (or separated by commas) → (source, basis points).
fn funding_lines(s: &str, errors: &mut FieldErrors) -> Vec<(String, i64)> {
    let mut out = vec![];
    for line in s
        .split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let parsed = line
            .rsplit_once(['=', ':'])
            .and_then(|(src, pct)| Some((src.trim().to_string(), parse_percent(pct)?)));
        match parsed {
            Some(p) => out.push(p),
            None => {
                errors.add(
                    "funding",
                    format!(
                        "« {line} » : écrivez une source et sa part, par exemple « FEDER = 21 »."
                    ),
                );
                return vec![];
            }
        }
    }
    out
}

fn number(field: &str, s: &str, what: &str, errors: &mut FieldErrors) -> i64 {
    match s.trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, format!("Indiquez {what} (un nombre entier)."));
            0
        }
    }
}

pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    upload: UploadForm,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let layout = || Layout::new("Nouvelle commande", Some(&staff), &csrf, "/commanditaire");
    let (f, logo) = match upload.read {
        Some(x) => x,
        None => {
            let mut errors = FieldErrors::default();
            errors.add(
                "logo",
                "Le formulaire n'a pas pu être lu en entier (fichier trop lourd ?) : le logo pèse 512 Ko au plus.",
            );
            return render(
                StatusCode::PAYLOAD_TOO_LARGE,
                &page(layout(), OrderFields::default(), errors),
                &csrf,
            );
        }
    };
    let mut errors = FieldErrors::default();
    if !upload.token_ok {
        errors.add("booklets", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page(layout(), f, errors), &csrf);
    }
    let booklets = number("booklets", &f.booklets, "le nombre de carnets", &mut errors);
    let per = number(
        "per_booklet",
        &f.per_booklet,
        "le nombre de chèques par carnet",
        &mut errors,
    );
    let tolerance = number(
        "tolerance",
        &f.tolerance,
        "la tolérance en jours",
        &mut errors,
    );
    let face = Money::parse_euros(&f.face_value)
        .map_err(|e| errors.add("face_value", capitalize(&e.to_string())))
        .ok();
    let mut date = |field: &str, s: &str| {
        crate::api::dto::date_in(field, &super::funder::french_date(s))
            .map_err(|_| errors.add(field, "Indiquez une date au format JJ/MM/AAAA."))
            .ok()
    };
    let from = date("from", &f.from);
    let until = date("until", &f.until);
    let funding = funding_lines(&f.funding, &mut errors);
    let logo = match logo {
        None => None,
        Some(bytes) => {
            match sniff_logo(&bytes) {
                Ok(kind) if passnum_print::Logo::parse(kind, &bytes).is_ok() => Some((kind, bytes)),
                Ok(_) => {
                    errors.add("logo", "Le logo est une image illisible : enregistrez-le de nouveau en PNG ou SVG.");
                    None
                }
                Err(e) => {
                    errors.add("logo", capitalize(&e.to_string()));
                    None
                }
            }
        }
    };
    let (Some(face), Some(from), Some(until)) = (face, from, until) else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(layout(), f, errors),
            &csrf,
        );
    };
    if !errors.is_empty() {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(layout(), f, errors),
            &csrf,
        );
    }
    let order = NewOrder::parse(&OrderRequest {
        booklet_count: booklets,
        cheques_per_booklet: per,
        face_value_cents: face.cents(),
        valid_from: from,
        valid_until: until,
        tolerance_days: tolerance,
        perimeter_communes: list(&f.communes),
        perimeter_departements: list(&f.departements),
    })
    .map_err(|e| {
        use passnum_core::OrderError as E;
        let field = match e {
            E::BookletCount | E::TooManyCheques => "booklets",
            E::ChequesPerBooklet => "per_booklet",
            E::FaceValue | E::Money(_) => "face_value",
            E::DatesOutOfOrder => "until",
            E::Tolerance => "tolerance",
            E::Perimeter(_) => "communes",
        };
        (field, capitalize(&e.to_string()))
    })
    .and_then(|o| {
        o.with_options(&OrderOptionsRequest {
            target_publics: f.publics.clone(),
            cover_text: f.cover_text.clone(),
            funding,
        })
        .map_err(|e| {
            use passnum_core::order_options::OptionsError as E;
            let field = match e {
                E::UnknownPublic(_) => "publics",
                E::CoverTooLong => "cover_text",
                _ => "funding",
            };
            (field, capitalize(&e.to_string()))
        })
    });
    let order = match order {
        Ok(o) => o,
        Err((field, message)) => {
            errors.add(field, message);
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(layout(), f, errors),
                &csrf,
            );
        }
    };
    let created = match st
        .store
        .create_draft_order(funder, &order, st.clock.now())
        .await
    {
        Ok(o) => o,
        Err(StoreError::Invalid { message, .. }) => {
            errors.add("booklets", capitalize(&message));
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(layout(), f, errors),
                &csrf,
            );
        }
        Err(e) => return super::unavailable(e, "nouvelle commande", Some(&staff), &csrf),
    };
    if let Some((kind, bytes)) = logo
        && let Err(e) = st.store.set_order_logo(created.id, kind, &bytes).await
    {
        return super::unavailable(e, "logo", Some(&staff), &csrf);
    }
    Redirect::to(&format!("/commanditaire/commandes/{}", created.id.0)).into_response()
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    confirmation: Option<String>,
    /// For "carnet-perdu": the booklet's number and "perdu" or "vole".
    #[serde(default)]
    carnet: String,
    #[serde(default)]
    motif: String,
    /// For "deplacer": "stock" (the funder's) or a structure's number, the receiving
    /// structure's number, and how many booklets.
    #[serde(default)]
    depuis: String,
    #[serde(default)]
    vers: String,
    #[serde(default)]
    nombre: String,
}

/// The page for an order that is not the funder's (or does not exist: they look the same).
pub(super) const ORDER_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Commande introuvable",
    text: "Cette commande n'existe pas parmi les vôtres.",
};

fn refused(staff: &passnum_store::StaffMember, csrf: &Csrf, e: StoreError) -> Response {
    match e {
        StoreError::Conflict { message, .. } | StoreError::Invalid { message, .. } => {
            super::message(
                StatusCode::CONFLICT,
                Some(staff),
                csrf,
                "Action impossible",
                &capitalize(&message),
            )
        }
        other => super::unavailable(other, "commande", Some(staff), csrf),
    }
}

/// Confirm ("confirmer") or cancel ("annuler", which needs the confirmation box) a draft.
pub async fn action(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, action)): Path<(i64, String)>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = order.id.0;
    let now = st.clock.now();
    let done = match action.as_str() {
        "confirmer" => st.store.confirm_order(order.id, now).await,
        "annuler" if f.confirmation.is_some() => st.store.cancel_order(order.id, now).await,
        "carnet-perdu" => {
            let Ok(number) = f.carnet.trim().parse::<i64>() else {
                return super::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&staff),
                    &csrf,
                    "Numéro de carnet manquant",
                    "Indiquez le numéro du carnet perdu ou volé (imprimé sur sa couverture).",
                );
            };
            if f.confirmation.is_none() {
                return super::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&staff),
                    &csrf,
                    "Déclaration non confirmée",
                    "Cochez la case de confirmation : les chèques non utilisés du carnet seront refusés.",
                );
            }
            return match st
                .store
                .block_booklet(order.id, number, f.motif == "vole", now)
                .await
            {
                Ok(_) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
                Err(StoreError::NotFound) => super::message(
                    StatusCode::NOT_FOUND,
                    Some(&staff),
                    &csrf,
                    "Carnet introuvable",
                    &format!(
                        "Cette commande n'a pas de carnet n° {number} : vérifiez le numéro sur la couverture."
                    ),
                ),
                Err(e) => refused(&staff, &csrf, e),
            };
        }
        "deplacer" => {
            let to = f.vers.trim().parse::<i64>().ok();
            let count = f.nombre.trim().parse::<i64>().ok().filter(|n| *n > 0);
            let (Some(to), Some(count)) = (to, count) else {
                return super::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&staff),
                    &csrf,
                    "Carnets non déplacés",
                    "Choisissez la structure qui reçoit et un nombre de carnets supérieur à zéro : rien n'a été changé.",
                );
            };
            let to = passnum_store::DistributorId(to);
            let moved = match f.depuis.trim() {
                "stock" => {
                    st.store
                        .allocate_booklets(order.id, &[(to, count)], now)
                        .await
                }
                from => match from.parse::<i64>() {
                    Ok(from) => {
                        st.store
                            .transfer_booklets(
                                order.id,
                                passnum_store::DistributorId(from),
                                to,
                                count,
                                now,
                            )
                            .await
                    }
                    Err(_) => return ORDER_NOT_FOUND.into_response(),
                },
            };
            return match moved {
                Ok(()) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
                Err(e) => refused(&staff, &csrf, e),
            };
        }
        "annuler" => {
            return super::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&staff),
                &csrf,
                "Annulation non confirmée",
                "Cochez la case « Je confirme l'annulation » pour annuler la commande.",
            );
        }
        _ => return ORDER_NOT_FOUND.into_response(),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
        Err(e) => refused(&staff, &csrf, e),
    }
}

/// Replaces the logo of an order not yet issued.
pub async fn upload_logo(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    upload: UploadForm,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = order.id.0;
    let bad = |text: &str| {
        super::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&staff),
            &csrf,
            "Logo refusé",
            text,
        )
    };
    let Some((_, logo)) = upload.read else {
        return bad("Le fichier n'a pas pu être lu : le logo pèse 512 Ko au plus.");
    };
    if !upload.token_ok {
        return bad(super::STALE_FORM);
    }
    let Some(bytes) = logo else {
        return bad("Choisissez un fichier PNG ou SVG.");
    };
    let kind = match sniff_logo(&bytes) {
        Ok(k) => k,
        Err(e) => return bad(&capitalize(&e.to_string())),
    };
    if passnum_print::Logo::parse(kind, &bytes).is_err() {
        return bad("Le logo est une image illisible : enregistrez-le de nouveau en PNG ou SVG.");
    }
    match st.store.set_order_logo(order.id, kind, &bytes).await {
        Ok(()) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
        Err(e) => refused(&staff, &csrf, e),
    }
}

pub async fn logo(State(st): State<AppState>, FunderOrder(_, order): FunderOrder) -> Response {
    crate::api::keys::logo_response(&st, order.id)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// "12.pdf" → 12.
fn pdf_number(s: &str) -> Option<i64> {
    s.strip_suffix(".pdf")?
        .parse()
        .ok()
        .filter(|n: &i64| *n > 0)
}

pub async fn booklet(
    State(st): State<AppState>,
    FunderOrder(_, order): FunderOrder,
    Path((_, file)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let n = pdf_number(&file).ok_or(ORDER_NOT_FOUND)?;
    Ok(crate::api::keys::booklet_response(&st, order.id, n)
        .await
        .unwrap_or_else(IntoResponse::into_response))
}

pub async fn letter(State(st): State<AppState>, FunderOrder(_, order): FunderOrder) -> Response {
    crate::api::keys::letter_response(&st, order.id)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The operator records a payment ("paiement") or issues the codes ("emission").
pub async fn operator_action(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path((id, action)): Path<(i64, String)>,
    PageForm(_): PageForm<super::NoFields>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let now = st.clock.now();
    let done = match action.as_str() {
        "paiement" => st.store.record_order_payment(OrderId(id), now).await,
        "emission" => st.store.issue_order(OrderId(id), now).await,
        _ => Err(StoreError::NotFound),
    };
    match done {
        Ok(_) => Redirect::to("/operateur/commandes").into_response(),
        Err(StoreError::NotFound) => super::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Commande introuvable",
            "Cette commande n'existe pas.",
        ),
        Err(e) => refused(&staff, &csrf, e),
    }
}

/// What the order page says about the workflow.
pub fn status_help(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Draft => {
            "Vérifiez la commande puis confirmez-la : la facture de prépaiement sera alors émise."
        }
        OrderStatus::Confirmed => {
            "Commande confirmée : réglez la facture de prépaiement. Les carnets seront émis dès réception du paiement."
        }
        OrderStatus::Paid => {
            "Paiement reçu et cantonné à votre nom : l'opérateur émet les carnets."
        }
        OrderStatus::Issued => {
            "Carnets émis : téléchargez-les pour l'impression, avec le courrier d'accompagnement."
        }
        OrderStatus::Closed => "Commande clôturée.",
        OrderStatus::Cancelled => "Commande annulée : aucun montant n'a été engagé.",
    }
}

#[derive(Template)]
#[template(path = "repartition.html")]
struct AllocationPage {
    layout: Layout,
    id: i64,
    stock: i64,
    distributors: usize,
    fixed: String,
    population: String,
    criteria: String,
    weights: String,
    errors: FieldErrors,
    /// (distributor, name, booklets) of the preview.
    preview: Vec<(i64, String, i64)>,
    /// The preview as "id:n,id:n", sent back to commit it.
    parts: String,
}

#[derive(Deserialize, Default)]
pub struct AllocationForm {
    #[serde(default)]
    etape: String,
    #[serde(default)]
    fixe: String,
    #[serde(default)]
    population: String,
    #[serde(default)]
    criteres: String,
    #[serde(default)]
    poids: String,
    #[serde(default)]
    parts: String,
}

async fn allocation_page(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    csrf: &Csrf,
    order: OrderId,
    f: &AllocationForm,
) -> AllocationPage {
    AllocationPage {
        layout: Layout::new("Répartir les carnets", Some(staff), csrf, "/commanditaire"),
        id: order.0,
        stock: st.store.unallocated_booklets(order).await.unwrap_or(0),
        distributors: st
            .store
            .distributor_ids()
            .await
            .map(|d| d.len())
            .unwrap_or(0),
        fixed: f.fixe.chars().take(10).collect(),
        population: f.population.chars().take(10).collect(),
        criteria: f.criteres.chars().take(200_000).collect(),
        weights: f.poids.chars().take(500).collect(),
        errors: FieldErrors::default(),
        preview: vec![],
        parts: String::new(),
    }
}

pub async fn allocation_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let defaults = AllocationForm {
        fixe: "0".into(),
        population: "70".into(),
        ..Default::default()
    };
    let page = allocation_page(&st, &staff, &csrf, order.id, &defaults).await;
    render(StatusCode::OK, &page, &csrf)
}

/// Previews a key ("apercu"), or commits a previewed allocation ("valider").
pub async fn allocation_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Submitted { form: f, token_ok }: Submitted<AllocationForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = order.id.0;
    let mut page = allocation_page(&st, &staff, &csrf, order.id, &f).await;
    if !token_ok {
        page.errors.add("fixe", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    if f.etape == "valider" {
        let shares: Option<Vec<(passnum_store::DistributorId, i64)>> = f
            .parts
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (d, n) = p.split_once(':')?;
                Some((
                    passnum_store::DistributorId(d.parse().ok()?),
                    n.parse().ok()?,
                ))
            })
            .collect();
        let Some(shares) = shares else {
            page.errors
                .add("fixe", "L'aperçu n'a pas pu être relu : refaites-le.");
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
        };
        return match st
            .store
            .allocate_booklets(order.id, &shares, st.clock.now())
            .await
        {
            Ok(()) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
            Err(StoreError::Invalid { message, .. })
            | Err(StoreError::Conflict { message, .. }) => {
                page.errors.add("fixe", capitalize(&message));
                render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
            }
            Err(e) => super::unavailable(e, "répartition", Some(&staff), &csrf),
        };
    }
    let fixed = match f.fixe.trim() {
        "" => 0,
        s => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                page.errors
                    .add("fixe", "Indiquez un nombre de carnets, 0 ou plus.");
                -1
            }
        },
    };
    let population_weight = match f.population.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                page.errors.add(
                    "population",
                    "Indiquez un poids, un nombre entier positif, ou laissez vide.",
                );
                None
            }
        },
    };
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    let input = crate::allocation::KeyInput {
        criteria_csv: Some(f.criteres.as_str()),
        weights: &f.poids,
        population_weight,
        fixed,
    };
    let key = match crate::allocation::build_key(&st.store, &input).await {
        Ok(Ok(k)) => k,
        Ok(Err(message)) => {
            page.errors.add("criteres", capitalize(&message));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
        }
        Err(e) => return super::unavailable(e, "répartition", Some(&staff), &csrf),
    };
    match key.allocate(page.stock) {
        Ok(shares) => {
            let names: std::collections::HashMap<i64, String> = st
                .store
                .list_distributors(500, 0)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|d| (d.id.0, d.name))
                .collect();
            page.parts = shares
                .iter()
                .map(|(d, n)| format!("{d}:{n}"))
                .collect::<Vec<_>>()
                .join(",");
            page.preview = shares
                .into_iter()
                .map(|(d, n)| (d, names.get(&d).cloned().unwrap_or_default(), n))
                .collect();
            render(StatusCode::OK, &page, &csrf)
        }
        Err(e) => {
            page.errors.add("criteres", capitalize(&e.to_string()));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
    }
}
