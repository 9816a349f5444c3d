//! iCalendar (RFC 5545) for a venue's workshops: what calendar applications subscribe to. Text
//! is escaped, lines are folded at 75 octets and end with CRLF, times are UTC; each event keeps
//! a stable UID and a SEQUENCE that moves on every change, so that a calendar updates it
//! instead of adding a second one.

use std::fmt::Write as _;

use crate::Timestamp;

/// One event of the calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub uid: String,
    pub sequence: i64,
    pub stamp: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub url: String,
    pub cancelled: bool,
}

fn utc(t: Timestamp) -> String {
    let d = t.to_offset_datetime();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// TEXT as RFC 5545 §3.3.11 wants it: backslash, semicolon, comma escaped, newlines as \n.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (never inside a UTF-8 character), with CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The whole calendar, named `name`.
pub fn calendar(name: &str, events: &[Event]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//passnum//Ateliers//FR");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape(&e.uid)));
        line(&mut out, &format!("SEQUENCE:{}", e.sequence));
        line(&mut out, &format!("DTSTAMP:{}", utc(e.stamp)));
        line(&mut out, &format!("DTSTART:{}", utc(e.start)));
        line(&mut out, &format!("DTEND:{}", utc(e.end)));
        line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        if !e.location.is_empty() {
            line(&mut out, &format!("LOCATION:{}", escape(&e.location)));
        }
        if !e.description.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", escape(&e.description)));
        }
        if !e.url.is_empty() {
            line(&mut out, &format!("URL:{}", e.url));
        }
        let status = if e.cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        let mut s = String::new();
        let _ = write!(s, "STATUS:{status}");
        line(&mut out, &s);
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        let start = Timestamp::from_unix_ms(1_797_341_400_000); // 2026-12-15 13:30 UTC
        Event {
            uid: "atelier-12@pass.example.fr".into(),
            sequence: 2,
            stamp: start,
            start,
            end: start.plus_ms(90 * 60_000),
            summary: "Premiers pas, tablette; courriels".into(),
            location: "Médiathèque, 30 bd Vivier-Merle".into(),
            description: "Atelier collectif\nniveau débutant — ".repeat(4),
            url: "https://pass.example.fr/ateliers/12".into(),
            cancelled: true,
        }
    }

    #[test]
    fn a_calendar_is_valid_rfc_5545_text() {
        let c = calendar("Médiathèque", &[event()]);
        assert!(c.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(c.ends_with("END:VCALENDAR\r\n"));
        assert!(c.contains("\r\nDTSTART:20261215T133000Z\r\n"));
        assert!(c.contains("\r\nDTEND:20261215T150000Z\r\n"));
        assert!(c.contains("\r\nSUMMARY:Premiers pas\\, tablette\\; courriels\r\n"));
        assert!(c.contains("\r\nSTATUS:CANCELLED\r\n") && c.contains("\r\nSEQUENCE:2\r\n"));
        // Every line ends with CRLF and holds at most 75 octets; folded lines start with a space.
        for l in c.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{l}");
            assert!(!l.contains('\n') && !l.contains('\r'));
        }
        let unfolded = c.replace("\r\n ", "");
        assert!(
            unfolded.contains("DESCRIPTION:Atelier collectif\\nniveau débutant — Atelier"),
            "{unfolded}"
        );
    }
}
