//! The e-mail outbox, on both engines: each event queues its messages in its own transaction
//! (to the active accounts of the organisation, or to the person who consented), once however
//! often a job runs; claims are leased so that two senders never take the same message; a sent
//! message forgets its content; the daily job gives up what waited a week.

mod common;

use common::*;
use passnum_core::notice::Notice;
use passnum_core::payment::FeeRate;
use passnum_core::workshop::WorkshopFormat;
use passnum_core::{BankDetails, StatusDecision, Timestamp, VenueStatus};
use passnum_store::{
    Actor, BookedBy, BookletKey, CancelledBy, MailLine, Outcome, Store, both_engines,
};
use time::macros::{date, time};

const DAY_MS: i64 = 86_400_000;

async fn lines(s: &Store) -> Vec<MailLine> {
    let mut l = s.outbox_lines(500).await.unwrap();
    l.reverse();
    l
}

fn summary(lines: &[MailLine]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|l| (l.kind.clone(), l.recipient.clone()))
        .collect()
}

fn pair(kind: &str, to: &str) -> (String, String) {
    (kind.to_string(), to.to_string())
}

both_engines! {
    async fn events_queue_their_messages_once_to_the_active_accounts(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let funder = Actor::Funder(w.funder.id);
        s.create_staff("elu@metropole.fr", "Élu", "x", funder, t0()).await.unwrap();
        let gone = s.create_staff("ancien@metropole.fr", "Ancien", "x", funder, t0()).await.unwrap();
        sqlx::query("UPDATE staff SET disabled_at = $1 WHERE id = $2").bind(t0().unix_ms()).bind(gone.id).execute(s.pool()).await.unwrap();
        let lyon = s.create_staff("mediatrice@lyon.fr", "Samia", "x", Actor::Venue(w.lyon.id), t0()).await.unwrap();
        assert!(lines(s).await.is_empty(), "creating accounts sends nothing by itself");

        // A password link goes to its account, with the token the page also shows.
        let token = s.create_password_reset(lyon.id, t0(), 3_600_000).await.unwrap();
        assert_eq!(summary(&lines(s).await), vec![pair("password_link", "mediatrice@lyon.fr")]);
        let claimed = s.claim_due_mail(t0(), 60_000, 10).await.unwrap();
        assert!(matches!(&claimed[0].notice, Notice::PasswordLink { token: t, name, .. } if *t == token && name == "Samia"));
        s.mark_mail_sent(claimed[0].id, t0()).await.unwrap();

        // The J-30 alert (validity ends 31/12/2026) to the funder's active accounts only, once.
        let j30 = Timestamp::from_offset_datetime(time::macros::datetime!(2026-12-02 10:00 UTC));
        assert_eq!(s.run_closing_steps(j30).await.unwrap().len(), 1);
        assert!(s.run_closing_steps(j30).await.unwrap().is_empty());
        let after = lines(s).await;
        assert_eq!(summary(&after[1..]), vec![pair("order_step", "elu@metropole.fr")]);

        // A payment run confirmed: the venue's team is told; a second confirmation fails and
        // queues nothing more.
        let details = BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Ville de Lyon").unwrap();
        let a = s.set_bank_account(w.lyon.id, &details, t0()).await.unwrap();
        s.confirm_bank_account(w.lyon.id, a.id, t0()).await.unwrap();
        for i in 0..3 {
            assert!(matches!(s.redeem(redeem_req(&w.lyon, w.codes[i], t0())).await.unwrap().outcome, Outcome::Accepted(_)));
        }
        let run = s.create_payment_run(date!(2026 - 06 - 15), FeeRate::from_basis_points(400).unwrap(), t0().plus_ms(2 * DAY_MS)).await.unwrap();
        s.confirm_payment_run(run.id, t0().plus_ms(2 * DAY_MS)).await.unwrap();
        assert!(s.confirm_payment_run(run.id, t0().plus_ms(2 * DAY_MS)).await.is_err());
        let after = lines(s).await;
        assert_eq!(summary(&after[2..]), vec![pair("payment_confirmed", "mediatrice@lyon.fr")]);
        let claimed = s.claim_due_mail(j30, 60_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 2, "the J-30 alert and the payment");
        assert_eq!(claimed[1].notice, Notice::PaymentConfirmed { run: run.id, venue: w.lyon.id.0, venue_name: "Médiathèque de Lyon".into(), cheques: 3, amount_cents: 2880 });

        // A decision that is refused queues nothing; one that lands tells the venue.
        let before = lines(s).await.len();
        assert!(s.set_venue_status(w.lyon.id, &StatusDecision::new(VenueStatus::Applied, ""), None, t0()).await.is_err());
        assert_eq!(lines(s).await.len(), before);
        s.set_venue_status(w.lyon.id, &StatusDecision::new(VenueStatus::Suspended, "Contrôle en cours"), None, t0()).await.unwrap();
        let after = lines(s).await;
        assert_eq!(summary(&after[before..]), vec![pair("venue_decision", "mediatrice@lyon.fr")]);
    }
}

both_engines! {
    async fn a_person_is_mailed_about_a_booking_only_at_an_address_they_gave(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        let before = t0().plus_ms(-DAY_MS);
        let plan = one_workshop(WorkshopFormat::Collective, "Premiers pas sur la tablette", date!(2026 - 06 - 15), time!(14:00), 2);
        let ws = s.create_workshops(w.lyon.id, &plan, before).await.unwrap().remove(0);
        let key = |n| async move {
            BookletKey { order_id: w.order.id, number: n, code: Some(s.booking_code(w.order.id, n).await.unwrap()) }
        };
        s.book(ws.id, &key(1).await, BookedBy::Person, Some(" awa@example.fr "), before).await.unwrap();
        // A phone number is for the venue to call: no message.
        s.book(ws.id, &key(2).await, BookedBy::Person, Some("06 12 34 56 78"), before).await.unwrap();
        let waiting = s.book(ws.id, &key(3).await, BookedBy::Person, Some("ben@example.fr"), before).await.unwrap();
        assert_eq!(waiting.status, "waiting");
        let l = lines(s).await;
        assert_eq!(summary(&l), vec![pair("booked", "awa@example.fr"), pair("booked", "ben@example.fr")]);
        let claimed = s.claim_due_mail(before, 60_000, 10).await.unwrap();
        assert!(matches!(claimed[1].notice, Notice::Booked { waiting: true, .. }));
        // Awa cancels: she is told, and Ben, first in line, gets the place and is told too.
        let first = s.booklet_bookings(&key(1).await).await.unwrap();
        s.cancel_booking(first[0].0.id, CancelledBy::Person(&key(1).await), before).await.unwrap();
        let l = lines(s).await;
        assert_eq!(summary(&l[2..]), vec![pair("booking_cancelled", "awa@example.fr"), pair("booked", "ben@example.fr")]);
        let claimed = s.claim_due_mail(before, 60_000, 10).await.unwrap();
        assert!(matches!(claimed[1].notice, Notice::Booked { waiting: false, .. }));
        // The venue cancels the workshop: Ben is told; the phone booking is not mailed.
        assert_eq!(s.cancel_workshop(w.lyon.id, ws.id, "Médiatrice malade", before).await.unwrap(), 2);
        let l = lines(s).await;
        assert_eq!(summary(&l[4..]), vec![pair("booking_cancelled", "ben@example.fr")]);
    }
}

both_engines! {
    async fn claims_are_leased_and_finished_messages_forget_their_content(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let m = s.create_staff("a@lyon.fr", "A", "x", Actor::Venue(w.lyon.id), t0()).await.unwrap();
        for _ in 0..3 {
            s.create_password_reset(m.id, t0(), 3_600_000).await.unwrap();
        }
        // Two senders at once never take the same message.
        let (a, b) = tokio::join!(s.claim_due_mail(t0(), 60_000, 2), s.claim_due_mail(t0(), 60_000, 2));
        let mut ids: Vec<i64> = a.unwrap().iter().chain(b.unwrap().iter()).map(|m| m.id).collect();
        ids.sort();
        assert_eq!(ids.len(), 3, "the second sender takes what the first left");
        ids.dedup();
        assert_eq!(ids.len(), 3, "each message claimed once");
        // Within the lease, nothing is due; after it, they come back (a crashed sender).
        assert!(s.claim_due_mail(t0().plus_ms(59_000), 60_000, 10).await.unwrap().is_empty());
        let again = s.claim_due_mail(t0().plus_ms(61_000), 60_000, 10).await.unwrap();
        assert_eq!(again.len(), 3);
        assert_eq!(again[0].attempts, 2);
        let later = t0().plus_ms(120_000);
        s.mark_mail_sent(again[0].id, later).await.unwrap();
        s.mark_mail_failed(again[1].id, later, "550 utilisateur inconnu").await.unwrap();
        s.retry_mail_later(again[2].id, later.plus_ms(30_000), "connexion refusée").await.unwrap();
        assert!(s.claim_due_mail(later.plus_ms(29_000), 60_000, 10).await.unwrap().is_empty());
        let content: Vec<String> = sqlx::query_scalar("SELECT notice FROM outbox ORDER BY id").fetch_all(s.pool()).await.unwrap();
        assert_eq!(content[0], "{}");
        assert_eq!(content[1], "{}");
        assert!(content[2].contains("password_link"));
        let l = lines(s).await;
        assert_eq!(l.iter().map(|l| l.status.as_str()).collect::<Vec<_>>(), vec!["sent", "failed", "pending"]);
        assert_eq!(l[2].last_error.as_deref(), Some("connexion refusée"));
        let counts = s.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.sent, counts.failed), (1, 1, 1));
        // A week later the daily job gives up the pending one; 90 days after, all are deleted.
        let week = t0().plus_ms(passnum_store::GIVE_UP_AFTER_MS + DAY_MS);
        let keep = passnum_store::Retention { idempotency_ms: DAY_MS, sign_in_attempts_ms: DAY_MS, handout_answers_ms: 730 * DAY_MS };
        let purged = s.housekeeping(week, keep).await.unwrap();
        assert_eq!((purged.mail_given_up, purged.mail_deleted), (1, 0));
        assert!(s.claim_due_mail(week, 60_000, 10).await.unwrap().is_empty());
        let purged = s.housekeeping(week.plus_ms(passnum_store::KEEP_DONE_MS + 1), keep).await.unwrap();
        assert_eq!(purged.mail_deleted, 3);
        assert!(lines(s).await.is_empty());
    }
}
