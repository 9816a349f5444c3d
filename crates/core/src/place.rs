//! Places: INSEE commune codes and département codes, the units of an order's perimeter.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error("« {0} » n'est pas un code INSEE de commune (5 caractères, par exemple 69123).")]
    BadInsee(String),
    #[error("« {0} » n'est pas un code de département (par exemple 69, 2A ou 974).")]
    BadDepartement(String),
    #[error(
        "Aucune commune n'a le code INSEE « {0} » : vérifiez-le sur le Code officiel géographique."
    )]
    UnknownCommune(String),
    #[error(
        "« {0} » n'est pas le numéro SIREN d'une intercommunalité (EPCI) connue : 9 chiffres, par exemple 200046977 pour la Métropole de Lyon."
    )]
    UnknownEpci(String),
    #[error("« {0} » n'est pas le code d'une région (par exemple 84 pour Auvergne-Rhône-Alpes).")]
    UnknownRegion(String),
    #[error("{inner} est déjà dans {outer} : retirez l'un des deux du territoire.")]
    Overlap { inner: String, outer: String },
}

/// The INSEE code of a commune ("code officiel géographique"), e.g. 69123 for Lyon, 2A004 for Ajaccio.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct InseeCode(String);

/// A département code: 01…95 (2A and 2B for Corsica, no 20), 971…976 overseas.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct DepartementCode(String);

/// The SIREN of an intercommunalité (EPCI) the embedded data knows, e.g. 200046977 for the
/// Métropole de Lyon.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct EpciCode(String);

/// The INSEE code of a région the embedded data knows, e.g. 84 for Auvergne-Rhône-Alpes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

/// `code` if the embedded territory data knows it at `level`; otherwise `unknown` of what was
/// typed, cut to a readable length.
fn known(
    level: crate::territory::Level,
    code: String,
    input: &str,
    unknown: fn(String) -> PlaceError,
) -> Result<String, PlaceError> {
    match crate::territory::name_of(level, &code) {
        Some(_) => Ok(code),
        None => Err(unknown(crate::text::kept(
            input,
            crate::text::MAX_TYPED_ID_CHARS,
        ))),
    }
}

impl EpciCode {
    /// A SIREN as typed, spaces allowed ("200 046 977").
    pub fn parse_known(input: &str) -> Result<Self, PlaceError> {
        let code = input.chars().filter(|c| !c.is_whitespace()).collect();
        known(
            crate::territory::Level::Epci,
            code,
            input,
            PlaceError::UnknownEpci,
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RegionCode {
    pub fn parse_known(input: &str) -> Result<Self, PlaceError> {
        let code = input.trim().to_string();
        known(
            crate::territory::Level::Region,
            code,
            input,
            PlaceError::UnknownRegion,
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl DepartementCode {
    pub fn parse(input: &str) -> Result<Self, PlaceError> {
        let s = input.trim().to_ascii_uppercase();
        let ok = match s.len() {
            2 => {
                s == "2A"
                    || s == "2B"
                    || (s.bytes().all(|b| b.is_ascii_digit())
                        && s != "00"
                        && s != "20"
                        && s.as_str() <= "95")
            }
            3 => matches!(s.as_str(), "971" | "972" | "973" | "974" | "976"),
            _ => false,
        };
        if ok {
            Ok(Self(s))
        } else {
            Err(PlaceError::BadDepartement(crate::text::kept(
                input,
                crate::text::MAX_TYPED_ID_CHARS,
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl InseeCode {
    pub fn parse(input: &str) -> Result<Self, PlaceError> {
        let s = input.trim().to_ascii_uppercase();
        let bad =
            || PlaceError::BadInsee(crate::text::kept(input, crate::text::MAX_TYPED_ID_CHARS));
        // ASCII first: the slices below count bytes, and "é" is two of them.
        if !s.is_ascii() || s.len() != 5 || !s[2..].bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let dep = if s.starts_with("97") {
            &s[..3]
        } else {
            &s[..2]
        };
        DepartementCode::parse(dep).map_err(|_| bad())?;
        Ok(Self(s))
    }

    /// Parses a code and checks that it names a commune of the embedded list.
    pub fn parse_known(input: &str) -> Result<Self, PlaceError> {
        let code = Self::parse(input)?;
        if crate::commune::communes().get(&code).is_none() {
            return Err(PlaceError::UnknownCommune(code.0));
        }
        Ok(code)
    }

    pub fn departement(&self) -> DepartementCode {
        let len = if self.0.starts_with("97") { 3 } else { 2 };
        DepartementCode(self.0[..len].to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InseeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for DepartementCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_communes_and_derives_departement() {
        assert_eq!(
            InseeCode::parse("69123").unwrap().departement().as_str(),
            "69"
        );
        assert_eq!(
            InseeCode::parse("2a004").unwrap().departement().as_str(),
            "2A"
        );
        assert_eq!(
            InseeCode::parse("97411").unwrap().departement().as_str(),
            "974"
        );
        for bad in ["6912", "20004", "00123", "97512", "ABCDE", "99123"] {
            assert!(InseeCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn knows_epcis_and_regions_by_code() {
        assert_eq!(
            EpciCode::parse_known(" 200 046 977 ").unwrap().as_str(),
            "200046977"
        );
        assert_eq!(RegionCode::parse_known("84").unwrap().as_str(), "84");
        for bad in ["200046978", "69", "", "abc"] {
            assert!(EpciCode::parse_known(bad).is_err(), "{bad}");
        }
        for bad in ["69", "99", "8 4", "Bretagne"] {
            assert!(RegionCode::parse_known(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_departements() {
        for good in ["01", "2B", "95", "976"] {
            assert!(DepartementCode::parse(good).is_ok(), "{good}");
        }
        for bad in ["20", "96", "975", "1", "00"] {
            assert!(DepartementCode::parse(bad).is_err(), "{bad}");
        }
    }
}
