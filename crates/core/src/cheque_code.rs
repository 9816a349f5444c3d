//! Cheque codes: unguessable, easy to read aloud, and self-checking.
//!
//! A code is 14 random symbols (70 bits from a CSPRNG) followed by one check symbol, in
//! Crockford's base-32 alphabet (no I, L, O, U), shown as three groups of five:
//! `7KQ2M-XW4RT-9HC3D`.
//!
//! The check symbol is a Damm check over GF(32): the running value is `v ← α·v ⊕ d` for each
//! symbol `d`, where α is a root of the primitive polynomial x⁵ + x² + 1, and the check symbol
//! makes the final value zero. Because every row of the operation is a permutation, any single
//! wrong symbol changes the result; because α ≠ 1, swapping two neighbours `a b` changes it by
//! `(a ⊕ b)·αᵏ·(α ⊕ 1) ≠ 0`. Both claims are proven by property tests below. Unlike Crockford's
//! own mod-37 check, the check symbol stays in the same 32 readable symbols.

use std::fmt;

use rand::Rng;

pub(crate) const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random symbols in a code.
pub const DATA_LEN: usize = 14;
/// Symbols in a code, check symbol included.
pub const CODE_LEN: usize = DATA_LEN + 1;
const GROUP: usize = 5;
// 14 symbols of 5 bits each, drawn uniformly: 70 bits, at least the 60 the programme requires.
const _: () = assert!(DATA_LEN * 5 >= 60);

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChequeCode([u8; CODE_LEN]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("Le code doit comporter {CODE_LEN} caractères, il en a {0}.")]
    WrongLength(usize),
    #[error("Le caractère « {0} » n'existe pas dans les codes de pass.")]
    InvalidCharacter(char),
    #[error("Une lettre du code semble fausse.")]
    CheckFailed,
}

/// Multiplication by α in GF(2⁵) modulo x⁵ + x² + 1.
const fn mul_alpha(v: u8) -> u8 {
    let shifted = v << 1;
    if shifted & 0x20 != 0 {
        shifted ^ 0b10_0101
    } else {
        shifted
    }
}

fn damm(symbols: &[u8]) -> u8 {
    symbols.iter().fold(0, |acc, &d| mul_alpha(acc) ^ d)
}

fn symbol_value(c: char) -> Result<u8, CodeError> {
    // Forgive the usual confusions of someone copying a code from paper.
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u8)
        .ok_or(CodeError::InvalidCharacter(c))
}

impl ChequeCode {
    /// A fresh code. `rng` must be a cryptographically secure generator: codes are bearer value.
    pub fn generate<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut symbols = [0u8; CODE_LEN];
        for s in symbols.iter_mut().take(DATA_LEN) {
            *s = rng.random_range(0..32);
        }
        symbols[DATA_LEN] = mul_alpha(damm(&symbols[..DATA_LEN]));
        Self(symbols)
    }

    /// Parses what a person typed or a scanner read: case, spaces and dashes do not matter,
    /// O reads as 0, I and L read as 1. A wrong symbol or a swap is caught here, before any lookup.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let mut symbols = [0u8; CODE_LEN];
        let mut n = 0usize;
        for c in input.chars() {
            if c.is_whitespace() || c == '-' || c == '.' {
                continue;
            }
            let v = symbol_value(c)?;
            if n < CODE_LEN {
                symbols[n] = v;
            }
            n += 1;
        }
        if n != CODE_LEN {
            return Err(CodeError::WrongLength(n));
        }
        if damm(&symbols) != 0 {
            return Err(CodeError::CheckFailed);
        }
        Ok(Self(symbols))
    }

    /// The canonical form, without separators: what the database stores.
    pub fn as_compact(&self) -> String {
        self.0
            .iter()
            .map(|&s| ALPHABET[s as usize] as char)
            .collect()
    }

    /// The form printed on paper and shown on screens: three groups of five.
    pub fn grouped(&self) -> String {
        let compact = self.as_compact();
        compact
            .as_bytes()
            .chunks(GROUP)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Display for ChequeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// Debug never prints a whole code: codes are bearer value and logs travel.
impl fmt::Debug for ChequeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.as_compact();
        write!(f, "ChequeCode({}…)", &c[..4])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn arb_code() -> impl Strategy<Value = ChequeCode> {
        any::<u64>()
            .prop_map(|seed| ChequeCode::generate(&mut rand::rngs::StdRng::seed_from_u64(seed)))
    }

    #[test]
    fn generated_codes_are_grouped_and_parse_back() {
        let code = ChequeCode::generate(&mut rand::rng());
        let g = code.grouped();
        assert_eq!(g.len(), 17);
        assert_eq!(g.matches('-').count(), 2);
        assert_eq!(ChequeCode::parse(&g), Ok(code));
    }

    #[test]
    fn codes_carry_at_least_60_bits() {
        let mut rng = rand::rng();
        let codes: std::collections::HashSet<_> = (0..10_000)
            .map(|_| ChequeCode::generate(&mut rng).as_compact())
            .collect();
        assert_eq!(codes.len(), 10_000);
    }

    #[test]
    fn explains_bad_input() {
        assert_eq!(ChequeCode::parse("ABC"), Err(CodeError::WrongLength(3)));
        assert_eq!(
            ChequeCode::parse("ABCDE-FGHJK-MNPQU"),
            Err(CodeError::InvalidCharacter('U'))
        );
        assert_eq!(ChequeCode::parse(""), Err(CodeError::WrongLength(0)));
    }

    proptest! {
        #[test]
        fn forgives_case_spaces_dashes_and_confusions(code in arb_code(), seps in proptest::collection::vec(0u8..3, CODE_LEN)) {
            let mut typed = String::new();
            for (c, sep) in code.as_compact().chars().zip(seps) {
                let c = match c { '0' => 'O', '1' => 'l', other => other.to_ascii_lowercase() };
                typed.push(c);
                match sep { 0 => typed.push(' '), 1 => typed.push('-'), _ => {} }
            }
            prop_assert_eq!(ChequeCode::parse(&typed), Ok(code));
        }

        #[test]
        fn every_single_substitution_is_caught(code in arb_code(), pos in 0..CODE_LEN, delta in 1u8..32) {
            let mut s = code.0;
            s[pos] = (s[pos] + delta) % 32;
            let typed: String = s.iter().map(|&v| ALPHABET[v as usize] as char).collect();
            prop_assert_eq!(ChequeCode::parse(&typed), Err(CodeError::CheckFailed));
        }

        #[test]
        fn every_neighbour_swap_is_caught(code in arb_code(), pos in 0..CODE_LEN - 1) {
            let mut s = code.0;
            prop_assume!(s[pos] != s[pos + 1]);
            s.swap(pos, pos + 1);
            let typed: String = s.iter().map(|&v| ALPHABET[v as usize] as char).collect();
            prop_assert_eq!(ChequeCode::parse(&typed), Err(CodeError::CheckFailed));
        }
    }

    #[test]
    fn exhaustive_over_all_symbol_pairs() {
        // The two proofs above, for every pair of symbols at every position of one code.
        let code = ChequeCode::generate(&mut rand::rngs::StdRng::seed_from_u64(7));
        for pos in 0..CODE_LEN {
            for v in 0..32u8 {
                let mut s = code.0;
                if s[pos] == v {
                    continue;
                }
                s[pos] = v;
                assert_ne!(damm(&s), 0, "substitution at {pos} undetected");
                if pos + 1 < CODE_LEN {
                    for w in 0..32u8 {
                        if v == w {
                            continue;
                        }
                        let mut t = code.0;
                        t[pos] = v;
                        t[pos + 1] = w;
                        let before = damm(&t);
                        t.swap(pos, pos + 1);
                        assert_ne!(damm(&t), before, "swap at {pos} undetected");
                    }
                }
            }
        }
    }
}
