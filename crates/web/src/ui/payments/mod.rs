//! Payments in the pages: a venue's bank details, what it is owed and its statements; the
//! operator's payment runs and the bank details waiting for confirmation.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::bank::MAX_HOLDER_CHARS;
use passnum_core::payment::FeeRate;
use passnum_core::{BankDetails, BankDetailsError, VenueId, paris};
use passnum_store::{LedgerScope, RunStatus, StaffMember, StoreError};
use serde::Deserialize;

use super::session::{Csrf, OperatorStaff, VenueStaff};
use super::{FieldErrors, Layout, euros, render};
use super::{PageError, Submitted};
use crate::AppState;

mod run_detail;
mod runs;
mod venue;

pub use run_detail::*;
pub use runs::*;
pub use venue::*;
