use axum::Json;
use axum::extract::State;

use super::dto::{BalanceDto, TrialBalanceDto};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};

fn account_name(a: passnum_core::ledger::AccountKey) -> String {
    let (kind, owner) = a.parts();
    format!("{kind}:{owner}")
}

/// Account balances: all for the operator; a funder sees its held funds, a venue what it is owed.
#[utoipa::path(get, path = "/api/v1/ledger/balances", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Vec<BalanceDto>)))]
pub async fn balances(State(st): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<BalanceDto>>> {
    let scope = passnum_app::scopes::ledger(auth.0)?;
    let balances = st.store.balances(scope).await?;
    Ok(Json(
        balances
            .into_iter()
            .map(|b| {
                let (kind, owner) = b.account.parts();
                BalanceDto {
                    account_kind: kind.into(),
                    owner_id: owner,
                    debits_cents: b.debits_cents,
                    credits_cents: b.credits_cents,
                    balance_cents: b.balance_cents,
                }
            })
            .collect(),
    ))
}

/// The trial balance, recomputed from the transfers (operator).
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = TrialBalanceDto), (status = 403, body = ErrorBody)))]
pub async fn trial_balance(
    State(st): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<TrialBalanceDto>> {
    auth.operator()?;
    let tb = st.store.trial_balance().await?;
    let mismatches = st.store.verify_ledger().await?;
    Ok(Json(TrialBalanceDto {
        total_cents: tb.total_cents,
        balanced: tb.is_balanced() && mismatches.is_empty(),
        negative_accounts: tb.negative_accounts.into_iter().map(account_name).collect(),
        mismatched_accounts: mismatches
            .into_iter()
            .map(|m| account_name(m.account))
            .collect(),
    }))
}
