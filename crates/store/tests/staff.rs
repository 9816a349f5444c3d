//! Staff accounts, sessions, password resets and failed sign-ins, on both engines.

mod common;

use common::*;
use passnum_core::InseeCode;
use passnum_store::{Actor, StoreError, both_engines};

both_engines! {
    async fn sessions_and_password_resets(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let m = s.create_staff(" Agnes@Mediatheque.fr ", "Agnès", "hash-1", Actor::Venue(w.lyon.id), t0()).await.unwrap();
        assert_eq!(m.email, "agnes@mediatheque.fr");
        let dup = s.create_staff("agnes@mediatheque.fr", "Autre", "h", Actor::Operator, t0()).await;
        assert!(matches!(dup, Err(StoreError::Conflict { code: "email_taken", .. })));
        assert!(matches!(s.create_staff("pas-une-adresse", "X", "h", Actor::Operator, t0()).await, Err(StoreError::Invalid { .. })));
        assert!(matches!(s.create_staff("x@y.fr", "X", "h", Actor::Venue(passnum_core::VenueId(999)), t0()).await, Err(StoreError::NotFound)));
        let (found, hash) = s.staff_for_sign_in("AGNES@mediatheque.fr").await.unwrap().unwrap();
        assert_eq!((found.id, hash.as_str()), (m.id, "hash-1"));
        // A session lives until it expires or is closed.
        let token = s.create_session(m.id, t0(), 3_600_000).await.unwrap();
        assert_eq!(s.session_staff(&token, t0().plus_ms(1000)).await.unwrap().map(|m| m.actor), Some(Actor::Venue(w.lyon.id)));
        assert_eq!(s.session_staff(&token, t0().plus_ms(3_600_001)).await.unwrap(), None);
        assert_eq!(s.session_staff("forged", t0()).await.unwrap(), None);
        s.delete_session(&token).await.unwrap();
        assert_eq!(s.session_staff(&token, t0()).await.unwrap(), None);
        // Sign-in attempts are counted per account and client, and per client.
        let since = t0().plus_ms(-1);
        for i in 0..3 {
            s.record_sign_in_attempt("agnes@mediatheque.fr", "192.0.2.1", t0().plus_ms(i), since).await.unwrap();
        }
        let other = s.record_sign_in_attempt("autre@mediatheque.fr", "192.0.2.1", t0().plus_ms(3), since).await.unwrap();
        // Read back oldest first, each marked as on the account asked about or not.
        let tally = |v: &[passnum_store::PastAttempt]| (v.iter().filter(|a| a.on_account).count(), v.len());
        assert_eq!(tally(&other), (1, 4));
        assert_eq!(other.last().map(|a| a.at), Some(t0().plus_ms(3)));
        assert!(other.windows(2).all(|w| w[0].at <= w[1].at));
        let counts = |email: &'static str, client: &'static str, since| async move {
            tally(&s.sign_in_attempts(email, client, since).await.unwrap())
        };
        assert_eq!(counts("Agnes@mediatheque.fr", "192.0.2.1", since).await, (3, 4));
        assert_eq!(counts("agnes@mediatheque.fr", "192.0.2.1", t0().plus_ms(1)).await, (1, 2));
        // Another client is not slowed down by these.
        assert_eq!(counts("agnes@mediatheque.fr", "198.51.100.7", since).await, (0, 0));
        s.clear_sign_in_attempts("agnes@mediatheque.fr", "192.0.2.1").await.unwrap();
        assert_eq!(counts("agnes@mediatheque.fr", "192.0.2.1", since).await, (0, 1));
        s.record_sign_in_attempt("agnes@mediatheque.fr", "192.0.2.1", t0(), since).await.unwrap();
        // A reset link works once, and closes open sessions.
        let live = s.create_session(m.id, t0(), 3_600_000).await.unwrap();
        let reset = s.create_password_reset(m.id, t0(), 3_600_000).await.unwrap();
        assert!(s.password_reset_valid(&reset, t0()).await.unwrap());
        s.reset_password(&reset, "hash-2", t0().plus_ms(10)).await.unwrap();
        assert_eq!(s.staff_for_sign_in("agnes@mediatheque.fr").await.unwrap().unwrap().1, "hash-2");
        assert!(matches!(s.reset_password(&reset, "hash-3", t0().plus_ms(20)).await, Err(StoreError::NotFound)));
        assert!(!s.password_reset_valid(&reset, t0()).await.unwrap());
        assert_eq!(s.session_staff(&live, t0()).await.unwrap(), None);
        assert_eq!(counts("agnes@mediatheque.fr", "192.0.2.1", since).await, (0, 1));
        // Old attempts are purged.
        assert_eq!(s.purge_sign_in_attempts(t0().plus_ms(100)).await.unwrap(), 1);
        assert_eq!(counts("autre@mediatheque.fr", "192.0.2.1", since).await, (0, 0));
        // An expired link is refused.
        let old = s.create_password_reset(m.id, t0(), 1000).await.unwrap();
        assert!(matches!(s.reset_password(&old, "h", t0().plus_ms(2000)).await, Err(StoreError::NotFound)));
    }
}

both_engines! {
    async fn housekeeping_forgets_old_keys_attempts_and_expired_sessions_only(db) {
        use passnum_store::{IdempotencyKey, Retention};
        let s = &db.store;
        let w = world(s, 1).await;
        let day = 24 * 3_600_000;
        let keyed = |i: usize, now: passnum_core::Timestamp| {
            let mut r = redeem_req(&w.lyon, w.codes[i], now);
            r.idempotency = Some(IdempotencyKey { actor: "venue:1".into(), key: format!("k{i}"), request_hash: format!("h{i}") });
            r
        };
        s.redeem(keyed(0, t0())).await.unwrap();
        s.redeem(keyed(1, t0().plus_ms(9 * day))).await.unwrap();
        let m = s.create_staff("agent@ccas.fr", "Agent", "h", Actor::Operator, t0()).await.unwrap();
        let old = s.create_session(m.id, t0(), 3_600_000).await.unwrap();
        let live = s.create_session(m.id, t0().plus_ms(9 * day), 3_600_000).await.unwrap();
        s.create_password_reset(m.id, t0(), 3_600_000).await.unwrap();
        s.record_sign_in_attempt("agent@ccas.fr", "192.0.2.1", t0(), t0()).await.unwrap();
        s.record_sign_in_attempt("agent@ccas.fr", "192.0.2.1", t0().plus_ms(9 * day), t0()).await.unwrap();
        let now = t0().plus_ms(9 * day + 1000);
        let keep = Retention { idempotency_ms: 7 * day, sign_in_attempts_ms: day, handout_answers_ms: 730 * day };
        let purged = s.housekeeping(now, keep).await.unwrap();
        assert_eq!((purged.idempotency_keys, purged.sign_in_attempts, purged.sessions, purged.password_links), (1, 1, 1, 1));
        // The recent key still replays its answer; the live session still works.
        let again = s.redeem(keyed(1, now)).await.unwrap();
        assert!(again.replayed);
        assert!(s.session_staff(&live, now).await.unwrap().is_some());
        assert!(s.session_staff(&old, now).await.unwrap().is_none());
        // Nothing left to forget.
        assert_eq!(s.housekeeping(now, keep).await.unwrap(), passnum_store::Purged::default());
        // A retention shorter than the rollback window plus a day is raised to it.
        let short = Retention { idempotency_ms: 1, sign_in_attempts_ms: day, handout_answers_ms: 730 * day };
        assert_eq!(s.housekeeping(now, short).await.unwrap().idempotency_keys, 0);
    }
}

both_engines! {
    async fn one_organisation_wears_both_hats_for_every_account(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let lyon = InseeCode::parse_known("69123").unwrap();
        // A médiathèque registered as a structure of the venue it already is.
        let d = s.create_structure("Médiathèque de Lyon", "mediatheque", &lyon, Some(w.lyon.id), t0()).await.unwrap();
        assert_eq!(d.venue_id, Some(w.lyon.id));
        // A venue is one structure at most; a structure is one venue at most; an unknown venue is named.
        let again = s.create_structure("Autre", "ccas", &lyon, Some(w.lyon.id), t0()).await.unwrap_err();
        assert!(matches!(again, StoreError::Conflict { code: "venue_has_structure", .. }), "{again:?}");
        assert!(matches!(s.create_structure("Autre", "ccas", &lyon, Some(passnum_core::VenueId(999_999)), t0()).await,
            Err(StoreError::Invalid { code: "venue_unknown", .. })));
        let plain = s.create_distributor("CCAS", "ccas", &lyon, t0()).await.unwrap();
        assert!(matches!(s.link_structure_to_venue(plain.id, w.lyon.id).await, Err(StoreError::Conflict { code: "venue_has_structure", .. })));
        assert!(matches!(s.link_structure_to_venue(d.id, w.villeurbanne.id).await, Err(StoreError::Conflict { code: "structure_has_venue", .. })));
        assert_eq!(s.link_structure_to_venue(plain.id, w.villeurbanne.id).await.unwrap().venue_id, Some(w.villeurbanne.id));
        assert_eq!(s.list_distributors(10, 0).await.unwrap().len(), 2, "nothing half-written by the refusals");
        // Each account of either hat reads the other with its session.
        let hat = |actor: Actor| async move {
            let m = s.create_staff(&format!("{}@x.fr", actor.key().replace(':', "-")), "P", "h", actor, t0()).await.unwrap();
            let token = s.create_session(m.id, t0(), 3_600_000).await.unwrap();
            s.session_staff(&token, t0()).await.unwrap().unwrap().also
        };
        assert_eq!(hat(Actor::Venue(w.lyon.id)).await, Some(Actor::Distributor(d.id)));
        assert_eq!(hat(Actor::Distributor(d.id)).await, Some(Actor::Venue(w.lyon.id)));
        assert_eq!(hat(Actor::Venue(w.paris.id)).await, None);
        assert_eq!(hat(Actor::Funder(w.funder.id)).await, None);
    }
}
