//! What every business refusal gives: a stable code for programs, a whole French sentence for
//! people, and a kind from which the HTTP status follows, once, in the web layer.

/// The kind of a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
