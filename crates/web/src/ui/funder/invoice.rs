//! The funder's invoice of an order and its monthly statement of use.

use super::*;
use passnum_app::activity::Month;

#[derive(Template)]
#[template(path = "facture.html")]
pub(super) struct InvoicePage {
    layout: Layout,
    number: String,
    date: String,
    funder: String,
    booklets: i64,
    cheques_per_booklet: i64,
    face_value: String,
    cheques: i64,
    total: String,
    /// (rate in %, amount) of the operator's fee charged to the funder, if any.
    fee: Option<(String, String)>,
    grand_total: String,
    validity: String,
    paid: bool,
}

#[derive(Deserialize, Default)]
pub struct FormatQuery {
    /// "pdf" for the same document as a PDF file.
    #[serde(default)]
    format: String,
}

/// A document's words as a PDF file to download (`passnum_print`'s letter layout).
fn pdf_file(text: &str, file: &str) -> Response {
    match passnum_print::letter::letter_pdf(text, None) {
        Ok(bytes) => crate::ui::download(bytes, "application/pdf", file),
        Err(e) => crate::ui::PageError::unavailable(e, "document PDF").into_response(),
    }
}

impl InvoicePage {
    /// The invoice in words, for its PDF: the same lines as the page.
    fn text(&self) -> String {
        let mut out = format!(
            "Facture de prépaiement n° {}\nDate : {}. Commanditaire : {}.\n\nObjet : Pass Numérique, chèques valables {}.\n\n",
            self.number, self.date, self.funder, self.validity
        );
        out.push_str(&format!(
            "Carnets de {} chèques ({} chèques) : {} carnets, {} par chèque : {}.\n",
            self.cheques_per_booklet, self.cheques, self.booklets, self.face_value, self.total
        ));
        if let Some((rate, amount)) = &self.fee {
            out.push_str(&format!(
                "Frais de gestion de l'opérateur ({rate} % de la valeur faciale) : {amount}.\n"
            ));
        }
        out.push_str(&format!(
            "\nTotal à prépayer : {}{}.\n\nLa valeur faciale ({}) est cantonnée au nom du commanditaire : elle ne sert qu'à payer les chèques qu'il a financés, et la valeur des chèques non utilisés lui est rendue par un avoir après la fin de validité.\n",
            self.grand_total,
            if self.paid { " (réglé)" } else { "" },
            self.total
        ));
        out
    }
}

/// The prepayment invoice of an order: the whole face value, payable before the cheques
/// circulate. Printable (the print stylesheet hides the navigation), and as a PDF file with
/// `?format=pdf`.
pub async fn invoice(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, o): FunderOrder,
    Query(q): Query<FormatQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = o.id.0;
    let funder_name = st
        .store
        .get_funder(o.funder_id)
        .await
        .map(|f| f.name)
        .unwrap_or_default();
    // The prepayment invoice exists from the confirmation of the order, dated that day.
    let Some(confirmed_at) = o
        .confirmed_at
        .filter(|_| o.status != passnum_core::OrderStatus::Cancelled)
    else {
        return crate::ui::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Pas encore de facture",
            "La facture de prépaiement est émise quand vous confirmez la commande.",
        );
    };
    let created = paris::local_date(confirmed_at);
    let page = InvoicePage {
        layout: Layout::new(
            format!("Facture de prépaiement, commande n° {id}"),
            Some(&staff),
            &csrf,
            "",
        ),
        number: format!("PN-{}-{:06}", created.year(), id),
        date: paris::format_date(created),
        funder: funder_name,
        booklets: o.booklet_count,
        cheques_per_booklet: o.cheques_per_booklet,
        face_value: euros(o.face_value_cents),
        cheques: o.booklet_count * o.cheques_per_booklet,
        total: euros(o.total_cents),
        fee: (o.funder_fee_cents > 0).then(|| {
            (
                passnum_core::order_options::percent_text(o.funder_fee_bp),
                euros(o.funder_fee_cents),
            )
        }),
        grand_total: euros(o.total_cents + o.funder_fee_cents),
        validity: format!(
            "du {} au {}",
            paris::format_date(o.valid_from),
            paris::format_date(o.valid_until)
        ),
        paid: o.paid_at.is_some(),
    };
    if q.format == "pdf" {
        return pdf_file(&page.text(), &format!("facture-{}.pdf", page.number));
    }
    render(StatusCode::OK, &page, &csrf)
}

pub struct UsageRow {
    pub venue: String,
    pub commune: String,
    pub cheques: i64,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "releve_mensuel.html")]
pub(super) struct MonthPage {
    layout: Layout,
    month: String,
    month_label: String,
    rows: Vec<UsageRow>,
    cheques: i64,
    total: String,
    /// Cheques paid wrongly and refunded this month: (code, reason, amount).
    refunds: Vec<(String, String, String)>,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct MonthQuery {
    #[serde(default)]
    mois: String,
    /// "pdf" for the statement as a PDF file.
    #[serde(default)]
    format: String,
}

impl MonthPage {
    /// The statement in words, for its PDF: one line per venue, then the total.
    fn text(&self) -> String {
        let mut out = format!(
            "Relevé mensuel d'utilisation — {}\nChèques encaissés (hors annulations) dans les lieux, par lieu.\n\n",
            self.month_label
        );
        if self.rows.is_empty() {
            out.push_str("Aucun chèque encaissé ce mois-ci.\n");
        }
        for r in &self.rows {
            out.push_str(&format!(
                "{} ({}) : {} chèque{}, {}.\n",
                r.venue,
                r.commune,
                r.cheques,
                if r.cheques > 1 { "s" } else { "" },
                r.amount
            ));
        }
        out.push_str(&format!(
            "\nTotal : {} chèque{}, {}.\n",
            self.cheques,
            if self.cheques > 1 { "s" } else { "" },
            self.total
        ));
        if !self.refunds.is_empty() {
            out.push_str(
                "\nRemboursements dus ce mois-ci (chèques payés à tort, repris aux lieux) :\n",
            );
            for (code, reason, amount) in &self.refunds {
                out.push_str(&format!("Chèque {code} ({reason}) : {amount}.\n"));
            }
        }
        out
    }
}

/// The refunds due to the funder by the runs confirmed in `month` (Paris):
/// (code, reason, amount).
async fn month_refunds(
    st: &AppState,
    funder: FunderId,
    month: &passnum_store::MonthSpan,
) -> Result<Vec<(String, String, String)>, passnum_store::StoreError> {
    Ok(st
        .store
        .funder_refunds(funder, month.from, month.to)
        .await?
        .into_iter()
        .map(|c| (c.cheque_code, c.reason, euros(c.amount_cents)))
        .collect())
}

/// "06/2026" (as the page shows it) or "2026-06" (as the activity exports read it).
fn typed_month(s: &str) -> Option<Month> {
    match s.split_once('/') {
        Some((m, y)) => Month::parse(&format!("{}-{}", y.trim(), m.trim())),
        None => Month::parse(s),
    }
}

/// The monthly usage statement: cheques redeemed (not cancelled) in a month (Paris), per venue.
pub async fn monthly(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(q): Query<MonthQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut errors = FieldErrors::default();
    let typed: String = q.mois.trim().chars().take(10).collect();
    let chosen = if typed.is_empty() {
        Some(Month::of(st.clock.now()))
    } else {
        typed_month(&typed)
    };
    if chosen.is_none() {
        errors.add(
            "mois",
            "Indiquez un mois au format MM/AAAA, par exemple 06/2026.",
        );
    }
    // Shown as typed when it cannot be read, else as MM/AAAA.
    let month = chosen.map_or(typed, |m| format!("{:02}/{}", m.month as u8, m.year));
    let span = chosen.map(Month::span);
    // The months' rollup, kept in the redemptions' own transactions: a few rows per venue,
    // whatever the number of cheques.
    let per_venue = match &span {
        Some(span) => {
            match st
                .store
                .usage_by_venue_in_month(&passnum_store::FigureScope::funder(funder), span.key)
                .await
            {
                Ok(lines) => lines,
                Err(e) => {
                    return crate::ui::PageError::unavailable(e, "relevé mensuel").into_response();
                }
            }
        }
        None => vec![],
    };
    let (cheques, total) = per_venue
        .iter()
        .fold((0, 0), |(n, t), l| (n + l.cheques_used, t + l.used_cents));
    let refunds = match &span {
        Some(span) => match month_refunds(&st, funder, span).await {
            Ok(r) => r,
            Err(e) => {
                return crate::ui::PageError::unavailable(e, "relevé mensuel").into_response();
            }
        },
        None => vec![],
    };
    let page = MonthPage {
        layout: Layout::new(
            "Relevé mensuel d'utilisation",
            Some(&staff),
            &csrf,
            "/commanditaire/releve",
        ),
        month_label: month.clone(),
        month,
        rows: per_venue
            .into_iter()
            .map(|l| UsageRow {
                commune: passnum_core::commune::communes()
                    .name_of(&l.commune_insee)
                    .unwrap_or(&l.commune_insee)
                    .to_string(),
                venue: l.name,
                cheques: l.cheques_used,
                amount: euros(l.used_cents),
            })
            .collect(),
        cheques,
        total: euros(total),
        refunds,
        errors,
    };
    let status = if page.errors.is_empty() {
        if q.format == "pdf" {
            let file = format!("releve-{}.pdf", page.month.replace('/', "-"));
            return pdf_file(&page.text(), &file);
        }
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(status, &page, &csrf)
}
