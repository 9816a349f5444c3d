//! The cover letter (courrier d'accompagnement) that goes with the booklets: a text template
//! with `{{name}}` fields, so a funder can use its own wording.

use krilla::Document;
use krilla::geom::Point;
use krilla::text::TextDirection;

use crate::booklet::{Logo, wrap};
use crate::{PAGE_H, PAGE_W, PdfError, fonts};

/// passnum's wording, used unless the operator gives another template.
pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/courrier.txt");

/// The fields a template may use.
pub const FIELDS: &[&str] = &[
    "commanditaire",
    "date",
    "cheques",
    "valeur",
    "valeur_carnet",
    "debut",
    "fin",
    "perimetre",
    "lieux",
    "texte",
];

/// Replaces every `{{field}}`; an unknown field is an error, so a typo in a template is
/// caught before thousands of letters are printed with it.
pub fn fill(template: &str, values: &[(&str, &str)]) -> Result<String, PdfError> {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| PdfError("modèle de courrier : « {{ » sans « }} »".into()))?;
        let name = after[..end].trim();
        let value = values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                PdfError(format!(
                    "modèle de courrier : champ inconnu « {name} » (champs possibles : {})",
                    FIELDS.join(", ")
                ))
            })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A one-page letter (text beyond one page is cut, as a letter should stay short).
pub fn letter_pdf(body: &str, logo: Option<&Logo>) -> Result<Vec<u8>, PdfError> {
    let (regular, _) = fonts();
    let mut doc = Document::new();
    let settings = krilla::page::PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| PdfError("format de page".into()))?;
    let mut page = doc.start_page_with(settings);
    let mut s = page.surface();
    let mm = 72.0 / 25.4;
    let left = 25.0 * mm;
    let mut y = 25.0 * mm;
    if let Some(logo) = logo {
        logo.draw(&mut s, left, y, 50.0 * mm, 20.0 * mm);
        y += 28.0 * mm;
    }
    for l in wrap(body.trim(), 92) {
        if y > PAGE_H - 20.0 * mm {
            break;
        }
        s.draw_text(
            Point::from_xy(left, y),
            regular.clone(),
            10.5,
            &l,
            false,
            TextDirection::Auto,
        );
        y += 14.5;
    }
    s.finish();
    page.finish();
    doc.finish().map_err(|e| PdfError(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_fields_and_refuses_unknown_ones() {
        assert_eq!(
            fill(
                "Bonjour {{ commanditaire }} !",
                &[("commanditaire", "Lyon")]
            )
            .unwrap(),
            "Bonjour Lyon !"
        );
        let err = fill("{{nom}}", &[("commanditaire", "Lyon")]).unwrap_err();
        assert!(err.0.contains("champ inconnu « nom »"), "{}", err.0);
        assert!(fill("{{commanditaire", &[]).is_err());
        let values: Vec<(&str, &str)> = FIELDS.iter().map(|f| (*f, "x")).collect();
        assert!(
            fill(DEFAULT_TEMPLATE, &values).is_ok(),
            "the default template uses known fields only"
        );
    }
}
