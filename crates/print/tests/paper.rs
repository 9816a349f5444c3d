//! Reads the paper back: renders booklet pages to images (poppler's pdftoppm), decodes every
//! QR code (zbar's zbarimg) and checks each payload against the cheques and the key.

use std::collections::BTreeSet;
use std::process::Command;

use passnum_core::signature::{KeyId, SignedCheque, SigningKey};
use passnum_core::{ChequeCode, Money, OrderId};
use passnum_print::{BookletInfo, Logo, PrintedCheque, booklet_pdf};
use rand::SeedableRng;
use time::macros::date;

/// A 4 × 2 PNG in Marianne blue.
const PNG_4X2: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06, 0x00, 0x00, 0x00, 0x7F, 0xA8, 0x7D,
    0x63, 0x00, 0x00, 0x00, 0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x60, 0x98, 0xF8,
    0x1F, 0x15, 0xA3, 0x09, 0x00, 0x00, 0xC6, 0x6A, 0x0C, 0x81, 0xC7, 0x92, 0x2C, 0xCB, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{cmd:?}: {e} (Debian poppler-utils and zbar-tools are needed)")
    });
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_printed_qr_code_decodes_to_a_verified_payload_and_the_text_is_extractable() {
    let key = SigningKey::from_bytes(&[9; 32]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let cheques: Vec<PrintedCheque> = (1..=12)
        .map(|n| {
            let code = ChequeCode::generate(&mut rng);
            let signed = SignedCheque {
                code,
                face_value: Money::from_cents(1000),
                valid_until: date!(2027 - 06 - 30),
                order: OrderId(7),
            };
            PrintedCheque {
                number: n,
                code: code.grouped(),
                payload: signed.payload(&key),
            }
        })
        .collect();
    let logo = Logo::parse(passnum_core::order_options::LogoKind::Png, PNG_4X2).unwrap();
    let info = BookletInfo {
        // Long enough for two lines on each cheque, beside the QR code that must stay readable.
        funder: "Département d'Ille-et-Vilaine — Direction de l'inclusion",
        order_id: 7,
        face_value: "10,00 €",
        booklet_value: "120,00 €",
        valid_from: "01/01/2027",
        valid_until: "30/06/2027",
        accepted_until: Some("30/07/2027"),
        perimeter: "dans les lieux qualifiés de ce territoire : Rhône (69)",
        venues_url: "https://pass.example.fr/lieux",
        cover_text: "Un mot du président de la Métropole.",
        funding: "État 50 %, FEDER 21 %, fonds propres 29 %",
        logo: None,
    };
    let pdf = booklet_pdf(&info, Some(&logo), 3, Some("ABCDEFGH"), &cheques).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("carnet.pdf");
    std::fs::write(&path, &pdf).unwrap();
    if let Ok(keep) = std::env::var("PASSNUM_KEEP_PDF") {
        std::fs::write(keep, &pdf).unwrap();
    }

    let payloads = passnum_print::readback::qr_payloads(&path, &dir.path().join("scans"));
    assert_eq!(
        payloads.len(),
        12,
        "one readable QR code per cheque: {payloads:?}"
    );
    let kid = KeyId::of(&key.verifying_key());
    let decoded: BTreeSet<String> = payloads
        .iter()
        .map(|p| {
            let (c, k) = SignedCheque::verify(p, |id| (*id == kid).then(|| key.verifying_key()))
                .unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(k, kid);
            assert_eq!(c.face_value, Money::from_cents(1000));
            assert_eq!(c.valid_until, date!(2027 - 06 - 30));
            c.code.grouped()
        })
        .collect();
    let expected: BTreeSet<String> = cheques.iter().map(|c| c.code.clone()).collect();
    assert_eq!(decoded, expected);

    let text = run(Command::new("pdftotext").arg(&path).arg("-"));
    for c in &cheques {
        assert!(text.contains(&c.code), "code {} in the text", c.code);
    }
    assert!(text.contains("10,00 €"));
    assert!(text.contains("Valable du 01/01/2027 au 30/06/2027"));
    assert!(text.contains("Chèque 12 / 12 — carnet n° 3"));
    assert!(text.contains("Comment utiliser vos chèques"));
    assert!(
        text.contains("code ABCD-EFGH"),
        "the booking code on the cover"
    );
    assert!(text.contains("https://pass.example.fr/lieux"));
    assert!(text.contains("FEDER 21 %"));
    assert!(
        text.contains("Utilisable dans les lieux qualifiés de ce territoire : Rhône (69)."),
        "the cover says it once: {text}"
    );
    // Every cheque carries the funder's whole name, on two lines.
    assert_eq!(
        text.matches("Département d'Ille-et-Vilaine —").count(),
        13,
        "cover + 12 cheques"
    );
    assert_eq!(text.matches("Direction de l'inclusion").count(), 13);
    let pages = run(Command::new("pdfinfo").arg(&path));
    let page_count = pages.lines().find(|l| l.starts_with("Pages:")).unwrap();
    assert_eq!(
        page_count.split_whitespace().nth(1),
        Some("3"),
        "cover + 10 + 2 cheques"
    );
    let fonts = run(Command::new("pdffonts").arg(&path));
    assert!(fonts.contains("DejaVuSans"), "{fonts}");
    for font in fonts.lines().skip(2) {
        let emb = font
            .split_whitespace()
            .nth(font.split_whitespace().count() - 5);
        assert_eq!(emb, Some("yes"), "every font is embedded: {font}");
    }
}

#[test]
fn logos_that_do_not_decode_are_refused() {
    use passnum_core::order_options::LogoKind;
    assert!(Logo::parse(LogoKind::Png, b"\x89PNG\r\n\x1a\nnot really").is_err());
    assert!(Logo::parse(LogoKind::Svg, b"<svg").is_err());
    assert!(
        Logo::parse(
            LogoKind::Svg,
            br##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#000091"/></svg>"##
        )
        .is_ok()
    );
}
