//! "Chiffres" pages on both engines: a funder sees the funnel and the months of its own orders
//! (chart and table, CSV), the operator sees everything, other roles are refused.

mod common;

use common::*;
use passnum_store::Actor;

async fn text(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

api_test! {
    async fn a_funder_sees_its_funnel_and_months_and_the_operator_sees_all(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        // Two cheques of the programme used today.
        for code in &p.codes[..2] {
            let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: *code, service_code: "2.1.07".into(), workshop_id: None, now: t0(), idempotency: None };
            assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        }
        let bought = p.order.booklet_count;
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("=CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(ccas, 2)], "tests", t0()).await.unwrap();
        let funder = signed_in(&app, "chiffres@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (st, html) = text(&funder, &app, "/commanditaire/chiffres").await;
        assert_eq!(st, 200);
        assert!(html.contains("Les commandes de Métropole") && html.contains("<svg class=\"pn-chart\" role=\"img\""), "{html}");
        assert!(html.contains(&format!("<th scope=\"row\">Carnets achetés</th><td>{bought}</td><td></td><td>100\u{a0}%</td>")), "{html}");
        assert!(html.contains("<th scope=\"row\">Avec au moins un chèque utilisé</th><td>1</td>"), "both cheques of booklet 1: {html}");
        assert!(html.contains("<th scope=\"row\">Chèques utilisés</th><td>2</td><td>20,00"), "{html}");
        assert!(html.contains("<th scope=\"row\">2026-06</th><td>juin 2026</td><td>0</td><td>2</td>"), "this month: {html}");
        let r = funder.get(app.url("/commanditaire/chiffres.csv?tableau=mois")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with("\u{feff}mois;libelle;carnets_remis;cheques_utilises;montant_utilise_centimes\n") && csv.contains("\n2026-06;juin 2026;0;2;2000\n") && csv.lines().count() == 13, "{csv}");
        let csv = funder.get(app.url("/commanditaire/chiffres.csv")).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains(&format!("Carnets achetés;{bought};;100\n")) && csv.contains("Chèques utilisés;2;2000;\n"), "{csv}");
        assert_eq!(funder.get(app.url("/commanditaire/chiffres.csv?tableau=autre")).send().await.unwrap().status(), 404);
        assert_eq!(funder.get(app.url("/commanditaire/chiffres?vue=autre")).send().await.unwrap().status(), 404);
        // Per structure: two booklets entrusted, none handed out yet, booklet 1 used (an anomaly the page shows); a name never runs as a formula.
        assert!(html.contains("<th scope=\"row\">=CCAS de Lyon</th><td>2</td><td>0</td><td>0</td><td>1</td><td>—</td><td>2</td>"), "{html}");
        let csv = funder.get(app.url("/commanditaire/chiffres.csv?tableau=structures")).send().await.unwrap().text().await.unwrap();
        assert!(csv.ends_with("\n'=CCAS de Lyon;2;0;0;1;;2\n"), "{csv}");

        // Another funder's page shows none of it; the operator sees the sum; a venue is refused.
        let other = s.create_funder("Département du Rhône", "departement", t0()).await.unwrap();
        let stranger = signed_in(&app, "chiffres@rhone.fr", Actor::Funder(other.id)).await;
        let (_, html) = text(&stranger, &app, "/commanditaire/chiffres").await;
        assert!(html.contains("Aucun carnet acheté pour l'instant") && html.contains("<th scope=\"row\">Chèques utilisés</th><td>0</td><td>0,00"), "{html}");
        let operator = signed_in(&app, "chiffres@operateur.fr", Actor::Operator).await;
        let (st, html) = text(&operator, &app, "/operateur/chiffres").await;
        assert_eq!(st, 200);
        assert!(html.contains("Tout le programme") && html.contains("<th scope=\"row\">Chèques utilisés</th><td>2</td><td>20,00"), "{html}");
        let venue = signed_in(&app, "chiffres@lieu.fr", Actor::Venue(p.venue.id)).await;
        assert_eq!(text(&venue, &app, "/operateur/chiffres").await.0, 403);
        assert_eq!(text(&venue, &app, "/commanditaire/chiffres").await.0, 403);
        assert_eq!(text(&venue, &app, "/commanditaire/chiffres.xlsx").await.0, 403);
    }
}

api_test! {
    async fn territories_venues_and_usage_views_with_their_downloads(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let villeurbanne = passnum_core::InseeCode::parse_known("69266").unwrap();
        let ccas = s.create_distributor("CCAS de Villeurbanne", "ccas", &villeurbanne, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(ccas, 2)], "tests", t0()).await.unwrap();
        let mut h = handout_for_publics(&["senior", "isolated"]);
        s.hand_out(ccas, None, p.order.id, 1, &villeurbanne, &h, t0()).await.unwrap();
        h = handout_for_publics(&[]);
        s.hand_out(ccas, None, p.order.id, 2, &villeurbanne, &h, t0()).await.unwrap();
        // Booklet 1: three cheques used the same day.
        for code in &p.codes[..3] {
            let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: *code, service_code: "2.1.07".into(), workshop_id: None, now: t0().plus_ms(3_600_000), idempotency: None };
            assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        }
        let funder = signed_in(&app, "vues@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (st, html) = text(&funder, &app, "/commanditaire/chiffres?vue=territoires&niveau=departement").await;
        assert_eq!(st, 200);
        assert!(html.contains("<th scope=\"row\">69</th><td>Rhône</td><td>2</td><td>1</td><td>50\u{a0}%</td><td>3</td>"), "{html}");
        assert!(html.contains("<td>Personne isolée</td><td>1</td><td>1</td>") && html.contains("<td>Aucun public prioritaire noté</td><td>1</td><td>0</td>"), "{html}");
        assert!(html.contains("<option value=\"departement\" selected>"), "{html}");
        let (_, html) = text(&funder, &app, "/commanditaire/chiffres?vue=territoires&niveau=epci").await;
        assert!(html.contains("Métropole de Lyon</td><td>2</td>"), "{html}");
        let (_, html) = text(&funder, &app, "/commanditaire/chiffres?vue=lieux").await;
        assert!(html.contains(&format!("<th scope=\"row\">{}</th><td>Lyon</td><td>3</td><td>30,00", p.venue.name)), "{html}");
        assert!(html.contains("<td>Sans atelier enregistré</td><td>3</td>"), "{html}");
        let (_, html) = text(&funder, &app, "/commanditaire/chiffres?vue=usage").await;
        assert!(html.contains("<th scope=\"row\">0</th><td>1</td><td>50\u{a0}%</td>") && html.contains("<th scope=\"row\">3</th><td>1</td><td>50\u{a0}%</td>"), "{html}");
        assert!(html.contains("<th scope=\"row\">Le jour même</th><td>1</td><td>100\u{a0}%</td>") && html.contains("Délai médian : 0 jour,"), "{html}");
        // The spreadsheet reads back with its numbers.
        let r = funder.get(app.url("/commanditaire/chiffres.xlsx?vue=usage&tableau=profondeur")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains("chiffres-profondeur.xlsx"));
        let bytes = r.bytes().await.unwrap().to_vec();
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("profondeur").unwrap();
        assert_eq!(range.get((1, 1)), Some(&calamine::Data::Float(1.0)), "booklets with no cheque");
        assert_eq!(range.get((4, 1)), Some(&calamine::Data::Float(1.0)), "booklets with three");
        let csv = funder.get(app.url("/commanditaire/chiffres.csv?vue=territoires&niveau=commune&tableau=territoires")).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains("\n69266;Villeurbanne;2;1;50;3;3000\n"), "{csv}");
        // A table of another view is not in this one; an unknown level is said so.
        assert_eq!(funder.get(app.url("/commanditaire/chiffres.csv?vue=lieux&tableau=profondeur")).send().await.unwrap().status(), 404);
        assert_eq!(text(&funder, &app, "/commanditaire/chiffres?vue=territoires&niveau=canton").await.0, 404);
    }
}

/// A handout after a diagnostic, with these priority publics, nobody's household recorded.
fn handout_for_publics(publics: &[&str]) -> passnum_core::handout::Handout {
    let request = passnum_core::handout::HandoutRequest {
        needs: vec!["online_procedures".into()],
        equipment: "phone_only".into(),
        level: "beginner".into(),
        publics: publics.iter().map(|p| p.to_string()).collect(),
        consent: true,
        ..Default::default()
    };
    passnum_core::handout::Handout::parse(
        &request,
        &Default::default(),
        &passnum_core::handout::HouseholdKey::from_bytes([3; 32]),
    )
    .unwrap()
}

api_test! {
    async fn an_observer_reads_the_figures_of_the_funders_it_is_granted_and_nothing_else(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: p.codes[0], service_code: "2.1.07".into(), workshop_id: None, now: t0(), idempotency: None };
        assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        let other = s.create_funder("Département du Rhône", "departement", t0()).await.unwrap();
        // The operator creates the observer on its page and opens the Métropole's figures.
        let operator = signed_in(&app, "obs@operateur.fr", Actor::Operator).await;
        let page = operator.get(app.url("/operateur/observateurs")).send().await.unwrap().text().await.unwrap();
        let csrf = field(&page, "csrf");
        let r = operator.post(app.url("/operateur/observateurs")).form(&[("csrf", csrf.as_str()), ("name", ""), ("kind", "etat")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Donnez le nom de l&#39;observateur"));
        let r = operator.post(app.url("/operateur/observateurs")).form(&[("csrf", csrf.as_str()), ("name", "Programme Société Numérique"), ("kind", "etat")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let observer = s.list_observers().await.unwrap().remove(0);
        let funder = p.funder.id.0.to_string();
        let r = operator.post(app.url(&format!("/operateur/observateurs/{}/commanditaires", observer.id.0)))
            .form(&[("csrf", csrf.as_str()), ("funder", funder.as_str()), ("action", "ouvrir")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = text(&operator, &app, "/operateur/observateurs").await;
        assert!(html.contains("<th scope=\"row\">Programme Société Numérique</th><td>Équipe du programme (État)</td>\n    <td>Métropole<br>Aucun territoire</td>"), "{html}");
        let r = operator.post(app.url("/operateur/observateurs/999/commanditaires"))
            .form(&[("csrf", csrf.as_str()), ("funder", funder.as_str()), ("action", "ouvrir")]).send().await.unwrap();
        assert_eq!(r.status(), 404);

        let reader = signed_in(&app, "lecture@anct.gouv.fr", Actor::Observer(observer.id)).await;
        let (st, html) = text(&reader, &app, "/observatoire/chiffres").await;
        assert_eq!(st, 200);
        assert!(html.contains("Les commandes de Métropole (1 commande)") && html.contains("<th scope=\"row\">Chèques utilisés</th><td>1</td>"), "{html}");
        let csv = reader.get(app.url("/observatoire/chiffres.csv?vue=lieux&tableau=lieux")).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains(";1;1000;0;0\n"), "{csv}");
        // Nothing else: no order, no cheque, no redemption list, no other role's pages.
        for path in ["/commanditaire", "/commanditaire/encaissements", "/operateur", "/operateur/chiffres", "/lieu", "/structure"] {
            assert_eq!(text(&reader, &app, path).await.0, 403, "{path}");
        }
        let token = app.token(Actor::Observer(observer.id)).await;
        let r = reqwest::Client::new().get(app.url("/api/v1/figures")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["funder_ids"], serde_json::json!([p.funder.id.0]));
        assert_eq!((body["funnel"]["cheques_used"].as_i64(), body["months"].as_array().map(Vec::len)), (Some(1), Some(12)));
        let r = reqwest::Client::new().get(app.url("/api/v1/figures")).bearer_auth(&p.venue_token).send().await.unwrap();
        assert_eq!(r.status(), 403);
        for path in ["/api/v1/orders", "/api/v1/redemptions", "/api/v1/stock", "/api/v1/handouts"] {
            let r = reqwest::Client::new().get(app.url(path)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(r.status(), 403, "{path}");
        }
        // Withdrawn: the perimeter is empty and the page says so.
        s.set_observer_grant(observer.id, p.funder.id, false, t0()).await.unwrap();
        s.set_observer_grant(observer.id, other.id, true, t0()).await.unwrap();
        s.set_observer_grant(observer.id, other.id, false, t0()).await.unwrap();
        let (_, html) = text(&reader, &app, "/observatoire/chiffres").await;
        assert!(html.contains("Aucun commanditaire ni territoire ne vous est encore ouvert") && html.contains("<th scope=\"row\">Chèques utilisés</th><td>0</td>"), "{html}");
        // A territory instead: a code that names nothing is refused with a sentence, the
        // Rhône opens the Métropole's order (its perimeter is the Rhône).
        let territories = format!("/operateur/observateurs/{}/territoires", observer.id.0);
        let r = operator.post(app.url(&territories))
            .form(&[("csrf", csrf.as_str()), ("niveau", "departement"), ("code", "999"), ("action", "ouvrir")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("Aucun territoire de niveau « département » ne porte le code « 999 »") && html.contains("aria-invalid=\"true\""), "{html}");
        let r = operator.post(app.url(&territories))
            .form(&[("csrf", csrf.as_str()), ("niveau", "departement"), ("code", "69"), ("action", "ouvrir")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = text(&operator, &app, "/operateur/observateurs").await;
        assert!(html.contains("Territoires : Rhône (département)"), "{html}");
        let (_, html) = text(&reader, &app, "/observatoire/chiffres").await;
        assert!(html.contains("Celles dont le périmètre est dans Rhône (département) (1 commande)") && html.contains("<th scope=\"row\">Chèques utilisés</th><td>1</td>"), "{html}");
        let body: serde_json::Value = reqwest::Client::new().get(app.url("/api/v1/figures")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!((body["funder_ids"].clone(), body["order_ids"].clone()), (serde_json::json!([]), serde_json::json!([p.order.id.0])));
        let r = operator.post(app.url(&territories))
            .form(&[("csrf", csrf.as_str()), ("niveau", "departement"), ("code", "69"), ("action", "retirer")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = text(&reader, &app, "/observatoire/chiffres").await;
        assert!(html.contains("<th scope=\"row\">Chèques utilisés</th><td>0</td>"), "{html}");
    }
}

api_test! {
    async fn the_operator_reads_anomalies_and_a_funder_its_sources_of_funding(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        passnum_store::testing::set_order_funding(s, p.order.id, &[("État", 6500), ("FEDER", 3500)]).await;
        // Three cheques of one booklet never handed out, the same day at the same venue.
        for code in &p.codes[..3] {
            let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: *code, service_code: "2.1.07".into(), workshop_id: None, now: t0(), idempotency: None };
            assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        }
        let operator = signed_in(&app, "anomalies@operateur.fr", Actor::Operator).await;
        let (st, html) = text(&operator, &app, "/operateur/anomalies?jours=366").await;
        assert_eq!(st, 200);
        assert!(html.contains("3 chèques utilisés alors qu&#39;aucune remise du carnet n&#39;est enregistrée"), "{html}");
        assert!(html.contains("3 chèques du même carnet utilisés le"), "{html}");
        let csv = operator.get(app.url("/operateur/anomalies.csv?jours=366")).send().await.unwrap().text().await.unwrap();
        assert!(csv.starts_with("\u{feff}type;lieu_id;lieu;commande;carnet;date;nombre;motif\n") && csv.contains("\nnot_handed_out;;;") && csv.contains("\nsame_day;"), "{csv}");
        assert_eq!(text(&operator, &app, "/operateur/anomalies?jours=5000").await.0, 404);
        // Computed once per window and kept five minutes: three more cheques of another
        // booklet show on the next computation, not on a reload.
        for code in &p.codes[10..13] {
            let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: *code, service_code: "2.1.07".into(), workshop_id: None, now: t0(), idempotency: None };
            assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        }
        let (_, again) = text(&operator, &app, "/operateur/anomalies?jours=366").await;
        assert_eq!(again.matches("3 chèques du même carnet").count(), 1, "{again}");
        let (_, other_window) = text(&operator, &app, "/operateur/anomalies?jours=180").await;
        assert_eq!(other_window.matches("3 chèques du même carnet").count(), 2, "{other_window}");
        let funder = signed_in(&app, "sources@metropole.fr", Actor::Funder(p.funder.id)).await;
        assert_eq!(text(&funder, &app, "/operateur/anomalies").await.0, 403);

        // 60 € used: État 39,00 €, FEDER 21,00 €.
        let path = format!("/commanditaire/commandes/{}/financements", p.order.id.0);
        let (st, html) = text(&funder, &app, &path).await;
        assert_eq!(st, 200);
        assert!(html.contains("<th scope=\"row\">État</th><td>65"), "{html}");
        assert!(html.contains("<td>39,00\u{a0}€</td>") && html.contains("<td>21,00\u{a0}€</td>") && html.contains("<td>60,00\u{a0}€</td>"), "{html}");
        let csv = funder.get(app.url(&format!("{path}?format=csv"))).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains("\nÉtat;65") && csv.contains(";3900;0;0;") && csv.contains("\nTotal;;"), "{csv}");
        let r = funder.get(app.url(&format!("{path}?format=pdf"))).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let pdf = r.bytes().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.pdf"), &pdf).unwrap();
        let out = std::process::Command::new("pdftotext").arg(dir.path().join("f.pdf")).arg("-").output().expect("pdftotext (poppler-utils)");
        let txt = String::from_utf8_lossy(&out.stdout);
        assert!(txt.contains("FEDER") && txt.contains("utilisé dans les lieux 21,00"), "{txt}");
        // The year, all orders together; another funder's order is not found.
        let (st, html) = text(&funder, &app, "/commanditaire/financements?annee=2026").await;
        assert_eq!(st, 200);
        assert!(html.contains("<td>39,00\u{a0}€</td>"), "{html}");
        assert_eq!(text(&funder, &app, "/commanditaire/financements?annee=1999").await.0, 404);
        let other = s.create_funder("Département du Rhône", "departement", t0()).await.unwrap();
        let stranger = signed_in(&app, "sources@rhone.fr", Actor::Funder(other.id)).await;
        assert_eq!(text(&stranger, &app, &path).await.0, 404);
    }
}

api_test! {
    async fn the_public_programme_page_shows_published_figures_with_small_counts_secret(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(ccas, 2)], "tests", t0()).await.unwrap();
        for n in 1..=2 {
            s.hand_out(ccas, None, p.order.id, n, &lyon, &handout_for_publics(&[]), t0()).await.unwrap();
        }
        let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: p.codes[0], service_code: "2.1.07".into(), workshop_id: None, now: t0(), idempotency: None };
        assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        // Without an account: two booklets and one cheque are "secret", nowhere a 2 or a 1.
        let (st, html) = text(&reqwest::Client::new(), &app, "/programme").await;
        assert_eq!(st, 200);
        assert!(html.contains("<th scope=\"row\">juin 2026</th><td>secret</td><td>secret</td><td>secret</td><td>0,00\u{a0}€</td><td>0</td>"), "{html}");
        assert!(html.contains("<th scope=\"row\">Rhône (69)</th><td>secret</td><td>secret</td><td>secret</td><td>0,00\u{a0}€</td><td>0</td>"), "{html}");
        assert!(html.contains("<svg class=\"pn-chart\""), "{html}");
    }
}

api_test! {
    async fn a_structure_pages_through_more_than_fifty_handouts(app) {
        let s = app.store();
        let funder = s.create_funder("Métropole", "metropole", t0()).await.unwrap();
        let order = s.create_order(funder.id, &order_2026(51, &["69"]), t0()).await.unwrap();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(order.id, &[(ccas, 51)], "tests", t0()).await.unwrap();
        for n in 1..=51 {
            s.hand_out(ccas, None, order.id, n, &lyon, &handout_for_publics(&[]), t0().plus_ms(n * 60_000)).await.unwrap();
        }
        let agent = signed_in(&app, "agent@ccas.fr", Actor::Distributor(ccas)).await;
        let shown = |html: &str| html.matches("<span class=\"fr-sr-only\"> pour le carnet n° ").count();
        let (_, newest) = text(&agent, &app, "/structure").await;
        assert_eq!(shown(&newest), 50);
        assert!(newest.contains("pour le carnet n° 51<") && !newest.contains("pour le carnet n° 1<"), "newest first");
        assert!(newest.contains("href=\"/structure?remises=50#remises\">Remises plus anciennes") && !newest.contains("Remises plus récentes"));
        let (_, oldest) = text(&agent, &app, "/structure?remises=50").await;
        assert_eq!(shown(&oldest), 1);
        assert!(oldest.contains("pour le carnet n° 1<") && oldest.contains("href=\"/structure?remises=0#remises\">Remises plus récentes"), "{oldest}");
        assert!(!oldest.contains(">Remises plus anciennes</a>"));
    }
}
