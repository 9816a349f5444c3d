//! The export's CSV files, their Table Schemas and the data package that lists them.

use passnum_core::territory::{self, Level};
use serde_json::{Value, json};

use super::{Measure, OpenFigures, OpenFile, SECRET, published};

fn count_cell(m: &Measure, i: usize) -> String {
    published(m, i).map_or_else(|| SECRET.into(), |n| n.to_string())
}

fn euro_cell(m: &Measure, i: usize) -> String {
    published(m, i).map_or_else(|| SECRET.into(), |c| format!("{}.{:02}", c / 100, c % 100))
}

/// Quotes a text cell when it needs it (names may hold commas).
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub(super) const MEASURE_COLUMNS: &str =
    "carnets_remis,cheques_utilises,montant_utilise_euros,montant_regle_euros,ateliers_tenus";

impl OpenFigures {
    fn measures(&self, i: usize) -> String {
        format!(
            "{},{},{},{},{}",
            count_cell(&self.handed_out, i),
            count_cell(&self.cheques, i),
            euro_cell(&self.cents, i),
            euro_cell(&self.paid, i),
            self.workshops[i]
        )
    }

    fn named_lines(
        &self,
        out: &mut String,
        month: &str,
        level: Level,
        codes: &[String],
        cell: impl Fn(usize) -> usize,
    ) {
        for (k, code) in codes.iter().enumerate() {
            let i = cell(k);
            if self.any(i) {
                let name = territory::name_of(level, code).unwrap_or("");
                out.push_str(&format!(
                    "{month},{code},{},{}\n",
                    text(name),
                    self.measures(i)
                ));
            }
        }
    }

    /// The five CSV files (UTF-8, commas), months then codes in order.
    pub fn files(&self) -> Vec<OpenFile> {
        let g = &self.grid;
        let mut communes =
            format!("mois,code_commune,nom_commune,code_epci,code_departement,{MEASURE_COLUMNS}\n");
        let mut epcis = format!("mois,code_epci,nom_epci,{MEASURE_COLUMNS}\n");
        let mut deps = format!("mois,code_departement,nom_departement,{MEASURE_COLUMNS}\n");
        let mut programme = format!("mois,carnets_achetes,{MEASURE_COLUMNS}\n");
        let mut levels =
            "mois,niveau,nom_niveau,cheques_utilises,montant_utilise_euros\n".to_string();
        for (m, month) in self.months.iter().enumerate() {
            for (c, code) in g.communes.iter().enumerate() {
                let i = g.commune(c, m);
                if self.any(i) {
                    communes.push_str(&format!(
                        "{month},{code},{},{},{},{}\n",
                        text(territory::name_of(Level::Commune, code).unwrap_or("")),
                        g.epci_of[c].map_or("", |e| g.epcis[e].as_str()),
                        g.departements[g.dep_of[c]],
                        self.measures(i)
                    ));
                }
            }
            self.named_lines(&mut epcis, month, Level::Epci, &g.epcis, |e| g.epci(e, m));
            self.named_lines(&mut deps, month, Level::Departement, &g.departements, |d| {
                g.departement(d, m)
            });
            programme.push_str(&format!(
                "{month},{},{}\n",
                self.bought[m],
                self.measures(g.programme(m))
            ));
            for (l, (level, name)) in g.levels.iter().enumerate() {
                let i = g.level(l, m);
                if self.cheques.values[i] > 0 {
                    levels.push_str(&format!(
                        "{month},{level},{},{},{}\n",
                        text(name),
                        count_cell(&self.cheques, i),
                        euro_cell(&self.cents, i)
                    ));
                }
            }
        }
        [
            ("chiffres-par-commune", communes),
            ("chiffres-par-epci", epcis),
            ("chiffres-par-departement", deps),
            ("chiffres-programme", programme),
            ("chiffres-par-niveau", levels),
        ]
        .into_iter()
        .map(|(name, contents)| OpenFile {
            name: format!("{name}.csv"),
            contents,
        })
        .collect()
    }
}

fn count(name: &str, title: &str, description: &str) -> Value {
    json!({"name": name, "title": title, "description": description, "type": "integer",
           "example": "42", "constraints": {"required": false, "minimum": 0}})
}

fn euros(name: &str, title: &str, description: &str) -> Value {
    json!({"name": name, "title": title, "type": "number", "description": description,
           "example": "1234.50", "constraints": {"required": false, "minimum": 0}})
}

const CHEQUES_USED: &str = "Chèques utilisés (encaissés, non annulés) dans les lieux du territoire ce mois-là ; « secret » de 1 à 10 ou pour empêcher de le déduire.";
const AMOUNT_USED: &str = "Valeur faciale des chèques utilisés, en euros ; « secret » si moins de 3 lieux y contribuent, si un lieu en fait plus de 85 %, ou pour empêcher de le déduire.";

fn measure_fields() -> Vec<Value> {
    vec![
        count(
            "carnets_remis",
            "Carnets remis",
            "Carnets remis à des personnes résidant dans le territoire ce mois-là ; « secret » de 1 à 10 ou pour empêcher de le déduire.",
        ),
        count("cheques_utilises", "Chèques utilisés", CHEQUES_USED),
        euros(
            "montant_utilise_euros",
            "Montant utilisé (euros)",
            AMOUNT_USED,
        ),
        euros(
            "montant_regle_euros",
            "Montant réglé aux lieux (euros)",
            "Valeur des chèques réglés aux lieux du territoire par les virements confirmés ce mois-là (frais de l'opérateur compris, corrections déduites) ; même règle de secret que le montant utilisé.",
        ),
        count(
            "ateliers_tenus",
            "Ateliers tenus",
            "Ateliers tenus (commencés, non annulés) dans les lieux du territoire ce mois-là.",
        ),
    ]
}

fn schema(name: &str, title: &str, fields: Vec<Value>) -> Value {
    json!({
        "$schema": "https://frictionlessdata.io/schemas/table-schema.json",
        "name": name,
        "title": title,
        "description": "Chiffres du Pass Numérique publiés par passnum, agrégés par mois (calendrier de Paris). Les effectifs de 1 à 10 sont publiés « secret », avec un secret secondaire pour qu'aucune case secrète ne se déduise des totaux ni des autres fichiers.",
        "version": "1.1.0",
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

fn code(name: &str, title: &str, pattern: &str, example: &str, required: bool) -> Value {
    json!({"name": name, "title": title, "type": "string", "example": example,
           "description": title, "constraints": {"required": required, "pattern": pattern}})
}

fn name(n: &str, t: &str, e: &str) -> Value {
    json!({"name": n, "title": t, "type": "string", "description": t, "example": e})
}

const DEP_PATTERN: &str = "^([0-9][0-9AB]|97[1-6])$";
const EPCI_PATTERN: &str = "^[0-9]{9}$";

/// The Table Schemas of the five files, by file name.
pub fn schemas() -> Vec<(String, Value)> {
    let with_measures = |mut fields: Vec<Value>| {
        fields.extend(measure_fields());
        fields
    };
    let commune = with_measures(vec![
        month_field(),
        code(
            "code_commune",
            "Code INSEE de la commune",
            "^[0-9][0-9AB][0-9]{3}$",
            "69123",
            true,
        ),
        name("nom_commune", "Nom de la commune", "Lyon"),
        code(
            "code_epci",
            "Numéro SIREN de l'EPCI (vide si la commune n'en a pas)",
            EPCI_PATTERN,
            "200046977",
            false,
        ),
        code(
            "code_departement",
            "Code du département",
            DEP_PATTERN,
            "69",
            true,
        ),
    ]);
    let epci = with_measures(vec![
        month_field(),
        code(
            "code_epci",
            "Numéro SIREN de l'EPCI",
            EPCI_PATTERN,
            "200046977",
            true,
        ),
        name("nom_epci", "Nom de l'EPCI", "Métropole de Lyon"),
    ]);
    let dep = with_measures(vec![
        month_field(),
        code(
            "code_departement",
            "Code du département",
            DEP_PATTERN,
            "69",
            true,
        ),
        name("nom_departement", "Nom du département", "Rhône"),
    ]);
    let programme = with_measures(vec![
        month_field(),
        count(
            "carnets_achetes",
            "Carnets achetés",
            "Carnets des commandes payées ce mois-là par les commanditaires (ce ne sont pas des personnes : jamais secret).",
        ),
    ]);
    let level = vec![
        month_field(),
        json!({"name": "niveau", "title": "Niveau du référentiel", "type": "integer", "example": "1",
               "description": "Niveau du référentiel national des services (0 : chèque encaissé sans service renseigné).",
               "constraints": {"required": true, "minimum": 0}}),
        name("nom_niveau", "Nom du niveau", "Découvrir"),
        count("cheques_utilises", "Chèques utilisés", CHEQUES_USED),
        euros(
            "montant_utilise_euros",
            "Montant utilisé (euros)",
            AMOUNT_USED,
        ),
    ];
    [
        ("chiffres-par-commune", "commune", commune),
        ("chiffres-par-epci", "intercommunalité (EPCI)", epci),
        ("chiffres-par-departement", "département", dep),
        ("chiffres-programme", "programme", programme),
        ("chiffres-par-niveau", "niveau du référentiel", level),
    ]
    .into_iter()
    .map(|(file, by, fields)| {
        let title = if by == "programme" {
            "Pass Numérique : chiffres du programme par mois".to_string()
        } else {
            format!("Pass Numérique : chiffres par {by} et par mois")
        };
        (format!("{file}.schema.json"), schema(file, &title, fields))
    })
    .collect()
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
