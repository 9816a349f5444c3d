//! passnum's use cases that are not HTTP, called by the web server (API and pages) and by the
//! `passnum` command alike: redeem, hand out, allocate, statements, booklets and letters, the
//! signing key ring and its published document, orientation, passwords.
//!
//! Each takes the store and what it needs (the clock's `now`, the key ring), never a request:
//! parsing a request and rendering an answer stay in `passnum-web` and `passnum-cli`.

pub mod activity;
pub mod allocation;
pub mod booklets;
pub mod clock;
pub mod handing;
pub mod handover;
pub mod keys;
pub mod mail;
pub mod open_data;
pub mod open_figures;
pub mod orientation;
pub mod passwords;
pub mod proconnect;
pub mod redeem;
pub mod scopes;
pub mod sepa_file;
pub mod sign_in;
pub mod statements;
pub mod throttle;
pub mod venue_import;
pub mod workshops;

pub use clock::{Clock, FixedClock, SystemClock};
