//! A venue's catalogue: the services of the référentiel it gives, each individually,
//! collectively or both. The catalogue is the rule: a service outside it is not paid, and a
//! venue with an empty catalogue gives nothing (it cannot be qualified).

use std::collections::BTreeMap;

use crate::service::ServiceCode;

/// How a service is given ("accompagnement individualisé ou en format collectif").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceFormat {
    Individual,
    Collective,
    Both,
}

impl ServiceFormat {
    pub const ALL: [Self; 3] = [Self::Individual, Self::Collective, Self::Both];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Collective => "collective",
            Self::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    /// As a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Individual => "individuel",
            Self::Collective => "collectif",
            Self::Both => "individuel et collectif",
        }
    }

    pub fn individual(self) -> bool {
        self != Self::Collective
    }

    pub fn collective(self) -> bool {
        self != Self::Individual
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("« {0} » n'est pas un code de service (attendu : 2.1.07).")]
    BadCode(String),
    #[error("Le service {0} n'existe pas dans le référentiel, ou n'y est plus proposé.")]
    NotInReferentiel(String),
    #[error("Le format « {0} » n'existe pas : individual, collective ou both.")]
    BadFormat(String),
    #[error("Le catalogue ne peut pas compter plus de {0} services.")]
    TooLong(usize),
}

impl CatalogueError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadCode(_) | Self::NotInReferentiel(_) => "service_unknown",
            Self::BadFormat(_) => "invalid_format",
            Self::TooLong(_) => "catalogue_too_long",
        }
    }
}

/// The most services a catalogue lists (the national référentiel has 129).
pub const MAX_CATALOGUE: usize = 500;

/// A checked catalogue: codes of active services, each once, in code order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalogue(BTreeMap<ServiceCode, ServiceFormat>);

impl Catalogue {
    /// Parses `(code, format)` pairs against the active services of the référentiel. A code
    /// given twice keeps its last format.
    pub fn parse<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
        is_active: impl Fn(&str) -> bool,
    ) -> Result<Self, CatalogueError> {
        let mut map = BTreeMap::new();
        for (code, format) in entries {
            let code = ServiceCode::parse(code)
                .ok_or_else(|| CatalogueError::BadCode(crate::text::kept(code, 20)))?;
            if !is_active(code.as_str()) {
                return Err(CatalogueError::NotInReferentiel(code.to_string()));
            }
            let format = ServiceFormat::parse(format)
                .ok_or_else(|| CatalogueError::BadFormat(crate::text::kept(format, 20)))?;
            map.insert(code, format);
            if map.len() > MAX_CATALOGUE {
                return Err(CatalogueError::TooLong(MAX_CATALOGUE));
            }
        }
        Ok(Self(map))
    }

    pub fn entries(&self) -> impl Iterator<Item = (&ServiceCode, ServiceFormat)> {
        self.0.iter().map(|(c, f)| (c, *f))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What changed from `before`, as a sentence for the venue's history.
    pub fn change_from(&self, before: &Catalogue) -> String {
        let mut added = vec![];
        let mut changed = vec![];
        for (code, format) in self.entries() {
            match before.0.get(code) {
                None => added.push(format!("{code} ({})", format.label())),
                Some(old) if *old != format => changed.push(format!("{code} ({})", format.label())),
                Some(_) => {}
            }
        }
        let removed: Vec<String> = before
            .0
            .keys()
            .filter(|c| !self.0.contains_key(*c))
            .map(|c| c.to_string())
            .collect();
        let mut parts = vec![];
        if !added.is_empty() {
            parts.push(format!("ajouté : {}", added.join(", ")));
        }
        if !changed.is_empty() {
            parts.push(format!("format changé : {}", changed.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("retiré : {}", removed.join(", ")));
        }
        if parts.is_empty() {
            "Catalogue enregistré sans changement.".into()
        } else {
            let mut s = parts.join(" ; ");
            s[..1].make_ascii_uppercase();
            s + "."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(code: &str) -> bool {
        ["1.1.01", "2.1.07", "2.2.01"].contains(&code)
    }

    #[test]
    fn a_catalogue_holds_active_services_of_the_referentiel_with_their_format() {
        let c = Catalogue::parse(
            [
                ("2.1.07", "collective"),
                ("1.1.01", "both"),
                ("2.1.07", "individual"),
            ],
            active,
        )
        .unwrap();
        let entries: Vec<_> = c.entries().map(|(c, f)| (c.as_str(), f)).collect();
        assert_eq!(
            entries,
            [
                ("1.1.01", ServiceFormat::Both),
                ("2.1.07", ServiceFormat::Individual)
            ]
        );
        assert_eq!(
            Catalogue::parse([("9.9.99", "both")], active),
            Err(CatalogueError::NotInReferentiel("9.9.99".into()))
        );
        assert_eq!(
            Catalogue::parse([("2.1", "both")], active)
                .unwrap_err()
                .code(),
            "service_unknown"
        );
        assert_eq!(
            Catalogue::parse([("2.1.07", "en groupe")], active).unwrap_err(),
            CatalogueError::BadFormat("en groupe".into())
        );
    }

    #[test]
    fn a_change_is_told_as_a_sentence() {
        let before = Catalogue::parse([("1.1.01", "both"), ("2.1.07", "both")], active).unwrap();
        let after =
            Catalogue::parse([("2.1.07", "collective"), ("2.2.01", "individual")], active).unwrap();
        assert_eq!(
            after.change_from(&before),
            "Ajouté : 2.2.01 (individuel) ; format changé : 2.1.07 (collectif) ; retiré : 1.1.01."
        );
        assert_eq!(
            before.change_from(&before),
            "Catalogue enregistré sans changement."
        );
    }
}
