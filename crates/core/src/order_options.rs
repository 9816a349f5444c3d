//! What a funder adds to an order besides quantities and dates: the publics it targets, the
//! text of its cover, how the order is funded, and its logo.

use std::collections::BTreeSet;

/// The priority publics of the programme. The codes are stable (API, database, exports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Public {
    Senior,
    Isolated,
    NonFrenchSpeaker,
    Young,
    MinimumIncome,
    JobSeeker,
    Disability,
}

impl Public {
    pub const ALL: [Public; 7] = [
        Public::Senior,
        Public::Isolated,
        Public::NonFrenchSpeaker,
        Public::Young,
        Public::MinimumIncome,
        Public::JobSeeker,
        Public::Disability,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Senior => "senior",
            Self::Isolated => "isolated",
            Self::NonFrenchSpeaker => "non_french_speaker",
            Self::Young => "young",
            Self::MinimumIncome => "minimum_income",
            Self::JobSeeker => "job_seeker",
            Self::Disability => "disability",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Senior => "Personne âgée (65 ans et plus)",
            Self::Isolated => "Personne isolée",
            Self::NonFrenchSpeaker => "Personne non francophone",
            Self::Young => "Jeune de 16 à 25 ans",
            Self::MinimumIncome => "Bénéficiaire des minima sociaux",
            Self::JobSeeker => "Demandeur d'emploi",
            Self::Disability => "Personne en situation de handicap",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }
}

/// One source of funding and its share, in basis points (1 % = 100).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FundingLine {
    pub source: String,
    pub basis_points: i64,
}

pub const MAX_FUNDING_LINES: usize = 10;
pub const MAX_COVER_TEXT_CHARS: usize = 1500;
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
pub const MAX_LOGO_PIXELS: u32 = 4096;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderOptions {
    pub target_publics: BTreeSet<Public>,
    pub cover_text: String,
    /// Empty when the funder does not declare a split; otherwise it sums to 100 %.
    pub funding: Vec<FundingLine>,
}

/// The options as typed, before they are checked.
#[derive(Clone, Debug, Default)]
pub struct OrderOptionsRequest {
    pub target_publics: Vec<String>,
    pub cover_text: String,
    /// (source, share in basis points).
    pub funding: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error(
        "« {0} » n'est pas un public prioritaire connu (senior, isolated, non_french_speaker, young, minimum_income, job_seeker, disability)."
    )]
    UnknownPublic(String),
    #[error("Le texte de couverture dépasse {MAX_COVER_TEXT_CHARS} caractères : raccourcissez-le.")]
    CoverTooLong,
    #[error("Le plan de financement a au plus {MAX_FUNDING_LINES} lignes.")]
    TooManyFundingLines,
    #[error(
        "Chaque ligne du plan de financement a un nom (1 à 100 caractères) et une part strictement positive."
    )]
    FundingLine,
    #[error("La source « {0} » apparaît deux fois dans le plan de financement.")]
    DuplicateFunding(String),
    #[error("Les parts du plan de financement totalisent {0} % au lieu de 100 % : corrigez-les.")]
    FundingSum(String),
}

impl OrderOptions {
    pub fn parse(req: &OrderOptionsRequest) -> Result<Self, OptionsError> {
        let target_publics = req
            .target_publics
            .iter()
            .map(|p| Public::parse(p).ok_or_else(|| OptionsError::UnknownPublic(p.clone())))
            .collect::<Result<_, _>>()?;
        let cover_text = req.cover_text.trim().replace("\r\n", "\n");
        if cover_text.chars().count() > MAX_COVER_TEXT_CHARS {
            return Err(OptionsError::CoverTooLong);
        }
        if req.funding.len() > MAX_FUNDING_LINES {
            return Err(OptionsError::TooManyFundingLines);
        }
        let mut funding: Vec<FundingLine> = Vec::with_capacity(req.funding.len());
        for (source, bp) in &req.funding {
            let source = source.trim();
            if source.is_empty() || source.chars().count() > 100 || *bp <= 0 {
                return Err(OptionsError::FundingLine);
            }
            if funding
                .iter()
                .any(|l| l.source.to_lowercase() == source.to_lowercase())
            {
                return Err(OptionsError::DuplicateFunding(source.to_string()));
            }
            funding.push(FundingLine {
                source: source.to_string(),
                basis_points: *bp,
            });
        }
        let sum: i64 = funding.iter().map(|l| l.basis_points).sum();
        if !funding.is_empty() && sum != 10_000 {
            return Err(OptionsError::FundingSum(percent_text(sum)));
        }
        Ok(Self {
            target_publics,
            cover_text,
            funding,
        })
    }
}

/// "21,5" for 2150 basis points.
pub fn percent_text(bp: i64) -> String {
    let (whole, frac) = (bp / 100, (bp % 100).abs());
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole},{}", f / 10),
        f => format!("{whole},{f:02}"),
    }
}

/// A percentage typed by a person ("21", "21,5", "21.25") in basis points.
pub fn parse_percent(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('%').trim().replace(',', ".");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = format!("{frac:0<2}");
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(frac.parse().ok()?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum LogoKind {
    Png,
    Svg,
}

impl LogoKind {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("Le logo pèse plus de 512 Ko : réduisez-le avant de l'envoyer.")]
    TooLarge,
    #[error("Le logo doit être une image PNG ou SVG.")]
    NotAnImage,
    #[error("Le logo dépasse {MAX_LOGO_PIXELS} pixels de côté : réduisez-le.")]
    TooManyPixels,
    #[error("Le logo SVG contient un script : enregistrez-le sans script.")]
    SvgScript,
    #[error(
        "Le logo SVG contient une image incluse, un filtre, une entité ou un lien externe : exportez-le en SVG simple (formes et textes) ou en PNG."
    )]
    SvgNotPlain,
    /// The bytes look like PNG or SVG but do not decode.
    #[error("Le logo est une image illisible : enregistrez-le de nouveau en PNG ou SVG.")]
    Unreadable,
}

/// Recognises a PNG (by its signature and header) or an SVG (by its root element), within the
/// size limits. Whether the image really renders is checked when the PDF is drawn.
pub fn sniff_logo(bytes: &[u8]) -> Result<LogoKind, LogoError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge);
    }
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        if bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
            return Err(LogoError::NotAnImage);
        }
        let w = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes"));
        let h = u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes"));
        if w == 0 || h == 0 {
            return Err(LogoError::NotAnImage);
        }
        if w > MAX_LOGO_PIXELS || h > MAX_LOGO_PIXELS {
            return Err(LogoError::TooManyPixels);
        }
        return Ok(LogoKind::Png);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| LogoError::NotAnImage)?;
    let lower = text.to_ascii_lowercase();
    let head: String = lower.chars().take(2048).collect();
    if !head.contains("<svg") {
        return Err(LogoError::NotAnImage);
    }
    if lower.contains("<script") || lower.contains("javascript:") || has_event_handler(&lower) {
        return Err(LogoError::SvgScript);
    }
    // An allow-list in spirit: shapes, paths, text, gradients. What could pull in more pixels
    // than the file declares (an embedded PNG of 32000×32000 in a `data:` URI, a filter that
    // is rasterised), expand on parsing (entities) or reach outside (links) is refused.
    const NOT_PLAIN: [&str; 7] = [
        "<image",
        "<foreignobject",
        "<filter",
        "<!entity",
        "<iframe",
        "<object",
        "@import",
    ];
    // A DOCTYPE line as drawing programs write it is fine; one with an internal subset is not.
    let internal_subset = lower.find("<!doctype").is_some_and(|i| {
        lower[i..]
            .split('>')
            .next()
            .is_some_and(|d| d.contains('['))
    });
    if NOT_PLAIN.iter().any(|t| lower.contains(t))
        || internal_subset
        || has_outside_reference(&lower)
    {
        return Err(LogoError::SvgNotPlain);
    }
    Ok(LogoKind::Svg)
}

/// `onload=`, `onclick =`…: an attribute whose name starts with "on" after a space.
fn has_event_handler(lower: &str) -> bool {
    let b = lower.as_bytes();
    (0..b.len().saturating_sub(3)).any(|i| {
        b[i].is_ascii_whitespace() && b[i + 1] == b'o' && b[i + 2] == b'n' && {
            let name_end = b[i + 3..]
                .iter()
                .position(|c| !c.is_ascii_alphabetic())
                .map_or(b.len(), |n| i + 3 + n);
            name_end > i + 3
                && b[name_end..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'=')
        }
    })
}

/// A reference that is not to the logo itself: `href="x"` or `url(x)` not starting with `#`.
fn has_outside_reference(lower: &str) -> bool {
    let refs_after = |marker: &str| {
        lower.match_indices(marker).any(|(i, _)| {
            let rest = lower[i + marker.len()..].trim_start_matches(['=', ' ', '"', '\'', '(']);
            !rest.starts_with('#')
        })
    };
    refs_after("href") || refs_after("url(")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(funding: &[(&str, i64)]) -> OrderOptionsRequest {
        OrderOptionsRequest {
            target_publics: vec!["senior".into(), "job_seeker".into()],
            cover_text: "Bonjour".into(),
            funding: funding.iter().map(|(s, b)| (s.to_string(), *b)).collect(),
        }
    }

    #[test]
    fn a_split_must_sum_to_one_hundred_percent() {
        let ok = OrderOptions::parse(&opts(&[
            ("État", 5000),
            ("FEDER", 2100),
            ("Fonds propres", 2900),
        ]))
        .unwrap();
        assert_eq!(ok.funding.len(), 3);
        assert_eq!(ok.target_publics.len(), 2);
        assert_eq!(
            OrderOptions::parse(&opts(&[("État", 5000), ("FEDER", 2100)])).unwrap_err(),
            OptionsError::FundingSum("71".into())
        );
        assert_eq!(
            OrderOptions::parse(&opts(&[("État", 10_050)])).unwrap_err(),
            OptionsError::FundingSum("100,5".into())
        );
        assert_eq!(
            OrderOptions::parse(&opts(&[("État", 10_000), ("FEDER", 0)])).unwrap_err(),
            OptionsError::FundingLine
        );
        assert_eq!(
            OrderOptions::parse(&opts(&[("État", 5000), ("état", 5000)])).unwrap_err(),
            OptionsError::DuplicateFunding("état".into())
        );
        assert!(OrderOptions::parse(&opts(&[])).unwrap().funding.is_empty());
        let mut bad = opts(&[]);
        bad.target_publics.push("martiens".into());
        assert_eq!(
            OrderOptions::parse(&bad).unwrap_err(),
            OptionsError::UnknownPublic("martiens".into())
        );
    }

    #[test]
    fn percentages_typed_by_people() {
        assert_eq!(parse_percent("21"), Some(2100));
        assert_eq!(parse_percent("21,5 %"), Some(2150));
        assert_eq!(parse_percent("0.25"), Some(25));
        assert_eq!(parse_percent("21,555"), None);
        assert_eq!(parse_percent("-3"), None);
        assert_eq!(parse_percent("abc"), None);
        assert_eq!(percent_text(2150), "21,5");
        assert_eq!(percent_text(2125), "21,25");
        assert_eq!(percent_text(2105), "21,05");
    }

    #[test]
    fn logos_are_sniffed_and_bounded() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(100u32.to_be_bytes());
        png.extend(50u32.to_be_bytes());
        assert_eq!(sniff_logo(&png), Ok(LogoKind::Png));
        let mut huge = png.clone();
        huge[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        assert_eq!(sniff_logo(&huge), Err(LogoError::TooManyPixels));
        assert_eq!(
            sniff_logo(br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#),
            Ok(LogoKind::Svg)
        );
        assert_eq!(
            sniff_logo(b"<svg><script>alert(1)</script></svg>"),
            Err(LogoError::SvgScript)
        );
        assert_eq!(sniff_logo(b"GIF89a...."), Err(LogoError::NotAnImage));
        // Only plain vector logos: no embedded image (the 32000x32000 PNG bomb came that
        // way), no filter, no entity, no outside link, no event handler.
        let svg = |body: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">{body}</svg>"#
            )
        };
        for bad in [
            r#"<image href="data:image/png;base64,iVBORw0KGgo=" width="10" height="10"/>"#,
            r#"<IMAGE xlink:href="logo.png"/>"#,
            r#"<filter id="f"><feGaussianBlur stdDeviation="900"/></filter>"#,
            r#"<foreignObject><p>x</p></foreignObject>"#,
            r##"<use href="https://evil.example/a.svg#x"/>"##,
            r#"<rect style="fill:url(https://evil.example/p)"/>"#,
        ] {
            assert_eq!(
                sniff_logo(svg(bad).as_bytes()),
                Err(LogoError::SvgNotPlain),
                "{bad}"
            );
        }
        assert_eq!(
            sniff_logo(format!("<!DOCTYPE svg [<!ENTITY a \"aaaa\">]>{}", svg("")).as_bytes()),
            Err(LogoError::SvgNotPlain)
        );
        for bad in [r#"<rect onload="alert(1)"/>"#, "<rect\nonclick = \"x()\"/>"] {
            assert_eq!(
                sniff_logo(svg(bad).as_bytes()),
                Err(LogoError::SvgScript),
                "{bad}"
            );
        }
        let exported = format!(
            r#"<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">{}"#,
            svg("")
        );
        assert_eq!(sniff_logo(exported.as_bytes()), Ok(LogoKind::Svg));
        let plain = svg(
            r##"<defs><linearGradient id="g"/></defs><rect fill="url(#g)" width="4" height="2"/><use href="#g"/><text x="1" y="1">Ville de Lyon</text>"##,
        );
        assert_eq!(sniff_logo(plain.as_bytes()), Ok(LogoKind::Svg));
        assert_eq!(sniff_logo(&[0u8; 3]), Err(LogoError::NotAnImage));
        assert_eq!(
            sniff_logo(&vec![b' '; MAX_LOGO_BYTES + 1]),
            Err(LogoError::TooLarge)
        );
    }
}
