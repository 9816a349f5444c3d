//! Every statement of a payment run in one ZIP for the operator: each venue's CSV and PDF.
//!
//! Rendering two thousand PDFs is the heaviest thing a page asks: one archive is built at a
//! time (a second request is told to come back), statements are read a hundred venues at a
//! time, and the PDFs are drawn and compressed off the async workers.

use std::io::Write;

use passnum_app::statements::{Names, VenueStatement, venue_statements};

use super::*;

/// Told to a second request while one archive is built (`AppState::statement_archives`).
const BUSY: &str = "Une archive de relevés est déjà en préparation : réessayez dans une minute.";

/// `/operateur/virements/{id}/releves.zip`
pub async fn run_statements_zip(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let run = st
        .store
        .payment_run(id)
        .await
        .map_err(|_| super::run_detail::RUN_NOT_FOUND)?;
    let Ok(_permit) = st.statement_archives.try_acquire() else {
        let csrf = Csrf::from_headers(&headers);
        return Ok(super::super::message(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&staff),
            &csrf,
            "Archive en préparation",
            BUSY,
        ));
    };
    let lines = st
        .store
        .payment_run_lines(id)
        .await
        .map_err(|e| PageError::unavailable(e, "relevés"))?;
    let corrections = st
        .store
        .corrections(Some(id))
        .await
        .map_err(|e| PageError::unavailable(e, "relevés"))?;
    let mut names = Names::load(&st.store)
        .await
        .map_err(|e| PageError::unavailable(e, "relevés"))?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for chunk in lines.chunks(100) {
        let statements = venue_statements(&st.store, &mut names, id, chunk, &corrections)
            .await
            .map_err(|e| PageError::unavailable(e, "relevés"))?;
        let run = run.clone();
        zip = tokio::task::spawn_blocking(move || add_statements(zip, &run, &statements))
            .await
            .map_err(|e| PageError::unavailable(e, "archive des relevés"))?
            .map_err(|e| PageError::unavailable(e, "archive des relevés"))?;
    }
    let bytes = zip
        .finish()
        .map_err(|e| PageError::unavailable(e, "archive des relevés"))?
        .into_inner();
    Ok(crate::ui::download(
        bytes,
        "application/zip",
        &format!("releves-virement-{id}.zip"),
    ))
}

type Archive = zip::ZipWriter<std::io::Cursor<Vec<u8>>>;

/// Each statement as `releve-{run}-lieu-{venue}.csv` and `.pdf`, the names the CLI writes.
fn add_statements(
    mut zip: Archive,
    run: &passnum_store::PaymentRun,
    statements: &[VenueStatement],
) -> Result<Archive, Box<dyn std::error::Error + Send + Sync>> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for s in statements {
        let stem = format!("releve-{}-lieu-{}", run.id, s.total.venue_id.0);
        zip.start_file(format!("{stem}.csv"), options)?;
        zip.write_all(&s.write_csv(Vec::new())?)?;
        zip.start_file(format!("{stem}.pdf"), options)?;
        zip.write_all(&s.pdf(run)?)?;
    }
    Ok(zip)
}
