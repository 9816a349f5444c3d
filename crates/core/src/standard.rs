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
