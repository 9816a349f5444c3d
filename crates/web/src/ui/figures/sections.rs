//! The tables and charts of each view of "Chiffres", built from the store's figures. Each
//! function reads what its view needs (a few statements over the rollups) and returns its
//! sections in page order.

use passnum_app::activity::Month;
use passnum_core::Timestamp;
use passnum_core::territory::{self, Level};
use passnum_store::{
    FigureScope, MonthSpan, PublicLabels, ServiceLine, Store, StoreError, TerritoryLine,
};

use super::table::{Cell, Table, col, percent, thousands};
use crate::ui::charts::{Bar, columns, horizontal_bars};

/// Months shown, the current one included.
pub const MONTHS: usize = 12;
/// Lines drawn in a chart; the table beside it has them all.
const CHART_LINES: usize = 12;

/// A table with, where it helps, a chart of the same figures and a sentence to read them by.
pub struct Section {
    pub table: Table,
    pub intro: String,
    pub chart: Option<String>,
}

fn section(table: Table, intro: impl Into<String>, chart: Option<String>) -> Section {
    Section {
        table,
        intro: intro.into(),
        chart,
    }
}

fn bar(label: impl Into<String>, value: i64, shown: String) -> Bar {
    Bar {
        label: label.into(),
        value,
        shown,
        note: String::new(),
    }
}

/// The last [`MONTHS`] Paris months, oldest first.
pub fn last_months(now: Timestamp) -> Vec<(Month, MonthSpan)> {
    passnum_app::activity::last_months(now, MONTHS)
}

/// "Parcours": the funnel, month by month, per structure.
pub async fn journey(
    store: &Store,
    scope: &FigureScope,
    now: Timestamp,
) -> Result<Vec<Section>, StoreError> {
    let f = store.funnel(scope).await?;
    let mut steps = vec![
        ("Carnets achetés", f.bought),
        ("Confiés aux structures", f.allocated),
        ("Remis à des personnes", f.handed_out),
        ("Avec un atelier réservé", f.booked),
        ("Avec au moins un chèque utilisé", f.first_used),
    ];
    // A programme organised by territory: the booklets its member territories received, held
    // or passed on (a step no other programme has, so not shown at zero).
    if f.via_territories > 0 {
        steps.insert(1, ("Répartis aux territoires membres", f.via_territories));
    }
    let mut rows: Vec<Vec<Cell>> = steps
        .iter()
        .map(|(label, n)| {
            vec![
                Cell::Text((*label).into()),
                Cell::Int(*n),
                Cell::Text(String::new()),
                Cell::Percent(percent(*n, f.bought)),
            ]
        })
        .collect();
    rows.push(vec![
        Cell::Text("Chèques utilisés".into()),
        Cell::Int(f.cheques_used),
        Cell::Cents(f.used_cents),
        Cell::Percent(None),
    ]);
    rows.push(vec![
        Cell::Text("Chèques payés aux lieux".into()),
        Cell::Int(f.cheques_paid),
        Cell::Cents(f.paid_cents),
        Cell::Percent(None),
    ]);
    let bars: Vec<Bar> = steps
        .iter()
        .map(|(label, n)| {
            let share = percent(*n, f.bought).map_or_else(|| "—".into(), |p| format!("{p} %"));
            bar(*label, *n, format!("{} ({share})", thousands(*n)))
        })
        .collect();
    let funnel = section(
        Table {
            slug: "entonnoir",
            title: "Du carnet acheté au chèque payé".into(),
            columns: vec![
                col("etape", "Étape"),
                col("nombre", "Nombre"),
                col("montant_centimes", "Montant"),
                col("part_des_carnets_achetes_pct", "Part des carnets achetés"),
            ],
            rows,
        },
        format!(
            "{} carnets achetés, {} remis à des personnes, {} avec au moins un chèque utilisé.",
            thousands(f.bought),
            thousands(f.handed_out),
            thousands(f.first_used)
        ),
        Some(horizontal_bars(
            "entonnoir",
            "Du carnet acheté au chèque utilisé",
            "Nombre de carnets à chaque étape ; le tableau qui suit donne les chiffres.",
            &bars,
        )),
    );
    Ok(vec![
        funnel,
        months_section(store, scope, now).await?,
        structures_section(store, scope).await?,
    ])
}

async fn months_section(
    store: &Store,
    scope: &FigureScope,
    now: Timestamp,
) -> Result<Section, StoreError> {
    let months = last_months(now);
    let spans: Vec<MonthSpan> = months.iter().map(|(_, s)| *s).collect();
    let per = store.monthly_figures(scope, &spans).await?;
    let bars: Vec<Bar> = months
        .iter()
        .zip(&per)
        .enumerate()
        .map(|(i, ((m, _), f))| Bar {
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
    let rows = months
        .iter()
        .zip(&per)
        .rev()
        .map(|((m, _), f)| {
            vec![
                Cell::Text(m.slug()),
                Cell::Text(m.label()),
                Cell::Int(f.handed_out),
                Cell::Int(f.cheques_used),
                Cell::Cents(f.used_cents),
            ]
        })
        .collect();
    Ok(section(
        Table {
            slug: "mois",
            title: "Mois par mois".into(),
            columns: vec![
                col("mois", "Code"),
                col("libelle", "Mois"),
                col("carnets_remis", "Carnets remis"),
                col("cheques_utilises", "Chèques utilisés"),
                col("montant_utilise_centimes", "Montant utilisé"),
            ],
            rows,
        },
        "Les douze derniers mois, du plus récent au plus ancien.",
        Some(columns(
            "mois",
            "Chèques utilisés par mois",
            "Chèques utilisés chacun des douze derniers mois ; le tableau qui suit donne les chiffres.",
            &bars,
        )),
    ))
}

async fn structures_section(store: &Store, scope: &FigureScope) -> Result<Section, StoreError> {
    let rows = store
        .funnel_by_structure(scope)
        .await?
        .into_iter()
        .map(|s| {
            vec![
                Cell::Text(s.name),
                Cell::Int(s.allocated),
                Cell::Int(s.handed_out),
                Cell::Int(s.booked),
                Cell::Int(s.first_used),
                Cell::Percent(percent(s.first_used, s.handed_out)),
                Cell::Int(s.cheques_used),
            ]
        })
        .collect();
    Ok(section(
        Table {
            slug: "structures",
            title: "Par structure qui remet les carnets".into(),
            columns: vec![
                col("structure", "Structure"),
                col("carnets_confies", "Confiés"),
                col("carnets_remis", "Remis"),
                col("avec_atelier_reserve", "Avec un atelier réservé"),
                col("avec_cheque_utilise", "Avec un chèque utilisé"),
                col("part_des_remis_utilises_pct", "Part des remis utilisés"),
                col("cheques_utilises", "Chèques utilisés"),
            ],
            rows,
        },
        "Les structures qui ont reçu le plus de carnets d'abord (500 au plus).",
        None,
    ))
}

/// Lines of handouts grouped at `level` (communes summed into their territory), the most
/// handouts first.
fn group_territories(
    lines: &[TerritoryLine],
    level: Level,
) -> Vec<(String, String, TerritoryLine)> {
    let mut by: std::collections::BTreeMap<String, TerritoryLine> = Default::default();
    for l in lines {
        let code = territory::code_of(&l.code, level)
            .map_or_else(|| format!("?{}", l.code), str::to_owned);
        let t = by.entry(code).or_default();
        t.handed_out += l.handed_out;
        t.first_used += l.first_used;
        t.cheques_used += l.cheques_used;
        t.used_cents += l.used_cents;
    }
    let mut out: Vec<(String, String, TerritoryLine)> = by
        .into_iter()
        .map(|(code, t)| {
            let name = match code.strip_prefix('?') {
                Some(insee) => format!("Commune inconnue ({insee})"),
                None => territory::name_of(level, &code).unwrap_or("—").to_string(),
            };
            (code, name, t)
        })
        .collect();
    out.sort_by(|a, b| b.2.handed_out.cmp(&a.2.handed_out).then(a.1.cmp(&b.1)));
    out
}

fn use_rows(lines: &[(String, String, TerritoryLine)]) -> Vec<Vec<Cell>> {
    lines
        .iter()
        .map(|(code, name, t)| {
            vec![
                Cell::Text(code.trim_start_matches('?').to_string()),
                Cell::Text(name.clone()),
                Cell::Int(t.handed_out),
                Cell::Int(t.first_used),
                Cell::Percent(percent(t.first_used, t.handed_out)),
                Cell::Int(t.cheques_used),
                Cell::Cents(t.used_cents),
            ]
        })
        .collect()
}

fn use_bars(lines: &[(String, String, TerritoryLine)]) -> Vec<Bar> {
    lines
        .iter()
        .take(CHART_LINES)
        .map(|(_, name, t)| bar(name.clone(), t.handed_out, thousands(t.handed_out)))
        .collect()
}

const USE_COLUMNS: [(&str, &str); 5] = [
    ("carnets_remis", "Carnets remis"),
    ("avec_cheque_utilise", "Avec un chèque utilisé"),
    ("part_utilises_pct", "Part utilisés"),
    ("cheques_utilises", "Chèques utilisés"),
    ("montant_utilise_centimes", "Montant utilisé"),
];

/// "Territoires": where the people who received a booklet live, at `level`, and their
/// priority publics.
pub async fn territories(
    store: &Store,
    scope: &FigureScope,
    level: Level,
) -> Result<Vec<Section>, StoreError> {
    let residence = store.figures_by_residence(scope).await?;
    let labels = store.public_labels(scope).await?;
    let communes: Vec<TerritoryLine> = residence.iter().map(|r| r.line.clone()).collect();
    let grouped = group_territories(&communes, level);
    let mut columns = vec![col("code", "Code"), col("nom", level.label())];
    columns.extend(USE_COLUMNS.iter().map(|(k, l)| col(k, l)));
    let chart = (!grouped.is_empty()).then(|| {
        horizontal_bars(
            "territoires",
            &format!("Carnets remis par {}", level.label().to_lowercase()),
            "Les territoires où le plus de carnets ont été remis ; le tableau qui suit les donne tous.",
            &use_bars(&grouped),
        )
    });
    let places = section(
        Table {
            slug: "territoires",
            title: format!("Par {} de résidence", level.label().to_lowercase()),
            columns,
            rows: use_rows(&grouped),
        },
        "La commune est celle que la structure a notée à la remise du carnet.",
        chart,
    );
    let mut publics: std::collections::BTreeMap<String, TerritoryLine> = Default::default();
    for r in &residence {
        let l = &r.line;
        let codes: Vec<&str> = r.publics.split(',').filter(|c| !c.is_empty()).collect();
        let codes = if codes.is_empty() { vec![""] } else { codes };
        for c in codes {
            let t = publics.entry(c.to_string()).or_default();
            t.handed_out += l.handed_out;
            t.first_used += l.first_used;
            t.cheques_used += l.cheques_used;
            t.used_cents += l.used_cents;
        }
    }
    let mut publics: Vec<(String, String, TerritoryLine)> = publics
        .into_iter()
        .map(|(code, t)| {
            let name = if code.is_empty() {
                "Aucun public prioritaire noté".to_string()
            } else {
                labels.label(&code)
            };
            (code, name, t)
        })
        .collect();
    // National publics first: they compare across funders; a funder's own publics follow.
    let own = |code: &str| !code.is_empty() && !PublicLabels::is_national(code);
    publics
        .sort_by(|a, b| (own(&a.0), b.2.handed_out, &a.1).cmp(&(own(&b.0), a.2.handed_out, &b.1)));
    let mut columns = vec![col("code", "Code"), col("public", "Public")];
    columns.extend(USE_COLUMNS.iter().map(|(k, l)| col(k, l)));
    let chart = (!publics.is_empty()).then(|| {
        horizontal_bars(
            "publics",
            "Carnets remis par public prioritaire",
            "Carnets remis à chaque public ; une personne peut relever de plusieurs.",
            &use_bars(&publics),
        )
    });
    Ok(vec![
        places,
        section(
            Table {
                slug: "publics",
                title: "Par public prioritaire".into(),
                columns,
                rows: use_rows(&publics),
            },
            "Une personne peut relever de plusieurs publics : elle compte sous chacun. Les sept \
             publics nationaux viennent d'abord et se comparent d'un commanditaire à l'autre ; \
             les publics propres à un programme suivent.",
            chart,
        ),
    ])
}

/// Sums of cheques per key of the service lines (level, category, service or format).
fn by_key<'a>(
    lines: &'a [ServiceLine],
    key: impl Fn(&'a ServiceLine) -> (String, String),
) -> Vec<(String, String, i64, i64)> {
    let mut by: std::collections::BTreeMap<(String, String), (i64, i64)> = Default::default();
    for l in lines {
        let e = by.entry(key(l)).or_default();
        e.0 += l.cheques_used;
        e.1 += l.used_cents;
    }
    by.into_iter()
        .map(|((c, n), (k, e))| (c, n, k, e))
        .collect()
}

fn cheque_table(
    slug: &'static str,
    title: &str,
    what: &'static str,
    lines: &[(String, String, i64, i64)],
) -> Table {
    Table {
        slug,
        title: title.into(),
        columns: vec![
            col("code", "Code"),
            col("libelle", what),
            col("cheques_utilises", "Chèques utilisés"),
            col("montant_utilise_centimes", "Montant utilisé"),
        ],
        rows: lines
            .iter()
            .map(|(code, name, n, cents)| {
                vec![
                    Cell::Text(code.clone()),
                    Cell::Text(name.clone()),
                    Cell::Int(*n),
                    Cell::Cents(*cents),
                ]
            })
            .collect(),
    }
}

/// "Lieux et services": where cheques are used and for what.
pub async fn venues_and_services(
    store: &Store,
    scope: &FigureScope,
) -> Result<Vec<Section>, StoreError> {
    let venues = store.figures_by_venue(scope).await?;
    let communes = passnum_core::commune::communes();
    let venue_bars: Vec<Bar> = venues
        .iter()
        .take(CHART_LINES)
        .map(|v| bar(v.name.clone(), v.cheques_used, thousands(v.cheques_used)))
        .collect();
    let venue_table = Table {
        slug: "lieux",
        title: "Par lieu de médiation".into(),
        columns: vec![
            col("lieu", "Lieu"),
            col("commune", "Commune"),
            col("cheques_utilises", "Chèques utilisés"),
            col("montant_utilise_centimes", "Montant utilisé"),
            col("cheques_payes", "Chèques payés"),
            col("montant_paye_centimes", "Montant payé"),
        ],
        rows: venues
            .iter()
            .map(|v| {
                vec![
                    Cell::Text(v.name.clone()),
                    Cell::Text(
                        communes
                            .name_of(&v.commune_insee)
                            .unwrap_or(&v.commune_insee)
                            .to_string(),
                    ),
                    Cell::Int(v.cheques_used),
                    Cell::Cents(v.used_cents),
                    Cell::Int(v.cheques_paid),
                    Cell::Cents(v.paid_cents),
                ]
            })
            .collect(),
    };
    let lines = store.figures_by_service(scope).await?;
    let levels = by_key(&lines, |l| (l.level.to_string(), l.level_name.clone()));
    let categories = by_key(&lines, |l| {
        (l.category_code.clone(), l.category_name.clone())
    });
    let services = by_key(&lines, |l| (l.service_code.clone(), l.service_name.clone()));
    let formats = by_key(&lines, |l| {
        let name = match l.format.as_str() {
            "individual" => "Rendez-vous individuel",
            "collective" => "Atelier collectif",
            _ => "Sans atelier enregistré",
        };
        (l.format.clone(), name.to_string())
    });
    let bars = |list: &[(String, String, i64, i64)]| -> Vec<Bar> {
        list.iter()
            .map(|(_, n, k, _)| bar(n.clone(), *k, thousands(*k)))
            .collect()
    };
    let chart = |id: &str, title: &str, list: &[(String, String, i64, i64)]| {
        (!list.is_empty()).then(|| {
            horizontal_bars(
                id,
                title,
                "Chèques utilisés ; le tableau qui suit donne les chiffres.",
                &bars(list),
            )
        })
    };
    Ok(vec![
        section(
            venue_table,
            "Les lieux où le plus de chèques ont été utilisés d'abord (500 au plus).",
            (!venue_bars.is_empty()).then(|| {
                horizontal_bars(
                    "lieux",
                    "Chèques utilisés par lieu",
                    "Les lieux où le plus de chèques ont été utilisés ; le tableau qui suit les donne tous.",
                    &venue_bars,
                )
            }),
        ),
        section(
            cheque_table("niveaux", "Par niveau du référentiel", "Niveau", &levels),
            "Le niveau du service noté à chaque chèque.",
            chart("niveaux", "Chèques utilisés par niveau", &levels),
        ),
        section(
            cheque_table("categories", "Par catégorie de services", "Catégorie", &categories),
            "",
            chart("categories", "Chèques utilisés par catégorie", &categories),
        ),
        section(
            cheque_table("services", "Par service", "Service", &services),
            "",
            None,
        ),
        section(
            cheque_table("formats", "Par format d'atelier", "Format", &formats),
            "Un chèque scanné sans atelier compte « sans atelier enregistré ».",
            chart("formats", "Chèques utilisés par format", &formats),
        ),
    ])
}
