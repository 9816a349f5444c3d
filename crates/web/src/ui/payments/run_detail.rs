//! One payment run from the operator's side, finished in the browser: what each venue is paid,
//! each venue's statement (CSV, PDF), and the SEPA file for the bank once the run is confirmed.

use passnum_core::sepa::Debtor;
use passnum_core::{Bic, Iban};

use super::*;

pub struct LineRow {
    pub venue_id: i64,
    pub venue: String,
    pub cheques: i64,
    pub gross: String,
    pub fee: String,
    pub corrections: String,
    pub net: String,
    pub holder: String,
    /// The account's last four characters: enough to recognise it, not to copy it.
    pub account: String,
}

#[derive(Template)]
#[template(path = "operateur_virement.html")]
pub(super) struct RunDetailPage {
    layout: Layout,
    id: i64,
    cutoff: String,
    status: &'static str,
    confirmed: bool,
    draft: bool,
    cheques: i64,
    net: String,
    fee: String,
    lines: Vec<LineRow>,
    /// (funder, cheques, amount) the run's corrections refund to each funder: the operator
    /// transfers them (passnum has no funder bank details to put in a file).
    refunds: Vec<RefundRow>,
    debtor_name: String,
    debtor_iban: String,
    debtor_bic: String,
    execution: String,
    errors: FieldErrors,
    /// Why the file cannot be made (a run not confirmed, or cancelled).
    message: Option<String>,
}

pub struct SepaField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
}

impl RunDetailPage {
    fn fields(&self) -> Vec<SepaField> {
        [
            (
                "debtor_name",
                "Titulaire du compte qui paie",
                "tel qu'il figure sur le RIB",
                &self.debtor_name,
            ),
            (
                "debtor_iban",
                "IBAN du compte qui paie",
                "par exemple FR76 3000 6000 0112 3456 7890 189",
                &self.debtor_iban,
            ),
            ("debtor_bic", "BIC", "8 ou 11 caractères", &self.debtor_bic),
            (
                "execution",
                "Date d'exécution",
                "JJ/MM/AAAA",
                &self.execution,
            ),
        ]
        .into_iter()
        .map(|(name, label, hint, value)| SepaField {
            name,
            label,
            hint,
            value: value.clone(),
            error: self.errors.get(name).map(str::to_string),
        })
        .collect()
    }
}

pub(super) const RUN_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Virement introuvable",
    text: "Ce virement n'existe pas : revenez à la liste des virements.",
};

async fn detail_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    id: i64,
) -> Result<RunDetailPage, PageError> {
    let run = st.store.payment_run(id).await.map_err(|e| match e {
        StoreError::NotFound => RUN_NOT_FOUND,
        e => PageError::unavailable(e, "virement"),
    })?;
    let lines = st
        .store
        .payment_run_lines(id)
        .await
        .map_err(|e| PageError::unavailable(e, "virement"))?;
    let refunds = funder_refunds(st, id).await?;
    let tomorrow = paris::local_date(st.clock.now()).next_day();
    Ok(RunDetailPage {
        refunds,
        layout: Layout::new(
            format!("Virement n° {id}"),
            Some(staff),
            csrf,
            "/operateur/virements",
        ),
        id,
        cutoff: paris::format_date(run.cutoff),
        status: status_label(run.status),
        confirmed: run.status == RunStatus::Confirmed,
        draft: run.status == RunStatus::Draft,
        cheques: run.cheques,
        net: euros(run.net_cents),
        fee: euros(run.fee_cents),
        lines: lines
            .into_iter()
            .map(|l| LineRow {
                venue_id: l.venue_id.0,
                venue: l.venue_name,
                cheques: l.cheques,
                gross: euros(l.gross_cents),
                fee: euros(l.fee_cents),
                corrections: euros(l.corrections_cents),
                net: euros(l.net_cents),
                holder: l.holder,
                account: format!("…{}", l.iban.last_four()),
            })
            .collect(),
        debtor_name: String::new(),
        debtor_iban: String::new(),
        debtor_bic: String::new(),
        execution: tomorrow.map(paris::format_date).unwrap_or_default(),
        errors: FieldErrors::default(),
        message: None,
    })
}

/// What the run's corrections refund to each funder (the whole amount of each cheque: the
/// venue's net and the operator's fee) and the account the SEPA file pays it to.
async fn funder_refunds(st: &AppState, run: i64) -> Result<Vec<RefundRow>, PageError> {
    let unavailable = |e| PageError::unavailable(e, "virement");
    let refunds = st.store.run_refunds(run).await.map_err(unavailable)?;
    if refunds.is_empty() {
        return Ok(Vec::new());
    }
    let accounts = st
        .store
        .current_funder_accounts()
        .await
        .map_err(unavailable)?;
    let names = st.store.party_names().await.map_err(unavailable)?;
    Ok(refunds
        .into_iter()
        .map(|r| RefundRow {
            funder_id: r.funder_id.0,
            funder: passnum_store::PartyNames::of(&names.funders, r.funder_id.0),
            cheques: r.cheques,
            amount: r.amount.to_string(),
            account: accounts
                .get(&r.funder_id)
                .map(|a| format!("{} (…{})", a.holder, a.iban.last_four())),
        })
        .collect())
}

pub(super) struct RefundRow {
    funder_id: i64,
    funder: String,
    cheques: i64,
    amount: String,
    /// Holder and end of the IBAN; `None`: no refund account yet, the SEPA file is refused.
    account: Option<String>,
}

pub(super) fn status_label(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Draft => "En préparation",
        RunStatus::Confirmed => "Confirmé",
        RunStatus::Cancelled => "Annulé",
    }
}

pub async fn run_detail(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = detail_page(&st, &staff, &csrf, id).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

#[derive(Deserialize)]
pub struct SepaForm {
    #[serde(default)]
    debtor_name: String,
    #[serde(default)]
    debtor_iban: String,
    #[serde(default)]
    debtor_bic: String,
    #[serde(default)]
    execution: String,
}

/// The SEPA file of a confirmed run, for the operator's own account: the form is checked,
/// every mistake said next to its field, nothing downloaded until all is right.
pub async fn run_sepa(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<SepaForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = detail_page(&st, &staff, &csrf, id).await?;
    page.debtor_name = passnum_core::text::kept(&f.debtor_name, 70);
    page.debtor_iban = passnum_core::text::kept(&f.debtor_iban, 50);
    page.debtor_bic = passnum_core::text::kept(&f.debtor_bic, 20);
    page.execution = passnum_core::text::kept(&f.execution, 20);
    if !token_ok {
        page.errors.add("debtor_name", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let name = f.debtor_name.trim();
    if name.is_empty() || name.chars().count() > 70 {
        page.errors.add(
            "debtor_name",
            "Indiquez le titulaire du compte qui paie (70 caractères au plus).",
        );
    }
    let iban = Iban::parse(&f.debtor_iban).map_err(|_| {
        page.errors.add(
            "debtor_iban",
            "Cet IBAN n'est pas valide : recopiez-le depuis le relevé d'identité bancaire.",
        )
    });
    let bic = Bic::parse(&f.debtor_bic).map_err(|_| {
        page.errors.add(
            "debtor_bic",
            "Ce BIC n'est pas valide : 8 ou 11 caractères, par exemple AGRIFRPP.",
        )
    });
    let today = paris::local_date(st.clock.now());
    let execution = super::parse_day(&f.execution).filter(|d| *d >= today);
    if execution.is_none() {
        page.errors.add(
            "execution",
            "Indiquez la date d'exécution au format JJ/MM/AAAA, aujourd'hui ou plus tard.",
        );
    }
    let (Ok(iban), Ok(bic), Some(execution), true) =
        (iban, bic, execution, page.errors.list.is_empty())
    else {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
    };
    let debtor = Debtor {
        name: name.to_string(),
        iban,
        bic,
    };
    let now = st.clock.now();
    match passnum_app::sepa_file::sepa_file(&st.store, id, &debtor, execution, now, false).await {
        Ok(xml) => Ok(crate::ui::download(
            xml,
            "application/xml; charset=utf-8",
            &format!("virement-{id}.xml"),
        )),
        Err(
            e @ (passnum_app::sepa_file::SepaFileError::NotConfirmed(_)
            | passnum_app::sepa_file::SepaFileError::Cancelled(_)
            | passnum_app::sepa_file::SepaFileError::FunderAccountMissing { .. }),
        ) => {
            page.message = Some(e.to_string());
            Ok(render(StatusCode::CONFLICT, &page, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "fichier SEPA")),
    }
}

/// A venue's statement of a run for the operator: `/operateur/virements/12/releves/3.pdf`.
pub async fn run_statement(
    State(st): State<AppState>,
    OperatorStaff(_): OperatorStaff,
    Path((id, file)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let (stem, pdf) = match (file.strip_suffix(".csv"), file.strip_suffix(".pdf")) {
        (Some(n), _) => (n, false),
        (_, Some(n)) => (n, true),
        _ => return Err(STATEMENT_NOT_FOUND),
    };
    let venue = stem.parse::<i64>().map_err(|_| STATEMENT_NOT_FOUND)?;
    statement_file(&st, id, VenueId(venue), pdf, &format!("{id}-lieu-{file}")).await
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    action: String,
    /// The box "I have checked the amounts", required to confirm.
    #[serde(default)]
    verifie: String,
}

/// Confirm (after ticking that the amounts were checked) or cancel a draft run, from its page.
pub async fn run_action(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<ActionForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = detail_page(&st, &staff, &csrf, id).await?;
    if !token_ok {
        page.message = Some(crate::ui::STALE_FORM.into());
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let now = st.clock.now();
    let result = match f.action.as_str() {
        "confirmer" if f.verifie != "1" => {
            page.errors.add(
                "verifie",
                "Cochez la case après avoir vérifié les montants et les comptes : un virement confirmé ne change plus.",
            );
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
        "confirmer" => st.store.confirm_payment_run(id, now).await,
        "annuler" => st.store.cancel_payment_run(id, now).await,
        _ => Err(StoreError::Invalid {
            code: "invalid_action",
            message: "Action inconnue : confirmez ou annulez le virement depuis sa page.".into(),
        }),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/operateur/virements/{id}")).into_response()),
        Err(StoreError::Conflict { message, .. }) | Err(StoreError::Invalid { message, .. }) => {
            page.message = Some(message);
            Ok(render(StatusCode::CONFLICT, &page, &csrf))
        }
        Err(StoreError::NotFound) => Err(RUN_NOT_FOUND),
        Err(e) => Err(PageError::unavailable(e, "virement")),
    }
}
