//! A venue's payments: bank details, what it was paid, its statements.

use super::*;

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
pub(super) struct VenuePayments {
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

pub(super) async fn venue_page(
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
                iban: b.iban.to_string(),
                bic: b.bic.to_string(),
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

pub async fn set_bank(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Submitted { form: f, token_ok }: Submitted<crate::ui::BankForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = venue_page(&st, &staff, venue, &csrf).await;
    page.iban = f.iban.chars().take(50).collect();
    page.bic = f.bic.chars().take(20).collect();
    page.holder = f.holder.chars().take(MAX_HOLDER_CHARS).collect();
    if !token_ok {
        page.errors.add("iban", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let details = match BankDetails::parse(&f.iban, &f.bic, &f.holder) {
        Ok(d) => d,
        Err(errors) => {
            crate::ui::bank_errors(errors, &mut page.errors);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
        }
    };
    match st
        .store
        .set_bank_account(venue, &details, st.clock.now())
        .await
    {
        Ok(_) => {
            let mut page = venue_page(&st, &staff, venue, &csrf).await;
            page.saved = true;
            render(StatusCode::OK, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "coordonnées bancaires").into_response(),
    }
}

pub(super) const STATEMENT_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Relevé introuvable",
    text: "Ce relevé n'existe pas pour votre lieu.",
};

/// A venue's statement for one run, as CSV (`12.csv`) or PDF (`12.pdf`).
pub async fn statement_csv(
    State(st): State<AppState>,
    VenueStaff(_, venue): VenueStaff,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let (stem, pdf) = match (file.strip_suffix(".csv"), file.strip_suffix(".pdf")) {
        (Some(n), _) => (n, false),
        (_, Some(n)) => (n, true),
        _ => return Err(STATEMENT_NOT_FOUND),
    };
    let run = stem.parse::<i64>().map_err(|_| STATEMENT_NOT_FOUND)?;
    statement_file(&st, run, venue, pdf, &file).await
}

/// One venue's statement of one run as a download named `releve-{name}`; not found when the
/// venue has nothing in that run.
pub(super) async fn statement_file(
    st: &AppState,
    run: i64,
    venue: VenueId,
    pdf: bool,
    name: &str,
) -> Result<Response, PageError> {
    let run_info = st
        .store
        .payment_run(run)
        .await
        .map_err(|_| STATEMENT_NOT_FOUND)?;
    // A venue's statement holds its cheques of one run: a few thousand lines at most.
    let statement = passnum_app::statements::venue_statement(&st.store, run, venue)
        .await
        .map_err(|e| PageError::unavailable(e, "relevé"))?
        .ok_or(STATEMENT_NOT_FOUND)?;
    let (body, content_type) = if pdf {
        let b = statement
            .pdf(&run_info)
            .map_err(|e| PageError::unavailable(e, "relevé PDF"))?;
        (b, "application/pdf")
    } else {
        let b = statement
            .write_csv(Vec::new())
            .map_err(|e| PageError::unavailable(e, "relevé CSV"))?;
        (b, "text/csv; charset=utf-8")
    };
    Ok(crate::ui::download(
        body,
        content_type,
        &format!("releve-{name}"),
    ))
}
