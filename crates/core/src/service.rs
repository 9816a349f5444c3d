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

/// A service as the operator types it (page, API): its code gives its level and category,
/// the names are what people read. Checked once into a `Service`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ServiceDraft {
    pub code: String,
    pub level_name: String,
    pub category_name: String,
    pub name: String,
}

/// What is wrong with a typed service: each has a stable code and a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftError {
    Code,
    Level,
    LevelName,
    CategoryName,
    Name,
}

impl DraftError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Code => "invalid_service_code",
            Self::Level => "invalid_service_level",
            Self::LevelName => "invalid_level_name",
            Self::CategoryName => "invalid_category_name",
            Self::Name => "invalid_service_name",
        }
    }

    /// The field the error belongs to, as the forms name it.
    pub fn field(self) -> &'static str {
        match self {
            Self::Code | Self::Level => "code",
            Self::LevelName => "level_name",
            Self::CategoryName => "category_name",
            Self::Name => "name",
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::Code => {
                "code de service invalide : trois nombres séparés par des points, comme 2.1.07"
            }
            Self::Level => "le niveau doit être 1, 2 ou 3 (le premier nombre du code)",
            Self::LevelName => "le nom du niveau doit faire de 1 à 200 caractères, sur une ligne",
            Self::CategoryName => {
                "le nom de la catégorie doit faire de 1 à 200 caractères, sur une ligne"
            }
            Self::Name => "le nom du service doit faire de 1 à 200 caractères, sur une ligne",
        }
    }
}

impl std::fmt::Display for DraftError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.reason();
        let mut c = r.chars();
        match c.next() {
            Some(first) => write!(f, "{}{}.", first.to_uppercase(), c.as_str()),
            None => Ok(()),
        }
    }
}

fn one_line_name(s: &str) -> Option<String> {
    let s = s.trim();
    let n = s.chars().count();
    ((1..=crate::text::MAX_NAME_CHARS).contains(&n) && !s.chars().any(char::is_control))
        .then(|| s.to_string())
}

/// A typed service, checked: level and category come from its code. A level or category name
/// left empty keeps the name it already has (required when the level or category is new).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedDraft {
    pub code: ServiceCode,
    pub level: i64,
    pub category_code: String,
    pub level_name: Option<String>,
    pub category_name: Option<String>,
    pub name: String,
}

impl CheckedDraft {
    /// The service, once the names left empty are known (`None`: still unknown, a new level or
    /// category without a name).
    pub fn with_names(
        &self,
        level_name: Option<&str>,
        category_name: Option<&str>,
    ) -> Result<Service, DraftError> {
        Ok(Service {
            code: self.code.clone(),
            level: self.level,
            level_name: self
                .level_name
                .clone()
                .or(level_name.map(str::to_string))
                .ok_or(DraftError::LevelName)?,
            category_code: self.category_code.clone(),
            category_name: self
                .category_name
                .clone()
                .or(category_name.map(str::to_string))
                .ok_or(DraftError::CategoryName)?,
            name: self.name.clone(),
            active: true,
            standard_service: String::new(),
        })
    }
}

impl ServiceDraft {
    /// Level and category from the code ("2.1.07": level 2, category 2.1), names trimmed.
    pub fn check(&self) -> Result<CheckedDraft, DraftError> {
        let code = ServiceCode::parse(&self.code).ok_or(DraftError::Code)?;
        let mut parts = code.as_str().split('.');
        let level: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or(DraftError::Code)?;
        if !(1..=3).contains(&level) {
            return Err(DraftError::Level);
        }
        let category_code = format!("{level}.{}", parts.next().ok_or(DraftError::Code)?);
        let optional = |text: &str, e: DraftError| -> Result<Option<String>, DraftError> {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                one_line_name(text).map(Some).ok_or(e)
            }
        };
        Ok(CheckedDraft {
            level,
            level_name: optional(&self.level_name, DraftError::LevelName)?,
            category_code,
            category_name: optional(&self.category_name, DraftError::CategoryName)?,
            name: one_line_name(&self.name).ok_or(DraftError::Name)?,
            code,
        })
    }
}

/// What changed in a service's names, in sentences for the référentiel's history (`None`
/// before: it is new).
pub fn name_changes(before: Option<&Service>, after: &Service) -> Vec<String> {
    let Some(b) = before else {
        return vec![format!(
            "Service créé : « {} » (niveau {} « {} », catégorie {} « {} »).",
            after.name, after.level, after.level_name, after.category_code, after.category_name
        )];
    };
    let mut out = Vec::new();
    if b.name != after.name {
        out.push(format!(
            "Service renommé : « {} » → « {} ».",
            b.name, after.name
        ));
    }
    if b.category_name != after.category_name {
        out.push(format!(
            "Catégorie {} renommée : « {} » → « {} ».",
            after.category_code, b.category_name, after.category_name
        ));
    }
    if b.level_name != after.level_name {
        out.push(format!(
            "Niveau {} renommé : « {} » → « {} ».",
            after.level, b.level_name, after.level_name
        ));
    }
    out
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
            let level = rec[0].trim();
            if level.parse::<i64>().is_err() {
                return Err(err("niveau non numérique"));
            }
            if !rec[4].trim().starts_with(&format!("{}.", rec[2].trim())) {
                return Err(err("le code de service ne correspond pas à sa catégorie"));
            }
            let draft = ServiceDraft {
                code: rec[4].to_string(),
                level_name: rec[1].to_string(),
                category_name: rec[3].to_string(),
                name: rec[5].to_string(),
            };
            let service = draft
                .check()
                .and_then(|d| d.with_names(None, None))
                .map_err(|e| err(e.reason()))?;
            if service.level.to_string() != level {
                return Err(err("le niveau ne correspond pas au code de service"));
            }
            if !seen.insert(service.code.clone()) {
                return Err(err("code de service en double"));
            }
            services.push(service);
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
    fn a_typed_service_takes_its_level_and_category_from_its_code() {
        let d = |code: &str, name: &str| ServiceDraft {
            code: code.into(),
            level_name: " Niveau 2 ".into(),
            category_name: "Communiquer".into(),
            name: name.into(),
        };
        let s = d(" 2.10.07 ", " Visio avec ses proches ").check().unwrap();
        assert_eq!((s.level, s.category_code.as_str()), (2, "2.10"));
        assert_eq!(s.level_name.as_deref(), Some("Niveau 2"));
        assert_eq!(s.name, "Visio avec ses proches");
        let full = s.with_names(Some("ignoré"), None).unwrap();
        assert_eq!(full.level_name, "Niveau 2");
        assert!(full.active && full.standard_service.is_empty());
        assert_eq!(d("4.1.01", "X").check(), Err(DraftError::Level));
        assert_eq!(d("0.1.01", "X").check(), Err(DraftError::Level));
        assert_eq!(d("2.1", "X").check(), Err(DraftError::Code));
        assert_eq!(d("2.1.07", "  ").check(), Err(DraftError::Name));
        assert_eq!(d("2.1.07", "deux\nlignes").check(), Err(DraftError::Name));
        assert_eq!(d("2.1.07", &"x".repeat(201)).check(), Err(DraftError::Name));
        // An empty category name keeps the existing one, and is refused for a new category.
        let mut no_cat = d("2.1.07", "X");
        no_cat.category_name = " ".into();
        let checked = no_cat.check().unwrap();
        assert_eq!(checked.category_name, None);
        assert_eq!(
            checked
                .with_names(None, Some("Communiquer"))
                .unwrap()
                .category_name,
            "Communiquer"
        );
        assert_eq!(
            checked.with_names(None, None),
            Err(DraftError::CategoryName)
        );
        no_cat.category_name = "a\tb".into();
        assert_eq!(no_cat.check(), Err(DraftError::CategoryName));
        assert_eq!(
            DraftError::Level.to_string(),
            "Le niveau doit être 1, 2 ou 3 (le premier nombre du code)."
        );
    }

    #[test]
    fn the_history_says_what_was_renamed() {
        let c = ServiceCatalog::parse_csv(DEFAULT_REFERENTIEL_CSV).unwrap();
        let before = c.services[0].clone();
        assert_eq!(name_changes(Some(&before), &before), Vec::<String>::new());
        let mut after = before.clone();
        after.name = "Nouveau nom".into();
        after.category_name = "Nouvelle catégorie".into();
        let said = name_changes(Some(&before), &after);
        assert_eq!(said.len(), 2);
        assert_eq!(
            said[0],
            format!("Service renommé : « {} » → « Nouveau nom ».", before.name)
        );
        assert!(said[1].starts_with(&format!("Catégorie {} renommée", before.category_code)));
        assert!(name_changes(None, &after)[0].starts_with("Service créé : « Nouveau nom »"));
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
