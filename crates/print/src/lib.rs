//! passnum's PDF documents, drawn with krilla and an embedded free font (DejaVu Sans, see
//! `fonts/LICENSE-DejaVu.txt`): nothing is read from the system, text can be extracted.

use std::sync::{Arc, OnceLock};

use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};

pub mod booklet;
pub mod keyfile;
pub mod letter;
#[cfg(feature = "test-support")]
pub mod readback;

pub use booklet::{BookletInfo, Logo, PrintedCheque, add_booklet, booklet_pdf};
pub use krilla::Document;
pub use letter::{DEFAULT_TEMPLATE, fill as fill_letter, letter_pdf};

/// Writes a document built page by page (a merged print).
pub fn finish(doc: Document) -> Result<Vec<u8>, PdfError> {
    doc.finish().map_err(|e| PdfError(format!("{e:?}")))
}

pub(crate) const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A4 in PDF points.
pub(crate) const PAGE_W: f32 = 595.0;
pub(crate) const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const LINE: f32 = 14.0;

pub(crate) fn fonts() -> &'static (Font, Font) {
    static FONTS: OnceLock<(Font, Font)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let load = |bytes: &'static [u8]| {
            Font::new(Arc::new(bytes.to_vec()).into(), 0).expect("embedded font")
        };
        (load(REGULAR), load(BOLD))
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfError(pub String);

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PDF : {}", self.0)
    }
}

impl std::error::Error for PdfError {}

/// A venue's statement for one payment run.
pub struct Statement<'a> {
    /// e.g. "Relevé du virement n° 12 — arrêté au 31/10/2026".
    pub title: &'a str,
    pub venue: &'a str,
    pub iban: &'a str,
    /// Already formatted columns: date, code, service, funder, amount, fee, net.
    pub lines: &'a [[String; 7]],
    /// Formatted totals: cheques, gross, fee, net.
    pub totals: [String; 4],
}

/// Column x positions and widths in characters, so long labels are cut rather than overlap.
const COLUMNS: [(f32, usize); 7] = [
    (0.0, 20),
    (98.0, 17),
    (196.0, 24),
    (326.0, 14),
    (408.0, 10),
    (452.0, 8),
    (490.0, 10),
];

pub(crate) fn cut_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

pub fn statement_pdf(s: &Statement<'_>) -> Result<Vec<u8>, PdfError> {
    let (regular, bold) = fonts();
    let mut doc = Document::new();
    let per_page = ((PAGE_H - 2.0 * MARGIN - 7.0 * LINE) / LINE) as usize;
    let chunks: Vec<&[[String; 7]]> = if s.lines.is_empty() {
        vec![&[]]
    } else {
        s.lines.chunks(per_page).collect()
    };
    let pages = chunks.len();
    for (n, chunk) in chunks.into_iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| PdfError("format de page".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut text = |x: f32, y: f32, size: f32, font: &Font, t: &str| {
            surface.draw_text(
                Point::from_xy(MARGIN + x, y),
                font.clone(),
                size,
                t,
                false,
                TextDirection::Auto,
            );
        };
        let mut y = MARGIN + 12.0;
        text(0.0, y, 14.0, bold, s.title);
        y += LINE * 1.5;
        text(
            0.0,
            y,
            10.0,
            regular,
            &format!("{} — IBAN {}", s.venue, s.iban),
        );
        y += LINE;
        text(
            0.0,
            y,
            8.0,
            regular,
            &format!("Page {} sur {}", n + 1, pages),
        );
        y += LINE * 1.5;
        let headers = [
            "Date",
            "Code",
            "Service",
            "Commanditaire",
            "Montant",
            "Comm.",
            "Net",
        ];
        for (i, h) in headers.iter().enumerate() {
            text(COLUMNS[i].0, y, 8.0, bold, h);
        }
        y += LINE;
        for line in chunk {
            for (i, cell) in line.iter().enumerate() {
                text(COLUMNS[i].0, y, 7.5, regular, &cut_text(cell, COLUMNS[i].1));
            }
            y += LINE;
        }
        if n + 1 == pages {
            y += LINE * 0.5;
            let [cheques, gross, fee, net] = &s.totals;
            text(
                0.0,
                y,
                10.0,
                bold,
                &format!(
                    "Total : {cheques} chèques — montant {gross}, commission {fee}, net versé {net}"
                ),
            );
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PdfError(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize) -> [String; 7] {
        [
            format!("12/03/2026 à 14 h {:02}", i % 60),
            "7KQ2M-XW4RT-9HC3D".into(),
            "2.1.07 Envoyer, recevoir, gérer ses emails".into(),
            "Métropole de Lyon".into(),
            "10,00 €".into(),
            "0,40 €".into(),
            "9,60 €".into(),
        ]
    }

    #[test]
    fn a_long_statement_spans_pages_and_ends_with_its_total() {
        let lines: Vec<_> = (0..120).map(line).collect();
        let pdf = statement_pdf(&Statement {
            title: "Relevé du virement n° 3",
            venue: "Médiathèque",
            iban: "FR76 3000 6000 0112 3456 7890 189",
            lines: &lines,
            totals: [
                "120".into(),
                "1 200,00 €".into(),
                "48,00 €".into(),
                "1 152,00 €".into(),
            ],
        })
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // Read the paper back: the text extracts, with its accents, page by page.
        let dir = std::env::temp_dir().join(format!("passnum-pdf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("releve.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let out = std::process::Command::new("pdftotext")
            .args(["-layout"])
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (Debian poppler-utils) is needed for this test");
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Relevé du virement n° 3"), "{text}");
        assert!(text.contains("Page 3 sur 3"));
        assert!(text.contains("Total : 120 chèques"));
        assert!(
            text.contains("Métropole de …"),
            "long labels are cut, not overlapping"
        );
        assert_eq!(text.matches("7KQ2M-XW4RT-9HC3D").count(), 120);
        std::fs::remove_dir_all(&dir).ok();
    }
}
