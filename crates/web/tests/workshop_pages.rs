//! Workshops through the pages, on SQLite and PostgreSQL: a venue publishes one, a person books
//! it with the code on the cover and sees it in "Mes réservations", the waiting line moves when
//! they cancel, the scan page opens on the day's workshop and takes one cheque per booklet.

mod common;

use common::*;
use passnum_store::Actor;
use reqwest::Client;

const PASSWORD: &str = "une phrase de passe assez longue";

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn venue_staff(app: &TestApp, venue: passnum_core::VenueId) -> Client {
    let hash = passnum_app::passwords::hash_password(PASSWORD.into())
        .await
        .unwrap();
    app.store()
        .create_staff("m@lieu.fr", "Samia", &hash, Actor::Venue(venue), t0())
        .await
        .unwrap();
    let client = browser();
    let html = client
        .get(app.url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field(&html, "csrf");
    let r = client
        .post(app.url("/connexion"))
        .form(&[
            ("email", "m@lieu.fr"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    client
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
        s.allocate_booklets(p.order.id, &[(ccas, 1)], t0()).await.unwrap();
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
        let hash = passnum_app::passwords::hash_password(PASSWORD.into()).await.unwrap();
        s.create_staff("agent@ccas.fr", "Agente", &hash, Actor::Distributor(ccas), t0()).await.unwrap();
        let agent = browser();
        let (_, html) = get(&agent, &app, "/connexion").await;
        let csrf = field(&html, "csrf");
        agent.post(app.url("/connexion")).form(&[("email", "agent@ccas.fr"), ("password", PASSWORD), ("csrf", &csrf), ("next", "")]).send().await.unwrap();
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
