//! Charts drawn on the server as SVG, no library and nothing loaded from elsewhere. Each is an
//! image with a title and a description for assistive technologies; the page puts the same
//! figures in a table beside it, which is what a screen reader or a spreadsheet reads.

/// One bar: its label, its value (the length) and the value as shown ("1 234", "12 %"); a
/// column may carry a second line under its label (the year under January).
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub shown: String,
    pub note: String,
}

/// DSFR "bleu France" and the grey of texts.
const BLUE: &str = "#000091";
const TEXT: &str = "#161616";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn open(id: &str, title: &str, desc: &str, width: i64, height: i64) -> String {
    format!(
        "<svg class=\"pn-chart\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        escape(title),
        escape(desc)
    )
}

/// Horizontal bars, one per line, label above its bar so that a phone's width keeps the text
/// readable; the longest bar takes the whole width.
pub fn horizontal_bars(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    const W: i64 = 320;
    const ROW: i64 = 44;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut svg = open(id, title, desc, W, ROW * bars.len() as i64);
    for (i, b) in bars.iter().enumerate() {
        let y = i as i64 * ROW;
        // Room for the value after the bar ("15 000 (100 %)"): the bar takes at most 60 %.
        let len = (b.value.max(0) * (W * 60 / 100)) / max;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"13\" fill=\"{TEXT}\">{}</text>\
             <rect x=\"0\" y=\"{}\" width=\"{len}\" height=\"16\" fill=\"{BLUE}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"700\" fill=\"{TEXT}\">{}</text>",
            y + 14,
            escape(&b.label),
            y + 20,
            len + 6,
            y + 33,
            escape(&b.shown)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Columns, one per period, with the period's label under it and its value above.
pub fn columns(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    const H: i64 = 186;
    const BASE: i64 = 150;
    let n = bars.len().max(1) as i64;
    let step = 320 / n;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut svg = open(id, title, desc, 320, H);
    svg.push_str(&format!(
        "<line x1=\"0\" y1=\"{BASE}\" x2=\"320\" y2=\"{BASE}\" stroke=\"{TEXT}\" stroke-width=\"1\"/>"
    ));
    for (i, b) in bars.iter().enumerate() {
        let x = i as i64 * step;
        let h = (b.value.max(0) * 120) / max;
        let mid = x + step / 2;
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\" fill=\"{BLUE}\"/>\
             <text x=\"{mid}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\" fill=\"{TEXT}\">{}</text>\
             <text x=\"{mid}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\" fill=\"{TEXT}\">{}</text>\
             <text x=\"{mid}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\" fill=\"{TEXT}\">{}</text>",
            x + step / 6,
            BASE - h,
            (step * 2 / 3).max(1),
            BASE - h - 4,
            escape(&b.shown),
            BASE + 14,
            escape(&b.label),
            BASE + 26,
            escape(&b.note)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar {
            label: label.into(),
            value,
            shown: value.to_string(),
            note: String::new(),
        }
    }

    #[test]
    fn bars_are_in_proportion_and_labels_are_escaped() {
        let svg = horizontal_bars(
            "f",
            "Carnets & chèques",
            "Du carnet au chèque",
            &[
                bar("Achetés", 100),
                bar("Remis <à des personnes>", 25),
                bar("Vide", 0),
            ],
        );
        assert!(
            svg.starts_with("<svg class=\"pn-chart\" role=\"img\" aria-labelledby=\"f-t f-d\"")
        );
        assert!(svg.contains("<title id=\"f-t\">Carnets &amp; chèques</title>"));
        assert!(
            svg.contains("width=\"192\"")
                && svg.contains("width=\"48\"")
                && svg.contains("width=\"0\""),
            "{svg}"
        );
        assert!(svg.contains("Remis &lt;à des personnes&gt;") && !svg.contains("<à"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn columns_share_the_width_and_an_empty_series_draws_nothing_tall() {
        let svg = columns(
            "m",
            "Par mois",
            "Chèques",
            &[bar("11/26", 10), bar("12/26", 5)],
        );
        assert!(
            svg.contains("height=\"120\"") && svg.contains("height=\"60\""),
            "{svg}"
        );
        let flat = columns("m", "Par mois", "Chèques", &[bar("11/26", 0)]);
        assert!(flat.contains("height=\"0\""));
    }
}
