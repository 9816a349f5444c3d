//! The audit trail through the server, on both engines: a change by a person or a token is a
//! line with who, what and from where; reading, a refused form and a redemption are not; a
//! funder reads only its own lines.

mod common;

use common::*;
use passnum_store::Actor;

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

api_test! {
    async fn changes_are_recorded_with_who_and_from_where(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let op = signed_in(&app, "op@passnum.fr", Actor::Operator).await;
        let (_, html) = page(&op, &app, "/operateur/commanditaires").await;
        let csrf = field(&html, "csrf");
        // A refused form changes nothing: no line. A created funder: one line.
        let r = op.post(app.url("/operateur/commanditaires")).header("x-forwarded-for", "198.51.100.23").form(&[("csrf", csrf.as_str()), ("name", ""), ("kind", "commune")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(app.store().audit_entries(None, 10, 0).await.unwrap().is_empty());
        let r = op.post(app.url("/operateur/commanditaires")).header("x-forwarded-for", "198.51.100.23").form(&[("csrf", csrf.as_str()), ("name", "Commune de Bron"), ("kind", "commune")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let lines = app.store().audit_entries(None, 10, 0).await.unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let staff = app.store().search_staff("op@passnum.fr", 1, 0).await.unwrap().remove(0);
        assert_eq!((lines[0].actor.as_str(), lines[0].role.as_str(), lines[0].action.as_str(), lines[0].target.as_str(), lines[0].status, lines[0].client.as_str()),
            (format!("staff:{}", staff.id).as_str(), "operator", "POST /operateur/commanditaires", "/operateur/commanditaires", 303, "198.51.100.23"));
        // A redemption is in the ledger, not in the trail; nor is a preview (POSTed, changes
        // nothing), nor a cancellation not confirmed; a venue token's bank details are.
        let (st, _) = json(app.post(&p.venue_token, "/api/v1/redemptions", &serde_json::json!({"code": p.codes[0].grouped(), "service_code": "2.1.07"})).await).await;
        assert_eq!(st, 201);
        let (st, _) = json(app.post(&app.operator, "/api/v1/payment-runs/preview", &serde_json::json!({"cutoff": "2026-06-14"})).await).await;
        assert_eq!(st, 200);
        let mediator = signed_in(&app, "m@lieu.fr", Actor::Venue(p.venue.id)).await;
        let (_, html) = page(&mediator, &app, "/lieu").await;
        let csrf_m = field(&html, "csrf");
        let redemption = app.store().list_redemptions(passnum_store::RedemptionScope::Venue(p.venue.id), 0, 1).await.unwrap().remove(0).id.0;
        let r = mediator.post(app.url(&format!("/lieu/encaissements/{redemption}/annuler"))).form(&[("csrf", csrf_m.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303, "back to the question");
        assert_eq!(app.store().audit_entries(None, 10, 0).await.unwrap().len(), 1);
        let (st, _) = json(app.post(&p.venue_token, &format!("/api/v1/venues/{}/bank-accounts", p.venue.id.0), &serde_json::json!({"iban": "FR7630001007941234567890185", "bic": "BDFEFRPP", "holder": "Lieu"})).await).await;
        assert_eq!(st, 201);
        let lines = app.store().audit_entries(None, 10, 0).await.unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].actor.starts_with("token:") && lines[0].actor.len() == 18, "{:?}", lines[0]);
        assert_eq!((lines[0].role.as_str(), lines[0].org_id, lines[0].action.as_str()), ("venue", Some(p.venue.id.0), "POST /api/v1/venues/{id}/bank-accounts"));
        // The funder's staff acts: its page shows its own line only; the operator's page all.
        let funder = signed_in(&app, "f@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (_, html) = page(&funder, &app, "/commanditaire/commandes/nouvelle").await;
        let csrf = field(&html, "csrf");
        let r = funder.post(app.url("/commanditaire/commandes/nouvelle")).form(&[("csrf", csrf.as_str()), ("booklets", "abc")]).send().await.unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
        let (st, html) = page(&funder, &app, "/commanditaire/journal").await;
        assert_eq!(st, 200);
        assert!(html.contains("Aucune action enregistrée"), "a refused order is not a change: {html}");
        let order = serde_json::json!({"booklet_count": 1, "cheques_per_booklet": 10, "face_value_cents": 1000, "valid_from": "2026-07-01", "valid_until": "2026-12-31", "tolerance_days": 0, "perimeter": {"departements": ["69"]}});
        let (st, body) = json(app.post(&p.funder_token, "/api/v1/orders", &order).await).await;
        assert_eq!(st, 201, "{body}");
        let (_, html) = page(&funder, &app, "/commanditaire/journal").await;
        assert!(html.contains("<td>Commande créée</td><td>/api/v1/orders</td>") && !html.contains("/operateur/commanditaires") && !html.contains("198.51.100.23"), "its own lines, no addresses: {html}");
        let (_, html) = page(&op, &app, "/operateur/journal").await;
        assert!(html.contains("<td>Commanditaire créé</td><td>/operateur/commanditaires</td>") && html.contains("198.51.100.23") && html.contains("(op@passnum.fr)") && html.contains("jeton d&#39;API"), "{html}");
        assert!(matches!(app.store().verify_audit().await.unwrap(), passnum_store::AuditVerdict::Intact { lines: 3, .. }));
        assert_eq!(page(&funder, &app, "/operateur/journal").await.0, 403);
    }
}
