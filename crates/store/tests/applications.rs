//! Venues apply, are reviewed and see their qualification end, on both engines: an
//! application is written whole or not at all, every decision is kept with who and why, two
//! decisions taken together cannot both pass, and the daily job warns then ends once.

mod common;

use common::*;
use passnum_core::application::Document;
use passnum_core::catalogue::Catalogue;
use passnum_core::{InseeCode, OrgNumber, StatusDecision, Timestamp, VenueStatus};
use passnum_store::{NewApplication, NewVenue, Store, StoreError, both_engines};
use time::macros::date;

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

fn application(s: &Store, number: &str, email: &str) -> NewApplication {
    NewApplication {
        venue: NewVenue {
            siret: OrgNumber::parse(number).unwrap(),
            name: "Association Clic & Lien".into(),
            commune: InseeCode::parse("69259").unwrap(),
            status: VenueStatus::Qualified, // ignored: an application is new
            qualified_until: None,
            address: "3 rue Gambetta".into(),
            contact: "04 72 00 00 00".into(),
            services: vec![],
        },
        legal_representative: "Marie Dupont, présidente".into(),
        catalogue: Catalogue::parse([("2.1.07", "collective"), ("2.2.01", "individual")], |c| {
            s.service_is_known(c)
        })
        .unwrap(),
        opening_hours: "mardi 14 h–18 h".into(),
        accessibility: "plain-pied".into(),
        applicant_email: email.into(),
        applicant_name: "Marie Dupont".into(),
        password_hash: "$argon2id$fake".into(),
        documents: vec![
            Document::check("statuts.pdf", b"%PDF-1.4 statuts".to_vec()).unwrap(),
            Document::check("photo.png", b"\x89PNG\r\n\x1a\nimage".to_vec()).unwrap(),
        ],
    }
}

async fn count(s: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(s.pool())
        .await
        .unwrap()
}

both_engines! {
    async fn an_application_is_written_whole_or_not_at_all(db) {
        let s = &db.store;
        let (v, admin) = s.submit_application(&application(s, "W691234567", "marie@clic.fr"), t0()).await.unwrap();
        assert_eq!(v.status, VenueStatus::Applied, "never qualified by applying");
        assert_eq!(v.siret, "W691234567");
        assert_eq!(v.charter_accepted_at, Some(t0()));
        assert_eq!(v.legal_representative, "Marie Dupont, présidente");
        assert!(admin.org_admin);
        assert_eq!(admin.actor, passnum_store::Actor::Venue(v.id));
        assert_eq!(s.venue_catalogue(v.id).await.unwrap().len(), 2);
        let docs = s.venue_documents(v.id).await.unwrap();
        assert_eq!(docs.iter().map(|d| d.file_name.as_str()).collect::<Vec<_>>(), ["statuts.pdf", "photo.png"]);
        assert_eq!(s.venue_document(v.id, docs[1].id).await.unwrap().bytes, b"\x89PNG\r\n\x1a\nimage");
        assert!(matches!(s.venue_document(passnum_core::VenueId(v.id.0 + 1), docs[1].id).await, Err(StoreError::NotFound)), "another venue's document");
        let history = s.venue_status_history(v.id).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].by_name.as_deref(), Some("Marie Dupont"));

        // The same number again: a sentence, and nothing of the second application is left.
        let before = (count(s, "venues").await, count(s, "staff").await, count(s, "venue_documents").await, count(s, "venue_services").await);
        let again = s.submit_application(&application(s, "W691234567", "autre@clic.fr"), t0()).await.unwrap_err();
        assert_eq!(code(again), "siret_taken");
        // The same e-mail with a new number: the account is refused after the venue was
        // inserted, and the transaction takes the venue back.
        let again = s.submit_application(&application(s, "44306184100047", "MARIE@clic.fr "), t0()).await.unwrap_err();
        assert_eq!(code(again), "email_taken");
        let after = (count(s, "venues").await, count(s, "staff").await, count(s, "venue_documents").await, count(s, "venue_services").await);
        assert_eq!(before, after, "nothing half-written");
    }
}

both_engines! {
    async fn every_decision_is_kept_with_who_and_why(db) {
        let s = &db.store;
        let (v, admin) = s.submit_application(&application(s, "44306184100047", "a@b.fr"), t0()).await.unwrap();
        let operator = s.create_staff("op@passnum.fr", "Olivia Opératrice", "x", passnum_store::Actor::Operator, t0()).await.unwrap();
        let refused = s.set_venue_status(v.id, &StatusDecision::new(VenueStatus::Waiting, "  "), Some(operator.id), t0()).await;
        assert_eq!(code(refused.unwrap_err()), "reason_missing");
        s.set_venue_status(v.id, &StatusDecision::new(VenueStatus::Waiting, "Envoyez vos statuts signés."), Some(operator.id), t0().plus_ms(1)).await.unwrap();
        s.set_venue_status(v.id, &StatusDecision::new(VenueStatus::Applied, "Statuts envoyés."), Some(admin.id), t0().plus_ms(2)).await.unwrap();
        let past = StatusDecision { qualified_until: Some(date!(2026 - 06 - 14)), ..StatusDecision::new(VenueStatus::Qualified, "") };
        assert_eq!(code(s.set_venue_status(v.id, &past, Some(operator.id), t0()).await.unwrap_err()), "qualification_end_in_the_past");
        let year = StatusDecision { qualified_until: Some(date!(2027 - 06 - 14)), ..StatusDecision::new(VenueStatus::Qualified, "Dossier complet.") };
        let q = s.set_venue_status(v.id, &year, Some(operator.id), t0().plus_ms(3)).await.unwrap();
        assert_eq!(q.qualified_until, Some(date!(2027 - 06 - 14)));
        s.set_venue_status(v.id, &StatusDecision::new(VenueStatus::Suspended, "Contrôle en cours."), Some(operator.id), t0().plus_ms(4)).await.unwrap();
        let history = s.venue_status_history(v.id).await.unwrap();
        let seen: Vec<(Option<VenueStatus>, VenueStatus, Option<&str>, &str)> = history.iter().map(|c| (c.from, c.to, c.by_name.as_deref(), c.reason.as_str())).collect();
        assert_eq!(seen, vec![
            (None, VenueStatus::Applied, Some("Marie Dupont"), "Candidature déposée en ligne, charte acceptée."),
            (Some(VenueStatus::Applied), VenueStatus::Waiting, Some("Olivia Opératrice"), "Envoyez vos statuts signés."),
            (Some(VenueStatus::Waiting), VenueStatus::Applied, Some("Marie Dupont"), "Statuts envoyés."),
            (Some(VenueStatus::Applied), VenueStatus::Qualified, Some("Olivia Opératrice"), "Dossier complet."),
            (Some(VenueStatus::Qualified), VenueStatus::Suspended, Some("Olivia Opératrice"), "Contrôle en cours."),
        ]);
        assert_eq!(history[3].qualified_until, Some(date!(2027 - 06 - 14)));
        // The queue's counts and lists follow.
        let counts = s.venue_status_counts().await.unwrap();
        assert!(counts.contains(&(VenueStatus::Suspended, 1)));
        assert_eq!(s.venues_in_status(&[VenueStatus::Suspended], 10, 0).await.unwrap()[0].id, v.id);
        assert!(s.venues_in_status(&[VenueStatus::Applied], 10, 0).await.unwrap().is_empty());
        // Refusal and withdrawal are final.
        s.set_venue_status(v.id, &StatusDecision::new(VenueStatus::Revoked, "Fin du partenariat."), Some(operator.id), t0().plus_ms(5)).await.unwrap();
        assert_eq!(code(s.set_venue_status(v.id, &year, None, t0().plus_ms(6)).await.unwrap_err()), "venue_status_transition");
    }
}

both_engines! {
    async fn two_decisions_taken_together_do_not_both_pass(db) {
        let s = &db.store;
        for round in 0..4 {
            let number = ["44306184100047", "73282932000074", "13002603200008", "35600000000001"][round];
            let (v, _) = s.submit_application(&application(s, number, &format!("r{round}@b.fr")), t0()).await.unwrap();
            let qualify = StatusDecision::new(VenueStatus::Qualified, "ok");
            let refuse = StatusDecision::new(VenueStatus::Refused, "non");
            let (a, b) = tokio::join!(
                s.set_venue_status(v.id, &qualify, None, t0()),
                s.set_venue_status(v.id, &refuse, None, t0()),
            );
            assert!(a.is_ok() != b.is_ok(), "exactly one decision lands: {a:?} {b:?}");
            let history = s.venue_status_history(v.id).await.unwrap();
            assert_eq!(history.len(), 2, "one decision in the history");
            assert_eq!(s.get_venue(v.id).await.unwrap().status, history[1].to);
        }
    }
}

both_engines! {
    async fn the_daily_job_warns_then_ends_a_qualification_once(db) {
        let s = &db.store;
        let (v, _) = s.submit_application(&application(s, "44306184100047", "a@b.fr"), t0()).await.unwrap();
        let until = date!(2026 - 07 - 31);
        let d = StatusDecision { qualified_until: Some(until), ..StatusDecision::new(VenueStatus::Qualified, "") };
        s.set_venue_status(v.id, &d, None, t0()).await.unwrap();
        let at = |y: i32, m: u8, day: u8| Timestamp::from_offset_datetime(
            time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap().with_hms(8, 0, 0).unwrap().assume_utc());
        assert!(s.run_qualification_steps(at(2026, 6, 30)).await.unwrap().is_empty(), "31 days before: nothing");
        let warned = s.run_qualification_steps(at(2026, 7, 1)).await.unwrap();
        assert_eq!(warned.iter().map(|d| d.step).collect::<Vec<_>>(), ["warn"]);
        assert!(warned[0].summary.contains("31/07/2026"), "{}", warned[0].summary);
        assert!(s.run_qualification_steps(at(2026, 7, 2)).await.unwrap().is_empty(), "warned once");
        assert_eq!(s.ending_qualifications(None).await.unwrap().len(), 1);
        assert_eq!(s.ending_qualifications(Some(v.id)).await.unwrap()[0].qualified_until, until);
        assert!(s.run_qualification_steps(at(2026, 7, 31)).await.unwrap().is_empty(), "the last day is still qualified");
        let (a, b) = tokio::join!(s.run_qualification_steps(at(2026, 8, 1)), s.run_qualification_steps(at(2026, 8, 1)));
        let ended: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
        assert_eq!(ended.iter().map(|d| d.step).collect::<Vec<_>>(), ["end"], "two jobs at once end it once");
        let v = s.get_venue(v.id).await.unwrap();
        assert_eq!(v.status, VenueStatus::Expired);
        assert!(s.ending_qualifications(None).await.unwrap().is_empty());
        let last = s.venue_status_history(v.id).await.unwrap().pop().unwrap();
        assert_eq!((last.to, last.by_staff), (VenueStatus::Expired, None));
        // Renewed: qualified again with a new date, warned again when that one comes.
        let renewed = StatusDecision { qualified_until: Some(date!(2027 - 07 - 31)), ..StatusDecision::new(VenueStatus::Qualified, "Renouvelée.") };
        s.set_venue_status(v.id, &renewed, None, at(2026, 8, 2)).await.unwrap();
        assert!(s.run_qualification_steps(at(2026, 8, 3)).await.unwrap().is_empty());
        assert_eq!(s.run_qualification_steps(at(2027, 7, 10)).await.unwrap().len(), 1);
    }
}
