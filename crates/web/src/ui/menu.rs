//! The header menu of each role: what a signed-in member can reach from every page.

use passnum_store::Actor;

/// The entries of a role's menu, as (path, label); `None`: the public's.
pub(super) fn items(actor: Option<Actor>) -> &'static [(&'static str, &'static str)] {
    match actor {
        None => &[
            ("/", "Le Pass Numérique"),
            ("/verifier", "Vérifier mon pass"),
            ("/lieux", "Où utiliser mon pass"),
            ("/programme", "Le programme en chiffres"),
            ("/mes-reservations", "Mes réservations"),
            ("/candidature", "Votre lieu candidate"),
        ],
        Some(Actor::Venue(_)) => &[
            ("/lieu", "Encaisser un pass"),
            ("/lieu/ateliers", "Ateliers"),
            ("/lieu/catalogue", "Catalogue"),
            ("/lieu/paiements", "Paiements"),
            ("/lieu/dossier", "Dossier et équipe"),
            ("/lieux", "Lieux qualifiés"),
        ],
        Some(Actor::Distributor(_)) => &[
            ("/structure", "Stock et remises"),
            ("/structure/remise", "Remettre un carnet"),
            ("/lieux", "Lieux qualifiés"),
        ],
        Some(Actor::Observer(_)) => &[("/observatoire/chiffres", "Chiffres")],
        Some(Actor::Referent(_)) => &[
            ("/territoire", "Mon territoire"),
            ("/lieux", "Lieux qualifiés"),
        ],
        Some(Actor::Funder(_)) => &[
            ("/commanditaire", "Mes commandes"),
            ("/commanditaire/encaissements", "Encaissements"),
            ("/commanditaire/releve", "Relevé mensuel"),
            ("/commanditaire/financements", "Financements"),
            ("/commanditaire/chiffres", "Chiffres"),
            ("/commanditaire/journal", "Journal"),
        ],
        Some(Actor::Operator) => &[
            ("/operateur", "Tableau de bord"),
            ("/operateur/commanditaires", "Commanditaires"),
            ("/operateur/commandes", "Commandes"),
            ("/operateur/lieux", "Lieux"),
            ("/operateur/structures", "Structures"),
            ("/operateur/virements", "Virements"),
            ("/operateur/comptes", "Comptes"),
            ("/operateur/journal", "Journal"),
            ("/operateur/observateurs", "Observateurs"),
            ("/operateur/chiffres", "Chiffres"),
            ("/operateur/anomalies", "Anomalies"),
        ],
    }
}
