//! Qualified venues published in the national venue standard (schema v1.0.2 of LaMednum /
//! ANCT): every column in order, one row per venue, multi-valued cells separated by `|`.

use passnum_core::standard::{self, PublishedVenue};
use passnum_store::{Store, StoreError};

/// Venues read per page: the export's memory stays flat whatever the number of venues.
const PAGE: i64 = 500;

/// What an export wrote, and the venues it left out with the reason.
#[derive(Debug, Default)]
pub struct ExportReport {
    pub written: usize,
    pub left_out: Vec<(i64, &'static str)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Écriture du fichier impossible : {0}")]
    Write(#[from] csv::Error),
}

/// Writes the standard's CSV for every qualified venue. `source` fills the standard's
/// `source` column (who collects the data).
pub async fn export_venues<W: std::io::Write>(
    store: &Store,
    out: W,
    source: &str,
) -> Result<ExportReport, ExportError> {
    let mut csv = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out);
    csv.write_record(standard::COLUMNS)?;
    let mut report = ExportReport::default();
    let mut after = 0;
    loop {
        let page = store.published_venues(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.venue.id.0;
        for p in &page {
            let v = &p.venue;
            let published = PublishedVenue {
                id: v.id.0,
                siret: &v.siret,
                name: &v.name,
                commune_insee: &v.commune_insee,
                address: &v.address,
                contact: &v.contact,
                opening_hours: &v.opening_hours,
                accessibility: &v.accessibility,
                updated_on: passnum_core::paris::local_date(p.updated_at),
                services: p.services.iter().map(|(s, f)| (s.as_str(), *f)).collect(),
                source,
                publics: &v.publics,
                specific_support: &v.specific_support,
            };
            match standard::row(&published) {
                Ok(row) => {
                    csv.write_record(&row)?;
                    report.written += 1;
                }
                Err(why) => report.left_out.push((v.id.0, why)),
            }
        }
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(report)
}

/// The file name the standard recommends: `YYYY-MM-DD_<SIRET or RNA of the producer>_
/// lieux-de-mediation-numerique_<territory>.csv`, the parts passnum does not know left out.
pub fn file_name(today: time::Date, producer: Option<&str>, territory: Option<&str>) -> String {
    // Unaccented letters and digits only ("Bordeaux Métropole" → "BordeauxMetropole").
    let keep = |s: &str| -> String {
        s.chars()
            .map(passnum_core::text::unaccented)
            .filter(|c| c.is_ascii_alphanumeric())
            .take(60)
            .collect()
    };
    let mut parts = vec![today.to_string()];
    if let Some(p) = producer.map(keep).filter(|p| !p.is_empty()) {
        parts.push(p);
    }
    parts.push("lieux-de-mediation-numerique".into());
    if let Some(t) = territory.map(keep).filter(|t| !t.is_empty()) {
        parts.push(t);
    }
    parts.join("_") + ".csv"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_named_as_the_standard_recommends() {
        let d = time::macros::date!(2026 - 12 - 03);
        assert_eq!(
            file_name(d, Some("24330031600011"), Some("Bordeaux Métropole")),
            "2026-12-03_24330031600011_lieux-de-mediation-numerique_BordeauxMetropole.csv"
        );
        assert_eq!(
            file_name(d, None, None),
            "2026-12-03_lieux-de-mediation-numerique.csv"
        );
    }
}
