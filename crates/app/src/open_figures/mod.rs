//! The programme's figures as open data: per Paris month and commune, EPCI, département and
//! the whole programme — booklets handed out, cheques used and their amount, amounts paid to
//! venues, workshops held — plus booklets bought (programme) and cheques used per level of
//! the référentiel, as CSV files with Table Schemas and a `datapackage.json`
//! (schema.data.gouv.fr conventions; see `files`).
//!
//! Statistical secrecy (`passnum_core::secrecy`): counts of people from 1 to 10 and amounts
//! made by fewer than 3 venues or more than 85 % by one are published as `secret`, with
//! secondary suppression along every relation between the files: a département or an EPCI =
//! the sum of its communes, the programme = the sum of the départements = the sum of the
//! levels. Before anything is written the linear attack is run, and an export from which a
//! secret cell could be recomputed is refused.

mod files;

pub use files::{datapackage, schemas};

use std::collections::{BTreeMap, BTreeSet};

use passnum_core::secrecy::{self, Relation};
use passnum_core::territory::{self, Level};
use passnum_store::OpenDataCounts;

/// The value written in place of a secret cell (declared as a missing value in the schemas).
pub const SECRET: &str = "secret";

pub struct OpenFile {
    pub name: String,
    pub contents: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenDataError {
    #[error(
        "Export refusé : {0} case(s) secrète(s) se déduiraient des autres ; rien n'a été écrit."
    )]
    Breach(usize),
}

/// Every cell of the export: areas (communes, EPCIs, départements, the programme, the
/// référentiel's levels, in that order) × months.
struct Grid {
    communes: Vec<String>,
    epcis: Vec<String>,
    departements: Vec<String>,
    levels: Vec<(i64, String)>,
    /// Per commune: its EPCI (index), if any, and its département (index).
    epci_of: Vec<Option<usize>>,
    dep_of: Vec<usize>,
    months: usize,
}

impl Grid {
    fn new(communes: BTreeSet<String>, levels: Vec<(i64, String)>, months: usize) -> Self {
        let code = |c: &String, level| territory::code_of(c, level).map(str::to_string);
        let epcis: Vec<String> = communes
            .iter()
            .filter_map(|c| code(c, Level::Epci))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let departements: Vec<String> = communes
            .iter()
            .map(|c| code(c, Level::Departement).unwrap_or_default())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let position = |list: &[String]| -> BTreeMap<String, usize> {
            list.iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), i))
                .collect()
        };
        let (epci_index, dep_index) = (position(&epcis), position(&departements));
        let epci_of = communes
            .iter()
            .map(|c| code(c, Level::Epci).and_then(|e| epci_index.get(&e).copied()))
            .collect();
        let dep_of = communes
            .iter()
            .map(|c| dep_index[&code(c, Level::Departement).unwrap_or_default()])
            .collect();
        Self {
            communes: communes.into_iter().collect(),
            epcis,
            departements,
            levels,
            epci_of,
            dep_of,
            months,
        }
    }
    fn commune(&self, c: usize, m: usize) -> usize {
        c * self.months + m
    }
    fn epci(&self, e: usize, m: usize) -> usize {
        (self.communes.len() + e) * self.months + m
    }
    fn departement(&self, d: usize, m: usize) -> usize {
        (self.communes.len() + self.epcis.len() + d) * self.months + m
    }
    fn programme(&self, m: usize) -> usize {
        (self.communes.len() + self.epcis.len() + self.departements.len()) * self.months + m
    }
    fn level(&self, l: usize, m: usize) -> usize {
        self.programme(0) + (1 + l) * self.months + m
    }
    fn len(&self) -> usize {
        self.level(self.levels.len(), 0)
    }
    /// "Total = sum of parts" for every month; `with_levels`: the programme is also the sum
    /// of the levels (true of cheques used, not of what is handed out or paid).
    fn relations(&self, with_levels: bool) -> Vec<Relation> {
        // Communes grouped once by département and by EPCI (a scan per group would cost
        // communes × groups at national scale).
        let mut by_dep = vec![vec![]; self.departements.len()];
        let mut by_epci = vec![vec![]; self.epcis.len()];
        for c in 0..self.communes.len() {
            by_dep[self.dep_of[c]].push(c);
            if let Some(e) = self.epci_of[c] {
                by_epci[e].push(c);
            }
        }
        let mut out = vec![];
        for m in 0..self.months {
            for (d, communes) in by_dep.iter().enumerate() {
                out.push(Relation {
                    total: self.departement(d, m),
                    parts: communes.iter().map(|c| self.commune(*c, m)).collect(),
                });
            }
            for (e, communes) in by_epci.iter().enumerate() {
                out.push(Relation {
                    total: self.epci(e, m),
                    parts: communes.iter().map(|c| self.commune(*c, m)).collect(),
                });
            }
            out.push(Relation {
                total: self.programme(m),
                parts: (0..self.departements.len())
                    .map(|d| self.departement(d, m))
                    .collect(),
            });
            if with_levels {
                out.push(Relation {
                    total: self.programme(m),
                    parts: (0..self.levels.len()).map(|l| self.level(l, m)).collect(),
                });
            }
        }
        out
    }

    /// The cells a commune's value counts in: the commune, its EPCI, its département, the
    /// programme.
    fn cells_of(&self, c: usize, m: usize) -> Vec<usize> {
        let mut cells = vec![self.commune(c, m)];
        cells.extend(self.epci_of[c].map(|e| self.epci(e, m)));
        cells.push(self.departement(self.dep_of[c], m));
        cells.push(self.programme(m));
        cells
    }
    fn level_index(&self, level: i64) -> Option<usize> {
        self.levels.iter().position(|(l, _)| *l == level)
    }
}

/// A measure: its values and which cells are hidden.
struct Measure {
    values: Vec<i64>,
    secret: Vec<bool>,
}

fn protect(
    relations: &[Relation],
    values: Vec<i64>,
    primary: Vec<bool>,
) -> Result<Measure, OpenDataError> {
    let mut secret = primary;
    secrecy::protect(&values, &mut secret, relations);
    let leaks = secrecy::recoverable(&secret, relations);
    if !leaks.is_empty() {
        return Err(OpenDataError::Breach(leaks.len()));
    }
    Ok(Measure { values, secret })
}

/// A sum per cell, and per cell the amounts of each venue (for the business rule).
struct Amounts {
    values: Vec<i64>,
    units: Vec<BTreeMap<i64, i64>>,
}

impl Amounts {
    fn new(len: usize) -> Self {
        Self {
            values: vec![0; len],
            units: vec![BTreeMap::new(); len],
        }
    }
    fn add(&mut self, cells: &[usize], venue: i64, cents: i64) {
        for cell in cells {
            self.values[*cell] += cents;
            *self.units[*cell].entry(venue).or_default() += cents;
        }
    }
    fn primary(&self) -> Vec<bool> {
        self.units
            .iter()
            .map(|u| secrecy::amount_is_secret(&u.values().copied().collect::<Vec<_>>()))
            .collect()
    }
}

/// The protected measures, ready to write.
pub struct OpenFigures {
    grid: Grid,
    handed_out: Measure,
    cheques: Measure,
    cents: Measure,
    paid: Measure,
    workshops: Vec<i64>,
    bought: Vec<i64>,
    months: Vec<String>,
    /// Cells hidden in all (primary and secondary).
    pub hidden: usize,
}

/// The same counts as one period: every month's index set to 0 (the public page's totals
/// per département over twelve months, protected as a whole).
pub fn as_one_period(counts: &OpenDataCounts) -> OpenDataCounts {
    let mut c = counts.clone();
    c.handed_out.iter_mut().for_each(|x| x.month = 0);
    c.workshops_held.iter_mut().for_each(|x| x.month = 0);
    c.used.iter_mut().for_each(|x| x.month = 0);
    c.paid.iter_mut().for_each(|x| x.month = 0);
    c.bought = vec![c.bought.iter().sum()];
    c
}

/// Builds and protects the export; `months` are the slugs ("2026-11") in span order.
pub fn build(counts: &OpenDataCounts, months: Vec<String>) -> Result<OpenFigures, OpenDataError> {
    let communes: BTreeSet<String> = counts
        .handed_out
        .iter()
        .map(|c| c.commune.clone())
        .chain(counts.used.iter().map(|u| u.commune.clone()))
        .chain(counts.paid.iter().map(|u| u.commune.clone()))
        .chain(counts.workshops_held.iter().map(|c| c.commune.clone()))
        .collect();
    let mut levels = counts.levels.clone();
    if counts.used.iter().any(|u| u.level == 0) {
        levels.insert(0, (0, "Sans service renseigné".into()));
    }
    let grid = Grid::new(communes, levels, months.len());
    let index: BTreeMap<&str, usize> = grid
        .communes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let n = grid.len();
    let (mut handed, mut workshops, mut cheques) = (vec![0; n], vec![0; n], vec![0; n]);
    for c in &counts.handed_out {
        for cell in grid.cells_of(index[c.commune.as_str()], c.month) {
            handed[cell] += c.n;
        }
    }
    for c in &counts.workshops_held {
        for cell in grid.cells_of(index[c.commune.as_str()], c.month) {
            workshops[cell] += c.n;
        }
    }
    let (mut used, mut paid) = (Amounts::new(n), Amounts::new(n));
    for u in &counts.used {
        let mut cells = grid.cells_of(index[u.commune.as_str()], u.month);
        cells.extend(grid.level_index(u.level).map(|l| grid.level(l, u.month)));
        for cell in &cells {
            cheques[*cell] += u.cheques;
        }
        used.add(&cells, u.venue_id, u.cents);
    }
    for p in &counts.paid {
        paid.add(
            &grid.cells_of(index[p.commune.as_str()], p.month),
            p.venue_id,
            p.cents,
        );
    }
    let (plain, levelled) = (grid.relations(false), grid.relations(true));
    let count_secret = |v: &[i64]| v.iter().map(|n| secrecy::count_is_secret(*n)).collect();
    let (handed_primary, cheques_primary) = (count_secret(&handed), count_secret(&cheques));
    let (used_primary, paid_primary) = (used.primary(), paid.primary());
    // The four measures are protected independently: one thread each (the export is a
    // batch job; at national scale the attack takes seconds per measure).
    let (handed_out, cheques_m, cents_m, paid_m) = std::thread::scope(|s| {
        let a = s.spawn(|| protect(&plain, handed, handed_primary));
        let b = s.spawn(|| protect(&levelled, cheques, cheques_primary));
        let c = s.spawn(|| protect(&levelled, used.values, used_primary));
        let d = protect(&plain, paid.values, paid_primary);
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        (join(a), join(b), join(c), d)
    });
    let (handed_out, cheques_m, cents_m, paid_m) = (handed_out?, cheques_m?, cents_m?, paid_m?);
    let hidden = [&handed_out, &cheques_m, &cents_m, &paid_m]
        .iter()
        .map(|m| m.secret.iter().filter(|s| **s).count())
        .sum();
    let mut bought = counts.bought.clone();
    bought.resize(months.len(), 0);
    Ok(OpenFigures {
        grid,
        handed_out,
        cheques: cheques_m,
        cents: cents_m,
        paid: paid_m,
        workshops,
        bought,
        months,
        hidden,
    })
}

/// A cell as published: `None` when it is secret.
fn published(m: &Measure, i: usize) -> Option<i64> {
    (!m.secret[i]).then(|| m.values[i])
}

/// One line's measures as published, `None` where secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedCells {
    pub handed_out: Option<i64>,
    pub cheques: Option<i64>,
    pub used_cents: Option<i64>,
    pub paid_cents: Option<i64>,
    /// Workshops are not people: never secret.
    pub workshops: i64,
}

impl OpenFigures {
    fn any(&self, i: usize) -> bool {
        self.handed_out.values[i] + self.cheques.values[i] + self.paid.values[i] + self.workshops[i]
            > 0
    }

    fn shown(&self, i: usize) -> PublishedCells {
        PublishedCells {
            handed_out: published(&self.handed_out, i),
            cheques: published(&self.cheques, i),
            used_cents: published(&self.cents, i),
            paid_cents: published(&self.paid, i),
            workshops: self.workshops[i],
        }
    }

    /// The programme's line of each month: (month, the measures as published).
    pub fn programme_rows(&self) -> Vec<(String, PublishedCells)> {
        self.months
            .iter()
            .enumerate()
            .map(|(m, month)| (month.clone(), self.shown(self.grid.programme(m))))
            .collect()
    }

    /// The départements' lines of month `m` with something to count: (code, name, measures).
    pub fn departement_rows(&self, m: usize) -> Vec<(String, String, PublishedCells)> {
        let g = &self.grid;
        g.departements
            .iter()
            .enumerate()
            .filter(|(d, _)| self.any(g.departement(*d, m)))
            .map(|(d, code)| {
                (
                    code.clone(),
                    territory::name_of(Level::Departement, code)
                        .unwrap_or("")
                        .to_string(),
                    self.shown(g.departement(d, m)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::files::MEASURE_COLUMNS;
    use super::*;
    use passnum_store::{CommuneCount, VenueMonthPaid, VenueMonthUse};

    fn used(commune: &str, venue_id: i64, level: i64, cheques: i64) -> VenueMonthUse {
        VenueMonthUse {
            commune: commune.into(),
            month: 0,
            venue_id,
            level,
            cheques,
            cents: cheques * 1_000,
        }
    }

    fn counts() -> OpenDataCounts {
        let c = |commune: &str, n| CommuneCount {
            commune: commune.into(),
            month: 0,
            n,
        };
        let paid = |venue_id| VenueMonthPaid {
            commune: "69123".into(),
            month: 0,
            venue_id,
            cents: 10_000,
        };
        OpenDataCounts {
            // Lyon 40, Villeurbanne 4 (secret), Vénissieux 25: all in the Rhône and in the
            // Métropole de Lyon.
            handed_out: vec![c("69123", 40), c("69266", 4), c("69259", 25)],
            used: vec![
                used("69123", 1, 1, 30),
                used("69123", 2, 1, 20),
                used("69123", 3, 2, 25),
                used("69266", 4, 2, 12),
            ],
            paid: vec![paid(1), paid(2), paid(3)],
            workshops_held: vec![c("69123", 3)],
            bought: vec![120],
            levels: vec![
                (1, "Découvrir".into()),
                (2, "Apprendre".into()),
                (3, "Maîtriser".into()),
            ],
        }
    }

    #[test]
    fn small_counts_are_secret_and_cannot_be_recomputed_from_the_totals() {
        let f = build(&counts(), vec!["2026-11".into()]).unwrap();
        let files = f.files();
        let communes = &files[0].contents;
        // Villeurbanne's 4 booklets are secret, and Vénissieux's 25 too, else 69 − 40 − 25
        // gives them back; its amount comes from one venue, so Lyon's amount is hidden too.
        assert!(
            communes
                .contains("\n2026-11,69266,Villeurbanne,200046977,69,secret,12,secret,0.00,0\n"),
            "{communes}"
        );
        assert!(
            communes.contains("\n2026-11,69259,Vénissieux,200046977,69,secret,0,0.00,0.00,0\n"),
            "{communes}"
        );
        assert!(
            communes.contains("\n2026-11,69123,Lyon,200046977,69,40,75,secret,300.00,3\n"),
            "{communes}"
        );
        let line = "69,87,870.00,300.00,3\n";
        assert_eq!(
            files[1].contents,
            format!(
                "mois,code_epci,nom_epci,{MEASURE_COLUMNS}\n2026-11,200046977,Métropole de Lyon,{line}"
            )
        );
        assert_eq!(
            files[2].contents,
            format!(
                "mois,code_departement,nom_departement,{MEASURE_COLUMNS}\n2026-11,69,Rhône,{line}"
            )
        );
        assert_eq!(
            files[3].contents,
            format!("mois,carnets_achetes,{MEASURE_COLUMNS}\n2026-11,120,{line}")
        );
        // Each level's amount comes from two venues: secret; the programme's from four.
        assert_eq!(
            files[4].contents,
            "mois,niveau,nom_niveau,cheques_utilises,montant_utilise_euros\n\
             2026-11,1,Découvrir,50,secret\n2026-11,2,Apprendre,37,secret\n"
        );
        assert!(f.hidden >= 6);
    }

    #[test]
    fn every_schema_names_the_columns_its_file_writes() {
        let f = build(&counts(), vec!["2026-11".into()]).unwrap();
        for (file, (schema_name, schema)) in f.files().iter().zip(schemas()) {
            assert_eq!(schema_name.replace(".schema.json", ".csv"), file.name);
            let header: Vec<&str> = file.contents.lines().next().unwrap().split(',').collect();
            let fields: Vec<&str> = schema["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap())
                .collect();
            assert_eq!(header, fields);
        }
        assert_eq!(
            datapackage("2026-12-04")["resources"]
                .as_array()
                .unwrap()
                .len(),
            6
        );
    }

    /// The published booklets-handed-out cell of `code` in a file, `None` if secret.
    fn handed_out_of(contents: &str, code: &str) -> Option<Option<i64>> {
        contents.lines().skip(1).find_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[1] == code).then(|| {
                let col = cells.len() - 5;
                cells[col].parse().ok()
            })
        })
    }

    #[test]
    fn a_commune_is_not_recomputed_as_its_departement_minus_the_other_epci() {
        // Rhône = Métropole de Lyon (Lyon 40, Villeurbanne 3, Oullins 7) + Villefranche's EPCI
        // (Villefranche 5). Every relation has two secrets or none, yet Villefranche =
        // Rhône − Métropole: one of those totals must be hidden as well.
        let c = |commune: &str, n| CommuneCount {
            commune: commune.into(),
            month: 0,
            n,
        };
        let counts = OpenDataCounts {
            handed_out: vec![c("69123", 40), c("69266", 3), c("69149", 7), c("69264", 5)],
            ..Default::default()
        };
        let f = build(&counts, vec!["2026-11".into()]).unwrap();
        let files = f.files();
        assert_eq!(handed_out_of(&files[0].contents, "69264"), Some(None));
        let rhone = handed_out_of(&files[2].contents, "69").unwrap();
        let metropole = handed_out_of(&files[1].contents, "200046977").unwrap();
        assert!(
            rhone.is_none() || metropole.is_none(),
            "{}\n{}",
            files[1].contents,
            files[2].contents
        );
        assert!(secrecy::recoverable(&f.handed_out.secret, &f.grid.relations(false)).is_empty());
    }
}
