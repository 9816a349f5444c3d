//! What every business refusal gives: a stable code for programs, a whole French sentence for
//! people, and a kind from which the HTTP status follows, once, in the web layer.

/// The kind of a refusal. Stored with a redemption's answer, so that a replay answers with the
/// same status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// Nothing there, or nothing the caller may see (the same answer for both): HTTP 404.
    NotFound,
    /// The request is fine but the state of things refuses it: HTTP 409.
    Conflict,
    /// The input is not acceptable: HTTP 422.
    Invalid,
}

/// A business refusal. Its `Display` is the sentence shown to people.
pub trait Refusal: std::fmt::Display {
    /// Stable machine code, documented in the API.
    fn code(&self) -> &'static str;

    fn kind(&self) -> RefusalKind {
        RefusalKind::Invalid
    }
}

impl RefusalKind {
    /// The kind of a redemption or rollback refusal stored before answers carried their kind
    /// (idempotency records written by passnum before December 2026): the codes that were
    /// answered 404 and 409 then, every other one 422.
    pub fn of_stored_code(code: &str) -> Self {
        match code {
            "cheque_unknown" | "redemption_unknown" => Self::NotFound,
            "cheque_already_redeemed"
            | "redemption_already_cancelled"
            | "redemption_already_paid"
            | "rollback_window_closed" => Self::Conflict,
            _ => Self::Invalid,
        }
    }
}
