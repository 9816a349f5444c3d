//! Lengths of the free text passnum accepts, in characters: checked where the text is written,
//! and used by the pages to keep (never more than) what a person typed when a form is refused.

/// A name: funder, venue, distributing structure, staff member.
pub const MAX_NAME_CHARS: usize = 200;
/// An e-mail address (RFC 5321's limit on a path).
pub const MAX_EMAIL_CHARS: usize = 254;
/// A postal address, or a venue's contact line.
pub const MAX_ADDRESS_CHARS: usize = 300;
/// Typed identifiers (SIRET with spaces, a commune code or name, a number), kept for display.
pub const MAX_TYPED_ID_CHARS: usize = 40;

/// What a refused form shows back in a field: the text as typed, cut at `max` characters so
/// that a page never echoes an unbounded body.
pub fn kept(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn kept_text_is_cut_at_characters_not_bytes() {
        assert_eq!(super::kept("éléphant", 3), "élé");
        assert_eq!(super::kept("abc", 10), "abc");
    }
}
