//! A figure as a table, written once and shown three ways: on the page (French number
//! formats), as CSV (semicolons, UTF-8 with BOM, raw integers, amounts in cents) and as a
//! spreadsheet (XLSX: numbers stay numbers, amounts in euros with their format).

use passnum_core::Money;

/// One cell. Counts and amounts stay integers until they are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// An amount in cents.
    Cents(i64),
    /// A share in whole percent; none when the whole is zero.
    Percent(Option<i64>),
}

/// A column: its key in CSV (snake case, stable for scripts) and its label for people.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
}

pub const fn col(key: &'static str, label: &'static str) -> Column {
    Column { key, label }
}

pub struct Table {
    /// Names the table in download links (`?tableau=`) and file names.
    pub slug: &'static str,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// `n` with narrow no-break spaces between thousands, as French typography writes it.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `part` in whole percent of `whole`, rounded half up; none of nothing.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}

impl Cell {
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => thousands(*n),
            Cell::Cents(c) => Money::from_cents(*c).to_string(),
            Cell::Percent(Some(p)) => format!("{p}\u{a0}%"),
            Cell::Percent(None) => "—".into(),
        }
    }
}

impl Table {
    /// UTF-8 with a BOM and semicolons, as French spreadsheets open it; texts typed by people
    /// can never become formulas.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let keys: Vec<&str> = self.columns.iter().map(|c| c.key).collect();
        out.push_str(&keys.join(";"));
        out.push('\n');
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => passnum_app::activity::csv_cell(s),
                    Cell::Int(n) | Cell::Cents(n) => n.to_string(),
                    Cell::Percent(p) => p.map_or_else(String::new, |p| p.to_string()),
                })
                .collect();
            out.push_str(&cells.join(";"));
            out.push('\n');
        }
        out
    }

    /// One sheet named after the table, a bold header, amounts in euros.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        // A sheet name has at most 31 characters and none of []:*?/\.
        let name: String = self
            .slug
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        sheet.set_name(&name)?;
        let bold = Format::new().set_bold();
        let euros = Format::new().set_num_format("#,##0.00 \"€\"");
        let share = Format::new().set_num_format("0 %");
        for (c, column) in self.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, column.label, &bold)?;
            sheet.set_column_width(c as u16, if c == 0 { 36 } else { 16 })?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Cents(n) => {
                        sheet.write_number_with_format(r, c, *n as f64 / 100.0, &euros)?;
                    }
                    Cell::Percent(Some(p)) => {
                        sheet.write_number_with_format(r, c, *p as f64 / 100.0, &share)?;
                    }
                    Cell::Percent(None) => {}
                }
            }
        }
        book.save_to_buffer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            slug: "lieux",
            title: "Par lieu".into(),
            columns: vec![
                col("lieu", "Lieu"),
                col("cheques", "Chèques"),
                col("montant_centimes", "Montant"),
                col("part_pct", "Part"),
            ],
            rows: vec![
                vec![
                    Cell::Text("=HYPERLINK(\"x\")".into()),
                    Cell::Int(1234),
                    Cell::Cents(123_450),
                    Cell::Percent(Some(33)),
                ],
                vec![
                    Cell::Text("Médiathèque; Lyon".into()),
                    Cell::Int(0),
                    Cell::Cents(0),
                    Cell::Percent(None),
                ],
            ],
        }
    }

    #[test]
    fn figures_read_the_french_way() {
        assert_eq!(thousands(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(thousands(-999), "-999");
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(5, 0), None);
        assert_eq!(Cell::Percent(None).shown(), "—");
        assert_eq!(
            Cell::Cents(123_450).shown(),
            Money::from_cents(123_450).to_string()
        );
    }

    #[test]
    fn a_csv_keeps_integers_and_never_a_formula() {
        let csv = table().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "\u{feff}lieu;cheques;montant_centimes;part_pct");
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"x\"\")\";1234;123450;33");
        assert_eq!(lines[2], "\"Médiathèque; Lyon\";0;0;");
    }

    #[test]
    fn a_spreadsheet_reads_back_with_numbers_as_numbers() {
        use calamine::{Data, Reader, Xlsx};
        let bytes = table().to_xlsx().unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec!["lieux".to_string()]);
        let range = book.worksheet_range("lieux").unwrap();
        assert_eq!(range.get((0, 1)), Some(&Data::String("Chèques".into())));
        assert_eq!(
            range.get((1, 0)),
            Some(&Data::String("=HYPERLINK(\"x\")".into()))
        );
        assert_eq!(range.get((1, 1)), Some(&Data::Float(1234.0)));
        assert_eq!(range.get((1, 2)), Some(&Data::Float(1234.5)));
        assert_eq!(range.get((1, 3)), Some(&Data::Float(0.33)));
        assert_eq!(range.get((2, 3)), Some(&Data::Empty));
    }
}
