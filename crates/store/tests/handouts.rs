//! Handing booklets over, on both engines: only from one's own stock, once per booklet, one
//! per household when the funder says so (also under parallel handouts), refusals that change
//! nothing, the funder's figures, and the venue directory orientation reads.

mod common;

use std::collections::BTreeSet;

use common::*;
use passnum_core::handout::{
    Handout, HandoutRequest, HandoutRules, HouseholdKey, HouseholdRequest,
};
use passnum_core::{InseeCode, Timestamp};
use passnum_store::{DistributorId, Holder, Store, StoreError, both_engines};

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

fn key() -> HouseholdKey {
    HouseholdKey::from_bytes([3; 32])
}

fn person(surname: &str, publics: &[&str]) -> HandoutRequest {
    HandoutRequest {
        needs: vec!["online_procedures".into()],
        equipment: "phone_only".into(),
        level: "beginner".into(),
        publics: publics.iter().map(|p| p.to_string()).collect(),
        consent: true,
        household: Some(HouseholdRequest {
            surname: surname.into(),
            birth_date: "1950-03-07".into(),
            postcode: "69001".into(),
        }),
        ..Default::default()
    }
}

fn lyon() -> InseeCode {
    InseeCode::parse_known("69123").unwrap()
}

async fn two_structures(s: &Store, order: passnum_core::OrderId) -> (DistributorId, DistributorId) {
    let a = s
        .create_distributor("CCAS de Lyon", "ccas", &lyon(), t0())
        .await
        .unwrap()
        .id;
    let b = s
        .create_distributor(
            "Mairie de Villeurbanne",
            "mairie",
            &InseeCode::parse_known("69266").unwrap(),
            t0(),
        )
        .await
        .unwrap()
        .id;
    s.allocate_booklets(order, &[(a, 3), (b, 2)], "tests", t0())
        .await
        .unwrap();
    (a, b)
}

both_engines! {
    async fn an_agent_hands_out_its_own_stock_once(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let (a, b) = two_structures(s, w.order.id).await;
        let stock = s.distributor_stock(a, 50, 0).await.unwrap();
        assert_eq!(stock.iter().map(|x| x.number).collect::<Vec<_>>(), [1, 2, 3]);
        let h = Handout::parse(&person("Martin", &["senior"]), &HandoutRules::default(), &key()).unwrap();
        let rec = s.hand_out(a, None, w.order.id, 1, &lyon(), &h, t0()).await.unwrap();
        assert_eq!(rec.booklet_number, 1);
        assert_eq!(rec.publics, ["senior"]);
        assert_eq!(rec.needs, ["online_procedures"]);
        assert_eq!(s.distributor_stock_count(a).await.unwrap(), 2);
        assert_eq!(s.distribution_of(w.order.id).await.unwrap()[0].handed_out, 1);

        // The same booklet again, another structure's booklet, an unknown number: refused,
        // nothing written.
        assert_eq!(code(s.hand_out(a, None, w.order.id, 1, &lyon(), &h, t0()).await.unwrap_err()), "already_handed_out");
        assert_eq!(code(s.hand_out(b, None, w.order.id, 2, &lyon(), &h, t0()).await.unwrap_err()), "not_in_your_stock");
        assert_eq!(code(s.hand_out(a, None, w.order.id, 99, &lyon(), &h, t0()).await.unwrap_err()), "unknown_booklet");
        // A booklet still in the funder's stock is no structure's to give.
        assert_eq!(code(s.hand_out(a, None, w.order.id, 10, &lyon(), &h, t0()).await.unwrap_err()), "not_in_your_stock");
        assert_eq!(s.distributor_stock_count(b).await.unwrap(), 2);
        assert!(s.handouts_of(b, 50, 0).await.unwrap().is_empty());
        assert!(matches!(s.get_handout(b, rec.id).await, Err(StoreError::NotFound)), "another structure's handout is not visible");
        assert_eq!(s.get_handout(a, rec.id).await.unwrap(), rec);

        // A lost booklet cannot be handed out.
        s.block_booklet(w.order.id, 2, false, t0()).await.unwrap();
        assert_eq!(code(s.hand_out(a, None, w.order.id, 2, &lyon(), &h, t0()).await.unwrap_err()), "booklet_blocked");
        assert_eq!(s.distributor_stock(a, 50, 0).await.unwrap().iter().map(|x| x.number).collect::<Vec<_>>(), [3]);
    }
}

both_engines! {
    async fn one_booklet_per_household_when_the_funder_says_so(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let (a, b) = two_structures(s, w.order.id).await;
        assert_eq!(code(s.set_order_rules(w.order.id, true, false).await.unwrap_err()), "no_target_publics");
        let rules = s.set_order_rules(w.order.id, false, true).await.unwrap();
        assert!(rules.one_per_household);
        let first = Handout::parse(&person("Lefèvre", &[]), &rules, &key()).unwrap();
        s.hand_out(a, None, w.order.id, 1, &lyon(), &first, t0()).await.unwrap();
        // Same person, typed differently, at another structure.
        let again = Handout::parse(&person("LEFEVRE ", &[]), &rules, &key()).unwrap();
        assert_eq!(code(s.hand_out(b, None, w.order.id, 4, &lyon(), &again, t0()).await.unwrap_err()), "household_already_served");
        assert_eq!(s.distributor_stock_count(b).await.unwrap(), 2, "nothing changed");
        // Another person is served.
        let other = Handout::parse(&person("Durand", &[]), &rules, &key()).unwrap();
        s.hand_out(b, None, w.order.id, 4, &lyon(), &other, t0()).await.unwrap();
    }
}

both_engines! {
    async fn parallel_handouts_to_one_household_give_one_booklet(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let (a, b) = two_structures(s, w.order.id).await;
        let rules = s.set_order_rules(w.order.id, false, true).await.unwrap();
        let h = Handout::parse(&person("Moreau", &[]), &rules, &key()).unwrap();
        let tasks: Vec<_> = [(a, 1), (a, 2), (a, 3), (b, 4), (b, 5)]
            .into_iter()
            .map(|(d, n)| {
                let (s, h, order) = (s.clone(), h.clone(), w.order.id);
                tokio::spawn(async move { s.hand_out(d, None, order, n, &lyon(), &h, t0()).await })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(code(e), "household_already_served"),
            }
        }
        assert_eq!(ok, 1);
        let handed: i64 = s.distribution_of(w.order.id).await.unwrap().iter().map(|d| d.handed_out).sum();
        assert_eq!(handed, 1, "the refused handouts left their booklets in stock");
    }
}

both_engines! {
    async fn the_funder_sees_handouts_per_structure_public_and_commune(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let (a, b) = two_structures(s, w.order.id).await;
        let rules = HandoutRules::default();
        let senior = Handout::parse(&person("A", &["senior", "isolated"]), &rules, &key()).unwrap();
        let nobody = Handout::parse(&person("B", &[]), &rules, &key()).unwrap();
        s.hand_out(a, None, w.order.id, 1, &lyon(), &senior, t0()).await.unwrap();
        s.hand_out(a, None, w.order.id, 2, &InseeCode::parse_known("69266").unwrap(), &nobody, t0()).await.unwrap();
        s.hand_out(b, None, w.order.id, 4, &lyon(), &senior, t0()).await.unwrap();
        // Booklet 1's first cheque is used 3 days after the handout, booklet 4's after 40 days.
        let later = |days: i64| Timestamp::from_unix_ms(t0().unix_ms() + days * 86_400_000);
        s.redeem(redeem_req(&w.lyon, w.codes[0], later(3))).await.unwrap();
        s.redeem(redeem_req(&w.lyon, w.codes[30], later(40))).await.unwrap();
        // A cheque of a booklet never handed out does not count as a start.
        s.redeem(redeem_req(&w.lyon, w.codes[90], later(1))).await.unwrap();
        let st = s.distribution_stats(w.order.id).await.unwrap();
        let per: Vec<(i64, i64, i64)> = st.distributors.iter().map(|d| (d.allocated, d.handed_out, d.started)).collect();
        assert_eq!(per, [(3, 2, 1), (2, 1, 1)]);
        assert_eq!(st.handed_out, 3);
        assert_eq!(st.per_public.get("senior"), Some(&2));
        assert_eq!(st.per_public.get("isolated"), Some(&2));
        assert_eq!(st.without_public, 1);
        assert_eq!(st.per_commune, [("69123".to_string(), 2), ("69266".to_string(), 1)]);
        assert_eq!(st.started_within_30_days, 1);
        assert_eq!(st.started_within_30_days_permille(), Some(333));
    }
}

both_engines! {
    async fn the_directory_lists_qualified_venues_with_their_categories(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        s.set_venue_status(w.paris.id, &passnum_core::StatusDecision::new(passnum_core::VenueStatus::Suspended, "test"), None, t0()).await.unwrap();
        let dir = s.venue_directory(passnum_core::paris::local_date(t0())).await.unwrap();
        let ids: Vec<i64> = dir.iter().map(|v| v.id).collect();
        assert_eq!(ids, [w.lyon.id.0, w.villeurbanne.id.0], "the suspended venue is left out");
        // The test venues list no service: they offer every category of the référentiel.
        let all: BTreeSet<String> = ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "3.3", "3.4", "3.5"].iter().map(|c| c.to_string()).collect();
        assert_eq!(dir[0].categories, all);
        let v = s.set_venue_practical_info(w.lyon.id, " mardi 9 h–12 h ", "plain-pied", t0().plus_ms(86_400_000)).await.unwrap();
        assert_eq!(v.opening_hours, "mardi 9 h–12 h");
        let updated: i64 = sqlx::query_scalar("SELECT updated_at FROM venues WHERE id = $1").bind(w.lyon.id.0).fetch_one(s.pool()).await.unwrap();
        assert_eq!(updated, t0().plus_ms(86_400_000).unix_ms(), "the standard's date_maj follows practical information");
        let cards = s.venue_cards(&[w.villeurbanne.id.0, w.lyon.id.0]).await.unwrap();
        assert_eq!(cards[1].accessibility, "plain-pied");
        assert_eq!(cards[0].name, "Espace numérique de Villeurbanne");
    }
}

both_engines! {
    async fn every_server_must_share_the_household_key(db) {
        let s = &db.store;
        s.check_household_key(&key().fingerprint()).await.unwrap();
        s.check_household_key(&key().fingerprint()).await.unwrap();
        let other = HouseholdKey::from_bytes([4; 32]);
        assert!(matches!(s.check_household_key(&other.fingerprint()).await, Err(StoreError::Config(_))));
    }
}

both_engines! {
    async fn the_j30_alert_counts_booklets_handed_out(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let (a, _) = two_structures(s, w.order.id).await;
        let h = Handout::parse(&person("A", &[]), &HandoutRules::default(), &key()).unwrap();
        s.hand_out(a, None, w.order.id, 1, &lyon(), &h, t0()).await.unwrap();
        s.hand_out(a, None, w.order.id, 2, &lyon(), &h, t0()).await.unwrap();
        let j30 = Timestamp::from_offset_datetime(time::macros::datetime!(2026-12-02 10:00 UTC));
        let done = s.run_closing_steps(j30).await.unwrap();
        assert!(done[0].summary.contains("10 carnets émis, 2 remis, 0 entamés"), "{}", done[0].summary);
    }
}

both_engines! {
    async fn an_agent_blocks_a_booklet_it_handed_out_and_no_other(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let (a, b) = two_structures(s, w.order.id).await;
        let h = Handout::parse(&person("A", &[]), &HandoutRules::default(), &key()).unwrap();
        let rec = s.hand_out(a, None, w.order.id, 1, &lyon(), &h, t0()).await.unwrap();
        s.redeem(redeem_req(&w.lyon, w.codes[0], t0())).await.unwrap();
        assert!(matches!(s.block_handed_out_booklet(b, rec.id, true, t0()).await, Err(StoreError::NotFound)));
        // Nine cheques left unused are blocked; the one already used stays used.
        assert_eq!(s.block_handed_out_booklet(a, rec.id, true, t0()).await.unwrap(), 9);
        assert_eq!(code(s.block_handed_out_booklet(a, rec.id, true, t0()).await.unwrap_err()), "booklet_blocked");
        let refused = s.redeem(redeem_req(&w.lyon, w.codes[1], t0())).await.unwrap().outcome;
        assert!(matches!(refused, passnum_store::Outcome::Refused(_)), "{refused:?}");
    }
}

both_engines! {
    async fn diagnostic_answers_are_erased_two_years_after_the_last_contact(db) {
        use passnum_store::Retention;
        const DAY: i64 = 24 * 3_600_000;
        let s = &db.store;
        let w = world(s, 10).await;
        let (a, _) = two_structures(s, w.order.id).await;
        let rules = s.set_order_rules(w.order.id, false, true).await.unwrap();
        let quiet = Handout::parse(&person("Lefèvre", &["senior"]), &rules, &key()).unwrap();
        let active = Handout::parse(&person("Durand", &["senior"]), &rules, &key()).unwrap();
        let h1 = s.hand_out(a, None, w.order.id, 1, &lyon(), &quiet, t0()).await.unwrap();
        let h2 = s.hand_out(a, None, w.order.id, 2, &lyon(), &active, t0()).await.unwrap();
        // Booklet 2 (cheques 11 to 20) is used two days later: its last contact moves.
        s.redeem(redeem_req(&w.lyon, w.codes[10], t0().plus_ms(2 * DAY))).await.unwrap();
        let before = s.distribution_of(w.order.id).await.unwrap();
        let keep = Retention { idempotency_ms: 7 * DAY, sign_in_attempts_ms: DAY, handout_answers_ms: 730 * DAY };

        let first = t0().plus_ms(731 * DAY);
        assert_eq!(s.housekeeping(first, keep).await.unwrap().handout_answers, 1);
        let erased = s.get_handout(a, h1.id).await.unwrap();
        assert_eq!(erased.answers_erased_at, Some(first));
        assert!(erased.needs.is_empty() && erased.equipment.is_empty() && erased.level.is_empty(), "{erased:?}");
        assert_eq!(erased.publics, vec!["senior".to_string()], "the publics stay for the figures");
        assert_eq!(erased.commune_insee, "69123");
        let kept = s.get_handout(a, h2.id).await.unwrap();
        assert_eq!((kept.answers_erased_at, kept.needs.clone()), (None, vec!["online_procedures".to_string()]), "used 2 days later: kept");
        let hashes: Vec<Option<String>> = sqlx::query_scalar("SELECT household_hash FROM handouts ORDER BY id").fetch_all(s.pool()).await.unwrap();
        assert_eq!((hashes[0].is_none(), hashes[1].is_some()), (true, true), "{hashes:?}");

        let later = t0().plus_ms(733 * DAY);
        assert_eq!(s.housekeeping(later, keep).await.unwrap().handout_answers, 1);
        assert!(s.get_handout(a, h2.id).await.unwrap().answers_erased_at.is_some());
        assert_eq!(s.housekeeping(later, keep).await.unwrap().handout_answers, 0, "nothing twice");
        assert_eq!(s.distribution_of(w.order.id).await.unwrap(), before, "the figures do not change");
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
    }
}

both_engines! {
    async fn the_inventory_at_any_date_follows_moves_handouts_and_blockings(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let at = |hours: i64| t0().plus_ms(hours * 3_600_000);
        let before = s.inventory_at(w.order.id, t0().plus_ms(-1)).await.unwrap();
        let line = |inv: &[passnum_store::HolderInventory], i: usize| {
            let l = &inv[i];
            (l.name.clone(), l.received, l.sent, l.handed_out, l.blocked, l.in_stock)
        };
        // Issued at t0: the funder holds all ten.
        let issued = s.inventory_at(w.order.id, t0()).await.unwrap();
        assert!(before.is_empty(), "nothing before the order is issued: {before:?}");
        assert_eq!(issued.len(), 1);
        assert_eq!(line(&issued, 0), ("Stock du commanditaire".into(), 10, 0, 0, 0, 10));
        let a = s.create_distributor("CCAS de Lyon", "ccas", &lyon(), t0()).await.unwrap().id;
        let b = s.create_distributor("Mairie de Villeurbanne", "mairie", &InseeCode::parse_known("69266").unwrap(), t0()).await.unwrap().id;
        s.allocate_booklets(w.order.id, &[(a, 5), (b, 3)], "tests", at(1)).await.unwrap();
        s.transfer_booklets(w.order.id, a, b, 2, "tests", at(2)).await.unwrap();
        let h = Handout::parse(&person("Martin", &["senior"]), &HandoutRules::default(), &key()).unwrap();
        let given = s.distributor_stock(b, 50, 0).await.unwrap()[0].number;
        s.hand_out(b, None, w.order.id, given, &lyon(), &h, at(3)).await.unwrap();
        let lost = s.distributor_stock(a, 50, 0).await.unwrap()[0].number;
        s.block_booklet(w.order.id, lost, false, at(4)).await.unwrap();
        let counts = |inv: Vec<passnum_store::HolderInventory>| inv.iter().map(|l| (l.holder, l.in_stock)).collect::<Vec<_>>();
        let (funder, a_, b_) = (Holder::Funder, Holder::Structure(a), Holder::Structure(b));
        assert_eq!(counts(s.inventory_at(w.order.id, at(1)).await.unwrap()), [(funder, 2), (a_, 5), (b_, 3)]);
        assert_eq!(counts(s.inventory_at(w.order.id, at(2)).await.unwrap()), [(funder, 2), (a_, 3), (b_, 5)]);
        assert_eq!(counts(s.inventory_at(w.order.id, at(3)).await.unwrap()), [(funder, 2), (a_, 3), (b_, 4)]);
        let last = s.inventory_at(w.order.id, at(4)).await.unwrap();
        assert_eq!(line(&last, 1), ("CCAS de Lyon".into(), 5, 2, 0, 1, 2));
        assert_eq!(line(&last, 2), ("Mairie de Villeurbanne".into(), 5, 0, 1, 0, 4));
        // The inventory now agrees with the live stock of each structure.
        for d in s.distribution_of(w.order.id).await.unwrap() {
            let l = last.iter().find(|l| l.holder == Holder::Structure(d.distributor_id)).unwrap();
            assert_eq!((l.in_stock, l.handed_out), (d.in_stock, d.handed_out), "{}", d.name);
        }
        assert_eq!(s.unallocated_booklets(w.order.id).await.unwrap(), last[0].in_stock);
        // The latest moves, newest first, with the count of all; one move by its number.
        let all = s.allocation_moves(w.order.id).await.unwrap();
        let (latest, total) = s.latest_allocation_moves(w.order.id, 2).await.unwrap();
        assert_eq!((latest, total), (vec![all[2].clone(), all[1].clone()], 3));
        assert_eq!(s.allocation_move(w.order.id, all[0].id).await.unwrap(), all[0]);
        assert!(matches!(s.allocation_move(w.order.id, all[2].id + 1).await, Err(StoreError::NotFound)));
        // Each move says which booklets it carried and who decided it.
        assert_eq!((all[0].numbers.as_deref(), all[1].numbers.as_deref()), (Some("1-5"), Some("6-8")));
        assert_eq!(all[2].numbers.as_deref(), Some("1-2"), "the giver's lowest numbers");
        assert_eq!(all[2].decided_by.as_deref(), Some("tests"));
    }
}

both_engines! {
    /// Handouts, transfers and allocations of one order at once (real parallel tasks): each
    /// booklet ends in one place, and what a structure's counter reads through its holder runs
    /// agrees with the booklets' own rows (migration 35).
    async fn handouts_transfers_and_allocations_at_once_keep_every_booklet_in_one_place(db) {
        let s = &db.store;
        let w = world(s, 60).await;
        let (a, b) = two_structures(s, w.order.id).await;
        let c = s.create_distributor("Médiathèque", "mediatheque", &lyon(), t0()).await.unwrap().id;
        s.allocate_booklets(w.order.id, &[(a, 17), (b, 18)], "tests", t0()).await.unwrap();
        let h = Handout::parse(&person("Martin", &[]), &HandoutRules::default(), &key()).unwrap();
        let order = w.order.id;
        let mut tasks = vec![];
        // a holds 1-3 and 6-22: its agents hand out 6-15 while it gives booklets away.
        for n in 6..16 {
            let (s, h) = (s.clone(), h.clone());
            tasks.push(tokio::spawn(async move { ("handout", s.hand_out(a, None, order, n, &lyon(), &h, t0()).await.map(|_| ())) }));
        }
        for (from, to, n) in [(a, b, 2), (a, c, 3), (b, c, 3), (b, a, 1), (c, a, 2), (a, b, 2), (b, c, 4), (c, b, 1)] {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { ("transfer", s.transfer_booklets(order, from, to, n, "tests", t0()).await) }));
        }
        for n in [5, 4, 6] {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { ("allocation", s.allocate_booklets(order, &[(c, n)], "tests", t0()).await) }));
        }
        let mut handed = 0;
        for t in tasks {
            match t.await.unwrap() {
                (_, Ok(())) => {}
                // A booklet given away first is no longer at the counter; a structure that
                // gave its stock away has none left to transfer.
                ("handout", Err(e)) => assert!(matches!(e, StoreError::Invalid { .. } | StoreError::Conflict { .. }), "{e:?}"),
                ("transfer", Err(e)) => assert_eq!(code(e), "stock_short"),
                (what, Err(e)) => panic!("{what}: {e:?}"),
            }
        }
        let lines = s.distribution_of(order).await.unwrap();
        for l in &lines {
            handed += l.handed_out;
            assert_eq!(s.distributor_stock_count(l.distributor_id).await.unwrap(), l.in_stock, "{l:?}");
        }
        let held: i64 = lines.iter().map(|l| l.in_stock + l.handed_out).sum();
        assert_eq!(held + s.unallocated_booklets(order).await.unwrap(), 60, "every booklet is somewhere, once");
        assert_eq!(held, 5 + 35 + 15, "the three allocations went through");
        assert!(handed >= 1, "some handouts went through");
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
    }
}
