//! The form a venue fills to publish a workshop or a series: every field checked at once, a
//! sentence for each problem, and the dates of a series.

use time::{Date, Duration, Time};

use super::{Level, Place, WorkshopFormat};
use crate::catalogue::ServiceFormat;
use crate::text::MAX_NAME_CHARS;
use crate::{InseeCode, Timestamp, paris};

/// How a workshop repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    Once,
    Weekly,
    Fortnightly,
}

impl Repeat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "once" => Some(Self::Once),
            "weekly" => Some(Self::Weekly),
            "fortnightly" => Some(Self::Fortnightly),
            _ => None,
        }
    }
    fn step_days(self) -> Option<i64> {
        match self {
            Self::Once => None,
            Self::Weekly => Some(7),
            Self::Fortnightly => Some(14),
        }
    }
}

/// At most this many workshops in one series (a year of weekly sessions).
pub const MAX_SERIES: usize = 53;
pub const MIN_DURATION_MIN: i64 = 15;
pub const MAX_DURATION_MIN: i64 = 480;
pub const MAX_CAPACITY: i64 = 200;
/// How far ahead a workshop may be published.
pub const MAX_DAYS_AHEAD: i64 = 400;

/// A workshop as typed by the venue (page or API), before it is checked.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct WorkshopForm {
    pub format: String,
    pub title: String,
    pub services: Vec<String>,
    pub level: String,
    /// "2026-12-15"
    pub date: String,
    /// "14:30", Paris time.
    pub time: String,
    pub duration_min: String,
    /// "venue", "elsewhere" or "remote".
    pub place: String,
    pub commune: String,
    pub place_detail: String,
    pub capacity: String,
    pub mediator: String,
    pub accessibility: String,
    /// "once", "weekly" or "fortnightly".
    pub repeat: String,
    /// Last date of the series.
    pub until: String,
    /// Dates of the series without a workshop (holidays), "2026-12-24,2026-12-31".
    pub except: String,
}

/// A checked workshop, with the dates it takes place on (one, or a series).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkshopPlan {
    pub format: WorkshopFormat,
    pub title: String,
    pub services: Vec<String>,
    pub level: Level,
    pub time: Time,
    pub dates: Vec<Date>,
    pub duration_min: i64,
    pub place: Place,
    pub capacity: i64,
    pub mediator: String,
    pub accessibility: String,
}

impl WorkshopPlan {
    /// Start of each workshop of the plan.
    pub fn starts(&self) -> Vec<Timestamp> {
        self.dates
            .iter()
            .map(|d| paris::from_local(*d, self.time))
            .collect()
    }
}

/// A field of the form and what is wrong with it, in a sentence.
pub type FieldError = (&'static str, String);

fn date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn clock(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    Time::from_hms(h.parse().ok()?, m.get(..2)?.parse().ok()?, 0).ok()
}

fn short_text(s: &str, max: usize) -> Option<String> {
    let s = s.trim();
    (s.chars().count() <= max && !s.chars().any(|c| c.is_control() && c != '\n'))
        .then(|| s.to_string())
}

/// The dates of a series: from `first` every step until `until` (included), without the
/// exceptions; at most [`MAX_SERIES`].
pub fn series_dates(
    first: Date,
    repeat: Repeat,
    until: Option<Date>,
    except: &[Date],
) -> Vec<Date> {
    let Some(step) = repeat.step_days() else {
        return vec![first];
    };
    let until = until.unwrap_or(first);
    let mut out = Vec::new();
    let mut d = first;
    while d <= until && out.len() < MAX_SERIES {
        if !except.contains(&d) {
            out.push(d);
        }
        d += Duration::days(step);
    }
    out
}

/// The problems found so far, in the order of the form.
type Errors = Vec<FieldError>;

fn refuse<T>(errors: &mut Errors, field: &'static str, sentence: &str) -> Option<T> {
    errors.push((field, sentence.to_string()));
    None
}

impl WorkshopForm {
    /// Checks every field (all errors at once, for the form's summary). `catalogue_format`
    /// gives how the venue's catalogue offers a service (None: not in it); `commune` finds a
    /// commune by code, name or postcode.
    pub fn check(
        &self,
        today: Date,
        catalogue_format: impl Fn(&str) -> Option<ServiceFormat>,
        commune: impl Fn(&str) -> Option<InseeCode>,
    ) -> Result<WorkshopPlan, Vec<FieldError>> {
        let mut e = Errors::new();
        let format = WorkshopFormat::parse(self.format.trim()).or_else(|| {
            refuse(
                &mut e,
                "format",
                "Choisissez un rendez-vous individuel ou un atelier collectif.",
            )
        });
        let title = short_text(&self.title, MAX_NAME_CHARS)
            .filter(|t| !t.is_empty() && !t.contains('\n'))
            .or_else(|| {
                refuse(
                    &mut e,
                    "title",
                    "Donnez un titre d'une ligne, de 200 caractères au plus.",
                )
            });
        let services = self.services(format, &catalogue_format, &mut e);
        let level = Level::parse(self.level.trim()).or_else(|| {
            refuse(
                &mut e,
                "level",
                "Choisissez un niveau : débutant, intermédiaire ou avancé.",
            )
        });
        let first = self.first_date(today, &mut e);
        let time = clock(&self.time).or_else(|| {
            refuse(
                &mut e,
                "time",
                "Indiquez l'heure de début, par exemple 14:30.",
            )
        });
        let duration =
            number_in(&self.duration_min, MIN_DURATION_MIN, MAX_DURATION_MIN).or_else(|| {
                refuse(
                    &mut e,
                    "duration_min",
                    "Indiquez une durée de 15 à 480 minutes.",
                )
            });
        let capacity = self.capacity(format, &mut e);
        let place = self.place(&commune, &mut e);
        let mediator = short_text(&self.mediator, MAX_NAME_CHARS)
            .filter(|m| !m.contains('\n'))
            .or_else(|| {
                refuse(
                    &mut e,
                    "mediator",
                    "Le nom du médiateur tient sur une ligne de 200 caractères au plus.",
                )
            });
        let accessibility = short_text(&self.accessibility, 500).or_else(|| {
            refuse(
                &mut e,
                "accessibility",
                "Ce texte dépasse 500 caractères : raccourcissez-le.",
            )
        });
        let dates = self.dates(first, &mut e);
        match (
            format,
            title,
            level,
            time,
            duration,
            capacity,
            place,
            mediator,
            accessibility,
        ) {
            (
                Some(format),
                Some(title),
                Some(level),
                Some(time),
                Some(duration_min),
                Some(capacity),
                Some(place),
                Some(mediator),
                Some(accessibility),
            ) if e.is_empty() => Ok(WorkshopPlan {
                format,
                title,
                services,
                level,
                time,
                dates,
                duration_min,
                place,
                capacity,
                mediator,
                accessibility,
            }),
            _ => Err(e),
        }
    }

    /// At least one service, each in the venue's catalogue and offered in this format.
    fn services(
        &self,
        format: Option<WorkshopFormat>,
        catalogue_format: &impl Fn(&str) -> Option<ServiceFormat>,
        e: &mut Errors,
    ) -> Vec<String> {
        let mut services: Vec<String> = self
            .services
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        services.sort();
        services.dedup();
        if services.is_empty() {
            e.push((
                "services",
                "Choisissez au moins un service de votre catalogue.".into(),
            ));
        }
        for s in &services {
            match (catalogue_format(s), format) {
                (None, _) => e.push((
                    "services",
                    format!("Le service {s} n'est pas dans votre catalogue : ajoutez-le d'abord à votre catalogue."),
                )),
                (Some(f), Some(w)) if !w.allowed_by(f) => e.push((
                    "services",
                    format!(
                        "Votre catalogue propose le service {s} en « {} » seulement : changez le format de l'atelier ou votre catalogue.",
                        f.label()
                    ),
                )),
                _ => {}
            }
        }
        services
    }

    /// The first date: today or later, at most [`MAX_DAYS_AHEAD`] days ahead.
    fn first_date(&self, today: Date, e: &mut Errors) -> Option<Date> {
        match date(&self.date) {
            None => refuse(e, "date", "Indiquez la date au format jj/mm/aaaa."),
            Some(d) if d < today => refuse(
                e,
                "date",
                "Cette date est passée : choisissez aujourd'hui ou plus tard.",
            ),
            Some(d) if (d - today).whole_days() > MAX_DAYS_AHEAD => refuse(
                e,
                "date",
                "Publiez un atelier au plus 400 jours à l'avance.",
            ),
            d => d,
        }
    }

    /// From 1 to [`MAX_CAPACITY`] places; one for an individual appointment.
    fn capacity(&self, format: Option<WorkshopFormat>, e: &mut Errors) -> Option<i64> {
        match (format, number_in(&self.capacity, 1, MAX_CAPACITY)) {
            (_, None) => refuse(e, "capacity", "Indiquez un nombre de places de 1 à 200."),
            (Some(WorkshopFormat::Individual), Some(c)) if c != 1 => refuse(
                e,
                "capacity",
                "Un rendez-vous individuel a une seule place.",
            ),
            (_, c) => c,
        }
    }

    /// At the venue, elsewhere (a known commune and an address) or remote (how to join).
    fn place(&self, commune: &impl Fn(&str) -> Option<InseeCode>, e: &mut Errors) -> Option<Place> {
        let detail = short_text(&self.place_detail, 300).filter(|d| !d.is_empty());
        match (self.place.trim(), detail) {
            ("" | "venue", _) => Some(Place::AtVenue),
            ("elsewhere", Some(address)) => match commune(self.commune.trim()) {
                Some(c) => Some(Place::Elsewhere {
                    commune: c,
                    address,
                }),
                None => refuse(
                    e,
                    "commune",
                    "Commune inconnue : indiquez son nom, son code postal ou son code INSEE.",
                ),
            },
            ("remote", Some(how)) => Some(Place::Remote { how }),
            ("elsewhere" | "remote", None) => refuse(
                e,
                "place_detail",
                "Indiquez l'adresse (ou comment se connecter), en 300 caractères au plus.",
            ),
            _ => refuse(e, "place", "Choisissez où a lieu l'atelier."),
        }
    }

    /// The dates of the workshop or its series (a year at most, exceptions left out).
    fn dates(&self, first: Option<Date>, e: &mut Errors) -> Vec<Date> {
        let repeat = Repeat::parse(self.repeat.trim()).or_else(|| {
            refuse(
                e,
                "repeat",
                "Choisissez une fois, chaque semaine ou toutes les deux semaines.",
            )
        });
        let until = match self.until.trim() {
            "" => None,
            u => date(u).or_else(|| {
                refuse(
                    e,
                    "until",
                    "Indiquez la dernière date de la série au format jj/mm/aaaa.",
                )
            }),
        };
        let mut except = Vec::new();
        for part in self
            .except
            .split([',', ';', ' ', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match date(part) {
                Some(d) => except.push(d),
                None => {
                    e.push((
                        "except",
                        format!(
                            "« {} » n'est pas une date (aaaa-mm-jj).",
                            part.chars().take(20).collect::<String>()
                        ),
                    ));
                    break;
                }
            }
        }
        let (Some(first), Some(r)) = (first, repeat) else {
            return vec![];
        };
        if r != Repeat::Once && until.is_none_or(|u| u < first) {
            e.push((
                "until",
                "Indiquez la dernière date de la série, après la première.".into(),
            ));
        }
        if let Some(u) = until
            && (u - first).whole_days() > 366
        {
            e.push(("until", "Une série dure au plus un an.".into()));
        }
        let dates = series_dates(first, r, until, &except);
        if dates.is_empty() {
            e.push((
                "except",
                "Toutes les dates de la série sont exclues.".into(),
            ));
        }
        dates
    }
}

/// A whole number typed in a field, within bounds.
fn number_in(s: &str, min: i64, max: i64) -> Option<i64> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn ts(t: time::OffsetDateTime) -> Timestamp {
        Timestamp::from_unix_ms((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    fn form() -> WorkshopForm {
        WorkshopForm {
            format: "collective".into(),
            title: "Premiers pas sur la tablette".into(),
            services: vec!["2.1.07".into(), " 1.1.02".into(), "2.1.07".into()],
            level: "beginner".into(),
            date: "2026-12-15".into(),
            time: "14:30".into(),
            duration_min: "90".into(),
            place: "venue".into(),
            capacity: "8".into(),
            mediator: "Samia".into(),
            repeat: "once".into(),
            ..Default::default()
        }
    }

    fn catalogue(code: &str) -> Option<ServiceFormat> {
        match code {
            "2.1.07" => Some(ServiceFormat::Both),
            "1.1.02" => Some(ServiceFormat::Collective),
            _ => None,
        }
    }

    fn lyon(s: &str) -> Option<InseeCode> {
        (s == "Lyon").then(|| InseeCode::parse("69123").unwrap())
    }

    const TODAY: Date = date!(2026 - 12 - 03);

    #[test]
    fn a_workshop_is_checked_whole_and_starts_at_paris_time() {
        let p = form().check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(p.services, vec!["1.1.02", "2.1.07"]);
        assert_eq!(p.dates, vec![date!(2026 - 12 - 15)]);
        // 14:30 in Paris in December is 13:30 UTC.
        assert_eq!(p.starts(), vec![ts(datetime!(2026-12-15 13:30 UTC))]);
        let mut f = form();
        f.format = "individual".into();
        let errors = f.check(TODAY, catalogue, lyon).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        // 1.1.02 is collective only in the catalogue; an appointment has one place.
        assert_eq!(fields, vec!["services", "capacity"], "{errors:?}");
        let mut f = form();
        f.services = vec!["9.9.99".into()];
        f.date = "2026-12-02".into();
        f.time = "25:00".into();
        f.duration_min = "5".into();
        f.place = "elsewhere".into();
        f.place_detail = "Salle des fêtes".into();
        f.commune = "Atlantide".into();
        let errors = f.check(TODAY, catalogue, lyon).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            vec!["services", "date", "time", "duration_min", "commune"],
            "{errors:?}"
        );
        assert!(
            errors[0]
                .1
                .contains("9.9.99 n'est pas dans votre catalogue")
        );
        let mut f = form();
        f.place = "elsewhere".into();
        f.commune = "Lyon".into();
        f.place_detail = "Salle des fêtes".into();
        let p = f.check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(p.place.kind(), "elsewhere");
        assert_eq!(p.place.commune().map(|c| c.as_str()), Some("69123"));
    }

    #[test]
    fn a_series_repeats_until_its_last_date_without_its_exceptions() {
        let mut f = form();
        f.repeat = "weekly".into();
        f.until = "2027-01-12".into();
        f.except = "2026-12-22, 2026-12-29".into();
        let p = f.check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(
            p.dates,
            vec![
                date!(2026 - 12 - 15),
                date!(2027 - 01 - 05),
                date!(2027 - 01 - 12)
            ]
        );
        f.repeat = "fortnightly".into();
        f.except = String::new();
        let p = f.check(TODAY, catalogue, lyon).unwrap();
        assert_eq!(
            p.dates,
            vec![
                date!(2026 - 12 - 15),
                date!(2026 - 12 - 29),
                date!(2027 - 01 - 12)
            ]
        );
        f.until = String::new();
        assert_eq!(f.check(TODAY, catalogue, lyon).unwrap_err()[0].0, "until");
        f.until = "2028-12-15".into();
        assert!(
            f.check(TODAY, catalogue, lyon)
                .unwrap_err()
                .iter()
                .any(|(_, m)| m == "Une série dure au plus un an.")
        );
        assert_eq!(
            series_dates(
                date!(2026 - 01 - 01),
                Repeat::Weekly,
                Some(date!(2030 - 01 - 01)),
                &[]
            )
            .len(),
            MAX_SERIES
        );
    }
}
