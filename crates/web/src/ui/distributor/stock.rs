//! The agent's home: its structure's stock and handouts.

use super::*;

/// How many stock booklets the pages list (the form's select, the stock table).
pub(super) const STOCK_SHOWN: i64 = 200;

pub struct StockRow {
    pub order: i64,
    pub number: i64,
    pub funder: String,
    pub value: String,
    pub valid_until: String,
    pub stopped: bool,
}

pub struct HandoutRow {
    pub id: i64,
    pub when: String,
    pub order: i64,
    pub number: i64,
    pub commune: String,
    pub publics: String,
    /// "Chèque utilisé", "Atelier réservé" or "Pas encore".
    pub progress: &'static str,
}

#[derive(Template)]
#[template(path = "structure.html")]
pub(super) struct StructurePage {
    layout: Layout,
    structure: String,
    in_stock: i64,
    stock: Vec<StockRow>,
    /// Offsets of the previous and next pages of the stock table.
    stock_previous: Option<i64>,
    stock_next: Option<i64>,
    stock_offset: i64,
    handed_total: usize,
    handouts: Vec<HandoutRow>,
    /// Offsets of the newer and older pages of the handouts table.
    handouts_newer: Option<i64>,
    handouts_older: Option<i64>,
    /// A booklet number typed to find its handout, and why none was found.
    find: String,
    find_error: Option<&'static str>,
    /// The structure's own figures: how its booklets are used.
    funnel: passnum_store::StructureFunnel,
}

impl StructurePage {
    /// "42 %" of the booklets handed out with at least one cheque used.
    fn used_share(&self) -> String {
        crate::ui::figures::table::percent(self.funnel.first_used, self.funnel.handed_out)
            .map_or_else(|| "—".into(), |p| format!("{p}\u{a0}%"))
    }
}

pub(super) fn commune_name(code: &str) -> String {
    communes()
        .name_of(code)
        .map_or_else(|| code.to_string(), str::to_string)
}

pub(super) async fn structure_name(st: &AppState, d: DistributorId) -> String {
    st.store
        .get_distributor(d)
        .await
        .map(|d| d.name)
        .unwrap_or_default()
}

#[derive(Deserialize, Default)]
pub struct StockQuery {
    #[serde(default)]
    depuis: i64,
    /// Offset in the handouts, newest first.
    #[serde(default)]
    remises: i64,
    /// "1-12": open this booklet's handout (its slip, its blocking form).
    #[serde(default)]
    carnet: String,
}

const HANDOUTS_SHOWN: i64 = 50;

pub async fn home(
    State(st): State<AppState>,
    headers: HeaderMap,
    DistributorStaff(staff, d): DistributorStaff,
    Query(q): Query<StockQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let find: String = q.carnet.trim().chars().take(30).collect();
    let mut find_error = None;
    if !find.is_empty() {
        match super::handout::parse_booklet(&find) {
            Some((order, number)) => match st.store.handout_of_booklet(d, order, number).await {
                Ok(Some(id)) => {
                    return Redirect::to(&format!("/structure/remises/{id}")).into_response();
                }
                Ok(None) => {
                    find_error = Some(
                        "Votre structure n'a pas remis ce carnet : vérifiez le numéro imprimé sur sa couverture.",
                    );
                }
                Err(e) => {
                    return crate::ui::PageError::unavailable(e, "page structure").into_response();
                }
            },
            None => {
                find_error = Some(
                    "Tapez le numéro du carnet comme il est imprimé : commande, tiret, numéro (par exemple 1-12).",
                );
            }
        }
    }
    let offset = q.depuis.max(0);
    let older = q.remises.max(0);
    let loaded = async {
        let in_stock = st.store.distributor_stock_count(d).await?;
        let stock = st.store.distributor_stock(d, STOCK_SHOWN, offset).await?;
        let handouts = st.store.handouts_of(d, HANDOUTS_SHOWN + 1, older).await?;
        let ids: Vec<i64> = handouts.iter().map(|h| h.id).collect();
        let progress = st.store.handout_progress(d, &ids).await?;
        let funnel = st.store.structure_funnel(d).await?;
        // Own publics are named by their orders.
        let mut orders: Vec<_> = handouts.iter().map(|h| h.order_id).collect();
        orders.sort_unstable();
        orders.dedup();
        let labels = st
            .store
            .public_labels(&passnum_store::FigureScope::Orders(orders))
            .await?;
        Ok::<_, StoreError>((in_stock, stock, handouts, progress, funnel, labels))
    };
    let (in_stock, stock, mut handouts, progress, funnel, labels) = match loaded.await {
        Ok(x) => x,
        Err(e) => return crate::ui::PageError::unavailable(e, "page structure").into_response(),
    };
    let more_handouts = handouts.len() as i64 > HANDOUTS_SHOWN;
    handouts.truncate(HANDOUTS_SHOWN as usize);
    let page = StructurePage {
        layout: Layout::new("Stock et remises", Some(&staff), &csrf, "/structure"),
        structure: structure_name(&st, d).await,
        in_stock,
        stock_previous: (offset > 0).then(|| (offset - STOCK_SHOWN).max(0)),
        stock_next: (in_stock > offset + stock.len() as i64).then_some(offset + STOCK_SHOWN),
        stock_offset: offset,
        stock: stock
            .into_iter()
            .map(|b| StockRow {
                order: b.order_id.0,
                number: b.number,
                funder: b.funder_name,
                value: euros(b.cheques * b.face_value_cents),
                valid_until: paris::format_date(b.valid_until),
                stopped: b.distribution_stopped,
            })
            .collect(),
        handed_total: handouts.len(),
        handouts_newer: (older > 0).then(|| (older - HANDOUTS_SHOWN).max(0)),
        handouts_older: more_handouts.then_some(older + HANDOUTS_SHOWN),
        find,
        find_error,
        funnel,
        handouts: handouts
            .into_iter()
            .map(|h| HandoutRow {
                progress: match progress.get(&h.id).copied().unwrap_or_default() {
                    p if p.used => "Chèque utilisé",
                    p if p.booked => "Atelier réservé",
                    _ => "Pas encore",
                },
                id: h.id,
                when: paris::format_moment(h.handed_out_at),
                order: h.order_id.0,
                number: h.booklet_number,
                commune: commune_name(&h.commune_insee),
                publics: if h.publics.is_empty() {
                    "—".into()
                } else {
                    h.publics
                        .iter()
                        .map(|p| labels.label(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
            .collect(),
    };
    render(StatusCode::OK, &page, &csrf)
}
