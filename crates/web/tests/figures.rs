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
        s.allocate_booklets(p.order.id, &[(ccas, 2)], t0()).await.unwrap();
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
        s.allocate_booklets(p.order.id, &[(ccas, 2)], t0()).await.unwrap();
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
