//! Sending the outbox: the worker of `passnum serve --smtp-url`.
//!
//! Events write their messages to the outbox in their own transaction; this worker claims the
//! due ones with a lease (several servers never send the same message), composes each one in
//! French (plain text and HTML, the statement attached to a payment), hands it to the SMTP
//! server and marks it sent. An unreachable server or a temporary refusal (4xx) puts the
//! message back with a growing, jittered delay; a permanent refusal (5xx: address unknown…)
//! marks it failed; a message not sent in 7 days is given up by the daily job.
//!
//! Exactly once, as far as SMTP allows: the one window left is a crash after the SMTP server
//! accepted a message and before it is marked sent. The message is then sent again when its
//! lease ends, with the same `Message-ID` (`<outbox-{id}@host>`), which mail systems use to
//! recognise a duplicate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use passnum_core::notice::compose;
use passnum_core::{Timestamp, VenueId};
use passnum_store::{OutgoingMail, Store, StoreError};

use crate::clock::Clock;

/// How long a claimed message is reserved for the server that claimed it.
const LEASE_MS: i64 = 5 * 60_000;
/// Messages claimed at once.
const BATCH: i64 = 20;
/// How often the worker looks for due messages.
const POLL: Duration = Duration::from_secs(2);
/// The first retry delay, doubled on each attempt up to [`MAX_RETRY_MS`].
const FIRST_RETRY_MS: i64 = 30_000;
const MAX_RETRY_MS: i64 = 30 * 60_000;

#[derive(Debug, thiserror::Error)]
pub enum MailSettingsError {
    #[error(
        "--smtp-url n'est pas une adresse SMTP lisible ({0}) ; exemples : smtp://relais.interne:25, smtp://utilisateur:motdepasse@smtp.example.fr:587?tls=required (STARTTLS), smtps://smtp.example.fr:465 (TLS)"
    )]
    Url(String),
    #[error(
        "--mail-from n'est pas une adresse d'expéditeur valable ({0}) ; exemple : \"Pass numérique <pass@example.fr>\""
    )]
    From(String),
}

/// The SMTP server, the sender, and the public address links are built on.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
    /// The right-hand part of Message-IDs (the public address's host).
    id_domain: String,
}

/// What one pass of the worker did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

impl Mailer {
    pub fn new(smtp_url: &str, from: &str, public_url: &str) -> Result<Self, MailSettingsError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailSettingsError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailSettingsError::From(e.to_string()))?;
        let public_url = public_url.trim_end_matches('/').to_string();
        let id_domain = public_url
            .split("://")
            .nth(1)
            .unwrap_or("passnum.invalid")
            .split(['/', ':'])
            .next()
            .filter(|h| !h.is_empty())
            .unwrap_or("passnum.invalid")
            .to_string();
        Ok(Self {
            transport,
            from,
            public_url,
            id_domain,
        })
    }

    /// Sends the messages due at `now`, one batch after another until none is due, or until
    /// `stopping` is set (then after the message in hand; the rest of the batch is taken
    /// again when its lease ends).
    pub async fn send_due(
        &self,
        store: &Store,
        now: Timestamp,
        stopping: &AtomicBool,
    ) -> Result<Delivery, StoreError> {
        let mut done = Delivery::default();
        loop {
            let batch = store.claim_due_mail(now, LEASE_MS, BATCH).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            for (i, mail) in batch.iter().enumerate() {
                if stopping.load(Ordering::SeqCst) {
                    return Ok(done);
                }
                match self.send_one(store, mail).await {
                    Ok(()) => {
                        store.mark_mail_sent(mail.id, now).await?;
                        done.sent += 1;
                        tracing::info!(id = mail.id, kind = mail.notice.kind(), "e-mail envoyé");
                    }
                    Err(Failure::Permanent(why)) => {
                        store.mark_mail_failed(mail.id, now, &why).await?;
                        done.failed += 1;
                        tracing::warn!(id = mail.id, kind = mail.notice.kind(), error = %why, "e-mail refusé");
                    }
                    Err(Failure::Transient(why)) => {
                        // The server is down or busy: the rest of the batch waits as long,
                        // rather than each message spending its own time limit while the
                        // batch's lease runs out (another server could then take them).
                        let at = now.plus_ms(retry_delay_ms(mail.id, mail.attempts));
                        for m in &batch[i..] {
                            store.retry_mail_later(m.id, at, &why).await?;
                            done.retried += 1;
                        }
                        tracing::warn!(id = mail.id, kind = mail.notice.kind(), attempts = mail.attempts, waiting = batch.len() - i, error = %why, "e-mails à réessayer");
                        return Ok(done);
                    }
                }
            }
        }
    }

    async fn send_one(&self, store: &Store, mail: &OutgoingMail) -> Result<(), Failure> {
        let message = self.message(store, mail).await?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(classify)
    }

    /// The message for an outbox row: French text and HTML, the statement PDF for a payment.
    async fn message(&self, store: &Store, mail: &OutgoingMail) -> Result<Message, Failure> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| Failure::Permanent(format!("adresse du destinataire illisible : {e}")))?;
        let composed = compose(&mail.notice, &self.public_url);
        let body = MultiPart::alternative_plain_html(composed.text(), composed.html());
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(composed.subject.clone())
            .message_id(Some(format!("<outbox-{}@{}>", mail.id, self.id_domain)));
        let built = match mail.notice.statement() {
            Some((run, venue)) => {
                let pdf = statement_pdf(store, run, VenueId(venue)).await?;
                builder.multipart(
                    MultiPart::mixed().multipart(body).singlepart(
                        Attachment::new(format!("releve-paiement-{run}.pdf"))
                            .body(pdf, ContentType::parse("application/pdf").expect("type")),
                    ),
                )
            }
            None => builder.multipart(body),
        };
        built.map_err(|e| Failure::Permanent(format!("message impossible à écrire : {e}")))
    }
}

async fn statement_pdf(store: &Store, run: i64, venue: VenueId) -> Result<Vec<u8>, Failure> {
    let transient = |e: StoreError| Failure::Transient(format!("relevé : {e}"));
    let statement = crate::statements::venue_statement(store, run, venue)
        .await
        .map_err(transient)?
        .ok_or_else(|| {
            Failure::Permanent(format!("aucun relevé du lieu dans le paiement {run}"))
        })?;
    let run = store.payment_run(run).await.map_err(transient)?;
    tokio::task::spawn_blocking(move || statement.pdf(&run))
        .await
        .map_err(|e| Failure::Transient(format!("relevé : {e}")))?
        .map_err(|e| Failure::Permanent(format!("relevé PDF : {e}")))
}

enum Failure {
    /// Worth trying again later (server unreachable, 4xx, our database busy).
    Transient(String),
    /// Trying again would not help (5xx, an address that cannot be written).
    Permanent(String),
}

fn classify(e: SmtpError) -> Failure {
    if e.is_permanent() {
        Failure::Permanent(e.to_string())
    } else {
        Failure::Transient(e.to_string())
    }
}

/// 30 s, 1 min, 2 min… up to 30 min, give or take a fifth: servers that come back are not
/// flooded by every message at the same second. The jitter is derived from the message and
/// attempt, so it needs no random source and spreads messages all the same.
fn retry_delay_ms(id: i64, attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 16) - 1;
    let base = FIRST_RETRY_MS.saturating_mul(1 << exp).min(MAX_RETRY_MS);
    let spread = (id
        .wrapping_mul(2_654_435_761)
        .wrapping_add(attempts * 40_503))
    .rem_euclid(41)
        - 20;
    base + base * spread / 100
}

/// The worker: sends what is due every [`POLL`] until `stop` resolves, then finishes the
/// message in hand and returns (the server closes the database after it).
pub async fn run(
    mailer: Arc<Mailer>,
    store: Store,
    clock: Arc<dyn Clock>,
    stop: impl std::future::Future<Output = ()>,
) {
    let stopping = AtomicBool::new(false);
    tokio::pin!(stop);
    loop {
        let pass = mailer.send_due(&store, clock.now(), &stopping);
        tokio::pin!(pass);
        let done = tokio::select! {
            _ = &mut stop => {
                stopping.store(true, Ordering::SeqCst);
                let _ = pass.await;
                return;
            }
            done = &mut pass => done,
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "envoi des e-mails interrompu");
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_grow_to_half_an_hour_and_are_spread() {
        let d1 = retry_delay_ms(7, 1);
        assert!((24_000..=36_000).contains(&d1), "{d1}");
        let d3 = retry_delay_ms(7, 3);
        assert!((96_000..=144_000).contains(&d3), "{d3}");
        for a in 10..40 {
            let d = retry_delay_ms(7, a);
            assert!((1_440_000..=2_160_000).contains(&d), "{a}: {d}");
        }
        let spread: std::collections::HashSet<i64> =
            (1..50).map(|id| retry_delay_ms(id, 2)).collect();
        assert!(spread.len() > 10, "{spread:?}");
    }

    #[test]
    fn settings_are_checked_with_a_sentence() {
        let bad_url = Mailer::new("http://x", "a@b.fr", "https://p.fr")
            .err()
            .unwrap();
        assert!(bad_url.to_string().contains("smtps://"));
        let bad_from = Mailer::new("smtp://127.0.0.1:25", "pas une adresse", "https://p.fr")
            .err()
            .unwrap();
        assert!(bad_from.to_string().contains("--mail-from"));
        let ok = Mailer::new(
            "smtp://127.0.0.1:25",
            "Pass <pass@p.fr>",
            "https://pass.example.fr:8443/",
        )
        .unwrap();
        assert_eq!(ok.id_domain, "pass.example.fr");
        assert_eq!(ok.public_url, "https://pass.example.fr:8443");
    }
}
