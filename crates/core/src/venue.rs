//! Mediation venues: their application, qualification and its end.

use time::Date;

use crate::{InseeCode, Timestamp, paris};

/// Where a venue stands. An application is `Applied` (new in the operator's queue), `Waiting`
/// (the operator asked the venue for something) or `Refused`; a qualified venue may be
/// `Suspended`, reach its end date (`Expired`) or be withdrawn (`Revoked`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueStatus {
    Applied,
    Waiting,
    Qualified,
    Refused,
    Suspended,
    Expired,
    Revoked,
}

impl VenueStatus {
    pub const ALL: [VenueStatus; 7] = [
        Self::Applied,
        Self::Waiting,
        Self::Qualified,
        Self::Refused,
        Self::Suspended,
        Self::Expired,
        Self::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Waiting => "waiting",
            Self::Qualified => "qualified",
            Self::Refused => "refused",
            Self::Suspended => "suspended",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// How a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Applied => "Nouvelle candidature",
            Self::Waiting => "En attente du lieu",
            Self::Qualified => "Qualifié",
            Self::Refused => "Candidature refusée",
            Self::Suspended => "Suspendu",
            Self::Expired => "Qualification échue",
            Self::Revoked => "Retiré",
        }
    }

    /// Refusal and withdrawal are final: the venue applies again under a new record. A
    /// qualified venue may be qualified again, to renew its end date; a waiting application
    /// goes back to the queue when the venue has answered.
    pub fn can_become(self, next: VenueStatus) -> bool {
        use VenueStatus::*;
        match self {
            Applied => matches!(next, Waiting | Qualified | Refused),
            Waiting => matches!(next, Applied | Qualified | Refused),
            Qualified => matches!(next, Qualified | Suspended | Expired | Revoked),
            Suspended | Expired => matches!(next, Qualified | Revoked),
            Refused | Revoked => false,
        }
    }

    /// A decision that takes something from a venue, or asks it for something, says why.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Self::Waiting | Self::Refused | Self::Suspended | Self::Revoked
        )
    }
}

/// Why a venue's status cannot change as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeRefusal {
    #[error("Un lieu au statut « {} » ne peut pas passer au statut « {} ».", .from.label(), .to.label())]
    Transition { from: VenueStatus, to: VenueStatus },
    #[error(
        "Ce lieu n'a aucun service à son catalogue : il ne peut pas être qualifié avant de l'avoir renseigné."
    )]
    EmptyCatalogue,
    #[error("Indiquez le motif de cette décision : le lieu le lira.")]
    ReasonMissing,
    #[error("La date de fin de qualification est déjà passée : choisissez une date à venir.")]
    EndInThePast,
}

impl StatusChangeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Transition { .. } => "venue_status_transition",
            Self::EmptyCatalogue => "empty_catalogue",
            Self::ReasonMissing => "reason_missing",
            Self::EndInThePast => "qualification_end_in_the_past",
        }
    }
}

/// A decision on a venue, as the operator (or the daily job) takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusDecision {
    pub to: VenueStatus,
    /// Only for `Qualified`: the last day of the qualification (none: open-ended).
    pub qualified_until: Option<Date>,
    pub reason: String,
}

impl StatusDecision {
    /// A decision without an end date.
    pub fn new(to: VenueStatus, reason: impl Into<String>) -> Self {
        Self {
            to,
            qualified_until: None,
            reason: reason.into(),
        }
    }
}

/// Longest reason kept with a decision.
pub const MAX_REASON_CHARS: usize = 1000;

/// Whether a venue may go from `from` as `decision` says, given how many services its
/// catalogue lists and today's date in Paris.
pub fn check_status_change(
    from: VenueStatus,
    decision: &StatusDecision,
    catalogue_len: usize,
    today: Date,
) -> Result<(), StatusChangeRefusal> {
    let to = decision.to;
    if !from.can_become(to) {
        return Err(StatusChangeRefusal::Transition { from, to });
    }
    if to.needs_reason() && decision.reason.trim().is_empty() {
        return Err(StatusChangeRefusal::ReasonMissing);
    }
    if to == VenueStatus::Qualified {
        if catalogue_len == 0 {
            return Err(StatusChangeRefusal::EmptyCatalogue);
        }
        if decision.qualified_until.is_some_and(|d| d < today) {
            return Err(StatusChangeRefusal::EndInThePast);
        }
    }
    Ok(())
}

/// What the daily job does about a qualification's end date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QualificationStep {
    /// 30 days before: the venue and the operator are warned.
    Warn,
    /// The day after the last day: the qualification ends.
    End,
}

/// Days before the end at which the venue and the operator are warned.
pub const END_WARNING_DAYS: i64 = 30;

/// The steps due on `today` for a qualification that runs to `until` (inclusive), in order.
pub fn due_qualification_steps(until: Date, today: Date) -> Vec<QualificationStep> {
    let mut steps = vec![];
    if today > until {
        steps.push(QualificationStep::End);
    } else if (until - today).whole_days() <= END_WARNING_DAYS {
        steps.push(QualificationStep::Warn);
    }
    steps
}

/// What a redemption needs to know about the venue that scans.
#[derive(Clone, Debug)]
pub struct VenueView {
    pub status: VenueStatus,
    pub qualified_until: Option<Date>,
    pub commune: InseeCode,
}

impl VenueView {
    /// Qualified today (Paris calendar), its qualification not past its end date.
    pub fn is_qualified_at(&self, now: Timestamp) -> bool {
        self.status == VenueStatus::Qualified
            && self
                .qualified_until
                .is_none_or(|until| paris::local_date(now) <= until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn qualification_ends_on_its_date() {
        let v = VenueView {
            status: VenueStatus::Qualified,
            qualified_until: Some(date!(2026 - 06 - 30)),
            commune: InseeCode::parse("69123").unwrap(),
        };
        assert!(v.is_qualified_at(Timestamp::from_offset_datetime(
            datetime!(2026-06-30 21:00 UTC)
        )));
        assert!(!v.is_qualified_at(Timestamp::from_offset_datetime(
            datetime!(2026-06-30 22:00 UTC)
        )));
        let s = VenueView {
            status: VenueStatus::Suspended,
            ..v
        };
        assert!(!s.is_qualified_at(Timestamp::from_offset_datetime(
            datetime!(2026-01-01 12:00 UTC)
        )));
    }

    #[test]
    fn revocation_is_final() {
        assert!(!VenueStatus::Revoked.can_become(VenueStatus::Qualified));
        assert!(VenueStatus::Suspended.can_become(VenueStatus::Qualified));
        assert!(!VenueStatus::Qualified.can_become(VenueStatus::Applied));
        assert!(VenueStatus::Qualified.can_become(VenueStatus::Qualified));
        assert!(!VenueStatus::Suspended.can_become(VenueStatus::Suspended));
    }

    fn decide(to: VenueStatus, reason: &str) -> StatusDecision {
        StatusDecision {
            to,
            qualified_until: None,
            reason: reason.into(),
        }
    }

    #[test]
    fn a_venue_without_a_catalogue_cannot_be_qualified() {
        use VenueStatus::*;
        let today = date!(2026 - 12 - 03);
        assert_eq!(
            check_status_change(Applied, &decide(Qualified, ""), 0, today),
            Err(StatusChangeRefusal::EmptyCatalogue)
        );
        assert_eq!(
            check_status_change(Applied, &decide(Qualified, ""), 3, today),
            Ok(())
        );
        // Suspending or revoking needs no catalogue, but a reason.
        assert_eq!(
            check_status_change(Qualified, &decide(Suspended, "Contrôle"), 0, today),
            Ok(())
        );
        assert_eq!(
            check_status_change(Qualified, &decide(Suspended, "  "), 3, today),
            Err(StatusChangeRefusal::ReasonMissing)
        );
        assert_eq!(
            check_status_change(Revoked, &decide(Qualified, ""), 3, today)
                .unwrap_err()
                .code(),
            "venue_status_transition"
        );
        assert_eq!(
            StatusChangeRefusal::Transition {
                from: Revoked,
                to: Qualified
            }
            .to_string(),
            "Un lieu au statut « Retiré » ne peut pas passer au statut « Qualifié »."
        );
        let past = StatusDecision {
            qualified_until: Some(date!(2026 - 12 - 02)),
            ..decide(Qualified, "")
        };
        assert_eq!(
            check_status_change(Applied, &past, 3, today),
            Err(StatusChangeRefusal::EndInThePast)
        );
        let last_day_today = StatusDecision {
            qualified_until: Some(today),
            ..past
        };
        assert_eq!(
            check_status_change(Applied, &last_day_today, 3, today),
            Ok(())
        );
    }

    #[test]
    fn an_application_is_decided_once() {
        use VenueStatus::*;
        assert!(Applied.can_become(Waiting));
        assert!(Waiting.can_become(Applied));
        assert!(Waiting.can_become(Refused));
        assert!(!Refused.can_become(Applied));
        assert!(!Refused.can_become(Qualified));
        assert!(!Applied.can_become(Suspended));
        assert!(Expired.can_become(Qualified));
        assert!(!Expired.can_become(Expired));
        for s in VenueStatus::ALL {
            assert_eq!(VenueStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn the_end_of_a_qualification_is_announced_then_applied() {
        let until = date!(2027 - 01 - 31);
        assert!(due_qualification_steps(until, date!(2026 - 12 - 31)).is_empty());
        assert_eq!(
            due_qualification_steps(until, date!(2027 - 01 - 01)),
            vec![QualificationStep::Warn]
        );
        assert_eq!(
            due_qualification_steps(until, until),
            vec![QualificationStep::Warn]
        );
        assert_eq!(
            due_qualification_steps(until, date!(2027 - 02 - 01)),
            vec![QualificationStep::End]
        );
    }
}
