//! A venue's statement as CSV: one line per cheque (date, code, service, funder, amount, fee,
//! net) and a total line. Semicolons and decimal commas, as French spreadsheets expect. Used by
//! the venue's page and by `passnum payments export`, so both give the same file.

use std::io::Write;

use passnum_core::{Timestamp, paris};
use passnum_store::VenueLine;

/// "12,34", "-0,50".
pub fn cents(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let a = c.unsigned_abs();
    format!("{sign}{},{:02}", a / 100, a % 100)
}

/// What a statement says about a correction: a line with a negative amount and its reason.
pub fn correction_label(c: &passnum_store::Correction) -> String {
    format!(
        "Correction du virement n° {} : {}",
        c.corrected_run_id, c.reason
    )
}

pub struct StatementWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> StatementWriter<W> {
    pub fn new(out: W) -> csv::Result<Self> {
        let mut csv = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
        csv.write_record([
            "date (Paris)",
            "code",
            "service",
            "libellé du service",
            "commanditaire",
            "montant",
            "commission",
            "net",
        ])?;
        Ok(Self { csv })
    }

    #[allow(clippy::too_many_arguments)]
    pub fn line(
        &mut self,
        redeemed_at: Timestamp,
        cheque_code: &str,
        service_code: &str,
        service_name: &str,
        funder_name: &str,
        amount_cents: i64,
        fee_cents: i64,
    ) -> csv::Result<()> {
        self.csv.write_record([
            paris::format_moment(redeemed_at).as_str(),
            cheque_code,
            service_code,
            service_name,
            funder_name,
            &cents(amount_cents),
            &cents(fee_cents),
            &cents(amount_cents - fee_cents),
        ])
    }

    /// A cheque paid wrongly by an earlier run, recovered in this one (a negative line).
    pub fn correction(&mut self, c: &passnum_store::Correction) -> csv::Result<()> {
        self.line(
            c.created_at,
            &c.cheque_code,
            "",
            &correction_label(c),
            "",
            -c.amount_cents,
            0,
        )
    }

    pub fn finish(mut self, total: &VenueLine) -> csv::Result<W> {
        self.csv.write_record([
            "TOTAL",
            "",
            "",
            "",
            "",
            &cents(total.gross_cents - total.corrections_cents),
            &cents(total.fee_cents),
            &cents(total.net_cents),
        ])?;
        self.csv
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// One statement line as the PDF prints it: date, code, service, funder, amount, fee, net.
pub fn pdf_row(
    redeemed_at: Timestamp,
    cheque_code: &str,
    service_code: &str,
    service_name: &str,
    funder_name: &str,
    amount_cents: i64,
    fee_cents: i64,
) -> [String; 7] {
    let m = passnum_core::Money::from_cents;
    [
        paris::format_moment(redeemed_at),
        cheque_code.to_string(),
        format!("{service_code} {service_name}"),
        funder_name.to_string(),
        m(amount_cents).to_string(),
        m(fee_cents).to_string(),
        m(amount_cents - fee_cents).to_string(),
    ]
}

/// The PDF statement of a venue for a run.
pub fn statement_pdf(
    run: &passnum_store::PaymentRun,
    total: &VenueLine,
    rows: &[[String; 7]],
) -> Result<Vec<u8>, passnum_print::PdfError> {
    let m = passnum_core::Money::from_cents;
    let iban = passnum_core::Iban::parse(&total.iban)
        .map(|i| i.to_string())
        .unwrap_or_else(|_| total.iban.clone());
    passnum_print::statement_pdf(&passnum_print::Statement {
        title: &format!(
            "Pass Numérique — relevé du virement n° {}, arrêté au {}",
            run.id,
            paris::format_date(run.cutoff)
        ),
        venue: &total.venue_name,
        iban: &iban,
        lines: rows,
        totals: [
            total.cheques.to_string(),
            m(total.gross_cents - total.corrections_cents).to_string(),
            m(total.fee_cents).to_string(),
            m(total.net_cents).to_string(),
        ],
    })
}

/// A correction as the PDF prints it.
pub fn pdf_correction_row(c: &passnum_store::Correction) -> [String; 7] {
    pdf_row(
        c.created_at,
        &c.cheque_code,
        "",
        &correction_label(c),
        "",
        -c.amount_cents,
        0,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn cents_are_written_with_their_sign() {
        assert_eq!(super::cents(1234), "12,34");
        assert_eq!(super::cents(-50), "-0,50");
        assert_eq!(super::cents(-1000), "-10,00");
        assert_eq!(super::cents(0), "0,00");
    }
}
