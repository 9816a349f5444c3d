//! The operator's pages: dashboard with the trial balance, funders, venues (create, qualify,
//! suspend, revoke), and staff accounts (create, password reset links).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::{FunderId, VenueId, VenueStatus, paris};
use passnum_store::{Actor, NewVenue, StaffMember, StoreError};
use serde::Deserialize;

use super::Submitted;
use super::session::{Csrf, OperatorStaff};
use super::{FieldErrors, Layout, euros, render};
use crate::AppState;

mod accounts;
mod candidate_file;
mod candidates;
mod dashboard;
mod funders;
mod orders;
mod referentiel;
mod venue_file;
mod venues;

pub use accounts::*;
pub use candidate_file::*;
pub use candidates::*;
pub use dashboard::*;
pub use funders::*;
pub use orders::*;
pub use referentiel::*;
pub use venue_file::*;
pub use venues::*;
