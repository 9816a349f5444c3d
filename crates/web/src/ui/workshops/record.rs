//! The activity record of a workshop (the venue fills it in a minute at the end, prefilled
//! from the scans), and the month's activity: which workshops have their record, and the
//! downloads (CSV, and JSON for the Coop de la médiation numérique).

use passnum_app::activity::{Month, Recorded, activity_csv, coop_json, prefill, save};
use passnum_core::workshop::record::{
    AgeBand, Autonomy, Equipment, ParticipantForm, RecordForm, Theme,
};
use passnum_store::WorkshopActivity;

use super::*;

/// Participant lines offered when nothing was said yet (more may be typed as a number only).
const DEFAULT_ROWS: usize = 30;

pub struct Choice {
    pub label: &'static str,
    pub field: String,
    pub checked: bool,
}

pub struct ParticipantRow {
    pub n: usize,
    pub f: ParticipantForm,
}

#[derive(Template)]
#[template(path = "lieu_compte_rendu.html")]
pub(in crate::ui) struct RecordPage {
    layout: Layout,
    w: WorkshopLine,
    scanned: i64,
    capacity: i64,
    recorded: Option<String>,
    attendance: String,
    duration_min: String,
    themes: Vec<Choice>,
    equipment: Vec<Choice>,
    rows: Vec<ParticipantRow>,
    ages: Vec<(&'static str, &'static str)>,
    autonomies: Vec<(&'static str, &'static str)>,
    /// Why there is no form (cancelled, not started yet).
    refusal: Option<String>,
    errors: FieldErrors,
}

async fn activity(st: &AppState, venue: VenueId, id: i64) -> Result<WorkshopActivity, PageError> {
    match st.store.workshop_activity(venue, id).await {
        Ok(a) => Ok(a),
        Err(passnum_store::StoreError::NotFound) => Err(PageError::NotFound {
            heading: "Atelier introuvable",
            text: "Cet atelier n'existe pas, ou n'est pas un atelier de votre lieu.",
        }),
        Err(e) => Err(PageError::unavailable(e, "compte rendu")),
    }
}

fn choices<T: Copy>(
    all: &[T],
    prefix: &str,
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    checked: &[String],
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            label: label(*v),
            field: format!("{prefix}_{}", code(*v)),
            checked: checked.iter().any(|c| c == code(*v)),
        })
        .collect()
}

fn page(staff: &StaffMember, csrf: &Csrf, a: WorkshopActivity, f: RecordForm) -> RecordPage {
    RecordPage {
        layout: Layout::new(
            format!("Compte rendu : {}", a.workshop.title),
            Some(staff),
            csrf,
            "/lieu/ateliers",
        ),
        scanned: a.scanned,
        capacity: a.workshop.capacity,
        recorded: a
            .record
            .as_ref()
            .map(|r| paris::format_moment(r.recorded_at)),
        attendance: f.attendance,
        duration_min: f.duration_min,
        themes: choices(Theme::ALL, "theme", Theme::code, Theme::label, &f.themes),
        equipment: choices(
            Equipment::ALL,
            "equipment",
            Equipment::code,
            Equipment::label,
            &f.equipment,
        ),
        rows: f
            .participants
            .into_iter()
            .enumerate()
            .map(|(i, f)| ParticipantRow { n: i + 1, f })
            .collect(),
        ages: AgeBand::ALL.iter().map(|a| (a.code(), a.label())).collect(),
        autonomies: Autonomy::ALL
            .iter()
            .map(|a| (a.code(), a.label()))
            .collect(),
        refusal: None,
        w: line(a.workshop),
        errors: FieldErrors::default(),
    }
}

/// Why the form is not shown (cancelled, not started yet), in a sentence.
fn not_recordable(a: &WorkshopActivity, now: Timestamp) -> Option<String> {
    passnum_core::workshop::record::check_record_time(
        a.workshop.cancelled_at.is_some(),
        a.workshop.starts_at,
        now,
    )
    .err()
    .map(|r| r.to_string())
}

pub async fn record_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let a = activity(&st, venue, id).await?;
    let refusal = not_recordable(&a, st.clock.now());
    let rows = DEFAULT_ROWS.min(a.workshop.capacity as usize);
    let f = prefill(&a, rows);
    let mut p = page(&staff, &csrf, a, f);
    p.refusal = refusal;
    Ok(render(StatusCode::OK, &p, &csrf))
}

/// The form as sent, each text cut to what its field may hold.
fn typed(form: &HashMap<String, String>) -> RecordForm {
    let get = |k: &str| -> String {
        form.get(k)
            .map(|v| v.chars().take(40).collect())
            .unwrap_or_default()
    };
    let codes = |prefix: &str, all: Vec<&'static str>| -> Vec<String> {
        all.into_iter()
            .filter(|c| form.contains_key(&format!("{prefix}_{c}")))
            .map(String::from)
            .collect()
    };
    let rows = (1..=passnum_core::workshop::MAX_CAPACITY as usize)
        .take_while(|n| form.contains_key(&format!("age_{n}")))
        .map(|n| ParticipantForm {
            age: get(&format!("age_{n}")),
            autonomy: get(&format!("autonomy_{n}")),
            oriented: get(&format!("oriented_{n}")),
        })
        .collect();
    RecordForm {
        attendance: get("attendance"),
        duration_min: get("duration_min"),
        themes: codes("theme", Theme::ALL.iter().map(|t| t.code()).collect()),
        equipment: codes(
            "equipment",
            Equipment::ALL.iter().map(|m| m.code()).collect(),
        ),
        participants: rows,
    }
}

pub async fn record_save(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(id): Path<i64>,
    Submitted { form, token_ok }: Submitted<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let a = activity(&st, venue, id).await?;
    let f = typed(&form);
    let mut p = page(&staff, &csrf, a, f.clone());
    if !token_ok {
        p.errors.add("attendance", super::super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    match save(&st.store, venue, id, &f, Some(staff.id), st.clock.now()).await {
        Ok(Recorded::Done(_)) => {
            Ok(Redirect::to(&format!("/lieu/ateliers/{id}?fait=compte-rendu")).into_response())
        }
        Ok(Recorded::Refused(errors)) => {
            for (field, sentence) in errors {
                // Groups of boxes: the summary points at their first box.
                let field = match field {
                    "themes" => "theme_diagnostic_numerique",
                    "equipment" => "equipment_ordinateur",
                    "participants" => "age_1",
                    other => other,
                };
                p.errors.add(field, sentence);
            }
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf))
        }
        Err(
            passnum_store::StoreError::Invalid { message, .. }
            | passnum_store::StoreError::Conflict { message, .. },
        ) => {
            p.errors.add("attendance", message);
            Ok(render(StatusCode::CONFLICT, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "compte rendu")),
    }
}

pub struct ActivityLine {
    pub id: i64,
    pub when: String,
    pub title: String,
    pub scanned: i64,
    pub attendance: Option<i64>,
}

#[derive(Template)]
#[template(path = "lieu_activite.html")]
pub(in crate::ui) struct ActivityPage {
    layout: Layout,
    month: String,
    label: String,
    months: Vec<(String, String)>,
    lines: Vec<ActivityLine>,
    missing: usize,
    error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    #[serde(default)]
    mois: Option<String>,
}

/// The month asked for, this month when none; None when it cannot be read.
fn month_of(q: &MonthQuery, now: Timestamp) -> Option<Month> {
    match q.mois.as_deref().map(str::trim) {
        None | Some("") => Some(Month::of(now)),
        Some(m) => Month::parse(m),
    }
}

async fn month_activity(
    st: &AppState,
    venue: VenueId,
    month: Month,
) -> Result<Vec<WorkshopActivity>, PageError> {
    let (from, to) = month.bounds();
    let now = st.clock.now();
    // Only workshops already started: a month under way stops at now.
    st.store
        .venue_activity(venue, from, to.min(now))
        .await
        .map_err(|e| PageError::unavailable(e, "activité"))
}

pub async fn activity_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let now = st.clock.now();
    let (month, error) = match month_of(&q, now) {
        Some(m) => (m, None),
        None => (
            Month::of(now),
            Some("Mois illisible : choisissez-le dans la liste."),
        ),
    };
    let list = month_activity(&st, venue, month).await?;
    let mut months = vec![];
    let mut m = Month::of(now);
    for _ in 0..24 {
        months.push((m.slug(), m.label()));
        m = m.previous();
    }
    let p = ActivityPage {
        layout: Layout::new("Ateliers passés", Some(&staff), &csrf, "/lieu/ateliers"),
        month: month.slug(),
        label: month.label(),
        months,
        missing: list.iter().filter(|a| a.record.is_none()).count(),
        lines: list
            .into_iter()
            .map(|a| ActivityLine {
                id: a.workshop.id,
                when: paris::format_long(a.workshop.starts_at),
                scanned: a.scanned,
                attendance: a.record.as_ref().map(|r| r.record.attendance),
                title: a.workshop.title,
            })
            .collect(),
        error,
    };
    let status = if p.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(status, &p, &csrf))
}

fn bad_month() -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        "Mois illisible : choisissez-le sur la page Ateliers passés.",
    )
        .into_response()
}

/// The month asked for and its workshops, or the answer to a month that cannot be read.
async fn month_file(
    st: &AppState,
    venue: VenueId,
    q: &MonthQuery,
) -> Result<Result<(Month, Vec<WorkshopActivity>), Response>, PageError> {
    let Some(month) = month_of(q, st.clock.now()) else {
        return Ok(Err(bad_month()));
    };
    Ok(Ok((month, month_activity(st, venue, month).await?)))
}

pub async fn activity_csv_file(
    State(st): State<AppState>,
    VenueStaff(_, venue): VenueStaff,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let (month, list) = match month_file(&st, venue, &q).await? {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    Ok(crate::ui::download(
        activity_csv(&list),
        "text/csv; charset=utf-8",
        &format!("ateliers-{}.csv", month.slug()),
    ))
}

pub async fn activity_json_file(
    State(st): State<AppState>,
    VenueStaff(_, venue): VenueStaff,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let (month, list) = match month_file(&st, venue, &q).await? {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    let v = st
        .store
        .get_venue(venue)
        .await
        .map_err(|e| PageError::unavailable(e, "activité"))?;
    Ok(crate::ui::download(
        serde_json::to_string_pretty(&coop_json(&v, month, &list)).unwrap_or_default(),
        "application/json",
        &format!("activites-coop-{}.json", month.slug()),
    ))
}
