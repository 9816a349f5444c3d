//! Names of the territories communes are grouped by in the figures: EPCI (intercommunalités),
//! départements and régions, embedded from `data/territories.tsv` (Etalab's
//! decoupage-administratif, like the communes).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::commune::communes;

const TERRITORIES_TSV: &str = include_str!("../../../data/territories.tsv");

/// The levels at which figures are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Commune,
    Epci,
    Departement,
    Region,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Commune,
        Level::Epci,
        Level::Departement,
        Level::Region,
    ];
    pub fn slug(self) -> &'static str {
        match self {
            Level::Commune => "commune",
            Level::Epci => "epci",
            Level::Departement => "departement",
            Level::Region => "region",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.slug() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Level::Commune => "Commune",
            Level::Epci => "Intercommunalité (EPCI)",
            Level::Departement => "Département",
            Level::Region => "Région",
        }
    }
}

struct Table {
    names: HashMap<(&'static str, &'static str), &'static str>,
    region_of: HashMap<&'static str, &'static str>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut names = HashMap::new();
        let mut region_of = HashMap::new();
        for line in TERRITORIES_TSV.lines().skip(1).filter(|l| !l.is_empty()) {
            let f: Vec<&'static str> = line.split('\t').collect();
            names.insert((f[0], f[1]), f[2]);
            if f[0] == "departement" && !f[3].is_empty() {
                region_of.insert(f[1], f[3]);
            }
        }
        Table { names, region_of }
    })
}

/// The territory a commune belongs to at `level` (its code), if known.
pub fn code_of(insee: &str, level: Level) -> Option<&'static str> {
    let c = communes().by_insee(insee)?;
    match level {
        Level::Commune => Some(c.insee),
        Level::Epci => c.epci,
        Level::Departement => Some(c.departement),
        Level::Region => table().region_of.get(c.departement).copied(),
    }
}

/// The name of a territory, if the embedded data knows it.
pub fn name_of(level: Level, code: &str) -> Option<&'static str> {
    match level {
        Level::Commune => communes().name_of(code),
        _ => table().names.get(&(level.slug(), code)).copied(),
    }
}

/// "Villeurbanne (69266)", "Rhône (69)": a territory as people read it, its code kept so that
/// two of the same name stay apart.
pub fn label_of(level: Level, code: &str) -> String {
    match name_of(level, code) {
        Some(name) => format!("{name} ({code})"),
        None => format!("{} {code}", level.label()),
    }
}

/// The région of a département, by code.
pub fn region_of_departement(departement: &str) -> Option<&'static str> {
    table().region_of.get(departement).copied()
}

/// Whether a perimeter entry of an order (`entry` of `entry_level`) lies wholly inside the
/// territory `code` of `level`: a territorial hub follows the orders of its territory. A
/// territory of a level above `level` never lies inside it; an EPCI lies inside a département
/// or a région when every one of its communes does.
pub fn within(level: Level, code: &str, entry_level: Level, entry: &str) -> bool {
    match entry_level {
        Level::Commune => {
            code_of(entry, level) == Some(code)
                || crate::commune::city_of_arrondissement(entry)
                    .is_some_and(|city| code_of(city, level) == Some(code))
        }
        Level::Epci => {
            let mut members = communes()
                .iter()
                .filter(|c| c.epci == Some(entry))
                .peekable();
            members.peek().is_some() && members.all(|c| code_of(c.insee, level) == Some(code))
        }
        Level::Departement => match level {
            Level::Departement => entry == code,
            Level::Region => region_of_departement(entry) == Some(code),
            Level::Commune | Level::Epci => false,
        },
        Level::Region => level == Level::Region && entry == code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commune_belongs_to_named_territories() {
        // Villeurbanne: Métropole de Lyon, Rhône, Auvergne-Rhône-Alpes.
        assert_eq!(code_of("69266", Level::Departement), Some("69"));
        let epci = code_of("69266", Level::Epci).expect("EPCI");
        assert!(name_of(Level::Epci, epci).expect("name").contains("Lyon"));
        assert_eq!(name_of(Level::Departement, "69"), Some("Rhône"));
        assert_eq!(code_of("69266", Level::Region), Some("84"));
        assert_eq!(name_of(Level::Region, "84"), Some("Auvergne-Rhône-Alpes"));
        assert_eq!(name_of(Level::Commune, "69266"), Some("Villeurbanne"));
        assert_eq!(code_of("00000", Level::Commune), None);
    }

    #[test]
    fn every_commune_epci_and_departement_has_a_name() {
        for c in communes().iter() {
            assert!(
                name_of(Level::Departement, c.departement).is_some(),
                "{}",
                c.insee
            );
            if let Some(e) = c.epci {
                assert!(name_of(Level::Epci, e).is_some(), "{} {e}", c.insee);
            }
        }
    }

    #[test]
    fn an_order_perimeter_lies_inside_a_territory_or_not() {
        use Level::*;
        let lyon_metropole = code_of("69123", Epci).unwrap();
        assert!(within(Epci, lyon_metropole, Commune, "69266"));
        assert!(
            within(Epci, lyon_metropole, Commune, "69381"),
            "an arrondissement"
        );
        assert!(
            !within(Epci, lyon_metropole, Commune, "69264"),
            "Villefranche"
        );
        assert!(within(Departement, "69", Commune, "69264"));
        assert!(within(Departement, "69", Departement, "69"));
        assert!(!within(Departement, "69", Departement, "01"));
        assert!(
            within(Region, "84", Departement, "01"),
            "Ain, Auvergne-Rhône-Alpes"
        );
        assert!(!within(Epci, lyon_metropole, Departement, "69"));
        assert!(within(Departement, "69", Epci, lyon_metropole));
        assert!(within(Region, "84", Epci, lyon_metropole));
        assert!(within(Epci, lyon_metropole, Epci, lyon_metropole));
        assert!(!within(Departement, "01", Epci, lyon_metropole));
        assert!(within(Region, "84", Region, "84") && !within(Departement, "69", Region, "84"));
        assert_eq!(label_of(Departement, "69"), "Rhône (69)");
    }
}
