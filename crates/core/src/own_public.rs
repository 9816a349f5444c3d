//! Publics a funder defines for one programme (an order), besides the seven national ones.
//!
//! Funders define their own eligible publics ("les femmes de 16-25 ans", "les salariés en
//! reconversion"). They sit next to the national list, never instead of it: a handout records
//! national codes and own codes side by side, so national publics stay comparable from one
//! funder to the next while each funder follows its own. An own public is never deleted — a
//! handout may name it — it is retired: no longer offered, still named in the figures.

use crate::order_options::Public;

/// At most this many own publics per order (retired ones included): a handout form with more
/// checkboxes than that is no longer a counter form.
pub const MAX_OWN_PUBLICS: usize = 20;
pub const MAX_LABEL_CHARS: usize = 80;
pub const MAX_CRITERIA_CHARS: usize = 500;
/// Stored and API codes of own publics are this prefix and the public's number: they can never
/// be mistaken for a national code, and stay the same when the label is reworded.
pub const OWN_CODE_PREFIX: &str = "own_";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct OwnPublicId(pub i64);

/// A public as a handout records it or an order targets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PublicRef {
    National(Public),
    Own(OwnPublicId),
}

impl PublicRef {
    /// "senior", "own_12".
    pub fn code(self) -> String {
        match self {
            Self::National(p) => p.as_str().to_string(),
            Self::Own(id) => format!("{OWN_CODE_PREFIX}{}", id.0),
        }
    }

    /// A stored or typed code; `None` when it is neither a national code nor an own one.
    pub fn parse_code(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(p) = Public::parse(s) {
            return Some(Self::National(p));
        }
        let digits = s.strip_prefix(OWN_CODE_PREFIX)?;
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(|n| Self::Own(OwnPublicId(n)))
    }
}

/// An age band in whole years, bounds included; at least one bound is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AgeBand {
    pub min: Option<u8>,
    pub max: Option<u8>,
}

pub const MAX_AGE: u8 = 120;

impl AgeBand {
    pub fn contains(self, age: u8) -> bool {
        self.min.is_none_or(|m| age >= m) && self.max.is_none_or(|m| age <= m)
    }

    /// "16 à 25 ans", "65 ans et plus", "25 ans au plus".
    pub fn words(self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => format!("{a} ans"),
            (Some(a), Some(b)) => format!("{a} à {b} ans"),
            (Some(a), None) => format!("{a} ans et plus"),
            (None, Some(b)) => format!("{b} ans au plus"),
            (None, None) => "tout âge".to_string(),
        }
    }
}

/// A public of one order, as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OwnPublic {
    pub id: OwnPublicId,
    pub label: String,
    pub age: Option<AgeBand>,
    /// Who belongs to it, in the funder's words (shown to the agent under the checkbox).
    pub criteria: String,
    /// One of the order's target publics (with national ones named on the order).
    pub target: bool,
    /// Retired publics are no longer offered at handouts; their handouts keep them.
    pub retired: bool,
}

impl OwnPublic {
    pub fn code(&self) -> String {
        PublicRef::Own(self.id).code()
    }

    /// "Femmes de 16 à 25 ans (16 à 25 ans)" would repeat itself: the band is added only when
    /// the label does not already say it.
    pub fn long_label(&self) -> String {
        match self.age {
            Some(band) if !self.label.contains(&band.words()) => {
                format!("{} ({})", self.label, band.words())
            }
            _ => self.label.clone(),
        }
    }
}

/// The form as typed.
#[derive(Clone, Debug, Default)]
pub struct OwnPublicRequest {
    pub label: String,
    pub age_min: String,
    pub age_max: String,
    pub criteria: String,
    pub target: bool,
}

/// A checked own public, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOwnPublic {
    pub label: String,
    pub age: Option<AgeBand>,
    pub criteria: String,
    pub target: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OwnPublicError {
    #[error(
        "Donnez au public un nom de 3 à {MAX_LABEL_CHARS} caractères, par exemple « Femmes de 16 à 25 ans »."
    )]
    BadLabel,
    #[error(
        "« {0} » est déjà un public national : cochez-le dans les publics cibles de la commande, \
         il restera comparable d'un commanditaire à l'autre."
    )]
    National(String),
    #[error("Cette commande a déjà un public nommé « {0} » : modifiez-le plutôt.")]
    DuplicateLabel(String),
    #[error("Un âge s'écrit en années entières, de 0 à {MAX_AGE} : par exemple 16 et 25.")]
    BadAge,
    #[error("L'âge minimum dépasse l'âge maximum : inversez-les.")]
    AgeOrder,
    #[error("Les critères font au plus {MAX_CRITERIA_CHARS} caractères : raccourcissez-les.")]
    CriteriaTooLong,
    #[error(
        "Cette commande a déjà {MAX_OWN_PUBLICS} publics propres : modifiez-en un plutôt que d'en ajouter."
    )]
    TooMany,
}

impl crate::Refusal for OwnPublicError {
    fn code(&self) -> &'static str {
        match self {
            Self::BadLabel => "invalid_public_label",
            Self::National(_) => "national_public",
            Self::DuplicateLabel(_) => "public_label_taken",
            Self::BadAge | Self::AgeOrder => "invalid_age_band",
            Self::CriteriaTooLong => "invalid_criteria",
            Self::TooMany => "too_many_publics",
        }
    }

    fn kind(&self) -> crate::RefusalKind {
        match self {
            Self::DuplicateLabel(_) | Self::TooMany => crate::RefusalKind::Conflict,
            _ => crate::RefusalKind::Invalid,
        }
    }
}

impl NewOwnPublic {
    pub fn parse(req: &OwnPublicRequest) -> Result<Self, OwnPublicError> {
        let label = req.label.split_whitespace().collect::<Vec<_>>().join(" ");
        if !(3..=MAX_LABEL_CHARS).contains(&label.chars().count()) {
            return Err(OwnPublicError::BadLabel);
        }
        if let Some(p) = Public::ALL
            .into_iter()
            .find(|p| label_key(p.label()) == label_key(&label))
        {
            return Err(OwnPublicError::National(p.label().to_string()));
        }
        let (min, max) = (age(&req.age_min)?, age(&req.age_max)?);
        if let (Some(a), Some(b)) = (min, max)
            && a > b
        {
            return Err(OwnPublicError::AgeOrder);
        }
        let criteria = req.criteria.trim().replace("\r\n", "\n");
        if criteria.chars().count() > MAX_CRITERIA_CHARS {
            return Err(OwnPublicError::CriteriaTooLong);
        }
        Ok(Self {
            label,
            age: (min.is_some() || max.is_some()).then_some(AgeBand { min, max }),
            criteria,
            target: req.target,
        })
    }

    /// Checks it against the order's other publics (`editing`: the one being changed, not a
    /// duplicate of itself).
    pub fn check_against(
        &self,
        existing: &[OwnPublic],
        editing: Option<OwnPublicId>,
    ) -> Result<(), OwnPublicError> {
        let others = existing.iter().filter(|p| Some(p.id) != editing);
        if let Some(p) = others
            .clone()
            .find(|p| label_key(&p.label) == label_key(&self.label))
        {
            return Err(OwnPublicError::DuplicateLabel(p.label.clone()));
        }
        if editing.is_none() && others.count() >= MAX_OWN_PUBLICS {
            return Err(OwnPublicError::TooMany);
        }
        Ok(())
    }
}

fn age(s: &str) -> Result<Option<u8>, OwnPublicError> {
    let s = s.trim().trim_end_matches("ans").trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<u8>() {
        Ok(a) if a <= MAX_AGE => Ok(Some(a)),
        _ => Err(OwnPublicError::BadAge),
    }
}

/// How two labels are compared: case, accents, spaces, punctuation and plural endings set
/// aside ("Demandeurs d'emploi" is "Demandeur d'emploi").
pub fn label_key(label: &str) -> String {
    label
        .chars()
        .map(|c| crate::text::unaccented(c).to_ascii_lowercase())
        .collect::<String>()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.strip_suffix('s')
                .or_else(|| w.strip_suffix('x'))
                .filter(|s| !s.is_empty())
                .unwrap_or(w)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The age in whole years on `today` of a person born on `birth`.
pub fn age_on(birth: time::Date, today: time::Date) -> Option<u8> {
    let mut years = today.year() - birth.year();
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    u8::try_from(years).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn req(label: &str, min: &str, max: &str) -> OwnPublicRequest {
        OwnPublicRequest {
            label: label.into(),
            age_min: min.into(),
            age_max: max.into(),
            ..Default::default()
        }
    }

    fn stored(id: i64, label: &str) -> OwnPublic {
        OwnPublic {
            id: OwnPublicId(id),
            label: label.into(),
            age: None,
            criteria: String::new(),
            target: false,
            retired: false,
        }
    }

    #[test]
    fn codes_round_trip_and_never_collide_with_national_ones() {
        for p in Public::ALL {
            assert_eq!(
                PublicRef::parse_code(p.as_str()),
                Some(PublicRef::National(p))
            );
        }
        let own = PublicRef::Own(OwnPublicId(12));
        assert_eq!(own.code(), "own_12");
        assert_eq!(PublicRef::parse_code(" own_12 "), Some(own));
        for bad in [
            "own_",
            "own_x",
            "own_-1",
            "own_1 2",
            "12",
            "seniors",
            "own_99999999999999999999",
        ] {
            assert_eq!(PublicRef::parse_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_public_is_parsed_with_its_band() {
        let p =
            NewOwnPublic::parse(&req("  Femmes   des communes isolées ", "16", "25 ans")).unwrap();
        assert_eq!(p.label, "Femmes des communes isolées");
        assert_eq!(
            p.age,
            Some(AgeBand {
                min: Some(16),
                max: Some(25)
            })
        );
        assert_eq!(p.age.unwrap().words(), "16 à 25 ans");
        let open = NewOwnPublic::parse(&req("Retraités", "60", "")).unwrap();
        assert_eq!(open.age.unwrap().words(), "60 ans et plus");
        assert!(open.age.unwrap().contains(90) && !open.age.unwrap().contains(59));
        assert_eq!(
            NewOwnPublic::parse(&req("Salariés", "", "")).unwrap().age,
            None
        );
    }

    #[test]
    fn bad_publics_are_refused_with_their_reason() {
        use crate::Refusal;
        let cases = [
            (req("ab", "", ""), "invalid_public_label"),
            (req(&"x".repeat(81), "", ""), "invalid_public_label"),
            (req("Demandeurs d'emploi", "", ""), "national_public"),
            (req("personne isolee", "", ""), "national_public"),
            (req("Jeunes", "-1", ""), "invalid_age_band"),
            (req("Jeunes", "121", ""), "invalid_age_band"),
            (req("Jeunes", "seize", ""), "invalid_age_band"),
            (req("Jeunes", "25", "16"), "invalid_age_band"),
        ];
        for (r, code) in cases {
            assert_eq!(
                NewOwnPublic::parse(&r).unwrap_err().code(),
                code,
                "{}",
                r.label
            );
        }
        let mut long = req("Jeunes", "", "");
        long.criteria = "é".repeat(501);
        assert_eq!(
            NewOwnPublic::parse(&long).unwrap_err(),
            OwnPublicError::CriteriaTooLong
        );
    }

    #[test]
    fn labels_are_unique_per_order_and_bounded_in_number() {
        let existing = vec![stored(1, "Salariés en reconversion"), stored(2, "Aidants")];
        let dup = NewOwnPublic::parse(&req("SALARIE en  reconversion", "", "")).unwrap();
        assert!(matches!(
            dup.check_against(&existing, None),
            Err(OwnPublicError::DuplicateLabel(l)) if l == "Salariés en reconversion"
        ));
        // Rewording a public as itself is not a duplicate.
        assert_eq!(dup.check_against(&existing, Some(OwnPublicId(1))), Ok(()));
        let full: Vec<OwnPublic> = (0..MAX_OWN_PUBLICS as i64)
            .map(|i| stored(i, &format!("Public {i}")))
            .collect();
        let new = NewOwnPublic::parse(&req("Aidants familiaux", "", "")).unwrap();
        assert_eq!(new.check_against(&full, None), Err(OwnPublicError::TooMany));
        assert_eq!(new.check_against(&full, Some(OwnPublicId(3))), Ok(()));
    }

    #[test]
    fn ages_count_whole_years() {
        let birth = date!(2001 - 06 - 15);
        assert_eq!(age_on(birth, date!(2026 - 06 - 14)), Some(24));
        assert_eq!(age_on(birth, date!(2026 - 06 - 15)), Some(25));
        assert_eq!(age_on(date!(2030 - 01 - 01), date!(2026 - 06 - 15)), None);
    }

    #[test]
    fn the_long_label_adds_the_band_once() {
        let mut p = stored(1, "Jeunes des quartiers");
        p.age = Some(AgeBand {
            min: Some(16),
            max: Some(25),
        });
        assert_eq!(p.long_label(), "Jeunes des quartiers (16 à 25 ans)");
        p.label = "Femmes de 16 à 25 ans".into();
        assert_eq!(p.long_label(), "Femmes de 16 à 25 ans");
    }
}
