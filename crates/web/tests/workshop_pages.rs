//! Workshops through the pages, on SQLite and PostgreSQL: a venue publishes one, a person books
//! it with the code on the cover and sees it in "Mes réservations", the waiting line moves when
//! they cancel, the scan page opens on the day's workshop and takes one cheque per booklet.

mod common;

use common::*;
use passnum_store::Actor;
use reqwest::Client;

async fn venue_staff(app: &TestApp, venue: passnum_core::VenueId) -> Client {
    signed_in_as(app, "m@lieu.fr", "Samia", Actor::Venue(venue)).await
}

async fn get(client: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post(
    client: &Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let (_, html) = get(client, app, path_for_csrf(path)).await;
    let csrf = field(&html, "csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    let r = client.post(app.url(path)).form(&all).send().await.unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), to, r.text().await.unwrap())
}

/// The page whose form posts to `path` (where the CSRF field is read).
fn path_for_csrf(path: &str) -> &str {
    if path.starts_with("/lieu/ateliers/") && path.ends_with("/annuler") {
        path.trim_end_matches("/annuler")
    } else if path.starts_with("/lieu/ateliers/") && path.ends_with("/reserver") {
        path.trim_end_matches("/reserver")
    } else if path == "/lieu/encaisser" {
        "/lieu"
    } else {
        path
    }
}

api_test! {
    async fn a_venue_publishes_a_workshop_a_person_books_it_and_the_scan_takes_one_cheque_per_booklet(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let m = venue_staff(&app, p.venue.id).await;
        let (st, html) = get(&m, &app, "/lieu/ateliers").await;
        assert_eq!(st, 200);
        assert!(html.contains("Aucun atelier à venir") && html.contains("svc_2.1.07"));
        // Refused as a whole, every problem named, what was typed kept.
        let (st, _, html) = post(&m, &app, "/lieu/ateliers", &[("format", "collective"), ("title", "Premiers pas & tablette"), ("date", "2026-06-01"), ("time", "14:00"), ("duration_min", "90"), ("capacity", "1"), ("place", "venue"), ("repeat", "once"), ("level", "beginner")]).await;
        assert_eq!(st, 422);
        assert!(html.contains("Choisissez au moins un service de votre catalogue.") && html.contains("Cette date est passée"), "{html}");
        assert!(html.contains("value=\"Premiers pas &#38; tablette\""));
        let (st, to, _) = post(&m, &app, "/lieu/ateliers", &[("format", "collective"), ("title", "Premiers pas & tablette"), ("svc_2.1.07", "1"), ("date", "2026-06-15"), ("time", "14:00"), ("duration_min", "90"), ("capacity", "1"), ("place", "venue"), ("repeat", "once"), ("level", "beginner"), ("mediator", "Samia")]).await;
        assert_eq!((st, to.as_str()), (303, "/lieu/ateliers?publie=1"));
        let (_, html) = get(&m, &app, "/lieu/ateliers?publie=1").await;
        assert!(html.contains("1 atelier publié.") && html.contains("lundi 15 juin 2026 à 14 h 00"), "{html}");
        let ws = s.venue_workshops(p.venue.id, t0(), t0().plus_ms(86_400_000), 10, 0).await.unwrap().remove(0);

        // The person finds it on the venue's public page and books with the cover's code.
        let person = browser();
        let (_, card) = get(&person, &app, &format!("/lieux/{}", p.venue.id.0)).await;
        assert!(card.contains(&format!("href=\"/ateliers/{}\"", ws.id)) && card.contains("1 place libre"), "{card}");
        let wpath = format!("/ateliers/{}", ws.id);
        let booklet1 = format!("{}-1", p.order.id.0);
        let code1 = passnum_core::workshop::display_booking_code(&s.booking_code(p.order.id, 1).await.unwrap());
        let (st, _, html) = post(&person, &app, &wpath, &[("booklet", &booklet1), ("code", "ZZZZ-ZZZZ")]).await;
        assert_eq!(st, 422);
        assert!(html.contains("ne vont pas ensemble") && html.contains("href=\"#code\""), "{html}");
        let (st, _, html) = post(&person, &app, &wpath, &[("booklet", &booklet1), ("code", &code1.to_lowercase()), ("contact", "06 12 34 56 78")]).await;
        assert_eq!(st, 422, "a contact needs consent");
        assert!(html.contains("avec l&#39;accord de la personne"));
        let (st, _, html) = post(&person, &app, &wpath, &[("booklet", &booklet1), ("code", &code1), ("contact", "06 12 34 56 78"), ("consent", "1")]).await;
        assert_eq!(st, 200);
        assert!(html.contains(&format!("Votre place est réservée pour le carnet {booklet1}")) && html.contains("complet, liste d&#39;attente ouverte"), "{html}");
        let booklet2 = format!("{}-2", p.order.id.0);
        let code2 = s.booking_code(p.order.id, 2).await.unwrap();
        let (_, _, html) = post(&person, &app, &wpath, &[("booklet", &booklet2), ("code", &code2)]).await;
        assert!(html.contains("vous êtes en liste d&#39;attente"), "{html}");

        // The venue sees the line; booklet 1's person cancels from Mes réservations; booklet 2 gets the place.
        let (_, file) = get(&m, &app, &format!("/lieu/ateliers/{}", ws.id)).await;
        assert!(file.contains("Place réservée") && file.contains("En liste d&#39;attente") && !file.contains("06 12 34 56 78"), "never shown: {file}");
        let (st, _, html) = post(&person, &app, "/mes-reservations", &[("booklet", &booklet1), ("code", &code1)]).await;
        assert_eq!(st, 200);
        assert!(html.contains("Premiers pas &#38; tablette") && html.contains("Place réservée"), "{html}");
        let booking1 = s.workshop_bookings(p.venue.id, ws.id).await.unwrap()[0].id.to_string();
        let (_, _, html) = post(&person, &app, "/mes-reservations", &[("booklet", &booklet1), ("code", &code1), ("annuler", &booking1)]).await;
        assert!(html.contains("Réservation annulée") && html.contains("Annulée"), "{html}");
        let (_, _, html) = post(&person, &app, "/mes-reservations", &[("booklet", &booklet2), ("code", &code2)]).await;
        assert!(html.contains("Place réservée"), "the line moved: {html}");

        // On the day the scan page opens on the workshop; one cheque per booklet.
        app.clock.set(t0().plus_ms(2 * 3_600_000 + 30 * 60_000));
        let (_, scan) = get(&m, &app, "/lieu").await;
        assert!(scan.contains(&format!("<option value=\"{}\" selected>14 h 00 — Premiers pas &#38; tablette", ws.id)), "{scan}");
        let atelier = ws.id.to_string();
        let (st, _, html) = post(&m, &app, "/lieu/encaisser", &[("code", &p.codes[10].grouped()), ("service", "2.1.07"), ("atelier", &atelier), ("cle", "k1")]).await;
        assert_eq!(st, 200);
        assert!(html.contains("Pass accepté"), "{html}");
        let (_, _, html) = post(&m, &app, "/lieu/encaisser", &[("code", &p.codes[11].grouped()), ("service", "2.1.07"), ("atelier", &atelier), ("cle", "k2")]).await;
        assert!(html.contains("Pass refusé") && html.contains("un seul chèque par carnet et par atelier"), "{html}");
        let (_, _, html) = post(&m, &app, "/lieu/encaisser", &[("code", &p.codes[0].grouped()), ("service", "2.1.07"), ("atelier", &atelier), ("cle", "k3")]).await;
        assert!(html.contains("L&#39;atelier est complet"), "booklet 1 cancelled: a walk-in now, and the place is taken: {html}");

        // Cancelling the workshop needs the confirmation.
        let cancel = format!("/lieu/ateliers/{}/annuler", ws.id);
        let (st, _, html) = post(&m, &app, &cancel, &[("reason", "Salle inondée")]).await;
        assert_eq!(st, 422);
        assert!(html.contains("Cochez la case pour confirmer"));
        let (st, _, _) = post(&m, &app, &cancel, &[("reason", "Salle inondée"), ("confirm", "1")]).await;
        assert_eq!(st, 303);
        let (_, public) = get(&person, &app, &wpath).await;
        assert!(public.contains("Atelier annulé</strong> : Salle inondée") && !public.contains("Réserver une place"));
        let (st, _) = get(&person, &app, "/ateliers/999999").await;
        assert_eq!(st, 404);
    }
}

api_test! {
    async fn the_agent_books_a_workshop_from_the_orientation_slip(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(ccas, 1)], "tests", t0()).await.unwrap();
        let request = passnum_core::handout::HandoutRequest {
            needs: vec!["online_procedures".into()],
            equipment: "phone_only".into(),
            level: "beginner".into(),
            consent: true,
            ..Default::default()
        };
        let h = passnum_core::handout::Handout::parse(&request, &Default::default(), &passnum_core::handout::HouseholdKey::from_bytes([3; 32])).unwrap();
        let handout = s.hand_out(ccas, None, p.order.id, 1, &lyon, &h, t0()).await.unwrap();
        // A workshop tomorrow for online procedures (2.2.02 is in the venue's catalogue).
        let plan = passnum_core::workshop::WorkshopPlan {
            format: passnum_core::workshop::WorkshopFormat::Collective,
            title: "Démarches en ligne".into(),
            services: vec!["2.2.02".into()],
            level: passnum_core::workshop::Level::Beginner,
            time: time::macros::time!(10:00),
            dates: vec![time::macros::date!(2026 - 06 - 16)],
            duration_min: 60,
            place: passnum_core::workshop::Place::AtVenue,
            capacity: 4,
            mediator: String::new(),
            accessibility: String::new(),
        };
        let ws = s.create_workshops(p.venue.id, &plan, t0()).await.unwrap().remove(0);
        let agent = signed_in_as(&app, "agent@ccas.fr", "Agente", Actor::Distributor(ccas)).await;
        let slip = format!("/structure/remises/{}", handout.id);
        let (st, html) = get(&agent, &app, &slip).await;
        assert_eq!(st, 200);
        let code = passnum_core::workshop::display_booking_code(&s.booking_code(p.order.id, 1).await.unwrap());
        assert!(html.contains(&format!("Pour réserver un atelier : carnet {}-1, code {code}", p.order.id.0)), "{html}");
        assert!(html.contains("mardi 16 juin 2026 à 10 h 00 — Démarches en ligne, Lieu Métropole (4 places libres)"), "{html}");
        let book = format!("{slip}/ateliers/{}", ws.id);
        let csrf = field(&html, "csrf");
        let r = agent.post(app.url(&book)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = get(&agent, &app, &format!("{slip}?reserve=1")).await;
        assert!(html.contains("Vos ateliers réservés") && html.contains("Démarches en ligne : place réservée"), "{html}");
        assert_eq!(s.workshop_bookings(p.venue.id, ws.id).await.unwrap()[0].booked_by, "agent");
        // The structure's list says what became of the booklet, never who has it.
        let (_, home) = get(&agent, &app, "/structure").await;
        assert!(home.contains("<td>Atelier réservé</td>"), "{home}");
        // Twice: refused with its sentence.
        let r = agent.post(app.url(&book)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("Ce carnet a déjà une place dans cet atelier."));
    }
}

api_test! {
    async fn a_venue_s_workshops_are_a_calendar_feed_that_updates_on_change(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let plan = passnum_core::workshop::WorkshopPlan {
            format: passnum_core::workshop::WorkshopFormat::Collective,
            title: "Courriels, pièces jointes".into(),
            services: vec!["2.1.07".into()],
            level: passnum_core::workshop::Level::Beginner,
            time: time::macros::time!(14:00),
            dates: vec![time::macros::date!(2026 - 06 - 16), time::macros::date!(2026 - 06 - 23)],
            duration_min: 90,
            place: passnum_core::workshop::Place::AtVenue,
            capacity: 4,
            mediator: String::new(),
            accessibility: String::new(),
        };
        let made = s.create_workshops(p.venue.id, &plan, t0()).await.unwrap();
        let url = format!("/lieux/{}/ateliers.ics", p.venue.id.0);
        let r = Client::new().get(app.url(&url)).header("host", "evil.example").send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
        let ics = r.text().await.unwrap();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.matches("BEGIN:VEVENT").count() == 2, "{ics}");
        assert!(ics.contains("SUMMARY:Courriels\\, pièces jointes\r\n") && ics.contains("DTSTART:20260616T120000Z\r\n"));
        assert!(!ics.contains("evil.example"), "never the request's Host");
        let uid = format!("UID:atelier-{}@", made[1].id);
        assert!(ics.contains(&uid) && ics.contains("SEQUENCE:0"));
        s.cancel_workshop(p.venue.id, made[1].id, "Fermeture", t0()).await.unwrap();
        let ics = Client::new().get(app.url(&url)).send().await.unwrap().text().await.unwrap();
        let second = &ics[ics.find(&uid).unwrap()..];
        assert!(second.contains("SEQUENCE:1") && second.contains("STATUS:CANCELLED"), "{ics}");
        assert_eq!(Client::new().get(app.url("/lieux/999/ateliers.ics")).send().await.unwrap().status(), 404);
    }
}

api_test! {
    async fn the_venue_fills_a_record_from_the_scans_and_exports_the_month_for_the_coop(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let plan = passnum_core::workshop::WorkshopPlan {
            format: passnum_core::workshop::WorkshopFormat::Collective,
            title: "Courriels; pièces jointes".into(),
            services: vec!["2.1.07".into()],
            level: passnum_core::workshop::Level::Beginner,
            time: time::macros::time!(14:00),
            dates: vec![time::macros::date!(2026 - 06 - 15)],
            duration_min: 90,
            place: passnum_core::workshop::Place::AtVenue,
            capacity: 4,
            mediator: String::new(),
            accessibility: String::new(),
        };
        let ws = s.create_workshops(p.venue.id, &plan, t0()).await.unwrap().remove(0).id;
        let m = venue_staff(&app, p.venue.id).await;
        let form = format!("/lieu/ateliers/{ws}/compte-rendu");
        let (st, html) = get(&m, &app, &form).await;
        assert_eq!(st, 200);
        assert!(html.contains("pas encore commencé") && !html.contains("name=\"attendance\""), "before it starts: {html}");
        // Two cheques of two booklets scanned at the workshop.
        app.clock.set(t0().plus_ms(2 * 3_600_000 + 30 * 60_000));
        for i in [0, 10] {
            let r = passnum_store::RedeemRequest { venue_id: p.venue.id, code: p.codes[i], service_code: "2.1.07".into(), workshop_id: Some(ws), now: t0().plus_ms(2 * 3_600_000 + 30 * 60_000), idempotency: None };
            assert!(matches!(s.redeem(r).await.unwrap().outcome, passnum_store::Outcome::Accepted(_)));
        }
        app.clock.set(t0().plus_ms(4 * 3_600_000));
        let (_, html) = get(&m, &app, &form).await;
        assert!(html.contains("2 chèques scannés") && html.contains("id=\"attendance\" name=\"attendance\" value=\"2\"") && html.contains("name=\"duration_min\" value=\"90\""), "prefilled: {html}");
        assert_eq!(html.matches("<legend class=\"fr-fieldset__legend fr-text--regular\"").count(), 4, "one line per place");
        // Refused as a whole, every problem said, what was typed kept.
        let (st, _, html) = post(&m, &app, &form, &[("attendance", "1"), ("duration_min", "95"), ("age_1", "soixante_dix_plus"), ("autonomy_1", ""), ("oriented_1", "")]).await;
        assert_eq!(st, 422);
        assert!(html.contains("2 chèques ont été scannés pour cet atelier : indiquez au moins 2 participants.") && html.contains("Cochez au moins une thématique abordée.") && html.contains("href=\"#theme_diagnostic_numerique\""), "{html}");
        assert!(html.contains("value=\"95\"") && html.contains("value=\"soixante_dix_plus\" selected"), "kept: {html}");
        let (st, to, _) = post(&m, &app, &form, &[("attendance", "3"), ("duration_min", "100"), ("theme_email", "1"), ("theme_navigation_sur_internet", "1"), ("equipment_ordinateur", "1"), ("age_1", "soixante_dix_plus"), ("autonomy_1", "autonome"), ("oriented_1", ""), ("age_2", ""), ("autonomy_2", ""), ("oriented_2", "yes"), ("age_3", ""), ("autonomy_3", ""), ("oriented_3", "")]).await;
        assert_eq!((st, to.as_str()), (303, format!("/lieu/ateliers/{ws}?fait=compte-rendu").as_str()));
        let (_, file) = get(&m, &app, &format!("/lieu/ateliers/{ws}?fait=compte-rendu")).await;
        assert!(file.contains("Compte rendu enregistré.") && file.contains("Corriger le compte rendu"), "{file}");
        let (_, month) = get(&m, &app, "/lieu/activite?mois=2026-06").await;
        assert!(month.contains("Ateliers passés : juin 2026") && month.contains("Fait : 3 participants") && month.contains("/lieu/activite.json?mois=2026-06"), "{month}");
        let (st, _) = get(&m, &app, "/lieu/activite?mois=juin").await;
        assert_eq!(st, 422);

        // The CSV for a spreadsheet: the title quoted (it holds a semicolon), the bands counted.
        let r = m.get(app.url("/lieu/activite.csv?mois=2026-06")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = r.text().await.unwrap();
        let line = csv.lines().nth(1).unwrap();
        assert!(line.starts_with(&format!("{ws};2026-06-15;14 h 00;collectif;\"Courriels; pièces jointes\";debutant;lieu_activite;;90;2;fait;3;100;")), "{csv}");
        assert!(line.ends_with(";0;0;0;0;0;0;1;0;0;1;1"), "age 70+, one autonomous, one oriented: {csv}");
        // The JSON in the Coop's activity shape.
        let coop: serde_json::Value = m.get(app.url("/lieu/activite.json?mois=2026-06")).send().await.unwrap().json().await.unwrap();
        let a = &coop["data"][0]["attributes"];
        assert_eq!(coop["data"][0]["type"], "activite");
        assert_eq!((a["type"].as_str(), a["date"].as_str(), a["duree"].as_i64(), a["niveau_atelier"].as_str()), (Some("collectif"), Some("2026-06-15"), Some(100), Some("debutant")));
        assert_eq!(a["thematiques"], serde_json::json!(["navigation_sur_internet", "email"]));
        assert_eq!(a["materiel"], serde_json::json!(["ordinateur"]));
        assert_eq!((a["beneficiaires"]["total"].as_i64(), a["beneficiaires"]["tranches_age"]["soixante_dix_plus"].as_i64(), a["beneficiaires"]["tranches_age"]["non_communique"].as_i64()), (Some(3), Some(1), Some(2)));
        assert_eq!((a["lieu_code_insee"].as_str(), a["lieu_commune"].as_str()), (Some("69123"), Some("Lyon")));
        assert_eq!(coop["meta"]["ateliers_sans_compte_rendu"], 0);

        // The API reads the same record, corrects it and exports the same month; another venue cannot.
        let (st, v) = json(app.get(&p.venue_token, &format!("/api/v1/workshops/{ws}/record")).await).await;
        assert_eq!((st, v["attendance"].as_i64(), v["revision"].as_i64()), (200, Some(3), Some(0)), "{v}");
        let put = |body: serde_json::Value| {
            let (client, url, token) = (app.client.clone(), app.url(&format!("/api/v1/workshops/{ws}/record")), p.venue_token.clone());
            async move { json(client.put(url).bearer_auth(token).json(&body).send().await.unwrap()).await }
        };
        let (st, v) = put(serde_json::json!({"attendance": 1, "duration_min": 90, "themes": ["email"]})).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_record"));
        let (st, v) = put(serde_json::json!({"attendance": 2, "duration_min": 90, "themes": ["email"], "participants": [{"age": "douze_dix_huit", "oriented": false}]})).await;
        assert_eq!((st, v["revision"].as_i64(), v["participants"][0]["oriented"].as_bool()), (200, Some(1), Some(false)), "{v}");
        let (st, v) = json(app.get(&p.venue_token, "/api/v1/venues/0/activities").await).await;
        assert_eq!((st, error_code(&v)), (404, "not_found"), "another venue's activity is not said to exist");
        let (st, v) = json(app.get(&p.venue_token, &format!("/api/v1/venues/{}/activities?month=2026-06", p.venue.id.0)).await).await;
        assert_eq!((st, v["data"][0]["attributes"]["beneficiaires"]["tranches_age"]["douze_dix_huit"].as_i64()), (200, Some(1)), "{v}");
        let (st, v) = json(app.get(&p.venue_token, &format!("/api/v1/venues/{}/activities?month=juin", p.venue.id.0)).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_month"));
    }
}

api_test! {
    async fn each_mediator_has_a_private_calendar_of_the_workshops_they_run(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let plan = |mediator: &str, day: time::Date| passnum_core::workshop::WorkshopPlan {
            format: passnum_core::workshop::WorkshopFormat::Collective,
            title: format!("Atelier de {mediator}"),
            services: vec!["2.1.07".into()],
            level: passnum_core::workshop::Level::Beginner,
            time: time::macros::time!(14:00),
            dates: vec![day],
            duration_min: 60,
            place: passnum_core::workshop::Place::AtVenue,
            capacity: 4,
            mediator: mediator.into(),
            accessibility: String::new(),
        };
        s.create_workshops(p.venue.id, &plan("Samia", time::macros::date!(2026 - 06 - 16)), t0()).await.unwrap();
        s.create_workshops(p.venue.id, &plan(" samia ", time::macros::date!(2026 - 06 - 17)), t0()).await.unwrap();
        s.create_workshops(p.venue.id, &plan("Karim", time::macros::date!(2026 - 06 - 16)), t0()).await.unwrap();
        let m = venue_staff(&app, p.venue.id).await;
        let (_, html) = get(&m, &app, "/lieu/ateliers").await;
        let feeds: Vec<String> = html
            .match_indices(&format!("/lieux/{}/animateurs/", p.venue.id.0))
            .map(|(i, _)| html[i..].split('<').next().unwrap().to_string())
            .collect();
        assert_eq!(feeds.len(), 2, "Samia and samia share one feed, Karim has his: {html}");
        assert!(html.contains("Ateliers animés par Karim") && html.contains(&format!("/lieux/{}/ateliers.ics", p.venue.id.0)));
        let karim_at = html.find("Ateliers animés par Karim").unwrap();
        let karim = &html[karim_at..].split("<code>").nth(1).unwrap().split('<').next().unwrap();
        let samia = feeds.iter().find(|f| f != karim).unwrap();
        let ics = Client::new().get(app.url(samia)).send().await.unwrap().text().await.unwrap();
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "{ics}");
        assert!(ics.contains("SUMMARY:Atelier de Samia") && !ics.contains("Karim"), "{ics}");
        // A token naming nobody: an empty calendar, nothing told; a malformed one: not found.
        let other = format!("/lieux/{}/animateurs/{}/ateliers.ics", p.venue.id.0, "0".repeat(32));
        let r = Client::new().get(app.url(&other)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap().matches("BEGIN:VEVENT").count(), 0);
        let bad = format!("/lieux/{}/animateurs/samia/ateliers.ics", p.venue.id.0);
        assert_eq!(Client::new().get(app.url(&bad)).send().await.unwrap().status(), 404);
        // Another venue's id with Samia's token: nothing of hers.
        let elsewhere = samia.replacen(&format!("/lieux/{}/", p.venue.id.0), "/lieux/999/", 1);
        assert_eq!(Client::new().get(app.url(&elsewhere)).send().await.unwrap().status(), 404);
    }
}
