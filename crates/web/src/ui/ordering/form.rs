//! The new-order form: its fields, the multipart upload read whole with its CSRF token checked, and the creation of a draft.

use super::*;

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
    pub epcis: String,
    pub departements: String,
    pub regions: String,
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
pub(super) struct NewOrderPage {
    layout: Layout,
    f: OrderFields,
    errors: FieldErrors,
    /// (legend, inputs) of each group of simple inputs.
    groups: Vec<(&'static str, Vec<Input>)>,
    publics: Vec<(&'static str, &'static str, bool)>,
}

pub(super) fn page(layout: Layout, f: OrderFields, errors: FieldErrors) -> NewOrderPage {
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
                    "epcis",
                    "Intercommunalités (numéros SIREN des EPCI)",
                    "par exemple 200046977 pour la Métropole de Lyon",
                    &f.epcis,
                ),
                input(
                    "departements",
                    "Départements",
                    "par exemple 69, 01",
                    &f.departements,
                ),
                input(
                    "regions",
                    "Régions (codes INSEE)",
                    "par exemple 84 pour Auvergne-Rhône-Alpes, 53 pour la Bretagne",
                    &f.regions,
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
pub(super) async fn read_form(
    mut m: Multipart,
) -> Result<(OrderFields, String, Option<Vec<u8>>), String> {
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
            "epcis" => f.epcis = value,
            "departements" => f.departements = value,
            "regions" => f.regions = value,
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
    pub(super) read: Option<(OrderFields, Option<Vec<u8>>)>,
    pub(super) token_ok: bool,
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

pub(super) fn list(s: &str) -> Vec<String> {
    s.split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// "État = 50" per line (or separated by commas) → (source, basis points).
pub(super) fn funding_lines(s: &str, errors: &mut FieldErrors) -> Vec<(String, i64)> {
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

pub(super) fn number(field: &str, s: &str, what: &str, errors: &mut FieldErrors) -> i64 {
    match s.trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, format!("Indiquez {what} (un nombre entier)."));
            0
        }
    }
}

/// A logo that passed its checks, with its kind.
type CheckedLogo = (passnum_core::order_options::LogoKind, Vec<u8>);

/// The typed fields as an order and its logo, or every problem on its field.
fn parse_order(
    f: &OrderFields,
    logo: Option<Vec<u8>>,
    errors: &mut FieldErrors,
) -> Option<(NewOrder, Option<CheckedLogo>)> {
    let booklets = number("booklets", &f.booklets, "le nombre de carnets", errors);
    let per = number(
        "per_booklet",
        &f.per_booklet,
        "le nombre de chèques par carnet",
        errors,
    );
    let tolerance = number("tolerance", &f.tolerance, "la tolérance en jours", errors);
    let face = Money::parse_euros(&f.face_value)
        .map_err(|e| errors.add("face_value", e.to_string()))
        .ok();
    let mut date = |field: &str, s: &str| {
        crate::api::dto::date_in(field, &crate::ui::funder::french_date(s))
            .map_err(|_| errors.add(field, "Indiquez une date au format JJ/MM/AAAA."))
            .ok()
    };
    let from = date("from", &f.from);
    let until = date("until", &f.until);
    let funding = funding_lines(&f.funding, errors);
    let logo = match logo {
        None => None,
        Some(bytes) => match sniff_logo(&bytes) {
            Ok(kind) if passnum_print::Logo::parse(kind, &bytes).is_ok() => Some((kind, bytes)),
            Ok(_) => {
                errors.add(
                    "logo",
                    passnum_core::order_options::LogoError::Unreadable.to_string(),
                );
                None
            }
            Err(e) => {
                errors.add("logo", e.to_string());
                None
            }
        },
    };
    let (Some(face), Some(from), Some(until)) = (face, from, until) else {
        return None;
    };
    if !errors.is_empty() {
        return None;
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
        perimeter_epcis: list(&f.epcis),
        perimeter_regions: list(&f.regions),
    })
    .map_err(|e| {
        use passnum_core::OrderError as E;
        use passnum_core::PlaceError as P;
        let field = match &e {
            E::BookletCount | E::TooManyCheques => "booklets",
            E::ChequesPerBooklet => "per_booklet",
            E::FaceValue | E::Money(_) => "face_value",
            E::DatesOutOfOrder => "until",
            E::Tolerance => "tolerance",
            E::Perimeter(P::UnknownEpci(_)) => "epcis",
            E::Perimeter(P::UnknownRegion(_)) => "regions",
            E::Perimeter(P::BadDepartement(_)) => "departements",
            E::Perimeter(_) => "communes",
        };
        (field, e.to_string())
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
            (field, e.to_string())
        })
    });
    match order {
        Ok(o) => Some((o, logo)),
        Err((field, message)) => {
            errors.add(field, message);
            None
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
        errors.add("booklets", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page(layout(), f, errors), &csrf);
    }
    let Some((order, logo)) = parse_order(&f, logo, &mut errors) else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(layout(), f, errors),
            &csrf,
        );
    };
    let created = match st
        .store
        .create_draft_order(funder, &order, st.clock.now())
        .await
    {
        Ok(o) => o,
        Err(StoreError::Invalid { message, .. }) => {
            errors.add("booklets", message);
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(layout(), f, errors),
                &csrf,
            );
        }
        Err(e) => return crate::ui::PageError::unavailable(e, "nouvelle commande").into_response(),
    };
    if let Some((kind, bytes)) = logo
        && let Err(e) = st.store.set_order_logo(created.id, kind, &bytes).await
    {
        return crate::ui::PageError::unavailable(e, "logo").into_response();
    }
    Redirect::to(&format!("/commanditaire/commandes/{}", created.id.0)).into_response()
}
