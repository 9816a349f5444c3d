//! The operator's dashboard: the trial balance and every account.

use super::*;

#[derive(Template)]
#[template(path = "operateur.html")]
pub(super) struct Dashboard {
    layout: Layout,
    balanced: bool,
    total: String,
    accounts: Vec<(String, String)>,
}

pub async fn dashboard(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let tb = st.store.trial_balance().await;
    let mismatches = st
        .store
        .verify_ledger()
        .await
        .map(|m| m.is_empty())
        .unwrap_or(false);
    let balances = st
        .store
        .balances(passnum_store::LedgerScope::All)
        .await
        .unwrap_or_default();
    let names = st.store.party_names().await.unwrap_or_default();
    let label = |k: passnum_core::ledger::AccountKey| {
        use passnum_core::ledger::AccountKey as K;
        use passnum_store::PartyNames;
        match k {
            K::World => "Extérieur (banques)".to_string(),
            K::Operator => "Opérateur".to_string(),
            K::FunderHeld(f) => {
                format!("Fonds détenus pour {}", PartyNames::of(&names.funders, f.0))
            }
            K::VenuePayable(v) => format!("Dû à {}", PartyNames::of(&names.venues, v.0)),
        }
    };
    let page = Dashboard {
        layout: Layout::new("Tableau de bord", Some(&staff), &csrf, "/operateur"),
        balanced: tb.as_ref().is_ok_and(|t| t.is_balanced()) && mismatches,
        total: euros(tb.map(|t| t.total_cents).unwrap_or(0)),
        accounts: balances
            .into_iter()
            .map(|b| (label(b.account), euros(b.balance_cents)))
            .collect(),
    };
    render(StatusCode::OK, &page, &csrf)
}
