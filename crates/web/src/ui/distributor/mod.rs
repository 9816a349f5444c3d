//! The pages of a distributor agent: the structure's stock and handouts, the handout form
//! with its six-question diagnostic, and the orientation slip the person takes home.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::commune::communes;
use passnum_core::handout::{
    Equipment, HandoutError, HandoutRequest, HouseholdRequest, Level, Need,
};
use passnum_core::order_options::Public;
use passnum_core::{InseeCode, OrderId, paris};
use passnum_store::{DistributorId, StaffMember, StoreError};
use serde::Deserialize;

use super::session::{Csrf, DistributorStaff};
use super::{FieldErrors, Layout, euros, render};
use super::{PageForm, Submitted};
use crate::AppState;
use crate::handing::HandingError;
use crate::orientation::SuggestedVenue;

mod handout;
mod slip;
mod stock;

pub use handout::*;
pub use slip::*;
pub use stock::*;
