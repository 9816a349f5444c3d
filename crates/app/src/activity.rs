//! A venue's activity records: the form prefilled from the scans, checked against the
//! workshop's own figures, and the month's export as CSV and as the JSON the Coop de la
//! médiation numérique's API uses for activities (JSON:API, `type: "activite"`), so a venue
//! need not type the same workshop twice.

use passnum_core::commune::communes;
use passnum_core::workshop::FieldError;
use passnum_core::workshop::record::{
    AgeBand, Autonomy, ParticipantForm, RecordBounds, RecordForm, RecordRefusal, check_record_time,
};
use passnum_core::workshop::{Level, WorkshopFormat};
use passnum_core::{Timestamp, VenueId, paris};
use passnum_store::{Store, StoreError, StoredRecord, Venue, WorkshopActivity};
use serde_json::{Value, json};
use time::{Date, Month as CalendarMonth, Time};

/// What saving a record gave: the record, or the form's errors (field, sentence).
pub enum Recorded {
    Done(StoredRecord),
    Refused(Vec<FieldError>),
}

fn refused(r: RecordRefusal) -> StoreError {
    StoreError::Invalid {
        code: r.code(),
        message: r.to_string(),
    }
}

/// Checks a record against its workshop (started, not cancelled, scans, capacity) and writes it.
pub async fn save(
    store: &Store,
    venue: VenueId,
    id: i64,
    form: &RecordForm,
    by_staff: Option<i64>,
    now: Timestamp,
) -> Result<Recorded, StoreError> {
    let a = store.workshop_activity(venue, id).await?;
    check_record_time(a.workshop.cancelled_at.is_some(), a.workshop.starts_at, now)
        .map_err(refused)?;
    match form.check(RecordBounds {
        capacity: a.workshop.capacity,
        scanned: a.scanned,
    }) {
        Err(errors) => Ok(Recorded::Refused(errors)),
        Ok(record) => Ok(Recorded::Done(
            store
                .save_workshop_record(venue, id, &record, by_staff, now)
                .await?,
        )),
    }
}

/// The form as the venue finds it: the record if filled, else the scans and the planned
/// duration, with `rows` participant lines to describe (blank ones are ignored).
pub fn prefill(a: &WorkshopActivity, rows: usize) -> RecordForm {
    let mut f = match &a.record {
        Some(r) => RecordForm {
            attendance: r.record.attendance.to_string(),
            duration_min: r.record.duration_min.to_string(),
            themes: r.record.themes.iter().map(|t| t.code().into()).collect(),
            equipment: r.record.equipment.iter().map(|m| m.code().into()).collect(),
            participants: r
                .record
                .participants
                .iter()
                .map(|p| ParticipantForm {
                    age: p.age.map(AgeBand::code).unwrap_or_default().into(),
                    autonomy: p.autonomy.map(Autonomy::code).unwrap_or_default().into(),
                    oriented: match p.oriented {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "",
                    }
                    .into(),
                })
                .collect(),
        },
        None => RecordForm {
            attendance: a.scanned.to_string(),
            duration_min: a.workshop.duration_min.to_string(),
            ..Default::default()
        },
    };
    f.participants
        .resize(rows.max(f.participants.len()), ParticipantForm::default());
    f
}

/// A calendar month in Paris time, as the export's filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: CalendarMonth,
}

/// The last `n` Paris months up to the one of `now`, oldest first, each with its span for the
/// figures (key YYYYMM and edges).
pub fn last_months(now: Timestamp, n: usize) -> Vec<(Month, passnum_store::MonthSpan)> {
    let mut months = vec![Month::of(now)];
    while months.len() < n {
        let before = months[months.len() - 1].previous();
        months.push(before);
    }
    months.truncate(n);
    months.reverse();
    months.into_iter().map(|m| (m, m.span())).collect()
}

impl Month {
    /// The month as the figures count it: key YYYYMM and its edges.
    pub fn span(self) -> passnum_store::MonthSpan {
        let (from, to) = self.bounds();
        passnum_store::MonthSpan {
            key: i64::from(self.year) * 100 + i64::from(self.month as u8),
            from,
            to,
        }
    }

    /// "2026-11".
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.trim().split_once('-')?;
        let year: i32 = y.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        let month = CalendarMonth::try_from(m.parse::<u8>().ok()?).ok()?;
        Some(Self { year, month })
    }
    pub fn of(t: Timestamp) -> Self {
        let d = paris::local_date(t);
        Self {
            year: d.year(),
            month: d.month(),
        }
    }
    pub fn slug(self) -> String {
        format!("{}-{:02}", self.year, self.month as u8)
    }
    pub fn label(self) -> String {
        format!("{} {}", paris::month_name(self.month), self.year)
    }
    pub fn previous(self) -> Self {
        match self.month {
            CalendarMonth::January => Self {
                year: self.year - 1,
                month: CalendarMonth::December,
            },
            m => Self {
                year: self.year,
                month: m.previous(),
            },
        }
    }
    fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).expect("day 1 exists")
    }
    /// [first instant, first instant of the next month), Paris time.
    pub fn bounds(self) -> (Timestamp, Timestamp) {
        let next = match self.month {
            CalendarMonth::December => Self {
                year: self.year + 1,
                month: CalendarMonth::January,
            },
            m => Self {
                year: self.year,
                month: m.next(),
            },
        };
        (
            paris::from_local(self.first_day(), Time::MIDNIGHT),
            paris::from_local(next.first_day(), Time::MIDNIGHT),
        )
    }
}

fn level_code(l: Level) -> &'static str {
    match l {
        Level::Beginner => "debutant",
        Level::Intermediate => "intermediaire",
        Level::Advanced => "avance",
    }
}

fn place_type(kind: &str) -> &'static str {
    match kind {
        "elsewhere" => "autre",
        "remote" => "a_distance",
        _ => "lieu_activite",
    }
}

/// One workshop as a Coop activity. passnum knows no Coop identifiers (mediator, structure):
/// those stay null and the venue is named in the document's `meta`.
fn coop_activity(a: &WorkshopActivity, r: &StoredRecord, venue_commune: &str) -> Value {
    let w = &a.workshop;
    let rec = &r.record;
    let commune = w.place_commune.as_deref().unwrap_or(venue_commune);
    let place = passnum_core::InseeCode::parse(commune)
        .ok()
        .and_then(|c| communes().get(&c));
    let individual = w.format == WorkshopFormat::Individual;
    let only = (individual && rec.participants.len() == 1).then(|| &rec.participants[0]);
    let mut ages: serde_json::Map<String, Value> = AgeBand::ALL
        .iter()
        .map(|b| (b.code().into(), json!(0)))
        .collect();
    for p in &rec.participants {
        if let Some(b) = p.age {
            ages[b.code()] = json!(ages[b.code()].as_i64().unwrap_or(0) + 1);
        }
    }
    let given_ages = rec.participants.iter().filter(|p| p.age.is_some()).count() as i64;
    ages.insert("non_communique".into(), json!(rec.attendance - given_ages));
    json!({
        "type": "activite",
        "id": format!("passnum-atelier-{}", w.id),
        "attributes": {
            "type": if individual { "individuel" } else { "collectif" },
            "mediateur_id": null,
            "accompagnements": rec.attendance,
            "date": paris::local_date(w.starts_at).to_string(),
            "duree": rec.duration_min,
            "type_lieu": place_type(&w.place_kind),
            "structure_id": null,
            "lieu_code_postal": place.and_then(|c| c.postcodes.first().copied()),
            "lieu_commune": place.map(|c| c.name),
            "lieu_code_insee": commune,
            "creation": r.recorded_at.to_rfc3339(),
            "modification": r.recorded_at.to_rfc3339(),
            "suppression": null,
            "autonomie": only.and_then(|p| p.autonomy).map(Autonomy::code),
            "oriente_vers_structure": only.and_then(|p| p.oriented),
            "structure_de_redirection": null,
            "materiel": rec.equipment.iter().map(|m| m.code()).collect::<Vec<_>>(),
            "thematiques": rec.themes.iter().map(|t| t.code()).collect::<Vec<_>>(),
            "tags": [],
            "precisions_demarche": null,
            "titre_atelier": (!individual).then_some(w.title.as_str()),
            "niveau_atelier": (!individual).then_some(level_code(w.level)),
            "beneficiaires": {
                "total": rec.attendance,
                "genres": {"masculin": 0, "feminin": 0, "non_communique": rec.attendance},
                "tranches_age": ages,
                "statuts": {"scolarise": 0, "sans_emploi": 0, "en_emploi": 0, "retraite": 0, "non_communique": rec.attendance},
            },
            "passnum": {
                "cheques_scannes": a.scanned,
                "autonomie_par_participant": rec.participants.iter().filter_map(|p| p.autonomy.map(Autonomy::code)).collect::<Vec<_>>(),
                "orientes": rec.participants.iter().filter(|p| p.oriented == Some(true)).count(),
            },
        }
    })
}

/// The month's recorded workshops of a venue in the Coop's JSON:API shape. Workshops without
/// a record are counted in `meta`, not exported (the Coop requires themes).
pub fn coop_json(venue: &Venue, month: Month, list: &[WorkshopActivity]) -> Value {
    let data: Vec<Value> = list
        .iter()
        .filter_map(|a| {
            a.record
                .as_ref()
                .map(|r| coop_activity(a, r, &venue.commune_insee))
        })
        .collect();
    json!({
        "data": data,
        "meta": {
            "source": "passnum",
            "mois": month.slug(),
            "lieu": {"id": venue.id.0, "nom": venue.name, "siret": venue.siret, "code_insee": venue.commune_insee},
            "ateliers_sans_compte_rendu": list.iter().filter(|a| a.record.is_none()).count(),
        }
    })
}

/// One cell of a semicolon-separated file for French spreadsheets: a cell starting like a
/// formula gets a leading apostrophe so no spreadsheet runs it; a semicolon, quote or line
/// break is quoted. For any text people typed.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([';', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The month's workshops as CSV (UTF-8 with BOM, semicolons): one line per workshop, recorded
/// or not, with the bands counted.
pub fn activity_csv(list: &[WorkshopActivity]) -> String {
    let mut out = String::from(
        "\u{feff}atelier;date;heure;type;titre;niveau;lieu;code_insee;duree_prevue_min;cheques_scannes;compte_rendu;participants;duree_min;thematiques;materiel",
    );
    for b in AgeBand::ALL {
        out.push_str(&format!(";age_{}", b.code()));
    }
    for a in Autonomy::ALL {
        out.push_str(&format!(";{}", a.code()));
    }
    out.push_str(";orientes\n");
    for a in list {
        let w = &a.workshop;
        let mut cells = vec![
            w.id.to_string(),
            paris::local_date(w.starts_at).to_string(),
            paris::format_time(w.starts_at),
            if w.format == WorkshopFormat::Individual {
                "individuel"
            } else {
                "collectif"
            }
            .into(),
            w.title.clone(),
            level_code(w.level).into(),
            place_type(&w.place_kind).into(),
            w.place_commune.clone().unwrap_or_default(),
            w.duration_min.to_string(),
            a.scanned.to_string(),
        ];
        match &a.record {
            None => {
                cells.push("à remplir".into());
                cells.extend(std::iter::repeat_n(
                    String::new(),
                    4 + AgeBand::ALL.len() + Autonomy::ALL.len() + 1,
                ));
            }
            Some(r) => {
                let r = &r.record;
                cells.push("fait".into());
                cells.push(r.attendance.to_string());
                cells.push(r.duration_min.to_string());
                cells.push(
                    r.themes
                        .iter()
                        .map(|t| t.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                cells.push(
                    r.equipment
                        .iter()
                        .map(|m| m.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                for b in AgeBand::ALL {
                    let n = r.participants.iter().filter(|p| p.age == Some(*b)).count();
                    cells.push(n.to_string());
                }
                for x in Autonomy::ALL {
                    let n = r
                        .participants
                        .iter()
                        .filter(|p| p.autonomy == Some(*x))
                        .count();
                    cells.push(n.to_string());
                }
                let n = r
                    .participants
                    .iter()
                    .filter(|p| p.oriented == Some(true))
                    .count();
                cells.push(n.to_string());
            }
        }
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(";"),
        );
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_read_named_and_bounded_in_paris_time() {
        let m = Month::parse("2026-03").unwrap();
        assert_eq!(
            (m.slug(), m.label()),
            ("2026-03".into(), "mars 2026".into())
        );
        let (from, to) = m.bounds();
        // 1 March 00:00 Paris is 23:00 UTC the day before (winter); 1 April is summer time.
        assert_eq!(from.to_rfc3339(), "2026-02-28T23:00:00Z");
        assert_eq!(to.to_rfc3339(), "2026-03-31T22:00:00Z");
        assert_eq!(
            Month::parse("2026-01").unwrap().previous().slug(),
            "2025-12"
        );
        assert_eq!(
            Month::parse("2026-12").unwrap().bounds().1,
            Month::parse("2027-01").unwrap().bounds().0
        );
        for bad in ["2026-13", "26-01", "2026", "", "2026-00", "abcd-01"] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_csv_cell_never_runs_as_a_formula_nor_breaks_its_line() {
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell("dit \"bonjour\"\n"), "\"dit \"\"bonjour\"\"\n\"");
        assert_eq!(csv_cell("Atelier"), "Atelier");
    }
}
