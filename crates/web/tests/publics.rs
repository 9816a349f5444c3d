//! A funder's own publics over real HTTP, on SQLite and PostgreSQL: defined on the order's
//! page (refusals in sentences, retirement after a confirmation), offered at the counter with
//! their criteria and age band, recorded by the API, named in the figures after the national
//! publics.

mod common;

use common::*;
use passnum_store::Actor;
use reqwest::Client;
use serde_json::json;

async fn page(client: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

api_test! {
    async fn the_funder_defines_its_publics_and_the_counter_offers_them(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let funder = signed_in(&app, "f@metropole.fr", Actor::Funder(p.funder.id)).await;
        let list = format!("/commanditaire/commandes/{}/publics", p.order.id.0);
        let (st, html) = page(&funder, &app, &list).await;
        assert_eq!(st, 200);
        assert!(html.contains("pas encore de public propre"), "{html}");
        assert!(page(&funder, &app, &format!("/commanditaire/commandes/{}", p.order.id.0)).await.1.contains("Aucun public propre à ce programme"));
        let csrf = field(&html, "csrf");
        let add = |label: &'static str, min: &'static str, max: &'static str| {
            let f = vec![("csrf", csrf.clone()), ("libelle", label.into()), ("age_min", min.into()), ("age_max", max.into()),
                ("criteres", "Orientées par la mission locale".into()), ("cible", "1".into())];
            funder.post(app.url(&list)).form(&f).send()
        };
        // A national public, and an inverted band: said under the field, what was typed kept.
        let r = add("Demandeurs d'emploi", "", "").await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"erreurs\"") && html.contains("est déjà un public national"), "{html}");
        assert!(html.contains("value=\"Demandeurs d&#39;emploi\""), "{html}");
        let r = add("Femmes des communes isolées", "25", "16").await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("inversez-les"));
        assert!(s.order_publics(p.order.id).await.unwrap().is_empty(), "nothing written");
        // Added, then shown on the list and the order's page.
        let r = add("Femmes des communes isolées", "16", "25").await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, list.as_str()));
        let own = s.order_publics(p.order.id).await.unwrap().remove(0);
        let code = own.code();
        let (_, html) = page(&funder, &app, &list).await;
        assert!(html.contains(&format!("<td>{code}</td>")) && html.contains("<td>16 à 25 ans</td>"), "{html}");
        let (_, order_page) = page(&funder, &app, &format!("/commanditaire/commandes/{}", p.order.id.0)).await;
        assert!(order_page.contains("Publics cibles : Femmes des communes isolées (16 à 25 ans)."), "{order_page}");
        assert!(order_page.contains("1 public propre à ce programme"), "{order_page}");
        // The same label again: refused.
        let r = add("femmes des communes isolees", "", "").await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("a déjà un public nommé"));
        // Another funder sees no such page.
        let stranger = s.create_funder("Département du Nord", "departement", t0()).await.unwrap();
        let other = signed_in(&app, "f@nord.fr", Actor::Funder(stranger.id)).await;
        assert_eq!(page(&other, &app, &list).await.0, 404);
        assert_eq!(page(&other, &app, &format!("{list}/{}", own.id.0)).await.0, 404);

        // The counter: the own public with its criteria, and the birth date asked for its band.
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(ccas, 2)], "tests", t0()).await.unwrap();
        let agent = signed_in(&app, "agent@ccas.fr", Actor::Distributor(ccas)).await;
        let (_, html) = page(&agent, &app, "/structure/remise").await;
        assert!(html.contains(&format!("value=\"{code}\"")) && html.contains("Orientées par la mission locale"), "{html}");
        assert!(html.contains("Date de naissance (facultative)"), "{html}");
        let csrf_agent = field(&html, "csrf");
        let carnet = format!("{}-1", p.order.id.0);
        let hand = |birth: &'static str| {
            let f = vec![("csrf", csrf_agent.clone()), ("carnet", carnet.clone()), ("besoin", "email".into()), ("equipement", "none".into()),
                ("niveau", "never".into()), ("public", code.clone()), ("code_postal", "69001".into()), ("naissance", birth.into()), ("consentement", "1".into())];
            agent.post(app.url("/structure/remise")).form(&f).send()
        };
        // 30 years old: outside 16–25, refused under the publics; nothing handed out.
        let r = hand("01/01/1996").await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("La personne a 30 ans") && html.contains(&format!("value=\"{code}\" checked")), "{html}");
        assert_eq!(s.distributor_stock_count(ccas).await.unwrap(), 2);
        let r = hand("01/01/2006").await.unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        // Booklet 2 to a person of a national public only.
        let f = [("csrf", csrf_agent.as_str()), ("carnet", &format!("{}-2", p.order.id.0)), ("besoin", "email"), ("equipement", "none"),
            ("niveau", "never"), ("public", "senior"), ("code_postal", "69001"), ("consentement", "1")];
        assert_eq!(agent.post(app.url("/structure/remise")).form(&f).send().await.unwrap().status(), 303);
        let (_, home) = page(&agent, &app, "/structure").await;
        assert!(home.contains("Femmes des communes isolées (16 à 25 ans) — public propre"), "{home}");
        let (_, order_page) = page(&funder, &app, &format!("/commanditaire/commandes/{}", p.order.id.0)).await;
        assert!(order_page.contains("<td>Femmes des communes isolées (16 à 25 ans) (public propre)</td><td>1</td>"), "{order_page}");

        // Reworded: the handout keeps it under its new name.
        let one = format!("{list}/{}", own.id.0);
        let (_, html) = page(&funder, &app, &one).await;
        assert!(html.contains("value=\"Femmes des communes isolées\"") && html.contains("Retirer ce public"), "{html}");
        let f = [("csrf", csrf.as_str()), ("libelle", "Jeunes femmes isolées"), ("age_min", "16"), ("age_max", "25"), ("criteres", "")];
        let r = funder.post(app.url(&one)).form(&f).send().await.unwrap();
        assert_eq!(r.status(), 303);
        // Retired only once the box is ticked; then no longer offered at the counter.
        let retire = format!("{one}/retrait");
        let r = funder.post(app.url(&retire)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Cochez la case pour confirmer"));
        assert!(!s.order_publics(p.order.id).await.unwrap()[0].retired);
        let r = funder.post(app.url(&retire)).form(&[("csrf", csrf.as_str()), ("confirmation", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&agent, &app, "/structure/remise").await;
        assert!(!html.contains(&format!("value=\"{code}\"")), "{html}");
        // The figures: national publics first, the own one after them, by its current name.
        let (st, html) = page(&funder, &app, "/commanditaire/chiffres?vue=territoires&niveau=departement").await;
        assert_eq!(st, 200);
        let own_row = html.find(&format!("<th scope=\"row\">{code}</th><td>Jeunes femmes isolées (16 à 25 ans) — public propre</td><td>1</td>")).unwrap_or_else(|| panic!("{html}"));
        let senior_row = html.find("<th scope=\"row\">senior</th><td>Personne âgée (65 ans et plus)</td><td>1</td>").unwrap_or_else(|| panic!("{html}"));
        assert!(senior_row < own_row, "the own public follows the national ones, though its name sorts first");
    }
}

api_test! {
    async fn api_clients_read_add_and_use_own_publics(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let path = format!("/api/v1/orders/{}/publics", p.order.id.0);
        let (st, v) = json(app.post(&p.funder_token, &path, &json!({"label": "Aidants familiaux", "age_min": 18, "criteria": "Aident un proche", "target": true})).await).await;
        assert_eq!(st, 201, "{v}");
        let code = v["code"].as_str().unwrap().to_string();
        assert!(code.starts_with("own_") && v["age_min"] == 18 && v["age_max"].is_null() && v["target"] == true, "{v}");
        let (st, v) = json(app.post(&p.funder_token, &path, &json!({"label": "aidant familiaux"})).await).await;
        assert_eq!((st, error_code(&v)), (409, "public_label_taken"));
        let (st, v) = json(app.post(&p.funder_token, &path, &json!({"label": "Personne isolée"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "national_public"));
        let (st, v) = json(app.post(&p.funder_token, &path, &json!({"label": "Jeunes", "age_min": 30, "age_max": 20})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_age_band"));
        // A structure reads the publics of the orders it holds; another structure, a venue or
        // another funder does not.
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let mine = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        let other = s.create_distributor("CCAS de Bron", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(mine, 1)], "tests", t0()).await.unwrap();
        let agent = app.token(Actor::Distributor(mine)).await;
        let (st, list) = json(app.get(&agent, &path).await).await;
        assert_eq!(st, 200);
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["label"], "Aidants familiaux");
        assert_eq!(app.get(&app.token(Actor::Distributor(other)).await, &path).await.status(), 404);
        assert_eq!(app.get(&p.venue_token, &path).await.status(), 403);
        let stranger = s.create_funder("Département du Nord", "departement", t0()).await.unwrap();
        assert_eq!(app.get(&app.token(Actor::Funder(stranger.id)).await, &path).await.status(), 404);
        assert_eq!(app.post(&agent, &path, &json!({"label": "Autre"})).await.status(), 403);
        // A handout with the own code; an unknown own code is refused with its stable code.
        let body = |publics: Vec<&str>| json!({
            "order_id": p.order.id.0, "booklet_number": 1, "commune_insee": "69123",
            "needs": ["email"], "equipment": "none", "level": "never", "publics": publics, "consent": true,
        });
        let (st, v) = json(app.post(&agent, "/api/v1/handouts", &body(vec!["own_999999"])).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_public"));
        let (st, v) = json(app.post(&agent, "/api/v1/handouts", &body(vec![code.as_str(), "senior"])).await).await;
        assert_eq!(st, 201, "{v}");
        let (_, stats) = json(app.get(&p.funder_token, &format!("/api/v1/orders/{}/distribution-stats", p.order.id.0)).await).await;
        assert_eq!(stats["per_public"][&code], 1, "{stats}");
    }
}
