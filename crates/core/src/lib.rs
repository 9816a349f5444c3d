//! The pure domain of passnum.
//!
//! Nothing in this crate does IO, reads a clock or touches a database: callers parse input
//! into these types, pass the current time in, and persist what the functions decide.
//! Rules live here once, so the CLI, the JSON API and the web pages all agree.

pub mod allocation;
pub mod application;
pub mod bank;
pub mod bic;
pub mod catalogue;
pub mod cheque;
pub mod cheque_code;
pub mod commune;
pub mod duplicates;
pub mod fec;
pub mod funding;
pub mod handout;
pub mod iban;
pub mod ical;
pub mod ids;
pub mod ledger;
pub mod member_territory;
pub mod money;
pub mod notice;
pub mod order;
pub mod order_options;
pub mod org_number;
pub mod orientation;
pub mod own_public;
pub mod paris;
pub mod payment;
pub mod place;
pub mod refusal;
pub mod secrecy;
pub mod sepa;
pub mod service;
pub mod signature;
pub mod siret;
pub mod standard;
pub mod standard_import;
pub mod territory;
pub mod text;
pub mod venue;
pub mod workshop;

pub use bank::{BankDetails, BankDetailsError};
pub use bic::{Bic, BicError};
pub use cheque::{ChequeState, ChequeView, RedeemRefusal, RedemptionView, RollbackRefusal};
pub use cheque_code::{ChequeCode, CodeError};
pub use iban::{Iban, IbanError};
pub use ids::*;
pub use money::{Money, MoneyError};
pub use order::{
    ClosingStep, NewOrder, OrderError, OrderRequest, OrderStatus, Perimeter, Validity,
    ValidityStatus,
};
pub use org_number::{OrgNumber, OrgNumberError};
pub use place::{DepartementCode, EpciCode, InseeCode, PlaceError, RegionCode};
pub use refusal::{Refusal, RefusalKind};
pub use service::{CheckedDraft, DraftError, Service, ServiceCatalog, ServiceCode, ServiceDraft};
pub use siret::{Siret, SiretError};
pub use venue::{StatusDecision, VenueStatus, VenueView};

/// A point in time, in milliseconds since the Unix epoch (UTC).
///
/// Stored as a plain integer in both databases, so comparisons are exact and cheap.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_ms(ms: i64) -> Self {
        Self(ms)
    }
    pub const fn unix_ms(self) -> i64 {
        self.0
    }
    pub fn from_offset_datetime(t: time::OffsetDateTime) -> Self {
        Self((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }
    pub fn to_offset_datetime(self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
    pub fn plus_ms(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
    /// RFC 3339 in UTC, the form the API uses.
    pub fn to_rfc3339(self) -> String {
        self.to_offset_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}
