//! The web pages over real HTTP, on SQLite and PostgreSQL: sign-in, CSRF, the scan page,
//! isolation between venues, the funder's export. Browser behaviour itself is tested in
//! Chromium by e2e/.

mod common;

use common::*;
use passnum_core::Timestamp;
use passnum_store::{Actor, RedemptionScope};
use reqwest::Client;

const SIRET_B: &str = "21692660000000";
const PASSWORD: &str = "une phrase de passe assez longue";

async fn staff(app: &TestApp, email: &str, actor: Actor) {
    let hash = passnum_app::passwords::hash_password(PASSWORD.into())
        .await
        .unwrap();
    app.store()
        .create_staff(email, "Personne", &hash, actor, t0())
        .await
        .unwrap();
}

async fn page(client: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

api_test! {
    async fn a_mediator_of_venue_a_cannot_see_or_cancel_venue_b(app) {
        let a = programme(&app, "Métropole", "21690123000005").await;
        let b = venue(app.store(), SIRET_B, "Lieu B", "69266").await;
        staff(&app, "b@lieu.fr", Actor::Venue(b.id)).await;
        let (st, r) = json(app.post(&a.venue_token, "/api/v1/redemptions", &serde_json::json!({"code": a.codes[0].grouped(), "service_code": "2.1.07"})).await).await;
        assert_eq!(st, 201, "{r}");
        let id = r["id"].as_i64().unwrap();
        let (client, resp) = sign_in(&app, "b@lieu.fr", PASSWORD).await;
        assert_eq!(resp.status(), 303);
        assert_eq!(resp.headers()["location"], "/lieu");
        let (st, html) = page(&client, &app, "/lieu").await;
        assert_eq!(st, 200);
        assert!(!html.contains(&a.codes[0].grouped()), "venue B sees venue A's redemption");
        let csrf = field(&html, "csrf");
        let (st, question) = page(&client, &app, &format!("/lieu/encaissements/{id}/annuler")).await;
        assert_eq!(st, 200);
        assert!(question.contains("ne peut plus être annulé depuis cette page"), "{question}");
        assert!(!question.contains(&a.codes[0].grouped()));
        let r = client.post(app.url(&format!("/lieu/encaissements/{id}/annuler"))).form(&[("csrf", csrf.as_str()), ("confirme", "1")]).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("Annulation refusée"), "{html}");
        assert!(html.contains("introuvable pour votre lieu"));
        let still = app.store().list_redemptions(RedemptionScope::Venue(a.venue.id), 0, 10).await.unwrap();
        assert!(still[0].rolled_back_at.is_none());
        // Nor the funder's or operator's pages.
        assert_eq!(page(&client, &app, "/commanditaire").await.0, 403);
        assert_eq!(page(&client, &app, "/operateur/lieux").await.0, 403);
    }
}

api_test! {
    async fn cancelling_a_redemption_asks_once_more_before_the_cheque_is_usable_again(app) {
        let a = programme(&app, "Métropole", "21690123000005").await;
        staff(&app, "a@lieu.fr", Actor::Venue(a.venue.id)).await;
        let code = a.codes[0].grouped();
        let (st, r) = json(app.post(&a.venue_token, "/api/v1/redemptions", &serde_json::json!({"code": code, "service_code": "2.1.07"})).await).await;
        assert_eq!(st, 201, "{r}");
        let id = r["id"].as_i64().unwrap();
        let (client, _) = sign_in(&app, "a@lieu.fr", PASSWORD).await;
        let (_, html) = page(&client, &app, "/lieu").await;
        let csrf = field(&html, "csrf");
        let question = format!("/lieu/encaissements/{id}/annuler");
        assert!(html.contains(&format!("href=\"{question}\"")), "the scan page links to the question");
        // One click on an old form (no "confirme"): back to the question, nothing undone.
        let r = client.post(app.url(&question)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], question.as_str());
        let rows = app.store().list_redemptions(RedemptionScope::Venue(a.venue.id), 0, 10).await.unwrap();
        assert!(rows[0].rolled_back_at.is_none());
        let (st, html) = page(&client, &app, &question).await;
        assert_eq!(st, 200);
        assert!(html.contains(&code) && html.contains("10,00"), "{html}");
        assert!(html.contains("Oui, annuler l'encaissement"), "{html}");
        let r = client.post(app.url(&question)).form(&[("csrf", csrf.as_str()), ("confirme", "1")]).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("Encaissement annulé"), "{html}");
        let rows = app.store().list_redemptions(RedemptionScope::Venue(a.venue.id), 0, 10).await.unwrap();
        assert!(rows[0].rolled_back_at.is_some());
        // Asked again once cancelled: nothing left to confirm.
        let (_, html) = page(&client, &app, &question).await;
        assert!(html.contains("ne peut plus être annulé depuis cette page"), "{html}");
    }
}

api_test! {
    async fn a_double_submit_redeems_once_and_a_stale_form_keeps_the_input(app) {
        let a = programme(&app, "Métropole", "21690123000005").await;
        staff(&app, "a@lieu.fr", Actor::Venue(a.venue.id)).await;
        let (client, _) = sign_in(&app, "a@lieu.fr", PASSWORD).await;
        let (_, html) = page(&client, &app, "/lieu").await;
        let (csrf, key) = (field(&html, "csrf"), field(&html, "cle"));
        let code = a.codes[0].grouped();
        let form = [("csrf", csrf.as_str()), ("cle", key.as_str()), ("code", code.as_str()), ("service", "2.1.07")];
        let (first, second) = tokio::join!(
            client.post(app.url("/lieu/encaisser")).form(&form).send(),
            client.post(app.url("/lieu/encaisser")).form(&form).send()
        );
        for r in [first.unwrap(), second.unwrap()] {
            assert_eq!(r.status(), 200);
            assert!(r.text().await.unwrap().contains("Pass accepté : 10,00"));
        }
        assert_eq!(app.store().order_counts(a.order.id).await.unwrap().redeemed, 1);
        // A form whose CSRF token does not match: explained, and the typed code is kept.
        let typed = a.codes[1].grouped();
        let r = client.post(app.url("/lieu/encaisser"))
            .form(&[("csrf", "perime"), ("cle", "k2"), ("code", typed.as_str()), ("service", "2.1.07")]).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("Le formulaire a expiré"));
        assert!(html.contains(&format!("value=\"{typed}\"")));
        assert_eq!(app.store().order_counts(a.order.id).await.unwrap().redeemed, 1);
        // Empty and absurd input: an error summary, inline messages, never a 500.
        let long = "x".repeat(5000);
        for form in [vec![("csrf", csrf.as_str())], vec![("csrf", csrf.as_str()), ("code", long.as_str()), ("service", "")]] {
            let r = client.post(app.url("/lieu/encaisser")).form(&form).send().await.unwrap();
            assert_eq!(r.status(), 422);
            let html = r.text().await.unwrap();
            assert!(html.contains("id=\"erreurs\""));
            assert!(html.contains("id=\"code-erreur\""));
            assert!(html.contains("id=\"service-erreur\""));
        }
        let r = client.post(app.url("/lieu/encaisser")).header("content-type", "application/x-www-form-urlencoded").body("%%%").send().await.unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
}

api_test! {
    async fn sign_in_is_throttled_and_pages_need_a_session(app) {
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let anonymous = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = anonymous.get(app.url("/operateur")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/connexion?suite=/operateur&expiree=1");
        // A form sent once the session has expired: back to the page that showed it (its
        // script refills the code), not to the form's address, which answers POST only.
        let form = [("csrf", "x"), ("code", "ABCDE-FGHJK-MNPQR")];
        let shown_again = app.url("/lieu/encaisser");
        for (referer, back) in [(Some(app.url("/lieu?x=1")), "suite=/lieu&"), (Some(shown_again), ""), (None, "")] {
            let mut post = anonymous.post(app.url("/lieu/encaisser")).form(&form);
            if let Some(r) = referer {
                post = post.header("referer", r);
            }
            let r = post.send().await.unwrap();
            assert_eq!(r.status(), 303);
            // Without a page to name, the member's home page after signing in.
            assert_eq!(r.headers()["location"], format!("/connexion?{back}expiree=1").as_str());
        }
        for _ in 0..5 {
            let (_, r) = sign_in(&app, "op@passnum.fr", "mauvais mot de passe").await;
            assert_eq!(r.status(), 422);
            assert!(r.text().await.unwrap().contains("Adresse ou mot de passe incorrect"));
        }
        // Even the right password waits now: a minute after the fifth attempt…
        let (_, r) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "60");
        assert!(r.text().await.unwrap().contains("Réessayez dans 1 minute"));
        app.clock.advance_ms(60_000);
        let (_, r) = sign_in(&app, "op@passnum.fr", "toujours faux").await;
        assert_eq!(r.status(), 422);
        // …then two minutes after the sixth: each wait doubles.
        let (_, r) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        assert_eq!(r.status(), 429);
        assert!(r.text().await.unwrap().contains("Réessayez dans 2 minutes"));
        app.clock.advance_ms(2 * 60_000);
        // Once the wait is over the right password works, and signing out ends the session.
        let (client, r) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        assert_eq!(r.headers()["location"], "/operateur");
        let (st, html) = page(&client, &app, "/operateur").await;
        assert_eq!(st, 200);
        assert!(html.contains("Balance équilibrée"));
        let csrf = field(&html, "csrf");
        client.post(app.url("/deconnexion")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(page(&client, &app, "/operateur").await.0, 303);
    }
}

api_test! {
    async fn the_funder_filters_and_exports_its_redemptions(app) {
        let a = programme(&app, "Métropole A", "21690123000005").await;
        let b = programme(&app, "Métropole B", SIRET_B).await;
        for (p, code) in [(&a, a.codes[0]), (&b, b.codes[0])] {
            let (st, _) = json(app.post(&p.venue_token, "/api/v1/redemptions", &serde_json::json!({"code": code.grouped(), "service_code": "2.1.07"})).await).await;
            assert_eq!(st, 201);
        }
        staff(&app, "f@metropole.fr", Actor::Funder(a.funder.id)).await;
        let (client, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        let (_, html) = page(&client, &app, "/commanditaire").await;
        assert!(html.contains(&format!("data-testid=\"encaisses-{}\">1<", a.order.id)));
        // Its order with its booklets; another funder's order is not found.
        let (st, html) = page(&client, &app, &format!("/commanditaire/commandes/{}", a.order.id)).await;
        assert_eq!(st, 200);
        assert!(html.contains("<td>1</td><td>10</td><td>1</td>"), "booklet 1: 10 cheques, 1 used");
        assert!(html.contains("Vous serez prévenu 30 jours avant la fin de validité"));
        app.store().run_closing_steps(Timestamp::from_offset_datetime(time::macros::datetime!(2026-12-20 12:00 UTC))).await.unwrap();
        let (_, html) = page(&client, &app, &format!("/commanditaire/commandes/{}", a.order.id)).await;
        assert!(html.contains("J-30 : les chèques sont valables jusqu&#39;au 31/12/2026"));
        assert!(html.contains("J-15 : distribution arrêtée"));
        assert_eq!(page(&client, &app, &format!("/commanditaire/commandes/{}", b.order.id)).await.0, 404);
        let (st, html) = page(&client, &app, "/commanditaire/encaissements?du=15/06/2026&au=15/06/2026").await;
        assert_eq!(st, 200);
        assert!(html.contains(&a.codes[0].grouped()));
        assert!(html.contains(&format!("<td>{}</td><td>{}</td>", a.venue.name, "2.1.07")), "the venue by its name: {html}");
        assert!(!html.contains(&b.codes[0].grouped()), "another funder's redemption leaked");
        let (_, html) = page(&client, &app, "/commanditaire/encaissements?du=16/06/2026").await;
        assert!(!html.contains(&a.codes[0].grouped()));
        let (st, html) = page(&client, &app, "/commanditaire/encaissements?du=demain&commande=x").await;
        assert_eq!(st, 422);
        assert!(html.contains("id=\"du-erreur\"") && html.contains("id=\"commande-erreur\""));
        assert!(html.contains("value=\"demain\""));
        // The prepayment invoice and the monthly usage statement.
        let (st, html) = page(&client, &app, &format!("/commanditaire/commandes/{}/facture", a.order.id)).await;
        assert_eq!(st, 200);
        assert!(html.contains(&format!("PN-2026-{:06}", a.order.id.0)) && html.contains("200,00\u{a0}€"));
        assert_eq!(page(&client, &app, &format!("/commanditaire/commandes/{}/facture", b.order.id)).await.0, 404);
        let (_, html) = page(&client, &app, "/commanditaire/releve?mois=2026-06").await;
        assert!(html.contains("<strong>1</strong> chèques utilisés, <strong>10,00\u{a0}€</strong>"), "{html}");
        assert!(html.contains(&format!("<th scope=\"row\">{}</th><td>Lyon</td><td>1</td><td>10,00\u{a0}€</td>", a.venue.name)), "the venue by name: {html}");
        let (_, html) = page(&client, &app, "/commanditaire/releve?mois=2026-07").await;
        assert!(html.contains("<strong>0</strong> chèques utilisés"));
        let (st, html) = page(&client, &app, "/commanditaire/releve?mois=juin").await;
        assert_eq!(st, 422);
        assert!(html.contains("id=\"mois-erreur\""));
        // The month as the page shows it (MM/AAAA) reads the same.
        let (_, html) = page(&client, &app, "/commanditaire/releve?mois=06/2026").await;
        assert!(html.contains("<strong>1</strong> chèques utilisés") && html.contains("value=\"06/2026\""), "{html}");
        // Both documents as PDF files too, read back with pdftotext.
        let read_pdf = |bytes: Vec<u8>| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("d.pdf"), &bytes).unwrap();
            let out = std::process::Command::new("pdftotext").arg(dir.path().join("d.pdf")).arg("-").output().expect("pdftotext (poppler-utils)");
            String::from_utf8(out.stdout).unwrap()
        };
        for (url, words) in [
            (format!("/commanditaire/commandes/{}/facture?format=pdf", a.order.id), vec![format!("PN-2026-{:06}", a.order.id.0), "Total à prépayer : 200,00".to_string()]),
            ("/commanditaire/releve?mois=06/2026&format=pdf".to_string(), vec![format!("{} (Lyon) : 1 chèque, 10,00", a.venue.name), "Total : 1 chèque, 10,00".to_string()]),
        ] {
            let r = client.get(app.url(&url)).send().await.unwrap();
            assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "application/pdf"), "{url}");
            let text = read_pdf(r.bytes().await.unwrap().to_vec()).replace(['\u{a0}', '\u{202f}'], " ");
            for w in words {
                assert!(text.contains(&w), "{url}: {w} in {text}");
            }
        }
        let r = client.get(app.url("/commanditaire/encaissements.csv")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert_eq!(csv.lines().count(), 2);
        assert!(csv.contains(&format!("{};{}", a.codes[0].grouped(), a.order.id)));
    }
}

api_test! {
    async fn venues_give_bank_details_and_the_operator_pays_them(app) {
        let a = programme(&app, "Métropole", "21690123000005").await;
        let b = venue(app.store(), SIRET_B, "Lieu B", "69266").await;
        staff(&app, "a@lieu.fr", Actor::Venue(a.venue.id)).await;
        staff(&app, "b@lieu.fr", Actor::Venue(b.id)).await;
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        for c in &a.codes[..2] {
            let (st, _) = json(app.post(&a.venue_token, "/api/v1/redemptions", &serde_json::json!({"code": c.grouped(), "service_code": "2.1.07"})).await).await;
            assert_eq!(st, 201);
        }
        let (venue, _) = sign_in(&app, "a@lieu.fr", PASSWORD).await;
        let (_, html) = page(&venue, &app, "/lieu/paiements").await;
        assert!(html.contains("Aucune coordonnée bancaire"));
        assert!(html.contains("20,00\u{a0}€"), "amount owed");
        let csrf = field(&html, "csrf");
        let r = venue.post(app.url("/lieu/paiements")).form(&[("csrf", csrf.as_str()), ("iban", "FR7630006000011234567890188"), ("bic", "AGRIFRPP"), ("holder", "Lieu A")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"iban-erreur\"") && html.contains("value=\"FR7630006000011234567890188\""));
        let r = venue.post(app.url("/lieu/paiements")).form(&[("csrf", csrf.as_str()), ("iban", "FR76 3000 6000 0112 3456 7890 189"), ("bic", "AGRIFRPP"), ("holder", "Lieu A")]).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("attendent la confirmation de l'opérateur"));
        // The operator confirms, previews, prepares and confirms a run.
        app.clock.advance_ms(2 * 24 * 3_600_000);
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let (_, html) = page(&op, &app, "/operateur/virements").await;
        let csrf = field(&html, "csrf");
        // The venue by its name, linked to its file (where its telephone number is), to call it.
        assert!(html.contains(&format!("<td><a href=\"/operateur/lieux/{}\">{}</a></td>", a.venue.id, a.venue.name)), "{html}");
        let accounts = app.store().bank_accounts(a.venue.id).await.unwrap();
        let r = op.post(app.url(&format!("/operateur/lieux/{}/coordonnees/{}/confirmer", a.venue.id, accounts[0].id))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (st, html) = page(&op, &app, "/operateur/virements?cutoff=15/06/2026&fee=4").await;
        assert_eq!(st, 200);
        assert!(html.contains("19,20\u{a0}€"), "net after 4 %");
        let (st, html) = page(&op, &app, "/operateur/virements?cutoff=2026-06-30&fee=abc").await;
        assert_eq!(st, 422);
        assert!(html.contains("id=\"fee-erreur\""));
        assert!(html.contains("value=\"abc\""), "the input is kept");
        let r = op.post(app.url("/operateur/virements")).form(&[("csrf", csrf.as_str()), ("cutoff", "2026-06-15"), ("fee", "4")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let run = app.store().list_payment_runs(1, 0).await.unwrap().remove(0);
        assert_eq!(r.headers()["location"], format!("/operateur/virements/{}", run.id).as_str(), "to the new run's page");
        assert_eq!((run.cheques, run.net_cents), (2, 1920));
        // The run's own page: each venue with its statement; no SEPA file before confirming.
        let detail = format!("/operateur/virements/{}", run.id);
        let (st, html) = page(&op, &app, &detail).await;
        assert_eq!(st, 200);
        assert!(html.contains("une fois le virement confirmé") && !html.contains("Télécharger le fichier SEPA"), "{html}");
        let sepa = format!("{detail}/sepa");
        let good = [("csrf", csrf.as_str()), ("debtor_name", "Opérateur du Pass Numérique"), ("debtor_iban", "FR76 3000 6000 0112 3456 7890 189"), ("debtor_bic", "AGRIFRPP"), ("execution", "20/06/2026")];
        let r = op.post(app.url(&sepa)).form(&good).send().await.unwrap();
        assert_eq!(r.status(), 409, "a draft has no SEPA file");
        assert!(r.text().await.unwrap().contains("confirmez-le avant d&#39;en télécharger le fichier SEPA"));
        // Confirming asks for the box "checked"; then the run's page is where the operator lands.
        let r = op.post(app.url(&format!("/operateur/virements/{}", run.id))).form(&[("csrf", csrf.as_str()), ("action", "confirmer")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"verifie-erreur\"") && html.contains("un virement confirmé ne change plus"), "{html}");
        assert_eq!(app.store().payment_run(run.id).await.unwrap().status, passnum_store::RunStatus::Draft);
        let confirm = [("csrf", csrf.as_str()), ("action", "confirmer"), ("verifie", "1")];
        let r = op.post(app.url(&format!("/operateur/virements/{}", run.id))).form(&confirm).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], format!("/operateur/virements/{}", run.id));
        let r = op.post(app.url(&format!("/operateur/virements/{}", run.id))).form(&confirm).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("déjà confirmé"));
        let (_, html) = page(&op, &app, "/operateur/virements").await;
        assert!(html.contains(&format!("href=\"{detail}\"")), "the list links to the run");
        let (_, html) = page(&op, &app, &detail).await;
        assert!(html.contains("<th scope=\"row\">Lieu Métropole</th><td>2</td><td>20,00\u{a0}€</td><td>0,80\u{a0}€</td><td>0,00\u{a0}€</td><td>19,20\u{a0}€</td><td>Lieu A (…0189)</td>"), "{html}");
        let statement = format!("{detail}/releves/{}.csv", a.venue.id.0);
        let csv = op.get(app.url(&statement)).send().await.unwrap().text().await.unwrap();
        assert!(csv.lines().last().unwrap().starts_with("TOTAL;;;;;20,00;0,80;19,20"), "{csv}");
        assert_eq!(page(&op, &app, &format!("{detail}/releves/999999.csv")).await.0, 404);
        // Every statement at once: a ZIP with each venue's CSV (the same file) and PDF.
        assert!(html.contains(&format!("href=\"{detail}/releves.zip\"")));
        let r = op.get(app.url(&format!("{detail}/releves.zip"))).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "application/zip"));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
        let stem = format!("releve-{}-lieu-{}", run.id, a.venue.id.0);
        let mut names: Vec<String> = archive.file_names().map(|n| n.unwrap().to_string()).collect();
        names.sort();
        assert_eq!(names, [format!("{stem}.csv"), format!("{stem}.pdf")]);
        let mut zipped = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(&format!("{stem}.csv")).unwrap(), &mut zipped).unwrap();
        assert_eq!(zipped, csv);
        let mut pdf = vec![];
        std::io::Read::read_to_end(&mut archive.by_name(&format!("{stem}.pdf")).unwrap(), &mut pdf).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(page(&op, &app, "/operateur/virements/999999/releves.zip").await.0, 404);
        // Mistakes are said next to their field, what was typed is kept, nothing downloads.
        let r = op.post(app.url(&sepa)).form(&[("csrf", csrf.as_str()), ("debtor_name", ""), ("debtor_iban", "FR76 0000"), ("debtor_bic", "AGRIFRPP"), ("execution", "01/01/2020")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        for field in ["debtor_name", "debtor_iban", "execution"] {
            assert!(html.contains(&format!("id=\"{field}-erreur\"")), "{field}: {html}");
        }
        assert!(html.contains("value=\"FR76 0000\"") && !html.contains("id=\"debtor_bic-erreur\""));
        let r = op.post(app.url(&sepa)).form(&good).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/xml; charset=utf-8");
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("virement-{}.xml", run.id)));
        let xml = r.text().await.unwrap();
        assert!(xml.contains("<InstdAmt Ccy=\"EUR\">19.20</InstdAmt>") && xml.contains("<ReqdExctnDt>2026-06-20</ReqdExctnDt>"), "{xml}");
        assert!(xml.contains("+02:00</CreDtTm>"), "Paris summer time with its offset: {xml}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.xml"), &xml).unwrap();
        let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/pain.001.001.03.xsd");
        let out = std::process::Command::new("xmllint").args(["--noout", "--schema", xsd]).arg(dir.path().join("v.xml")).output().expect("xmllint (libxml2-utils)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // Two days later the venue's session has expired (36 h): it signs in again, sees the
        // payment and downloads its statement; another venue cannot.
        assert_eq!(page(&venue, &app, "/lieu/paiements").await.0, 303);
        let (venue, _) = sign_in(&app, "a@lieu.fr", PASSWORD).await;
        let (_, html) = page(&venue, &app, "/lieu/paiements").await;
        assert!(html.contains(&format!("/lieu/releves/{}.csv", run.id)));
        let csv = venue.get(app.url(&format!("/lieu/releves/{}.csv", run.id))).send().await.unwrap().text().await.unwrap();
        assert_eq!(csv.lines().count(), 4);
        // Each cheque line names the service and the funder, looked up once for the statement.
        let cheque_line = csv.lines().find(|l| l.contains(&a.codes[0].grouped())).expect("the cheque's line");
        assert!(cheque_line.contains(";Métropole;"), "{cheque_line}");
        assert!(cheque_line.contains(";2.1.07;") && !cheque_line.contains(";2.1.07;;"), "{cheque_line}");
        assert!(csv.lines().last().unwrap().starts_with("TOTAL;;;;;20,00;0,80;19,20"), "{csv}");
        let pdf = venue.get(app.url(&format!("/lieu/releves/{}.pdf", run.id))).send().await.unwrap();
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let bytes = pdf.bytes().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.pdf"), &bytes).unwrap();
        let text = std::process::Command::new("pdftotext").arg(dir.path().join("r.pdf")).arg("-").output().expect("pdftotext (poppler-utils)");
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains(&format!("relevé du virement n° {}", run.id)), "{text}");
        assert!(text.contains("Total : 2 chèques"));
        assert!(text.contains(&a.codes[0].grouped()));
        let (other, _) = sign_in(&app, "b@lieu.fr", PASSWORD).await;
        assert_eq!(page(&other, &app, &format!("/lieu/releves/{}.pdf", run.id)).await.0, 404);
        assert_eq!(page(&other, &app, &format!("/lieu/releves/{}.csv", run.id)).await.0, 404);
        assert_eq!(page(&other, &app, "/operateur/virements").await.0, 403);
        // The operator corrects a cheque paid wrongly, by the code on the statement; a code
        // that was never paid is explained and the input kept.
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let (_, html) = page(&op, &app, "/operateur/virements").await;
        let csrf = field(&html, "csrf");
        let unpaid = a.codes[5].grouped();
        let r = op.post(app.url("/operateur/virements/corrections")).form(&[("csrf", csrf.as_str()), ("redemption", unpaid.as_str()), ("reason", "doublon")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"redemption-erreur\"") && html.contains(&format!("value=\"{unpaid}\"")), "{html}");
        let paid = a.codes[0].grouped();
        let r = op.post(app.url("/operateur/virements/corrections")).form(&[("csrf", csrf.as_str()), ("redemption", paid.as_str()), ("reason", "atelier non tenu")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&op, &app, "/operateur/virements").await;
        assert!(html.contains("Corrections en attente") && html.contains(&paid) && html.contains("atelier non tenu"));
        // Paid at 4 %: the funder gets 10 € back, the venue gives back the 9,60 € it received.
        assert!(html.contains("<td>10,00\u{a0}€</td><td>9,60\u{a0}€</td><td>atelier non tenu</td>"), "{html}");
        // The next run of the venue takes it back, and its page says what to refund to whom.
        let at = Timestamp::from_offset_datetime(time::macros::datetime!(2026-06-16 10:00 UTC));
        for code in [a.codes[2], a.codes[3]] {
            let r = passnum_store::RedeemRequest { venue_id: a.venue.id, code, service_code: "2.1.07".into(), workshop_id: None, now: at, idempotency: None };
            assert!(matches!(app.store().redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        }
        let r = op.post(app.url("/operateur/virements")).form(&[("csrf", csrf.as_str()), ("cutoff", "16/06/2026"), ("fee", "4")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&op, &app, r.headers()["location"].to_str().unwrap()).await;
        assert!(html.contains("À rembourser aux commanditaires") && html.contains(&format!("<th scope=\"row\"><a href=\"/operateur/commanditaires/{}\">{}</a></th><td>1</td><td>10,00\u{a0}€</td>", a.funder.id.0, a.funder.name)), "{html}");
        assert!(html.contains("Ils seront payés par le fichier SEPA une fois le virement confirmé"), "a draft owes nothing yet");
        // Once the run is confirmed, the funder's monthly statement shows the refund.
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let run2: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
        let june = "/commanditaire/releve?mois=06/2026";
        staff(&app, "f@metropole.fr", Actor::Funder(a.funder.id)).await;
        let (funder, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        assert!(!page(&funder, &app, june).await.1.contains("Remboursements dus"), "nothing before the run is confirmed");
        app.store().confirm_payment_run(run2, passnum_app::clock::Clock::now(app.clock.as_ref())).await.unwrap();
        let html = page(&funder, &app, june).await.1;
        assert!(html.contains("Remboursements dus ce mois-ci") && html.contains(&format!("<td>{paid}</td><td>atelier non tenu</td><td>10,00\u{a0}€</td>")), "{html}");
        let r = funder.get(app.url("/commanditaire/releve?mois=06/2026&format=pdf")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/pdf");
        the_sepa_file_pays_the_funder_refund(&app, &op, &csrf, run2, a.funder.id).await;
    }
}

/// Run `run` refunds 10 € to `funder`: its SEPA file is refused until the operator records the
/// funder's refund account, then pays the refund there, next to the venue's transfer.
async fn the_sepa_file_pays_the_funder_refund(
    app: &TestApp,
    op: &reqwest::Client,
    csrf: &str,
    run: i64,
    funder: passnum_core::FunderId,
) {
    let sepa = format!("/operateur/virements/{run}/sepa");
    let good = [
        ("csrf", csrf),
        ("debtor_name", "Opérateur du Pass Numérique"),
        ("debtor_iban", "FR76 3000 6000 0112 3456 7890 189"),
        ("debtor_bic", "AGRIFRPP"),
        ("execution", "20/06/2026"),
    ];
    let (_, html) = page(op, app, &format!("/operateur/virements/{run}")).await;
    assert!(html.contains("À saisir"), "no refund account yet: {html}");
    let r = op.post(app.url(&sepa)).form(&good).send().await.unwrap();
    assert_eq!(r.status(), 409, "no file that forgets a refund");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("n&#39;a pas de compte de remboursement")
    );
    // The funders' list says which account is missing; the funder's page records it.
    let (_, html) = page(op, app, "/operateur/commanditaires").await;
    assert!(
        html.contains(&format!(
            "<a href=\"/operateur/commanditaires/{}\">",
            funder.0
        )) && html.contains("<td>À saisir</td>")
            && html.contains("<td>Métropole</td>"),
        "{html}"
    );
    let url = format!("/operateur/commanditaires/{}", funder.0);
    let r = op
        .post(app.url(&url))
        .form(&[
            ("csrf", csrf),
            ("iban", "FR76 3000 1007 9412 3456 7890 186"),
            ("bic", "TRPUFRP1"),
            ("holder", "DRFIP Rhône"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"iban-erreur\"") && html.contains("value=\"DRFIP Rhône\""),
        "{html}"
    );
    assert!(
        app.store()
            .funder_accounts(funder)
            .await
            .unwrap()
            .is_empty(),
        "nothing recorded"
    );
    let r = op
        .post(app.url(&url))
        .form(&[
            ("csrf", csrf),
            ("iban", "FR76 3000 1007 9412 3456 7890 185"),
            ("bic", "BDFEFRPP"),
            ("holder", "DRFIP Rhône"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Compte de remboursement enregistré")
    );
    let (_, html) = page(op, app, &format!("/operateur/virements/{run}")).await;
    assert!(html.contains("<td>DRFIP Rhône (…0185)</td>"), "{html}");
    let r = op.post(app.url(&sepa)).form(&good).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let xml = r.text().await.unwrap();
    let refund = xml
        .split("<CdtTrfTxInf>")
        .find(|t| t.contains(&format!("PASSNUM-{run}-F{}", funder.0)))
        .expect("the refund's transfer");
    assert!(
        refund.contains("<InstdAmt Ccy=\"EUR\">10.00</InstdAmt>")
            && refund.contains("<IBAN>FR7630001007941234567890185</IBAN>")
            && refund.contains("DRFIP Rhone"),
        "{refund}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v.xml"), &xml).unwrap();
    let xsd = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/pain.001.001.03.xsd"
    );
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(dir.path().join("v.xml"))
        .output()
        .expect("xmllint (libxml2-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

api_test! {
    async fn an_agent_hands_out_at_the_counter_and_prints_the_orientation(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let mine = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        let other = s.create_distributor("CCAS de Bron", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(mine, 1), (other, 1)], "tests", t0()).await.unwrap();
        staff(&app, "agent@ccas.fr", Actor::Distributor(mine)).await;
        staff(&app, "autre@ccas.fr", Actor::Distributor(other)).await;
        let (client, r) = sign_in(&app, "agent@ccas.fr", PASSWORD).await;
        assert_eq!(r.headers()["location"], "/structure");
        let (st, html) = page(&client, &app, "/structure").await;
        assert_eq!(st, 200);
        assert!(html.contains("CCAS de Lyon"));
        assert!(html.contains(&format!("carnet={}-1", p.order.id.0)));
        assert!(!html.contains(&format!("carnet={}-2", p.order.id.0)), "another structure's booklet is not listed");
        assert_eq!(page(&client, &app, "/lieu").await.0, 403);
        assert_eq!(page(&client, &app, "/commanditaire").await.0, 403);

        // The lowest booklet of the stock comes preselected; the household fields only show
        // when an order of the stock allows one booklet per household.
        let (_, html) = page(&client, &app, "/structure/remise").await;
        assert!(html.contains(&format!("value=\"{}-1\" selected", p.order.id.0)), "{html}");
        assert!(!html.contains("id=\"foyer\""), "no household rule, no household fields");
        let rules = s.order_rules(p.order.id).await.unwrap();
        s.set_order_rules(p.order.id, rules.target_only, true).await.unwrap();
        assert!(page(&client, &app, "/structure/remise").await.1.contains("id=\"foyer\""));
        s.set_order_rules(p.order.id, rules.target_only, false).await.unwrap();
        let (_, html) = page(&client, &app, &format!("/structure/remise?carnet={}-1", p.order.id.0)).await;
        let csrf = field(&html, "csrf");
        let carnet = format!("{}-1", p.order.id.0);
        let mut form = vec![
            ("csrf", csrf.as_str()), ("carnet", carnet.as_str()), ("besoin", "online_procedures"), ("besoin", "email"),
            ("equipement", "phone_only"), ("niveau", "never"), ("public", "senior"), ("code_postal", "69210"),
        ];
        // No consent, and a postcode with several communes: both explained, nothing written.
        let r = client.post(app.url("/structure/remise")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"erreurs\""));
        assert!(html.contains("plusieurs communes"), "{html}");
        assert!(html.contains("value=\"online_procedures\" checked"), "answers are kept");
        assert!(html.contains("L&#39;Arbresle") && html.contains("Sain-Bel"), "the communes of 69210 to choose from");
        // 69001 is Lyon 1er Arrondissement only: a city and its arrondissement are no choice.
        form.retain(|(k, _)| *k != "code_postal");
        form.push(("code_postal", "69001"));
        let r = client.post(app.url("/structure/remise")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("La personne doit donner son accord"));
        assert_eq!(s.distributor_stock_count(mine).await.unwrap(), 1);

        form.push(("consentement", "1"));
        let r = client.post(app.url("/structure/remise")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let slip = r.headers()["location"].to_str().unwrap().to_string();
        let (st, html) = page(&client, &app, &slip).await;
        assert_eq!(st, 200);
        assert!(html.contains("Lieu Métropole"));
        assert!(html.contains("dans la même commune"));
        assert!(html.contains("Chèques valables jusqu'au 31/12/2026."), "{html}");
        assert!(html.contains("/verifier"), "where to check the pass");
        assert!(html.contains("data-print"));
        // The same booklet twice: refused with a sentence.
        let r = client.post(app.url("/structure/remise")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("Ce carnet a déjà été remis : remettez-en un autre.<"), "a whole sentence, once: {html}");
        // The agent finds the handout again by the booklet's printed number; another
        // structure's agent finds nothing, and cannot read this handout.
        let r = client.get(app.url(&format!("/structure?carnet={carnet}"))).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, slip.as_str()));
        for (typed, says) in [(format!("{}-99", p.order.id.0), "n&#39;a pas remis ce carnet"), ("douze".to_string(), "par exemple 1-12")] {
            let (st, html) = page(&client, &app, &format!("/structure?carnet={typed}")).await;
            assert_eq!(st, 200);
            assert!(html.contains("id=\"carnet-cherche-erreur\"") && html.contains(says) && html.contains(&format!("value=\"{typed}\"")), "{typed}: {html}");
        }
        let (other_client, _) = sign_in(&app, "autre@ccas.fr", PASSWORD).await;
        assert_eq!(page(&other_client, &app, &slip).await.0, 404);
        let (_, html) = page(&other_client, &app, &format!("/structure?carnet={carnet}")).await;
        assert!(html.contains("id=\"carnet-cherche-erreur\""), "{html}");
        assert_eq!(s.distribution_stats(p.order.id).await.unwrap().handed_out, 1);
        // The structure follows its own booklets: one cheque of the booklet handed out used.
        let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: p.codes[0], service_code: "2.1.07".into(), workshop_id: None, now: t0(), idempotency: None };
        assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        let (_, home) = page(&client, &app, "/structure").await;
        assert!(home.contains("<th scope=\"row\">Remis à une personne</th><td>1</td>"), "{home}");
        assert!(home.contains("<th scope=\"row\">Avec au moins un chèque utilisé</th><td>1 (100\u{a0}% des carnets remis)</td>"), "{home}");
        let (_, theirs) = page(&other_client, &app, "/structure").await;
        assert!(theirs.contains("<th scope=\"row\">Reçus</th><td>1</td>") && theirs.contains("<th scope=\"row\">Chèques utilisés</th><td>0</td>"), "{theirs}");
        // The person lost the booklet: nothing happens without the confirmation box, then
        // its unused cheques are blocked; another structure's agent cannot do it.
        let (_, html) = page(&client, &app, &slip).await;
        let csrf = field(&html, "csrf");
        let block = format!("{slip}/bloquer");
        let r = other_client.post(app.url(&block)).form(&[("csrf", field(&page(&other_client, &app, "/structure").await.1, "csrf").as_str()), ("motif", "perdu"), ("confirmation", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let r = client.post(app.url(&block)).form(&[("csrf", csrf.as_str()), ("motif", "perdu")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Carnet non bloqué"));
        let r = client.post(app.url(&block)).form(&[("csrf", csrf.as_str()), ("motif", "vole"), ("confirmation", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("Les 9 chèques non utilisés"));
    }
}

api_test! {
    async fn a_mediatheque_that_is_venue_and_structure_has_one_account_and_both_menus(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let d = s.create_structure("Médiathèque", "mediatheque", &lyon, Some(p.venue.id), t0()).await.unwrap();
        staff(&app, "m@mediatheque.fr", Actor::Venue(p.venue.id)).await;
        staff(&app, "a@mediatheque.fr", Actor::Distributor(d.id)).await;
        let other = s.create_distributor("CCAS", "ccas", &lyon, t0()).await.unwrap();
        staff(&app, "a@ccas.fr", Actor::Distributor(other.id)).await;
        for email in ["m@mediatheque.fr", "a@mediatheque.fr"] {
            let (client, _) = sign_in(&app, email, PASSWORD).await;
            for path in ["/lieu", "/structure", "/lieu/ateliers", "/structure/remise"] {
                let (st, html) = page(&client, &app, path).await;
                assert_eq!(st, 200, "{email} on {path}");
                assert!(html.contains("href=\"/lieu\"") && html.contains("href=\"/structure/remise\""), "both menus for {email}: {html}");
            }
        }
        // A structure of its own is not a venue.
        let (ccas, _) = sign_in(&app, "a@ccas.fr", PASSWORD).await;
        assert_eq!(page(&ccas, &app, "/lieu").await.0, 403);
        assert_eq!(page(&ccas, &app, "/structure").await.0, 200);
    }
}

api_test! {
    async fn the_funder_declares_member_territories_and_shares_in_two_stages(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        staff(&app, "f@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (client, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        let list = format!("/commanditaire/commandes/{}/territoires", p.order.id.0);
        let (st, html) = page(&client, &app, &list).await;
        assert_eq!(st, 200);
        assert!(html.contains("Aucun territoire n'a encore rejoint"), "{html}");
        let csrf = field(&html, "csrf");
        let declare = |name: &str, codes: &str, delib: &str| {
            let form = vec![("csrf", csrf.clone()), ("nom", name.to_string()), ("communes", codes.to_string()),
                ("deliberation", delib.to_string()), ("deliberation_date", "12/03/2026".to_string())];
            client.post(app.url(&list)).form(&form).send()
        };
        // Outside the Rhône, or without its délibération: a sentence under the field, what was typed kept.
        let r = declare("Paris", "75056", "D-1").await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"communes-erreur\"") && html.contains("hors du périmètre"), "{html}");
        assert!(html.contains("value=\"Paris\""), "{html}");
        let r = declare("Lyon", "69123", "").await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"deliberation-erreur\""));
        let r = declare("Lyon", "69123", "2026-045").await.unwrap();
        assert_eq!(r.status(), 303);
        let territory = r.headers()["location"].to_str().unwrap().to_string();
        let t = passnum_core::TerritoryId(territory.rsplit('/').next().unwrap().parse().unwrap());
        let r = declare("Lyon 3e", "69383", "2026-046").await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("est déjà dans le territoire « Lyon »"));
        assert_eq!(s.territories_of(p.order.id).await.unwrap().len(), 1);
        let ccas = s.create_distributor("CCAS Lyon 3e", "ccas", &passnum_core::InseeCode::parse_known("69383").unwrap(), t0()).await.unwrap().id;
        let mairie = s.create_distributor("Mairie de Villeurbanne", "mairie", &passnum_core::InseeCode::parse_known("69266").unwrap(), t0()).await.unwrap().id;
        let (st, html) = page(&client, &app, &territory).await;
        assert_eq!(st, 200);
        assert!(html.contains("Lyon (69123)") && html.contains("n° 2026-045 du 12/03/2026"), "{html}");
        assert!(html.contains("CCAS Lyon 3e") && !html.contains("Mairie de Villeurbanne"), "its own structures only: {html}");
        // Its convention, signed later: both parts or a sentence.
        let convention = format!("{territory}/convention");
        let r = client.post(app.url(&convention)).form(&[("csrf", csrf.as_str()), ("convention", "CM-7"), ("convention_date", "")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"convention-erreur\""));
        let r = client.post(app.url(&convention)).form(&[("csrf", csrf.as_str()), ("convention", "CM-7"), ("convention_date", "15/04/2026")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(page(&client, &app, &territory).await.1.contains("n° CM-7 du 15/04/2026"));
        // Its documents: PDF only.
        let upload = |kind: &str, name: &str, bytes: Vec<u8>| {
            let form = reqwest::multipart::Form::new().text("csrf", csrf.clone()).text("kind", kind.to_string())
                .part("document", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
            client.post(app.url(&format!("{territory}/pieces"))).multipart(form).send()
        };
        let pdf = b"%PDF-1.4 deliberation".to_vec();
        assert_eq!(upload("deliberation", "Délibération.pdf", pdf.clone()).await.unwrap().status(), 303);
        let r = upload("autre", "scan.png", b"\x89PNG\r\n\x1a\n....".to_vec()).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("pas un PDF"));
        let r = upload("", "d.pdf", pdf.clone()).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"kind-erreur\""));
        let docs = s.territory_documents(p.order.id, t).await.unwrap();
        assert_eq!(docs.len(), 1);
        let doc_url = format!("{territory}/pieces/{}", docs[0].id);
        let (_, html) = page(&client, &app, &territory).await;
        assert!(html.contains(&doc_url) && html.contains("Délibération"), "{html}");
        let r = client.get(app.url(&doc_url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
        // Stage one: preview, then commit, the funder's two booklets to the territory.
        let allocate = |path: String, form: Vec<(&'static str, String)>| client.post(app.url(&path)).form(&form).send();
        let stage1 = format!("{list}/repartition");
        let r = allocate(stage1.clone(), vec![("csrf", csrf.clone()), ("etape", "apercu".into()), ("fixe", "0".into()), ("population", "1".into())]).await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("<td>{}</td><td>Lyon</td><td>2</td>", t.0)), "{html}");
        let parts = field(&html, "parts");
        assert_eq!(s.unallocated_booklets(p.order.id).await.unwrap(), 2, "a preview moves nothing");
        let r = allocate(stage1, vec![("csrf", csrf.clone()), ("etape", "valider".into()), ("parts", parts)]).await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(s.territory(p.order.id, t).await.unwrap().in_stock, 2);
        // The funder's figures show the step its territories now hold.
        let (_, figures) = page(&client, &app, "/commanditaire/chiffres").await;
        assert!(figures.contains("<th scope=\"row\">Répartis aux territoires membres</th><td>2</td>"), "{figures}");
        // Stage two: a structure outside the territory is refused; its own takes both.
        let stage2 = format!("{territory}/repartition");
        let r = allocate(stage2.clone(), vec![("csrf", csrf.clone()), ("etape", "valider".into()), ("parts", format!("{}:1", mairie.0))]).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("pas sur une commune du territoire"));
        let r = allocate(stage2.clone(), vec![("csrf", csrf.clone()), ("etape", "apercu".into()), ("fixe", "0".into()), ("population", "1".into())]).await.unwrap();
        assert_eq!(r.status(), 200);
        let parts = field(&r.text().await.unwrap(), "parts");
        assert_eq!(parts, format!("{}:2", ccas.0));
        // The funder designates the territory's referent, who shares its booklets.
        let r = client.post(app.url(&format!("{territory}/referents"))).form(&[("csrf", csrf.as_str()), ("name", ""), ("email", "ref@lyon.fr")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let r = client.post(app.url(&format!("{territory}/referents"))).form(&[("csrf", csrf.as_str()), ("name", "Référente Lyon"), ("email", "ref@lyon.fr")]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Compte créé pour ref@lyon.fr") && html.contains("Référente Lyon (ref@lyon.fr)"), "{html}");
        staff(&app, "referent@lyon.fr", Actor::Referent(t)).await;
        let (referent, _) = sign_in(&app, "referent@lyon.fr", PASSWORD).await;
        let (st, home) = page(&referent, &app, "/territoire").await;
        assert_eq!(st, 200);
        assert!(home.contains("Territoire Lyon") && home.contains("CCAS Lyon 3e") && !home.contains("Mairie de Villeurbanne"), "{home}");
        assert!(home.contains("<strong id=\"stock\">2</strong>"), "{home}");
        assert_eq!(page(&referent, &app, &territory).await.0, 403, "a referent has no funder pages");
        let rcsrf = field(&home, "csrf");
        let share = |parts: String| referent.post(app.url("/territoire/repartition")).form(&[("csrf", rcsrf.clone()), ("etape", "valider".into()), ("parts", parts)]).send();
        // Outside its territory: refused, nothing moved.
        let r = share(format!("{}:1", mairie.0)).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("pas sur une commune du territoire"));
        assert_eq!(s.territory(p.order.id, t).await.unwrap().in_stock, 2);
        let r = share(parts).await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/territoire"));
        assert_eq!(s.distribution_of(p.order.id).await.unwrap().iter().map(|d| (d.distributor_id, d.in_stock)).collect::<Vec<_>>(), [(ccas, 2)]);
        let last = s.allocation_moves(p.order.id).await.unwrap().pop().unwrap();
        assert_eq!(last.decided_by.as_deref(), Some("Personne <referent@lyon.fr>"), "who decided is recorded");
        let (_, html) = page(&client, &app, &format!("/commanditaire/commandes/{}", p.order.id.0)).await;
        assert!(html.contains("<td>Votre stock</td><td>Territoire Lyon</td><td>2</td>") && html.contains("<td>Territoire Lyon</td><td>CCAS Lyon 3e</td><td>2</td>"), "{html}");
        // Another funder sees neither the territory nor its documents.
        let other = programme(&app, "Département", "21690123100011").await;
        staff(&app, "f@departement.fr", Actor::Funder(other.funder.id)).await;
        let (stranger, _) = sign_in(&app, "f@departement.fr", PASSWORD).await;
        assert_eq!(stranger.get(app.url(&territory)).send().await.unwrap().status(), 404);
        assert_eq!(stranger.get(app.url(&doc_url)).send().await.unwrap().status(), 404);
    }
}

api_test! {
    async fn the_funder_corrects_a_territory_s_name_and_communes_from_its_page(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let t = passnum_core::member_territory::NewTerritory::parse("Est lyonnais", "69266", ("D-1", "12/03/2026"), ("", "")).unwrap();
        let t = s.declare_territory(p.order.id, &t, "tests", t0()).await.unwrap();
        staff(&app, "f@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (client, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        let path = format!("/commanditaire/commandes/{}/territoires/{}", p.order.id.0, t.id);
        let (_, html) = page(&client, &app, &path).await;
        assert!(html.contains(">69266</textarea>"), "{html}");
        // The délibération as declared, in the form's own format.
        assert!(html.contains("value=\"D-1\"") && html.contains("value=\"12/03/2026\""), "{html}");
        let csrf = field(&html, "csrf");
        let post = |codes: &'static str| client.post(app.url(&format!("{path}/correction"))).form(&[("csrf", csrf.as_str()), ("nom", "Est lyonais"), ("communes", codes), ("deliberation", "D-1"), ("deliberation_date", "12/03/2026")]).send();
        // Outside the perimeter: said under the field, the codes typed kept, nothing changed.
        let r = post("69266, 75056").await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"communes-erreur\"") && html.contains("hors du périmètre") && html.contains(">69266, 75056</textarea>"), "{html}");
        assert_eq!(s.territory(p.order.id, t.id).await.unwrap().communes, ["69266"]);
        assert!(html.contains("value=\"Est lyonais\""), "the name typed is kept");
        // A name already taken, whatever its case: said under the name.
        s.declare_territory(p.order.id, &passnum_core::member_territory::NewTerritory::parse("Ville de Lyon", "69123", ("D-2", "12/03/2026"), ("", "")).unwrap(), "tests", t0()).await.unwrap();
        let r = client.post(app.url(&format!("{path}/correction"))).form(&[("csrf", csrf.as_str()), ("nom", "ville de lyon"), ("communes", "69266"), ("deliberation", "D-1"), ("deliberation_date", "12/03/2026")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"nom-erreur\""));
        // A délibération date typed wrongly: said under the date, linked from the summary.
        let r = client.post(app.url(&format!("{path}/correction"))).form(&[("csrf", csrf.as_str()), ("nom", "Est lyonnais"), ("communes", "69266"), ("deliberation", "D-10"), ("deliberation_date", "31/02/2026")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"deliberation_date-erreur\"") && html.contains("href=\"#deliberation_date\"") && html.contains("value=\"D-10\""), "{html}");
        assert_eq!(s.territory(p.order.id, t.id).await.unwrap().deliberation_ref, "D-1");
        let r = post("69266, 69029").await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, path.as_str()));
        let corrected = s.territory(p.order.id, t.id).await.unwrap();
        assert_eq!((corrected.name.as_str(), corrected.communes.clone()), ("Est lyonais", vec!["69029".to_string(), "69266".to_string()]));
        let r = client.post(app.url(&format!("{path}/correction"))).form(&[("csrf", csrf.as_str()), ("nom", "Est lyonais"), ("communes", "69029, 69266"), ("deliberation", "D-2026-011"), ("deliberation_date", "2026-03-13")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&client, &app, &path).await;
        assert!(html.contains("D-2026-011") && html.contains("13/03/2026"), "{html}");
        // Another funder cannot.
        let stranger = s.create_funder("Département du Nord", "departement", t0()).await.unwrap();
        staff(&app, "f@nord.fr", Actor::Funder(stranger.id)).await;
        let (other, _) = sign_in(&app, "f@nord.fr", PASSWORD).await;
        let their_csrf = field(&page(&other, &app, "/commanditaire").await.1, "csrf");
        let r = other.post(app.url(&format!("{path}/correction"))).form(&[("csrf", their_csrf.as_str()), ("nom", "Autre"), ("communes", "69266"), ("deliberation", "X"), ("deliberation_date", "12/03/2026")]).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(s.territory(p.order.id, t.id).await.unwrap().communes, ["69029", "69266"]);
    }
}

api_test! {
    async fn the_funder_moves_booklets_by_hand_and_sets_its_rules(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let a = s.create_distributor("CCAS A", "ccas", &lyon, t0()).await.unwrap().id;
        let b = s.create_distributor("CCAS B", "ccas", &lyon, t0()).await.unwrap().id;
        staff(&app, "f@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (client, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        let order_page = format!("/commanditaire/commandes/{}", p.order.id.0);
        let (st, html) = page(&client, &app, &order_page).await;
        assert_eq!(st, 200);
        let csrf = field(&html, "csrf");
        let post = |path: String, form: Vec<(&'static str, String)>| {
            let client = client.clone();
            let url = app.url(&path);
            async move { client.post(url).form(&form).send().await.unwrap() }
        };
        let moved = format!("{order_page}/deplacer");
        // From the funder's stock to A, then from A to B.
        let r = post(moved.clone(), vec![("csrf", csrf.clone()), ("depuis", "stock".into()), ("vers", a.0.to_string()), ("nombre", "2".into())]).await;
        assert_eq!(r.status(), 303);
        let r = post(moved.clone(), vec![("csrf", csrf.clone()), ("depuis", a.0.to_string()), ("vers", b.0.to_string()), ("nombre", "1".into())]).await;
        assert_eq!(r.status(), 303);
        let d = s.distribution_of(p.order.id).await.unwrap();
        assert_eq!(d.iter().map(|x| x.in_stock).collect::<Vec<_>>(), [1, 1]);
        // More than A holds, or no number: a sentence, and nothing moves.
        let r = post(moved.clone(), vec![("csrf", csrf.clone()), ("depuis", a.0.to_string()), ("vers", b.0.to_string()), ("nombre", "5".into())]).await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("transférez-en au plus autant"));
        let r = post(moved.clone(), vec![("csrf", csrf.clone()), ("depuis", "stock".into()), ("vers", b.0.to_string()), ("nombre", "".into())]).await;
        assert_eq!(r.status(), 422);
        assert_eq!(s.distribution_of(p.order.id).await.unwrap().iter().map(|x| x.in_stock).collect::<Vec<_>>(), [1, 1]);
        // Both moves are listed, newest first, each with its procès-verbal.
        let moves = s.allocation_moves(p.order.id).await.unwrap();
        assert_eq!(moves.len(), 2);
        let (_, html) = page(&client, &app, &order_page).await;
        let pv_of = |m: &passnum_store::AllocationMove| format!("{order_page}/remises/{}.pdf", m.id);
        let (newest, oldest) = (html.find(&pv_of(&moves[1])), html.find(&pv_of(&moves[0])));
        assert!(newest.is_some() && oldest.is_some() && newest < oldest, "{html}");
        assert!(html.contains("<td>CCAS A</td><td>CCAS B</td><td>1</td>"), "{html}");
        let pv = pv_of(&moves[1]);
        let r = client.get(app.url(&pv)).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_string()), (200, "application/pdf".to_string()));
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
        assert_eq!(client.get(app.url(&format!("{order_page}/remises/999.pdf"))).send().await.unwrap().status(), 404);
        // Another funder sees neither the procès-verbal nor the inventory of this order.
        let other = programme(&app, "Département", "21690123100011").await;
        staff(&app, "f@departement.fr", Actor::Funder(other.funder.id)).await;
        let (stranger, _) = sign_in(&app, "f@departement.fr", PASSWORD).await;
        assert_eq!(stranger.get(app.url(&pv)).send().await.unwrap().status(), 404);
        assert_eq!(stranger.get(app.url(&format!("{order_page}/inventaire"))).send().await.unwrap().status(), 404);
        // The inventory today, then at a date typed wrong: a sentence under the field.
        let (st, html) = page(&client, &app, &format!("{order_page}/inventaire")).await;
        assert_eq!(st, 200);
        assert!(html.contains("<th scope=\"row\">CCAS A</th><td>2</td><td>1</td><td>0</td><td>0</td><td>1</td>"), "{html}");
        let (st, html) = page(&client, &app, &format!("{order_page}/inventaire?date=30%2F06")).await;
        assert_eq!(st, 422);
        assert!(html.contains("id=\"date-erreur\"") && html.contains("JJ/MM/AAAA"), "{html}");
        assert!(html.contains("value=\"30/06\""), "what was typed is kept: {html}");
        // The day before the order was issued: nothing existed yet.
        let (st, html) = page(&client, &app, &format!("{order_page}/inventaire?date=14%2F06%2F2026")).await;
        assert_eq!(st, 200);
        assert!(html.contains("pas encore émise le 14/06/2026"), "{html}");
        // Rules: target publics only is refused for an order without target publics.
        let rules = format!("{order_page}/regles-remise");
        let r = post(rules.clone(), vec![("csrf", csrf.clone()), ("publics_cibles", "1".into())]).await;
        assert_eq!(r.status(), 422);
        let r = post(rules, vec![("csrf", csrf.clone()), ("un_par_foyer", "1".into())]).await;
        assert_eq!(r.status(), 303);
        assert!(s.order_rules(p.order.id).await.unwrap().one_per_household);
        let (_, html) = page(&client, &app, &order_page).await;
        assert!(html.contains("id=\"un-par-foyer\" name=\"un_par_foyer\" value=\"1\" checked"));
    }
}

api_test! {
    async fn a_large_stock_is_paged_and_any_booklet_can_be_handed_out(app) {
        let s = app.store();
        let funder = s.create_funder("Département", "departement", t0()).await.unwrap();
        let order = s
            .create_order(
                funder.id,
                &passnum_core::NewOrder::parse(&passnum_core::order::OrderRequest {
                    booklet_count: 205,
                    cheques_per_booklet: 1,
                    face_value_cents: 1000,
                    valid_from: time::macros::date!(2026 - 01 - 01),
                    valid_until: time::macros::date!(2026 - 12 - 31),
                    tolerance_days: 30,
                    perimeter_communes: vec![],
                    perimeter_departements: vec![],
                    perimeter_epcis: vec![],
                    perimeter_regions: vec![],
                })
                .unwrap(),
                t0(),
            )
            .await
            .unwrap();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let d = s.create_distributor("CCAS", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(order.id, &[(d, 205)], "tests", t0()).await.unwrap();
        staff(&app, "agent@ccas.fr", Actor::Distributor(d)).await;
        let (client, _) = sign_in(&app, "agent@ccas.fr", PASSWORD).await;
        let (_, html) = page(&client, &app, "/structure").await;
        assert!(html.contains("1 à 200 sur 205"), "{html}");
        assert!(html.contains("/structure?depuis=200"));
        let (_, html) = page(&client, &app, "/structure?depuis=200").await;
        let last = format!("carnet={}-205", order.id.0);
        assert!(html.contains(&last));
        // The form offers the booklet chosen on the second page, and hands it out.
        let (_, html) = page(&client, &app, &format!("/structure/remise?{last}")).await;
        let value = format!("{}-205", order.id.0);
        assert!(html.contains(&format!("value=\"{value}\" selected")), "{html}");
        let csrf = field(&html, "csrf");
        let r = client
            .post(app.url("/structure/remise"))
            .form(&[
                ("csrf", csrf.as_str()), ("carnet", value.as_str()), ("besoin", "job_search"),
                ("equipement", "computer"), ("niveau", "basics"), ("code_postal", "69100"),
                ("consentement", "1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let h = s.handouts_of(d, 10, 0).await.unwrap();
        assert_eq!((h.len(), h[0].booklet_number, h[0].commune_insee.as_str()), (1, 205, "69266"));
    }
}

api_test! {
    async fn refusals_are_dsfr_pages_with_the_members_menu_and_a_stale_button_changes_nothing(app) {
        let a = programme(&app, "Métropole", "21690123000005").await;
        staff(&app, "f@metropole.fr", Actor::Funder(a.funder.id)).await;
        staff(&app, "a@lieu.fr", Actor::Venue(a.venue.id)).await;
        // Another role's page: 403, and the page keeps the member's own menu.
        let (venue, _) = sign_in(&app, "a@lieu.fr", PASSWORD).await;
        let (st, html) = page(&venue, &app, "/operateur").await;
        assert_eq!(st, 403);
        assert!(html.contains("Accès réservé") && html.contains("href=\"/lieu/paiements\""), "{html}");
        // Another funder's order, or none: the same "not found" page.
        let (funder, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        let (st, html) = page(&funder, &app, "/commanditaire/commandes/999999").await;
        assert_eq!(st, 404);
        assert!(html.contains("Commande introuvable") && html.contains("href=\"/commanditaire/releve\""), "{html}");
        // A one-button form with a stale token: "expired", and nothing is written.
        let before = app.store().order_rules(a.order.id).await.unwrap();
        let r = funder
            .post(app.url(&format!("/commanditaire/commandes/{}/regles-remise", a.order.id.0)))
            .form(&[("csrf", "perime"), ("publics_cibles", "on"), ("un_par_foyer", "on")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("Formulaire expiré") && html.contains("href=\"/commanditaire/releve\""), "{html}");
        assert_eq!(app.store().order_rules(a.order.id).await.unwrap(), before);
    }
}

api_test! {
    async fn a_venue_keeps_its_catalogue_from_its_page(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        staff(&app, "m@lieu.fr", Actor::Venue(p.venue.id)).await;
        let (client, _) = sign_in(&app, "m@lieu.fr", PASSWORD).await;
        let (st, html) = page(&client, &app, "/lieu/catalogue").await;
        assert_eq!(st, 200);
        assert!(html.contains(r#"<label class="fr-label" for="s_2.1.07">2.1.07"#), "every service has its label");
        let csrf = field(&html, "csrf");
        let post = |form: Vec<(&'static str, &'static str)>, csrf: String| {
            let (client, url) = (client.clone(), app.url("/lieu/catalogue"));
            async move {
                let mut form: Vec<(&str, String)> = form.into_iter().map(|(k, v)| (k, v.to_string())).collect();
                form.push(("csrf", csrf));
                client.post(url).form(&form).send().await.unwrap()
            }
        };
        let r = post(vec![("s_2.1.07", "collective"), ("s_1.1.01", "individual"), ("s_2.2.01", "")], csrf.clone()).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/lieu/catalogue?enregistre=1");
        let stored: Vec<String> = app.store().venue_catalogue(p.venue.id).await.unwrap().into_iter().map(|(c, f)| format!("{c} {}", f.as_str())).collect();
        assert_eq!(stored, ["1.1.01 individual", "2.1.07 collective"]);
        let (_, html) = page(&client, &app, "/lieu/catalogue?enregistre=1").await;
        assert!(html.contains("Catalogue enregistré : 2 services proposés."));
        assert!(html.contains(r#"<option value="collective" selected>"#));
        assert!(html.contains("Format changé : 1.1.01 (individuel), 2.1.07 (collectif) ; retiré : 1.1.02"), "the change is in the history");
        // Emptying the catalogue of a qualified venue: a sentence, nothing changed.
        let r = post(vec![("s_2.1.07", "")], csrf.clone()).await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("Un lieu qualifié garde au moins un service"));
        assert_eq!(app.store().venue_catalogue(p.venue.id).await.unwrap().len(), 2);
        // A stale form keeps what was chosen.
        let r = post(vec![("s_3.1.01", "both")], "perime".into()).await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("Votre saisie est conservée"));
        assert!(html.contains(r#"<select class="fr-select" id="s_3.1.01" name="s_3.1.01">"#));
        assert_eq!(app.store().venue_catalogue(p.venue.id).await.unwrap().len(), 2);
    }
}

api_test! {
    async fn people_find_venues_by_place_what_they_learn_and_how(app) {
        let s = app.store();
        let make = |siret: &'static str, name: &'static str, commune: &'static str, status, entries: Vec<(&'static str, &'static str)>| async move {
            let v = s.create_venue(&passnum_store::NewVenue {
                siret: passnum_core::Siret::parse(siret).unwrap().into(),
                name: name.into(),
                commune: passnum_core::InseeCode::parse(commune).unwrap(),
                status: passnum_core::VenueStatus::Applied,
                qualified_until: None,
                address: format!("1 place de la Mairie ({name})"),
                contact: "04 00 00 00 00".into(),
                services: vec![],
            }, t0()).await.unwrap();
            let c = passnum_core::catalogue::Catalogue::parse(entries, |c| s.service_is_known(c)).unwrap();
            s.set_venue_catalogue(v.id, &c, None, t0()).await.unwrap();
            if status != passnum_core::VenueStatus::Applied {
                s.set_venue_status(v.id, &passnum_core::StatusDecision::new(status, "test"), None, t0()).await.unwrap();
            }
            v.id
        };
        use passnum_core::VenueStatus::*;
        let venissieux = make("21690123000005", "France Services", "69259", Qualified, vec![("2.2.01", "individual")]).await;
        make("44306184100047", "Médiathèque du 3e", "69383", Qualified, vec![("2.1.07", "collective")]).await;
        let applied = make("73282932000074", "Candidat de Vénissieux", "69259", Applied, vec![("2.2.01", "both")]).await;
        let anon = Client::new();
        let get = |path: String| {
            let anon = anon.clone();
            let url = app.url(&path);
            async move {
                let r = anon.get(url).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (st, html) = get("/lieux".into()).await;
        assert_eq!(st, 200);
        assert!(html.contains("<strong>2</strong> lieux trouvés"), "only qualified venues");
        assert!(html.contains("Vénissieux") && html.contains("Lyon 3e Arrondissement"), "commune names, not codes");
        assert!(!html.contains("Candidat"));
        let (_, html) = get("/lieux?q=VENISSIEUX".into()).await;
        assert!(html.contains("<strong>1</strong> lieu trouvé") && html.contains("France Services"), "{html}");
        let (_, html) = get("/lieux?q=Lyon".into()).await;
        assert!(html.contains("Médiathèque du 3e") && !html.contains("France Services"), "a city finds its arrondissements");
        let (_, html) = get("/lieux?q=69003".into()).await;
        assert!(html.contains("Médiathèque du 3e"), "by postcode");
        let (_, html) = get("/lieux?categorie=2.2".into()).await;
        assert!(html.contains("France Services") && !html.contains("Médiathèque du 3e"));
        let (_, html) = get("/lieux?format=collective".into()).await;
        assert!(!html.contains("France Services") && html.contains("Médiathèque du 3e"));
        let (_, html) = get("/lieux?q=Atlantide".into()).await;
        assert!(html.contains("Aucune commune ne s&#x27;appelle") || html.contains("Aucune commune ne s'appelle"), "{html}");
        // Bad input never breaks the page.
        for q in ["/lieux?page=-3", "/lieux?page=999999999999", "/lieux?format=%00", "/lieux?categorie=%27%3B"] {
            assert_eq!(get(q.into()).await.0, 200, "{q}");
        }
        // A venue's page: its services by category, with their format; none for a candidate.
        let (st, html) = get(format!("/lieux/{}", venissieux.0)).await;
        assert_eq!(st, 200);
        assert!(html.contains("Pôle Emploi : faire ses déclarations en ligne") && html.contains("(individuel)"), "{html}");
        assert_eq!(get(format!("/lieux/{}", applied.0)).await.0, 404);
        assert_eq!(get("/lieux/pas-un-nombre".into()).await.0, 404);
        // The référentiel, for anyone, with the standard's heading of each category.
        let (st, html) = get("/referentiel".into()).await;
        assert_eq!(st, 200);
        assert!(html.contains("Niveau 2 — Maîtriser"), "{html}");
        assert!(html.contains("2.2 Faire ses démarches en ligne <span class=\"fr-text--sm fr-text--regular\">(Aide aux démarches administratives)</span>"), "{html}");
        assert!(html.contains("2.1.07"));
    }
}

/// The application form as a browser sends it: every field, the chosen services, files.
fn application_form(
    csrf: &str,
    number: &str,
    email: &str,
    files: Vec<(&'static str, Vec<u8>)>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in [
        ("csrf", csrf),
        ("number", number),
        ("name", "Clic & Lien"),
        ("legal_representative", "Marie Dupont, présidente"),
        ("address", "3 rue Gambetta"),
        ("postcode", "69003"),
        ("commune", ""),
        ("contact", "04 72 00 00 00"),
        ("opening_hours", "mardi 14 h–18 h"),
        ("accessibility", ""),
        ("applicant_name", "Marie Dupont"),
        ("email", email),
        ("password", PASSWORD),
        ("charter", "1"),
        ("s_2.1.07", "collective"),
        ("s_2.2.01", ""),
    ] {
        form = form.text(k, v.to_string());
    }
    for (name, bytes) in files {
        form = form.part(
            "documents",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
    }
    form
}

api_test! {
    async fn a_venue_applies_is_asked_for_more_answers_and_is_qualified(app) {
        let browser = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let (st, html) = page(&browser, &app, "/candidature").await;
        assert_eq!(st, 200);
        assert!(html.contains("En rejoignant le programme Pass Numérique"), "the default charter until the operator writes one");
        let csrf = field(&html, "csrf");
        // A bad SIRET, a file that is not a document, no charter: every problem at once,
        // what was typed kept (never the password), nothing written.
        // (The charter box sent again, empty: the last value wins, as when it is unticked.)
        let bad = application_form(&csrf, "73282932000075", "marie@clic.fr", vec![("virus.exe", b"MZ\x90\x00".to_vec())])
            .text("charter", "");
        let r = browser.post(app.url("/candidature")).multipart(bad).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("Ce SIRET n&#39;est pas valide"), "{html}");
        assert!(html.contains("virus.exe"), "the refused file is named");
        assert!(html.contains("joignez-les à nouveau"));
        assert!(html.contains("value=\"Clic &amp;#38; Lien\"") || html.contains("value=\"Clic &#38; Lien\""), "typed fields are kept: {html}");
        assert!(!html.contains(PASSWORD), "the password never comes back");
        assert!(app.store().venues_in_status(&[passnum_core::VenueStatus::Applied], 10, 0).await.unwrap().is_empty());

        let pdf = b"%PDF-1.4 statuts".to_vec();
        let r = browser.post(app.url("/candidature")).multipart(application_form(&csrf, "W691234567", "marie@clic.fr", vec![("statuts.pdf", pdf.clone())])).send().await.unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        assert_eq!(r.headers()["location"], "/lieu/dossier?depose=1");
        let (st, html) = page(&browser, &app, "/lieu/dossier?depose=1").await;
        assert_eq!(st, 200, "the applicant is signed in");
        assert!(html.contains("Candidature enregistrée"));
        assert!(html.contains("Nouvelle candidature"));
        let venue = app.store().venues_in_status(&[passnum_core::VenueStatus::Applied], 10, 0).await.unwrap().remove(0);
        assert_eq!(venue.commune_insee, "69383", "69003 is Lyon 3e");
        assert_eq!(app.store().venue_catalogue(venue.id).await.unwrap(), vec![("2.1.07".to_string(), passnum_core::catalogue::ServiceFormat::Collective)]);

        // The same organisation again, from another browser: a sentence, no second venue.
        let other = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let csrf2 = field(&page(&other, &app, "/candidature").await.1, "csrf");
        let r = other.post(app.url("/candidature")).multipart(application_form(&csrf2, "W691234567", "autre@clic.fr", vec![])).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("appartient déjà à un lieu inscrit"));

        // The operator reads the file, downloads the document, asks for more.
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let (_, queue) = page(&op, &app, "/operateur/lieux").await;
        assert!(queue.contains("Clic &#38; Lien") && queue.contains("Nouvelle candidature (1)"), "{queue}");
        let (st, file) = page(&op, &app, &format!("/operateur/lieux/{}", venue.id)).await;
        assert_eq!(st, 200);
        assert!(file.contains("RNA W691234567") && file.contains("Marie Dupont, présidente") && file.contains("statuts.pdf"));
        let doc = app.store().venue_documents(venue.id).await.unwrap()[0].id;
        let r = op.get(app.url(&format!("/operateur/lieux/{}/documents/{doc}", venue.id))).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
        let csrf_op = field(&file, "csrf");
        let r = op.post(app.url(&format!("/operateur/lieux/{}/statut", venue.id))).form(&[("csrf", csrf_op.as_str()), ("status", "waiting"), ("until", ""), ("reason", "")]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("Indiquez le motif"));
        let r = op.post(app.url(&format!("/operateur/lieux/{}/statut", venue.id))).form(&[("csrf", csrf_op.as_str()), ("status", "waiting"), ("until", ""), ("reason", "Joignez vos statuts signés.")]).send().await.unwrap();
        assert_eq!(r.status(), 303);

        // The venue reads why, answers, and the file is back in the queue.
        let (_, html) = page(&browser, &app, "/lieu/dossier").await;
        assert!(html.contains("Joignez vos statuts signés."));
        let csrf = field(&html, "csrf");
        let r = browser.post(app.url("/lieu/dossier/reponse")).form(&[("csrf", csrf.as_str()), ("answer", "Statuts signés ajoutés.")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        // The operator qualifies it for a year.
        let r = op.post(app.url(&format!("/operateur/lieux/{}/statut", venue.id))).form(&[("csrf", csrf_op.as_str()), ("status", "qualified"), ("until", "2027-06-30"), ("reason", "")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, file) = page(&op, &app, &format!("/operateur/lieux/{}", venue.id)).await;
        for seen in ["Joignez vos statuts signés.", "Statuts signés ajoutés.", "Qualifié jusqu'au 30/06/2027"] {
            assert!(file.contains(seen), "history shows {seen}: {file}");
        }
        // Suspending stops the venue's scans at once: asked "Je confirme" first, the reason kept.
        let suspend = [("csrf", csrf_op.as_str()), ("status", "suspended"), ("until", ""), ("reason", "Contrôle en cours")];
        let url = format!("/operateur/lieux/{}/statut", venue.id);
        let r = op.post(app.url(&url)).form(&suspend).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"confirmation-erreur\"") && html.contains("Contrôle en cours"), "{html}");
        assert_eq!(app.store().get_venue(venue.id).await.unwrap().status, passnum_core::VenueStatus::Qualified);
        let r = op.post(app.url(&url)).form(&[suspend.as_slice(), &[("confirmation", "1")]].concat()).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(app.store().get_venue(venue.id).await.unwrap().status, passnum_core::VenueStatus::Suspended);
        let r = op.post(app.url(&url)).form(&[("csrf", csrf_op.as_str()), ("status", "qualified"), ("until", "2027-06-30"), ("reason", "Contrôle terminé")]).send().await.unwrap();
        assert_eq!(r.status(), 303, "qualifying again needs no confirmation");

        // The venue's administrator invites a mediator; a mediator cannot invite.
        let (_, html) = page(&browser, &app, "/lieu/dossier").await;
        let csrf = field(&html, "csrf");
        let r = browser.post(app.url("/lieu/equipe")).form(&[("csrf", csrf.as_str()), ("name", "Paul Médiateur"), ("email", "paul@clic.fr")]).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("Compte créé pour paul@clic.fr") && html.contains("/mot-de-passe/"), "{html}");
        let paul = app.store().staff_for_sign_in("paul@clic.fr").await.unwrap().unwrap().0;
        assert_eq!((paul.actor, paul.org_admin), (Actor::Venue(venue.id), false));
        let hash = passnum_app::passwords::hash_password(PASSWORD.into()).await.unwrap();
        app.store().create_staff("med@clic.fr", "Médiatrice", &hash, Actor::Venue(venue.id), t0()).await.unwrap();
        let (mediator, _) = sign_in(&app, "med@clic.fr", PASSWORD).await;
        let (_, html) = page(&mediator, &app, "/lieu/dossier").await;
        assert!(!html.contains("Inviter un médiateur"));
        let csrf = field(&html, "csrf");
        let r = mediator.post(app.url("/lieu/equipe")).form(&[("csrf", csrf.as_str()), ("name", "X"), ("email", "x@clic.fr")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(app.store().staff_for_sign_in("x@clic.fr").await.unwrap().is_none());

        // The operator writes the charter; the next applicants read that one.
        let r = op.post(app.url("/operateur/charte")).form(&[("csrf", csrf_op.as_str()), ("charter", "  ")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let r = op.post(app.url("/operateur/charte")).form(&[("csrf", csrf_op.as_str()), ("charter", "Charte de la Métropole : accueillir chacun.")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&Client::new(), &app, "/candidature").await;
        assert!(html.contains("Charte de la Métropole : accueillir chacun.") && !html.contains("En rejoignant le programme"));
    }
}

api_test! {
    async fn the_operator_deactivates_a_service_from_the_referentiel_page(app) {
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let (st, html) = page(&op, &app, "/operateur/referentiel").await;
        assert_eq!(st, 200);
        let csrf = field(&html, "csrf");
        let r = op.post(app.url("/operateur/referentiel")).form(&[("csrf", csrf.as_str()), ("code", "2.2.01"), ("active", "0"), ("standard", "Loisirs et créations numériques")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&op, &app, "/operateur/referentiel?enregistre=2.2.01").await;
        assert!(html.contains("Service 2.2.01 enregistré."));
        assert!(html.contains("<strong>désactivé</strong>") && html.contains("Loisirs et créations numériques (choisi)"));
        let r = op.post(app.url("/operateur/referentiel")).form(&[("csrf", csrf.as_str()), ("code", "0.0.00"), ("active", "0"), ("standard", "")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Choisissez un service de la liste."));
        // Offered no more: not on the public référentiel, not in a venue's catalogue form.
        let (_, public) = page(&Client::new(), &app, "/referentiel").await;
        assert!(!public.contains("2.2.01"));
        let v = venue(app.store(), "21690123000005", "Lieu", "69123").await;
        staff(&app, "m@lieu.fr", Actor::Venue(v.id)).await;
        let (m, _) = sign_in(&app, "m@lieu.fr", PASSWORD).await;
        let (_, form) = page(&m, &app, "/lieu/catalogue").await;
        assert!(form.contains("s_2.1.07") && !form.contains("s_2.2.01"));
    }
}

api_test! {
    async fn the_operator_adds_and_renames_a_service_from_the_referentiel_page(app) {
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let (_, html) = page(&op, &app, "/operateur/referentiel").await;
        assert!(html.contains("Aucun changement depuis le référentiel livré avec passnum."));
        let csrf = field(&html, "csrf");
        let post = |fields: Vec<(&'static str, &'static str)>| {
            let (op, url, csrf) = (op.clone(), app.url("/operateur/referentiel/service"), csrf.clone());
            async move {
                let mut form = vec![("csrf", csrf.as_str().to_string())];
                form.extend(fields.into_iter().map(|(k, v)| (k, v.to_string())));
                let r = op.post(url).form(&form).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        // A new category without its name: refused, what was typed kept, the field named.
        let (st, html) = post(vec![("code", "2.9.01"), ("name", "Visio & famille"), ("category_name", ""), ("level_name", "")]).await;
        assert_eq!(st, 422);
        assert!(html.contains("La catégorie 2.9 est nouvelle : donnez son nom.") && html.contains("href=\"#new_category_name\""), "{html}");
        assert!(html.contains("value=\"Visio &#38; famille\""));
        let (st, html) = post(vec![("code", "2.9"), ("name", "Visio"), ("category_name", "Se voir"), ("level_name", "")]).await;
        assert_eq!(st, 422);
        assert!(html.contains("Code de service invalide") && html.contains("id=\"new_code-erreur\""));
        let (st, _) = post(vec![("code", "2.9.01"), ("name", "Visio & famille"), ("category_name", "Se voir à distance"), ("level_name", "")]).await;
        assert_eq!(st, 303);
        let (_, html) = page(&op, &app, "/operateur/referentiel?enregistre=2.9.01").await;
        assert!(html.contains("Service 2.9.01 enregistré.") && html.contains("2.9 — Se voir à distance"));
        assert!(html.contains("Service créé : « Visio &#38; famille »") && html.contains("<td>Personne</td>"), "who: {html}");
        // Public at once.
        let (_, public) = page(&Client::new(), &app, "/referentiel").await;
        assert!(public.contains("Visio &#38; famille"));
        let (st, _) = post(vec![("code", "2.9.01"), ("name", "Visio en famille"), ("category_name", ""), ("level_name", "")]).await;
        assert_eq!(st, 303);
        let (_, html) = page(&op, &app, "/operateur/referentiel").await;
        assert!(html.contains("Service renommé : « Visio &#38; famille » → « Visio en famille »."));
        // Without signing in: nothing.
        let r = Client::new().post(app.url("/operateur/referentiel/service")).form(&[("code", "2.9.02")]).send().await.unwrap();
        assert_ne!(r.status(), 303);
        assert_eq!(app.store().list_services().await.unwrap().iter().filter(|s| s.category_code == "2.9").count(), 1);
    }
}

api_test! {
    async fn the_operator_confirms_or_dismisses_the_links_an_import_suggests(app) {
        let known = app.store().create_venue(&passnum_store::NewVenue {
            siret: passnum_core::Siret::parse("21690123000005").unwrap().into(),
            name: "Médiathèque Jean Macé".into(),
            commune: passnum_core::InseeCode::parse("69387").unwrap(),
            status: passnum_core::VenueStatus::Applied,
            qualified_until: None,
            address: "2 rue Domer".into(),
            contact: String::new(),
            services: vec![],
        }, t0()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coop.csv");
        std::fs::write(&path, "id,nom,commune,code_postal,adresse,date_maj\n\
            c1,Médiathèque Jean Macé,Lyon,69007,40 rue de Marseille,2026-11-30\n\
            c2,Médiathèque Jean-Macé,Lyon,69007,2 avenue Jean Jaurès,2026-11-30\n\
            c3,Fablab,Lyon,69007,9 rue Béchevelin,2026-11-30\n").unwrap();
        passnum_app::venue_import::import_venues(app.store(), &path, "coop", false, t0(), |_| {}).await.unwrap();
        assert_eq!(app.store().candidate_counts().await.unwrap(), (3, 0, 2));
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let (st, html) = page(&op, &app, "/operateur/candidats").await;
        assert_eq!(st, 200);
        assert!(html.contains("3 lieux importés") && html.contains("Confirmer") && !html.contains("Fablab"), "{html}");
        let rows = app.store().list_candidates(passnum_core::duplicates::Verdict::Suggest, 10, 0).await.unwrap();
        let csrf = field(&html, "csrf");
        let r = op.post(app.url(&format!("/operateur/candidats/{}", rows[0].id))).form(&[("csrf", csrf.as_str()), ("decision", "confirmer")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = op.post(app.url(&format!("/operateur/candidats/{}", rows[1].id))).form(&[("csrf", csrf.as_str()), ("decision", "ecarter")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(app.store().candidate_counts().await.unwrap(), (3, 1, 0));
        // Settled once: the same decision again is explained, nothing changes.
        let r = op.post(app.url(&format!("/operateur/candidats/{}", rows[1].id))).form(&[("csrf", csrf.as_str()), ("decision", "confirmer")]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("déjà été tranché"));
        assert_eq!(app.store().candidate_counts().await.unwrap(), (3, 1, 0));
        let (_, html) = page(&op, &app, "/operateur/candidats?vue=new").await;
        assert!(html.contains("Fablab"));
        let (_, html) = page(&op, &app, "/operateur/candidats?vue=link").await;
        assert!(html.contains(&format!("lieu n° {} : Médiathèque Jean Macé, 2 rue Domer", known.id.0)), "{html}");
    }
}

api_test! {
    async fn the_operator_opens_an_application_from_an_imported_place(app) {
        venue(app.store(), "21690123000005", "Déjà inscrit", "69123").await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coop.csv");
        let mut csv = String::from("id,pivot,nom,commune,code_postal,adresse,horaires,date_maj\n");
        for i in 0..55 {
            csv.push_str(&format!("c{i},,Lieu {i:02},Lyon,69007,{i} rue Béchevelin,,2026-11-30\n"));
        }
        csv.push_str("fab,21690123000005,Fablab & co,Lyon,69001,9 montée de la Grande-Côte,Mo 09:00-12:00,2026-11-30\n");
        std::fs::write(&path, csv).unwrap();
        passnum_app::venue_import::import_venues(app.store(), &path, "coop", false, t0(), |_| {}).await.unwrap();
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        // 56 places standing alone: 50 on the first page, the rest on the second.
        let (_, html) = page(&op, &app, "/operateur/candidats?vue=new").await;
        assert!(html.contains("Page suivante") && !html.contains("Page précédente"));
        assert_eq!(html.matches("href=\"/operateur/candidats/").count(), 50);
        let (_, html) = page(&op, &app, "/operateur/candidats?vue=new&page=2").await;
        assert_eq!(html.matches("href=\"/operateur/candidats/").count(), 6, "{html}");
        assert!(html.contains("Page précédente") && !html.contains("Page suivante"));
        let fab = app.store().list_candidates(passnum_core::duplicates::Verdict::New, 100, 0).await.unwrap().into_iter().find(|c| c.source_id == "fab").unwrap();
        let url = format!("/operateur/candidats/{}", fab.id);
        let (st, html) = page(&op, &app, &url).await;
        assert_eq!(st, 200);
        assert!(html.contains("<h1>Fablab &#38; co</h1>") && html.contains("Lyon 1er Arrondissement (69001)") && html.contains("Mo 09:00-12:00"), "{html}");
        assert!(html.contains("value=\"21690123000005\""), "the source's SIRET offered");
        let csrf = field(&html, "csrf");
        let open = |siret: &'static str| {
            let (op, url, csrf) = (op.clone(), app.url(&format!("{url}/dossier")), csrf.clone());
            async move {
                let r = op.post(url).form(&[("csrf", csrf.as_str()), ("siret", siret)]).send().await.unwrap();
                let to = r.headers().get("location").map(|l| l.to_str().unwrap().to_string());
                (r.status().as_u16(), to, r.text().await.unwrap())
            }
        };
        let (st, _, html) = open("123").await;
        assert_eq!(st, 422);
        assert!(html.contains("id=\"siret-erreur\"") && html.contains("value=\"123\""));
        let (st, _, html) = open("21690123000005").await;
        assert_eq!(st, 409);
        assert!(html.contains("appartient déjà à un lieu inscrit"), "{html}");
        let (st, to, _) = open("84712345000011").await;
        assert_eq!(st, 303);
        let to = to.unwrap();
        assert!(to.starts_with("/operateur/lieux/"));
        let (_, file) = page(&op, &app, &to).await;
        assert!(file.contains("Fablab &#38; co") && file.contains("Dossier ouvert depuis le lieu importé"), "{file}");
        let (_, html) = page(&op, &app, &url).await;
        assert!(html.contains(&format!("href=\"{to}\"")) && !html.contains("Ouvrir le dossier</button>"));
        let (st, _, html) = open("35600000000001").await;
        assert_eq!(st, 409);
        assert!(html.contains("déjà relié au lieu n°"));
        let (st, _) = page(&op, &app, "/operateur/candidats/999999").await;
        assert_eq!(st, 404);
    }
}

api_test! {
    async fn a_venue_ticks_the_publics_it_welcomes_on_its_catalogue_page(app) {
        let v = venue(app.store(), "21690123000005", "Lieu", "69123").await;
        staff(&app, "m@lieu.fr", Actor::Venue(v.id)).await;
        let (m, _) = sign_in(&app, "m@lieu.fr", PASSWORD).await;
        let (_, html) = page(&m, &app, "/lieu/catalogue").await;
        assert!(html.contains("Publics que vous accueillez en particulier") && html.contains("Déficience visuelle"));
        let csrf = field(&html, "csrf");
        // Seniors (pub_3) and hearing loss (sup_0), with one service.
        let r = m.post(app.url("/lieu/catalogue")).form(&[("csrf", csrf.as_str()), ("s_2.1.07", "both"), ("pub_3", "1"), ("sup_0", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let saved = app.store().get_venue(v.id).await.unwrap();
        assert_eq!((saved.publics.as_str(), saved.specific_support.as_str()), ("Seniors", "Surdité"));
        let (_, html) = page(&m, &app, "/lieu/catalogue").await;
        assert!(html.contains("id=\"pub_3\" name=\"pub_3\" value=\"1\" checked"), "ticked again on the page");
        // Practical information on the same page; a field not sent keeps its text.
        let r = m.post(app.url("/lieu/catalogue")).form(&[("csrf", csrf.as_str()), ("s_2.1.07", "both"), ("opening_hours", "mardi 9 h–12 h"), ("contact", "04 72 00 00 00")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = m.post(app.url("/lieu/catalogue")).form(&[("csrf", csrf.as_str()), ("s_2.1.07", "both"), ("accessibility", "plain-pied")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let saved = app.store().get_venue(v.id).await.unwrap();
        assert_eq!((saved.opening_hours.as_str(), saved.contact.as_str(), saved.accessibility.as_str()), ("mardi 9 h–12 h", "04 72 00 00 00", "plain-pied"));
        let long = "x".repeat(501);
        let r = m.post(app.url("/lieu/catalogue")).form(&[("csrf", csrf.as_str()), ("s_2.1.07", "both"), ("opening_hours", long.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("dépasse 500 caractères"));
        let r = m.post(app.url("/lieu/catalogue")).form(&[("csrf", csrf.as_str()), ("s_2.2.01", "both"), ("accessibility", long.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(app.store().venue_catalogue(v.id).await.unwrap()[0].0, "2.1.07", "a refused text saves nothing else");
    }
}

api_test! {
    async fn the_operator_is_asked_once_more_before_recording_a_payment_or_issuing(app) {
        let s = app.store();
        let funder = s.create_funder("Commune de Bron", "commune", t0()).await.unwrap();
        let draft = s.create_draft_order(funder.id, &order_2026(3, &["69"]), t0()).await.unwrap();
        s.confirm_order(draft.id, t0()).await.unwrap();
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let (_, list) = page(&op, &app, "/operateur/commandes").await;
        let step = format!("/operateur/commandes/{}/paiement", draft.id.0);
        assert!(list.contains(&format!("href=\"{step}\"")), "{list}");
        let (st, html) = page(&op, &app, &step).await;
        assert_eq!(st, 200);
        assert!(html.contains("Commune de Bron") && html.contains("300,00\u{a0}€") && html.contains("ne s&#39;annule pas"), "{html}");
        let csrf = field(&html, "csrf");
        // Without the box: nothing recorded.
        let r = op.post(app.url(&step)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"confirmation-erreur\""));
        assert_eq!(s.get_order(draft.id).await.unwrap().status, passnum_core::OrderStatus::Confirmed);
        let r = op.post(app.url(&step)).form(&[("csrf", csrf.as_str()), ("confirmation", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(s.get_order(draft.id).await.unwrap().status, passnum_core::OrderStatus::Paid);
        let issue = format!("/operateur/commandes/{}/emission", draft.id.0);
        let r = op.post(app.url(&issue)).form(&[("csrf", csrf.as_str()), ("confirmation", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(s.get_order(draft.id).await.unwrap().status, passnum_core::OrderStatus::Issued);
        assert_eq!(page(&op, &app, &format!("/operateur/commandes/{}/autre", draft.id.0)).await.0, 404);
        assert_eq!(page(&op, &app, "/operateur/commandes/999999/emission").await.0, 404);
    }
}

api_test! {
    async fn static_files_come_brotli_or_gzip_compressed_as_the_browser_accepts(app) {
        let client = Client::new();
        let fetch = |path: &str, offered: &'static str| {
            client.get(app.url(path)).header("accept-encoding", offered).send()
        };
        let css = "/static/dsfr/css/dsfr.min.css";
        let mut sizes = vec![];
        for (offered, coding) in [("gzip, deflate, br", Some("br")), ("gzip", Some("gzip")), ("identity", None)] {
            let r = fetch(css, offered).await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers().get("content-encoding").map(|v| v.to_str().unwrap()), coding, "{offered}");
            assert_eq!(r.headers()["vary"], "accept-encoding");
            sizes.push(r.bytes().await.unwrap().len());
        }
        assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "brotli < gzip < raw: {sizes:?}");
        // passnum's own files have no brotli copy: gzip, made at first use.
        let r = fetch("/static/app/scan.js", "br, gzip").await.unwrap();
        assert_eq!(r.headers()["content-encoding"], "gzip");
        // The QR decoder the scan page loads on demand is served too.
        let r = fetch("/static/vendor/jsqr/jsQR.min.js", "br").await.unwrap();
        assert_eq!((r.status().as_u16(), &r.headers()["content-encoding"]), (200, &"br".parse().unwrap()));
    }
}

api_test! {
    async fn the_operator_finds_an_account_by_address_or_name_page_by_page(app) {
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        for i in 0..60 {
            s.create_staff(&format!("mediateur{i:02}@lieu.fr"), &format!("Médiateur {i:02}"), "x", Actor::Venue(p.venue.id), t0()).await.unwrap();
        }
        s.create_staff("camille_dupont@ville.fr", "Camille Dupont", "x", Actor::Funder(p.funder.id), t0()).await.unwrap();
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        let rows = |html: &str| html.matches("Lien de mot de passe</button>").count();
        // 62 accounts: 50 on the first page, the rest on the second, with the organisation's name.
        let (st, first) = page(&op, &app, "/operateur/comptes").await;
        assert_eq!(st, 200);
        assert_eq!(rows(&first), 50);
        assert!(first.contains("Lieu : Lieu Métropole") && first.contains("Page suivante"), "{first}");
        let (_, second) = page(&op, &app, "/operateur/comptes?q=&page=2").await;
        assert_eq!(rows(&second), 12);
        assert!(second.contains("Commanditaire : Métropole") && second.contains("Page précédente") && !second.contains("Page suivante"));
        // By a part of the address or the name, in any case; LIKE's signs are plain letters.
        for q in ["dupont", "CAMILLE_", "Camille%20D"] {
            let (_, html) = page(&op, &app, &format!("/operateur/comptes?q={q}")).await;
            assert_eq!(rows(&html), 1, "{q}");
            assert!(html.contains("camille_dupont@ville.fr") && !html.contains("Page suivante"), "{q}");
        }
        let (_, html) = page(&op, &app, "/operateur/comptes?q=%25").await;
        assert_eq!(rows(&html), 0);
        assert!(html.contains("Aucun compte ne correspond à « % »"), "{html}");
        let (_, html) = page(&op, &app, "/operateur/comptes?q=mediateur0").await;
        assert_eq!(rows(&html), 10, "mediateur00 to mediateur09");
    }
}

api_test! {
    async fn long_lists_of_funders_orders_and_runs_are_paged(app) {
        let s = app.store();
        let p = programme(&app, "Métropole de Lyon", "21690123000005").await;
        for i in 1..=50 {
            s.create_funder(&format!("Commune n° {i:02}"), "commune", t0()).await.unwrap();
        }
        for _ in 0..20 {
            s.create_order(p.funder.id, &order_2026(1, &["69"]), t0()).await.unwrap();
        }
        for _ in 0..26 {
            sqlx::query("INSERT INTO payment_runs (cutoff_date, status, fee_basis_points, created_at, cancelled_at) VALUES ('2026-06-01', 'cancelled', 0, $1, $1)")
                .bind(t0().unix_ms()).execute(s.pool()).await.unwrap();
        }
        staff(&app, "op@passnum.fr", Actor::Operator).await;
        staff(&app, "f@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (op, _) = sign_in(&app, "op@passnum.fr", PASSWORD).await;
        // 51 funders: 50 on the first page, the 51st on the second, and a search finds it.
        let (_, first) = page(&op, &app, "/operateur/commanditaires").await;
        assert!(first.contains("Métropole de Lyon") && first.contains("Commune n° 49") && !first.contains("Commune n° 50"));
        assert!(first.contains("href=\"/operateur/commanditaires?q=&#38;page=2\""), "{first}");
        assert!(first.contains("<td>Métropole</td>") && first.contains("<option value=\"caf\">Caisse d&#39;allocations familiales</option>"), "kinds by their names");
        let (_, second) = page(&op, &app, "/operateur/commanditaires?q=&page=2").await;
        assert!(second.contains("Commune n° 50") && !second.contains("Commune n° 49") && !second.contains("page=3"));
        let (_, found) = page(&op, &app, "/operateur/commanditaires?q=n%C2%B0%2050").await;
        assert!(found.contains("Commune n° 50") && !found.contains("Commune n° 05<"), "{found}");
        let (_, none) = page(&op, &app, "/operateur/commanditaires?q=100%25").await;
        assert!(none.contains("Aucun commanditaire ne correspond à « 100% »"), "LIKE's signs are typed text: {none}");
        assert_eq!(page(&op, &app, "/operateur/commanditaires/999999").await.0, 404);
        // 26 runs: the newest 25, then the oldest alone.
        let (_, first) = page(&op, &app, "/operateur/virements").await;
        assert_eq!(first.matches(": détail du virement</span>").count(), 25);
        assert!(first.contains("href=\"/operateur/virements?page=2\""));
        let (_, second) = page(&op, &app, "/operateur/virements?page=2").await;
        assert_eq!(second.matches(": détail du virement</span>").count(), 1);
        assert!(second.contains(">n° 1<span"), "the oldest run last");
        // 21 orders for the funder: 20, then the first one made.
        let (funder, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        let (_, first) = page(&funder, &app, "/commanditaire").await;
        assert_eq!(first.matches("<a href=\"/commanditaire/commandes/").count(), 20);
        assert!(!first.contains(&format!("<a href=\"/commanditaire/commandes/{}\">", p.order.id.0)));
        let (_, second) = page(&funder, &app, "/commanditaire?page=2").await;
        assert!(second.contains(&format!("<a href=\"/commanditaire/commandes/{}\">", p.order.id.0)) && second.contains("page 2"));
    }
}

api_test! {
    async fn a_territory_declared_by_mistake_is_withdrawn_after_a_confirmation(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let declared = |name: &str, codes: &str| passnum_core::member_territory::NewTerritory::parse(name, codes, ("D-1", "12/03/2026"), ("", "")).unwrap();
        let t = s.declare_territory(p.order.id, &declared("Est lyonnais", "69266"), "tests", t0()).await.unwrap();
        staff(&app, "f@metropole.fr", Actor::Funder(p.funder.id)).await;
        let (client, _) = sign_in(&app, "f@metropole.fr", PASSWORD).await;
        let list = format!("/commanditaire/commandes/{}/territoires", p.order.id.0);
        let path = format!("{list}/{}", t.id);
        let (_, html) = page(&client, &app, &path).await;
        assert!(html.contains("Retirer ce territoire"), "{html}");
        let csrf = field(&html, "csrf");
        // The box not ticked: said under it, nothing removed.
        let r = client.post(app.url(&format!("{path}/retrait"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"confirmation-erreur\"") && html.contains("href=\"#confirmation\""), "{html}");
        assert_eq!(s.territories_of(p.order.id).await.unwrap().len(), 1);
        let r = client.post(app.url(&format!("{path}/retrait"))).form(&[("csrf", csrf.as_str()), ("confirmation", "1")]).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, list.as_str()));
        assert!(s.territories_of(p.order.id).await.unwrap().is_empty());
        assert_eq!(page(&client, &app, &path).await.0, 404);
        // One that received booklets offers no removal, and refuses one with the reason.
        let kept = s.declare_territory(p.order.id, &declared("Villeurbanne", "69266"), "tests", t0()).await.unwrap();
        s.allocate_to_territories(p.order.id, &[(kept.id, 1)], "tests", t0()).await.unwrap();
        let path = format!("{list}/{}", kept.id);
        let (_, html) = page(&client, &app, &path).await;
        assert!(!html.contains("Retirer ce territoire"), "{html}");
        let r = client.post(app.url(&format!("{path}/retrait"))).form(&[("csrf", csrf.as_str()), ("confirmation", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("a reçu des carnets") && html.contains("href=\"#confirmation\"") && html.contains("id=\"confirmation\""), "{html}");
        assert_eq!(s.territories_of(p.order.id).await.unwrap().len(), 1);
    }
}
