//! The embedded list of French communes (data/communes.tsv, built by scripts/build-communes.sh).
//!
//! Parsed once on first use into a map by INSEE code; every perimeter and venue commune is
//! checked against it, so a typo in a code is refused instead of silently excluding a town.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::InseeCode;

const COMMUNES_TSV: &str = include_str!("../../../data/communes.tsv");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commune {
    pub insee: &'static str,
    pub name: &'static str,
    pub departement: &'static str,
    pub postcodes: Vec<&'static str>,
    pub population: i64,
}

pub struct Communes {
    by_code: HashMap<&'static str, Commune>,
}

impl Communes {
    pub fn get(&self, code: &InseeCode) -> Option<&Commune> {
        self.by_code.get(code.as_str())
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Commune> {
        self.by_code.values()
    }
}

/// The embedded list. The file is part of the build, so a malformed line is a build defect
/// caught by the tests below, not a run-time condition.
pub fn communes() -> &'static Communes {
    static LIST: OnceLock<Communes> = OnceLock::new();
    LIST.get_or_init(|| {
        let by_code = COMMUNES_TSV
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let f: Vec<&'static str> = line.split('\t').collect();
                let c = Commune {
                    insee: f[0],
                    name: f[1],
                    departement: f[2],
                    postcodes: f[3].split(',').filter(|p| !p.is_empty()).collect(),
                    population: f[4].parse().unwrap_or(0),
                };
                (c.insee, c)
            })
            .collect();
        Communes { by_code }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DepartementCode;

    #[test]
    fn every_line_is_a_well_formed_commune() {
        let lines = COMMUNES_TSV.lines().skip(1).filter(|l| !l.is_empty());
        let mut n = 0;
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "{line}");
            let code = InseeCode::parse(f[0]).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(code.as_str(), f[0], "codes are stored upper-case");
            DepartementCode::parse(f[2]).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert!(!f[1].is_empty());
            assert!(f[4].parse::<i64>().is_ok(), "{line}");
            n += 1;
        }
        assert_eq!(communes().len(), n, "no code appears twice");
        assert!(n > 34_000);
    }

    #[test]
    fn knows_lyon_ajaccio_and_the_paris_arrondissements() {
        let lyon = communes().get(&InseeCode::parse("69123").unwrap()).unwrap();
        assert_eq!(lyon.name, "Lyon");
        assert_eq!(lyon.departement, "69");
        assert!(lyon.population > 400_000);
        assert!(lyon.postcodes.contains(&"69001"));
        assert_eq!(
            communes()
                .get(&InseeCode::parse("2a004").unwrap())
                .unwrap()
                .name,
            "Ajaccio"
        );
        assert!(
            communes()
                .get(&InseeCode::parse("75108").unwrap())
                .is_some()
        );
        assert!(
            communes()
                .get(&InseeCode::parse("69999").unwrap())
                .is_none()
        );
    }
}
