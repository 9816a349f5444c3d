//! Payments in the pages: a venue's bank details, what it is owed and its statements; the
//! operator's payment runs and the bank details waiting for confirmation.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::bank::MAX_HOLDER_CHARS;
use passnum_core::payment::FeeRate;
use passnum_core::{BankDetails, VenueId, paris};
use passnum_store::{LedgerScope, RunStatus, StaffMember, StoreError};
use serde::Deserialize;

use super::session::{Csrf, OperatorStaff, VenueStaff};
use super::{FieldErrors, Layout, euros, render};
use super::{PageError, Submitted};
use crate::AppState;

mod archive;
mod run_detail;
mod runs;
mod venue;

pub use archive::*;
pub use run_detail::*;
pub use runs::*;
pub use venue::*;

/// "31/12/2026" (what the pages show) or "2026-12-31", read by the helpers the funder's
/// filters use; spaces around the parts are forgiven and a typed year stays in 2000–2100.
pub(super) fn parse_day(s: &str) -> Option<time::Date> {
    let parts: Vec<&str> = s.split('/').map(str::trim).collect();
    let iso = super::funder::french_date(&parts.join("/"));
    let day = crate::api::dto::date_in("date", &iso).ok()?;
    (parts.len() == 1 || (2000..=2100).contains(&day.year())).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::runs::{basis_points_to_percent, percent_to_basis_points};
    use super::*;

    #[test]
    fn dates_are_read_as_the_pages_write_them() {
        let d = time::macros::date!(2026 - 10 - 31);
        assert_eq!(parse_day("31/10/2026"), Some(d));
        assert_eq!(parse_day(" 31 / 10 / 2026 "), Some(d));
        assert_eq!(parse_day("2026-10-31"), Some(d));
        assert_eq!(parse_day("31/02/2026"), None);
        assert_eq!(
            parse_day("31/10/26"),
            None,
            "a two-digit year is not guessed"
        );
        assert_eq!(parse_day("demain"), None);
    }

    #[test]
    fn a_fee_is_typed_as_a_percentage() {
        assert_eq!(percent_to_basis_points("4"), Some(400));
        assert_eq!(percent_to_basis_points("4,5"), Some(450));
        assert_eq!(percent_to_basis_points("4.25 %"), Some(425));
        assert_eq!(percent_to_basis_points("0"), Some(0));
        assert_eq!(
            percent_to_basis_points("4,125"),
            None,
            "no rounding of what was typed"
        );
        assert_eq!(percent_to_basis_points("abc"), None);
        assert_eq!(percent_to_basis_points("-1"), None);
        assert_eq!(percent_to_basis_points(""), None);
        for bp in [0, 400, 450, 425, 2000] {
            assert_eq!(
                percent_to_basis_points(&basis_points_to_percent(bp)),
                Some(bp)
            );
        }
        assert_eq!(basis_points_to_percent(450), "4,5");
    }
}
