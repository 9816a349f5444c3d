//! Handing a booklet over: the needs diagnostic, the funder's rules and the household key.
//!
//! The diagnostic is six questions an agent asks at the counter. Its answers say which
//! référentiel categories (data/referentiel.csv) and which service types of the national data
//! standard of digital mediation venues ("Standard des lieux de médiation numérique", La
//! MedNum / ANCT) fit the person, so that orientation can suggest venues offering them.

use std::collections::BTreeSet;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

use crate::own_public::{OwnPublic, PublicRef};

/// Question 1: what the person wants to do (several answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Need {
    OnlineProcedures,
    Email,
    DeviceBasics,
    JobSearch,
    ChildrenScreens,
    SafetyOnline,
}

impl Need {
    pub const ALL: [Need; 6] = [
        Need::OnlineProcedures,
        Need::Email,
        Need::DeviceBasics,
        Need::JobSearch,
        Need::ChildrenScreens,
        Need::SafetyOnline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnlineProcedures => "online_procedures",
            Self::Email => "email",
            Self::DeviceBasics => "device_basics",
            Self::JobSearch => "job_search",
            Self::ChildrenScreens => "children_screens",
            Self::SafetyOnline => "safety_online",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::OnlineProcedures => "Faire ses démarches en ligne (CAF, impôts, santé…)",
            Self::Email => "Envoyer des courriels, échanger avec ses proches",
            Self::DeviceBasics => "Utiliser un ordinateur, une tablette ou un téléphone",
            Self::JobSearch => "Chercher un emploi, une formation",
            Self::ChildrenScreens => "Accompagner ses enfants face aux écrans",
            Self::SafetyOnline => "Se protéger en ligne (arnaques, mots de passe, données)",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == s.trim())
    }

    /// Référentiel categories (codes of data/referentiel.csv) that serve this need.
    fn categories(self) -> &'static [&'static str] {
        match self {
            Self::OnlineProcedures => &["2.2", "3.1"],
            Self::Email => &["2.1"],
            Self::DeviceBasics => &["2.1"],
            Self::JobSearch => &["3.5"],
            Self::ChildrenScreens => &["1.2"],
            Self::SafetyOnline => &["3.3"],
        }
    }

    /// Service types of the national venue data standard.
    fn standard_services(self) -> &'static [&'static str] {
        match self {
            Self::OnlineProcedures => &["Aide aux démarches administratives"],
            Self::Email | Self::DeviceBasics => &["Maîtrise des outils numériques du quotidien"],
            Self::JobSearch => &["Insertion professionnelle via le numérique"],
            Self::ChildrenScreens => &["Parentalité et éducation avec le numérique"],
            Self::SafetyOnline => &["Utilisation sécurisée du numérique"],
        }
    }
}

/// Question 2: the equipment the person has at home.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Equipment {
    None,
    PhoneOnly,
    Computer,
}

impl Equipment {
    pub const ALL: [Equipment; 3] = [Equipment::None, Equipment::PhoneOnly, Equipment::Computer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::PhoneOnly => "phone_only",
            Self::Computer => "computer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "Aucun équipement",
            Self::PhoneOnly => "Un téléphone mobile seulement",
            Self::Computer => "Un ordinateur ou une tablette",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s.trim())
    }
}

/// Question 3: how at ease the person is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Never,
    Beginner,
    Basics,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Never, Level::Beginner, Level::Basics];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Beginner => "beginner",
            Self::Basics => "basics",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Never => "N'a jamais utilisé d'outil numérique",
            Self::Beginner => "Débute, a besoin d'aide pour chaque étape",
            Self::Basics => "Connaît les bases, veut progresser",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }
}

/// The answers of the diagnostic (questions 4 and 5 are the two yes/no needs; question 6,
/// the priority publics, is in [`Handout`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub needs: BTreeSet<Need>,
    pub equipment: Equipment,
    pub level: Level,
    pub language_need: bool,
    pub disability_need: bool,
}

impl Diagnostic {
    /// The référentiel categories a venue should offer, in code order. A person who has never
    /// used a digital tool also needs discovery (1.1); one without equipment needs a venue that
    /// lends it, which every mediation venue does for its workshops, so it adds no category.
    pub fn categories(&self) -> BTreeSet<&'static str> {
        let mut c: BTreeSet<&'static str> = self
            .needs
            .iter()
            .flat_map(|n| n.categories())
            .copied()
            .collect();
        if self.level == Level::Never {
            c.insert("1.1");
        }
        c
    }

    /// The matching service types of the national venue data standard.
    pub fn standard_services(&self) -> BTreeSet<&'static str> {
        let mut s: BTreeSet<&'static str> = self
            .needs
            .iter()
            .flat_map(|n| n.standard_services())
            .copied()
            .collect();
        if self.equipment == Equipment::None {
            s.insert("Accès internet et matériel informatique");
        }
        s
    }
}

/// Why a handout is refused before anything is written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandoutError {
    #[error("Indiquez au moins un besoin de la personne (question 1 du diagnostic).")]
    NoNeed,
    #[error("Besoin inconnu : {0}.")]
    UnknownNeed(String),
    #[error("Équipement inconnu : {0} (réponses possibles : none, phone_only, computer).")]
    UnknownEquipment(String),
    #[error("Niveau inconnu : {0} (réponses possibles : never, beginner, basics).")]
    UnknownLevel(String),
    #[error(
        "Le public « {0} » n'est pas proposé pour la commande de ce carnet : décochez-le ou \
         choisissez un carnet de la commande qui le définit."
    )]
    UnknownPublic(String),
    #[error(
        "La personne a {age} ans : le public « {label} » est réservé aux {band}. Décochez-le ou \
         corrigez la date de naissance."
    )]
    OutsideAgeBand {
        age: u8,
        label: String,
        band: String,
    },
    #[error("La personne doit donner son accord avant la remise du carnet.")]
    NoConsent,
    #[error(
        "Cette commande est réservée aux publics cibles ({0}) : cochez le public de la personne, \
         ou donnez la raison de la dérogation."
    )]
    NotTargetPublic(String),
    #[error("La raison de la dérogation doit faire entre 3 et 500 caractères.")]
    OverrideReason,
    #[error(
        "Cette commande limite les carnets à un par foyer : saisissez le nom, la date de \
         naissance (AAAA-MM-JJ) et le code postal de la personne."
    )]
    HouseholdMissing,
}

impl HandoutError {
    /// Stable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoNeed | Self::UnknownNeed(_) => "invalid_needs",
            Self::UnknownEquipment(_) => "invalid_equipment",
            Self::UnknownLevel(_) => "invalid_level",
            Self::UnknownPublic(_) => "invalid_public",
            Self::OutsideAgeBand { .. } => "outside_age_band",
            Self::NoConsent => "consent_required",
            Self::NotTargetPublic(_) => "not_target_public",
            Self::OverrideReason => "invalid_override_reason",
            Self::HouseholdMissing => "household_required",
        }
    }
}

/// What the agent types, before it is checked.
#[derive(Clone, Debug, Default)]
pub struct HandoutRequest {
    pub needs: Vec<String>,
    pub equipment: String,
    pub level: String,
    pub language_need: bool,
    pub disability_need: bool,
    pub publics: Vec<String>,
    pub consent: bool,
    pub override_reason: Option<String>,
    pub household: Option<HouseholdRequest>,
}

#[derive(Clone, Debug, Default)]
pub struct HouseholdRequest {
    pub surname: String,
    pub birth_date: String,
    pub postcode: String,
}

/// The funder's rules for an order's handouts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandoutRules {
    /// Empty: no target; otherwise with `target_only`, one of these publics is required.
    /// National targets and the order's own publics marked as targets.
    pub target_publics: BTreeSet<PublicRef>,
    /// The order's own publics, retired ones included (named in sentences and on the order's
    /// page, but no longer accepted: see [`HandoutRules::offered`]).
    pub own_publics: Vec<OwnPublic>,
    pub target_only: bool,
    pub one_per_household: bool,
}

/// A checked handout, ready to be stored. `household` is the keyed hash, present only when
/// the order limits booklets per household (nothing is kept otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handout {
    pub diagnostic: Diagnostic,
    pub publics: BTreeSet<PublicRef>,
    pub override_reason: Option<String>,
    pub household: Option<String>,
}

impl HandoutRules {
    /// The public of a typed code, if the order offers it: every national public, and the
    /// order's own publics that are not retired.
    pub fn offered(&self, code: &str) -> Option<PublicRef> {
        match PublicRef::parse_code(code)? {
            r @ PublicRef::National(_) => Some(r),
            r @ PublicRef::Own(id) => self
                .own_publics
                .iter()
                .any(|p| p.id == id && !p.retired)
                .then_some(r),
        }
    }

    /// The name of a public for a sentence (its code when the order does not define it).
    pub fn label(&self, public: PublicRef) -> String {
        match public {
            PublicRef::National(p) => p.label().to_string(),
            PublicRef::Own(id) => self
                .own_publics
                .iter()
                .find(|p| p.id == id)
                .map_or_else(|| public.code(), OwnPublic::long_label),
        }
    }
}

impl Handout {
    pub fn parse(
        req: &HandoutRequest,
        rules: &HandoutRules,
        household_key: &HouseholdKey,
    ) -> Result<Self, HandoutError> {
        let needs: BTreeSet<Need> = req
            .needs
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| Need::parse(n).ok_or_else(|| HandoutError::UnknownNeed(n.clone())))
            .collect::<Result<_, _>>()?;
        if needs.is_empty() {
            return Err(HandoutError::NoNeed);
        }
        let equipment = Equipment::parse(&req.equipment)
            .ok_or_else(|| HandoutError::UnknownEquipment(req.equipment.clone()))?;
        let level = Level::parse(&req.level)
            .ok_or_else(|| HandoutError::UnknownLevel(req.level.clone()))?;
        let publics: BTreeSet<PublicRef> = req
            .publics
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                rules
                    .offered(p)
                    .ok_or_else(|| HandoutError::UnknownPublic(p.clone()))
            })
            .collect::<Result<_, _>>()?;
        if !req.consent {
            return Err(HandoutError::NoConsent);
        }
        let override_reason = req
            .override_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        if let Some(r) = &override_reason
            && !(3..=500).contains(&r.chars().count())
        {
            return Err(HandoutError::OverrideReason);
        }
        let on_target =
            rules.target_publics.is_empty() || !publics.is_disjoint(&rules.target_publics);
        if rules.target_only && !on_target && override_reason.is_none() {
            let names: Vec<String> = rules
                .target_publics
                .iter()
                .map(|p| rules.label(*p))
                .collect();
            return Err(HandoutError::NotTargetPublic(names.join(", ")));
        }
        let household = if rules.one_per_household {
            let h = req
                .household
                .as_ref()
                .ok_or(HandoutError::HouseholdMissing)?;
            Some(
                household_key
                    .hash(&h.surname, &h.birth_date, &h.postcode)
                    .ok_or(HandoutError::HouseholdMissing)?,
            )
        } else {
            None
        };
        Ok(Handout {
            diagnostic: Diagnostic {
                needs,
                equipment,
                level,
                language_need: req.language_need,
                disability_need: req.disability_need,
            },
            publics,
            // A reason is only kept when it was needed: it is free text about a person.
            override_reason: override_reason.filter(|_| rules.target_only && !on_target),
            household,
        })
    }

    /// When the agent typed the person's birth date, the own publics ticked must include the
    /// person's age on `today` (a national public has no band to check: its label says it).
    /// Without a birth date there is nothing to check: the agent ticked in good faith.
    pub fn check_age_bands(
        &self,
        birth_date: Option<&str>,
        rules: &HandoutRules,
        today: time::Date,
    ) -> Result<(), HandoutError> {
        let Some(birth) = birth_date.and_then(parse_birth_date) else {
            return Ok(());
        };
        let Some(age) = crate::own_public::age_on(birth, today) else {
            return Ok(());
        };
        for p in &rules.own_publics {
            if let Some(band) = p.age
                && self.publics.contains(&PublicRef::Own(p.id))
                && !band.contains(age)
            {
                return Err(HandoutError::OutsideAgeBand {
                    age,
                    label: p.label.clone(),
                    band: band.words(),
                });
            }
        }
        Ok(())
    }
}

/// Hex characters of a mediator's calendar token (128 bits).
pub const CALENDAR_TOKEN_LEN: usize = 32;

/// The instance's secret for household hashes. Without it, the stored hashes cannot be
/// tested against a list of names: a stolen database alone reveals no household.
#[derive(Clone)]
pub struct HouseholdKey([u8; 32]);

impl std::fmt::Debug for HouseholdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HouseholdKey(…)")
    }
}

impl HouseholdKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn generate() -> Self {
        Self(rand::random())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        for p in parts {
            // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
            mac.update(&(p.len() as u32).to_be_bytes());
            mac.update(p.as_bytes());
        }
        let bytes = mac.finalize().into_bytes();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The private address of a mediator's calendar at a venue: the instance's secret keys it
    /// too (another label, so it says nothing of household hashes). The name counts without
    /// its case and spaces, so "Samia" and " samia " share one feed.
    pub fn calendar_token(&self, venue: i64, mediator: &str) -> String {
        let name: String = mediator
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let mut t = self.mac(&["mediator-calendar-v1", &venue.to_string(), &name]);
        t.truncate(CALENDAR_TOKEN_LEN);
        t
    }

    /// What the database keeps to check that every server uses the same key.
    pub fn fingerprint(&self) -> String {
        self.mac(&["passnum-household-key-fingerprint"])
    }

    /// The keyed hash of a person's surname, birth date (AAAA-MM-JJ or JJ/MM/AAAA) and
    /// postcode, after normalisation (case, accents, spaces, hyphens and apostrophes do not
    /// count). None if a part is empty or malformed.
    pub fn hash(&self, surname: &str, birth_date: &str, postcode: &str) -> Option<String> {
        let surname = normalise_surname(surname)?;
        let birth = normalise_birth_date(birth_date)?;
        let postcode: String = postcode.chars().filter(|c| !c.is_whitespace()).collect();
        if postcode.len() != 5 || !postcode.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(self.mac(&["household-v1", &surname, &birth, &postcode]))
    }
}

fn normalise_surname(s: &str) -> Option<String> {
    let folded: String = s
        .nfkd()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .filter(char::is_ascii_alphanumeric)
        .collect();
    (!folded.is_empty()).then_some(folded)
}

fn normalise_birth_date(s: &str) -> Option<String> {
    let fmt_iso = time::macros::format_description!("[year]-[month]-[day]");
    parse_birth_date(s)?.format(fmt_iso).ok()
}

/// A birth date typed AAAA-MM-JJ or JJ/MM/AAAA, in a plausible century.
fn parse_birth_date(s: &str) -> Option<time::Date> {
    let s = s.trim();
    let fmt_iso = time::macros::format_description!("[year]-[month]-[day]");
    let fmt_fr = time::macros::format_description!("[day]/[month]/[year]");
    let date = time::Date::parse(s, fmt_iso)
        .or_else(|_| time::Date::parse(s, fmt_fr))
        .ok()?;
    (1900..=2100).contains(&date.year()).then_some(date)
}

/// A booklet as a handout finds it, read under its lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookletAtHandout {
    /// The structure whose stock holds it (`None`: the funder's stock).
    pub in_stock_of: Option<crate::DistributorId>,
    pub blocked: bool,
    pub handed_out: bool,
}

/// Why a booklet cannot be handed out, in the order it is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookletRefusal {
    #[error(
        "Aucun carnet ne porte ce numéro dans cette commande : vérifiez le numéro sur la couverture."
    )]
    Unknown,
    #[error(
        "Ce carnet n'est pas dans le stock de votre structure : remettez un carnet de votre stock, ou demandez un transfert au commanditaire."
    )]
    NotInYourStock,
    #[error("Ce carnet est déclaré perdu ou volé : remettez-en un autre.")]
    Blocked,
    #[error("Ce carnet a déjà été remis : remettez-en un autre.")]
    AlreadyHandedOut,
}

impl crate::Refusal for BookletRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::Unknown => "unknown_booklet",
            Self::NotInYourStock => "not_in_your_stock",
            Self::Blocked => "booklet_blocked",
            Self::AlreadyHandedOut => "already_handed_out",
        }
    }

    fn kind(&self) -> crate::RefusalKind {
        crate::RefusalKind::Conflict
    }
}

/// Whether an agent of `agent` may hand this booklet out: it exists, it is in the agent's
/// structure's stock, not blocked and not handed out yet.
pub fn check_booklet_handout(
    booklet: Option<&BookletAtHandout>,
    agent: crate::DistributorId,
) -> Result<(), BookletRefusal> {
    let b = booklet.ok_or(BookletRefusal::Unknown)?;
    if b.in_stock_of != Some(agent) {
        return Err(BookletRefusal::NotInYourStock);
    }
    if b.blocked {
        return Err(BookletRefusal::Blocked);
    }
    if b.handed_out {
        return Err(BookletRefusal::AlreadyHandedOut);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_options::Public;
    use crate::own_public::{AgeBand, OwnPublicId};

    #[test]
    fn a_booklet_is_handed_out_only_from_the_agents_own_stock_once() {
        use crate::DistributorId as D;
        let mine = BookletAtHandout {
            in_stock_of: Some(D(1)),
            blocked: false,
            handed_out: false,
        };
        assert_eq!(check_booklet_handout(Some(&mine), D(1)), Ok(()));
        assert_eq!(
            check_booklet_handout(None, D(1)),
            Err(BookletRefusal::Unknown)
        );
        assert_eq!(
            check_booklet_handout(Some(&mine), D(2)),
            Err(BookletRefusal::NotInYourStock)
        );
        let funders = BookletAtHandout {
            in_stock_of: None,
            ..mine
        };
        assert_eq!(
            check_booklet_handout(Some(&funders), D(1)),
            Err(BookletRefusal::NotInYourStock)
        );
        // Blocked is said before handed out: the agent then knows not to look for the person.
        let both = BookletAtHandout {
            blocked: true,
            handed_out: true,
            ..mine
        };
        assert_eq!(
            check_booklet_handout(Some(&both), D(1)),
            Err(BookletRefusal::Blocked)
        );
        let given = BookletAtHandout {
            handed_out: true,
            ..mine
        };
        assert_eq!(
            check_booklet_handout(Some(&given), D(1)),
            Err(BookletRefusal::AlreadyHandedOut)
        );
        assert_eq!(
            crate::Refusal::code(&BookletRefusal::Blocked),
            "booklet_blocked"
        );
    }

    fn key() -> HouseholdKey {
        HouseholdKey::from_bytes([7; 32])
    }

    fn request() -> HandoutRequest {
        HandoutRequest {
            needs: vec!["online_procedures".into(), "email".into()],
            equipment: "phone_only".into(),
            level: "never".into(),
            publics: vec!["senior".into()],
            consent: true,
            ..Default::default()
        }
    }

    #[test]
    fn answers_map_to_categories_and_standard_services() {
        let h = Handout::parse(&request(), &HandoutRules::default(), &key()).unwrap();
        let cats: Vec<_> = h.diagnostic.categories().into_iter().collect();
        assert_eq!(cats, ["1.1", "2.1", "2.2", "3.1"]);
        let std: Vec<_> = h.diagnostic.standard_services().into_iter().collect();
        assert_eq!(
            std,
            [
                "Aide aux démarches administratives",
                "Maîtrise des outils numériques du quotidien"
            ]
        );
        let mut no_equipment = request();
        no_equipment.equipment = "none".into();
        no_equipment.level = "basics".into();
        let h = Handout::parse(&no_equipment, &HandoutRules::default(), &key()).unwrap();
        assert!(!h.diagnostic.categories().contains("1.1"));
        assert!(
            h.diagnostic
                .standard_services()
                .contains("Accès internet et matériel informatique")
        );
    }

    #[test]
    fn every_need_maps_to_a_known_category() {
        let catalog =
            crate::service::ServiceCatalog::parse_csv(crate::service::DEFAULT_REFERENTIEL_CSV)
                .unwrap();
        let known: BTreeSet<String> = catalog
            .services
            .iter()
            .map(|s| s.category_code.clone())
            .collect();
        for n in Need::ALL {
            for c in n.categories() {
                assert!(known.contains(*c), "{n:?} → {c}");
            }
            assert_eq!(Need::parse(n.as_str()), Some(n));
        }
    }

    #[test]
    fn refuses_missing_answers_and_consent() {
        let rules = HandoutRules::default();
        let mut r = request();
        r.needs.clear();
        assert_eq!(
            Handout::parse(&r, &rules, &key()),
            Err(HandoutError::NoNeed)
        );
        let mut r = request();
        r.needs.push("knitting".into());
        assert!(matches!(
            Handout::parse(&r, &rules, &key()),
            Err(HandoutError::UnknownNeed(_))
        ));
        let mut r = request();
        r.consent = false;
        assert_eq!(
            Handout::parse(&r, &rules, &key()),
            Err(HandoutError::NoConsent)
        );
        let mut r = request();
        r.level = "expert".into();
        assert!(matches!(
            Handout::parse(&r, &rules, &key()),
            Err(HandoutError::UnknownLevel(_))
        ));
    }

    #[test]
    fn target_publics_only_unless_a_reason_is_given() {
        let rules = HandoutRules {
            target_publics: [
                PublicRef::National(Public::JobSeeker),
                PublicRef::National(Public::Young),
            ]
            .into(),
            target_only: true,
            ..Default::default()
        };
        let err = Handout::parse(&request(), &rules, &key()).unwrap_err();
        assert!(matches!(err, HandoutError::NotTargetPublic(_)));
        assert!(err.to_string().contains("Demandeur d'emploi"));
        let mut r = request();
        r.override_reason = Some("  orientée par la CAF  ".into());
        let h = Handout::parse(&r, &rules, &key()).unwrap();
        assert_eq!(h.override_reason.as_deref(), Some("orientée par la CAF"));
        r.override_reason = Some("x".into());
        assert_eq!(
            Handout::parse(&r, &rules, &key()),
            Err(HandoutError::OverrideReason)
        );
        // On target: the reason is not kept.
        let mut r = request();
        r.publics = vec!["job_seeker".into()];
        r.override_reason = Some("sans objet".into());
        assert_eq!(
            Handout::parse(&r, &rules, &key()).unwrap().override_reason,
            None
        );
    }

    fn own(id: i64, label: &str, band: Option<(u8, u8)>) -> OwnPublic {
        OwnPublic {
            id: OwnPublicId(id),
            label: label.into(),
            age: band.map(|(a, b)| AgeBand {
                min: Some(a),
                max: Some(b),
            }),
            criteria: String::new(),
            target: false,
            retired: false,
        }
    }

    #[test]
    fn own_publics_are_recorded_targeted_and_refused_once_retired_or_foreign() {
        let mut retired = own(3, "Aidants", None);
        retired.retired = true;
        let rules = HandoutRules {
            target_publics: [PublicRef::Own(OwnPublicId(2))].into(),
            own_publics: vec![
                own(2, "Femmes des communes isolées", Some((16, 25))),
                retired,
            ],
            target_only: true,
            ..Default::default()
        };
        let mut r = request();
        r.publics = vec!["senior".into(), "own_2".into()];
        let h = Handout::parse(&r, &rules, &key()).unwrap();
        let codes: Vec<String> = h.publics.iter().map(|p| p.code()).collect();
        assert_eq!(codes, ["senior", "own_2"]);
        // Off target: the sentence names the own target by its label and band.
        r.publics = vec!["senior".into()];
        let err = Handout::parse(&r, &rules, &key()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Femmes des communes isolées (16 à 25 ans)"),
            "{err}"
        );
        // Retired, another order's, or unknown: refused with the code typed.
        for code in ["own_3", "own_9", "own_x"] {
            r.publics = vec![code.into()];
            let err = Handout::parse(&r, &rules, &key()).unwrap_err();
            assert_eq!(err, HandoutError::UnknownPublic(code.into()));
            assert_eq!(err.code(), "invalid_public");
        }
    }

    #[test]
    fn a_typed_birth_date_must_fit_the_age_band_of_an_own_public() {
        let rules = HandoutRules {
            own_publics: vec![own(2, "Jeunes des quartiers", Some((16, 25)))],
            ..Default::default()
        };
        let mut r = request();
        r.publics = vec!["own_2".into()];
        let h = Handout::parse(&r, &rules, &key()).unwrap();
        let today = time::macros::date!(2026 - 12 - 05);
        assert_eq!(h.check_age_bands(Some("2001-12-05"), &rules, today), Ok(()));
        assert_eq!(h.check_age_bands(Some("05/12/2010"), &rules, today), Ok(()));
        let err = h
            .check_age_bands(Some("2000-12-05"), &rules, today)
            .unwrap_err();
        assert_eq!(err.code(), "outside_age_band");
        assert!(err.to_string().starts_with("La personne a 26 ans"), "{err}");
        assert!(err.to_string().contains("16 à 25 ans"), "{err}");
        assert_eq!(h.check_age_bands(None, &rules, today), Ok(()));
        assert_eq!(h.check_age_bands(Some("hier"), &rules, today), Ok(()));
        // A national public has no band to check.
        r.publics = vec!["young".into()];
        let h = Handout::parse(&r, &rules, &key()).unwrap();
        assert_eq!(h.check_age_bands(Some("1950-01-01"), &rules, today), Ok(()));
    }

    #[test]
    fn household_hash_forgives_spelling_and_needs_every_part() {
        let k = key();
        let a = k.hash("Lefèvre-D'Arc", "1950-03-07", "69 001").unwrap();
        assert_eq!(
            Some(a.clone()),
            k.hash(" lefevre d arc ", "07/03/1950", "69001")
        );
        assert_eq!(a.len(), 64);
        assert_ne!(Some(a.clone()), k.hash("Lefèvre", "1950-03-07", "69001"));
        assert_ne!(
            Some(a.clone()),
            k.hash("Lefèvre-D'Arc", "1950-03-08", "69001")
        );
        assert_ne!(
            Some(a.clone()),
            HouseholdKey::from_bytes([8; 32]).hash("Lefèvre-D'Arc", "1950-03-07", "69001"),
            "another instance's key gives another hash"
        );
        assert_eq!(k.hash("", "1950-03-07", "69001"), None);
        assert_eq!(k.hash("Dupont", "31/02/1950", "69001"), None);
        assert_eq!(k.hash("Dupont", "1950-03-07", "6900"), None);
        assert!(!a.contains("LEFEVRE"));
    }

    #[test]
    fn the_household_rule_needs_the_three_fields() {
        let rules = HandoutRules {
            one_per_household: true,
            ..Default::default()
        };
        assert_eq!(
            Handout::parse(&request(), &rules, &key()),
            Err(HandoutError::HouseholdMissing)
        );
        let mut r = request();
        r.household = Some(HouseholdRequest {
            surname: "Martin".into(),
            birth_date: "1961-12-01".into(),
            postcode: "38000".into(),
        });
        let h = Handout::parse(&r, &rules, &key()).unwrap();
        assert_eq!(h.household, key().hash("MARTIN", "01/12/1961", "38000"));
        // Without the rule nothing is kept, even if typed.
        let h = Handout::parse(&r, &HandoutRules::default(), &key()).unwrap();
        assert_eq!(h.household, None);
    }
}
