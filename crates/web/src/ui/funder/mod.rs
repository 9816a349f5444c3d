//! A funder's pages: its orders with their counts and its ring-fenced balance, and the list
//! of redemptions of its cheques with filters and a CSV export.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passnum_core::{FunderId, OrderId, Timestamp, paris};
use passnum_store::{LedgerScope, Redemption, RedemptionScope};
use serde::Deserialize;
use time::Date;

use super::session::{Csrf, FunderOrder, FunderStaff};
use super::{FieldErrors, Layout, euros, render};
use crate::AppState;
use crate::api::dto::date_out;

mod funding;
mod handovers;
mod invoice;
mod order;
mod orders;
mod publics;
mod redemptions;
mod territories;
mod territory_amend;

pub use funding::*;
pub use handovers::*;
pub use invoice::*;
pub use order::*;
pub use orders::*;
pub use publics::*;
pub use redemptions::*;
pub use territories::*;
pub use territory_amend::*;
