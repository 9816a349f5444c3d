//! The operator's observers: the State's programme team or a territorial hub, created here,
//! and the funders and territories whose figures each one reads (granted or withdrawn one at
//! a time). Their
//! staff accounts are made on "Comptes" with the role "Observateur".

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::territory::Level;
use passnum_core::text::{MAX_NAME_CHARS, kept};
use passnum_core::{FunderId, ObserverId};
use passnum_store::{OBSERVER_KINDS, Observer, StaffMember, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::ui::session::{Csrf, OperatorStaff};
use crate::ui::{FieldErrors, Layout, PageError, Submitted, render};

#[derive(Template)]
#[template(path = "operateur_observateurs.html")]
struct ObserversPage {
    layout: Layout,
    observers: Vec<Observer>,
    funders: Vec<(i64, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    name: String,
    kind: String,
    errors: FieldErrors,
}

impl ObserversPage {
    fn kind_label(&self, kind: &str) -> &'static str {
        OBSERVER_KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or("Autre", |(_, l)| l)
    }
    fn territories_of(&self, o: &Observer) -> String {
        if o.territories.is_empty() {
            return "Aucun territoire".into();
        }
        let names: Vec<String> = o
            .territories
            .iter()
            .map(|(l, c)| super::territory_label(*l, c))
            .collect();
        format!("Territoires : {}", names.join(", "))
    }
}

async fn observers_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
) -> Result<ObserversPage, PageError> {
    let unavailable = |e| PageError::unavailable(e, "observateurs");
    Ok(ObserversPage {
        layout: Layout::new("Observateurs", Some(staff), csrf, "/operateur/observateurs"),
        observers: st.store.list_observers().await.map_err(unavailable)?,
        funders: st
            .store
            .list_funders(500, 0)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|f| (f.id.0, f.name))
            .collect(),
        kinds: OBSERVER_KINDS.to_vec(),
        levels: Level::ALL.iter().map(|l| (l.slug(), l.label())).collect(),
        name: String::new(),
        kind: "etat".into(),
        errors: FieldErrors::default(),
    })
}

pub async fn page(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let p = observers_page(&st, &staff, &csrf).await?;
    Ok(render(StatusCode::OK, &p, &csrf))
}

#[derive(Deserialize)]
pub struct ObserverForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<ObserverForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = observers_page(&st, &staff, &csrf).await?;
    page.name = kept(&f.name, MAX_NAME_CHARS);
    page.kind = f.kind.clone();
    if !token_ok {
        page.errors.add("name", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    match st
        .store
        .create_observer(&f.name, &f.kind, st.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to("/operateur/observateurs").into_response()),
        Err(StoreError::Invalid { code, message }) => {
            page.errors.add(
                if code == "invalid_kind" {
                    "kind"
                } else {
                    "name"
                },
                message,
            );
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(StoreError::Conflict { message, .. }) => {
            page.errors.add("name", message);
            Ok(render(StatusCode::CONFLICT, &page, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "observateurs")),
    }
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    funder: String,
    /// "ouvrir" or "retirer".
    #[serde(default)]
    action: String,
}

pub async fn grant(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<GrantForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let funder = f.funder.trim().parse::<i64>().ok().filter(|n| *n > 0);
    let granted = match f.action.as_str() {
        "ouvrir" => Some(true),
        "retirer" => Some(false),
        _ => None,
    };
    let mut page = observers_page(&st, &staff, &csrf).await?;
    let (Some(funder), Some(granted), true) = (funder, granted, token_ok) else {
        page.errors.add(
            &format!("funder-{id}"),
            if token_ok {
                "Choisissez un commanditaire dans la liste, puis « Ouvrir ses chiffres »."
            } else {
                crate::ui::STALE_FORM_KEPT
            },
        );
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
    };
    match st
        .store
        .set_observer_grant(ObserverId(id), FunderId(funder), granted, st.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to("/operateur/observateurs").into_response()),
        Err(StoreError::NotFound) => Err(PageError::NotFound {
            heading: "Observateur ou commanditaire introuvable",
            text: "Revenez à la liste des observateurs et choisissez un commanditaire qu'elle propose.",
        }),
        Err(e) => Err(PageError::unavailable(e, "observateurs")),
    }
}

#[derive(Deserialize)]
pub struct TerritoryForm {
    #[serde(default)]
    niveau: String,
    #[serde(default)]
    code: String,
    /// "ouvrir" or "retirer".
    #[serde(default)]
    action: String,
}

pub async fn grant_territory(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<TerritoryForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let key = format!("territory-{id}");
    let granted = match f.action.as_str() {
        "ouvrir" => Some(true),
        "retirer" => Some(false),
        _ => None,
    };
    let mut page = observers_page(&st, &staff, &csrf).await?;
    let (Some(level), Some(granted), true) = (Level::parse(&f.niveau), granted, token_ok) else {
        page.errors.add(
            &key,
            if token_ok {
                "Choisissez un niveau, saisissez le code du territoire, puis « Ouvrir le territoire »."
            } else {
                crate::ui::STALE_FORM_KEPT
            },
        );
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
    };
    match st
        .store
        .set_observer_territory(ObserverId(id), level, &f.code, granted, st.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to("/operateur/observateurs").into_response()),
        Err(StoreError::Invalid { message, .. }) => {
            page.errors.add(
                &key,
                format!("{message} Vérifiez le niveau choisi et le code."),
            );
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(StoreError::NotFound) => Err(PageError::NotFound {
            heading: "Observateur introuvable",
            text: "Revenez à la liste des observateurs.",
        }),
        Err(e) => Err(PageError::unavailable(e, "observateurs")),
    }
}
