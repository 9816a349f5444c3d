//! Mediation venues and their qualification.

use time::Date;

use crate::{InseeCode, Timestamp, paris};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueStatus {
    Applied,
    Qualified,
    Suspended,
    Revoked,
}

impl VenueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Qualified => "qualified",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "applied" => Self::Applied,
            "qualified" => Self::Qualified,
            "suspended" => Self::Suspended,
            "revoked" => Self::Revoked,
            _ => return None,
        })
    }

    /// Revocation is final: a revoked venue must apply again under a new record. A qualified
    /// venue may be qualified again, to renew its end date.
    pub fn can_become(self, next: VenueStatus) -> bool {
        self != Self::Revoked && next != Self::Applied && (self != next || next == Self::Qualified)
    }
}

/// Why a venue's status cannot change as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeRefusal {
    #[error("Un lieu au statut « {} » ne peut pas passer au statut « {} ».", .from.as_str(), .to.as_str())]
    Transition { from: VenueStatus, to: VenueStatus },
    #[error(
        "Ce lieu n'a aucun service à son catalogue : il ne peut pas être qualifié avant de l'avoir renseigné."
    )]
    EmptyCatalogue,
}

impl StatusChangeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Transition { .. } => "venue_status_transition",
            Self::EmptyCatalogue => "empty_catalogue",
        }
    }
}

/// Whether a venue may go from `from` to `to`, given how many services its catalogue lists.
pub fn check_status_change(
    from: VenueStatus,
    to: VenueStatus,
    catalogue_len: usize,
) -> Result<(), StatusChangeRefusal> {
    if !from.can_become(to) {
        return Err(StatusChangeRefusal::Transition { from, to });
    }
    if to == VenueStatus::Qualified && catalogue_len == 0 {
        return Err(StatusChangeRefusal::EmptyCatalogue);
    }
    Ok(())
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

    #[test]
    fn a_venue_without_a_catalogue_cannot_be_qualified() {
        use VenueStatus::*;
        assert_eq!(
            check_status_change(Applied, Qualified, 0),
            Err(StatusChangeRefusal::EmptyCatalogue)
        );
        assert_eq!(check_status_change(Applied, Qualified, 3), Ok(()));
        // Suspending or revoking needs no catalogue.
        assert_eq!(check_status_change(Qualified, Suspended, 0), Ok(()));
        assert_eq!(
            check_status_change(Revoked, Qualified, 3)
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
            "Un lieu au statut « revoked » ne peut pas passer au statut « qualified »."
        );
    }
}
