//! Activity records through the API: a venue (or the operator) writes the record of a workshop
//! that took place, reads it back, and exports a month in the Coop de la médiation numérique's
//! activity shape.

use axum::Json;
use axum::extract::State;
use passnum_app::activity::{Month, Recorded, coop_json, save};
use passnum_core::workshop::record::{ParticipantForm, RecordForm};
use passnum_store::StoredRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::ts;
use super::workshops::may_run_venue;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// One participant, anonymous; every band optional.
#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ParticipantDto {
    /// The Coop's age band: "moins_de_douze", "douze_dix_huit", "dix_huit_vingt_quatre",
    /// "vingt_cinq_trente_neuf", "quarante_cinquante_neuf", "soixante_soixante_neuf",
    /// "soixante_dix_plus".
    pub age: Option<String>,
    /// "entierement_accompagne", "partiellement_autonome" or "autonome".
    pub autonomy: Option<String>,
    /// Sent on to another structure.
    pub oriented: Option<bool>,
}

/// The record of a workshop that took place.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDto {
    /// People present: at least the cheques scanned, at most the capacity.
    pub attendance: i64,
    /// Time actually spent, 1 to 600 minutes.
    pub duration_min: i64,
    /// The Coop's "thématiques" codes ("email", "navigation_sur_internet"…), at least one.
    pub themes: Vec<String>,
    /// "ordinateur", "telephone", "tablette", "autre" or "aucun".
    #[serde(default)]
    pub equipment: Vec<String>,
    /// Only the participants something is said about, at most `attendance`.
    #[serde(default)]
    pub participants: Vec<ParticipantDto>,
    /// When it was written (read only).
    #[serde(default, skip_deserializing)]
    pub recorded_at: Option<String>,
    /// Corrections since first written (read only).
    #[serde(default, skip_deserializing)]
    pub revision: i64,
}

impl From<StoredRecord> for RecordDto {
    fn from(s: StoredRecord) -> Self {
        let r = s.record;
        Self {
            attendance: r.attendance,
            duration_min: r.duration_min,
            themes: r.themes.iter().map(|t| t.code().into()).collect(),
            equipment: r.equipment.iter().map(|m| m.code().into()).collect(),
            participants: r
                .participants
                .iter()
                .map(|p| ParticipantDto {
                    age: p.age.map(|a| a.code().into()),
                    autonomy: p.autonomy.map(|a| a.code().into()),
                    oriented: p.oriented,
                })
                .collect(),
            recorded_at: Some(ts(s.recorded_at)),
            revision: s.revision,
        }
    }
}

impl RecordDto {
    fn form(self) -> RecordForm {
        RecordForm {
            attendance: self.attendance.to_string(),
            duration_min: self.duration_min.to_string(),
            themes: self.themes,
            equipment: self.equipment,
            participants: self
                .participants
                .into_iter()
                .map(|p| ParticipantForm {
                    age: p.age.unwrap_or_default(),
                    autonomy: p.autonomy.unwrap_or_default(),
                    oriented: match p.oriented {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => String::new(),
                    },
                })
                .collect(),
        }
    }
}

/// Write or correct the activity record of a workshop that took place (its venue, or the
/// operator); participants are replaced as a whole.
#[utoipa::path(put, path = "/api/v1/workshops/{id}/record", tag = "workshops", params(("id" = i64, Path)),
    request_body = RecordDto, security(("bearer" = [])),
    responses((status = 200, body = RecordDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "attendance_below_scans: a cheque was scanned meanwhile"),
        (status = 422, body = ErrorBody, description = "invalid_record (every field refused, each with its sentence), workshop_cancelled, workshop_not_held_yet")))]
pub async fn put_record(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RecordDto>,
) -> ApiResult<Json<RecordDto>> {
    let w = st.store.workshop(id).await?;
    let venue = may_run_venue(&auth, w.venue_id.0)?;
    match save(&st.store, venue, id, &body.form(), None, st.clock.now()).await? {
        Recorded::Done(r) => Ok(Json(r.into())),
        Recorded::Refused(errors) => Err(ApiError::invalid_fields("invalid_record", &errors)),
    }
}

/// The activity record of a workshop (its venue, or the operator); 404 while not written.
#[utoipa::path(get, path = "/api/v1/workshops/{id}/record", tag = "workshops", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = RecordDto), (status = 404, body = ErrorBody)))]
pub async fn get_record(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RecordDto>> {
    let w = st.store.workshop(id).await?;
    let venue = may_run_venue(&auth, w.venue_id.0)?;
    let a = st.store.workshop_activity(venue, id).await?;
    a.record
        .map(|r| Json(r.into()))
        .ok_or_else(|| passnum_store::StoreError::NotFound.into())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    /// "2026-11" (default: this month, Paris time).
    pub month: Option<String>,
}

/// A venue's recorded workshops of a month, in the Coop de la médiation numérique's activity
/// shape (JSON:API, `type: "activite"`); workshops without a record are counted in `meta`
/// (its venue, or the operator).
#[utoipa::path(get, path = "/api/v1/venues/{id}/activities", tag = "workshops", params(("id" = i64, Path), MonthQuery),
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_month")))]
pub async fn activities(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let venue = may_run_venue(&auth, id)?;
    let month = match q.month.as_deref() {
        None => Month::of(st.clock.now()),
        Some(m) => Month::parse(m).ok_or_else(|| {
            ApiError::invalid(
                "invalid_month",
                "Mois illisible : écrivez-le comme 2026-11.",
            )
        })?,
    };
    let v = st.store.get_venue(venue).await?;
    let (from, to) = month.bounds();
    let list = st.store.venue_activity(venue, from, to).await?;
    Ok(Json(coop_json(&v, month, &list)))
}
