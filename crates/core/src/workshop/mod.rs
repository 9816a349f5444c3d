//! Workshops (ateliers) a venue publishes, the places people book in them, and the rule "one
//! cheque per booklet per workshop": pure checks, the store applies them in its transactions.

use crate::catalogue::ServiceFormat;
use crate::{InseeCode, Timestamp, paris};

mod form;
pub mod record;
pub use form::*;

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
    use time::macros::datetime;

    fn ts(t: time::OffsetDateTime) -> Timestamp {
        Timestamp::from_unix_ms((t.unix_timestamp_nanos() / 1_000_000) as i64)
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
