//! What each co-funder of an order paid in, what was used at venues and paid to them, what was
//! returned and what is still held — per order and per Paris year, as a page, a CSV and a PDF
//! a FEDER auditor can file. Every column sums to the ledger to the cent.

use super::*;
use crate::ui::figures::table::{Cell, Table, col};
use passnum_store::{FundingAmounts, SourceLine};

fn table(slug: &'static str, title: String, total: &FundingAmounts, lines: &[SourceLine]) -> Table {
    let row = |name: String, share: Option<i64>, a: &FundingAmounts| {
        vec![
            Cell::Text(name),
            Cell::Text(share.map_or_else(String::new, passnum_core::order_options::percent_text)),
            Cell::Cents(a.paid_in),
            Cell::Cents(a.used),
            Cell::Cents(a.paid_to_venues),
            Cell::Cents(a.returned),
            Cell::Cents(a.held()),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = lines
        .iter()
        .map(|l| row(l.source.clone(), l.basis_points, &l.amounts))
        .collect();
    rows.push(row("Total".into(), None, total));
    Table {
        slug,
        title,
        columns: vec![
            col("source", "Source de financement"),
            col("part", "Part"),
            col("verse_centimes", "Versé"),
            col("utilise_centimes", "Utilisé dans les lieux"),
            col("paye_aux_lieux_centimes", "Payé aux lieux"),
            col("rendu_centimes", "Rendu (avoir)"),
            col("encore_detenu_centimes", "Encore détenu"),
        ],
        rows,
    }
}

#[derive(Template)]
#[template(path = "financements.html")]
struct FundingPage {
    layout: Layout,
    intro: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    base: String,
    query: String,
    years: Vec<(i32, bool)>,
}

/// The text of the PDF: a title, the period, then one paragraph per source.
fn pdf_text(t: &Table, heading: &str) -> String {
    let mut out = format!("{}\n{heading}\n\n", t.title);
    for r in &t.rows {
        let cells: Vec<String> = r.iter().map(Cell::shown).collect();
        let share = if cells[1].is_empty() {
            String::new()
        } else {
            format!(" ({})", cells[1])
        };
        out.push_str(&format!(
            "{}{share} : versé {}, utilisé dans les lieux {}, payé aux lieux {}, rendu {}, encore détenu {}.\n\n",
            cells[0], cells[2], cells[3], cells[4], cells[5], cells[6]
        ));
    }
    out.push_str("Montants tirés de la comptabilité de passnum (écritures par commande), répartis entre les sources selon leurs parts au centime près : chaque colonne a pour total le montant de la comptabilité.\n");
    out
}

fn respond(
    t: Table,
    heading: &str,
    format: Option<&str>,
    page: impl FnOnce(Table) -> Response,
) -> Response {
    let (body, kind, ext) = match format {
        Some("csv") => (t.to_csv().into_bytes(), "text/csv; charset=utf-8", "csv"),
        Some("pdf") => match passnum_print::letter::letter_pdf(&pdf_text(&t, heading), None) {
            Ok(b) => (b, "application/pdf", "pdf"),
            Err(e) => return crate::ui::PageError::unavailable(e, "rapport PDF").into_response(),
        },
        _ => return page(t),
    };
    crate::ui::download(body, kind, &format!("{}.{ext}", t.slug))
}

fn shown_rows(t: &Table) -> Vec<Vec<String>> {
    t.rows
        .iter()
        .map(|r| r.iter().map(Cell::shown).collect())
        .collect()
}

#[derive(Deserialize, Default)]
pub struct FundingQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    annee: Option<String>,
}

/// One order's sources.
pub async fn order_funding(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, o): FunderOrder,
    Query(q): Query<FundingQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let (total, lines) = match st.store.order_funding_report(o.id).await {
        Ok(r) => r,
        Err(e) => return crate::ui::PageError::unavailable(e, "financements").into_response(),
    };
    let today = paris::format_date(paris::local_date(st.clock.now()));
    let heading = format!("Arrêté au {today}");
    let t = table(
        "financements-commande",
        format!("Sources de financement de la commande n° {}", o.id.0),
        &total,
        &lines,
    );
    let base = format!("/commanditaire/commandes/{}/financements", o.id.0);
    respond(t, &heading, q.format.as_deref(), |t| {
        let page = FundingPage {
            layout: Layout::new(t.title.clone(), Some(&staff), &csrf, ""),
            intro: format!(
                "{heading}. Chaque montant de la commande est réparti entre ses sources selon leurs parts, au centime près."
            ),
            headers: t.columns.iter().map(|c| c.label).collect(),
            rows: shown_rows(&t),
            base,
            query: String::new(),
            years: vec![],
        };
        render(StatusCode::OK, &page, &csrf)
    })
}

/// A funder's sources over one Paris year, all its orders together.
pub async fn yearly_funding(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(q): Query<FundingQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let this_year = paris::local_date(st.clock.now()).year();
    let year = match q.annee.as_deref().map(str::trim) {
        None | Some("") => this_year,
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (2020..=this_year).contains(&y) => y,
            _ => {
                return crate::ui::message(
                    StatusCode::NOT_FOUND,
                    Some(&staff),
                    &csrf,
                    "Cette année n'est pas proposée",
                    "Choisissez une année dans la liste de la page Financements.",
                );
            }
        },
    };
    let edge = |y: i32| {
        paris::from_local(
            Date::from_calendar_date(y, time::Month::January, 1).expect("1 January"),
            time::Time::MIDNIGHT,
        )
    };
    let (total, lines) = match st
        .store
        .yearly_funding_report(funder, edge(year), edge(year + 1))
        .await
    {
        Ok(r) => r,
        Err(e) => return crate::ui::PageError::unavailable(e, "financements").into_response(),
    };
    let heading = format!("Du 1er janvier au 31 décembre {year} (écritures de l'année)");
    let t = table(
        "financements-annee",
        format!("Sources de financement, année {year}"),
        &total,
        &lines,
    );
    respond(t, &heading, q.format.as_deref(), |t| {
        let page = FundingPage {
            layout: Layout::new(
                t.title.clone(),
                Some(&staff),
                &csrf,
                "/commanditaire/financements",
            ),
            intro: format!(
                "{heading}, toutes vos commandes : les montants de chaque commande sont répartis selon ses propres parts, puis additionnés par source. « Encore détenu » est ici le solde des mouvements de l'année."
            ),
            headers: t.columns.iter().map(|c| c.label).collect(),
            rows: shown_rows(&t),
            base: "/commanditaire/financements".into(),
            query: format!("annee={year}&"),
            years: (2020..=this_year).rev().map(|y| (y, y == year)).collect(),
        };
        render(StatusCode::OK, &page, &csrf)
    })
}
