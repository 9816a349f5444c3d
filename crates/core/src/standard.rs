//! The national data standard of digital-mediation venues (schema v1.0.2, LaMednum /
//! ANCT): its closed vocabularies that passnum reads and writes.

use crate::catalogue::ServiceFormat;

/// The nine values of the standard's `services` column.
pub const SERVICES: [&str; 9] = [
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
];

/// The standard's `publics_specifiquement_adresses` values.
pub const PUBLICS: [&str; 5] = [
    "Jeunes",
    "Étudiants",
    "Familles et/ou enfants",
    "Seniors",
    "Femmes",
];

/// The standard's `prise_en_charge_specifique` values.
pub const SPECIFIC_SUPPORT: [&str; 7] = [
    "Surdité",
    "Handicaps moteurs",
    "Handicaps mentaux",
    "Illettrisme",
    "Langues étrangères (anglais)",
    "Langues étrangères (autres)",
    "Déficience visuelle",
];

/// Values of one of the standard's closed lists, as stored: in the list's order, once each,
/// pipe-separated; `Err` names the first value outside the list.
pub fn in_list_order(values: &[&str], allowed: &[&str]) -> Result<String, String> {
    if let Some(bad) = values.iter().find(|v| !allowed.contains(v)) {
        return Err(bad.chars().take(60).collect());
    }
    Ok(allowed
        .iter()
        .filter(|a| values.contains(a))
        .copied()
        .collect::<Vec<_>>()
        .join("|"))
}

/// The standard's `services` value for a service of the référentiel: the one the operator
/// chose for it, else the one of its category (or, for a category passnum does not know, of
/// its level).
pub fn standard_service<'a>(chosen: &'a str, category_code: &str, level: i64) -> &'a str {
    if SERVICES.contains(&chosen) {
        return chosen;
    }
    match category_code {
        "1.1" | "1.2" => SERVICES[6],
        "2.1" => SERVICES[1],
        "2.2" => SERVICES[0],
        "3.1" | "3.3" => SERVICES[3],
        "3.2" | "3.4" => SERVICES[5],
        "3.5" => SERVICES[2],
        _ => match level {
            1 => SERVICES[6],
            2 => SERVICES[1],
            _ => SERVICES[3],
        },
    }
}

/// The standard's `modalites_accompagnement` values a set of formats gives.
pub fn modalites(formats: impl IntoIterator<Item = ServiceFormat>) -> Vec<&'static str> {
    let (mut individual, mut collective) = (false, false);
    for f in formats {
        individual |= f.individual();
        collective |= f.collective();
    }
    let mut v = vec![];
    if individual {
        v.push("Accompagnement individuel");
    }
    if collective {
        v.push("Dans un atelier collectif");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_maps_to_a_value_of_the_standard() {
        for (category, level) in [("1.1", 1), ("2.2", 2), ("3.5", 3), ("4.1", 4), ("9.9", 1)] {
            assert!(SERVICES.contains(&standard_service("", category, level)));
        }
        assert_eq!(
            standard_service("", "2.2", 2),
            "Aide aux démarches administratives"
        );
        assert_eq!(
            standard_service("Parentalité et éducation avec le numérique", "1.1", 1),
            "Parentalité et éducation avec le numérique"
        );
        assert_eq!(
            standard_service("pas une valeur", "3.5", 3),
            "Insertion professionnelle via le numérique"
        );
    }

    #[test]
    fn formats_give_the_standards_modalities() {
        use ServiceFormat::*;
        assert_eq!(modalites([Individual]), ["Accompagnement individuel"]);
        assert_eq!(
            modalites([Collective, Individual]),
            ["Accompagnement individuel", "Dans un atelier collectif"]
        );
        assert_eq!(modalites([Both]).len(), 2);
        assert!(modalites([]).is_empty());
    }
}

/// The standard's columns, in the order its files must have them.
pub const COLUMNS: [&str; 32] = [
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
];

/// What passnum knows of a qualified venue, to publish it in the standard.
pub struct PublishedVenue<'a> {
    pub id: i64,
    pub siret: &'a str,
    pub name: &'a str,
    pub commune_insee: &'a str,
    pub address: &'a str,
    /// Free text: a telephone, an e-mail address, a web page, or a sentence with them.
    pub contact: &'a str,
    pub opening_hours: &'a str,
    pub accessibility: &'a str,
    pub updated_on: time::Date,
    /// The standard's `services` value of each service of the catalogue, and its format.
    pub services: Vec<(&'a str, ServiceFormat)>,
    /// Who collects the data (the operator's name).
    pub source: &'a str,
    /// Values of `PUBLICS` and `SPECIFIC_SUPPORT`, pipe-separated, as stored.
    pub publics: &'a str,
    pub specific_support: &'a str,
}

/// One row of the standard, `None` when the venue lacks what the standard requires (an
/// address, or a commune passnum knows), with the reason.
pub fn row(v: &PublishedVenue<'_>) -> Result<[String; 32], &'static str> {
    let commune = crate::commune::communes()
        .get(&crate::InseeCode::parse(v.commune_insee).map_err(|_| "commune inconnue")?)
        .ok_or("commune inconnue")?;
    let address = v.address.trim();
    if address.is_empty() {
        return Err("adresse manquante");
    }
    let postcode = address
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 5 && commune.postcodes.contains(w))
        .or_else(|| commune.postcodes.first().copied())
        .ok_or("code postal inconnu")?;
    let phone = phone_in(v.contact);
    let emails = emails_in(v.contact);
    let site = web_in(v.contact);
    let mut services: Vec<&str> = SERVICES
        .iter()
        .copied()
        .filter(|s| v.services.iter().any(|(x, _)| x == s))
        .collect();
    services.dedup();
    let mut access = vec!["Se présenter"];
    if phone.is_some() {
        access.push("Téléphoner");
    }
    if !emails.is_empty() {
        access.push("Contacter par mail");
    }
    let mut detail = vec![];
    if !v.opening_hours.trim().is_empty() {
        detail.push(format!(
            "Horaires : {}.",
            v.opening_hours.trim().trim_end_matches('.')
        ));
    }
    if !v.accessibility.trim().is_empty() {
        detail.push(format!(
            "Accessibilité : {}.",
            v.accessibility.trim().trim_end_matches('.')
        ));
    }
    if !v.contact.trim().is_empty() {
        detail.push(format!(
            "Pour venir : {}.",
            v.contact.trim().trim_end_matches('.')
        ));
    }
    let resume = crate::text::kept(
        "Lieu qualifié du Pass Numérique : accompagnement au numérique payé par chèque Pass Numérique.",
        280,
    );
    let mut r: [String; 32] = Default::default();
    r[0] = format!("passnum-lieu-{}", v.id);
    r[1] = v.siret.to_string();
    r[2] = v.name.to_string();
    r[3] = commune.name.to_string();
    r[4] = postcode.to_string();
    r[5] = commune.insee.to_string();
    r[6] = address.to_string();
    r[11] = phone.unwrap_or_default();
    r[12] = emails.join("|");
    r[13] = site.unwrap_or_default();
    // The standard wants OpenStreetMap's opening_hours syntax, which passnum's free text is
    // not: the hours go into the detail instead, for people to read.
    r[15] = resume;
    r[16] = detail.join(" ");
    r[17] = v.source.to_string();
    r[18] = "Fixe".into();
    r[20] = v.updated_on.to_string();
    r[21] = services.join("|");
    // Stored from the standard's own lists; anything else (an older value) is left out.
    let kept = |stored: &str, allowed: &[&str]| -> String {
        stored
            .split('|')
            .filter(|v| allowed.contains(v))
            .collect::<Vec<_>>()
            .join("|")
    };
    r[22] = kept(v.publics, &PUBLICS);
    r[23] = kept(v.specific_support, &SPECIFIC_SUPPORT);
    r[28] = access.join("|");
    r[29] = modalites(v.services.iter().map(|(_, f)| *f)).join("|");
    Ok(r)
}

/// The first French telephone number in a text, as the standard writes it (+33 and digits).
pub fn phone_in(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '+')))
        .find_map(|run| {
            let d: String = run
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            let national = match d.strip_prefix("+33") {
                Some(rest) => format!("0{rest}"),
                None => d,
            };
            let ok = national.len() == 10
                && national.starts_with('0')
                && !national.starts_with("00")
                && national.bytes().all(|b| b.is_ascii_digit());
            ok.then(|| format!("+33{}", &national[1..]))
        })
}

/// The e-mail addresses in a text.
pub fn emails_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '<' | '>'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| {
            w.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            })
        })
        .map(str::to_string)
        .collect()
}

/// The first web address (http or https) in a text.
pub fn web_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>'))
        .map(|w| w.trim_end_matches(['.', ')']))
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(str::to_string)
}

#[cfg(test)]
mod row_tests {
    use super::*;

    #[test]
    fn contacts_are_read_for_what_the_standard_can_hold() {
        assert_eq!(
            phone_in("04 78 62 18 00, espace numérique"),
            Some("+33478621800".into())
        );
        assert_eq!(phone_in("tél. 04.72.21.44.44"), Some("+33472214444".into()));
        assert_eq!(phone_in("+33 6 12 34 56 78"), Some("+33612345678".into()));
        assert_eq!(phone_in("du lundi au vendredi, 69200"), None);
        assert_eq!(
            emails_in("Sur rendez-vous : numerique@villeurbanne.example."),
            ["numerique@villeurbanne.example"]
        );
        assert!(emails_in("@ rien").is_empty());
        assert_eq!(
            web_in("voir https://clic.example/rdv."),
            Some("https://clic.example/rdv".into())
        );
        assert_eq!(web_in("clic-solidaire.example"), None);
    }

    #[test]
    fn closed_list_values_are_kept_in_the_lists_order_once() {
        assert_eq!(
            in_list_order(&["Seniors", "Jeunes", "Seniors"], &PUBLICS),
            Ok("Jeunes|Seniors".into())
        );
        assert_eq!(
            in_list_order(&["Retraités"], &PUBLICS),
            Err("Retraités".into())
        );
        assert_eq!(in_list_order(&[], &PUBLICS), Ok(String::new()));
    }

    #[test]
    fn a_venue_becomes_a_row_in_the_standards_order() {
        let v = PublishedVenue {
            id: 3,
            siret: "21690123000005",
            name: "Médiathèque de la Part-Dieu",
            commune_insee: "69383",
            address: "30 boulevard Marius-Vivier-Merle, 69003 Lyon",
            contact: "04 78 62 18 00",
            opening_hours: "mardi–samedi 10 h–18 h",
            accessibility: "",
            updated_on: time::macros::date!(2026 - 12 - 03),
            services: vec![
                (SERVICES[6], ServiceFormat::Collective),
                (SERVICES[1], ServiceFormat::Both),
                (SERVICES[1], ServiceFormat::Individual),
            ],
            source: "Opérateur",
            publics: "Seniors|Inconnu|Jeunes",
            specific_support: "Surdité",
        };
        let r = row(&v).unwrap();
        assert_eq!(
            (r[22].as_str(), r[23].as_str()),
            ("Seniors|Jeunes", "Surdité")
        );
        assert_eq!(r[0], "passnum-lieu-3");
        assert_eq!(
            (r[3].as_str(), r[4].as_str(), r[5].as_str()),
            ("Lyon 3e Arrondissement", "69003", "69383")
        );
        assert_eq!(r[11], "+33478621800");
        assert_eq!(r[20], "2026-12-03");
        assert_eq!(
            r[21],
            "Maîtrise des outils numériques du quotidien|Compréhension du monde numérique"
        );
        assert_eq!(r[28], "Se présenter|Téléphoner");
        assert_eq!(r[29], "Accompagnement individuel|Dans un atelier collectif");
        assert!(r[16].starts_with("Horaires : mardi–samedi 10 h–18 h."));
        let no_address = PublishedVenue { address: " ", ..v };
        assert_eq!(row(&no_address), Err("adresse manquante"));
    }
}
