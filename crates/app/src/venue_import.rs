//! `passnum venues import`: reads a file of the national venue standard (CSV with pipe or
//! semicolon multi-values, or JSON), checks each row, finds duplicates among the venues and
//! other sources' candidates of the same commune, and writes the places as candidates (never
//! qualified). The file's structure is read whole first: a file that cannot be read writes
//! nothing. Rows are then read again and written 2,000 at a time, so memory does not grow with
//! the file (CSV; a JSON file is parsed whole).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use passnum_core::Timestamp;
use passnum_core::commune::communes;
use passnum_core::duplicates::{self, Comparable, Verdict};
use passnum_core::standard_import::{ImportedPlace, REQUIRED_COLUMNS, RowNote, read_row};
use passnum_store::{KnownKind, KnownPlace, PlannedCandidate, Store, StoreError};

/// Rows read, checked and written together.
const CHUNK: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as the standard: nothing is written.
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What happens to a row.
#[derive(Clone, Debug, PartialEq)]
pub enum RowAction {
    Create,
    Update,
    Refuse,
}

/// One row's line of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct RowReport {
    /// The row's number in the file (the header is line 1 of a CSV; the first object is 1 in
    /// JSON).
    pub line: u64,
    pub source_id: String,
    pub action: RowAction,
    /// A duplicate found: linked or suggested, to what, with which score.
    pub matched: Option<(Verdict, KnownKind, i64, f64)>,
    pub notes: Vec<RowNote>,
}

impl RowReport {
    /// The line as a person reads it.
    pub fn sentence(&self) -> String {
        let what = match self.action {
            RowAction::Create => "créé",
            RowAction::Update => "mis à jour",
            RowAction::Refuse => "refusé",
        };
        let id = if self.source_id.is_empty() {
            "sans id"
        } else {
            self.source_id.as_str()
        };
        let mut s = format!("ligne {} (id {id}) : {what}", self.line);
        if let Some((verdict, kind, id, score)) = self.matched {
            let target = match kind {
                KnownKind::Venue => format!("lieu n° {id}"),
                KnownKind::Candidate => format!("lieu importé n° {id}"),
            };
            let score = format!("{score:.2}").replace('.', ",");
            match verdict {
                Verdict::Link => s.push_str(&format!(", relié au {target} (score {score})")),
                Verdict::Suggest => s.push_str(&format!(
                    ", rapprochement à confirmer avec le {target} (score {score})"
                )),
                Verdict::New => {}
            }
        }
        for n in &self.notes {
            let how = if n.refuses { "" } else { " [valeur ignorée]" };
            s.push_str(&format!(" ; {} : {}{how}", n.column, n.message));
        }
        s
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub linked: usize,
    pub suggested: usize,
    pub refused: usize,
}

enum Format {
    Csv(u8),
    Json,
}

/// JSON when the file starts with `[`; else CSV, its delimiter the most frequent of `,` `;`
/// and tab in the header line.
fn detect(path: &Path) -> Result<Format, ImportError> {
    use std::io::{BufRead, BufReader};
    let file = std::fs::File::open(path).map_err(|e| {
        ImportError::File(format!("Lecture de {} impossible : {e}.", path.display()))
    })?;
    let mut first = Vec::new();
    BufReader::new(file)
        .read_until(b'\n', &mut first)
        .map_err(|e| ImportError::File(format!("Lecture impossible : {e}.")))?;
    let text = String::from_utf8_lossy(&first);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        return Ok(Format::Json);
    }
    let count = |c: char| trimmed.matches(c).count();
    let delimiter = [(',', b','), (';', b';'), ('\t', b'\t')]
        .into_iter()
        .max_by_key(|(c, _)| count(*c))
        .map_or(b',', |(_, b)| b);
    Ok(Format::Csv(delimiter))
}

fn not_utf8(line: u64) -> ImportError {
    ImportError::File(format!(
        "Le fichier n'est pas en UTF-8 (ligne {line}) : enregistrez-le en UTF-8 (« Enregistrer sous », encodage UTF-8) puis recommencez. Rien n'a été importé."
    ))
}

fn check_columns(columns: &[String]) -> Result<(), ImportError> {
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !columns.iter().any(|x| x == c))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ImportError::File(format!(
            "Colonnes obligatoires absentes : {}. Ce fichier ne suit pas le standard des lieux de médiation numérique ; rien n'a été importé.",
            missing.join(", ")
        )))
    }
}

/// A row: its number in the file and its cells, by the standard's column names.
type Row = (u64, HashMap<&'static str, String>);

/// The rows of a file, one at a time.
enum Rows {
    Csv {
        reader: csv::Reader<std::fs::File>,
        /// Where each of the standard's columns is in the file.
        index: Vec<(&'static str, usize)>,
        record: csv::StringRecord,
        line: u64,
    },
    Json {
        items: std::vec::IntoIter<serde_json::Map<String, serde_json::Value>>,
        line: u64,
    },
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("|"),
        other => other.to_string(),
    }
}

impl Rows {
    fn open(path: &Path) -> Result<Self, ImportError> {
        let unreadable = |e: &dyn std::fmt::Display| {
            ImportError::File(format!("Lecture de {} impossible : {e}.", path.display()))
        };
        match detect(path)? {
            Format::Json => {
                let bytes = std::fs::read(path).map_err(|e| unreadable(&e))?;
                let text = String::from_utf8(bytes).map_err(|_| not_utf8(1))?;
                let items: Vec<serde_json::Map<String, serde_json::Value>> =
                    serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
                        ImportError::File(format!(
                            "Ce JSON n'est pas une liste de lieux (ligne {}, colonne {}) ; rien n'a été importé.",
                            e.line(),
                            e.column()
                        ))
                    })?;
                if let Some(first) = items.first() {
                    check_columns(&first.keys().cloned().collect::<Vec<_>>())?;
                }
                Ok(Self::Json {
                    items: items.into_iter(),
                    line: 0,
                })
            }
            Format::Csv(delimiter) => {
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .flexible(true)
                    .from_path(path)
                    .map_err(|e| unreadable(&e))?;
                let headers: Vec<String> = reader
                    .headers()
                    .map_err(|_| not_utf8(1))?
                    .iter()
                    .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                    .collect();
                check_columns(&headers)?;
                let index = passnum_core::standard::COLUMNS
                    .iter()
                    .filter_map(|c| Some((*c, headers.iter().position(|h| h == c)?)))
                    .collect();
                Ok(Self::Csv {
                    reader,
                    index,
                    record: csv::StringRecord::new(),
                    line: 1,
                })
            }
        }
    }

    fn next_row(&mut self) -> Result<Option<Row>, ImportError> {
        match self {
            Self::Json { items, line } => Ok(items.next().map(|item| {
                *line += 1;
                let cells = passnum_core::standard::COLUMNS
                    .iter()
                    .map(|c| (*c, item.get(*c).map(cell).unwrap_or_default()))
                    .collect();
                (*line, cells)
            })),
            Self::Csv {
                reader,
                index,
                record,
                line,
            } => {
                *line += 1;
                match reader.read_record(record) {
                    Ok(false) => Ok(None),
                    Ok(true) => Ok(Some((
                        *line,
                        index
                            .iter()
                            .map(|(c, i)| (*c, record.get(*i).unwrap_or("").to_string()))
                            .collect(),
                    ))),
                    Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                        Err(not_utf8(*line))
                    }
                    Err(e) => Err(ImportError::File(format!(
                        "Ligne {line} illisible ({e}) ; rien n'a été importé."
                    ))),
                }
            }
        }
    }
}

/// One row checked: its number, its raw id, the place kept (none: refused), its problems.
type Checked = (u64, String, Option<ImportedPlace>, Vec<RowNote>);

/// Imports `path` as `source`; `on_row` gets each row's report line. With `dry_run` nothing is
/// written and the report says what would be.
pub async fn import_venues(
    store: &Store,
    path: &Path,
    source: &str,
    dry_run: bool,
    now: Timestamp,
    mut on_row: impl FnMut(&RowReport),
) -> Result<ImportSummary, ImportError> {
    let source = source.trim();
    if source.is_empty() || source.chars().count() > 100 {
        return Err(ImportError::File(
            "Nommez la source en 1 à 100 caractères (--source).".into(),
        ));
    }
    // First pass: every row read, nothing kept. A file that cannot be read writes nothing.
    let mut rows = Rows::open(path)?;
    while rows.next_row()?.is_some() {}
    let mut rows = Rows::open(path)?;
    let mut summary = ImportSummary::default();
    // Ids met so far: a source lists a place once; a later line with the same id is refused.
    let mut seen: HashSet<String> = HashSet::new();
    let mut chunk: Vec<Checked> = Vec::with_capacity(CHUNK);
    loop {
        let next = rows.next_row()?;
        if let Some((line, cells)) = &next {
            let (mut place, mut notes) =
                read_row(|c| cells.get(c).map_or("", String::as_str), communes());
            if let Some(p) = &place
                && !seen.insert(p.source_id.clone())
            {
                notes.push(RowNote {
                    column: "id",
                    message: "Cet id figure déjà plus haut dans le fichier : seule la première ligne compte.".into(),
                    refuses: true,
                });
                place = None;
            }
            let raw_id: String = cells
                .get("id")
                .map_or("", String::as_str)
                .chars()
                .take(100)
                .collect();
            chunk.push((*line, raw_id, place, notes));
        }
        if chunk.len() == CHUNK || (next.is_none() && !chunk.is_empty()) {
            let rows = std::mem::take(&mut chunk);
            write_chunk(store, source, dry_run, now, rows, &mut summary, &mut on_row).await?;
        }
        if next.is_none() {
            return Ok(summary);
        }
    }
}

async fn write_chunk(
    store: &Store,
    source: &str,
    dry_run: bool,
    now: Timestamp,
    rows: Vec<Checked>,
    summary: &mut ImportSummary,
    on_row: &mut impl FnMut(&RowReport),
) -> Result<(), ImportError> {
    let mut communes_here: Vec<String> = rows
        .iter()
        .filter_map(|(_, _, p, _)| p.as_ref().map(|p| p.commune_insee.clone()))
        .collect();
    communes_here.sort();
    communes_here.dedup();
    let mut known: HashMap<String, Vec<KnownPlace>> = HashMap::new();
    for k in store.known_places(&communes_here).await? {
        known.entry(k.commune_insee.clone()).or_default().push(k);
    }
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|(_, _, p, _)| p.as_ref().map(|p| p.source_id.as_str()))
        .collect();
    let existing = store.candidate_ids(source, &ids).await?;
    let mut planned = vec![];
    let mut reports = vec![];
    for (line, raw_id, place, notes) in &rows {
        summary.rows += 1;
        let Some(p) = place else {
            summary.refused += 1;
            reports.push(RowReport {
                line: *line,
                source_id: raw_id.clone(),
                action: RowAction::Refuse,
                matched: None,
                notes: notes.clone(),
            });
            continue;
        };
        let me = Comparable {
            commune_insee: &p.commune_insee,
            source,
            name: &p.name,
            address: &p.address,
            position: p.position,
        };
        let best = known
            .get(&p.commune_insee)
            .into_iter()
            .flatten()
            .filter_map(|k| {
                let other = Comparable {
                    commune_insee: &k.commune_insee,
                    source: &k.source,
                    name: &k.name,
                    address: &k.address,
                    position: k.position,
                };
                duplicates::score(&me, &other).map(|s| (k, s))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let verdict = duplicates::verdict(best.as_ref().map(|b| b.1));
        let matched = best
            .filter(|_| verdict != Verdict::New)
            .map(|(k, s)| (verdict, k.kind, k.id, s));
        match verdict {
            Verdict::Link => summary.linked += 1,
            Verdict::Suggest => summary.suggested += 1,
            Verdict::New => {}
        }
        let action = if existing.contains_key(&p.source_id) {
            summary.updated += 1;
            RowAction::Update
        } else {
            summary.created += 1;
            RowAction::Create
        };
        reports.push(RowReport {
            line: *line,
            source_id: p.source_id.clone(),
            action,
            matched,
            notes: notes.clone(),
        });
        planned.push(PlannedCandidate {
            place: p,
            verdict,
            matched: matched.map(|(_, k, id, s)| (k, id, s)),
        });
    }
    if !dry_run && !planned.is_empty() {
        store
            .write_candidates(source, &planned, &existing, now)
            .await?;
    }
    for r in &reports {
        on_row(r);
    }
    Ok(())
}
