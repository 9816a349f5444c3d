//! One order of the funder: figures, booklets page by page, handout rules.

use super::*;

#[derive(Template)]
#[template(path = "commande.html")]
pub(super) struct OrderPage {
    layout: Layout,
    id: i64,
    status: &'static str,
    status_label: &'static str,
    status_help: &'static str,
    quantities: String,
    /// Its target publics, national and own.
    publics: String,
    /// Own publics offered at handouts.
    own_publics: usize,
    funding: String,
    cover_text: String,
    has_logo: bool,
    invoice: bool,
    printable: bool,
    /// Booklets still in the funder's stock, and each distributor's.
    unallocated: i64,
    distribution: Vec<passnum_store::DistributorStock>,
    /// (public, handouts), then handouts with no priority public.
    per_public: Vec<(String, i64)>,
    /// (commune name, handouts), the 10 communes with most handouts.
    per_commune: Vec<(String, i64)>,
    handed_out: i64,
    /// "42 %" of handed-out booklets started within 30 days, when any was handed out.
    started_30: Option<String>,
    /// Booklets that reached workshops, in a sentence.
    workshops: String,
    target_only: bool,
    one_per_household: bool,
    has_targets: bool,
    /// (number, name) of every distributing structure, for the move form.
    structures: Vec<(i64, String)>,
    /// The latest moves, newest first: (number, date, from, to, booklets).
    moves: Vec<(i64, String, String, String, i64)>,
    /// Moves older than those shown.
    older_moves: usize,
    validity: String,
    perimeter: String,
    booklets: Vec<passnum_store::BookletSummary>,
    after: i64,
    next_after: Option<i64>,
    /// (date, what happened) of the end-of-validity steps done so far.
    steps: Vec<(String, String)>,
    credit_note: Option<String>,
}

#[derive(Deserialize)]
pub struct BookletPage {
    #[serde(default)]
    apres: Option<i64>,
}

pub(super) const BOOKLETS_PER_PAGE: i64 = 100;

/// "État 50 %, FEDER 21 %, Fonds propres 29 %".
fn funding_words(o: &passnum_store::Order) -> String {
    o.funding
        .iter()
        .map(|l| {
            format!(
                "{} {} %",
                l.source,
                passnum_core::order_options::percent_text(l.basis_points)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Booklets handed out per priority public: every national public, then the order's own
/// publics (retired ones too: their handouts stay), then handouts with none.
fn per_public(
    stats: &passnum_store::DistributionStats,
    own: &[passnum_core::own_public::OwnPublic],
) -> Vec<(String, i64)> {
    let count = |code: &str| stats.per_public.get(code).copied().unwrap_or(0);
    passnum_core::order_options::Public::ALL
        .iter()
        .map(|p| (p.label().to_string(), count(p.as_str())))
        .chain(own.iter().map(|p| {
            let retired = if p.retired { ", retiré" } else { "" };
            (
                format!("{} (public propre{retired})", p.long_label()),
                count(&p.code()),
            )
        }))
        .chain(std::iter::once((
            "Aucun public prioritaire".to_string(),
            stats.without_public,
        )))
        .collect()
}

/// The ten communes with most handouts, by name.
fn top_communes(stats: &passnum_store::DistributionStats) -> Vec<(String, i64)> {
    stats
        .per_commune
        .iter()
        .take(10)
        .map(|(c, n)| {
            let name = passnum_core::commune::communes().name_of(c);
            (name.map_or_else(|| c.clone(), str::to_string), *n)
        })
        .collect()
}

fn credit_note_words(n: &passnum_store::CreditNote) -> String {
    format!(
        "Avoir du {} : {} pour {} chèques non utilisés.",
        paris::format_date(paris::local_date(n.issued_at)),
        euros(n.amount_cents),
        n.expired_cheques
    )
}

/// Moves shown on the order page; the others are in `passnum distribution --moves`.
const MOVES_SHOWN: usize = 50;

/// The latest moves of the order's booklets, newest first, with names, and how many older
/// ones are not shown.
async fn latest_moves(
    st: &AppState,
    order: OrderId,
    structures: &[(i64, String)],
) -> (Vec<(i64, String, String, String, i64)>, usize) {
    let (latest, total) = st
        .store
        .latest_allocation_moves(order, MOVES_SHOWN as i64)
        .await
        .unwrap_or_default();
    let territories = st.store.territories_of(order).await.unwrap_or_default();
    let name = |h: passnum_store::Holder| match h {
        passnum_store::Holder::Funder => "Votre stock".to_string(),
        passnum_store::Holder::Territory(t) => territories.iter().find(|x| x.id == t).map_or_else(
            || format!("territoire n° {t}"),
            |x| format!("Territoire {}", x.name),
        ),
        passnum_store::Holder::Structure(d) => structures
            .iter()
            .find(|(s, _)| *s == d.0)
            .map_or_else(|| format!("structure n° {d}"), |(_, n)| n.clone()),
    };
    let older = usize::try_from(total)
        .unwrap_or(0)
        .saturating_sub(latest.len());
    let shown = latest
        .into_iter()
        .map(|m| {
            (
                m.id,
                paris::format_moment(m.created_at),
                name(m.from),
                name(m.to),
                m.booklets,
            )
        })
        .collect();
    (shown, older)
}

/// One order of the funder with its booklets, a hundred at a time.
pub async fn order(
    State(st): State<AppState>,
    headers: HeaderMap,
    // Another funder's order looks exactly like one that does not exist.
    FunderOrder(staff, o): FunderOrder,
    Query(q): Query<BookletPage>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = o.id.0;
    let after = q.apres.unwrap_or(0).max(0);
    let booklets = st
        .store
        .booklet_summaries(o.id, after, BOOKLETS_PER_PAGE)
        .await
        .unwrap_or_default();
    let next_after = (booklets.len() as i64 == BOOKLETS_PER_PAGE)
        .then(|| booklets.last().map(|b| b.number))
        .flatten();
    let stats = st.store.distribution_stats(o.id).await.unwrap_or_default();
    let rules = st.store.order_rules(o.id).await.unwrap_or_default();
    let structures: Vec<(i64, String)> = st
        .store
        .list_distributors(1000, 0)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.id.0, d.name))
        .collect();
    let (moves, older_moves) = latest_moves(&st, o.id, &structures).await;
    let page = OrderPage {
        layout: Layout::new(format!("Commande n° {id}"), Some(&staff), &csrf, ""),
        id,
        status: o.status.as_str(),
        status_label: o.status.label(),
        status_help: crate::ui::ordering::status_help(o.status),
        quantities: format!(
            "{} carnets de {} chèques de {}, soit {}",
            o.booklet_count,
            o.cheques_per_booklet,
            euros(o.face_value_cents),
            euros(o.total_cents)
        ),
        publics: rules
            .target_publics
            .iter()
            .map(|p| rules.label(*p))
            .collect::<Vec<_>>()
            .join(", "),
        own_publics: rules.own_publics.iter().filter(|p| !p.retired).count(),
        funding: funding_words(&o),
        cover_text: o.cover_text.clone(),
        has_logo: o.has_logo,
        invoice: !matches!(
            o.status,
            passnum_core::OrderStatus::Draft | passnum_core::OrderStatus::Cancelled
        ),
        printable: matches!(
            o.status,
            passnum_core::OrderStatus::Issued | passnum_core::OrderStatus::Closed
        ),
        unallocated: st.store.unallocated_booklets(o.id).await.unwrap_or(0),
        distribution: stats.distributors.clone(),
        per_public: per_public(&stats, &rules.own_publics),
        per_commune: top_communes(&stats),
        handed_out: stats.handed_out,
        started_30: stats
            .started_within_30_days_permille()
            .map(|pm| format!("{} %", passnum_core::order_options::percent_text(pm * 10))),
        workshops: workshop_words(&stats),
        target_only: rules.target_only,
        one_per_household: rules.one_per_household,
        has_targets: !rules.target_publics.is_empty(),
        structures,
        moves,
        older_moves,
        validity: format!(
            "du {} au {}, plus {} jours de tolérance",
            paris::format_date(o.valid_from),
            paris::format_date(o.valid_until),
            o.tolerance_days
        ),
        perimeter: crate::booklets::perimeter_words(&o),
        booklets,
        after,
        next_after,
        steps: st
            .store
            .closing_steps(o.id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|d| (paris::format_date(paris::local_date(d.done_at)), d.summary))
            .collect(),
        credit_note: st
            .store
            .credit_note(o.id)
            .await
            .ok()
            .flatten()
            .map(|n| credit_note_words(&n)),
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct RulesForm {
    #[serde(default)]
    publics_cibles: Option<String>,
    #[serde(default)]
    un_par_foyer: Option<String>,
}

/// The funder's handout rules for one of its orders.
pub async fn set_rules(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, o): FunderOrder,
    crate::ui::PageForm(f): crate::ui::PageForm<RulesForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    match st
        .store
        .set_order_rules(o.id, f.publics_cibles.is_some(), f.un_par_foyer.is_some())
        .await
    {
        Ok(_) => axum::response::Redirect::to(&format!("/commanditaire/commandes/{}", o.id.0))
            .into_response(),
        Err(passnum_store::StoreError::Invalid { message, .. }) => crate::ui::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&staff),
            &csrf,
            "Règles non enregistrées",
            &message,
        ),
        Err(e) => crate::ui::PageError::unavailable(e, "règles de remise").into_response(),
    }
}

/// "12 ont réservé un atelier, 9 y sont allés ; 6 jours en médiane entre la remise et le
/// premier atelier." — nothing before the first handout.
fn workshop_words(s: &passnum_store::DistributionStats) -> String {
    if s.handed_out == 0 {
        return String::new();
    }
    let mut out = format!(
        "{} carnet{} remis {} réservé un atelier, {} {} allé{} au moins une fois",
        s.with_booking,
        if s.with_booking > 1 { "s" } else { "" },
        if s.with_booking > 1 { "ont" } else { "a" },
        s.attended_workshop,
        if s.attended_workshop > 1 {
            "y sont"
        } else {
            "y est"
        },
        if s.attended_workshop > 1 { "s" } else { "" }
    );
    if let Some(d) = s.median_days_to_first_workshop {
        out.push_str(&format!(
            " ; {d} jour{} en médiane entre la remise et le premier atelier",
            if d > 1 { "s" } else { "" }
        ));
    }
    out.push('.');
    out
}
