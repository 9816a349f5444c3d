//! Sending the outbox through a real SMTP server (aiosmtpd), on both engines: while the server
//! is down the messages wait and are retried later, nothing lost; once it is up each arrives
//! once, in French, as text and HTML, with its Message-ID and, for a payment, the statement
//! PDF; an address the server refuses is marked failed and not tried again.

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use common::*;
use passnum_app::mail::{Delivery, Mailer};
use passnum_core::payment::FeeRate;
use passnum_core::{BankDetails, Timestamp};
use passnum_store::{Actor, Outcome, Store, both_engines};
use std::sync::atomic::AtomicBool;
use support::smtpd;
use time::macros::date;

const DAY_MS: i64 = 86_400_000;

/// A payment run of three cheques at Lyon, confirmed two days after t0; Lyon's team has two
/// accounts, one at an address the SMTP server refuses; and a password link for the first.
async fn events(s: &Store) -> (i64, String, Timestamp) {
    let w = world(s, 1).await;
    let lyon = Actor::Venue(w.lyon.id);
    let samia = s
        .create_staff("samia@lyon.fr", "Samia", "x", lyon, t0())
        .await
        .unwrap();
    s.create_staff("refuse@lyon.fr", "Ancien", "x", lyon, t0())
        .await
        .unwrap();
    let details =
        BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Ville de Lyon").unwrap();
    let a = s.set_bank_account(w.lyon.id, &details, t0()).await.unwrap();
    s.confirm_bank_account(w.lyon.id, a.id, t0()).await.unwrap();
    for i in 0..3 {
        let o = s
            .redeem(redeem_req(&w.lyon, w.codes[i], t0()))
            .await
            .unwrap()
            .outcome;
        assert!(matches!(o, Outcome::Accepted(_)));
    }
    let at = t0().plus_ms(2 * DAY_MS);
    let fee = FeeRate::from_basis_points(400).unwrap();
    let run = s
        .create_payment_run(date!(2026 - 06 - 15), fee, at)
        .await
        .unwrap();
    s.confirm_payment_run(run.id, at).await.unwrap();
    let token = s
        .create_password_reset(samia.id, at, 72 * 3_600_000)
        .await
        .unwrap();
    (run.id, token, at)
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("releve.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (paquet poppler-utils)");
    String::from_utf8(out.stdout).unwrap()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

both_engines! {
    async fn messages_wait_for_the_server_then_arrive_once_in_french(db) {
        let s = &db.store;
        let (run, token, at) = events(s).await;
        let port = smtpd::free_port();
        let mailer = Mailer::new(&format!("smtp://127.0.0.1:{port}"), "Pass numérique <pass@example.fr>", "https://pass.example.fr").unwrap();
        let going = AtomicBool::new(false);

        // Nobody listens: each message waits, with the reason, for a later attempt.
        let d = mailer.send_due(s, at, &going).await.unwrap();
        assert_eq!(d, Delivery { sent: 0, retried: 3, failed: 0 });
        let lines = s.outbox_lines(10).await.unwrap();
        assert!(lines.iter().all(|l| l.status == "pending" && l.attempts == 1 && l.last_error.is_some()), "{lines:?}");

        let server = smtpd::start(port);
        // Not yet due again (the first retry waits about 30 s).
        assert_eq!(mailer.send_due(s, at.plus_ms(10_000), &going).await.unwrap(), Delivery::default());
        let d = mailer.send_due(s, at.plus_ms(120_000), &going).await.unwrap();
        assert_eq!(d, Delivery { sent: 2, retried: 0, failed: 1 });
        // Sent once: another pass finds nothing.
        assert_eq!(mailer.send_due(s, at.plus_ms(3_600_000), &going).await.unwrap(), Delivery::default());

        let got = server.received();
        assert_eq!(got.len(), 2, "{got:?}");
        let lines = s.outbox_lines(10).await.unwrap();
        let refused = lines.iter().find(|l| l.recipient == "refuse@lyon.fr").unwrap();
        assert_eq!(refused.status, "failed");
        assert!(refused.last_error.as_deref().unwrap().contains("550"), "{refused:?}");

        let payment = got.iter().find(|m| m["subject"].as_str().unwrap().starts_with("Paiement")).unwrap();
        assert_eq!(payment["rcpt_tos"], serde_json::json!(["samia@lyon.fr"]));
        assert_eq!(payment["from"], "Pass numérique <pass@example.fr>");
        assert_eq!(payment["subject"], format!("Paiement n° {run} : 28,80\u{a0}€ pour Médiathèque de Lyon"));
        let text = payment["text"].as_str().unwrap();
        assert!(text.contains("3 chèques encaissés par Médiathèque de Lyon"), "{text}");
        assert!(text.contains("https://pass.example.fr/lieu/paiements"), "{text}");
        assert!(payment["html"].as_str().unwrap().contains("<a href=\"https://pass.example.fr/lieu/paiements\">"));
        let id = lines.iter().find(|l| l.kind == "payment_confirmed" && l.recipient == "samia@lyon.fr").unwrap().id;
        assert_eq!(payment["message_id"], format!("<outbox-{id}@pass.example.fr>"));
        let attachments = payment["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0]["name"], format!("releve-paiement-{run}.pdf"));
        assert_eq!(attachments[0]["type"], "application/pdf");
        let pdf = pdf_text(&base64_decode(attachments[0]["base64"].as_str().unwrap()));
        assert!(pdf.contains("Médiathèque de Lyon"), "{pdf}");
        assert!(pdf.contains("28,80"), "{pdf}");

        let link = got.iter().find(|m| m["subject"] == "Choisissez votre mot de passe passnum").unwrap();
        assert!(link["text"].as_str().unwrap().contains(&format!("https://pass.example.fr/mot-de-passe/{token}")));
        assert!(link["text"].as_str().unwrap().starts_with("Bonjour Samia,"));
        // Once sent, the outbox keeps no copy of the link.
        let kept: Vec<String> = sqlx::query_scalar("SELECT notice FROM outbox").fetch_all(s.pool()).await.unwrap();
        assert!(kept.iter().all(|n| n == "{}"), "{kept:?}");
    }
}
