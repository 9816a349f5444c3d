//! The procès-verbal de remise: a one-page PDF recording that booklets moved from the funder's
//! stock to a member territory or a structure, from a territory to one of its structures, or
//! from one structure to another — which booklets, who decided, and what each side held after
//! the move: what the public accounting of a mandate asks for each handover (issue 16).

use passnum_core::{Money, OrderId, paris};
use passnum_store::{Holder, HolderInventory, Store, StoreError};

/// The text of the procès-verbal of move `move_id` of `order`, or `NotFound`.
pub async fn handover_text(
    store: &Store,
    order: OrderId,
    move_id: i64,
) -> Result<String, StoreError> {
    let m = store.allocation_move(order, move_id).await?;
    let o = store.get_order(order).await?;
    let funder = store.get_funder(o.funder_id).await?.name;
    let after = store.inventory_after_move(order, &m).await?;
    let held = |who: Holder| -> HolderInventory {
        after
            .iter()
            .find(|l| l.holder == who)
            .cloned()
            .unwrap_or_default()
    };
    let (giver, taker) = (held(m.from), held(m.to));
    let giver_name = match m.from {
        Holder::Funder => format!("{funder} (stock du commanditaire)"),
        _ => giver.name.clone(),
    };
    let numbers = match &m.numbers {
        Some(n) => format!("Carnets n° {n}.\n\n"),
        None => String::new(),
    };
    let decided = match &m.decided_by {
        Some(by) if !by.is_empty() => format!("Répartition décidée par {by}.\n\n"),
        _ => String::new(),
    };
    // A member territory's mandate: the acts by which it joined, as the accounting asks.
    let mut mandate = String::new();
    for h in [m.from, m.to] {
        if let Holder::Territory(t) = h {
            let t = store.territory(order, t).await?;
            let convention = match (&t.convention_ref, &t.convention_on) {
                (Some(r), Some(d)) => format!("convention de mandat n° {r} du {}", french_day(d)),
                _ => "convention de mandat non encore signée".to_string(),
            };
            mandate.push_str(&format!(
                "Territoire {} : délibération n° {} du {} ; {convention}.\n\n",
                t.name,
                t.deliberation_ref,
                french_day(&t.deliberation_on)
            ));
        }
    }
    let value = Money::from_cents(o.face_value_cents * o.cheques_per_booklet * m.booklets);
    Ok(format!(
        "PROCÈS-VERBAL DE REMISE DE CARNETS PASS NUMÉRIQUE N° {id}\n\n\
         Commande n° {order} de {funder}, carnets de {per} chèques de {face} chacun.\n\n\
         Le {when}, {giver_name} remet à {taker_name} {n} carnet{s} (valeur faciale {value}).\n\n\
         {numbers}{decided}{mandate}\
         Après cette remise :\n\
         - {giver_name} détient {giver_stock} carnet{gs} non remis ;\n\
         - {taker_name} détient {taker_stock} carnet{ts} non remis ({handed} déjà remis à des personnes).\n\n\
         Fait pour servir et valoir ce que de droit.\n\n\
         Pour le remettant (nom, qualité, signature) :\n\n\n\n\
         Pour le destinataire (nom, qualité, signature) :\n",
        id = m.id,
        order = order.0,
        per = o.cheques_per_booklet,
        face = Money::from_cents(o.face_value_cents),
        when = paris::format_moment(m.created_at),
        taker_name = taker.name,
        n = m.booklets,
        s = if m.booklets > 1 { "s" } else { "" },
        giver_stock = giver.in_stock,
        gs = if giver.in_stock > 1 { "s" } else { "" },
        taker_stock = taker.in_stock,
        ts = if taker.in_stock > 1 { "s" } else { "" },
        handed = taker.handed_out,
    ))
}

/// "2026-03-12" as "12/03/2026".
fn french_day(iso: &str) -> String {
    passnum_core::member_territory::parse_day(iso)
        .map(paris::format_date)
        .unwrap_or_else(|| iso.to_string())
}

/// The procès-verbal as a PDF.
pub async fn handover_pdf(
    store: &Store,
    order: OrderId,
    move_id: i64,
) -> Result<Vec<u8>, crate::booklets::PrintError> {
    let text = handover_text(store, order, move_id).await?;
    Ok(
        tokio::task::spawn_blocking(move || passnum_print::letter_pdf(&text, None))
            .await
            .map_err(|e| {
                crate::booklets::PrintError::Pdf(passnum_print::PdfError(e.to_string()))
            })??,
    )
}
