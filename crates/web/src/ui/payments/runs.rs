//! The operator's payment runs: preview, creation, confirmation, corrections, bank details to confirm.

use super::*;

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
    pub venue: String,
    pub account_id: i64,
    pub iban: String,
    pub holder: String,
    pub created: String,
}

/// Bank details waiting for the operator's call, each with its venue's name (usually a few).
async fn pending_rows(st: &AppState) -> Vec<PendingRow> {
    let mut rows = vec![];
    for b in st.store.pending_bank_accounts().await.unwrap_or_default() {
        let venue = st
            .store
            .get_venue(b.venue_id)
            .await
            .map_or_else(|_| format!("Lieu n° {}", b.venue_id.0), |v| v.name);
        rows.push(PendingRow {
            venue_id: b.venue_id.0,
            venue,
            account_id: b.id,
            iban: b.iban.to_string(),
            holder: b.holder,
            created: paris::format_moment(b.created_at),
        });
    }
    rows
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
pub(super) struct RunsPage {
    layout: Layout,
    pending: Vec<PendingRow>,
    /// (n°, venue, code, amount refunded, amount taken from the venue, reason) of the
    /// corrections waiting for a run.
    waiting_corrections: Vec<(i64, i64, String, String, String, String)>,
    redemption: String,
    reason: String,
    runs: Vec<RunRow>,
    /// Page of the runs list, and whether older runs follow.
    page: i64,
    more: bool,
    cutoff: String,
    fee: String,
    preview: Option<Vec<PreviewRow>>,
    message: Option<String>,
    errors: FieldErrors,
}

const RUNS_PER_PAGE: i64 = 25;

pub(super) async fn runs_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    page: i64,
) -> RunsPage {
    let page = page.clamp(1, 100_000);
    let mut runs = st
        .store
        .list_payment_runs(RUNS_PER_PAGE + 1, (page - 1) * RUNS_PER_PAGE)
        .await
        .unwrap_or_default();
    let more = runs.len() as i64 > RUNS_PER_PAGE;
    runs.truncate(RUNS_PER_PAGE as usize);
    let yesterday = paris::local_date(st.clock.now())
        .previous_day()
        .map(paris::format_date)
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
                let recovered = euros(c.recovered_cents());
                (
                    c.id,
                    c.venue_id.0,
                    c.cheque_code,
                    euros(c.amount_cents),
                    recovered,
                    c.reason,
                )
            })
            .collect(),
        redemption: String::new(),
        reason: String::new(),
        pending: pending_rows(st).await,
        page,
        more,
        runs: runs
            .into_iter()
            .map(|r| RunRow {
                id: r.id,
                cutoff: paris::format_date(r.cutoff),
                status: super::run_detail::status_label(r.status),
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
            .map(|f| basis_points_to_percent(f.venue_fee_bp))
            .unwrap_or_else(|_| "0".into()),
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
    /// Page of the runs list (the page's address only).
    page: Option<i64>,
}

pub(super) fn parse_run(f: &RunForm, errors: &mut FieldErrors) -> Option<(time::Date, FeeRate)> {
    let cutoff = super::parse_day(&f.cutoff).or_else(|| {
        errors.add(
            "cutoff",
            "Indiquez la date d'arrêté au format JJ/MM/AAAA, par exemple 31/10/2026.",
        );
        None
    });
    let fee = percent_to_basis_points(&f.fee)
        .and_then(|bp| FeeRate::from_basis_points(bp).ok())
        .or_else(|| {
            errors.add(
                "fee",
                "La commission est un pourcentage de 0 à 20, par exemple 4 ou 4,5.",
            );
            None
        });
    Some((cutoff?, fee?))
}

/// "4", "4,5", "4.25 %" → 400, 450, 425 basis points (two decimals at most, no rounding).
pub(super) fn percent_to_basis_points(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('%').trim().replace(',', ".");
    let (units, decimals) = s.split_once('.').unwrap_or((&s, ""));
    if units.is_empty() || decimals.len() > 2 || !decimals.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let units: i64 = units.parse().ok().filter(|u: &i64| (0..=100).contains(u))?;
    let decimals: i64 = format!("{decimals:0<2}").parse().ok()?;
    Some(units * 100 + decimals)
}

/// 450 → "4,5".
pub(super) fn basis_points_to_percent(bp: i64) -> String {
    let (units, hundredths) = (bp / 100, bp % 100);
    match hundredths {
        0 => units.to_string(),
        h if h % 10 == 0 => format!("{units},{}", h / 10),
        h => format!("{units},{h:02}"),
    }
}

/// The runs page; with `?cutoff=…&fee=…`, a preview of what a run would pay.
pub async fn runs(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<RunForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf, q.page.unwrap_or(1)).await;
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
            page.errors.add("cutoff", message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "aperçu de virement").into_response(),
    }
}

pub async fn create_run(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<RunForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf, 1).await;
    page.cutoff = f.cutoff.chars().take(20).collect();
    page.fee = f.fee.chars().take(10).collect();
    if !token_ok {
        page.errors.add("cutoff", crate::ui::STALE_FORM_KEPT);
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
        // Straight to the run's page, where the operator checks it and confirms it.
        Ok(run) => Redirect::to(&format!("/operateur/virements/{}", run.id)).into_response(),
        Err(StoreError::Invalid { message, .. }) | Err(StoreError::Conflict { message, .. }) => {
            page.errors.add("cutoff", message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "préparation de virement").into_response(),
    }
}

/// Confirm a venue's pending bank details.
pub async fn confirm_bank(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path((venue, account)): Path<(i64, i64)>,
    Submitted { token_ok, .. }: Submitted<crate::ui::NoFields>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = runs_page(&st, &staff, &csrf, 1).await;
    if !token_ok {
        page.message = Some(crate::ui::STALE_FORM.into());
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    match st
        .store
        .confirm_bank_account(VenueId(venue), account, st.clock.now())
        .await
    {
        Ok(_) => Redirect::to("/operateur/virements").into_response(),
        Err(e) => {
            page.message = Some(e.to_string());
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
    let mut page = runs_page(&st, &staff, &csrf, 1).await;
    page.redemption = f.redemption.chars().take(20).collect();
    page.reason = f.reason.chars().take(500).collect();
    if !token_ok {
        page.errors.add("redemption", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    // The code printed on the cheque and on the venue's statement, or a redemption number.
    let id = match passnum_core::ChequeCode::parse(&f.redemption) {
        Ok(code) => match st.store.active_redemption_of(&code).await {
            Ok(id) => id,
            Err(e) => return crate::ui::PageError::unavailable(e, "correction").into_response(),
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
            page.errors.add(field, message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "correction").into_response(),
    }
}
