//! Payments in the pages: a venue's bank details, what it is owed and its statements; the
//! operator's payment runs and the bank details waiting for confirmation.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::payment::FeeRate;
use passnum_core::{Bic, Iban, VenueId, paris};
use passnum_store::{LedgerScope, RunStatus, StaffMember, StoreError};
use serde::Deserialize;

use super::Submitted;
use super::session::{Csrf, OperatorStaff, VenueStaff};
use super::{FieldErrors, Layout, euros, render};
use crate::AppState;

pub struct BankRow {
    pub created: String,
    pub iban: String,
    pub bic: String,
    pub holder: String,
    pub state: &'static str,
}

pub struct PaidRow {
    pub run: i64,
    pub cutoff: String,
    pub cheques: i64,
    pub gross: String,
    pub fee: String,
    pub net: String,
}

#[derive(Template)]
#[template(path = "lieu_paiements.html")]
struct VenuePayments {
    layout: Layout,
    owed: String,
    current_pending: bool,
    has_bank: bool,
    banks: Vec<BankRow>,
    paid: Vec<PaidRow>,
    iban: String,
    bic: String,
    holder: String,
    saved: bool,
    errors: FieldErrors,
}

async fn venue_page(
    st: &AppState,
    staff: &StaffMember,
    venue: VenueId,
    csrf: &Csrf,
) -> VenuePayments {
    let owed = st
        .store
        .balances(LedgerScope::Venue(venue))
        .await
        .unwrap_or_default();
    let banks = st.store.bank_accounts(venue).await.unwrap_or_default();
    let paid = st.store.venue_payments(venue, 24).await.unwrap_or_default();
    VenuePayments {
        layout: Layout::new("Paiements", Some(staff), csrf, "/lieu/paiements"),
        owed: euros(owed.first().map_or(0, |b| b.balance_cents)),
        current_pending: banks.first().is_some_and(|b| b.confirmed_at.is_none()),
        has_bank: !banks.is_empty(),
        banks: banks
            .into_iter()
            .map(|b| BankRow {
                created: paris::format_moment(b.created_at),
                iban: Iban::parse(&b.iban)
                    .map(|i| i.to_string())
                    .unwrap_or(b.iban),
                bic: b.bic,
                holder: b.holder,
                state: match (b.superseded_at, b.confirmed_at) {
                    (Some(_), _) => "Remplacées",
                    (None, Some(_)) => "Actuelles, confirmées",
                    (None, None) => "Actuelles, en attente de confirmation",
                },
            })
            .collect(),
        paid: paid
            .into_iter()
            .map(|(run, line)| PaidRow {
                run: run.id,
                cutoff: paris::format_date(run.cutoff),
                cheques: line.cheques,
                gross: euros(line.gross_cents),
                fee: euros(line.fee_cents),
                net: euros(line.net_cents),
            })
            .collect(),
        iban: String::new(),
        bic: String::new(),
        holder: String::new(),
        saved: false,
        errors: FieldErrors::default(),
    }
}

pub async fn venue(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &venue_page(&st, &staff, venue, &csrf).await,
        &csrf,
    )
}

#[derive(Deserialize)]
pub struct BankForm {
    #[serde(default)]
    iban: String,
    #[serde(default)]
    bic: String,
    #[serde(default)]
    holder: String,
}

pub async fn set_bank(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Submitted { form: f, token_ok }: Submitted<BankForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = venue_page(&st, &staff, venue, &csrf).await;
    page.iban = f.iban.chars().take(50).collect();
    page.bic = f.bic.chars().take(20).collect();
    page.holder = f.holder.chars().take(70).collect();
    if !token_ok {
        page.errors.add("iban", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let iban = Iban::parse(&f.iban)
        .map_err(|e| {
            page.errors
                .add("iban", crate::api::capitalize(&e.to_string()))
        })
        .ok();
    let bic = Bic::parse(&f.bic)
        .map_err(|e| {
            page.errors
                .add("bic", crate::api::capitalize(&e.to_string()))
        })
        .ok();
    if f.holder.trim().is_empty() {
        page.errors.add(
            "holder",
            "Indiquez le titulaire du compte, tel que la banque le connaît.",
        );
    }
    let (Some(iban), Some(bic)) = (iban, bic) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    match st
        .store
        .set_bank_account(venue, &iban, &bic, &f.holder, st.clock.now())
        .await
    {
        Ok(_) => {
            let mut page = venue_page(&st, &staff, venue, &csrf).await;
            page.saved = true;
            render(StatusCode::OK, &page, &csrf)
        }
        Err(StoreError::Invalid { code, message }) => {
            page.errors.add(
                if code == "bic_country_mismatch" {
                    "bic"
                } else {
                    "holder"
                },
                crate::api::capitalize(&message),
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => super::unavailable(e, "coordonnées bancaires", Some(&staff), &csrf),
    }
}

/// A venue's statement for one run, as CSV.
pub async fn statement_csv(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(file): Path<String>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let not_found = || {
        super::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Relevé introuvable",
            "Ce relevé n'existe pas pour votre lieu.",
        )
    };
    let (stem, pdf) = match (file.strip_suffix(".csv"), file.strip_suffix(".pdf")) {
        (Some(n), _) => (n, false),
        (_, Some(n)) => (n, true),
        _ => return not_found(),
    };
    let Ok(run) = stem.parse::<i64>() else {
        return not_found();
    };
    let Ok(run_info) = st.store.payment_run(run).await else {
        return not_found();
    };
    // A venue's statement holds its cheques of one run: a few thousand lines at most.
    let statement = match passnum_app::statements::venue_statement(&st.store, run, venue).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(),
        Err(e) => return super::unavailable(e, "relevé", Some(&staff), &csrf),
    };
    let (body, content_type) = if pdf {
        match statement.pdf(&run_info) {
            Ok(b) => (b, "application/pdf"),
            Err(e) => return super::unavailable(e, "relevé PDF", Some(&staff), &csrf),
        }
    } else {
        match statement.write_csv(Vec::new()) {
            Ok(b) => (b, "text/csv; charset=utf-8"),
            Err(e) => return super::unavailable(e, "relevé CSV", Some(&staff), &csrf),
        }
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"releve-{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

pub struct RunRow {
    pub id: i64,
    pub cutoff: String,
    pub status: &'static str,
    pub draft: bool,
    pub cheques: i64,
    pub net: String,
    pub fee: String,
}

pub struct PendingRow {
    pub venue_id: i64,
    pub account_id: i64,
    pub iban: String,
    pub holder: String,
    pub created: String,
}

pub struct PreviewRow {
    pub venue: String,
    pub cheques: i64,
    pub gross: String,
    pub fee: String,
    pub net: String,
    pub waiting: &'static str,
}

#[derive(Template)]
#[template(path = "operateur_virements.html")]
struct RunsPage {
    layout: Layout,
    pending: Vec<PendingRow>,
    /// (n°, venue, code, amount, reason) of the corrections waiting for a run.
    waiting_corrections: Vec<(i64, i64, String, String, String)>,
    redemption: String,
    reason: String,
    runs: Vec<RunRow>,
    cutoff: String,
    fee: String,
    preview: Option<Vec<PreviewRow>>,
    message: Option<String>,
    errors: FieldErrors,
}

async fn runs_page(st: &AppState, staff: &StaffMember, csrf: &Csrf) -> RunsPage {
    let yesterday = paris::local_date(st.clock.now())
        .previous_day()
        .map(crate::api::dto::date_out)
        .unwrap_or_default();
    RunsPage {
        layout: Layout::new("Virements", Some(staff), csrf, "/operateur/virements"),
        waiting_corrections: st
            .store
            .corrections(None)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    c.venue_id.0,
                    c.cheque_code,
                    euros(c.amount_cents),
                    c.reason,
                )
            })
            .collect(),
        redemption: String::new(),
        reason: String::new(),
        pending: st
            .store
            .pending_bank_accounts()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|b| PendingRow {
                venue_id: b.venue_id.0,
                account_id: b.id,
                iban: Iban::parse(&b.iban)
                    .map(|i| i.to_string())
                    .unwrap_or(b.iban),
                holder: b.holder,
                created: paris::format_moment(b.created_at),
            })
            .collect(),
        runs: st
            .store
            .list_payment_runs(50)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| RunRow {
                id: r.id,
                cutoff: paris::format_date(r.cutoff),
                status: match r.status {
                    RunStatus::Draft => "En préparation",
                    RunStatus::Confirmed => "Confirmé",
                    RunStatus::Cancelled => "Annulé",
                },
                draft: r.status == RunStatus::Draft,
                cheques: r.cheques,
                net: euros(r.net_cents),
                fee: euros(r.fee_cents),
            })
            .collect(),
        cutoff: yesterday,
        // The programme's venue-side fee, which the operator may change for this run.
        fee: st
            .store
            .programme_fees()
            .await
            .map(|f| f.venue_fee_bp)
            .unwrap_or(0)
            .to_string(),
        preview: None,
        message: None,
        errors: FieldErrors::default(),
    }
}

#[derive(Deserialize, Default)]
pub struct RunForm {
    #[serde(default)]
    cutoff: String,
    #[serde(default)]
    fee: String,
}

fn parse_run(f: &RunForm, errors: &mut FieldErrors) -> Option<(time::Date, FeeRate)> {
    let cutoff = crate::api::dto::date_in("cutoff", &f.cutoff)
        .map_err(|_| {
            errors.add(
                "cutoff",
                "Indiquez la date d'arrêté au format AAAA-MM-JJ, par exemple 2026-10-31.",
            )
        })
        .ok();
    let fee = f
        .fee
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|bp| FeeRate::from_basis_points(bp).ok())
        .or_else(|| {
            errors.add(
                "fee",
                "La commission s'exprime en points de base, de 0 à 2000 (400 = 4 %).",
            );
            None
        });
    Some((cutoff?, fee?))
}

/// The runs page; with `?cutoff=…&fee=…`, a preview of what a run would pay.
pub async fn runs(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<RunForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf).await;
    if q.cutoff.is_empty() {
        return render(StatusCode::OK, &page, &csrf);
    }
    page.cutoff = q.cutoff.chars().take(20).collect();
    page.fee = q.fee.chars().take(10).collect();
    let Some((cutoff, fee)) = parse_run(&q, &mut page.errors) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    match st
        .store
        .preview_payment_run(cutoff, fee, st.clock.now())
        .await
    {
        Ok(p) => {
            let mut rows: Vec<PreviewRow> = p
                .venues
                .into_iter()
                .map(|l| PreviewRow {
                    venue: format!("{} (n° {})", l.venue_name, l.venue_id),
                    cheques: l.cheques,
                    gross: euros(l.gross_cents),
                    fee: euros(l.fee_cents),
                    net: euros(l.net_cents),
                    waiting: "",
                })
                .collect();
            rows.extend(p.waiting.into_iter().map(|w| PreviewRow {
                venue: format!("{} (n° {})", w.venue_name, w.venue_id),
                cheques: w.cheques,
                gross: euros(w.gross_cents),
                fee: String::new(),
                net: String::new(),
                waiting: if w.reason == "no_bank_details" {
                    "En attente : pas de coordonnées bancaires"
                } else {
                    "En attente : coordonnées à confirmer"
                },
            }));
            page.preview = Some(rows);
            render(StatusCode::OK, &page, &csrf)
        }
        Err(StoreError::Invalid { message, .. }) => {
            page.errors.add("cutoff", crate::api::capitalize(&message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => super::unavailable(e, "aperçu de virement", Some(&staff), &csrf),
    }
}

pub async fn create_run(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<RunForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf).await;
    page.cutoff = f.cutoff.chars().take(20).collect();
    page.fee = f.fee.chars().take(10).collect();
    if !token_ok {
        page.errors.add("cutoff", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let Some((cutoff, fee)) = parse_run(&f, &mut page.errors) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    match st
        .store
        .create_payment_run(cutoff, fee, st.clock.now())
        .await
    {
        Ok(_) => Redirect::to("/operateur/virements").into_response(),
        Err(StoreError::Invalid { message, .. }) | Err(StoreError::Conflict { message, .. }) => {
            page.errors.add("cutoff", crate::api::capitalize(&message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => super::unavailable(e, "préparation de virement", Some(&staff), &csrf),
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    action: String,
}

/// Confirm or cancel a draft run.
pub async fn run_action(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<ActionForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf).await;
    if !token_ok {
        page.message = Some(super::STALE_FORM.into());
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let result = match f.action.as_str() {
        "confirmer" => st.store.confirm_payment_run(id, st.clock.now()).await,
        "annuler" => st.store.cancel_payment_run(id, st.clock.now()).await,
        _ => Err(StoreError::Invalid {
            code: "invalid_action",
            message: "action inconnue".into(),
        }),
    };
    match result {
        Ok(_) => Redirect::to("/operateur/virements").into_response(),
        Err(StoreError::Conflict { message, .. }) | Err(StoreError::Invalid { message, .. }) => {
            page.message = Some(crate::api::capitalize(&message));
            render(StatusCode::CONFLICT, &page, &csrf)
        }
        Err(StoreError::NotFound) => super::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Virement introuvable",
            "Ce virement n'existe pas.",
        ),
        Err(e) => super::unavailable(e, "virement", Some(&staff), &csrf),
    }
}

/// Confirm a venue's pending bank details.
pub async fn confirm_bank(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path((venue, account)): Path<(i64, i64)>,
    Submitted { token_ok, .. }: Submitted<super::NoFields>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf).await;
    if !token_ok {
        page.message = Some(super::STALE_FORM.into());
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    match st
        .store
        .confirm_bank_account(VenueId(venue), account, st.clock.now())
        .await
    {
        Ok(_) => Redirect::to("/operateur/virements").into_response(),
        Err(e) => {
            page.message = Some(crate::api::capitalize(&e.to_string()));
            render(StatusCode::CONFLICT, &page, &csrf)
        }
    }
}

#[derive(Deserialize, Default)]
pub struct CorrectionForm {
    #[serde(default)]
    redemption: String,
    #[serde(default)]
    reason: String,
}

/// Records a correction of a cheque paid wrongly; the input is kept when it is refused.
pub async fn create_correction(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<CorrectionForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf).await;
    page.redemption = f.redemption.chars().take(20).collect();
    page.reason = f.reason.chars().take(500).collect();
    if !token_ok {
        page.errors.add("redemption", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    // The code printed on the cheque and on the venue's statement, or a redemption number.
    let id = match passnum_core::ChequeCode::parse(&f.redemption) {
        Ok(code) => match st.store.active_redemption_of(&code).await {
            Ok(id) => id,
            Err(e) => return super::unavailable(e, "correction", Some(&staff), &csrf),
        },
        Err(_) => f.redemption.trim().parse::<i64>().ok(),
    };
    let Some(id) = id else {
        page.errors.add(
            "redemption",
            "Indiquez le code du chèque (tel qu'il figure sur le relevé du lieu) ou le numéro de l'encaissement.",
        );
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    match st
        .store
        .create_correction(id, &f.reason, st.clock.now())
        .await
    {
        Ok(_) => Redirect::to("/operateur/virements").into_response(),
        Err(StoreError::Invalid { code, message })
        | Err(StoreError::Conflict { code, message }) => {
            let field = if code == "invalid_reason" {
                "reason"
            } else {
                "redemption"
            };
            page.errors.add(field, crate::api::capitalize(&message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => super::unavailable(e, "correction", Some(&staff), &csrf),
    }
}
