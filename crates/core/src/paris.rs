//! Civil time in Europe/Paris, without a time-zone database.
//!
//! Validity dates are calendar days in France: a cheque valid "until 31 March" is valid until
//! midnight in Paris, not in UTC. Since 1996 the rule is the EU one: UTC+1, and UTC+2 from the
//! last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC. Overseas
//! départements keep their own zones; their programmes should set dates with that in mind.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use crate::Timestamp;

fn last_sunday(year: i32, month: Month) -> Date {
    let mut d = Date::from_calendar_date(year, month, time::util::days_in_month(month, year))
        .expect("valid calendar date");
    while d.weekday() != Weekday::Sunday {
        d = d.previous_day().expect("not the first day");
    }
    d
}

/// The offset in force in Paris at a UTC instant.
pub fn offset_at(t: OffsetDateTime) -> UtcOffset {
    let t = t.to_offset(UtcOffset::UTC);
    let one_am = Time::from_hms(1, 0, 0).expect("valid time");
    let start = PrimitiveDateTime::new(last_sunday(t.year(), Month::March), one_am).assume_utc();
    let end = PrimitiveDateTime::new(last_sunday(t.year(), Month::October), one_am).assume_utc();
    let hours = if t >= start && t < end { 2 } else { 1 };
    UtcOffset::from_hms(hours, 0, 0).expect("valid offset")
}

/// ISO 8601 Paris time with its offset, to the second: `2026-12-01T09:00:00+01:00` (what a
/// bank reads in a SEPA file's creation time; a time without a zone is ambiguous).
pub fn iso_with_offset(ts: Timestamp) -> String {
    let t = ts.to_offset_datetime();
    let off = offset_at(t);
    let l = t.to_offset(off);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+{:02}:00",
        l.year(),
        u8::from(l.month()),
        l.day(),
        l.hour(),
        l.minute(),
        l.second(),
        off.whole_hours()
    )
}

/// The date on a Paris wall calendar at that instant.
pub fn local_date(ts: Timestamp) -> Date {
    let t = ts.to_offset_datetime();
    t.to_offset(offset_at(t)).date()
}

/// The Paris calendar month of an instant as `YYYYMM` (202611 for November 2026): the key of
/// the monthly figures, computed where the instant is written.
pub fn month_key(ts: Timestamp) -> i64 {
    let d = local_date(ts);
    i64::from(d.year()) * 100 + i64::from(d.month() as u8)
}

/// The instant a Paris wall clock shows `time` on `date`. In the autumn hour that happens twice,
/// the first; in the spring hour that does not exist, the instant an hour later on the clock.
pub fn from_local(date: Date, time: Time) -> Timestamp {
    let local = PrimitiveDateTime::new(date, time);
    for hours in [2, 1] {
        let offset = UtcOffset::from_hms(hours, 0, 0).expect("valid offset");
        let t = local.assume_offset(offset);
        if offset_at(t) == offset {
            return Timestamp::from_unix_ms((t.unix_timestamp_nanos() / 1_000_000) as i64);
        }
    }
    let t = local.assume_offset(UtcOffset::from_hms(1, 0, 0).expect("valid offset"));
    Timestamp::from_unix_ms((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// "14 h 30" on a Paris wall clock.
pub fn format_time(ts: Timestamp) -> String {
    let t = ts.to_offset_datetime();
    let l = t.to_offset(offset_at(t));
    format!("{} h {:02}", l.hour(), l.minute())
}

/// "12/03/2026 à 14 h 05", the way a French reader expects a moment.
pub fn format_moment(ts: Timestamp) -> String {
    let t = ts.to_offset_datetime();
    let l = t.to_offset(offset_at(t));
    format!(
        "{:02}/{:02}/{} à {} h {:02}",
        l.day(),
        u8::from(l.month()),
        l.year(),
        l.hour(),
        l.minute()
    )
}

/// "décembre".
pub fn month_name(m: time::Month) -> &'static str {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    MONTHS[usize::from(u8::from(m)) - 1]
}

/// "mardi 15 décembre 2026 à 14 h 30": a workshop's start, as a person reads it.
pub fn format_long(ts: Timestamp) -> String {
    const DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    let t = ts.to_offset_datetime();
    let l = t.to_offset(offset_at(t));
    format!(
        "{} {} {} {} à {} h {:02}",
        DAYS[l.weekday().number_days_from_monday() as usize],
        l.day(),
        month_name(l.month()),
        l.year(),
        l.hour(),
        l.minute()
    )
}

/// "31/03/2026".
pub fn format_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_key_follows_the_paris_calendar() {
        let at = |t: OffsetDateTime| Timestamp::from_offset_datetime(t);
        // 30 November 23:30 UTC is already 1 December in Paris (UTC+1).
        assert_eq!(
            month_key(at(time::macros::datetime!(2026-11-30 23:30 UTC))),
            202612
        );
        assert_eq!(
            month_key(at(time::macros::datetime!(2026-11-30 22:59 UTC))),
            202611
        );
        // 31 July 22:30 UTC is 1 August in Paris (UTC+2), 21:59 still July.
        assert_eq!(
            month_key(at(time::macros::datetime!(2026-07-31 22:30 UTC))),
            202608
        );
        assert_eq!(
            month_key(at(time::macros::datetime!(2026-07-31 21:59 UTC))),
            202607
        );
    }

    #[test]
    fn a_paris_wall_clock_time_becomes_an_instant() {
        let ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
        let d = |y, m, day| Date::from_calendar_date(y, m, day).unwrap();
        let t = |h, m| Time::from_hms(h, m, 0).unwrap();
        assert_eq!(
            from_local(d(2026, Month::December, 15), t(14, 30)).unix_ms(),
            ms(datetime!(2026-12-15 13:30 UTC))
        );
        assert_eq!(
            from_local(d(2026, Month::July, 1), t(9, 0)).unix_ms(),
            ms(datetime!(2026-07-01 07:00 UTC))
        );
        // 29 March 2026 02:30 does not exist in Paris; 25 October 02:30 happens twice.
        assert_eq!(
            from_local(d(2026, Month::March, 29), t(2, 30)).unix_ms(),
            ms(datetime!(2026-03-29 01:30 UTC))
        );
        assert_eq!(
            from_local(d(2026, Month::October, 25), t(2, 30)).unix_ms(),
            ms(datetime!(2026-10-25 00:30 UTC))
        );
        assert_eq!(
            format_time(from_local(d(2026, Month::July, 1), t(9, 5))),
            "9 h 05"
        );
    }
    use time::macros::datetime;

    fn ts(t: OffsetDateTime) -> Timestamp {
        Timestamp::from_offset_datetime(t)
    }

    #[test]
    fn winter_and_summer_offsets() {
        assert_eq!(offset_at(datetime!(2026-01-15 12:00 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-07-15 12:00 UTC)).whole_hours(), 2);
        // 2026: DST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(offset_at(datetime!(2026-03-29 00:59 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-03-29 01:00 UTC)).whole_hours(), 2);
        assert_eq!(offset_at(datetime!(2026-10-25 00:59 UTC)).whole_hours(), 2);
        assert_eq!(offset_at(datetime!(2026-10-25 01:00 UTC)).whole_hours(), 1);
    }

    #[test]
    fn local_date_turns_at_paris_midnight() {
        assert_eq!(
            local_date(ts(datetime!(2026-03-31 21:59 UTC))),
            time::macros::date!(2026 - 03 - 31)
        );
        assert_eq!(
            local_date(ts(datetime!(2026-03-31 22:00 UTC))),
            time::macros::date!(2026 - 04 - 01)
        );
        assert_eq!(
            local_date(ts(datetime!(2026-12-31 22:59 UTC))),
            time::macros::date!(2026 - 12 - 31)
        );
        assert_eq!(
            local_date(ts(datetime!(2026-12-31 23:00 UTC))),
            time::macros::date!(2027 - 01 - 01)
        );
    }

    #[test]
    fn formats_for_french_readers() {
        assert_eq!(
            format_moment(ts(datetime!(2026-03-12 13:05 UTC))),
            "12/03/2026 à 14 h 05"
        );
        assert_eq!(
            format_date(time::macros::date!(2026 - 03 - 01)),
            "01/03/2026"
        );
    }

    #[test]
    fn a_moment_is_written_in_paris_time_with_its_offset() {
        let winter = Timestamp::from_offset_datetime(time::macros::datetime!(2026-12-01 08:00 UTC));
        assert_eq!(iso_with_offset(winter), "2026-12-01T09:00:00+01:00");
        let summer =
            Timestamp::from_offset_datetime(time::macros::datetime!(2026-06-17 07:30:05 UTC));
        assert_eq!(iso_with_offset(summer), "2026-06-17T09:30:05+02:00");
    }
}
