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
        // Failed sign-ins are counted per address.
        for i in 0..3 {
            s.record_login_failure("agnes@mediatheque.fr", t0().plus_ms(i)).await.unwrap();
        }
        assert_eq!(s.login_failures_since("Agnes@mediatheque.fr", t0().plus_ms(-1)).await.unwrap(), 3);
        assert_eq!(s.login_failures_since("agnes@mediatheque.fr", t0().plus_ms(1)).await.unwrap(), 1);
        // A reset link works once, and closes open sessions.
        let live = s.create_session(m.id, t0(), 3_600_000).await.unwrap();
        let reset = s.create_password_reset(m.id, t0(), 3_600_000).await.unwrap();
        assert!(s.password_reset_valid(&reset, t0()).await.unwrap());
        s.reset_password(&reset, "hash-2", t0().plus_ms(10)).await.unwrap();
        assert_eq!(s.staff_for_sign_in("agnes@mediatheque.fr").await.unwrap().unwrap().1, "hash-2");
        assert!(matches!(s.reset_password(&reset, "hash-3", t0().plus_ms(20)).await, Err(StoreError::NotFound)));
        assert!(!s.password_reset_valid(&reset, t0()).await.unwrap());
        assert_eq!(s.session_staff(&live, t0()).await.unwrap(), None);
        assert_eq!(s.login_failures_since("agnes@mediatheque.fr", t0().plus_ms(-1)).await.unwrap(), 0);
        // An expired link is refused.
        let old = s.create_password_reset(m.id, t0(), 1000).await.unwrap();
        assert!(matches!(s.reset_password(&old, "h", t0().plus_ms(2000)).await, Err(StoreError::NotFound)));
    }
}
