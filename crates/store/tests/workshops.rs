//! Workshops, bookings and scans for a workshop, on both engines: a series published at once,
//! a mediator never in two places, the last place to one booking among 64, a waiting line that
//! moves, one cheque per booklet per workshop (also when two scans race), walk-ins up to
//! capacity, and a cancelled redemption giving the place back.

mod common;

use common::*;
use passnum_core::workshop::{Level, Place, WorkshopFormat, WorkshopPlan};
use passnum_core::{OrderId, Timestamp, VenueStatus};
use passnum_store::{BookedBy, BookletKey, CancelledBy, Outcome, Store, StoreError, both_engines};
use time::macros::{date, time};

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

/// One collective workshop on 15 June 2026 at 14:00 in Paris (t0 is that morning).
fn plan(capacity: i64, mediator: &str) -> WorkshopPlan {
    WorkshopPlan {
        format: WorkshopFormat::Collective,
        title: "Premiers pas sur la tablette".into(),
        services: vec!["2.1.07".into()],
        level: Level::Beginner,
        time: time!(14:00),
        dates: vec![date!(2026 - 06 - 15)],
        duration_min: 90,
        place: Place::AtVenue,
        capacity,
        mediator: mediator.into(),
        accessibility: String::new(),
    }
}

fn day_before() -> Timestamp {
    t0().plus_ms(-86_400_000)
}

async fn key(s: &Store, order: OrderId, number: i64) -> BookletKey {
    BookletKey {
        order_id: order,
        number,
        code: Some(s.booking_code(order, number).await.unwrap()),
    }
}

fn accepted(o: &Outcome) {
    assert!(matches!(o, Outcome::Accepted(_)), "{o:?}");
}

fn refused(o: &Outcome) -> &str {
    match o {
        Outcome::Refused(r) => r.code.as_str(),
        Outcome::Accepted(_) => "accepted",
    }
}

both_engines! {
    async fn a_series_is_published_at_once_and_a_mediator_is_never_in_two_places(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let mut p = plan(8, "Samia");
        p.dates = vec![date!(2026 - 06 - 15), date!(2026 - 06 - 22), date!(2026 - 06 - 29)];
        let series = s.create_workshops(w.lyon.id, &p, day_before()).await.unwrap();
        assert_eq!(series.len(), 3);
        assert!(series.iter().all(|x| x.series_id == Some(series[0].id) && x.services == vec!["2.1.07".to_string()]));
        // 14:00 in Paris in June is 12:00 UTC.
        assert_eq!(series[0].starts_at, Timestamp::from_offset_datetime(time::macros::datetime!(2026-06-15 12:00 UTC)));
        // Samia at 15:00 on the 22nd overlaps: nothing of the new series is written.
        let mut clash = plan(8, "Samia");
        clash.dates = vec![date!(2026 - 06 - 16), date!(2026 - 06 - 22)];
        clash.time = time!(15:00);
        assert_eq!(code(s.create_workshops(w.lyon.id, &clash, day_before()).await.unwrap_err()), "mediator_busy");
        let all = s.venue_workshops(w.lyon.id, t0().plus_ms(-30 * 86_400_000), t0().plus_ms(60 * 86_400_000), 100, 0).await.unwrap();
        assert_eq!(all.len(), 3, "the refused series left nothing behind");
        // Another mediator at the same time is fine; a service outside the catalogue is not.
        s.create_workshops(w.lyon.id, &plan(8, "Karim"), day_before()).await.unwrap();
        let mut p = plan(8, "");
        p.services = vec!["9.9.99".into()];
        assert_eq!(code(s.create_workshops(w.lyon.id, &p, day_before()).await.unwrap_err()), "service_not_in_catalogue");
        let applied = venue(s, SIRETS[3], "Candidat", "69123", VenueStatus::Applied).await;
        assert_eq!(code(s.create_workshops(applied.id, &plan(8, ""), day_before()).await.unwrap_err()), "venue_not_qualified");
    }
}

both_engines! {
    async fn a_booking_needs_the_code_on_the_cover_and_the_line_moves_when_a_place_frees(db) {
        let s = &db.store;
        let w = world(s, 4).await;
        let ws = s.create_workshops(w.lyon.id, &plan(2, ""), day_before()).await.unwrap().remove(0);
        let order = w.order.id;
        let mut wrong = key(s, order, 1).await;
        wrong.code = Some("AAAAAAAA".into());
        assert_eq!(code(s.book(ws.id, &wrong, BookedBy::Person, None, day_before()).await.unwrap_err()), "booking_code_wrong");
        let unknown = BookletKey { order_id: order, number: 99, code: Some("AAAAAAAA".into()) };
        assert_eq!(code(s.book(ws.id, &unknown, BookedBy::Person, None, day_before()).await.unwrap_err()), "booking_code_wrong", "the same answer: nothing to learn");
        let b1 = s.book(ws.id, &key(s, order, 1).await, BookedBy::Person, Some("06 12 34 56 78"), day_before()).await.unwrap();
        assert_eq!((b1.status.as_str(), b1.has_contact, b1.booklet_ref.clone()), ("booked", true, format!("{}-1", order.0)));
        assert_eq!(code(s.book(ws.id, &key(s, order, 1).await, BookedBy::Person, None, day_before()).await.unwrap_err()), "booklet_already_booked");
        // The agent of the structure that handed booklet 2 out holds it: no code needed; another
        // structure's agent is answered as for a wrong code.
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        let mairie = s.create_distributor("Mairie", "mairie", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(order, &[(ccas, 2), (mairie, 2)], "tests", t0()).await.unwrap();
        let h = handout();
        s.hand_out(ccas, None, order, 2, &lyon, &h, day_before()).await.unwrap();
        let agent = BookletKey { order_id: order, number: 2, code: None };
        assert_eq!(code(s.book(ws.id, &agent, BookedBy::Agent(mairie), None, day_before()).await.unwrap_err()), "booking_code_wrong");
        assert_eq!(s.book(ws.id, &agent, BookedBy::Agent(ccas), None, day_before()).await.unwrap().status, "booked");
        // The venue books on the phone, with the code read out; not in another venue's workshop.
        assert_eq!(code(s.book(ws.id, &key(s, order, 3).await, BookedBy::Venue(w.villeurbanne.id), None, day_before()).await.unwrap_err()), "workshop_unknown");
        let b3 = s.book(ws.id, &key(s, order, 3).await, BookedBy::Venue(w.lyon.id), None, day_before()).await.unwrap();
        assert_eq!(b3.status, "waiting");
        assert_eq!(s.workshop(ws.id).await.unwrap().seats_taken, 2);
        // The venue of another workshop cannot cancel it; the person can, and the line moves.
        assert_eq!(code(s.cancel_booking(b1.id, CancelledBy::Venue(w.villeurbanne.id), day_before()).await.unwrap_err()), "booking_unknown");
        let k1 = key(s, order, 1).await;
        let c = s.cancel_booking(b1.id, CancelledBy::Person(&k1), day_before()).await.unwrap();
        assert_eq!((c.status.as_str(), c.has_contact), ("cancelled", false), "contact erased with the booking");
        assert_eq!(s.booking(b3.id).await.unwrap().status, "booked");
        assert_eq!(s.workshop(ws.id).await.unwrap().seats_taken, 2);
        assert_eq!(code(s.cancel_booking(b1.id, CancelledBy::Person(&k1), day_before()).await.unwrap_err()), "booking_unknown");
        // Booking after the start is refused; the venue cancels the workshop and every booking.
        assert_eq!(code(s.book(ws.id, &key(s, order, 4).await, BookedBy::Person, None, t0().plus_ms(5 * 3_600_000)).await.unwrap_err()), "workshop_past");
        let ended = s.cancel_workshop(w.lyon.id, ws.id, "Médiatrice malade", day_before()).await.unwrap();
        assert_eq!(ended, 2);
        let mine = s.booklet_bookings(&key(s, order, 3).await).await.unwrap();
        assert_eq!(mine[0].0.status, "cancelled");
        assert_eq!(mine[0].0.cancel_reason.as_deref(), Some("Atelier annulé par le lieu : Médiatrice malade"));
        assert_eq!(mine[0].1.cancel_reason.as_deref(), Some("Médiatrice malade"));
        assert_eq!(code(s.book(ws.id, &key(s, order, 4).await, BookedBy::Person, None, day_before()).await.unwrap_err()), "workshop_cancelled");
        assert_eq!(code(s.cancel_workshop(w.lyon.id, ws.id, "encore", day_before()).await.unwrap_err()), "workshop_cancelled");
        assert!(matches!(s.cancel_workshop(w.villeurbanne.id, ws.id, "pas à moi", day_before()).await, Err(StoreError::NotFound)));
    }
}

both_engines! {
    async fn the_last_place_goes_to_one_of_64_parallel_bookings_across_two_servers(db) {
        let s = &db.store;
        let w = world(s, 64).await;
        let ws = s.create_workshops(w.lyon.id, &plan(1, ""), day_before()).await.unwrap().remove(0);
        let mut keys = vec![];
        for n in 1..=64 {
            keys.push(key(s, w.order.id, n).await);
        }
        // Two servers on one database: half of the requests go through each.
        let other = Store::connect(&db.url, Default::default()).await.unwrap();
        let tasks: Vec<_> = keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| {
                let s = if i % 2 == 0 { s.clone() } else { other.clone() };
                tokio::spawn(async move { s.book(ws.id, &k, BookedBy::Person, None, day_before()).await })
            })
            .collect();
        let mut booked = 0;
        let mut waiting = 0;
        for t in tasks {
            match t.await.unwrap().unwrap().status.as_str() {
                "booked" => booked += 1,
                "waiting" => waiting += 1,
                other => panic!("{other}"),
            }
        }
        assert_eq!((booked, waiting), (1, 63));
        assert_eq!(s.workshop(ws.id).await.unwrap().seats_taken, 1);
    }
}

both_engines! {
    async fn one_cheque_per_booklet_per_workshop_and_walk_ins_up_to_capacity(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        let ws = s.create_workshops(w.lyon.id, &plan(2, ""), day_before()).await.unwrap().remove(0);
        let b1 = s.book(ws.id, &key(s, w.order.id, 1).await, BookedBy::Person, Some("x@y.fr"), day_before()).await.unwrap();
        let scan = |code_index: usize, workshop: Option<i64>| {
            let mut r = redeem_req(&w.lyon, w.codes[code_index], t0());
            r.workshop_id = workshop;
            r
        };
        // Booklet 1 (cheques 0–9) has a booking: its first cheque is accepted, the second refused.
        let first = s.redeem(scan(0, Some(ws.id))).await.unwrap().outcome;
        let Outcome::Accepted(r1) = &first else { panic!("{first:?}") };
        assert_eq!(r1.workshop_id, Some(ws.id));
        let b = s.booking(b1.id).await.unwrap();
        assert_eq!((b.status.as_str(), b.has_contact), ("attended", false));
        assert_eq!(refused(&s.redeem(scan(1, Some(ws.id))).await.unwrap().outcome), "booklet_already_in_workshop");
        // Booklet 2 walks in and takes the second place; booklet 3 finds it full.
        accepted(&s.redeem(scan(10, Some(ws.id))).await.unwrap().outcome);
        assert_eq!(s.workshop(ws.id).await.unwrap().seats_taken, 2);
        assert_eq!(refused(&s.redeem(scan(20, Some(ws.id))).await.unwrap().outcome), "workshop_full");
        // Another venue's workshop, another day, another service: refused with their codes.
        let mut other = redeem_req(&w.villeurbanne, w.codes[21], t0());
        other.workshop_id = Some(ws.id);
        assert_eq!(refused(&s.redeem(other).await.unwrap().outcome), "workshop_unknown");
        let mut wrong_day = scan(22, Some(ws.id));
        wrong_day.now = t0().plus_ms(86_400_000);
        assert_eq!(refused(&s.redeem(wrong_day).await.unwrap().outcome), "workshop_not_today");
        let mut wrong_service = scan(23, Some(ws.id));
        wrong_service.service_code = "1.1.02".into();
        assert_eq!(refused(&s.redeem(wrong_service).await.unwrap().outcome), "service_not_in_workshop");
        // The walk-in's redemption is cancelled: its place is free again, booklet 3 gets it.
        let walk_in = s.list_redemptions(passnum_store::RedemptionScope::Venue(w.lyon.id), 0, 10).await.unwrap().into_iter().find(|r| r.cheque_code == w.codes[10].grouped()).unwrap();
        let back = s.rollback(passnum_store::RollbackRequest { venue_id: w.lyon.id, redemption_id: walk_in.id, now: t0(), idempotency: None }).await.unwrap();
        accepted(&back.outcome);
        assert_eq!(s.workshop(ws.id).await.unwrap().seats_taken, 1);
        accepted(&s.redeem(scan(20, Some(ws.id))).await.unwrap().outcome);
        // Booklet 1's redemption cancelled: its booking is a booking again, usable once more.
        s.rollback(passnum_store::RollbackRequest { venue_id: w.lyon.id, redemption_id: r1.id, now: t0(), idempotency: None }).await.unwrap();
        assert_eq!(s.booking(b1.id).await.unwrap().status, "booked");
        accepted(&s.redeem(scan(2, Some(ws.id))).await.unwrap().outcome);
        // Without a workshop a scan stays possible, until the programme requires one.
        accepted(&s.redeem(scan(24, None)).await.unwrap().outcome);
        s.set_workshop_required(true, t0()).await.unwrap();
        assert_eq!(refused(&s.redeem(scan(25, None)).await.unwrap().outcome), "workshop_required");
    }
}

both_engines! {
    async fn two_cheques_of_one_booklet_racing_for_one_workshop_make_one_redemption(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        for round in 0..4 {
            let mut p = plan(10, "");
            p.time = time::Time::from_hms(8 + round as u8 * 2, 0, 0).unwrap();
            let ws = s.create_workshops(w.lyon.id, &p, day_before()).await.unwrap().remove(0);
            let tasks: Vec<_> = (0..2)
                .map(|i| {
                    let s = s.clone();
                    let mut r = redeem_req(&w.lyon, w.codes[round * 2 + i], t0());
                    r.workshop_id = Some(ws.id);
                    tokio::spawn(async move { s.redeem(r).await.unwrap().outcome })
                })
                .collect();
            let mut outcomes = vec![];
            for t in tasks {
                outcomes.push(refused(&t.await.unwrap()).to_string());
            }
            outcomes.sort();
            assert_eq!(outcomes, vec!["accepted".to_string(), "booklet_already_in_workshop".into()], "round {round}");
            assert_eq!(s.workshop(ws.id).await.unwrap().seats_taken, 1);
        }
    }
}

both_engines! {
    async fn a_contact_for_reminders_is_erased_once_the_workshop_is_over(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let ws = s.create_workshops(w.lyon.id, &plan(5, ""), day_before()).await.unwrap().remove(0);
        let b = s.book(ws.id, &key(s, w.order.id, 1).await, BookedBy::Person, Some("x@y.fr"), day_before()).await.unwrap();
        let other = s.book(ws.id, &key(s, w.order.id, 2).await, BookedBy::Person, None, day_before()).await.unwrap();
        // During the workshop (14:00–15:30 Paris, 12:00–13:30 UTC) the contact stays.
        let during = t0().plus_ms(3 * 3_600_000);
        assert_eq!(s.erase_past_booking_contacts(during).await.unwrap(), 0);
        assert!(s.booking(b.id).await.unwrap().has_contact);
        let after = t0().plus_ms(4 * 3_600_000);
        assert_eq!(s.erase_past_booking_contacts(after).await.unwrap(), 1);
        assert!(!s.booking(b.id).await.unwrap().has_contact);
        assert!(!s.booking(other.id).await.unwrap().has_contact);
        assert_eq!(s.erase_past_booking_contacts(after).await.unwrap(), 0, "once");
    }
}

both_engines! {
    async fn a_search_finds_workshops_with_a_free_place_near_the_person(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let at = |d: time::Date, cap: i64, svc: &str, title: &str| {
            let mut p = plan(cap, "");
            p.dates = vec![d];
            p.services = vec![svc.into()];
            p.title = title.into();
            p
        };
        let lyon = w.lyon.id;
        s.create_workshops(lyon, &at(date!(2026 - 06 - 16), 5, "2.1.07", "Courriels"), day_before()).await.unwrap();
        s.create_workshops(lyon, &at(date!(2026 - 06 - 17), 5, "1.1.02", "Découvrir"), day_before()).await.unwrap();
        let full = s.create_workshops(lyon, &at(date!(2026 - 06 - 18), 1, "2.1.07", "Complet"), day_before()).await.unwrap().remove(0);
        s.book(full.id, &key(s, w.order.id, 1).await, BookedBy::Person, None, day_before()).await.unwrap();
        let gone = s.create_workshops(lyon, &at(date!(2026 - 06 - 19), 5, "2.1.07", "Annulé"), day_before()).await.unwrap().remove(0);
        s.cancel_workshop(lyon, gone.id, "Fermé", day_before()).await.unwrap();
        s.create_workshops(lyon, &at(date!(2026 - 07 - 20), 5, "2.1.07", "Trop tard"), day_before()).await.unwrap();
        s.create_workshops(w.villeurbanne.id, &at(date!(2026 - 06 - 16), 5, "2.1.07", "Villeurbanne"), day_before()).await.unwrap();
        let search = |communes: &[&str], categories: &[&str]| passnum_store::WorkshopSearch {
            communes: communes.iter().map(|c| c.to_string()).collect(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            from: t0(),
            to: t0().plus_ms(14 * 86_400_000),
            limit: 20,
        };
        let titles = |found: Vec<(passnum_store::Workshop, String)>| found.into_iter().map(|(w, v)| format!("{} @ {v}", w.title)).collect::<Vec<_>>();
        assert_eq!(titles(s.search_workshops(&search(&["69123"], &[])).await.unwrap()), ["Courriels @ Médiathèque de Lyon", "Découvrir @ Médiathèque de Lyon"]);
        assert_eq!(titles(s.search_workshops(&search(&["69123", "69266"], &["2.1"])).await.unwrap()), ["Courriels @ Médiathèque de Lyon", "Villeurbanne @ Espace numérique de Villeurbanne"]);
        assert!(s.search_workshops(&search(&["75056"], &[])).await.unwrap().is_empty());
        assert!(s.search_workshops(&search(&[], &[])).await.unwrap().is_empty());
        // A venue suspended drops out of the search, and its workshops take no booking.
        let villeurbanne = s.venue_workshops(w.villeurbanne.id, t0(), t0().plus_ms(30 * 86_400_000), 10, 0).await.unwrap().remove(0);
        let d = passnum_core::StatusDecision::new(VenueStatus::Suspended, "Contrôle en cours");
        s.set_venue_status(w.villeurbanne.id, &d, None, day_before()).await.unwrap();
        assert_eq!(titles(s.search_workshops(&search(&["69266"], &[])).await.unwrap()), Vec::<String>::new());
        let booked = s.book(villeurbanne.id, &key(s, w.order.id, 2).await, BookedBy::Person, None, day_before()).await;
        assert_eq!(code(booked.unwrap_err()), "workshop_unknown");
    }
}

both_engines! {
    async fn the_funder_sees_whether_handed_out_booklets_reach_workshops(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(w.order.id, &[(ccas, 3)], "tests", t0()).await.unwrap();
        let h = handout();
        let ws = s.create_workshops(w.lyon.id, &plan(5, ""), day_before()).await.unwrap().remove(0);
        let before = s.distribution_stats(w.order.id).await.unwrap();
        assert_eq!((before.with_booking, before.attended_workshop, before.median_days_to_first_workshop), (0, 0, None));
        for n in 1..=2 {
            s.hand_out(ccas, None, w.order.id, n, &lyon, &h, day_before()).await.unwrap();
        }
        s.book(ws.id, &key(s, w.order.id, 1).await, BookedBy::Agent(ccas), None, day_before()).await.unwrap();
        let mut r = redeem_req(&w.lyon, w.codes[0], t0().plus_ms(3 * 3_600_000));
        r.workshop_id = Some(ws.id);
        accepted(&s.redeem(r).await.unwrap().outcome);
        // Booklet 3 is not handed out: its scan does not count.
        let mut r = redeem_req(&w.lyon, w.codes[20], t0().plus_ms(3 * 3_600_000));
        r.workshop_id = Some(ws.id);
        accepted(&s.redeem(r).await.unwrap().outcome);
        let stats = s.distribution_stats(w.order.id).await.unwrap();
        assert_eq!((stats.handed_out, stats.with_booking, stats.attended_workshop), (2, 1, 1));
        assert_eq!(stats.median_days_to_first_workshop, Some(1));
        // The structure sees, per handout, a booking and a cheque used; another sees nothing.
        let mine: Vec<i64> = s.handouts_of(ccas, 10, 0).await.unwrap().iter().map(|h| h.id).collect();
        let progress = s.handout_progress(ccas, &mine).await.unwrap();
        let by_number: std::collections::BTreeMap<i64, passnum_store::HandoutProgress> = s
            .handouts_of(ccas, 10, 0)
            .await
            .unwrap()
            .iter()
            .map(|h| (h.booklet_number, progress[&h.id]))
            .collect();
        assert_eq!(by_number[&1], passnum_store::HandoutProgress { booked: true, used: true });
        assert_eq!(by_number[&2], passnum_store::HandoutProgress::default());
        let other = s.create_distributor("Mairie", "mairie", &lyon, t0()).await.unwrap().id;
        assert!(s.handout_progress(other, &mine).await.unwrap().is_empty());
    }
}

both_engines! {
    async fn a_booklet_s_bookings_come_each_with_its_own_workshop(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let mut p = plan(5, "");
        p.dates.push(time::macros::date!(2026 - 06 - 22));
        let list = s.create_workshops(w.lyon.id, &p, day_before()).await.unwrap();
        let k = key(s, w.order.id, 1).await;
        let first = s.book(list[0].id, &k, BookedBy::Person, None, day_before()).await.unwrap();
        let second = s.book(list[1].id, &k, BookedBy::Person, None, day_before()).await.unwrap();
        let mine = s.booklet_bookings(&k).await.unwrap();
        let pairs: Vec<(i64, i64)> = mine.iter().map(|(b, w)| (b.id, w.id)).collect();
        assert_eq!(pairs, vec![(second.id, list[1].id), (first.id, list[0].id)], "newest first, each with its workshop");
        assert!(mine.iter().all(|(_, w)| w.services == vec!["2.1.07".to_string()]));
    }
}
