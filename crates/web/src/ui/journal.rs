//! The audit trail as pages: the operator reads every line, a funder the lines of its own
//! staff and tokens. Newest first, 50 a page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use passnum_core::paris;
use serde::Deserialize;

use super::session::{Csrf, FunderStaff, OperatorStaff};
use super::{Layout, PageError, render};
use crate::AppState;

const PER_PAGE: i64 = 50;

pub(super) struct Line {
    when: String,
    who: String,
    action: String,
    target: String,
    status: i64,
    client: String,
}

#[derive(Template)]
#[template(path = "journal.html")]
pub(super) struct JournalPage {
    layout: Layout,
    lines: Vec<Line>,
    /// The operator sees everyone's lines and the addresses; a funder its own.
    everyone: bool,
    page: i64,
    more: bool,
    base: &'static str,
}

#[derive(Deserialize, Default)]
pub struct JournalQuery {
    page: Option<i64>,
}

async fn lines(
    st: &AppState,
    of: Option<(&str, i64)>,
    page: i64,
) -> Result<(Vec<Line>, bool), PageError> {
    let unavailable = |e| PageError::unavailable(e, "journal");
    let mut found = st
        .store
        .audit_entries(of, PER_PAGE + 1, (page - 1) * PER_PAGE)
        .await
        .map_err(unavailable)?;
    let more = found.len() as i64 > PER_PAGE;
    found.truncate(PER_PAGE as usize);
    // A page names at most 50 people: one read each.
    let mut names = std::collections::HashMap::new();
    for e in &found {
        if let Some(id) = e
            .actor
            .strip_prefix("staff:")
            .and_then(|i| i.parse::<i64>().ok())
            && !names.contains_key(&e.actor)
        {
            let name = st.store.get_staff(id).await.map_or_else(
                |_| format!("compte n° {id}"),
                |m| format!("{} ({})", m.display_name, m.email),
            );
            names.insert(e.actor.clone(), name);
        }
    }
    Ok((
        found
            .into_iter()
            .map(|e| Line {
                when: paris::format_moment(e.at),
                who: names.get(&e.actor).cloned().unwrap_or_else(|| {
                    format!("jeton d'API {}", e.actor.trim_start_matches("token:"))
                }),
                action: describe(&e.action),
                target: e.target,
                status: e.status,
                client: e.client,
            })
            .collect(),
        more,
    ))
}

pub async fn operator_journal(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<JournalQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let (lines, more) = lines(&st, None, page).await?;
    let layout = Layout::new(
        "Journal des actions",
        Some(&staff),
        &csrf,
        "/operateur/journal",
    );
    let view = JournalPage {
        layout,
        lines,
        everyone: true,
        page,
        more,
        base: "/operateur/journal?",
    };
    Ok(render(StatusCode::OK, &view, &csrf))
}

pub async fn funder_journal(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(q): Query<JournalQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let (lines, more) = lines(&st, Some(("funder", funder.0)), page).await?;
    let layout = Layout::new(
        "Journal des actions",
        Some(&staff),
        &csrf,
        "/commanditaire/journal",
    );
    let view = JournalPage {
        layout,
        lines,
        everyone: false,
        page,
        more,
        base: "/commanditaire/journal?",
    };
    Ok(render(StatusCode::OK, &view, &csrf))
}

/// What an action did, in words, from its route template; the method and template otherwise.
fn describe(action: &str) -> String {
    let route = action.split_once(' ').map_or(action, |(_, r)| r);
    let words = match route {
        "/operateur/commanditaires" | "/api/v1/funders" => "Commanditaire créé",
        "/operateur/commanditaires/{id}" => "Compte de remboursement d'un commanditaire enregistré",
        "/operateur/commandes/{id}/{action}" | "/commanditaire/commandes/{id}/{action}" => {
            "Étape d'une commande (confirmation, paiement, émission, annulation)"
        }
        "/api/v1/orders" | "/commanditaire/commandes/nouvelle" => "Commande créée",
        "/api/v1/orders/{id}/confirm" => "Commande confirmée",
        "/api/v1/orders/{id}/payment" => "Paiement d'une commande enregistré",
        "/api/v1/orders/{id}/issue" => "Carnets d'une commande émis",
        "/api/v1/orders/{id}/cancel" => "Commande annulée",
        "/api/v1/orders/{id}/logo" => "Logo d'une commande enregistré",
        "/commanditaire/commandes/{id}/repartition" | "/api/v1/orders/{id}/allocations" => {
            "Carnets répartis entre les structures"
        }
        "/api/v1/orders/{id}/transfers" => "Carnets transférés d'une structure à une autre",
        "/commanditaire/commandes/{id}/regles-remise" | "/api/v1/orders/{id}/handout-rules" => {
            "Règles de remise modifiées"
        }
        "/structure/remise" | "/api/v1/handouts" => "Carnet remis à une personne",
        "/structure/remises/{id}/bloquer"
        | "/api/v1/handouts/{id}/block"
        | "/api/v1/orders/{id}/booklets/{number}/block" => "Carnet déclaré perdu ou volé",
        "/structure/remises/{id}/ateliers/{workshop}" => "Atelier réservé pour une personne",
        "/operateur/lieux" | "/api/v1/venues" => "Lieu créé",
        "/operateur/lieux/{id}/statut" | "/api/v1/venues/{id}/status" => {
            "Décision sur un lieu (qualification, suspension, retrait)"
        }
        "/operateur/lieux/{venue}/coordonnees/{account}/confirmer"
        | "/api/v1/venues/{id}/bank-accounts/{account_id}/confirm" => {
            "Coordonnées bancaires d'un lieu confirmées"
        }
        "/lieu/paiements" | "/api/v1/venues/{id}/bank-accounts" => {
            "Coordonnées bancaires d'un lieu enregistrées"
        }
        "/lieu/catalogue" | "/api/v1/venues/{id}/catalogue" => "Catalogue d'un lieu modifié",
        "/api/v1/venues/{id}/practical-info" => "Informations pratiques d'un lieu modifiées",
        "/lieu/encaissements/{id}/annuler" | "/api/v1/redemptions/{id}/rollback" => {
            "Encaissement annulé"
        }
        "/lieu/ateliers" | "/api/v1/venues/{id}/workshops" => "Atelier publié",
        "/lieu/ateliers/{id}/annuler" | "/api/v1/workshops/{id}/cancel" => "Atelier annulé",
        "/lieu/ateliers/{id}/compte-rendu" | "/api/v1/workshops/{id}/record" => {
            "Compte rendu d'atelier enregistré"
        }
        "/lieu/ateliers/{id}/reserver" | "/api/v1/workshops/{id}/bookings" => "Place réservée",
        "/lieu/ateliers/{id}/reservations/{booking}/annuler" | "/api/v1/bookings/{id}/cancel" => {
            "Réservation annulée"
        }
        "/lieu/equipe" => "Équipe d'un lieu modifiée",
        "/operateur/comptes" => "Compte créé",
        "/operateur/comptes/{id}/lien" => "Lien de mot de passe créé",
        "/operateur/virements" | "/api/v1/payment-runs" => "Virement aux lieux préparé",
        "/operateur/virements/{id}" => "Virement aux lieux confirmé ou annulé",
        "/api/v1/payment-runs/{id}/confirm" => "Virement aux lieux confirmé",
        "/api/v1/payment-runs/{id}/cancel" => "Virement aux lieux annulé",
        "/operateur/virements/{id}/sepa" => "Fichier SEPA produit",
        "/operateur/virements/corrections" | "/api/v1/payment-corrections" => {
            "Correction d'un chèque payé à tort"
        }
        "/operateur/structures" | "/api/v1/distributors" => "Structure créée",
        "/operateur/referentiel" | "/operateur/referentiel/service" | "/api/v1/services/{code}" => {
            "Référentiel des services modifié"
        }
        _ => return action.to_string(),
    };
    words.to_string()
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn actions_read_in_words_and_unknown_ones_as_they_are() {
        assert_eq!(
            describe("POST /operateur/virements/{id}/sepa"),
            "Fichier SEPA produit"
        );
        assert_eq!(
            describe("POST /api/v1/handouts"),
            "Carnet remis à une personne"
        );
        assert_eq!(
            describe("POST /lieu/dossier/reponse"),
            "POST /lieu/dossier/reponse"
        );
    }
}
