//! "Usage": how deeply and how soon the booklets handed out are used — the programme's known
//! failure was booklets "achetés mais peu utilisés".

use passnum_core::Timestamp;
use passnum_store::{FigureScope, MonthSpan, Store, StoreError};

use super::sections::{Section, last_months};
use super::table::{Cell, Table, col, percent, thousands};
use crate::ui::charts::{Bar, columns};

/// Cheques in a booklet in most programmes; a booklet with more counts in the last column.
const CHEQUES_SHOWN: usize = 10;

/// Delay buckets, in whole days from the handout to the first cheque: (label, from, to).
const DELAYS: [(&str, i64, i64); 6] = [
    ("Avant la remise enregistrée", i64::MIN, -1),
    ("Le jour même", 0, 0),
    ("De 1 à 7 jours", 1, 7),
    ("De 8 à 30 jours", 8, 30),
    ("De 31 à 90 jours", 31, 90),
    ("Plus de 90 jours", 91, i64::MAX),
];

pub async fn usage(
    store: &Store,
    scope: &FigureScope,
    now: Timestamp,
) -> Result<Vec<Section>, StoreError> {
    let d = store.usage_depth(scope, now, CHEQUES_SHOWN).await?;
    let handed: i64 = d.by_cheques.iter().sum();
    let bars: Vec<Bar> = d
        .by_cheques
        .iter()
        .enumerate()
        .map(|(n, k)| Bar {
            label: if n == CHEQUES_SHOWN {
                format!("{n}+")
            } else {
                n.to_string()
            },
            value: *k,
            shown: thousands(*k),
            note: String::new(),
        })
        .collect();
    let depth = Section {
        table: Table {
            slug: "profondeur",
            title: "Carnets remis selon le nombre de chèques utilisés".into(),
            columns: vec![
                col("cheques_utilises", "Chèques utilisés"),
                col("carnets", "Carnets"),
                col("part_pct", "Part des carnets remis"),
            ],
            rows: d
                .by_cheques
                .iter()
                .enumerate()
                .map(|(n, k)| {
                    vec![
                        Cell::Text(if n == CHEQUES_SHOWN {
                            format!("{n} ou plus")
                        } else {
                            n.to_string()
                        }),
                        Cell::Int(*k),
                        Cell::Percent(percent(*k, handed)),
                    ]
                })
                .collect(),
        },
        intro: format!(
            "{} carnet{} remis, dont {} sans aucun chèque utilisé.",
            thousands(handed),
            if handed > 1 { "s" } else { "" },
            thousands(d.by_cheques.first().copied().unwrap_or(0))
        ),
        chart: (handed > 0).then(|| {
            columns(
                "profondeur",
                "Carnets remis selon le nombre de chèques utilisés",
                "Nombre de carnets remis pour chaque nombre de chèques utilisés, de 0 à 10 ; le tableau qui suit donne les chiffres.",
                &bars,
            )
        }),
    };
    let used: i64 = d.first_use_days.iter().map(|(_, n)| n).sum();
    let delays = Section {
        table: Table {
            slug: "delais",
            title: "Délai entre la remise et le premier chèque utilisé".into(),
            columns: vec![
                col("delai", "Délai"),
                col("carnets", "Carnets"),
                col("part_pct", "Part des carnets utilisés"),
            ],
            rows: DELAYS
                .iter()
                .map(|(label, from, to)| {
                    let n: i64 = d
                        .first_use_days
                        .iter()
                        .filter(|(days, _)| days >= from && days <= to)
                        .map(|(_, n)| n)
                        .sum();
                    vec![
                        Cell::Text((*label).into()),
                        Cell::Int(n),
                        Cell::Percent(percent(n, used)),
                    ]
                })
                .collect(),
        },
        intro: match d.median_first_use_days() {
            Some(days) => format!(
                "Délai médian : {days} jour{}, sur {} carnets dont un chèque a été utilisé.",
                if days.abs() > 1 { "s" } else { "" },
                thousands(used)
            ),
            None => "Aucun carnet remis n'a encore servi.".into(),
        },
        chart: None,
    };
    let untouched = untouched(&d);
    Ok(vec![
        depth,
        delays,
        untouched,
        cohorts(store, scope, now).await?,
    ])
}

/// Booklets with no cheque used within 30 (90) days of their handout.
fn untouched(d: &passnum_store::UsageDepth) -> Section {
    Section {
        table: Table {
            slug: "inutilises",
            title: "Carnets restés sans usage après leur remise".into(),
            columns: vec![
                col("apres", "Après"),
                col("carnets_remis_depuis", "Carnets remis depuis au moins ce délai"),
                col("sans_cheque_utilise", "Sans chèque utilisé dans ce délai"),
                col("part_pct", "Part"),
            ],
            rows: [
                ("30 jours", d.handed_30, d.untouched_30),
                ("90 jours", d.handed_90, d.untouched_90),
            ]
            .iter()
            .map(|(label, h, u)| {
                vec![
                    Cell::Text((*label).into()),
                    Cell::Int(*h),
                    Cell::Int(*u),
                    Cell::Percent(percent(*u, *h)),
                ]
            })
            .collect(),
        },
        intro: "Les carnets remis dont aucun chèque n'a servi dans les 30 (ou 90) jours suivant la remise : à relancer.".into(),
        chart: None,
    }
}

async fn cohorts(
    store: &Store,
    scope: &FigureScope,
    now: Timestamp,
) -> Result<Section, StoreError> {
    let months = last_months(now);
    let spans: Vec<MonthSpan> = months.iter().map(|(_, s)| *s).collect();
    let list = store.cohorts(scope, &spans).await?;
    let rows = months
        .iter()
        .zip(&list)
        .rev()
        .map(|((m, _), c)| {
            // Cheques per booklet, in hundredths, shown with a decimal comma.
            let per = (c.handed_out > 0)
                .then(|| (c.cheques_used * 100 + c.handed_out / 2) / c.handed_out);
            vec![
                Cell::Text(m.slug()),
                Cell::Text(m.label()),
                Cell::Int(c.handed_out),
                Cell::Int(c.first_used),
                Cell::Percent(percent(c.first_used, c.handed_out)),
                Cell::Int(c.cheques_used),
                Cell::Text(
                    per.map_or_else(|| "—".into(), |p| format!("{},{:02}", p / 100, p % 100)),
                ),
            ]
        })
        .collect();
    Ok(Section {
        table: Table {
            slug: "cohortes",
            title: "Cohortes par mois de remise".into(),
            columns: vec![
                col("mois", "Code"),
                col("libelle", "Mois de remise"),
                col("carnets_remis", "Carnets remis"),
                col("avec_cheque_utilise", "Avec un chèque utilisé depuis"),
                col("part_utilises_pct", "Part utilisés"),
                col("cheques_utilises", "Chèques utilisés depuis"),
                col("cheques_par_carnet", "Chèques par carnet"),
            ],
            rows,
        },
        intro: "Les carnets remis chaque mois, et ce qu'ils sont devenus depuis.".into(),
        chart: None,
    })
}
