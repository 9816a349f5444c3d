//! Staff accounts, sessions, password resets and failed sign-ins, on both engines.

mod common;

use common::*;
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
        assert_eq!((other.on_account, other.from_client), (1, 4));
        let counts = |email: &'static str, client: &'static str, since| async move {
            let c = s.sign_in_attempts(email, client, since).await.unwrap();
            (c.on_account, c.from_client)
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
