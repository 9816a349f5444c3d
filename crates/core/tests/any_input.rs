//! Every parser in core takes whatever a person, a scanner or an API client sends: arbitrary
//! Unicode (multibyte letters, control characters, huge strings) gets an answer, never a panic.

use std::collections::HashSet;

use passnum_core::allocation::parse_criteria_csv;
use passnum_core::order_options::{parse_percent, sniff_logo};
use passnum_core::signature::{KeyId, SignedCheque};
use passnum_core::*;
use proptest::prelude::*;

/// Text that mixes what breaks byte-slicing parsers: multibyte letters, digits, separators.
fn tricky() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9A-Zé€ 2:;,.\\-%\u{0}\u{a0}\u{1F600}]{0,40}",
        "PN1:[0-9A-Zé:]{0,80}",
        "(97|2A|69)[0-9é]{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_parser_panics_on_any_text(s in tricky(), t in tricky(), u in tricky()) {
        let _ = InseeCode::parse(&s);
        let _ = InseeCode::parse_known(&s);
        let _ = DepartementCode::parse(&s);
        let _ = ChequeCode::parse(&s);
        let _ = Siret::parse(&s);
        let _ = Iban::parse(&s);
        let _ = Bic::parse(&s);
        let _ = Money::parse_euros(&s);
        let _ = ServiceCode::parse(&s);
        let _ = KeyId::parse(&s);
        let _ = parse_percent(&s);
        let _ = BankDetails::parse(&s, &t, &u);
        let _ = SignedCheque::verify(&s, |_| None);
        let _ = ServiceCatalog::parse_csv(&s);
        let known: HashSet<i64> = [1, 2].into();
        let _ = parse_criteria_csv(&format!("structure;{t}\n{s}\n{u}"), &known);
    }

    #[test]
    fn no_logo_bytes_panic_the_sniffer(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = sniff_logo(&bytes);
    }
}

#[test]
fn a_commune_code_with_a_multibyte_letter_is_refused_with_a_sentence() {
    for bad in ["6912é", "é9123", "97é12", "2Aé01", "€€"] {
        let e = InseeCode::parse(bad).unwrap_err();
        assert!(e.to_string().starts_with('«'), "{e}");
    }
    // A huge input is echoed cut, not whole.
    let huge = "é".repeat(10_000);
    assert!(
        InseeCode::parse(&huge)
            .unwrap_err()
            .to_string()
            .chars()
            .count()
            < 200
    );
}
