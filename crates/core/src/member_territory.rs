//! Member territories of an order (issue 16): the communes, or groups of communes, that joined
//! a programme by a délibération, often with a convention de mandat, and receive a share of
//! the order's booklets to pass on to their structures. A territory is stored as the communes
//! it covers (an intercommunalité typed by its SIREN is expanded to its communes, a city keeps
//! its arrondissements), all inside the order's perimeter, none in two territories of the same
//! order.

use std::collections::BTreeSet;

use time::Date;

use crate::commune::{city_of_arrondissement, communes};
use crate::order::Perimeter;
use crate::territory::{Level, label_of};
use crate::{EpciCode, InseeCode, PlaceError};

/// A programme of 500 member territories is the largest the issue names; a bound keeps one
/// form from creating an unbounded list.
pub const MAX_TERRITORIES_PER_ORDER: usize = 2_000;
/// More communes than the largest intercommunalité (about 200) and than a département.
pub const MAX_COMMUNES_PER_TERRITORY: usize = 1_000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_REFERENCE_CHARS: usize = 100;

/// A délibération or a convention: its reference ("2026-045") and the day it was adopted or
/// signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Act {
    pub reference: String,
    pub date: Date,
}

/// A member territory as the funder declares it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTerritory {
    pub name: String,
    pub communes: BTreeSet<InseeCode>,
    pub deliberation: Act,
    pub convention: Option<Act>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerritoryError {
    #[error(
        "Donnez un nom au territoire (200 caractères au plus), par exemple « Commune de Liévin »."
    )]
    BadName,
    #[error(
        "Indiquez au moins une commune du territoire : codes INSEE (par exemple 62510) ou SIREN d'une intercommunalité, séparés par des virgules."
    )]
    NoCommune,
    #[error("Un territoire compte au plus 1 000 communes : découpez-le.")]
    TooManyCommunes,
    #[error("{0}")]
    Place(#[from] PlaceError),
    #[error(
        "{0} est hors du périmètre de la commande : retirez-la du territoire ou élargissez le périmètre."
    )]
    OutsidePerimeter(String),
    #[error(
        "{commune} est déjà dans le territoire « {other} » : une commune adhère une seule fois."
    )]
    Overlap { commune: String, other: String },
    #[error("Le territoire « {0} » existe déjà dans cette commande : choisissez un autre nom.")]
    DuplicateName(String),
    #[error(
        "Indiquez la référence et la date (JJ/MM/AAAA) de la délibération d'adhésion, par exemple « 2026-045 » et 12/03/2026."
    )]
    MissingDeliberation,
    #[error(
        "Convention : indiquez à la fois sa référence et sa date (JJ/MM/AAAA), ou laissez les deux champs vides."
    )]
    HalfConvention,
    #[error("La référence d'une délibération ou d'une convention tient en 100 caractères au plus.")]
    LongReference,
    #[error("La date « {0} » n'est pas lisible : écrivez-la JJ/MM/AAAA, par exemple 12/03/2026.")]
    BadDate(String),
    #[error("Une commande compte au plus 2 000 territoires membres.")]
    TooManyTerritories,
}

impl crate::Refusal for TerritoryError {
    fn code(&self) -> &'static str {
        match self {
            Self::Place(_) => "invalid_place",
            Self::OutsidePerimeter(_) => "outside_perimeter",
            Self::Overlap { .. } => "territory_overlap",
            Self::DuplicateName(_) => "territory_name_taken",
            Self::TooManyTerritories => "too_many_territories",
            _ => "invalid_territory",
        }
    }

    fn kind(&self) -> crate::RefusalKind {
        match self {
            Self::Overlap { .. } | Self::DuplicateName(_) | Self::TooManyTerritories => {
                crate::RefusalKind::Conflict
            }
            _ => crate::RefusalKind::Invalid,
        }
    }
}

/// One territory already declared on the order: its name and communes.
pub struct Declared<'a> {
    pub name: &'a str,
    pub communes: &'a BTreeSet<InseeCode>,
}

impl NewTerritory {
    /// Reads what a form or the command line gives: the name, the codes (communes or EPCI
    /// SIRENs, separated by commas, semicolons or spaces), the délibération (required) and the
    /// convention (both parts or neither).
    pub fn parse(
        name: &str,
        codes: &str,
        deliberation: (&str, &str),
        convention: (&str, &str),
    ) -> Result<Self, TerritoryError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(TerritoryError::BadName);
        }
        let communes = parse_communes(codes)?;
        let deliberation = act(deliberation, TerritoryError::MissingDeliberation)?
            .ok_or(TerritoryError::MissingDeliberation)?;
        let convention = act(convention, TerritoryError::HalfConvention)?;
        Ok(Self {
            name: name.to_string(),
            communes,
            deliberation,
            convention,
        })
    }

    /// Checks the territory against the order: its communes inside the perimeter, none
    /// already in a declared territory, its name not taken.
    pub fn check_against(
        &self,
        perimeter: &Perimeter,
        declared: &[Declared<'_>],
    ) -> Result<(), TerritoryError> {
        if declared.len() >= MAX_TERRITORIES_PER_ORDER {
            return Err(TerritoryError::TooManyTerritories);
        }
        check_name(&self.name, declared)?;
        check_communes(&self.communes, perimeter, declared)
    }
}

/// A declared territory corrected: its name (a typo), its communes (a code typed wrongly, a
/// commune that joins or leaves) and the reference and date of its délibération (typed
/// wrongly: the act itself is what the council voted). The convention has its own form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerritoryAmendment {
    pub name: String,
    pub communes: BTreeSet<InseeCode>,
    pub deliberation: Act,
}

impl TerritoryAmendment {
    pub fn parse(
        name: &str,
        codes: &str,
        deliberation: (&str, &str),
    ) -> Result<Self, TerritoryError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(TerritoryError::BadName);
        }
        Ok(Self {
            name: name.to_string(),
            communes: parse_communes(codes)?,
            deliberation: act(deliberation, TerritoryError::MissingDeliberation)?
                .ok_or(TerritoryError::MissingDeliberation)?,
        })
    }

    /// Checks it against the order's other territories (not the one amended) and perimeter.
    pub fn check_against(
        &self,
        perimeter: &Perimeter,
        others: &[Declared<'_>],
    ) -> Result<(), TerritoryError> {
        check_name(&self.name, others)?;
        check_communes(&self.communes, perimeter, others)
    }
}

/// A territory's name is unique in its order, whatever its case.
fn check_name(name: &str, others: &[Declared<'_>]) -> Result<(), TerritoryError> {
    if others
        .iter()
        .any(|d| d.name.to_lowercase() == name.to_lowercase())
    {
        return Err(TerritoryError::DuplicateName(name.to_string()));
    }
    Ok(())
}

/// A territory's communes against the order's perimeter and the other territories: each
/// commune inside the perimeter, none (nor its city or arrondissement) in another territory.
pub fn check_communes(
    communes: &BTreeSet<InseeCode>,
    perimeter: &Perimeter,
    others: &[Declared<'_>],
) -> Result<(), TerritoryError> {
    if let Some(c) = communes.iter().find(|c| !perimeter.contains(c)) {
        return Err(TerritoryError::OutsidePerimeter(label_of(
            Level::Commune,
            c.as_str(),
        )));
    }
    for d in others {
        if let Some(c) = communes.iter().find(|c| overlaps(c, d.communes)) {
            return Err(TerritoryError::Overlap {
                commune: label_of(Level::Commune, c.as_str()),
                other: d.name.to_string(),
            });
        }
    }
    Ok(())
}

/// Commune codes and EPCI SIRENs, expanded to communes. A city given with one of its own
/// arrondissements is refused as an overlap, like a commune given with its EPCI.
pub fn parse_communes(codes: &str) -> Result<BTreeSet<InseeCode>, TerritoryError> {
    let mut out = BTreeSet::new();
    for code in codes
        .split([',', ';', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let members: Vec<InseeCode> = if code.len() == 9 {
            let epci = EpciCode::parse_known(code)?;
            communes()
                .iter()
                .filter(|c| c.epci == Some(epci.as_str()))
                .filter_map(|c| InseeCode::parse(c.insee).ok())
                .collect()
        } else {
            vec![InseeCode::parse_known(code)?]
        };
        for c in members {
            if overlaps(&c, &out) {
                return Err(PlaceError::Overlap {
                    inner: label_of(Level::Commune, c.as_str()),
                    outer: "les codes donnés".into(),
                }
                .into());
            }
            out.insert(c);
        }
        if out.len() > MAX_COMMUNES_PER_TERRITORY {
            return Err(TerritoryError::TooManyCommunes);
        }
    }
    if out.is_empty() {
        return Err(TerritoryError::NoCommune);
    }
    Ok(out)
}

/// Whether `c` is in `set`, directly or as a city and one of its arrondissements.
pub fn overlaps(c: &InseeCode, set: &BTreeSet<InseeCode>) -> bool {
    let city_of = |x: &InseeCode| city_of_arrondissement(x.as_str()).map(str::to_string);
    set.contains(c)
        || city_of(c).is_some_and(|city| set.iter().any(|x| x.as_str() == city))
        || set
            .iter()
            .any(|x| city_of(x).as_deref() == Some(c.as_str()))
}

/// Whether the territory covers a structure's commune (a city covers its arrondissements).
pub fn covers(communes: &BTreeSet<InseeCode>, commune: &InseeCode) -> bool {
    communes.contains(commune)
        || city_of_arrondissement(commune.as_str())
            .is_some_and(|city| communes.iter().any(|x| x.as_str() == city))
}

/// A convention recorded after the territory joined: both parts required.
pub fn parse_convention(reference: &str, date: &str) -> Result<Act, TerritoryError> {
    act((reference, date), TerritoryError::HalfConvention)?.ok_or(TerritoryError::HalfConvention)
}

/// Both parts of an act, or neither (`None`); one part alone is `half`.
fn act(
    (reference, date): (&str, &str),
    half: TerritoryError,
) -> Result<Option<Act>, TerritoryError> {
    let reference = reference.trim();
    let date = date.trim();
    match (reference.is_empty(), date.is_empty()) {
        (true, true) => Ok(None),
        (false, false) if reference.chars().count() > MAX_REFERENCE_CHARS => {
            Err(TerritoryError::LongReference)
        }
        (false, false) => Ok(Some(Act {
            reference: reference.to_string(),
            date: parse_day(date)
                .ok_or_else(|| TerritoryError::BadDate(crate::text::kept(date, 20)))?,
        })),
        _ => Err(half),
    }
}

/// "12/03/2026" or "2026-03-12", a year in 2000–2100.
pub fn parse_day(s: &str) -> Option<Date> {
    let s = s.trim();
    let (d, m, y) = if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (d, m, y)
    } else {
        let mut parts = s.split('/').map(str::trim);
        let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (d, m, y)
    };
    let year: i32 = y.trim().parse().ok()?;
    if !(2000..=2100).contains(&year) {
        return None;
    }
    let month = time::Month::try_from(m.trim().parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, d.trim().parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perimeter(departements: &[&str]) -> Perimeter {
        Perimeter {
            departements: departements
                .iter()
                .map(|d| crate::DepartementCode::parse(d).expect("dep"))
                .collect(),
            ..Default::default()
        }
    }

    fn codes(list: &[&str]) -> BTreeSet<InseeCode> {
        list.iter()
            .map(|c| InseeCode::parse(c).expect("code"))
            .collect()
    }

    const DELIB: (&str, &str) = ("2026-045", "12/03/2026");

    #[test]
    fn a_territory_is_read_with_its_acts() {
        let t = NewTerritory::parse(" Liévin ", "62510", DELIB, ("CM-12", "2026-04-01"))
            .expect("valid");
        t.check_against(&perimeter(&["62"]), &[]).expect("inside");
        assert_eq!(t.name, "Liévin");
        assert_eq!(t.communes, codes(&["62510"]));
        assert_eq!(t.deliberation.reference, "2026-045");
        assert_eq!(t.deliberation.date, time::macros::date!(2026 - 03 - 12));
        assert_eq!(
            t.convention.expect("convention").date,
            time::macros::date!(2026 - 04 - 01)
        );
    }

    #[test]
    fn an_epci_is_expanded_to_its_communes() {
        // Communauté d'agglomération de Lens-Liévin: 36 communes.
        let t = parse_communes("246200364").expect("epci");
        assert_eq!(t.len(), 36);
        assert!(t.contains(&InseeCode::parse("62510").expect("Liévin")));
    }

    #[test]
    fn wrong_territories_are_refused_with_a_reason() {
        let p = perimeter(&["62"]);
        let none = ("", "");
        let parse = |codes: &str, d: &[Declared<'_>]| {
            NewTerritory::parse("T", codes, DELIB, none)
                .and_then(|t| t.check_against(&p, d).map(|()| t))
        };
        assert_eq!(parse("", &[]), Err(TerritoryError::NoCommune));
        assert!(matches!(
            parse("62999", &[]),
            Err(TerritoryError::Place(PlaceError::UnknownCommune(_)))
        ));
        // Lyon is not in the Pas-de-Calais.
        assert!(matches!(
            parse("69123", &[]),
            Err(TerritoryError::OutsidePerimeter(_))
        ));
        let taken = codes(&["62510"]);
        let declared = [Declared {
            name: "Liévin",
            communes: &taken,
        }];
        assert!(matches!(
            parse("62498, 62510", &declared),
            Err(TerritoryError::Overlap { other, .. }) if other == "Liévin"
        ));
        // The EPCI holds Liévin, declared already.
        assert!(matches!(
            parse("246200364", &declared),
            Err(TerritoryError::Overlap { .. })
        ));
        assert!(matches!(
            NewTerritory::parse("liévin", "62498", DELIB, none)
                .expect("parsed")
                .check_against(&p, &declared),
            Err(TerritoryError::DuplicateName(_))
        ));
        assert_eq!(
            NewTerritory::parse("T", "62498", ("", ""), none),
            Err(TerritoryError::MissingDeliberation)
        );
        assert_eq!(
            NewTerritory::parse("T", "62498", ("", "12/03/2026"), none),
            Err(TerritoryError::MissingDeliberation)
        );
        assert_eq!(
            NewTerritory::parse("T", "62498", DELIB, ("CM-1", "")),
            Err(TerritoryError::HalfConvention)
        );
        assert!(matches!(
            NewTerritory::parse("T", "62498", ("D", "31/02/2026"), none),
            Err(TerritoryError::BadDate(_))
        ));
    }

    #[test]
    fn a_city_and_its_arrondissements_overlap() {
        let paris = codes(&["75056"]);
        let fourth = InseeCode::parse("75104").expect("code");
        assert!(overlaps(&fourth, &paris));
        assert!(overlaps(
            &InseeCode::parse("75056").expect("code"),
            &codes(&["75104"])
        ));
        assert!(!overlaps(&fourth, &codes(&["75105"])));
        assert!(covers(&paris, &fourth));
        assert!(!covers(&codes(&["75105"]), &fourth));
        assert!(matches!(
            parse_communes("75056, 75104"),
            Err(TerritoryError::Place(PlaceError::Overlap { .. }))
        ));
    }

    #[test]
    fn a_convention_recorded_later_needs_both_parts() {
        let c = parse_convention(" CM-12 ", "01/04/2026").expect("valid");
        assert_eq!(
            (c.reference.as_str(), c.date),
            ("CM-12", time::macros::date!(2026 - 04 - 01))
        );
        assert_eq!(
            parse_convention("", ""),
            Err(TerritoryError::HalfConvention)
        );
        assert_eq!(
            parse_convention("CM-12", ""),
            Err(TerritoryError::HalfConvention)
        );
        assert!(matches!(
            parse_convention("CM-12", "32/04/2026"),
            Err(TerritoryError::BadDate(_))
        ));
    }

    #[test]
    fn a_correction_keeps_a_deliberation_whole() {
        let a = TerritoryAmendment::parse("Lyon", "69123", ("D-2026-045", "12/03/2026"))
            .expect("valid");
        assert_eq!(
            (a.deliberation.reference.as_str(), a.deliberation.date),
            ("D-2026-045", time::macros::date!(2026 - 03 - 12))
        );
        assert_eq!(
            TerritoryAmendment::parse("Lyon", "69123", (" ", "12/03/2026")),
            Err(TerritoryError::MissingDeliberation)
        );
        assert!(matches!(
            TerritoryAmendment::parse("Lyon", "69123", ("D-1", "2026-13-01")),
            Err(TerritoryError::BadDate(_))
        ));
    }

    #[test]
    fn days_are_read_in_both_forms() {
        let d = time::macros::date!(2026 - 03 - 12);
        assert_eq!(parse_day("12/03/2026"), Some(d));
        assert_eq!(parse_day(" 12 / 3 / 2026 "), Some(d));
        assert_eq!(parse_day("2026-03-12"), Some(d));
        assert_eq!(parse_day("12/03/26"), None);
        assert_eq!(parse_day("31/02/2026"), None);
        assert_eq!(parse_day("12/03/2026/1"), None);
    }
}
