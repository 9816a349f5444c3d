//! What passnum tells people by e-mail, and the words it uses.
//!
//! A [`Notice`] holds the facts of one event (a payment run confirmed, a booking…); the store
//! writes it to the outbox in the event's own transaction, and the mail worker composes the
//! message from it with [`compose`] when it sends. Composing is pure: no clock, no database,
//! so every message can be read in a test.

use serde::{Deserialize, Serialize};

use crate::{Money, Timestamp, paris};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A link to choose a password (first access or forgotten password).
    PasswordLink {
        name: String,
        token: String,
        expires_at: Timestamp,
    },
    /// An end-of-validity step of an order (J-30 alert, J-15 stop, expiry), to the funder.
    OrderStep {
        order: i64,
        step: String,
        summary: String,
    },
    /// A payment run confirmed, to each venue paid; the statement is attached.
    PaymentConfirmed {
        run: i64,
        venue: i64,
        venue_name: String,
        cheques: i64,
        amount_cents: i64,
    },
    /// The operator's decision on a venue (qualified, refused, suspended…).
    VenueDecision {
        venue_name: String,
        status_label: String,
        reason: String,
    },
    /// A qualification that ends soon, or has ended.
    QualificationStep {
        venue_name: String,
        ended: bool,
        summary: String,
    },
    /// A workshop booked (or put on the waiting list), to the person who consented.
    Booked {
        title: String,
        venue_name: String,
        starts_at: Timestamp,
        waiting: bool,
    },
    /// A booking cancelled, to the person who consented.
    BookingCancelled {
        title: String,
        venue_name: String,
        starts_at: Timestamp,
    },
}

impl Notice {
    /// The stable name stored beside the message (for the operator's counts and the metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PasswordLink { .. } => "password_link",
            Self::OrderStep { .. } => "order_step",
            Self::PaymentConfirmed { .. } => "payment_confirmed",
            Self::VenueDecision { .. } => "venue_decision",
            Self::QualificationStep { .. } => "qualification_step",
            Self::Booked { .. } => "booked",
            Self::BookingCancelled { .. } => "booking_cancelled",
        }
    }

    /// The statement to attach: `(run, venue)`.
    pub fn statement(&self) -> Option<(i64, i64)> {
        match self {
            Self::PaymentConfirmed { run, venue, .. } => Some((*run, *venue)),
            _ => None,
        }
    }
}

/// One message, ready for any transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    /// Paragraphs; the plain-text part joins them with blank lines, the HTML part puts each in
    /// a `<p>`.
    pub paragraphs: Vec<String>,
    /// A link to act on, shown last (absolute, built on the configured public address).
    pub link: Option<(String, String)>,
}

impl Composed {
    pub fn text(&self) -> String {
        let mut out = self.paragraphs.join("\n\n");
        if let Some((label, url)) = &self.link {
            out.push_str(&format!("\n\n{label} : {url}"));
        }
        out.push_str(SIGNATURE_TEXT);
        out
    }

    pub fn html(&self) -> String {
        let mut out =
            String::from("<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>");
        out.push_str(&escape(&self.subject));
        out.push_str("</title></head><body>");
        for p in &self.paragraphs {
            out.push_str(&format!("<p>{}</p>", escape(p)));
        }
        if let Some((label, url)) = &self.link {
            out.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape(url),
                escape(label)
            ));
        }
        out.push_str("<p>— passnum, Pass numérique</p></body></html>");
        out
    }
}

const SIGNATURE_TEXT: &str = "\n\n-- \npassnum, Pass numérique\n";

/// The message for a notice; `public_url` is the server's public address, without the final
/// slash (links are never built from a request's `Host`).
pub fn compose(notice: &Notice, public_url: &str) -> Composed {
    let link = |label: &str, path: &str| Some((label.to_string(), format!("{public_url}{path}")));
    match notice {
        Notice::PasswordLink {
            name,
            token,
            expires_at,
        } => Composed {
            subject: "Choisissez votre mot de passe passnum".into(),
            paragraphs: vec![
                format!("Bonjour {name},"),
                "Pour accéder à votre espace passnum, choisissez votre mot de passe avec le lien ci-dessous.".into(),
                format!(
                    "Ce lien ne sert qu'une fois et expire le {}. Si vous n'avez rien demandé, ignorez ce message.",
                    paris::format_moment(*expires_at)
                ),
            ],
            link: link("Choisir mon mot de passe", &format!("/mot-de-passe/{token}")),
        },
        Notice::OrderStep {
            order,
            step,
            summary,
        } => Composed {
            subject: format!("Commande n° {order} : {}", step_title(step)),
            paragraphs: vec!["Bonjour,".into(), summary.clone()],
            link: link("Voir la commande", &format!("/commanditaire/commandes/{order}")),
        },
        Notice::PaymentConfirmed {
            run,
            venue_name,
            cheques,
            amount_cents,
            ..
        } => Composed {
            subject: format!("Paiement n° {run} : {} pour {venue_name}", Money::from_cents(*amount_cents)),
            paragraphs: vec![
                "Bonjour,".into(),
                format!(
                    "Le paiement n° {run} est confirmé : {} pour {cheques} chèque{} encaissé{} par {venue_name}. \
                     Le virement arrive sur le compte enregistré dans les jours ouvrés qui suivent.",
                    Money::from_cents(*amount_cents),
                    plural(*cheques),
                    plural(*cheques)
                ),
                "Le relevé détaillé est joint à ce message (PDF).".into(),
            ],
            link: link("Voir mes paiements", "/lieu/paiements"),
        },
        Notice::VenueDecision {
            venue_name,
            status_label,
            reason,
        } => {
            let mut paragraphs = vec![
                "Bonjour,".into(),
                format!("Le statut de {venue_name} dans le programme est maintenant : {status_label}."),
            ];
            if !reason.trim().is_empty() {
                paragraphs.push(format!("Motif : {reason}"));
            }
            Composed {
                subject: format!("{venue_name} : {status_label}"),
                paragraphs,
                link: link("Voir mon lieu", "/lieu"),
            }
        }
        Notice::QualificationStep {
            venue_name,
            ended,
            summary,
        } => Composed {
            subject: if *ended {
                format!("{venue_name} : qualification terminée")
            } else {
                format!("{venue_name} : votre qualification se termine bientôt")
            },
            paragraphs: vec!["Bonjour,".into(), summary.clone()],
            link: link("Voir mon lieu", "/lieu"),
        },
        Notice::Booked { .. } | Notice::BookingCancelled { .. } => booking(notice),
    }
}

/// The person's messages about a booking (no link: they have no account).
fn booking(notice: &Notice) -> Composed {
    match notice {
        Notice::Booked {
            title,
            venue_name,
            starts_at,
            waiting,
        } => Composed {
            subject: if *waiting {
                format!("Liste d'attente : {title}")
            } else {
                format!("Atelier réservé : {title}")
            },
            paragraphs: vec![
                "Bonjour,".into(),
                if *waiting {
                    format!(
                        "Vous êtes sur la liste d'attente de l'atelier « {title} » le {} chez {venue_name}. \
                         Si une place se libère, elle vous est donnée.",
                        paris::format_moment(*starts_at)
                    )
                } else {
                    format!(
                        "Votre place est réservée à l'atelier « {title} » le {} chez {venue_name}. \
                         Apportez votre carnet : un chèque sera utilisé pour cet atelier.",
                        paris::format_moment(*starts_at)
                    )
                },
                "Vous recevez ce message parce que vous avez accepté d'être prévenu. Votre adresse est effacée après l'atelier.".into(),
            ],
            link: None,
        },
        Notice::BookingCancelled {
            title,
            venue_name,
            starts_at,
        } => Composed {
            subject: format!("Réservation annulée : {title}"),
            paragraphs: vec![
                "Bonjour,".into(),
                format!(
                    "Votre réservation à l'atelier « {title} » le {} chez {venue_name} est annulée. \
                     Votre carnet n'est pas débité ; vous pouvez réserver un autre atelier.",
                    paris::format_moment(*starts_at)
                ),
            ],
            link: None,
        },
        _ => unreachable!("only bookings"),
    }
}

fn step_title(step: &str) -> &'static str {
    match step {
        "alert_j30" => "fin de validité dans 30 jours",
        "stop_j15" => "distribution arrêtée",
        _ => "chèques expirés",
    }
}

fn plural(n: i64) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// Whether a contact given for reminders is an e-mail address we may write to (a phone number
/// is kept for the venue to call, not mailed).
pub fn looks_like_email(contact: &str) -> bool {
    let c = contact.trim();
    match c.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !c
                    .chars()
                    .any(|ch| ch.is_whitespace() || ch == ',' || ch == ';')
                && c.len() <= 254
        }
        None => false,
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_link_is_built_on_the_public_address_and_says_when_it_expires() {
        let n = Notice::PasswordLink {
            name: "Awa".into(),
            token: "tok123".into(),
            expires_at: Timestamp::from_offset_datetime(
                time::macros::datetime!(2026-12-07 15:00 UTC),
            ),
        };
        let m = compose(&n, "https://pass.example.fr");
        assert_eq!(
            m.link.as_ref().unwrap().1,
            "https://pass.example.fr/mot-de-passe/tok123"
        );
        assert!(m.text().contains("Bonjour Awa,"));
        assert!(
            m.text().contains("expire le 07/12/2026 à 16 h 00"),
            "{}",
            m.text()
        );
        assert!(
            m.html()
                .contains("href=\"https://pass.example.fr/mot-de-passe/tok123\"")
        );
    }

    #[test]
    fn html_escapes_what_people_typed() {
        let n = Notice::VenueDecision {
            venue_name: "<b>Lieu</b> & co".into(),
            status_label: "Qualifié".into(),
            reason: "\"ok\"".into(),
        };
        let html = compose(&n, "https://x").html();
        assert!(html.contains("&lt;b&gt;Lieu&lt;/b&gt; &amp; co"));
        assert!(!html.contains("<b>Lieu"));
        assert!(html.contains("&quot;ok&quot;"));
    }

    #[test]
    fn a_payment_says_the_amount_in_euros_and_counts_cheques() {
        let n = Notice::PaymentConfirmed {
            run: 4,
            venue: 2,
            venue_name: "Médiathèque".into(),
            cheques: 3,
            amount_cents: 2850,
        };
        let m = compose(&n, "https://x");
        assert_eq!(n.statement(), Some((4, 2)));
        assert!(m.subject.contains("28,50"), "{}", m.subject);
        assert!(m.text().contains("3 chèques encaissés"));
    }

    #[test]
    fn notices_survive_their_json_form() {
        let n = Notice::Booked {
            title: "Envoyer un e-mail".into(),
            venue_name: "Médiathèque".into(),
            starts_at: Timestamp::from_unix_ms(1_800_000_000_000),
            waiting: true,
        };
        let json = serde_json::to_string(&n).unwrap();
        assert!(json.contains("\"kind\":\"booked\""));
        assert_eq!(serde_json::from_str::<Notice>(&json).unwrap(), n);
    }

    #[test]
    fn only_e_mail_contacts_are_mailed() {
        assert!(looks_like_email("awa@example.fr"));
        assert!(!looks_like_email("06 12 34 56 78"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("a@b.fr, c@d.fr"));
        assert!(!looks_like_email("@b.fr"));
    }
}
