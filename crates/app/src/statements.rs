//! A venue's statement for one payment run, assembled once for the venue's page and for
//! `passnum payments export`, so both give the same files: as CSV, one line per cheque (date,
//! code, service, funder, amount, fee, net) and a total line, with semicolons and decimal
//! commas as French spreadsheets expect; as PDF, the same lines in a table.

use passnum_core::text::spreadsheet_text;
use std::collections::HashMap;
use std::io::Write;

use passnum_core::{ChequeCode, OrderId, paris};
use passnum_store::{
    Correction, PaymentRun, RawStatementLine, StatementLine, Store, StoreError, VenueLine,
};

/// A venue's statement: its total line of the run, its cheques with names, and the corrections
/// recovered from it in this run.
pub struct VenueStatement {
    pub total: VenueLine,
    pub lines: Vec<StatementLine>,
    pub corrections: Vec<Correction>,
}

impl VenueStatement {
    /// Every line as printed: the cheques, then the corrections as negative lines.
    fn printed_lines(&self) -> impl Iterator<Item = std::borrow::Cow<'_, StatementLine>> {
        self.lines.iter().map(std::borrow::Cow::Borrowed).chain(
            self.corrections
                .iter()
                .map(|c| std::borrow::Cow::Owned(correction_line(c))),
        )
    }

    pub fn write_csv<W: Write>(&self, out: W) -> csv::Result<W> {
        let mut w = StatementWriter::new(out)?;
        for l in self.printed_lines() {
            w.line(&l)?;
        }
        w.finish(&self.total)
    }

    pub fn pdf(&self, run: &PaymentRun) -> Result<Vec<u8>, passnum_print::PdfError> {
        let rows: Vec<[String; 7]> = self.printed_lines().map(|l| pdf_row(&l)).collect();
        statement_pdf(run, &self.total, &rows)
    }
}

/// The names a statement prints, looked up once per export instead of joined into every line.
pub struct Names {
    services: HashMap<String, String>,
    funders_of_orders: HashMap<i64, String>,
}

impl Names {
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        Ok(Self {
            services: store
                .list_services()
                .await?
                .into_iter()
                .map(|s| (s.code.as_str().to_string(), s.name))
                .collect(),
            funders_of_orders: HashMap::new(),
        })
    }

    async fn line(
        &mut self,
        store: &Store,
        raw: RawStatementLine,
    ) -> Result<StatementLine, StoreError> {
        if let std::collections::hash_map::Entry::Vacant(e) =
            self.funders_of_orders.entry(raw.order_id)
        {
            let order = store.get_order(OrderId(raw.order_id)).await?;
            e.insert(store.get_funder(order.funder_id).await?.name);
        }
        Ok(StatementLine {
            redeemed_at: raw.redeemed_at,
            cheque_code: ChequeCode::parse(&raw.cheque_code)
                .map(|c| c.grouped())
                .unwrap_or(raw.cheque_code),
            service_name: self
                .services
                .get(&raw.service_code)
                .cloned()
                .unwrap_or_default(),
            service_code: raw.service_code,
            funder_name: self.funders_of_orders[&raw.order_id].clone(),
            amount_cents: raw.amount_cents,
            fee_cents: raw.fee_cents,
        })
    }
}

/// The statements of the venues `totals` (the run's total lines, in venue order, consecutive
/// ids of one run), read in one query; `corrections` are the run's corrections.
pub async fn venue_statements(
    store: &Store,
    names: &mut Names,
    run: i64,
    totals: &[VenueLine],
    corrections: &[Correction],
) -> Result<Vec<VenueStatement>, StoreError> {
    let (Some(first), Some(last)) = (totals.first(), totals.last()) else {
        return Ok(vec![]);
    };
    let mut out = Vec::with_capacity(totals.len());
    for (venue, raw) in store
        .statement_blocks(run, first.venue_id, last.venue_id)
        .await?
    {
        let Some(total) = totals.iter().find(|l| l.venue_id == venue) else {
            continue;
        };
        let mut lines = Vec::with_capacity(raw.len());
        for r in raw {
            lines.push(names.line(store, r).await?);
        }
        out.push(VenueStatement {
            total: total.clone(),
            lines,
            corrections: corrections
                .iter()
                .filter(|c| c.venue_id == venue)
                .cloned()
                .collect(),
        });
    }
    Ok(out)
}

/// One venue's statement of a run; `None` when the venue is not paid in that run.
pub async fn venue_statement(
    store: &Store,
    run: i64,
    venue: passnum_core::VenueId,
) -> Result<Option<VenueStatement>, StoreError> {
    let Some(total) = store
        .payment_run_lines(run)
        .await?
        .into_iter()
        .find(|l| l.venue_id == venue)
    else {
        return Ok(None);
    };
    let corrections = store.corrections(Some(run)).await?;
    let mut names = Names::load(store).await?;
    Ok(
        venue_statements(store, &mut names, run, &[total], &corrections)
            .await?
            .pop(),
    )
}

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

/// A cheque paid wrongly by an earlier run, recovered in this one: a negative line of what the
/// venue received for it (the amount less the fee, which the operator gives back itself),
/// with its reason where the service's name goes.
fn correction_line(c: &Correction) -> StatementLine {
    StatementLine {
        redeemed_at: c.created_at,
        cheque_code: c.cheque_code.clone(),
        service_code: String::new(),
        service_name: correction_label(c),
        funder_name: String::new(),
        amount_cents: -c.recovered_cents(),
        fee_cents: 0,
    }
}

struct StatementWriter<W: Write> {
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

    pub fn line(&mut self, l: &StatementLine) -> csv::Result<()> {
        self.csv.write_record([
            paris::format_moment(l.redeemed_at).as_str(),
            &l.cheque_code,
            &l.service_code,
            &spreadsheet_text(&l.service_name),
            &spreadsheet_text(&l.funder_name),
            &cents(l.amount_cents),
            &cents(l.fee_cents),
            &cents(l.amount_cents - l.fee_cents),
        ])
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
fn pdf_row(l: &StatementLine) -> [String; 7] {
    let m = passnum_core::Money::from_cents;
    [
        paris::format_moment(l.redeemed_at),
        l.cheque_code.clone(),
        format!("{} {}", l.service_code, l.service_name),
        l.funder_name.clone(),
        m(l.amount_cents).to_string(),
        m(l.fee_cents).to_string(),
        m(l.amount_cents - l.fee_cents).to_string(),
    ]
}

/// The PDF statement of a venue for a run.
fn statement_pdf(
    run: &passnum_store::PaymentRun,
    total: &VenueLine,
    rows: &[[String; 7]],
) -> Result<Vec<u8>, passnum_print::PdfError> {
    let m = passnum_core::Money::from_cents;
    let iban = total.iban.to_string();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_typed_by_people_cannot_become_formulas_in_the_csv() {
        let line = StatementLine {
            redeemed_at: passnum_core::Timestamp::from_unix_ms(1_780_000_000_000),
            cheque_code: "ABCD-EFGH-JKMN".into(),
            service_code: "2.1.07".into(),
            service_name: "@SUM(A1)".into(),
            funder_name: "=HYPERLINK(\"http://evil.example\";\"Cliquez\")".into(),
            amount_cents: 1000,
            fee_cents: 0,
        };
        let mut w = StatementWriter::new(Vec::new()).unwrap();
        w.line(&line).unwrap();
        let out = String::from_utf8(w.csv.into_inner().unwrap()).unwrap();
        let row = out.lines().nth(1).unwrap();
        assert!(row.contains(";'@SUM(A1);"), "{row}");
        assert!(row.contains(";\"'=HYPERLINK("), "{row}");
        assert!(row.ends_with(";10,00;0,00;10,00"), "{row}");
    }

    #[test]
    fn cents_are_written_with_their_sign() {
        assert_eq!(super::cents(1234), "12,34");
        assert_eq!(super::cents(-50), "-0,50");
        assert_eq!(super::cents(-1000), "-10,00");
        assert_eq!(super::cents(0), "0,00");
    }
}
