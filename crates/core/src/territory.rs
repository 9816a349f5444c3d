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

/// Whether a perimeter entry of an order (a commune or a département, by code) lies inside
/// the territory `code` of `level`: a territorial hub follows the orders of its territory.
/// A département never lies inside an EPCI or a commune.
pub fn within(level: Level, code: &str, entry_is_commune: bool, entry: &str) -> bool {
    if entry_is_commune {
        return code_of(entry, level) == Some(code);
    }
    match level {
        Level::Departement => entry == code,
        Level::Region => table().region_of.get(entry).copied() == Some(code),
        Level::Commune | Level::Epci => false,
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
        let lyon_metropole = code_of("69123", Level::Epci).unwrap();
        assert!(within(Level::Epci, lyon_metropole, true, "69266"));
        assert!(
            !within(Level::Epci, lyon_metropole, true, "69264"),
            "Villefranche"
        );
        assert!(within(Level::Departement, "69", true, "69264"));
        assert!(within(Level::Departement, "69", false, "69"));
        assert!(!within(Level::Departement, "69", false, "01"));
        assert!(
            within(Level::Region, "84", false, "01"),
            "Ain, Auvergne-Rhône-Alpes"
        );
        assert!(!within(Level::Epci, lyon_metropole, false, "69"));
    }
}
