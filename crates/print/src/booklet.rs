//! The booklet: a cover, then the cheques ten to a page (two columns of five) with cut marks,
//! each with its signed QR code, its code in readable groups, its number, value and validity.

use std::sync::Arc;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt, SvgSettings};
use passnum_core::order_options::LogoKind;
use qrcode::{EcLevel, QrCode};

use crate::{PAGE_H, PAGE_W, PdfError, fonts};

/// 1 mm in PDF points.
const MM: f32 = 72.0 / 25.4;
/// Printable area of the cheque pages: a 12 mm border keeps cut marks inside printers' margins.
const BORDER: f32 = 12.0 * MM;
const COLS: usize = 2;
const ROWS: usize = 5;
pub const CHEQUES_PER_PAGE: usize = COLS * ROWS;
/// Side of a printed QR code: 30 mm, so a version 7 code (45 modules) has modules of 0.67 mm,
/// comfortable for a phone camera and for a 300 dpi printer.
const QR_SIDE: f32 = 30.0 * MM;

/// What every page of a booklet shares.
pub struct BookletInfo<'a> {
    pub funder: &'a str,
    pub order_id: i64,
    /// e.g. "10,00 €".
    pub face_value: &'a str,
    /// e.g. "100,00 €" for the whole booklet.
    pub booklet_value: &'a str,
    pub valid_from: &'a str,
    pub valid_until: &'a str,
    /// Last day a venue accepts the cheque, when a tolerance applies.
    pub accepted_until: Option<&'a str>,
    /// Plain words that follow "Utilisable ": "dans les lieux qualifiés de ce territoire :
    /// Rhône (69), Villeurbanne (69266)" or "dans tous les lieux qualifiés, partout en France".
    pub perimeter: &'a str,
    /// Where to find venues: usually the public page of this instance.
    pub venues_url: &'a str,
    pub cover_text: &'a str,
    /// e.g. "État 50 %, FEDER 21 %, fonds propres 29 %"; empty when not declared.
    pub funding: &'a str,
    pub logo: Option<(LogoKind, &'a [u8])>,
}

/// One cheque as printed.
pub struct PrintedCheque {
    pub number: i64,
    /// XXXXX-XXXXX-XXXXX.
    pub code: String,
    /// The signed QR payload.
    pub payload: String,
}

/// A logo ready to draw: parsed once, drawn on every booklet.
pub enum Logo {
    Png(Image),
    Svg(Arc<usvg::Tree>),
}

impl Logo {
    /// Parses a logo; an image that does not decode is refused here, before anything is
    /// printed with it.
    pub fn parse(kind: LogoKind, bytes: &[u8]) -> Result<Self, PdfError> {
        let logo = Self::decode(kind, bytes)?;
        // krilla decodes a PNG only when the document is written: draw it once, now.
        let mut doc = Document::new();
        let mut page = new_page(&mut doc)?;
        let mut s = page.surface();
        logo.draw(&mut s, 0.0, 0.0, 50.0, 50.0);
        s.finish();
        page.finish();
        doc.finish()
            .map_err(|_| PdfError("le logo est une image illisible".into()))?;
        Ok(logo)
    }

    fn decode(kind: LogoKind, bytes: &[u8]) -> Result<Self, PdfError> {
        match kind {
            LogoKind::Png => Image::from_png(Arc::new(bytes.to_vec()).into(), true)
                .map(Logo::Png)
                .map_err(|e| PdfError(format!("logo PNG illisible : {e}"))),
            LogoKind::Svg => {
                // A logo may not pull anything into the PDF, not even inline images (a small
                // file could hold a huge PNG): core refuses them on upload, and the parser
                // here resolves none. Its text uses the embedded font (nothing is read from
                // the system).
                let mut opt = usvg::Options {
                    resources_dir: None,
                    image_href_resolver: usvg::ImageHrefResolver {
                        resolve_data: Box::new(|_, _, _| None),
                        resolve_string: Box::new(|_, _| None),
                    },
                    font_family: "DejaVu Sans".into(),
                    ..Default::default()
                };
                Arc::make_mut(&mut opt.fontdb).load_font_data(crate::REGULAR.to_vec());
                usvg::Tree::from_data(bytes, &opt)
                    .map(|t| Logo::Svg(Arc::new(t)))
                    .map_err(|e| PdfError(format!("logo SVG illisible : {e}")))
            }
        }
    }

    fn aspect(&self) -> f32 {
        match self {
            Logo::Png(i) => {
                let (w, h) = i.size();
                w as f32 / h.max(1) as f32
            }
            Logo::Svg(t) => t.size().width() / t.size().height().max(1.0),
        }
    }

    /// Draws the logo inside a box, keeping its proportions.
    pub(crate) fn draw(&self, surface: &mut Surface, x: f32, y: f32, max_w: f32, max_h: f32) {
        let a = self.aspect();
        let (w, h) = if max_w / max_h > a {
            (max_h * a, max_h)
        } else {
            (max_w, max_w / a)
        };
        let Some(size) = Size::from_wh(w.max(1.0), h.max(1.0)) else {
            return;
        };
        surface.push_transform(&Transform::from_translate(x, y));
        match self {
            Logo::Png(i) => surface.draw_image(i.clone(), size),
            Logo::Svg(t) => {
                surface.draw_svg(t, size, SvgSettings::default());
            }
        }
        surface.pop();
    }
}

/// Draws text; `Surface::draw_text` positions the baseline.
fn text(surface: &mut Surface, x: f32, y: f32, size: f32, font: &Font, t: &str) {
    surface.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        size,
        t,
        false,
        TextDirection::Auto,
    );
}

/// Splits a paragraph into lines of at most `max` characters, on spaces.
/// The funder's name on a cheque: one line at 7.5 pt up to 28 characters, else at 6.5 pt on
/// one or two lines of 32, the second cut with an ellipsis when the name is longer still.
pub(crate) fn funder_lines(name: &str) -> Vec<(f32, String)> {
    if name.chars().count() <= 28 {
        return vec![(7.5, name.to_string())];
    }
    let mut lines = wrap(name, 32);
    if lines.len() > 2 {
        let rest = lines[1..].join(" ");
        lines.truncate(1);
        lines.push(crate::cut_text(&rest, 32));
    }
    lines.into_iter().map(|l| (6.5, l)).collect()
}

pub(crate) fn wrap(paragraph: &str, max: usize) -> Vec<String> {
    let mut lines = vec![];
    for raw in paragraph.lines() {
        let mut line = String::new();
        for word in raw.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// The dark modules of a QR code as one path: each horizontal run of dark modules is one
/// rectangle, which keeps the page content small (a few hundred rectangles per code).
fn draw_qr(
    surface: &mut Surface,
    payload: &str,
    x: f32,
    y: f32,
    side: f32,
) -> Result<(), PdfError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError(format!("QR code : {e}")))?;
    let n = code.width();
    let colors = code.to_colors();
    let m = side / n as f32;
    let mut pb = PathBuilder::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == qrcode::Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                // Rows overlap by a hair so that anti-aliasing leaves no light seam between
                // them (scanners read a seam as a broken module).
                if let Some(r) = Rect::from_xywh(
                    x + start as f32 * m,
                    y + row as f32 * m,
                    (col - start) as f32 * m,
                    m * 1.03,
                ) {
                    pb.push_rect(r);
                }
            } else {
                col += 1;
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(Fill {
            paint: rgb::Color::black().into(),
            ..Default::default()
        }));
        surface.draw_path(&path);
    }
    Ok(())
}

fn line(surface: &mut Surface, x1: f32, y1: f32, x2: f32, y2: f32, width: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(x1, y1);
    pb.line_to(x2, y2);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::black().into(),
            width,
            ..Default::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

fn new_page(doc: &mut Document) -> Result<krilla::page::Page<'_>, PdfError> {
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError("format de page".into()))?;
    Ok(doc.start_page_with(settings))
}

/// What a person types to book a workshop: the booklet's reference and its code.
fn booking_line(info: &BookletInfo<'_>, number: i64, code: Option<&str>) -> Option<String> {
    code.map(|c| {
        format!(
            "Pour réserver un atelier : carnet {}-{number}, code {}",
            info.order_id,
            passnum_core::workshop::display_booking_code(c)
        )
    })
}

/// The cover: who pays, what the booklet is worth, until when, where, and how to use it.
fn draw_cover(
    doc: &mut Document,
    info: &BookletInfo<'_>,
    logo: Option<&Logo>,
    booklet_number: i64,
    booking_code: Option<&str>,
    cheques: usize,
) -> Result<(), PdfError> {
    let (regular, bold) = fonts();
    let mut page = new_page(doc)?;
    let mut s = page.surface();
    let left = 25.0 * MM;
    let mut y = 25.0 * MM;
    if let Some(logo) = logo {
        logo.draw(&mut s, left, y, 60.0 * MM, 25.0 * MM);
        y += 32.0 * MM;
    }
    text(&mut s, left, y, 12.0, regular, info.funder);
    y += 30.0;
    text(&mut s, left, y, 28.0, bold, "Pass Numérique");
    y += 26.0;
    text(
        &mut s,
        left,
        y,
        14.0,
        regular,
        &format!("Carnet n° {booklet_number} — commande n° {}", info.order_id),
    );
    y += 22.0;
    if let Some(line) = booking_line(info, booklet_number, booking_code) {
        text(&mut s, left, y, 13.0, bold, &line);
        y += 22.0;
    }
    text(
        &mut s,
        left,
        y,
        14.0,
        bold,
        &format!(
            "{cheques} chèques de {} — valeur {}",
            info.face_value, info.booklet_value
        ),
    );
    y += 30.0;
    let validity = match info.accepted_until {
        Some(last) => format!(
            "Valable du {} au {} (acceptés par les lieux jusqu'au {last}).",
            info.valid_from, info.valid_until
        ),
        None => format!("Valable du {} au {}.", info.valid_from, info.valid_until),
    };
    text(&mut s, left, y, 11.0, regular, &validity);
    y += 16.0;
    for l in wrap(&format!("Utilisable {}.", info.perimeter), 85) {
        text(&mut s, left, y, 11.0, regular, &l);
        y += 15.0;
    }
    y += 14.0;
    text(&mut s, left, y, 13.0, bold, "Comment utiliser vos chèques");
    y += 20.0;
    let steps = [
        "1. Choisissez un lieu de médiation numérique dans la liste ci-dessous.",
        "2. Réservez un atelier en ligne avec le carnet et le code ci-dessus, ou prenez rendez-vous.",
        "3. À chaque atelier, donnez un chèque : le lieu le scanne, vous n'avez rien à payer.",
        "4. Gardez ce carnet avec vous : un chèque ne peut pas être échangé contre de l'argent.",
    ];
    for step in steps {
        for l in wrap(step, 88) {
            text(&mut s, left, y, 11.0, regular, &l);
            y += 15.0;
        }
    }
    y += 10.0;
    text(&mut s, left, y, 13.0, bold, "Où trouver un lieu ?");
    y += 20.0;
    for l in wrap(
        &format!(
            "Les lieux qualifiés, leurs adresses et leurs ateliers : {}",
            info.venues_url
        ),
        88,
    ) {
        text(&mut s, left, y, 11.0, regular, &l);
        y += 15.0;
    }
    if !info.cover_text.is_empty() {
        y += 14.0;
        for l in wrap(info.cover_text, 90).into_iter().take(14) {
            text(&mut s, left, y, 10.5, regular, &l);
            y += 14.0;
        }
    }
    if !info.funding.is_empty() {
        text(
            &mut s,
            left,
            PAGE_H - 20.0 * MM,
            9.0,
            regular,
            &format!("Financement : {}", info.funding),
        );
    }
    s.finish();
    page.finish();
    Ok(())
}

/// Crop marks in the border, in line with every cut of the grid.
fn draw_cut_marks(s: &mut Surface, cell_w: f32, cell_h: f32) {
    let mark = 7.0 * MM;
    let gap = 2.0 * MM;
    for c in 0..=COLS {
        let x = BORDER + c as f32 * cell_w;
        line(s, x, BORDER - gap - mark, x, BORDER - gap, 0.4);
        line(
            s,
            x,
            PAGE_H - BORDER + gap,
            x,
            PAGE_H - BORDER + gap + mark,
            0.4,
        );
    }
    for r in 0..=ROWS {
        let y = BORDER + r as f32 * cell_h;
        line(s, BORDER - gap - mark, y, BORDER - gap, y, 0.4);
        line(
            s,
            PAGE_W - BORDER + gap,
            y,
            PAGE_W - BORDER + gap + mark,
            y,
            0.4,
        );
    }
}

#[allow(clippy::too_many_arguments)] // one cheque's place on the page, spelled out
fn draw_cheque(
    s: &mut Surface,
    info: &BookletInfo<'_>,
    booklet_number: i64,
    per_booklet: usize,
    cheque: &PrintedCheque,
    x: f32,
    y: f32,
    h: f32,
) -> Result<(), PdfError> {
    let (regular, bold) = fonts();
    let pad = 4.0 * MM;
    let tx = x + pad;
    text(s, tx, y + pad + 10.0, 12.0, bold, "Pass Numérique");
    // The left column stops well before the QR code and its quiet zone (4 modules): text
    // inside it made one code in a few dozen unreadable. A long name is set smaller, on two
    // lines if need be ("Département d'Ille-et-Vilaine", "Communauté d'agglomération…"),
    // and cut only beyond that.
    for (i, (size, line)) in funder_lines(info.funder).into_iter().enumerate() {
        text(s, tx, y + pad + 23.0 + 8.0 * i as f32, size, regular, &line);
    }
    text(s, tx, y + pad + 50.0, 22.0, bold, info.face_value);
    text(
        s,
        tx,
        y + pad + 66.0,
        8.0,
        regular,
        &format!(
            "Chèque {} / {per_booklet} — carnet n° {booklet_number}",
            cheque.number
        ),
    );
    text(
        s,
        tx,
        y + pad + QR_SIDE + 14.0,
        8.0,
        regular,
        &format!("Valable du {} au {}", info.valid_from, info.valid_until),
    );
    text(s, tx, y + h - pad - 18.0, 11.0, bold, &cheque.code);
    text(
        s,
        tx,
        y + h - pad - 5.0,
        6.5,
        regular,
        "Un atelier = un chèque. Ni rendu de monnaie, ni échange contre de l'argent.",
    );
    let qr_x = x + (PAGE_W - 2.0 * BORDER) / COLS as f32 - pad - QR_SIDE;
    draw_qr(s, &cheque.payload, qr_x, y + pad + 2.0, QR_SIDE)
}

/// One booklet as a PDF document: its cover, then its cheques.
pub fn booklet_pdf(
    info: &BookletInfo<'_>,
    logo: Option<&Logo>,
    booklet_number: i64,
    booking_code: Option<&str>,
    cheques: &[PrintedCheque],
) -> Result<Vec<u8>, PdfError> {
    let mut doc = Document::new();
    add_booklet(&mut doc, info, logo, booklet_number, booking_code, cheques)?;
    doc.finish().map_err(|e| PdfError(format!("{e:?}")))
}

/// Appends a booklet to a document (a merged file holds several).
pub fn add_booklet(
    doc: &mut Document,
    info: &BookletInfo<'_>,
    logo: Option<&Logo>,
    booklet_number: i64,
    booking_code: Option<&str>,
    cheques: &[PrintedCheque],
) -> Result<(), PdfError> {
    draw_cover(doc, info, logo, booklet_number, booking_code, cheques.len())?;
    let cell_w = (PAGE_W - 2.0 * BORDER) / COLS as f32;
    let cell_h = (PAGE_H - 2.0 * BORDER) / ROWS as f32;
    for chunk in cheques.chunks(CHEQUES_PER_PAGE) {
        let mut page = new_page(doc)?;
        let mut s = page.surface();
        draw_cut_marks(&mut s, cell_w, cell_h);
        for (i, cheque) in chunk.iter().enumerate() {
            let (col, row) = (i % COLS, i / COLS);
            draw_cheque(
                &mut s,
                info,
                booklet_number,
                cheques.len(),
                cheque,
                BORDER + col as f32 * cell_w,
                BORDER + row as f32 * cell_h,
                cell_h,
            )?;
        }
        s.finish();
        page.finish();
    }
    Ok(())
}
