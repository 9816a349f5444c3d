//! The national référentiel of services: 3 levels, categories, elementary services.
//!
//! It arrives as CSV (`level,level_name,category_code,category_name,service_code,service_name`);
//! an operator may load a longer list in the same format.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ServiceCode(String);

impl ServiceCode {
    /// "2.1.07": level, category within the level, service within the category.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let parts: Vec<&str> = s.split('.').collect();
        let ok = parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Service {
    pub code: ServiceCode,
    pub level: i64,
    pub level_name: String,
    pub category_code: String,
    pub category_name: String,
    pub name: String,
    /// A deactivated service stays (old redemptions keep their meaning) but is offered no
    /// more: no catalogue adds it, no scan is accepted for it.
    pub active: bool,
    /// The national standard's `services` value the operator chose for it; empty: the one of
    /// its category (`standard::standard_service`).
    pub standard_service: String,
}

#[derive(Clone, Debug, Default)]
pub struct ServiceCatalog {
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("Ligne {line} : {reason}.")]
    Line { line: usize, reason: String },
    #[error("Le fichier ne contient aucun service.")]
    Empty,
}

impl ServiceCatalog {
    pub fn parse_csv(text: &str) -> Result<Self, CatalogError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let mut services = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, rec) in reader.records().enumerate() {
            let line = i + 2;
            let err = |reason: &str| CatalogError::Line {
                line,
                reason: reason.to_string(),
            };
            let rec = rec.map_err(|e| err(&e.to_string()))?;
            if rec.len() != 6 {
                return Err(err("6 colonnes attendues"));
            }
            let level: i64 = rec[0]
                .trim()
                .parse()
                .map_err(|_| err("niveau non numérique"))?;
            if !(1..=3).contains(&level) {
                return Err(err("le niveau doit être 1, 2 ou 3"));
            }
            let code =
                ServiceCode::parse(&rec[4]).ok_or_else(|| err("code de service invalide"))?;
            if !code.as_str().starts_with(&format!("{}.", rec[2].trim())) {
                return Err(err("le code de service ne correspond pas à sa catégorie"));
            }
            if !seen.insert(code.clone()) {
                return Err(err("code de service en double"));
            }
            services.push(Service {
                code,
                level,
                level_name: rec[1].trim().to_string(),
                category_code: rec[2].trim().to_string(),
                category_name: rec[3].trim().to_string(),
                name: rec[5].trim().to_string(),
                active: true,
                standard_service: String::new(),
            });
        }
        if services.is_empty() {
            return Err(CatalogError::Empty);
        }
        Ok(Self { services })
    }

    /// The catalogue in the format `parse_csv` reads (and `passnum services load` takes):
    /// what an operator exports, edits in a spreadsheet and loads again.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut rows = vec![[
            "level".to_string(),
            "level_name".into(),
            "category_code".into(),
            "category_name".into(),
            "service_code".into(),
            "service_name".into(),
        ]];
        rows.extend(self.services.iter().map(|s| {
            [
                s.level.to_string(),
                s.level_name.clone(),
                s.category_code.clone(),
                s.category_name.clone(),
                s.code.to_string(),
                s.name.clone(),
            ]
        }));
        for row in rows {
            // Writing to memory cannot fail.
            let _ = w.write_record(&row);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// The référentiel shipped with passnum (copied from the programme's public descriptions,
/// see `data/README.md`).
pub const DEFAULT_REFERENTIEL_CSV: &str = include_str!("../../../data/referentiel.csv");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_shipped_referentiel() {
        let c = ServiceCatalog::parse_csv(DEFAULT_REFERENTIEL_CSV).unwrap();
        assert!(c.services.len() >= 40);
        let levels: std::collections::BTreeSet<_> = c.services.iter().map(|s| s.level).collect();
        assert_eq!(levels.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        let email = c
            .services
            .iter()
            .find(|s| s.code.as_str() == "2.1.07")
            .unwrap();
        assert_eq!(email.name, "Envoyer, recevoir, gérer ses emails");
    }

    #[test]
    fn an_exported_referentiel_loads_back_the_same() {
        let c = ServiceCatalog::parse_csv(DEFAULT_REFERENTIEL_CSV).unwrap();
        let again = ServiceCatalog::parse_csv(&c.to_csv()).unwrap();
        assert_eq!(again.services, c.services);
        // Names with commas and quotes survive.
        assert!(
            c.to_csv()
                .contains("\"Envoyer, recevoir, gérer ses emails\"")
        );
    }

    #[test]
    fn refuses_broken_lines() {
        let head = "level,level_name,category_code,category_name,service_code,service_name\n";
        let bad = format!("{head}4,X,4.1,Y,4.1.01,Z\n");
        assert!(matches!(
            ServiceCatalog::parse_csv(&bad),
            Err(CatalogError::Line { line: 2, .. })
        ));
        let dup = format!("{head}1,A,1.1,B,1.1.01,C\n1,A,1.1,B,1.1.01,D\n");
        assert!(matches!(
            ServiceCatalog::parse_csv(&dup),
            Err(CatalogError::Line { line: 3, .. })
        ));
        let mismatch = format!("{head}1,A,1.2,B,1.1.01,C\n");
        assert!(ServiceCatalog::parse_csv(&mismatch).is_err());
        assert_eq!(
            ServiceCatalog::parse_csv(head).unwrap_err(),
            CatalogError::Empty
        );
    }
}
