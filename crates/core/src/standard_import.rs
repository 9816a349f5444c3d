//! Reading a place written in the national venue standard (a CSV line or a JSON object): what
//! passnum keeps of it, and for each problem the column and a French sentence. A problem in a
//! column the place cannot do without refuses the row; elsewhere the value is left out and the
//! row kept.

use time::Date;

use crate::commune::{Communes, GeoPoint};
use crate::org_number::OrgNumber;
use crate::standard::{SERVICES, emails_in, phone_in, web_in};

/// The columns without which a file is not one of the standard.
pub const REQUIRED_COLUMNS: [&str; 6] =
    ["id", "nom", "commune", "code_postal", "adresse", "date_maj"];

const MODALITES: [&str; 4] = [
    "En autonomie",
    "Accompagnement individuel",
    "Dans un atelier collectif",
    "À distance",
];

/// A place as passnum keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedPlace {
    /// The source's own identifier (the standard's `id`).
    pub source_id: String,
    /// SIRET or RNA when the file gives a valid one.
    pub pivot: Option<String>,
    pub name: String,
    pub commune_insee: String,
    pub postcode: String,
    pub address: String,
    pub position: Option<GeoPoint>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub hours: String,
    /// Values of the standard's `services`.
    pub services: Vec<&'static str>,
    /// Values of the standard's `modalites_accompagnement`.
    pub modalites: Vec<&'static str>,
    pub updated: Date,
}

/// One problem of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowNote {
    pub column: &'static str,
    pub message: String,
    /// The row is refused (else only this value is left out).
    pub refuses: bool,
}

fn refuse(column: &'static str, message: impl Into<String>) -> RowNote {
    RowNote {
        column,
        message: message.into(),
        refuses: true,
    }
}

fn leave_out(column: &'static str, message: impl Into<String>) -> RowNote {
    RowNote {
        column,
        message: message.into(),
        refuses: false,
    }
}

/// Multi-valued cells: pipes in current files, semicolons in older ones.
pub fn values(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(['|', ';'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Metropolitan France and the overseas départements and collectivities, as boxes.
fn in_france(p: GeoPoint) -> bool {
    const BOXES: [(f64, f64, f64, f64); 8] = [
        (41.0, 51.6, -5.8, 10.0),   // metropolitan France and Corsica
        (15.8, 16.6, -61.9, -60.9), // Guadeloupe
        (14.3, 14.9, -61.3, -60.7), // Martinique
        (2.0, 6.0, -54.7, -51.4),   // Guyane
        (-21.5, -20.8, 55.1, 55.9), // La Réunion
        (-13.1, -12.5, 44.9, 45.4), // Mayotte
        (46.7, 47.2, -56.5, -56.1), // Saint-Pierre-et-Miquelon
        (17.8, 18.2, -63.2, -62.7), // Saint-Martin, Saint-Barthélemy
    ];
    BOXES.iter().any(|(lat0, lat1, lon0, lon1)| {
        (*lat0..=*lat1).contains(&p.latitude) && (*lon0..=*lon1).contains(&p.longitude)
    })
}

/// Reads one row; `get` gives a column's cell ("" when the column or the cell is absent).
pub fn read_row<'a>(
    get: impl Fn(&str) -> &'a str,
    communes: &Communes,
) -> (Option<ImportedPlace>, Vec<RowNote>) {
    let mut notes = vec![];
    let text = |column: &'static str, max: usize, notes: &mut Vec<RowNote>| -> String {
        let v = get(column).trim();
        if v.is_empty() {
            notes.push(refuse(column, "Valeur obligatoire absente."));
        } else if v.chars().count() > max {
            notes.push(refuse(column, format!("Plus de {max} caractères.")));
        }
        v.to_string()
    };
    let source_id = text("id", 100, &mut notes);
    let name = text("nom", 200, &mut notes);
    let address = text("adresse", 300, &mut notes);
    let postcode = get("code_postal").trim().to_string();
    if !(postcode.len() == 5 && postcode.bytes().all(|b| b.is_ascii_digit())) {
        notes.push(refuse(
            "code_postal",
            "Le code postal s'écrit en 5 chiffres.",
        ));
    }
    let insee = get("code_insee").trim();
    let commune_insee = if !insee.is_empty() {
        match crate::InseeCode::parse_known(insee) {
            Ok(c) => Some(c.as_str().to_string()),
            Err(e) => {
                notes.push(refuse("code_insee", e.to_string()));
                None
            }
        }
    } else {
        match communes.locate(&postcode, get("commune")) {
            Ok(c) => Some(c.insee.to_string()),
            Err(e) => {
                notes.push(refuse("commune", e.to_string()));
                None
            }
        }
    };
    let pivot = read_pivot(get("pivot"), &mut notes);
    let updated = match Date::parse(
        get("date_maj").trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        Ok(d) => Some(d),
        Err(_) => {
            notes.push(refuse(
                "date_maj",
                "La date de mise à jour s'écrit AAAA-MM-JJ, par exemple 2026-11-30.",
            ));
            None
        }
    };
    let position = read_position(get("latitude"), get("longitude"), &mut notes);
    let phone_cell = get("telephone").trim();
    let phone = phone_in(phone_cell);
    if !phone_cell.is_empty() && phone.is_none() {
        notes.push(leave_out(
            "telephone",
            format!(
                "« {} » n'est pas un numéro français : laissé de côté.",
                shown(phone_cell)
            ),
        ));
    }
    let services = read_values("services", get("services"), &SERVICES, &mut notes);
    let modalites = read_values(
        "modalites_accompagnement",
        get("modalites_accompagnement"),
        &MODALITES,
        &mut notes,
    );
    let place = match (commune_insee, updated) {
        (Some(commune_insee), Some(updated)) if !notes.iter().any(|n| n.refuses) => {
            Some(ImportedPlace {
                source_id,
                pivot,
                name,
                commune_insee,
                postcode,
                address,
                position,
                phone,
                email: emails_in(get("courriels")).into_iter().next(),
                website: web_in(&get("site_web").replace('|', " ")),
                hours: get("horaires").trim().chars().take(500).collect(),
                services,
                modalites,
                updated,
            })
        }
        _ => None,
    };
    (place, notes)
}

/// SIRET or RNA; none for an empty cell, the sources' fourteen zeros, or a SIREN.
fn read_pivot(cell: &str, notes: &mut Vec<RowNote>) -> Option<String> {
    let cell = cell.trim();
    if cell.is_empty() || cell.bytes().all(|b| b == b'0') {
        // Sources write fourteen zeros when they do not know the number.
        return None;
    }
    if cell.len() == 9 && cell.bytes().all(|b| b.is_ascii_digit()) {
        notes.push(leave_out(
            "pivot",
            "Un SIREN désigne l'organisme, pas le lieu : le lieu est gardé sans numéro.",
        ));
        return None;
    }
    match OrgNumber::parse(cell) {
        Ok(n) => Some(n.as_str().to_string()),
        Err(e) => {
            notes.push(refuse("pivot", e.to_string()));
            None
        }
    }
}

/// The values of a multi-valued cell that belong to the standard's list, once each; the
/// others are left out, each with a note.
fn read_values(
    column: &'static str,
    cell: &str,
    allowed: &[&'static str],
    notes: &mut Vec<RowNote>,
) -> Vec<&'static str> {
    let mut kept = vec![];
    for v in values(cell) {
        match allowed.iter().find(|s| **s == v) {
            Some(s) if !kept.contains(s) => kept.push(*s),
            Some(_) => {}
            None => notes.push(leave_out(
                column,
                format!(
                    "« {} » n'est pas une valeur du standard : laissée de côté.",
                    shown(v)
                ),
            )),
        }
    }
    kept
}

/// A cell shown in a sentence, cut short.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

fn read_position(lat: &str, lon: &str, notes: &mut Vec<RowNote>) -> Option<GeoPoint> {
    let (lat, lon) = (lat.trim(), lon.trim());
    if lat.is_empty() && lon.is_empty() {
        return None;
    }
    let parsed = lat
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .zip(lon.replace(',', ".").parse::<f64>().ok())
        .map(|(latitude, longitude)| GeoPoint {
            latitude,
            longitude,
        });
    match parsed {
        Some(p) if in_france(p) => Some(p),
        Some(_) => {
            notes.push(leave_out(
                "latitude",
                "Ces coordonnées sont hors de France (latitude et longitude inversées ?) : laissées de côté.",
            ));
            None
        }
        None => {
            notes.push(leave_out(
                "latitude",
                "Latitude et longitude s'écrivent en degrés décimaux, par exemple 45.75 et 4.84 : laissées de côté.",
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commune::communes;
    use std::collections::HashMap;

    fn read(cells: &[(&str, &str)]) -> (Option<ImportedPlace>, Vec<RowNote>) {
        let mut row: HashMap<&str, &str> = [
            ("id", "coop-1"),
            ("pivot", "73282932000074"),
            ("nom", "Médiathèque Jean Macé"),
            ("commune", "Lyon"),
            ("code_postal", "69007"),
            ("adresse", "2 rue Domer"),
            ("date_maj", "2026-11-30"),
            ("latitude", "45.7460"),
            ("longitude", "4.8420"),
            ("telephone", "+33478000000"),
            (
                "services",
                "Aide aux démarches administratives|Loisirs et créations numériques",
            ),
            (
                "modalites_accompagnement",
                "Accompagnement individuel;Dans un atelier collectif",
            ),
        ]
        .into_iter()
        .collect();
        for (k, v) in cells {
            row.insert(k, v);
        }
        read_row(|c| row.get(c).copied().unwrap_or(""), communes())
    }

    #[test]
    fn a_good_row_is_kept_whole() {
        let (p, notes) = read(&[]);
        assert!(notes.is_empty(), "{notes:?}");
        let p = p.unwrap();
        assert_eq!(p.commune_insee, "69387", "69007 is Lyon 7e");
        assert_eq!(p.pivot.as_deref(), Some("73282932000074"));
        assert_eq!(p.services.len(), 2);
        assert_eq!(
            p.modalites,
            ["Accompagnement individuel", "Dans un atelier collectif"],
            "semicolons of older files"
        );
    }

    #[test]
    fn each_problem_names_its_column() {
        let (p, notes) = read(&[("pivot", "73282932000075"), ("date_maj", "30/11/2026")]);
        assert!(p.is_none());
        assert_eq!(
            notes
                .iter()
                .map(|n| (n.column, n.refuses))
                .collect::<Vec<_>>(),
            [("pivot", true), ("date_maj", true)]
        );
        let (p, notes) = read(&[
            ("telephone", "appelez-nous"),
            ("latitude", "4.84"),
            ("longitude", "45.75"),
            ("services", "Cuisine"),
        ]);
        let p = p.expect("optional columns never refuse a row");
        assert_eq!((p.phone, p.position, p.services.len()), (None, None, 0));
        assert_eq!(
            notes.iter().map(|n| n.column).collect::<Vec<_>>(),
            ["latitude", "telephone", "services"]
        );
        assert!(notes[0].message.contains("hors de France"));
        let (p, notes) = read(&[("code_postal", "99999"), ("code_insee", "")]);
        assert!(p.is_none());
        assert!(
            notes.iter().any(|n| n.column == "commune" && n.refuses),
            "{notes:?}"
        );
        let (p, _) = read(&[("pivot", "00000000000000")]);
        assert_eq!(p.unwrap().pivot, None, "zeros mean unknown");
        let (p, notes) = read(&[("nom", "")]);
        assert!(p.is_none());
        assert_eq!(notes[0].message, "Valeur obligatoire absente.");
        let (p, _) = read(&[("latitude", "-21.1"), ("longitude", "55.5")]);
        assert!(p.unwrap().position.is_some(), "La Réunion is France");
    }
}
