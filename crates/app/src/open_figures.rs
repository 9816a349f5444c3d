//! The programme's figures as open data: per Paris month and commune, département and the
//! whole programme — booklets handed out, cheques used, their amount, workshops held — as CSV
//! files with Table Schemas and a `datapackage.json` (schema.data.gouv.fr conventions).
//!
//! Statistical secrecy (`passnum_core::secrecy`): counts of people from 1 to 10 and amounts
//! made by fewer than 3 venues or more than 85 % by one are published as `secret`, with
//! secondary suppression along "département = sum of its communes" and "programme = sum of
//! the départements"; before anything is written the attack is run, and an export from which
//! a secret cell could be recomputed is refused.

use std::collections::{BTreeMap, BTreeSet};

use passnum_core::secrecy::{self, Relation};
use passnum_core::territory::{self, Level};
use passnum_store::OpenDataCounts;
use serde_json::{Value, json};

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

/// One measure over every cell of the export: communes × months, départements × months, the
/// programme × months, in that order.
struct Grid {
    communes: Vec<String>,
    departements: Vec<String>,
    months: usize,
}

impl Grid {
    fn commune(&self, c: usize, m: usize) -> usize {
        c * self.months + m
    }
    fn departement(&self, d: usize, m: usize) -> usize {
        (self.communes.len() + d) * self.months + m
    }
    fn programme(&self, m: usize) -> usize {
        (self.communes.len() + self.departements.len()) * self.months + m
    }
    fn len(&self) -> usize {
        (self.communes.len() + self.departements.len() + 1) * self.months
    }
    fn dep_of(&self, c: usize) -> usize {
        let code = territory::code_of(&self.communes[c], Level::Departement).unwrap_or("");
        self.departements
            .iter()
            .position(|d| d == code)
            .unwrap_or(0)
    }
    fn relations(&self) -> Vec<Relation> {
        let mut out = vec![];
        for m in 0..self.months {
            let mut top = Relation {
                total: self.programme(m),
                parts: vec![],
            };
            for d in 0..self.departements.len() {
                top.parts.push(self.departement(d, m));
                out.push(Relation {
                    total: self.departement(d, m),
                    parts: (0..self.communes.len())
                        .filter(|c| self.dep_of(*c) == d)
                        .map(|c| self.commune(c, m))
                        .collect(),
                });
            }
            out.push(top);
        }
        out
    }
    /// Adds a commune cell's value to its département and the programme.
    fn spread(&self, values: &mut [i64], c: usize, m: usize, v: i64) {
        values[self.commune(c, m)] += v;
        values[self.departement(self.dep_of(c), m)] += v;
        values[self.programme(m)] += v;
    }
}

/// A measure: its values and which cells are hidden.
struct Measure {
    values: Vec<i64>,
    secret: Vec<bool>,
}

fn protect(grid: &Grid, values: Vec<i64>, primary: Vec<bool>) -> Result<Measure, OpenDataError> {
    let relations = grid.relations();
    let mut secret = primary;
    secrecy::protect(&values, &mut secret, &relations);
    let leaks = secrecy::recoverable(&secret, &relations);
    if !leaks.is_empty() {
        return Err(OpenDataError::Breach(leaks.len()));
    }
    Ok(Measure { values, secret })
}

/// The protected measures, ready to write.
pub struct OpenFigures {
    grid: Grid,
    handed_out: Measure,
    cheques: Measure,
    cents: Measure,
    workshops: Vec<i64>,
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
    c
}

/// Builds and protects the export; `months` are the slugs ("2026-11") in span order.
pub fn build(counts: &OpenDataCounts, months: Vec<String>) -> Result<OpenFigures, OpenDataError> {
    let communes: BTreeSet<String> = counts
        .handed_out
        .iter()
        .map(|c| c.commune.clone())
        .chain(counts.used.iter().map(|u| u.commune.clone()))
        .chain(counts.workshops_held.iter().map(|c| c.commune.clone()))
        .collect();
    let departements: BTreeSet<String> = communes
        .iter()
        .map(|c| {
            territory::code_of(c, Level::Departement)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let grid = Grid {
        communes: communes.into_iter().collect(),
        departements: departements.into_iter().collect(),
        months: months.len(),
    };
    let index: BTreeMap<&str, usize> = grid
        .communes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut handed = vec![0; grid.len()];
    for c in &counts.handed_out {
        grid.spread(&mut handed, index[c.commune.as_str()], c.month, c.n);
    }
    let mut workshops = vec![0; grid.len()];
    for c in &counts.workshops_held {
        grid.spread(&mut workshops, index[c.commune.as_str()], c.month, c.n);
    }
    let mut cheques = vec![0; grid.len()];
    let mut cents = vec![0; grid.len()];
    // Each cell's amount per venue, for the business rule.
    let mut units: Vec<BTreeMap<i64, i64>> = vec![BTreeMap::new(); grid.len()];
    for u in &counts.used {
        let c = index[u.commune.as_str()];
        grid.spread(&mut cheques, c, u.month, u.cheques);
        grid.spread(&mut cents, c, u.month, u.cents);
        for cell in [
            grid.commune(c, u.month),
            grid.departement(grid.dep_of(c), u.month),
            grid.programme(u.month),
        ] {
            *units[cell].entry(u.venue_id).or_default() += u.cents;
        }
    }
    let count_secret = |v: &[i64]| v.iter().map(|n| secrecy::count_is_secret(*n)).collect();
    let amount_secret: Vec<bool> = units
        .iter()
        .map(|u| secrecy::amount_is_secret(&u.values().copied().collect::<Vec<_>>()))
        .collect();
    let handed_out = protect(&grid, handed.clone(), count_secret(&handed))?;
    let cheques_m = protect(&grid, cheques.clone(), count_secret(&cheques))?;
    let cents_m = protect(&grid, cents, amount_secret)?;
    let hidden = [&handed_out, &cheques_m, &cents_m]
        .iter()
        .map(|m| m.secret.iter().filter(|s| **s).count())
        .sum();
    Ok(OpenFigures {
        grid,
        handed_out,
        cheques: cheques_m,
        cents: cents_m,
        workshops,
        months,
        hidden,
    })
}

/// A cell as published: `None` when it is secret.
fn published(m: &Measure, i: usize) -> Option<i64> {
    (!m.secret[i]).then(|| m.values[i])
}

fn count_cell(m: &Measure, i: usize) -> String {
    published(m, i).map_or_else(|| SECRET.into(), |n| n.to_string())
}

fn euro_cell(m: &Measure, i: usize) -> String {
    published(m, i).map_or_else(|| SECRET.into(), |c| format!("{}.{:02}", c / 100, c % 100))
}

/// One line's measures as published, `None` where secret: booklets handed out, cheques used,
/// their amount in cents, workshops held (never secret).
pub type PublishedCells = [Option<i64>; 4];

/// Quotes a text cell when it needs it (names may hold commas).
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

const MEASURE_COLUMNS: &str = "carnets_remis,cheques_utilises,montant_utilise_euros,ateliers_tenus";

impl OpenFigures {
    fn measures(&self, i: usize) -> String {
        format!(
            "{},{},{},{}",
            count_cell(&self.handed_out, i),
            count_cell(&self.cheques, i),
            euro_cell(&self.cents, i),
            self.workshops[i]
        )
    }
    fn any(&self, i: usize) -> bool {
        self.handed_out.values[i] + self.cheques.values[i] + self.workshops[i] > 0
    }

    /// The programme's line of each month: (month, the four measures as published).
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

    fn shown(&self, i: usize) -> PublishedCells {
        [
            published(&self.handed_out, i),
            published(&self.cheques, i),
            published(&self.cents, i),
            Some(self.workshops[i]),
        ]
    }

    /// The three CSV files (UTF-8, commas), months then codes in order.
    pub fn files(&self) -> Vec<OpenFile> {
        let g = &self.grid;
        let mut communes =
            format!("mois,code_commune,nom_commune,code_departement,{MEASURE_COLUMNS}\n");
        let mut deps = format!("mois,code_departement,nom_departement,{MEASURE_COLUMNS}\n");
        let mut programme = format!("mois,{MEASURE_COLUMNS}\n");
        for (m, month) in self.months.iter().enumerate() {
            for (c, code) in g.communes.iter().enumerate() {
                let i = g.commune(c, m);
                if self.any(i) {
                    communes.push_str(&format!(
                        "{month},{code},{},{},{}\n",
                        text(territory::name_of(Level::Commune, code).unwrap_or("")),
                        g.departements[g.dep_of(c)],
                        self.measures(i)
                    ));
                }
            }
            for (d, code) in g.departements.iter().enumerate() {
                let i = g.departement(d, m);
                if self.any(i) {
                    deps.push_str(&format!(
                        "{month},{code},{},{}\n",
                        text(territory::name_of(Level::Departement, code).unwrap_or("")),
                        self.measures(i)
                    ));
                }
            }
            programme.push_str(&format!("{month},{}\n", self.measures(g.programme(m))));
        }
        vec![
            OpenFile {
                name: "chiffres-par-commune.csv".into(),
                contents: communes,
            },
            OpenFile {
                name: "chiffres-par-departement.csv".into(),
                contents: deps,
            },
            OpenFile {
                name: "chiffres-programme.csv".into(),
                contents: programme,
            },
        ]
    }
}

fn measure_fields() -> Vec<Value> {
    let count = |name: &str, title: &str, description: &str| {
        json!({"name": name, "title": title, "description": description, "type": "integer",
               "example": "42", "constraints": {"required": false, "minimum": 0}})
    };
    vec![
        count(
            "carnets_remis",
            "Carnets remis",
            "Carnets remis à des personnes résidant dans le territoire ce mois-là ; « secret » de 1 à 10 ou pour empêcher de le déduire.",
        ),
        count(
            "cheques_utilises",
            "Chèques utilisés",
            "Chèques utilisés (encaissés, non annulés) dans les lieux du territoire ce mois-là ; « secret » de 1 à 10 ou pour empêcher de le déduire.",
        ),
        json!({"name": "montant_utilise_euros", "title": "Montant utilisé (euros)", "type": "number",
               "description": "Valeur faciale des chèques utilisés, en euros ; « secret » si moins de 3 lieux y contribuent, si un lieu en fait plus de 85 %, ou pour empêcher de le déduire.",
               "example": "1234.50", "constraints": {"required": false, "minimum": 0}}),
        count(
            "ateliers_tenus",
            "Ateliers tenus",
            "Ateliers tenus (commencés, non annulés) dans les lieux du territoire ce mois-là.",
        ),
    ]
}

fn schema(name: &str, title: &str, mut fields: Vec<Value>) -> Value {
    fields.extend(measure_fields());
    json!({
        "$schema": "https://frictionlessdata.io/schemas/table-schema.json",
        "name": name,
        "title": title,
        "description": "Chiffres du Pass Numérique publiés par passnum, agrégés par mois (calendrier de Paris). Les effectifs de 1 à 10 sont publiés « secret », avec un secret secondaire pour qu'aucune case secrète ne se déduise des totaux.",
        "version": "1.0.0",
        "created": "2026-12-04",
        "homepage": "https://github.com/passnum/passnum",
        "licenses": [{"name": "etalab-2.0", "title": "Licence Ouverte / Open Licence version 2.0", "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence"}],
        "contributors": [{"title": "passnum", "role": "author"}],
        "missingValues": ["", SECRET],
        "fields": fields,
    })
}

fn month_field() -> Value {
    json!({"name": "mois", "title": "Mois", "description": "Mois du calendrier de Paris.", "type": "yearmonth", "example": "2026-11", "constraints": {"required": true}})
}

/// The Table Schemas of the three files, by file name.
pub fn schemas() -> Vec<(String, Value)> {
    let code = |name: &str, title: &str, pattern: &str, example: &str| {
        json!({"name": name, "title": title, "type": "string", "example": example,
               "description": title, "constraints": {"required": true, "pattern": pattern}})
    };
    let name = |n: &str, t: &str, e: &str| json!({"name": n, "title": t, "type": "string", "description": t, "example": e});
    vec![
        (
            "chiffres-par-commune.schema.json".into(),
            schema(
                "chiffres-par-commune",
                "Pass Numérique : chiffres par commune et par mois",
                vec![
                    month_field(),
                    code(
                        "code_commune",
                        "Code INSEE de la commune",
                        "^[0-9][0-9AB][0-9]{3}$",
                        "69123",
                    ),
                    name("nom_commune", "Nom de la commune", "Lyon"),
                    code(
                        "code_departement",
                        "Code du département",
                        "^([0-9][0-9AB]|97[1-6])$",
                        "69",
                    ),
                ],
            ),
        ),
        (
            "chiffres-par-departement.schema.json".into(),
            schema(
                "chiffres-par-departement",
                "Pass Numérique : chiffres par département et par mois",
                vec![
                    month_field(),
                    code(
                        "code_departement",
                        "Code du département",
                        "^([0-9][0-9AB]|97[1-6])$",
                        "69",
                    ),
                    name("nom_departement", "Nom du département", "Rhône"),
                ],
            ),
        ),
        (
            "chiffres-programme.schema.json".into(),
            schema(
                "chiffres-programme",
                "Pass Numérique : chiffres du programme par mois",
                vec![month_field()],
            ),
        ),
    ]
}

/// The data package describing every file of the export (the venues file included).
pub fn datapackage(generated: &str) -> Value {
    let mut resources: Vec<Value> = schemas()
        .into_iter()
        .map(|(schema_file, s)| {
            let name = s["name"].as_str().unwrap_or_default().to_string();
            json!({"name": name, "title": s["title"], "path": format!("{name}.csv"), "profile": "tabular-data-resource",
                   "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": schema_file})
        })
        .collect();
    resources.push(json!({"name": "lieux-de-mediation-numerique", "title": "Lieux de médiation numérique qualifiés",
        "path": "lieux-de-mediation-numerique.csv", "profile": "tabular-data-resource", "format": "csv",
        "mediatype": "text/csv", "encoding": "utf-8", "schema": "lieux-de-mediation-numerique.schema.json"}));
    json!({
        "profile": "tabular-data-package",
        "name": "pass-numerique-chiffres",
        "title": "Pass Numérique : chiffres du programme et lieux qualifiés",
        "description": format!("Export de passnum du {generated}. Effectifs de 1 à 10 et montants concentrés publiés « secret »."),
        "created": generated,
        "licenses": [{"name": "etalab-2.0", "title": "Licence Ouverte / Open Licence version 2.0", "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence"}],
        "resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use passnum_store::{CommuneCount, VenueMonthUse};

    fn counts() -> OpenDataCounts {
        let c = |commune: &str, n| CommuneCount {
            commune: commune.into(),
            month: 0,
            n,
        };
        OpenDataCounts {
            // Lyon 40, Villeurbanne 4 (secret), Vénissieux 25: all in the Rhône.
            handed_out: vec![c("69123", 40), c("69266", 4), c("69259", 25)],
            used: vec![
                VenueMonthUse {
                    commune: "69123".into(),
                    month: 0,
                    venue_id: 1,
                    cheques: 30,
                    cents: 30_000,
                },
                VenueMonthUse {
                    commune: "69123".into(),
                    month: 0,
                    venue_id: 2,
                    cheques: 20,
                    cents: 20_000,
                },
                VenueMonthUse {
                    commune: "69123".into(),
                    month: 0,
                    venue_id: 3,
                    cheques: 25,
                    cents: 25_000,
                },
                VenueMonthUse {
                    commune: "69266".into(),
                    month: 0,
                    venue_id: 4,
                    cheques: 12,
                    cents: 12_000,
                },
            ],
            workshops_held: vec![c("69123", 3)],
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
            communes.contains("\n2026-11,69266,Villeurbanne,69,secret,12,secret,0\n"),
            "{communes}"
        );
        assert!(
            communes.contains("\n2026-11,69259,Vénissieux,69,secret,0,0.00,0\n"),
            "{communes}"
        );
        assert!(
            communes.contains("\n2026-11,69123,Lyon,69,40,87,secret,3\n")
                || communes.contains("\n2026-11,69123,Lyon,69,40,75,secret,3\n"),
            "{communes}"
        );
        assert_eq!(
            files[1].contents,
            format!(
                "mois,code_departement,nom_departement,{MEASURE_COLUMNS}\n2026-11,69,Rhône,69,87,870.00,3\n"
            )
        );
        assert_eq!(
            files[2].contents,
            format!("mois,{MEASURE_COLUMNS}\n2026-11,69,87,870.00,3\n")
        );
        assert!(f.hidden >= 4);
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
            4
        );
    }
}
