//! "Chiffres": whether the money reaches people, for the operator (everything) and for a
//! funder (its own orders): the funnel from booklets bought to cheques paid and the last twelve
//! months, each as a chart with its table, each downloadable as CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passnum_app::activity::Month;
use passnum_core::{Money, Timestamp};
use passnum_store::{FigureScope, Funnel, MonthFigures, StaffMember};
use serde::Deserialize;

use super::charts::{Bar, columns, horizontal_bars};
use super::session::{Csrf, FunderStaff, OperatorStaff};
use super::{Layout, PageError, render};
use crate::AppState;

/// Months shown, the current one included.
const MONTHS: usize = 12;

pub struct Step {
    pub label: &'static str,
    pub count: String,
    pub share: String,
}

pub struct StructureLine {
    pub name: String,
    pub allocated: String,
    pub handed_out: String,
    pub booked: String,
    pub first_used: String,
    /// Of the booklets handed out, how many have a cheque used.
    pub used_share: String,
}

pub struct MonthLine {
    pub label: String,
    pub handed_out: i64,
    pub cheques_used: i64,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "chiffres.html")]
struct FiguresPage {
    layout: Layout,
    perimeter: String,
    csv: &'static str,
    funnel_chart: String,
    steps: Vec<Step>,
    months_chart: String,
    months: Vec<MonthLine>,
    structures: Vec<StructureLine>,
    empty: bool,
}

fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `part` in hundredths of `whole`, rounded; none of nothing.
fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}

fn share(part: i64, whole: i64) -> String {
    percent(part, whole).map_or_else(|| "—".into(), |p| format!("{p} %"))
}

/// The steps of the funnel, in booklets, then the cheques.
fn steps(f: &Funnel) -> Vec<(&'static str, i64)> {
    vec![
        ("Carnets achetés", f.bought),
        ("Confiés aux structures", f.allocated),
        ("Remis à des personnes", f.handed_out),
        ("Avec un atelier réservé", f.booked),
        ("Avec au moins un chèque utilisé", f.first_used),
    ]
}

/// The last [`MONTHS`] months, oldest first, and their edges.
fn last_months(now: Timestamp) -> (Vec<Month>, Vec<Timestamp>) {
    let mut months = vec![Month::of(now)];
    while months.len() < MONTHS {
        let before = months[months.len() - 1].previous();
        months.push(before);
    }
    months.reverse();
    let mut edges: Vec<Timestamp> = months.iter().map(|m| m.bounds().0).collect();
    edges.push(months[MONTHS - 1].bounds().1);
    (months, edges)
}

async fn figures(
    st: &AppState,
    scope: FigureScope,
) -> Result<(Funnel, Vec<Month>, Vec<MonthFigures>), PageError> {
    let unavailable = |e| PageError::unavailable(e, "chiffres");
    let funnel = st.store.funnel(scope).await.map_err(unavailable)?;
    let (months, edges) = last_months(st.clock.now());
    let per_month = st
        .store
        .monthly_figures(scope, &edges)
        .await
        .map_err(unavailable)?;
    Ok((funnel, months, per_month))
}

async fn structure_lines(
    st: &AppState,
    scope: FigureScope,
) -> Result<Vec<StructureLine>, PageError> {
    Ok(st
        .store
        .funnel_by_structure(scope)
        .await
        .map_err(|e| PageError::unavailable(e, "chiffres"))?
        .into_iter()
        .map(|f| StructureLine {
            allocated: thousands(f.allocated),
            handed_out: thousands(f.handed_out),
            booked: thousands(f.booked),
            first_used: thousands(f.first_used),
            used_share: share(f.first_used, f.handed_out),
            name: f.name,
        })
        .collect())
}

async fn page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    scope: FigureScope,
    path: &str,
) -> Result<FiguresPage, PageError> {
    let (funnel, months, per_month) = figures(st, scope).await?;
    let structures = structure_lines(st, scope).await?;
    let perimeter = match scope {
        FigureScope::All => "Tout le programme".to_string(),
        FigureScope::Funder(f) => st
            .store
            .get_funder(f)
            .await
            .map(|f| format!("Les commandes de {}", f.name))
            .map_err(|e| PageError::unavailable(e, "chiffres"))?,
    };
    let bars: Vec<Bar> = steps(&funnel)
        .into_iter()
        .map(|(label, n)| Bar {
            label: label.into(),
            value: n,
            shown: format!("{} ({})", thousands(n), share(n, funnel.bought)),
            note: String::new(),
        })
        .collect();
    let month_bars: Vec<Bar> = months
        .iter()
        .zip(&per_month)
        .enumerate()
        .map(|(i, (m, f))| Bar {
            label: format!("{:02}", m.month as u8),
            value: f.cheques_used,
            shown: thousands(f.cheques_used),
            // The year under the first month and under each January.
            note: if i == 0 || m.month == time::Month::January {
                m.year.to_string()
            } else {
                String::new()
            },
        })
        .collect();
    let mut steps: Vec<Step> = steps(&funnel)
        .into_iter()
        .map(|(label, n)| Step {
            label,
            count: thousands(n),
            share: share(n, funnel.bought),
        })
        .collect();
    steps.push(Step {
        label: "Chèques utilisés",
        count: format!(
            "{} ({})",
            thousands(funnel.cheques_used),
            Money::from_cents(funnel.used_cents)
        ),
        share: String::new(),
    });
    steps.push(Step {
        label: "Chèques payés aux lieux",
        count: format!(
            "{} ({})",
            thousands(funnel.cheques_paid),
            Money::from_cents(funnel.paid_cents)
        ),
        share: String::new(),
    });
    Ok(FiguresPage {
        layout: Layout::new("Chiffres du programme", Some(staff), csrf, path),
        csv: if path.starts_with("/operateur") {
            "/operateur/chiffres.csv"
        } else {
            "/commanditaire/chiffres.csv"
        },
        empty: funnel.bought == 0,
        funnel_chart: horizontal_bars(
            "entonnoir",
            "Du carnet acheté au chèque utilisé",
            &format!(
                "{} carnets achetés, {} remis à des personnes, {} avec au moins un chèque utilisé.",
                funnel.bought, funnel.handed_out, funnel.first_used
            ),
            &bars,
        ),
        steps,
        months_chart: columns(
            "mois",
            "Chèques utilisés par mois",
            "Chèques utilisés chacun des douze derniers mois ; le tableau suivant donne les chiffres.",
            &month_bars,
        ),
        months: months
            .iter()
            .zip(per_month)
            .map(|(m, f)| MonthLine {
                label: m.label(),
                handed_out: f.handed_out,
                cheques_used: f.cheques_used,
                amount: Money::from_cents(f.used_cents).to_string(),
            })
            .rev()
            .collect(),
        structures,
        perimeter,
    })
}

pub async fn funder_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let p = page(
        &st,
        &staff,
        &csrf,
        FigureScope::Funder(funder),
        "/commanditaire/chiffres",
    )
    .await?;
    Ok(render(StatusCode::OK, &p, &csrf))
}

pub async fn operator_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let p = page(&st, &staff, &csrf, FigureScope::All, "/operateur/chiffres").await?;
    Ok(render(StatusCode::OK, &p, &csrf))
}

#[derive(Deserialize, Default)]
pub struct CsvQuery {
    /// "entonnoir" (default), "structures" or "mois".
    #[serde(default)]
    tableau: Option<String>,
}

async fn csv(st: &AppState, scope: FigureScope, q: &CsvQuery) -> Result<Response, PageError> {
    let (funnel, months, per_month) = figures(st, scope).await?;
    let (body, name) = match q.tableau.as_deref() {
        None | Some("entonnoir") => {
            let mut out = String::from("\u{feff}etape;nombre;part_des_carnets_achetes_pct\n");
            for (label, n) in steps(&funnel) {
                let pct = percent(n, funnel.bought).map_or_else(String::new, |p| p.to_string());
                out.push_str(&format!("{label};{n};{pct}\n"));
            }
            out.push_str(&format!("Chèques utilisés;{};\n", funnel.cheques_used));
            out.push_str(&format!(
                "Montant utilisé (centimes);{};\n",
                funnel.used_cents
            ));
            out.push_str(&format!("Chèques payés;{};\n", funnel.cheques_paid));
            out.push_str(&format!("Montant payé (centimes);{};\n", funnel.paid_cents));
            (out, "chiffres-entonnoir.csv")
        }
        Some("structures") => {
            let list = st
                .store
                .funnel_by_structure(scope)
                .await
                .map_err(|e| PageError::unavailable(e, "chiffres"))?;
            let mut out = String::from(
                "\u{feff}structure;carnets_confies;carnets_remis;avec_atelier_reserve;avec_cheque_utilise\n",
            );
            for f in list {
                // A structure's name is typed by people: never a formula, never a broken line.
                out.push_str(&format!(
                    "{};{};{};{};{}\n",
                    passnum_app::activity::csv_cell(&f.name),
                    f.allocated,
                    f.handed_out,
                    f.booked,
                    f.first_used
                ));
            }
            (out, "chiffres-structures.csv")
        }
        Some("mois") => {
            let mut out = String::from(
                "\u{feff}mois;carnets_remis;cheques_utilises;montant_utilise_centimes\n",
            );
            for (m, f) in months.iter().zip(&per_month) {
                out.push_str(&format!(
                    "{};{};{};{}\n",
                    m.slug(),
                    f.handed_out,
                    f.cheques_used,
                    f.used_cents
                ));
            }
            (out, "chiffres-mois.csv")
        }
        Some(_) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Tableau inconnu : choisissez « entonnoir », « structures » ou « mois » sur la page Chiffres.",
            )
                .into_response());
        }
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub async fn funder_csv(
    State(st): State<AppState>,
    FunderStaff(_, funder): FunderStaff,
    Query(q): Query<CsvQuery>,
) -> Result<Response, PageError> {
    csv(&st, FigureScope::Funder(funder), &q).await
}

pub async fn operator_csv(
    State(st): State<AppState>,
    OperatorStaff(_): OperatorStaff,
    Query(q): Query<CsvQuery>,
) -> Result<Response, PageError> {
    csv(&st, FigureScope::All, &q).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_the_french_way() {
        assert_eq!(thousands(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(thousands(999), "999");
        assert_eq!(share(1, 3), "33 %");
        assert_eq!(share(2, 3), "67 %");
        assert_eq!(share(5, 0), "—");
    }

    #[test]
    fn twelve_months_end_with_the_current_one() {
        let now = Timestamp::from_offset_datetime(time::macros::datetime!(2026-12-04 10:00 UTC));
        let (months, edges) = last_months(now);
        assert_eq!(months.len(), 12);
        assert_eq!(
            (months[0].slug(), months[11].slug()),
            ("2026-01".into(), "2026-12".into())
        );
        assert_eq!(edges.len(), 13);
        assert!(edges.windows(2).all(|w| w[0] < w[1]));
    }
}
