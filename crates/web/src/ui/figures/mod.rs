//! "Chiffres": whether the money reaches people. The operator sees the whole programme, a
//! funder its own orders. Four views — the journey (funnel, months, structures), territories
//! and publics, venues and services, usage (depth, delays, untouched booklets, cohorts) — each
//! table with a chart where it helps, each downloadable as CSV and as a spreadsheet.

pub mod anomalies;
mod depth;
pub mod observers;
mod sections;
pub(crate) mod table;

pub(crate) use sections::last_months;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use passnum_core::territory::Level;
use passnum_store::{FigureScope, StaffMember};
use serde::Deserialize;

use self::sections::Section;
use super::session::{Csrf, FunderStaff, ObserverStaff, OperatorStaff};
use super::{Layout, PageError, render};
use crate::AppState;

/// The views of the page, in the order of its menu.
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Journey,
    Territories,
    Venues,
    Usage,
}

impl View {
    const ALL: [View; 4] = [View::Journey, View::Territories, View::Venues, View::Usage];
    fn slug(self) -> &'static str {
        match self {
            View::Journey => "parcours",
            View::Territories => "territoires",
            View::Venues => "lieux",
            View::Usage => "usage",
        }
    }
    fn label(self) -> &'static str {
        match self {
            View::Journey => "Parcours des carnets",
            View::Territories => "Territoires et publics",
            View::Venues => "Lieux et services",
            View::Usage => "Usage des carnets",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct FiguresQuery {
    #[serde(default)]
    vue: Option<String>,
    #[serde(default)]
    niveau: Option<String>,
    #[serde(default)]
    tableau: Option<String>,
}

/// What the query asks for, parsed once; anything unknown is a page that says so.
struct Asked {
    view: View,
    level: Level,
}

fn unknown(what: &'static str) -> PageError {
    PageError::NotFound {
        heading: "Ces chiffres n'existent pas",
        text: what,
    }
}

fn asked(q: &FiguresQuery) -> Result<Asked, PageError> {
    let view = match q.vue.as_deref() {
        None | Some("") => View::Journey,
        Some(v) => View::ALL
            .into_iter()
            .find(|x| x.slug() == v)
            .ok_or_else(|| {
                unknown(
                    "Cette vue n'existe pas : choisissez-en une dans le menu de la page Chiffres.",
                )
            })?,
    };
    let level = match q.niveau.as_deref() {
        None | Some("") => Level::Commune,
        Some(l) => Level::parse(l).ok_or_else(|| {
            unknown("Ce niveau de territoire n'existe pas : choisissez commune, intercommunalité, département ou région.")
        })?,
    };
    Ok(Asked { view, level })
}

async fn sections_of(
    st: &AppState,
    scope: &FigureScope,
    a: &Asked,
) -> Result<Vec<Section>, PageError> {
    let now = st.clock.now();
    let store = &st.store;
    match a.view {
        View::Journey => sections::journey(store, scope, now).await,
        View::Territories => sections::territories(store, scope, a.level).await,
        View::Venues => sections::venues_and_services(store, scope).await,
        View::Usage => depth::usage(store, scope, now).await,
    }
    .map_err(|e| PageError::unavailable(e, "chiffres"))
}

pub struct ViewLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct LevelChoice {
    pub slug: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct SectionView {
    pub slug: &'static str,
    pub title: String,
    pub intro: String,
    pub chart: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub download: String,
}

#[derive(Template)]
#[template(path = "chiffres.html")]
struct FiguresPage {
    layout: Layout,
    perimeter: String,
    base: &'static str,
    views: Vec<ViewLink>,
    view_label: &'static str,
    levels: Vec<LevelChoice>,
    sections: Vec<SectionView>,
    empty: bool,
}

async fn perimeter(st: &AppState, scope: &FigureScope) -> Result<String, PageError> {
    Ok(match scope {
        FigureScope::All => "Tout le programme".to_string(),
        FigureScope::Funders(list) => {
            let mut names = vec![];
            for f in list {
                let funder = st
                    .store
                    .get_funder(*f)
                    .await
                    .map_err(|e| PageError::unavailable(e, "chiffres"))?;
                names.push(funder.name);
            }
            format!("Les commandes de {}", names.join(", "))
        }
        // An observer's page says it itself (see `observer_perimeter`).
        FigureScope::Orders(_) => String::new(),
    })
}

/// What an observer is granted, in words.
fn observer_perimeter(o: &passnum_store::Observer, orders: usize) -> String {
    if o.funders.is_empty() && o.territories.is_empty() {
        return "Aucun commanditaire ni territoire ne vous est encore ouvert : demandez-le à \
                l'opérateur du programme"
            .into();
    }
    let mut parts = vec![];
    if !o.funders.is_empty() {
        let names: Vec<&str> = o.funders.iter().map(|(_, n)| n.as_str()).collect();
        parts.push(format!("les commandes de {}", names.join(", ")));
    }
    if !o.territories.is_empty() {
        let names: Vec<String> = o
            .territories
            .iter()
            .map(|(l, c)| territory_label(*l, c))
            .collect();
        parts.push(format!(
            "celles dont le périmètre est dans {}",
            names.join(", ")
        ));
    }
    let s = if orders > 1 { "s" } else { "" };
    let mut text = parts.join(" et ");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    format!("{text} ({orders} commande{s})")
}

/// "Rhône (département)".
pub fn territory_label(level: Level, code: &str) -> String {
    let name = passnum_core::territory::name_of(level, code).unwrap_or(code);
    format!("{name} ({})", level.label().to_lowercase())
}

async fn page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    scope: &FigureScope,
    base: &'static str,
    q: &FiguresQuery,
) -> Result<FiguresPage, PageError> {
    let a = asked(q)?;
    let list = sections_of(st, scope, &a).await?;
    let level_param = if a.view == View::Territories {
        format!("&niveau={}", a.level.slug())
    } else {
        String::new()
    };
    let sections = list
        .into_iter()
        .map(|s| SectionView {
            slug: s.table.slug,
            download: format!(
                "vue={}{level_param}&tableau={}",
                a.view.slug(),
                s.table.slug
            ),
            title: s.table.title.clone(),
            intro: s.intro,
            chart: s.chart.unwrap_or_default(),
            headers: s.table.columns.iter().map(|c| c.label).collect(),
            rows: s
                .table
                .rows
                .iter()
                .map(|r| r.iter().map(table::Cell::shown).collect())
                .collect(),
        })
        .collect();
    let has_orders = st
        .store
        .figures_have_orders(scope)
        .await
        .map_err(|e| PageError::unavailable(e, "chiffres"))?;
    Ok(FiguresPage {
        layout: Layout::new("Chiffres du programme", Some(staff), csrf, base),
        perimeter: perimeter(st, scope).await?,
        base,
        views: View::ALL
            .into_iter()
            .map(|v| ViewLink {
                label: v.label(),
                href: format!("{base}?vue={}", v.slug()),
                current: v == a.view,
            })
            .collect(),
        view_label: a.view.label(),
        levels: if a.view == View::Territories {
            Level::ALL
                .into_iter()
                .map(|l| LevelChoice {
                    slug: l.slug(),
                    label: l.label(),
                    selected: l == a.level,
                })
                .collect()
        } else {
            vec![]
        },
        sections,
        empty: !has_orders,
    })
}

/// One table of a view, as CSV or as a spreadsheet.
async fn download(
    st: &AppState,
    scope: &FigureScope,
    q: &FiguresQuery,
    xlsx: bool,
) -> Result<Response, PageError> {
    let a = asked(q)?;
    let wanted = q.tableau.as_deref().unwrap_or("entonnoir");
    let table = sections_of(st, scope, &a)
        .await?
        .into_iter()
        .map(|s| s.table)
        .find(|t| t.slug == wanted)
        .ok_or_else(|| {
            unknown(
                "Ce tableau n'existe pas dans cette vue : téléchargez-le depuis la page Chiffres.",
            )
        })?;
    let (body, kind, ext) = if xlsx {
        let bytes = table
            .to_xlsx()
            .map_err(|e| PageError::unavailable(e, "chiffres (tableur)"))?;
        (
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (
            table.to_csv().into_bytes(),
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    Ok(crate::ui::download(
        body,
        kind,
        &format!("chiffres-{}.{ext}", table.slug),
    ))
}

pub async fn funder_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let scope = FigureScope::funder(funder);
    let p = page(&st, &staff, &csrf, &scope, "/commanditaire/chiffres", &q).await?;
    Ok(render(StatusCode::OK, &p, &csrf))
}

pub async fn operator_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let p = page(
        &st,
        &staff,
        &csrf,
        &FigureScope::All,
        "/operateur/chiffres",
        &q,
    )
    .await?;
    Ok(render(StatusCode::OK, &p, &csrf))
}

/// An observer's perimeter: the orders of the funders and territories it is granted (none
/// yet: an empty perimeter, said so).
async fn observer_scope(
    st: &AppState,
    o: passnum_core::ObserverId,
) -> Result<(FigureScope, String), PageError> {
    let (observer, scope) = st
        .store
        .observer_scope(o)
        .await
        .map_err(|e| PageError::unavailable(e, "chiffres"))?;
    let orders = match &scope {
        FigureScope::Orders(list) => list.len(),
        _ => 0,
    };
    Ok((scope, observer_perimeter(&observer, orders)))
}

pub async fn observer_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    ObserverStaff(staff, observer): ObserverStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let (scope, perimeter) = observer_scope(&st, observer).await?;
    let mut p = page(&st, &staff, &csrf, &scope, "/observatoire/chiffres", &q).await?;
    p.perimeter = perimeter;
    Ok(render(StatusCode::OK, &p, &csrf))
}

pub async fn observer_csv(
    State(st): State<AppState>,
    ObserverStaff(_, observer): ObserverStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    download(&st, &observer_scope(&st, observer).await?.0, &q, false).await
}

pub async fn observer_xlsx(
    State(st): State<AppState>,
    ObserverStaff(_, observer): ObserverStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    download(&st, &observer_scope(&st, observer).await?.0, &q, true).await
}

pub async fn funder_csv(
    State(st): State<AppState>,
    FunderStaff(_, funder): FunderStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    download(&st, &FigureScope::funder(funder), &q, false).await
}

pub async fn funder_xlsx(
    State(st): State<AppState>,
    FunderStaff(_, funder): FunderStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    download(&st, &FigureScope::funder(funder), &q, true).await
}

pub async fn operator_csv(
    State(st): State<AppState>,
    OperatorStaff(_): OperatorStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    download(&st, &FigureScope::All, &q, false).await
}

pub async fn operator_xlsx(
    State(st): State<AppState>,
    OperatorStaff(_): OperatorStaff,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    download(&st, &FigureScope::All, &q, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_with_the_current_one() {
        let now = passnum_core::Timestamp::from_offset_datetime(
            time::macros::datetime!(2026-12-04 10:00 UTC),
        );
        let months = sections::last_months(now);
        assert_eq!(months.len(), 12);
        assert_eq!((months[0].1.key, months[11].1.key), (202601, 202612));
        assert!(months.windows(2).all(|w| w[0].1.to == w[1].1.from));
    }

    #[test]
    fn an_unknown_view_or_level_is_refused_not_guessed() {
        let q = |vue: &str, niveau: &str| FiguresQuery {
            vue: Some(vue.into()),
            niveau: Some(niveau.into()),
            tableau: None,
        };
        assert!(asked(&q("usage", "epci")).is_ok());
        assert!(asked(&q("tout", "")).is_err());
        assert!(asked(&q("territoires", "canton")).is_err());
    }
}
