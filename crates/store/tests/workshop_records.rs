//! Activity records of workshops, on both engines: only once the workshop has started and if
//! it was not cancelled, never fewer participants than cheques scanned, corrected in place with
//! its participants replaced, and read back a month at a time.

mod common;

use common::*;
use passnum_core::Timestamp;
use passnum_core::workshop::record::{
    ActivityRecord, AgeBand, Autonomy, Equipment, Participant, Theme,
};
use passnum_core::workshop::{Level, Place, WorkshopFormat, WorkshopPlan};
use passnum_store::{Outcome, StoreError, both_engines};
use time::macros::{date, time};

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

/// Two collective workshops, 15 June 2026 at 14:00 and 22 June (t0 is the morning of the 15th).
fn plan() -> WorkshopPlan {
    WorkshopPlan {
        format: WorkshopFormat::Collective,
        title: "Envoyer un courriel".into(),
        services: vec!["2.1.07".into()],
        level: Level::Beginner,
        time: time!(14:00),
        dates: vec![date!(2026 - 06 - 15), date!(2026 - 06 - 22)],
        duration_min: 90,
        place: Place::AtVenue,
        capacity: 4,
        mediator: String::new(),
        accessibility: String::new(),
    }
}

fn record(attendance: i64, participants: Vec<Participant>) -> ActivityRecord {
    ActivityRecord {
        attendance,
        duration_min: 100,
        themes: vec![Theme::Email],
        equipment: vec![Equipment::Computer, Equipment::Phone],
        participants,
    }
}

both_engines! {
    async fn a_held_workshop_gets_its_record_never_below_its_scans_and_corrected_in_place(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        let list = s.create_workshops(w.lyon.id, &plan(), t0().plus_ms(-86_400_000)).await.unwrap();
        let (first, next_week) = (list[0].id, list[1].id);
        let after = t0().plus_ms(4 * 3_600_000);
        // Two cheques of two booklets scanned for the first workshop.
        for i in [0, 10] {
            let mut r = redeem_req(&w.lyon, w.codes[i], t0());
            r.workshop_id = Some(first);
            assert!(matches!(s.redeem(r).await.unwrap().outcome, Outcome::Accepted(_)));
        }
        let a = s.workshop_activity(w.lyon.id, first).await.unwrap();
        assert_eq!((a.scanned, a.record.is_none()), (2, true));

        // Before it starts, for another venue, or below the scans: refused, nothing written.
        let early = s.save_workshop_record(w.lyon.id, first, &record(2, vec![]), None, t0()).await.unwrap_err();
        assert_eq!(code(early), "workshop_not_held_yet");
        assert!(matches!(s.save_workshop_record(w.villeurbanne.id, first, &record(2, vec![]), None, after).await, Err(StoreError::NotFound)));
        assert_eq!(code(s.save_workshop_record(w.lyon.id, first, &record(1, vec![]), None, after).await.unwrap_err()), "attendance_below_scans");
        assert_eq!(code(s.save_workshop_record(w.lyon.id, first, &record(5, vec![]), None, after).await.unwrap_err()), "attendance_below_scans", "beyond capacity");
        assert!(s.workshop_activity(w.lyon.id, first).await.unwrap().record.is_none());

        let old = Participant { age: Some(AgeBand::From70), autonomy: Some(Autonomy::PartlyAutonomous), oriented: None };
        let sent_on = Participant { age: None, autonomy: None, oriented: Some(true) };
        let saved = s.save_workshop_record(w.lyon.id, first, &record(3, vec![old.clone(), sent_on.clone()]), None, after).await.unwrap();
        assert_eq!((saved.revision, saved.via.as_str()), (0, "api"));
        let back = s.workshop_activity(w.lyon.id, first).await.unwrap().record.unwrap();
        assert_eq!(back.record, record(3, vec![old.clone(), sent_on]));
        assert_eq!(back.recorded_at, after);

        // Corrected from a page: one participant left, revision moves, the rest replaced.
        let mut fixed = record(2, vec![old.clone()]);
        fixed.themes = vec![Theme::Browsing, Theme::Email];
        fixed.equipment = vec![];
        let staff = s.create_staff("mediatrice@lieu.fr", "Médiatrice", "x", passnum_store::Actor::Venue(w.lyon.id), t0()).await.unwrap();
        let again = s.save_workshop_record(w.lyon.id, first, &fixed, Some(staff.id), after.plus_ms(60_000)).await.unwrap();
        assert_eq!((again.revision, again.via.as_str()), (1, "page"));
        assert_eq!(s.workshop_activity(w.lyon.id, first).await.unwrap().record.unwrap().record, fixed);

        // Cancelled: no record.
        s.cancel_workshop(w.lyon.id, next_week, "Salle inondée", after).await.unwrap();
        let cancelled = s.save_workshop_record(w.lyon.id, next_week, &record(0, vec![]), None, after.plus_ms(8 * 86_400_000)).await.unwrap_err();
        assert_eq!(code(cancelled), "workshop_cancelled");

        // The month: the held workshop with its record; the cancelled one left out.
        let june = s.venue_activity(w.lyon.id, Timestamp::from_unix_ms(0), Timestamp::from_unix_ms(i64::MAX / 2)).await.unwrap();
        assert_eq!(june.len(), 1);
        assert_eq!((june[0].workshop.id, june[0].scanned), (first, 2));
        assert_eq!(june[0].record.as_ref().unwrap().record, fixed);
        assert!(s.venue_activity(w.villeurbanne.id, Timestamp::from_unix_ms(0), Timestamp::from_unix_ms(i64::MAX / 2)).await.unwrap().is_empty());
    }
}
