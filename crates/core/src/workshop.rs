//! Workshops (ateliers) a venue publishes, the places people book in them, and the rule "one
//! cheque per booklet per workshop": pure checks, the store applies them in its transactions.

use time::{Date, Duration, Time};

use crate::catalogue::ServiceFormat;
use crate::text::MAX_NAME_CHARS;
use crate::{InseeCode, Timestamp, paris};

/// How a workshop is given: an individual appointment or a collective session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkshopFormat {
    Individual,
    Collective,
}

impl WorkshopFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Collective => "collective",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "individual" => Some(Self::Individual),
            "collective" => Some(Self::Collective),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Individual => "Rendez-vous individuel",
            Self::Collective => "Atelier collectif",
        }
    }
    /// Whether a service given in `format` by the venue's catalogue may be given this way.
    pub fn allowed_by(self, format: ServiceFormat) -> bool {
        match self {
            Self::Individual => format.individual(),
            Self::Collective => format.collective(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    pub const ALL: [Level; 3] = [Self::Beginner, Self::Intermediate, Self::Advanced];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Beginner => "beginner",
            Self::Intermediate => "intermediate",
            Self::Advanced => "advanced",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Beginner => "Débutant",
            Self::Intermediate => "Intermédiaire",
            Self::Advanced => "Avancé",
        }
    }
}

/// Where the workshop takes place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    AtVenue,
    /// Elsewhere, in a commune, with an address.
    Elsewhere {
        commune: InseeCode,
        address: String,
    },
    /// Remote: how to join (a link is sent by the venue, never stored as a secret here).
    Remote {
        how: String,
    },
}

impl Place {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AtVenue => "venue",
            Self::Elsewhere { .. } => "elsewhere",
            Self::Remote { .. } => "remote",
        }
    }
    pub fn commune(&self) -> Option<&InseeCode> {
        match self {
            Self::Elsewhere { commune, .. } => Some(commune),
            _ => None,
        }
    }
    pub fn detail(&self) -> &str {
        match self {
            Self::AtVenue => "",
            Self::Elsewhere { address, .. } => address,
            Self::Remote { how } => how,
        }
    }
}

/// How a workshop repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    Once,
    Weekly,
    Fortnightly,
}

impl Repeat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "once" => Some(Self::Once),
            "weekly" => Some(Self::Weekly),
            "fortnightly" => Some(Self::Fortnightly),
            _ => None,
        }
    }
    fn step_days(self) -> Option<i64> {
        match self {
            Self::Once => None,
            Self::Weekly => Some(7),
            Self::Fortnightly => Some(14),
        }
    }
}

/// At most this many workshops in one series (a year of weekly sessions).
pub const MAX_SERIES: usize = 53;
pub const MIN_DURATION_MIN: i64 = 15;
pub const MAX_DURATION_MIN: i64 = 480;
pub const MAX_CAPACITY: i64 = 200;
/// How far ahead a workshop may be published.
pub const MAX_DAYS_AHEAD: i64 = 400;

/// A workshop as typed by the venue (page or API), before it is checked.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct WorkshopForm {
    pub format: String,
    pub title: String,
    pub services: Vec<String>,
    pub level: String,
    /// "2026-12-15"
    pub date: String,
    /// "14:30", Paris time.
    pub time: String,
    pub duration_min: String,
    /// "venue", "elsewhere" or "remote".
    pub place: String,
    pub commune: String,
    pub place_detail: String,
    pub capacity: String,
    pub mediator: String,
    pub accessibility: String,
    /// "once", "weekly" or "fortnightly".
    pub repeat: String,
    /// Last date of the series.
    pub until: String,
    /// Dates of the series without a workshop (holidays), "2026-12-24,2026-12-31".
    pub except: String,
}

/// A checked workshop, with the dates it takes place on (one, or a series).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkshopPlan {
    pub format: WorkshopFormat,
    pub title: String,
    pub services: Vec<String>,
    pub level: Level,
    pub time: Time,
    pub dates: Vec<Date>,
    pub duration_min: i64,
    pub place: Place,
    pub capacity: i64,
    pub mediator: String,
    pub accessibility: String,
}

impl WorkshopPlan {
    /// Start of each workshop of the plan.
    pub fn starts(&self) -> Vec<Timestamp> {
        self.dates
            .iter()
            .map(|d| paris::from_local(*d, self.time))
            .collect()
    }
}

/// A field of the form and what is wrong with it, in a sentence.
pub type FieldError = (&'static str, String);

fn date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn clock(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    Time::from_hms(h.parse().ok()?, m.get(..2)?.parse().ok()?, 0).ok()
}

fn short_text(s: &str, max: usize) -> Option<String> {
    let s = s.trim();
    (s.chars().count() <= max && !s.chars().any(|c| c.is_control() && c != '\n'))
        .then(|| s.to_string())
}

/// The dates of a series: from `first` every step until `until` (included), without the
/// exceptions; at most [`MAX_SERIES`].
pub fn series_dates(
    first: Date,
    repeat: Repeat,
    until: Option<Date>,
    except: &[Date],
) -> Vec<Date> {
    let Some(step) = repeat.step_days() else {
        return vec![first];
    };
    let until = until.unwrap_or(first);
    let mut out = Vec::new();
    let mut d = first;
    while d <= until && out.len() < MAX_SERIES {
        if !except.contains(&d) {
            out.push(d);
        }
        d += Duration::days(step);
    }
    out
}

impl WorkshopForm {
    /// Checks every field (all errors at once, for the form's summary). `catalogue_format`
    /// gives how the venue's catalogue offers a service (None: not in it); `commune` finds a
    /// commune by code, name or postcode.
    pub fn check(
        &self,
        today: Date,
        catalogue_format: impl Fn(&str) -> Option<ServiceFormat>,
        commune: impl Fn(&str) -> Option<InseeCode>,
    ) -> Result<WorkshopPlan, Vec<FieldError>> {
        let mut errors: Vec<FieldError> = Vec::new();
        let format = WorkshopFormat::parse(self.format.trim());
        if format.is_none() {
            errors.push((
                "format",
                "Choisissez un rendez-vous individuel ou un atelier collectif.".into(),
            ));
        }
        let title =
            short_text(&self.title, MAX_NAME_CHARS).filter(|t| !t.is_empty() && !t.contains('\n'));
        if title.is_none() {
            errors.push((
                "title",
                "Donnez un titre d'une ligne, de 200 caractères au plus.".into(),
            ));
        }
        let mut services: Vec<String> = self
            .services
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        services.sort();
        services.dedup();
        if services.is_empty() {
            errors.push((
                "services",
                "Choisissez au moins un service de votre catalogue.".into(),
            ));
        }
        for s in &services {
            match (catalogue_format(s), format) {
                (None, _) => errors.push(("services", format!("Le service {s} n'est pas dans votre catalogue : ajoutez-le d'abord à votre catalogue."))),
                (Some(f), Some(w)) if !w.allowed_by(f) => errors.push((
                    "services",
                    format!("Votre catalogue propose le service {s} en « {} » seulement : changez le format de l'atelier ou votre catalogue.", f.label()),
                )),
                _ => {}
            }
        }
        let level = Level::parse(self.level.trim());
        if level.is_none() {
            errors.push((
                "level",
                "Choisissez un niveau : débutant, intermédiaire ou avancé.".into(),
            ));
        }
        let first = date(&self.date);
        match first {
            None => errors.push(("date", "Indiquez la date au format jj/mm/aaaa.".into())),
            Some(d) if d < today => errors.push((
                "date",
                "Cette date est passée : choisissez aujourd'hui ou plus tard.".into(),
            )),
            Some(d) if (d - today).whole_days() > MAX_DAYS_AHEAD => errors.push((
                "date",
                "Publiez un atelier au plus 400 jours à l'avance.".into(),
            )),
            _ => {}
        }
        let time = clock(&self.time);
        if time.is_none() {
            errors.push((
                "time",
                "Indiquez l'heure de début, par exemple 14:30.".into(),
            ));
        }
        let duration = self
            .duration_min
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|m| (MIN_DURATION_MIN..=MAX_DURATION_MIN).contains(m));
        if duration.is_none() {
            errors.push((
                "duration_min",
                "Indiquez une durée de 15 à 480 minutes.".into(),
            ));
        }
        let capacity = self
            .capacity
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|c| (1..=MAX_CAPACITY).contains(c));
        if capacity.is_none() {
            errors.push((
                "capacity",
                "Indiquez un nombre de places de 1 à 200.".into(),
            ));
        }
        let capacity = match (format, capacity) {
            (Some(WorkshopFormat::Individual), Some(c)) if c != 1 => {
                errors.push((
                    "capacity",
                    "Un rendez-vous individuel a une seule place.".into(),
                ));
                None
            }
            (_, c) => c,
        };
        let detail = short_text(&self.place_detail, 300);
        let place = match (self.place.trim(), detail) {
            ("" | "venue", _) => Some(Place::AtVenue),
            ("elsewhere", Some(address)) if !address.is_empty() => {
                match commune(self.commune.trim()) {
                    Some(c) => Some(Place::Elsewhere {
                        commune: c,
                        address,
                    }),
                    None => {
                        errors.push(("commune", "Commune inconnue : indiquez son nom, son code postal ou son code INSEE.".into()));
                        None
                    }
                }
            }
            ("remote", Some(how)) if !how.is_empty() => Some(Place::Remote { how }),
            ("elsewhere" | "remote", _) => {
                errors.push((
                    "place_detail",
                    "Indiquez l'adresse (ou comment se connecter), en 300 caractères au plus."
                        .into(),
                ));
                None
            }
            _ => {
                errors.push(("place", "Choisissez où a lieu l'atelier.".into()));
                None
            }
        };
        let mediator = short_text(&self.mediator, MAX_NAME_CHARS).filter(|m| !m.contains('\n'));
        if mediator.is_none() {
            errors.push((
                "mediator",
                "Le nom du médiateur tient sur une ligne de 200 caractères au plus.".into(),
            ));
        }
        let accessibility = short_text(&self.accessibility, 500);
        if accessibility.is_none() {
            errors.push((
                "accessibility",
                "Ce texte dépasse 500 caractères : raccourcissez-le.".into(),
            ));
        }
        let repeat = Repeat::parse(self.repeat.trim());
        if repeat.is_none() {
            errors.push((
                "repeat",
                "Choisissez une fois, chaque semaine ou toutes les deux semaines.".into(),
            ));
        }
        let until = if self.until.trim().is_empty() {
            None
        } else {
            date(&self.until).map(Some).unwrap_or_else(|| {
                errors.push((
                    "until",
                    "Indiquez la dernière date de la série au format jj/mm/aaaa.".into(),
                ));
                None
            })
        };
        let mut except = Vec::new();
        for part in self
            .except
            .split([',', ';', ' ', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match date(part) {
                Some(d) => except.push(d),
                None => {
                    errors.push((
                        "except",
                        format!(
                            "« {} » n'est pas une date (aaaa-mm-jj).",
                            part.chars().take(20).collect::<String>()
                        ),
                    ));
                    break;
                }
            }
        }
        let dates = match (first, repeat) {
            (Some(first), Some(r)) => {
                if r != Repeat::Once && until.is_none_or(|u| u < first) {
                    errors.push((
                        "until",
                        "Indiquez la dernière date de la série, après la première.".into(),
                    ));
                }
                if let Some(u) = until
                    && (u - first).whole_days() > 366
                {
                    errors.push(("until", "Une série dure au plus un an.".into()));
                }
                let dates = series_dates(first, r, until, &except);
                if dates.is_empty() {
                    errors.push((
                        "except",
                        "Toutes les dates de la série sont exclues.".into(),
                    ));
                }
                dates
            }
            _ => vec![],
        };
        match (
            format,
            title,
            level,
            time,
            duration,
            capacity,
            place,
            mediator,
            accessibility,
        ) {
            (
                Some(format),
                Some(title),
                Some(level),
                Some(time),
                Some(duration_min),
                Some(capacity),
                Some(place),
                Some(mediator),
                Some(accessibility),
            ) if errors.is_empty() => Ok(WorkshopPlan {
                format,
                title,
                services,
                level,
                time,
                dates,
                duration_min,
                place,
                capacity,
                mediator,
                accessibility,
            }),
            _ => Err(errors),
        }
    }
}

/// A workshop as the checks of a booking or a scan need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkshopView {
    pub venue_id: crate::VenueId,
    pub starts_at: Timestamp,
    pub duration_min: i64,
    pub capacity: i64,
    /// Places taken: bookings and walk-ins scanned without one.
    pub seats_taken: i64,
    pub cancelled: bool,
    pub services: Vec<String>,
}

impl WorkshopView {
    pub fn ends_at(&self) -> Timestamp {
        Timestamp::from_unix_ms(self.starts_at.unix_ms() + self.duration_min * 60_000)
    }
    pub fn full(&self) -> bool {
        self.seats_taken >= self.capacity
    }
}

/// Why a booking is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookingRefusal {
    #[error(
        "Ce numéro de carnet et ce code de réservation ne vont pas ensemble : vérifiez-les sur la couverture du carnet."
    )]
    WrongCode,
    #[error("Cet atelier n'existe pas ou n'est plus publié.")]
    UnknownWorkshop,
    #[error("Cet atelier a été annulé : choisissez-en un autre.")]
    Cancelled,
    #[error("Cet atelier a déjà commencé : choisissez-en un autre.")]
    Past,
    #[error("Ce carnet a déjà une place dans cet atelier.")]
    AlreadyBooked,
    #[error(
        "Ce carnet n'a plus de chèque disponible pour un nouvel atelier : chaque atelier réservé compte un chèque."
    )]
    NoChequeLeft,
    #[error(
        "Ce carnet n'est pas encore remis, ou il est bloqué : adressez-vous à la structure qui l'a remis."
    )]
    BookletNotUsable,
    #[error("Cette réservation n'existe pas ou est déjà annulée.")]
    UnknownBooking,
}

impl BookingRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::WrongCode => "booking_code_wrong",
            Self::UnknownWorkshop => "workshop_unknown",
            Self::Cancelled => "workshop_cancelled",
            Self::Past => "workshop_past",
            Self::AlreadyBooked => "booklet_already_booked",
            Self::NoChequeLeft => "booklet_no_cheque_left",
            Self::BookletNotUsable => "booklet_not_usable",
            Self::UnknownBooking => "booking_unknown",
        }
    }
    pub fn kind(self) -> crate::RefusalKind {
        match self {
            Self::WrongCode | Self::UnknownWorkshop | Self::UnknownBooking => {
                crate::RefusalKind::NotFound
            }
            _ => crate::RefusalKind::Conflict,
        }
    }
}

/// A booking for a booklet: refused for a cancelled or started workshop, twice for one booklet,
/// or beyond the booklet's unused cheques (each workshop booked counts one).
pub fn check_booking(
    w: &WorkshopView,
    already_booked: bool,
    unused_cheques: i64,
    active_bookings: i64,
    now: Timestamp,
) -> Result<(), BookingRefusal> {
    if w.cancelled {
        return Err(BookingRefusal::Cancelled);
    }
    if now >= w.starts_at {
        return Err(BookingRefusal::Past);
    }
    if already_booked {
        return Err(BookingRefusal::AlreadyBooked);
    }
    if active_bookings >= unused_cheques {
        return Err(BookingRefusal::NoChequeLeft);
    }
    Ok(())
}

/// Why a scan for a workshop is refused (after the cheque's own checks passed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorkshopScanRefusal {
    #[error(
        "Cet atelier n'est pas un atelier de votre lieu : choisissez l'un de vos ateliers du jour."
    )]
    Unknown,
    #[error("Cet atelier a été annulé : choisissez un autre atelier.")]
    Cancelled,
    #[error("Cet atelier n'a pas lieu aujourd'hui : un chèque s'encaisse le jour de l'atelier.")]
    NotToday,
    #[error(
        "Ce service n'est pas l'un des services de cet atelier : choisissez le service de l'atelier."
    )]
    ServiceNotInWorkshop,
    #[error(
        "Un chèque de ce carnet a déjà été encaissé pour cet atelier : un seul chèque par carnet et par atelier."
    )]
    BookletAlreadyScanned,
    #[error(
        "L'atelier est complet : toutes les places sont prises, par des réservations ou des personnes venues sans."
    )]
    Full,
    #[error(
        "Le programme demande d'encaisser chaque chèque pour un atelier : choisissez l'atelier."
    )]
    Required,
}

impl WorkshopScanRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "workshop_unknown",
            Self::Cancelled => "workshop_cancelled",
            Self::NotToday => "workshop_not_today",
            Self::ServiceNotInWorkshop => "service_not_in_workshop",
            Self::BookletAlreadyScanned => "booklet_already_in_workshop",
            Self::Full => "workshop_full",
            Self::Required => "workshop_required",
        }
    }
}

impl crate::Refusal for WorkshopScanRefusal {
    fn code(&self) -> &'static str {
        WorkshopScanRefusal::code(*self)
    }
    fn kind(&self) -> crate::RefusalKind {
        match self {
            Self::Unknown => crate::RefusalKind::NotFound,
            Self::NotToday | Self::ServiceNotInWorkshop | Self::Required => {
                crate::RefusalKind::Invalid
            }
            _ => crate::RefusalKind::Conflict,
        }
    }
}

/// A scan for a workshop: the venue's own, not cancelled, today (Paris), for one of its
/// services; one cheque per booklet; a person without a booking only while places remain.
pub fn check_workshop_scan(
    w: Option<&WorkshopView>,
    venue: crate::VenueId,
    service: &str,
    booklet_already_scanned: bool,
    booked: bool,
    now: Timestamp,
) -> Result<(), WorkshopScanRefusal> {
    let w = w
        .filter(|w| w.venue_id == venue)
        .ok_or(WorkshopScanRefusal::Unknown)?;
    if w.cancelled {
        return Err(WorkshopScanRefusal::Cancelled);
    }
    if paris::local_date(w.starts_at) != paris::local_date(now) {
        return Err(WorkshopScanRefusal::NotToday);
    }
    if !w.services.iter().any(|s| s == service) {
        return Err(WorkshopScanRefusal::ServiceNotInWorkshop);
    }
    if booklet_already_scanned {
        return Err(WorkshopScanRefusal::BookletAlreadyScanned);
    }
    if !booked && w.full() {
        return Err(WorkshopScanRefusal::Full);
    }
    Ok(())
}

/// The short code printed on a booklet's cover to book without an account: 8 characters
/// without look-alikes (no 0/O, 1/I/L), shown as "ABCD-EFGH".
pub const BOOKING_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// Normalises a typed booking code ("abcd efgh", "ABCD-EFGH") to its 8 stored characters.
pub fn parse_booking_code(s: &str) -> Option<String> {
    let c: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == 8 && c.bytes().all(|b| BOOKING_ALPHABET.contains(&b))).then_some(c)
}

/// "ABCD-EFGH".
pub fn display_booking_code(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}-{b}"),
        _ => code.to_string(),
    }
}

/// A fresh booking code from random bytes (the caller's generator).
pub fn booking_code_from(bytes: [u8; 8]) -> String {
    bytes
        .iter()
        .map(|b| BOOKING_ALPHABET[*b as usize % BOOKING_ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn ts(t: time::OffsetDateTime) -> Timestamp {
        Timestamp::from_unix_ms((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    fn form() -> WorkshopForm {
        WorkshopForm {
            format: "collective".into(),
            title: "Premiers pas sur la tablette".into(),
            services: vec!["2.1.07".into(), " 1.1.02".into(), "2.1.07".into()],
            level: "beginner".into(),
            date: "2026-12-15".into(),
            time: "14:30".into(),
            duration_min: "90".into(),
            place: "venue".into(),
            capacity: "8".into(),
            mediator: "Samia".into(),
            repeat: "once".into(),
            ..Default::default()
        }
    }

    fn catalogue(code: &str) -> Option<ServiceFormat> {
        match code {
            "2.1.07" => Some(ServiceFormat::Both),
            "1.1.02" => Some(ServiceFormat::Collective),
            _ => None,
        }
    }

    fn lyon(s: &str) -> Option<InseeCode> {
        (s == "Lyon").then(|| InseeCode::parse("69123").unwrap())
    }

    const TODAY: Date = date!(2026 - 12 - 03);

    #[test]
    fn a_workshop_is_checked_whole_and_starts_at_paris_time() {
        let p = form().check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(p.services, vec!["1.1.02", "2.1.07"]);
        assert_eq!(p.dates, vec![date!(2026 - 12 - 15)]);
        // 14:30 in Paris in December is 13:30 UTC.
        assert_eq!(p.starts(), vec![ts(datetime!(2026-12-15 13:30 UTC))]);
        let mut f = form();
        f.format = "individual".into();
        let errors = f.check(TODAY, catalogue, lyon).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        // 1.1.02 is collective only in the catalogue; an appointment has one place.
        assert_eq!(fields, vec!["services", "capacity"], "{errors:?}");
        let mut f = form();
        f.services = vec!["9.9.99".into()];
        f.date = "2026-12-02".into();
        f.time = "25:00".into();
        f.duration_min = "5".into();
        f.place = "elsewhere".into();
        f.place_detail = "Salle des fêtes".into();
        f.commune = "Atlantide".into();
        let errors = f.check(TODAY, catalogue, lyon).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            vec!["services", "date", "time", "duration_min", "commune"],
            "{errors:?}"
        );
        assert!(
            errors[0]
                .1
                .contains("9.9.99 n'est pas dans votre catalogue")
        );
        let mut f = form();
        f.place = "elsewhere".into();
        f.commune = "Lyon".into();
        f.place_detail = "Salle des fêtes".into();
        let p = f.check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(p.place.kind(), "elsewhere");
        assert_eq!(p.place.commune().map(|c| c.as_str()), Some("69123"));
    }

    #[test]
    fn a_series_repeats_until_its_last_date_without_its_exceptions() {
        let mut f = form();
        f.repeat = "weekly".into();
        f.until = "2027-01-12".into();
        f.except = "2026-12-22, 2026-12-29".into();
        let p = f.check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(
            p.dates,
            vec![
                date!(2026 - 12 - 15),
                date!(2027 - 01 - 05),
                date!(2027 - 01 - 12)
            ]
        );
        f.repeat = "fortnightly".into();
        f.except = String::new();
        let p = f.check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(
            p.dates,
            vec![
                date!(2026 - 12 - 15),
                date!(2026 - 12 - 29),
                date!(2027 - 01 - 12)
            ]
        );
        f.until = String::new();
        assert_eq!(f.check(TODAY, catalogue, lyon).unwrap_err()[0].0, "until");
        f.until = "2028-12-15".into();
        assert!(
            f.check(TODAY, catalogue, lyon)
                .unwrap_err()
                .iter()
                .any(|(_, m)| m == "Une série dure au plus un an.")
        );
        assert_eq!(
            series_dates(
                date!(2026 - 01 - 01),
                Repeat::Weekly,
                Some(date!(2030 - 01 - 01)),
                &[]
            )
            .len(),
            MAX_SERIES
        );
    }

    fn workshop(start: Timestamp) -> WorkshopView {
        WorkshopView {
            venue_id: crate::VenueId(1),
            starts_at: start,
            duration_min: 60,
            capacity: 2,
            seats_taken: 1,
            cancelled: false,
            services: vec!["2.1.07".into()],
        }
    }

    #[test]
    fn a_booking_needs_an_open_future_workshop_and_a_cheque_left() {
        let start = ts(datetime!(2026-12-15 13:30 UTC));
        let before = ts(datetime!(2026-12-10 09:00 UTC));
        let w = workshop(start);
        assert_eq!(check_booking(&w, false, 10, 0, before), Ok(()));
        assert_eq!(
            check_booking(&w, true, 10, 1, before),
            Err(BookingRefusal::AlreadyBooked)
        );
        assert_eq!(
            check_booking(&w, false, 2, 2, before),
            Err(BookingRefusal::NoChequeLeft)
        );
        assert_eq!(
            check_booking(&w, false, 10, 0, start),
            Err(BookingRefusal::Past)
        );
        let mut c = w.clone();
        c.cancelled = true;
        assert_eq!(
            check_booking(&c, false, 10, 0, before),
            Err(BookingRefusal::Cancelled)
        );
        assert_eq!(
            BookingRefusal::NoChequeLeft.code(),
            "booklet_no_cheque_left"
        );
    }

    #[test]
    fn one_cheque_per_booklet_per_workshop_on_its_day() {
        let start = ts(datetime!(2026-12-15 13:30 UTC));
        let same_day = ts(datetime!(2026-12-15 16:00 UTC));
        let w = workshop(start);
        let v = crate::VenueId(1);
        assert_eq!(
            check_workshop_scan(Some(&w), v, "2.1.07", false, false, same_day),
            Ok(())
        );
        assert_eq!(
            check_workshop_scan(
                Some(&w),
                crate::VenueId(2),
                "2.1.07",
                false,
                false,
                same_day
            ),
            Err(WorkshopScanRefusal::Unknown)
        );
        assert_eq!(
            check_workshop_scan(None, v, "2.1.07", false, false, same_day),
            Err(WorkshopScanRefusal::Unknown)
        );
        assert_eq!(
            check_workshop_scan(Some(&w), v, "1.1.02", false, false, same_day),
            Err(WorkshopScanRefusal::ServiceNotInWorkshop)
        );
        assert_eq!(
            check_workshop_scan(Some(&w), v, "2.1.07", true, true, same_day),
            Err(WorkshopScanRefusal::BookletAlreadyScanned)
        );
        assert_eq!(
            check_workshop_scan(
                Some(&w),
                v,
                "2.1.07",
                false,
                false,
                ts(datetime!(2026-12-16 10:00 UTC))
            ),
            Err(WorkshopScanRefusal::NotToday)
        );
        // 23:30 UTC on the 15th is already the 16th in Paris.
        assert_eq!(
            check_workshop_scan(
                Some(&w),
                v,
                "2.1.07",
                false,
                false,
                ts(datetime!(2026-12-15 23:30 UTC))
            ),
            Err(WorkshopScanRefusal::NotToday)
        );
        let mut full = w.clone();
        full.seats_taken = 2;
        assert_eq!(
            check_workshop_scan(Some(&full), v, "2.1.07", false, false, same_day),
            Err(WorkshopScanRefusal::Full)
        );
        assert_eq!(
            check_workshop_scan(Some(&full), v, "2.1.07", false, true, same_day),
            Ok(()),
            "a booked person has a place"
        );
    }

    #[test]
    fn booking_codes_are_read_as_people_type_them() {
        assert_eq!(
            parse_booking_code(" abcd-efgh ").as_deref(),
            Some("ABCDEFGH")
        );
        assert_eq!(parse_booking_code("ABCD EFGH").as_deref(), Some("ABCDEFGH"));
        assert_eq!(
            parse_booking_code("ABCD-EFG0"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(parse_booking_code("ABC"), None);
        assert_eq!(display_booking_code("ABCDEFGH"), "ABCD-EFGH");
        let c = booking_code_from([0, 1, 2, 30, 31, 255, 100, 7]);
        assert_eq!(c.len(), 8);
        assert_eq!(parse_booking_code(&c).as_deref(), Some(c.as_str()));
    }
}

/// A booklet's reference as printed on its cover for booking, "3-12": order 3, booklet 12.
pub fn parse_booklet_ref(s: &str) -> Option<(crate::OrderId, i64)> {
    let (o, n) = s.trim().split_once(['-', '/', ' '])?;
    let o: i64 = o.trim().parse().ok().filter(|o| *o > 0)?;
    let n: i64 = n.trim().parse().ok().filter(|n| *n > 0)?;
    Some((crate::OrderId(o), n))
}

#[cfg(test)]
mod reference_tests {
    #[test]
    fn a_booklet_reference_reads_as_printed() {
        use super::parse_booklet_ref as p;
        assert_eq!(p(" 3-12 "), Some((crate::OrderId(3), 12)));
        assert_eq!(p("3/12"), Some((crate::OrderId(3), 12)));
        assert_eq!(p("3-0"), None);
        assert_eq!(p("312"), None);
        assert_eq!(p("a-b"), None);
    }
}
