//! The life of a cheque, and the checks a redemption goes through, in a documented order.
//!
//! ```text
//! issued → redeemed → paid
//! issued → blocked | expired
//! redeemed → issued        (rollback, within the window, by the venue that redeemed)
//! ```

use std::collections::HashSet;

use crate::{
    CodeError, Money, Timestamp, ValidityStatus, VenueId, VenueView,
    order::{Perimeter, Validity},
    paris,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChequeState {
    Issued,
    Redeemed,
    Paid,
    Blocked,
    Expired,
}

impl ChequeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Redeemed => "redeemed",
            Self::Paid => "paid",
            Self::Blocked => "blocked",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "issued" => Self::Issued,
            "redeemed" => Self::Redeemed,
            "paid" => Self::Paid,
            "blocked" => Self::Blocked,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChequeEvent {
    Redeem,
    Rollback,
    Pay,
    Block,
    Expire,
}

/// The state machine. Every state change in passnum goes through here.
pub fn transition(from: ChequeState, event: ChequeEvent) -> Option<ChequeState> {
    use ChequeEvent as E;
    use ChequeState as S;
    match (from, event) {
        (S::Issued, E::Redeem) => Some(S::Redeemed),
        (S::Redeemed, E::Rollback) => Some(S::Issued),
        (S::Redeemed, E::Pay) => Some(S::Paid),
        (S::Issued, E::Block) => Some(S::Blocked),
        (S::Issued, E::Expire) => Some(S::Expired),
        _ => None,
    }
}

/// What a redemption needs to know about a cheque, read in the same transaction that writes.
#[derive(Clone, Debug)]
pub struct ChequeView {
    pub state: ChequeState,
    pub face_value: Money,
    pub validity: Validity,
    pub redeemed_at: Option<Timestamp>,
}

/// Why a cheque was not accepted. The variants are checked in this order, and the first that
/// applies is the answer, so the same situation always gets the same reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedeemRefusal {
    /// 1. The text is not a cheque code at all, or its check symbol fails.
    Malformed(CodeError),
    /// 2. No such cheque, or one this caller may not see: the same answer, so codes cannot be probed.
    Unknown,
    /// 3. Before the first day of validity.
    NotYetValid { valid_from: time::Date },
    /// 4. After the last day of validity plus the tolerance.
    Expired { valid_until: time::Date },
    /// 5. Blocked (lost or stolen booklet, cancelled order).
    Blocked,
    /// 6. Already redeemed (or already paid).
    AlreadyRedeemed { at: Option<Timestamp> },
    /// 7. The scanning venue is not qualified today.
    VenueNotQualified,
    /// 8. The venue is outside the order's perimeter.
    OutsidePerimeter,
    /// 9. The service given is not in the référentiel.
    ServiceUnknown,
    /// 10. The venue's catalogue does not list the service given.
    ServiceNotOffered,
}

impl crate::refusal::Refusal for RedeemRefusal {
    fn code(&self) -> &'static str {
        RedeemRefusal::code(self)
    }

    fn kind(&self) -> crate::RefusalKind {
        match self {
            Self::Unknown => crate::RefusalKind::NotFound,
            Self::AlreadyRedeemed { .. } => crate::RefusalKind::Conflict,
            _ => crate::RefusalKind::Invalid,
        }
    }
}

impl std::fmt::Display for RedeemRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl RedeemRefusal {
    /// Stable machine code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(CodeError::CheckFailed) => "code_check_failed",
            Self::Malformed(_) => "code_malformed",
            Self::Unknown => "cheque_unknown",
            Self::NotYetValid { .. } => "cheque_not_yet_valid",
            Self::Expired { .. } => "cheque_expired",
            Self::Blocked => "cheque_blocked",
            Self::AlreadyRedeemed { .. } => "cheque_already_redeemed",
            Self::VenueNotQualified => "venue_not_qualified",
            Self::OutsidePerimeter => "venue_outside_perimeter",
            Self::ServiceUnknown => "service_unknown",
            Self::ServiceNotOffered => "service_not_offered",
        }
    }

    /// A sentence for the person at the counter: what happened and what to do.
    pub fn message(&self) -> String {
        match self {
            Self::Malformed(CodeError::CheckFailed) => {
                "Une lettre du code semble fausse : vérifiez-le caractère par caractère.".into()
            }
            Self::Malformed(e) => format!("Ce texte n'est pas un code de pass. {e} Vérifiez-le."),
            Self::Unknown => "Ce code ne correspond à aucun pass en circulation. Vérifiez-le, ou \
                              demandez à la personne le carnet d'origine."
                .into(),
            Self::NotYetValid { valid_from } => format!(
                "Ce pass n'est utilisable qu'à partir du {}.",
                paris::format_date(*valid_from)
            ),
            Self::Expired { valid_until } => format!(
                "Ce pass a expiré (validité jusqu'au {}, délai de tolérance dépassé).",
                paris::format_date(*valid_until)
            ),
            Self::Blocked => "Ce pass est bloqué (carnet déclaré perdu ou volé, ou commande \
                              annulée). Orientez la personne vers la structure qui le lui a remis."
                .into(),
            Self::AlreadyRedeemed { at: Some(at) } => {
                format!(
                    "Ce pass a déjà été utilisé le {}.",
                    paris::format_moment(*at)
                )
            }
            Self::AlreadyRedeemed { at: None } => "Ce pass a déjà été utilisé.".into(),
            Self::VenueNotQualified => "Votre lieu n'est pas qualifié aujourd'hui pour accepter \
                                        les pass. Contactez l'opérateur du programme."
                .into(),
            Self::OutsidePerimeter => "Ce pass a été financé pour un autre territoire et ne peut \
                                       pas être accepté dans votre lieu."
                .into(),
            Self::ServiceUnknown => {
                "Ce service n'existe pas dans le référentiel, ou n'y est plus proposé : choisissez-le dans la liste.".into()
            }
            Self::ServiceNotOffered => "Ce service ne figure pas au catalogue de votre lieu : \
                                        choisissez-en un de la liste, ou ajoutez-le d'abord au \
                                        catalogue de votre lieu."
                .into(),
        }
    }
}

/// The service a venue says it gave, with what the référentiel and the venue's catalogue hold.
pub struct ServiceGiven<'a> {
    pub code: &'a str,
    pub referentiel: &'a HashSet<String>,
    /// The venue's catalogue: the services it gives. Empty gives nothing.
    pub catalogue: &'a HashSet<String>,
}

/// Decides a scan: the cheque checks of [`check_redemption`] (1 to 8), then the service given
/// (9: in the référentiel, 10: in the venue's catalogue).
pub fn check_scan(
    cheque: Option<&ChequeView>,
    perimeter: &Perimeter,
    venue: &VenueView,
    service: &ServiceGiven<'_>,
    now: Timestamp,
) -> Result<(), RedeemRefusal> {
    check_redemption(cheque, perimeter, venue, now)?;
    if !service.referentiel.contains(service.code) {
        return Err(RedeemRefusal::ServiceUnknown);
    }
    if !service.catalogue.contains(service.code) {
        return Err(RedeemRefusal::ServiceNotOffered);
    }
    Ok(())
}

/// Decides whether `venue` may redeem the cheque now. `cheque` is `None` when no cheque
/// visible to the caller has that code.
pub fn check_redemption(
    cheque: Option<&ChequeView>,
    perimeter: &Perimeter,
    venue: &VenueView,
    now: Timestamp,
) -> Result<(), RedeemRefusal> {
    let cheque = cheque.ok_or(RedeemRefusal::Unknown)?;
    match cheque.validity.status_at(now) {
        ValidityStatus::NotYetValid => {
            return Err(RedeemRefusal::NotYetValid {
                valid_from: cheque.validity.valid_from,
            });
        }
        ValidityStatus::Expired => {
            return Err(RedeemRefusal::Expired {
                valid_until: cheque.validity.valid_until,
            });
        }
        ValidityStatus::Valid | ValidityStatus::InTolerance => {}
    }
    match cheque.state {
        ChequeState::Expired => {
            return Err(RedeemRefusal::Expired {
                valid_until: cheque.validity.valid_until,
            });
        }
        ChequeState::Blocked => return Err(RedeemRefusal::Blocked),
        ChequeState::Redeemed | ChequeState::Paid => {
            return Err(RedeemRefusal::AlreadyRedeemed {
                at: cheque.redeemed_at,
            });
        }
        ChequeState::Issued => {}
    }
    if !venue.is_qualified_at(now) {
        return Err(RedeemRefusal::VenueNotQualified);
    }
    if !perimeter.contains(&venue.commune) {
        return Err(RedeemRefusal::OutsidePerimeter);
    }
    Ok(())
}

/// Default time during which a venue may cancel its own redemption (a wrong scan, a workshop
/// that did not take place).
pub const DEFAULT_ROLLBACK_WINDOW_MS: i64 = 24 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RollbackRefusal {
    /// No such redemption for this venue (same answer as another venue's).
    Unknown,
    AlreadyRolledBack,
    AlreadyPaid,
    WindowClosed,
}

impl crate::refusal::Refusal for RollbackRefusal {
    fn code(&self) -> &'static str {
        RollbackRefusal::code(self)
    }

    fn kind(&self) -> crate::RefusalKind {
        match self {
            Self::Unknown => crate::RefusalKind::NotFound,
            Self::AlreadyRolledBack | Self::AlreadyPaid | Self::WindowClosed => {
                crate::RefusalKind::Conflict
            }
        }
    }
}

impl std::fmt::Display for RollbackRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl RollbackRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown => "redemption_unknown",
            Self::AlreadyRolledBack => "redemption_already_cancelled",
            Self::AlreadyPaid => "redemption_already_paid",
            Self::WindowClosed => "rollback_window_closed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Unknown => "Cet encaissement est introuvable pour votre lieu.".into(),
            Self::AlreadyRolledBack => "Cet encaissement a déjà été annulé.".into(),
            Self::AlreadyPaid => "Cet encaissement a déjà été payé et ne peut plus être annulé. \
                                  Contactez l'opérateur pour une régularisation."
                .into(),
            Self::WindowClosed => "Le délai d'annulation est dépassé. Contactez l'opérateur pour \
                                   une régularisation."
                .into(),
        }
    }
}

/// What a rollback needs to know about the redemption.
#[derive(Clone, Debug)]
pub struct RedemptionView {
    pub venue_id: VenueId,
    pub redeemed_at: Timestamp,
    pub rolled_back: bool,
    pub cheque_state: ChequeState,
    /// Taken by a payment run that is not cancelled: it is being paid.
    pub in_payment_run: bool,
}

pub fn check_rollback(
    redemption: Option<&RedemptionView>,
    by_venue: VenueId,
    now: Timestamp,
    window_ms: i64,
) -> Result<(), RollbackRefusal> {
    let r = redemption
        .filter(|r| r.venue_id == by_venue)
        .ok_or(RollbackRefusal::Unknown)?;
    if r.rolled_back {
        return Err(RollbackRefusal::AlreadyRolledBack);
    }
    if r.cheque_state == ChequeState::Paid || r.in_payment_run {
        return Err(RollbackRefusal::AlreadyPaid);
    }
    if now.unix_ms() - r.redeemed_at.unix_ms() > window_ms {
        return Err(RollbackRefusal::WindowClosed);
    }
    debug_assert_eq!(
        transition(r.cheque_state, ChequeEvent::Rollback),
        Some(ChequeState::Issued)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InseeCode, VenueStatus};
    use time::macros::{date, datetime};

    fn now() -> Timestamp {
        Timestamp::from_offset_datetime(datetime!(2026-06-15 10:00 UTC))
    }

    fn cheque(state: ChequeState) -> ChequeView {
        ChequeView {
            state,
            face_value: Money::from_cents(1000),
            validity: Validity {
                valid_from: date!(2026 - 01 - 01),
                valid_until: date!(2026 - 12 - 31),
                tolerance_days: 30,
            },
            redeemed_at: None,
        }
    }

    fn venue(status: VenueStatus, commune: &str) -> VenueView {
        VenueView {
            status,
            qualified_until: None,
            commune: InseeCode::parse(commune).unwrap(),
        }
    }

    fn lyon_only() -> Perimeter {
        Perimeter {
            departements: [crate::DepartementCode::parse("69").unwrap()].into(),
            ..Default::default()
        }
    }

    #[test]
    fn accepts_a_valid_cheque() {
        let q = venue(VenueStatus::Qualified, "69123");
        assert_eq!(
            check_redemption(Some(&cheque(ChequeState::Issued)), &lyon_only(), &q, now()),
            Ok(())
        );
    }

    #[test]
    fn the_service_is_checked_after_the_cheque_and_the_venue() {
        let q = venue(VenueStatus::Qualified, "69123");
        let referentiel: HashSet<String> = ["2.1.07".to_string(), "1.1.01".to_string()].into();
        let catalogue: HashSet<String> = ["1.1.01".to_string()].into();
        let none = HashSet::new();
        let given = |code, catalogue| ServiceGiven {
            code,
            referentiel: &referentiel,
            catalogue,
        };
        let issued = cheque(ChequeState::Issued);
        let scan = |c: Option<&ChequeView>, v: &VenueView, s: &ServiceGiven<'_>| {
            check_scan(c, &lyon_only(), v, s, now())
        };
        // 9 and 10, on a cheque and a venue that pass 1 to 8.
        assert_eq!(
            scan(Some(&issued), &q, &given("9.9.99", &none)),
            Err(RedeemRefusal::ServiceUnknown)
        );
        assert_eq!(
            scan(Some(&issued), &q, &given("2.1.07", &catalogue)),
            Err(RedeemRefusal::ServiceNotOffered)
        );
        assert_eq!(
            scan(Some(&issued), &q, &given("1.1.01", &catalogue)),
            Ok(())
        );
        // A venue without a catalogue gives no service.
        assert_eq!(
            scan(Some(&issued), &q, &given("2.1.07", &none)),
            Err(RedeemRefusal::ServiceNotOffered)
        );
        // The cheque's and the venue's refusals come first.
        assert_eq!(
            scan(None, &q, &given("9.9.99", &none)),
            Err(RedeemRefusal::Unknown)
        );
        let paris = venue(VenueStatus::Qualified, "75056");
        assert_eq!(
            scan(Some(&issued), &paris, &given("2.1.07", &catalogue)),
            Err(RedeemRefusal::OutsidePerimeter)
        );
        assert_eq!(
            RedeemRefusal::ServiceNotOffered.code(),
            "service_not_offered"
        );
    }

    #[test]
    fn checks_run_in_the_documented_order() {
        let bad_venue = venue(VenueStatus::Suspended, "75056");
        // Unknown beats everything else.
        assert_eq!(
            check_redemption(None, &lyon_only(), &bad_venue, now()),
            Err(RedeemRefusal::Unknown)
        );
        // Not yet valid beats blocked, redeemed and venue problems.
        let mut c = cheque(ChequeState::Blocked);
        c.validity.valid_from = date!(2026 - 07 - 01);
        assert_eq!(
            check_redemption(Some(&c), &lyon_only(), &bad_venue, now()),
            Err(RedeemRefusal::NotYetValid {
                valid_from: date!(2026 - 07 - 01)
            })
        );
        // Expired (after tolerance) beats blocked.
        let mut c = cheque(ChequeState::Blocked);
        c.validity.valid_until = date!(2026 - 05 - 01);
        c.validity.tolerance_days = 10;
        assert!(matches!(
            check_redemption(Some(&c), &lyon_only(), &bad_venue, now()),
            Err(RedeemRefusal::Expired { .. })
        ));
        // Within tolerance it is still accepted.
        c.validity.tolerance_days = 45;
        c.state = ChequeState::Issued;
        let q = venue(VenueStatus::Qualified, "69123");
        assert_eq!(check_redemption(Some(&c), &lyon_only(), &q, now()), Ok(()));
        // Blocked beats already redeemed-like venue issues.
        assert_eq!(
            check_redemption(
                Some(&cheque(ChequeState::Blocked)),
                &lyon_only(),
                &bad_venue,
                now()
            ),
            Err(RedeemRefusal::Blocked)
        );
        // Already redeemed beats venue not qualified.
        let mut r = cheque(ChequeState::Redeemed);
        r.redeemed_at = Some(now());
        assert_eq!(
            check_redemption(Some(&r), &lyon_only(), &bad_venue, now()),
            Err(RedeemRefusal::AlreadyRedeemed { at: Some(now()) })
        );
        assert!(matches!(
            check_redemption(
                Some(&cheque(ChequeState::Paid)),
                &lyon_only(),
                &bad_venue,
                now()
            ),
            Err(RedeemRefusal::AlreadyRedeemed { .. })
        ));
        // Venue not qualified beats perimeter.
        assert_eq!(
            check_redemption(
                Some(&cheque(ChequeState::Issued)),
                &lyon_only(),
                &bad_venue,
                now()
            ),
            Err(RedeemRefusal::VenueNotQualified)
        );
        // Finally the perimeter.
        let paris = venue(VenueStatus::Qualified, "75056");
        assert_eq!(
            check_redemption(
                Some(&cheque(ChequeState::Issued)),
                &lyon_only(),
                &paris,
                now()
            ),
            Err(RedeemRefusal::OutsidePerimeter)
        );
        assert_eq!(
            check_redemption(
                Some(&cheque(ChequeState::Issued)),
                &Perimeter::default(),
                &paris,
                now()
            ),
            Ok(())
        );
    }

    #[test]
    fn already_redeemed_says_when_in_french() {
        let at = Timestamp::from_offset_datetime(datetime!(2026-03-12 13:05 UTC));
        assert_eq!(
            RedeemRefusal::AlreadyRedeemed { at: Some(at) }.message(),
            "Ce pass a déjà été utilisé le 12/03/2026 à 14 h 05."
        );
    }

    #[test]
    fn state_machine_allows_only_the_documented_moves() {
        use ChequeEvent as E;
        use ChequeState as S;
        let states = [S::Issued, S::Redeemed, S::Paid, S::Blocked, S::Expired];
        let events = [E::Redeem, E::Rollback, E::Pay, E::Block, E::Expire];
        let mut allowed = vec![];
        for s in states {
            for e in events {
                if let Some(n) = transition(s, e) {
                    allowed.push((s, e, n));
                }
            }
        }
        assert_eq!(
            allowed,
            vec![
                (S::Issued, E::Redeem, S::Redeemed),
                (S::Issued, E::Block, S::Blocked),
                (S::Issued, E::Expire, S::Expired),
                (S::Redeemed, E::Rollback, S::Issued),
                (S::Redeemed, E::Pay, S::Paid),
            ]
        );
        for s in states {
            assert_eq!(ChequeState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn rollback_rules() {
        let v = VenueId(1);
        let r = RedemptionView {
            venue_id: v,
            redeemed_at: now(),
            rolled_back: false,
            cheque_state: ChequeState::Redeemed,
            in_payment_run: false,
        };
        let w = DEFAULT_ROLLBACK_WINDOW_MS;
        assert_eq!(check_rollback(Some(&r), v, now().plus_ms(w), w), Ok(()));
        assert_eq!(
            check_rollback(Some(&r), v, now().plus_ms(w + 1), w),
            Err(RollbackRefusal::WindowClosed)
        );
        assert_eq!(
            check_rollback(Some(&r), VenueId(2), now(), w),
            Err(RollbackRefusal::Unknown)
        );
        assert_eq!(
            check_rollback(None, v, now(), w),
            Err(RollbackRefusal::Unknown)
        );
        let done = RedemptionView {
            rolled_back: true,
            cheque_state: ChequeState::Issued,
            ..r.clone()
        };
        assert_eq!(
            check_rollback(Some(&done), v, now(), w),
            Err(RollbackRefusal::AlreadyRolledBack)
        );
        let being_paid = RedemptionView {
            in_payment_run: true,
            ..r.clone()
        };
        assert_eq!(
            check_rollback(Some(&being_paid), v, now(), w),
            Err(RollbackRefusal::AlreadyPaid)
        );
        let paid = RedemptionView {
            cheque_state: ChequeState::Paid,
            ..r
        };
        assert_eq!(
            check_rollback(Some(&paid), v, now(), w),
            Err(RollbackRefusal::AlreadyPaid)
        );
    }
}
