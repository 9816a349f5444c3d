//! Venues' bank details and payment runs.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_core::payment::FeeRate;
use passnum_core::{BankDetails, VenueId};
use passnum_store::{Actor, BankAccount, PaymentRun, RunPreview};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{date_in, date_out};
use crate::AppState;
use crate::auth::{Auth, OperatorAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBankAccount {
    #[schema(example = "FR76 3000 6000 0112 3456 7890 189")]
    pub iban: String,
    #[schema(example = "AGRIFRPP")]
    pub bic: String,
    /// Account holder, as the bank knows it (at most 70 characters).
    pub holder: String,
}

#[derive(Serialize, ToSchema)]
pub struct BankAccountDto {
    pub id: i64,
    pub venue_id: i64,
    pub iban: String,
    pub bic: String,
    pub holder: String,
    pub created_at: String,
    /// Absent while the operator has not confirmed them: the venue's payments wait.
    pub confirmed_at: Option<String>,
    /// Set once newer details replaced these.
    pub superseded_at: Option<String>,
}

impl From<BankAccount> for BankAccountDto {
    fn from(a: BankAccount) -> Self {
        Self {
            id: a.id,
            venue_id: a.venue_id.0,
            iban: a.iban.as_str().to_string(),
            bic: a.bic.as_str().to_string(),
            holder: a.holder,
            created_at: a.created_at.to_rfc3339(),
            confirmed_at: a.confirmed_at.map(|t| t.to_rfc3339()),
            superseded_at: a.superseded_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// The operator, or the venue itself.
fn may_manage(actor: Actor, venue: i64) -> ApiResult<()> {
    Ok(passnum_app::scopes::bank_details(actor, VenueId(venue))?)
}

/// Record new bank details (operator, or the venue itself). They hold the venue's payments
/// until the operator confirms them.
#[utoipa::path(post, path = "/api/v1/venues/{id}/bank-accounts", tag = "payments", params(("id" = i64, Path)),
    request_body = SetBankAccount, security(("bearer" = [])),
    responses((status = 201, body = BankAccountDto), (status = 422, body = ErrorBody)))]
pub async fn set_bank_account(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetBankAccount>,
) -> ApiResult<(StatusCode, Json<BankAccountDto>)> {
    may_manage(actor, id)?;
    let details = BankDetails::parse(&body.iban, &body.bic, &body.holder)
        .map_err(|errors| ApiError::refused(&errors[0]))?;
    let a = st
        .store
        .set_bank_account(VenueId(id), &details, st.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// A venue's bank details, newest (current) first (operator, or the venue itself).
#[utoipa::path(get, path = "/api/v1/venues/{id}/bank-accounts", tag = "payments", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<BankAccountDto>)))]
pub async fn bank_accounts(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<BankAccountDto>>> {
    may_manage(actor, id)?;
    st.store.get_venue(VenueId(id)).await?;
    Ok(Json(
        st.store
            .bank_accounts(VenueId(id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Confirm a venue's pending bank details (operator).
#[utoipa::path(post, path = "/api/v1/venues/{id}/bank-accounts/{account_id}/confirm", tag = "payments",
    params(("id" = i64, Path), ("account_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = BankAccountDto), (status = 409, body = ErrorBody)))]
pub async fn confirm_bank_account(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiPath((id, account)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<BankAccountDto>> {
    Ok(Json(
        st.store
            .confirm_bank_account(VenueId(id), account, st.clock.now())
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Last day (Paris) of the redemptions to pay; at most yesterday.
    #[schema(example = "2026-10-31")]
    pub cutoff: String,
    /// Operator's fee on the venue side, in basis points (400 = 4 %). By default, the
    /// programme's venue-side fee.
    #[serde(default)]
    pub fee_basis_points: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RunDto {
    pub id: i64,
    pub cutoff: String,
    /// draft, confirmed or cancelled.
    pub status: String,
    pub fee_basis_points: i64,
    pub cheques: i64,
    pub gross_cents: i64,
    pub fee_cents: i64,
    /// Cheques paid wrongly by earlier runs, recovered in this one.
    pub corrections_cents: i64,
    /// gross − fee − corrections.
    pub net_cents: i64,
}

impl From<PaymentRun> for RunDto {
    fn from(r: PaymentRun) -> Self {
        Self {
            id: r.id,
            cutoff: date_out(r.cutoff),
            status: match r.status {
                passnum_store::RunStatus::Draft => "draft",
                passnum_store::RunStatus::Confirmed => "confirmed",
                passnum_store::RunStatus::Cancelled => "cancelled",
            }
            .into(),
            fee_basis_points: r.fee_basis_points,
            cheques: r.cheques,
            gross_cents: r.gross_cents,
            fee_cents: r.fee_cents,
            corrections_cents: r.corrections_cents,
            net_cents: r.net_cents,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The redemption paid wrongly (paid by a confirmed run).
    pub redemption_id: i64,
    /// Why (3 to 500 characters): printed on the venue's statement.
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct CorrectionDto {
    pub id: i64,
    pub redemption_id: i64,
    pub cheque_code: String,
    pub venue_id: i64,
    pub funder_id: i64,
    /// The cheque's amount, refunded to the funder.
    pub amount_cents: i64,
    /// The operator's fee on the cheque, given back by the operator.
    pub fee_cents: i64,
    /// What the venue received for the cheque (amount − fee), taken from its next run.
    pub recovered_cents: i64,
    pub reason: String,
    /// The confirmed run that paid the cheque.
    pub corrected_run_id: i64,
    /// The later run that recovers it; absent while it waits.
    pub run_id: Option<i64>,
}

impl From<passnum_store::Correction> for CorrectionDto {
    fn from(c: passnum_store::Correction) -> Self {
        let recovered_cents = c.recovered_cents();
        Self {
            id: c.id,
            redemption_id: c.redemption_id,
            cheque_code: c.cheque_code,
            venue_id: c.venue_id.0,
            funder_id: c.funder_id.0,
            amount_cents: c.amount_cents,
            fee_cents: c.fee_cents,
            recovered_cents,
            reason: c.reason,
            corrected_run_id: c.corrected_run_id,
            run_id: c.run_id,
        }
    }
}

/// Record that a paid cheque must be recovered (operator): a confirmed run is never changed;
/// the amount is deducted from the venue's next run and refunded to the funder.
#[utoipa::path(post, path = "/api/v1/payment-corrections", tag = "payments", request_body = CorrectionRequest,
    security(("bearer" = [])), responses((status = 201, body = CorrectionDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_correction(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiJson(body): ApiJson<CorrectionRequest>,
) -> ApiResult<(StatusCode, Json<CorrectionDto>)> {
    let c = st
        .store
        .create_correction(body.redemption_id, &body.reason, st.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CorrectionsQuery {
    /// A run: the corrections it recovers. Without it: the corrections still waiting.
    pub run: Option<i64>,
}

/// Corrections waiting for a run, or those a run recovers (operator).
#[utoipa::path(get, path = "/api/v1/payment-corrections", tag = "payments", params(CorrectionsQuery),
    security(("bearer" = [])), responses((status = 200, body = Vec<CorrectionDto>)))]
pub async fn corrections(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiQuery(q): ApiQuery<CorrectionsQuery>,
) -> ApiResult<Json<Vec<CorrectionDto>>> {
    let list = st.store.corrections(q.run).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct PreviewLineDto {
    pub venue_id: i64,
    pub venue_name: String,
    pub cheques: i64,
    pub gross_cents: i64,
    pub fee_cents: i64,
    pub net_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct WaitingDto {
    pub venue_id: i64,
    pub venue_name: String,
    pub cheques: i64,
    pub gross_cents: i64,
    /// no_bank_details or bank_details_unconfirmed.
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewDto {
    pub cutoff: String,
    pub fee_basis_points: i64,
    pub venues: Vec<PreviewLineDto>,
    /// Cheques that wait for a later run, and why.
    pub waiting: Vec<WaitingDto>,
}

impl From<RunPreview> for PreviewDto {
    fn from(p: RunPreview) -> Self {
        Self {
            cutoff: date_out(p.cutoff),
            fee_basis_points: p.fee_basis_points,
            venues: p
                .venues
                .into_iter()
                .map(|l| PreviewLineDto {
                    venue_id: l.venue_id.0,
                    venue_name: l.venue_name,
                    cheques: l.cheques,
                    gross_cents: l.gross_cents,
                    fee_cents: l.fee_cents,
                    net_cents: l.net_cents,
                })
                .collect(),
            waiting: p
                .waiting
                .into_iter()
                .map(|w| WaitingDto {
                    venue_id: w.venue_id.0,
                    venue_name: w.venue_name,
                    cheques: w.cheques,
                    gross_cents: w.gross_cents,
                    reason: w.reason.into(),
                })
                .collect(),
        }
    }
}

async fn parse_run(st: &AppState, body: &RunRequest) -> ApiResult<(time::Date, FeeRate)> {
    let fee = match body.fee_basis_points {
        Some(bp) => FeeRate::from_basis_points(bp)
            .map_err(|e| ApiError::invalid("invalid_fee", e.to_string()))?,
        None => st.store.programme_fees().await?.venue(),
    };
    Ok((date_in("cutoff", &body.cutoff)?, fee))
}

/// What a run would pay, and what would wait (operator). Writes nothing.
#[utoipa::path(post, path = "/api/v1/payment-runs/preview", tag = "payments", request_body = RunRequest,
    security(("bearer" = [])), responses((status = 200, body = PreviewDto), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiJson(body): ApiJson<RunRequest>,
) -> ApiResult<Json<PreviewDto>> {
    let (cutoff, fee) = parse_run(&st, &body).await?;
    Ok(Json(
        st.store
            .preview_payment_run(cutoff, fee, st.clock.now())
            .await?
            .into(),
    ))
}

/// Prepare a run: every redeemed, unpaid cheque up to the cutoff whose venue has confirmed
/// bank details (operator). It stays a draft until confirmed.
#[utoipa::path(post, path = "/api/v1/payment-runs", tag = "payments", request_body = RunRequest, security(("bearer" = [])),
    responses((status = 201, body = RunDto), (status = 409, body = ErrorBody, description = "nothing_to_pay, run_in_progress"),
        (status = 422, body = ErrorBody, description = "cutoff_not_past, invalid_fee")))]
pub async fn create(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiJson(body): ApiJson<RunRequest>,
) -> ApiResult<(StatusCode, Json<RunDto>)> {
    let (cutoff, fee) = parse_run(&st, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            st.store
                .create_payment_run(cutoff, fee, st.clock.now())
                .await?
                .into(),
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/payment-runs/{id}", tag = "payments", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = RunDto), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RunDto>> {
    Ok(Json(st.store.payment_run(id).await?.into()))
}

/// Confirm a draft run: the cheques become paid and the ledger posts the payments (operator). Final.
#[utoipa::path(post, path = "/api/v1/payment-runs/{id}/confirm", tag = "payments", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = RunDto), (status = 409, body = ErrorBody, description = "run_already_confirmed, run_cancelled")))]
pub async fn confirm(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RunDto>> {
    Ok(Json(
        st.store
            .confirm_payment_run(id, st.clock.now())
            .await?
            .into(),
    ))
}

/// Cancel a draft run: its cheques go to a later run (operator).
#[utoipa::path(post, path = "/api/v1/payment-runs/{id}/cancel", tag = "payments", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = RunDto), (status = 409, body = ErrorBody, description = "run_not_draft")))]
pub async fn cancel(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RunDto>> {
    Ok(Json(
        st.store
            .cancel_payment_run(id, st.clock.now())
            .await?
            .into(),
    ))
}
