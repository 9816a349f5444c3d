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

/// The letter without its accent ("é" → "e", "Ç" → "C"), case kept; other characters as
/// they are. For names that must be written without accents (file names, searches).
pub fn unaccented(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' => 'a',
        'À' | 'Â' | 'Ä' => 'A',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'î' | 'ï' => 'i',
        'Î' | 'Ï' => 'I',
        'ô' | 'ö' => 'o',
        'Ô' | 'Ö' => 'O',
        'ù' | 'û' | 'ü' => 'u',
        'Ù' | 'Û' | 'Ü' => 'U',
        'ç' => 'c',
        'Ç' => 'C',
        'ÿ' => 'y',
        'Ÿ' => 'Y',
        other => other,
    }
}

/// Compares two secrets (a CSRF token, a booking code) in a time that does not depend on where
/// they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a refused form shows back in a field: the text as typed, cut at `max` characters so
/// that a page never echoes an unbounded body.
pub fn kept(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Text typed by people, made safe for a spreadsheet cell: a cell that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return is read as a formula by spreadsheet software
/// (`=HYPERLINK(…)` in a funder's name would run on the venue's computer), so it gets a
/// leading apostrophe, which spreadsheets show as text. Numbers passnum writes itself are not
/// passed through this.
pub fn spreadsheet_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_equal_only_when_equal() {
        use super::constant_time_eq as eq;
        assert!(eq(b"ABCDEFGH", b"ABCDEFGH"));
        assert!(!eq(b"ABCDEFGH", b"ABCDEFGX"));
        assert!(!eq(b"ABCDEFGH", b"ABCDEFG"));
        assert!(eq(b"", b""));
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_made_text() {
        use super::spreadsheet_text as t;
        assert_eq!(t("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(t("+33 1 02"), "'+33 1 02");
        assert_eq!(t("-2+3"), "'-2+3");
        assert_eq!(t("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(t("\t=1"), "'\t=1");
        assert_eq!(t("Métropole de Lyon"), "Métropole de Lyon");
        assert_eq!(t(""), "");
    }

    #[test]
    fn kept_text_is_cut_at_characters_not_bytes() {
        assert_eq!(super::kept("éléphant", 3), "élé");
        assert_eq!(super::kept("abc", 10), "abc");
    }
}
