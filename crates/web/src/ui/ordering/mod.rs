//! Ordering from the funder's pages: a new order (draft) with its options and logo, then
//! confirmation or cancellation, and the printable booklets and letter once issued. The
//! operator records payments and issues orders from its order list.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::order::OrderRequest;
use passnum_core::order_options::{OrderOptionsRequest, Public, parse_percent, sniff_logo};
use passnum_core::{Money, NewOrder, OrderId, OrderStatus, paris};
use passnum_store::StoreError;
use serde::Deserialize;

use super::PageError;
use super::session::{Csrf, FunderOrder, FunderStaff, OperatorStaff};
use super::{FieldErrors, Layout, render};
use super::{PageForm, Submitted};
use crate::AppState;

mod actions;
mod allocation;
mod documents;
mod form;

pub use actions::*;
pub use allocation::*;
pub use documents::*;
pub use form::*;
