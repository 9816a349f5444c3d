//! The activity record (compte rendu) a venue fills at the end of a workshop: attendance, the
//! time actually spent, themes, equipment and, only when given, anonymous bands for each
//! participant. The codes are those of the Coop de la médiation numérique's activities, so the
//! export goes there without typing anything twice.

use super::FieldError;

/// Declares an enum whose values are stored and exported as the Coop's codes, with a French label.
macro_rules! coded {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// The Coop's code, also what the database holds.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == s)
            }
        }
    };
}

coded!(
    /// What the workshop dealt with (the Coop's "thématiques" of digital mediation).
    Theme {
        Diagnostic => "diagnostic_numerique", "Diagnostic numérique";
        Device => "prendre_en_main_du_materiel", "Prendre en main du matériel";
        Maintenance => "maintenance_de_materiel", "Maintenance de matériel";
        Contents => "gere_ses_contenus_numeriques", "Gérer ses contenus numériques";
        Browsing => "navigation_sur_internet", "Navigation sur internet";
        Email => "email", "E-mail";
        Office => "bureautique", "Bureautique";
        SocialNetworks => "reseaux_sociaux", "Réseaux sociaux communication";
        Health => "sante", "Santé";
        Banking => "banque_et_achats_en_ligne", "Banque et achats en ligne";
        Business => "entrepreneuriat", "Entrepreneuriat";
        Employment => "insertion_professionnelle", "Insertion professionnelle";
        Security => "securite_numerique", "Prévention en sécurité numérique";
        Parenting => "parentalite", "Parentalité";
        School => "scolarite_et_numerique", "Scolarité et numérique";
        Creating => "creer_avec_le_numerique", "Créer avec le numérique";
        Culture => "culture_numerique", "Culture numérique";
        Ai => "intelligence_artificielle", "Intelligence artificielle (IA)";
        Procedures => "aide_aux_demarches_administratives", "Aide aux démarches administratives";
    }
);

coded!(
    /// What the participants used.
    Equipment {
        Computer => "ordinateur", "Ordinateur";
        Phone => "telephone", "Téléphone";
        Tablet => "tablette", "Tablette";
        Other => "autre", "Autre matériel";
        Nothing => "aucun", "Pas de matériel";
    }
);

coded!(
    /// A participant's age, in the Coop's bands.
    AgeBand {
        Under12 => "moins_de_douze", "Moins de 12 ans";
        From12To18 => "douze_dix_huit", "12 à 18 ans";
        From18To24 => "dix_huit_vingt_quatre", "18 à 24 ans";
        From25To39 => "vingt_cinq_trente_neuf", "25 à 39 ans";
        From40To59 => "quarante_cinquante_neuf", "40 à 59 ans";
        From60To69 => "soixante_soixante_neuf", "60 à 69 ans";
        From70 => "soixante_dix_plus", "70 ans et plus";
    }
);

coded!(
    /// How far a participant did things alone by the end.
    Autonomy {
        EntirelyHelped => "entierement_accompagne", "Entièrement accompagné";
        PartlyAutonomous => "partiellement_autonome", "Partiellement autonome";
        Autonomous => "autonome", "Autonome";
    }
);

/// One participant, anonymous: only the bands the mediator chose to give.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Participant {
    pub age: Option<AgeBand>,
    pub autonomy: Option<Autonomy>,
    /// Sent on to another structure (administration, social services…).
    pub oriented: Option<bool>,
}

impl Participant {
    pub fn is_blank(&self) -> bool {
        self.age.is_none() && self.autonomy.is_none() && self.oriented.is_none()
    }
}

/// A checked activity record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRecord {
    pub attendance: i64,
    pub duration_min: i64,
    pub themes: Vec<Theme>,
    pub equipment: Vec<Equipment>,
    /// Only the participants something was said about, at most `attendance`.
    pub participants: Vec<Participant>,
}

/// One participant's line as typed ("" when not given).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ParticipantForm {
    pub age: String,
    pub autonomy: String,
    /// "yes", "no" or "".
    pub oriented: String,
}

/// The record as typed on the page or sent to the API, before it is checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct RecordForm {
    pub attendance: String,
    pub duration_min: String,
    pub themes: Vec<String>,
    pub equipment: Vec<String>,
    pub participants: Vec<ParticipantForm>,
}

/// What the workshop's own data bounds the record with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordBounds {
    pub capacity: i64,
    /// Cheques scanned for the workshop: that many people came at least.
    pub scanned: i64,
}

/// Why a workshop takes no record (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordRefusal {
    #[error("Cet atelier a été annulé : il n'a pas de compte rendu.")]
    Cancelled,
    #[error("Cet atelier n'a pas encore commencé : remplissez son compte rendu à la fin.")]
    NotHeldYet,
    #[error(
        "Un chèque vient d'être scanné pour cet atelier : le nombre de participants est passé sous le nombre de chèques. Rechargez la page."
    )]
    BelowScans,
}

impl RecordRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Cancelled => "workshop_cancelled",
            Self::NotHeldYet => "workshop_not_held_yet",
            Self::BelowScans => "attendance_below_scans",
        }
    }
}

/// A record is kept for a workshop that took place: started, not cancelled.
pub fn check_record_time(
    cancelled: bool,
    starts_at: crate::Timestamp,
    now: crate::Timestamp,
) -> Result<(), RecordRefusal> {
    if cancelled {
        Err(RecordRefusal::Cancelled)
    } else if now < starts_at {
        Err(RecordRefusal::NotHeldYet)
    } else {
        Ok(())
    }
}

/// Longest a workshop can have really lasted (a full day).
pub const MAX_HELD_MIN: i64 = 600;

fn each<T>(codes: &[String], parse: fn(&str) -> Option<T>) -> Option<Vec<T>>
where
    T: Ord,
{
    let mut out = codes
        .iter()
        .map(|c| parse(c.trim()))
        .collect::<Option<Vec<T>>>()?;
    out.sort();
    out.dedup();
    Some(out)
}

fn optional<T>(s: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ()> {
    match s.trim() {
        "" => Ok(None),
        s => parse(s).map(Some).ok_or(()),
    }
}

fn participant(p: &ParticipantForm) -> Result<Participant, ()> {
    Ok(Participant {
        age: optional(&p.age, AgeBand::parse)?,
        autonomy: optional(&p.autonomy, Autonomy::parse)?,
        oriented: optional(&p.oriented, |s| match s {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        })?,
    })
}

impl RecordForm {
    /// Checks every field at once (for the form's summary). Participants left blank are dropped.
    pub fn check(&self, bounds: RecordBounds) -> Result<ActivityRecord, Vec<FieldError>> {
        let mut e: Vec<FieldError> = Vec::new();
        let attendance = self.attendance.trim().parse::<i64>().ok();
        let attendance = match attendance {
            Some(n) if n < bounds.scanned => {
                e.push((
                    "attendance",
                    format!(
                        "{} chèque{} {} été scanné{} pour cet atelier : indiquez au moins {} participant{}.",
                        bounds.scanned,
                        plural(bounds.scanned),
                        if bounds.scanned > 1 { "ont" } else { "a" },
                        plural(bounds.scanned),
                        bounds.scanned,
                        plural(bounds.scanned)
                    ),
                ));
                None
            }
            Some(n) if (0..=bounds.capacity).contains(&n) => Some(n),
            _ => {
                e.push((
                    "attendance",
                    format!(
                        "Indiquez le nombre de participants, de 0 à {} (la capacité de l'atelier).",
                        bounds.capacity
                    ),
                ));
                None
            }
        };
        let duration = self
            .duration_min
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_HELD_MIN).contains(d));
        if duration.is_none() {
            e.push((
                "duration_min",
                "Indiquez la durée réelle de l'atelier, de 1 à 600 minutes.".into(),
            ));
        }
        let themes = match each(&self.themes, Theme::parse) {
            Some(t) if !t.is_empty() => Some(t),
            _ => {
                e.push(("themes", "Cochez au moins une thématique abordée.".into()));
                None
            }
        };
        let equipment = match each(&self.equipment, Equipment::parse) {
            Some(m) if m.contains(&Equipment::Nothing) && m.len() > 1 => {
                e.push((
                    "equipment",
                    "« Pas de matériel » ne va pas avec un matériel coché : décochez l'un des deux."
                        .into(),
                ));
                None
            }
            Some(m) => Some(m),
            None => {
                e.push(("equipment", "Choisissez le matériel dans la liste.".into()));
                None
            }
        };
        let participants = self.participants(attendance, &mut e);
        match (attendance, duration, themes, equipment, participants) {
            (Some(attendance), Some(duration_min), Some(themes), Some(equipment), Some(p))
                if e.is_empty() =>
            {
                Ok(ActivityRecord {
                    attendance,
                    duration_min,
                    themes,
                    equipment,
                    participants: p,
                })
            }
            _ => Err(e),
        }
    }

    fn participants(
        &self,
        attendance: Option<i64>,
        e: &mut Vec<FieldError>,
    ) -> Option<Vec<Participant>> {
        let mut out = Vec::new();
        for p in &self.participants {
            match participant(p) {
                Ok(p) if p.is_blank() => {}
                Ok(p) => out.push(p),
                Err(()) => {
                    e.push((
                        "participants",
                        "Choisissez les tranches des participants dans les listes proposées."
                            .into(),
                    ));
                    return None;
                }
            }
        }
        match attendance {
            Some(n) if out.len() as i64 > n => {
                e.push((
                    "participants",
                    format!(
                        "Vous décrivez {} participants pour {} présent{} : corrigez le nombre de participants ou videz une ligne.",
                        out.len(),
                        n,
                        plural(n)
                    ),
                ));
                None
            }
            _ => Some(out),
        }
    }
}

fn plural(n: i64) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// Codes joined for storage ("email bureautique"), in a stable order.
pub fn join_codes<T: Copy>(values: &[T], code: fn(T) -> &'static str) -> String {
    values
        .iter()
        .map(|v| code(*v))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Codes read back from storage; an unknown code is a corrupt row, reported by the caller.
pub fn split_codes<T>(s: &str, parse: fn(&str) -> Option<T>) -> Option<Vec<T>> {
    s.split_whitespace().map(parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RecordForm {
        RecordForm {
            attendance: "3".into(),
            duration_min: "100".into(),
            themes: vec![
                "email".into(),
                "navigation_sur_internet".into(),
                "email".into(),
            ],
            equipment: vec!["ordinateur".into()],
            participants: vec![
                ParticipantForm {
                    age: "soixante_dix_plus".into(),
                    autonomy: "autonome".into(),
                    oriented: "".into(),
                },
                ParticipantForm::default(),
                ParticipantForm {
                    age: "".into(),
                    autonomy: "".into(),
                    oriented: "yes".into(),
                },
            ],
        }
    }
    const BOUNDS: RecordBounds = RecordBounds {
        capacity: 8,
        scanned: 2,
    };

    #[test]
    fn a_record_keeps_what_was_given_and_drops_blank_participants() {
        let r = form().check(BOUNDS).unwrap();
        assert_eq!(r.attendance, 3);
        assert_eq!(r.duration_min, 100);
        assert_eq!(
            r.themes,
            vec![Theme::Browsing, Theme::Email],
            "sorted, once each"
        );
        assert_eq!(r.participants.len(), 2);
        assert_eq!(r.participants[0].age, Some(AgeBand::From70));
        assert_eq!(r.participants[1].oriented, Some(true));
        assert_eq!(r.participants[1].age, None);
    }

    #[test]
    fn fewer_participants_than_cheques_scanned_is_refused_with_the_count() {
        let mut f = form();
        f.attendance = "1".into();
        let e = f.check(BOUNDS).unwrap_err();
        assert_eq!(e[0].0, "attendance");
        assert!(e[0].1.contains("2 chèques ont été scannés"), "{}", e[0].1);
        // One participant described is fine, two are more than the one present: both said.
        assert!(e.iter().all(|(f, _)| *f != "participants"), "{e:?}");
    }

    #[test]
    fn every_problem_is_said_at_once() {
        let f = RecordForm {
            attendance: "9".into(),
            duration_min: "0".into(),
            themes: vec![],
            equipment: vec!["aucun".into(), "tablette".into()],
            participants: vec![ParticipantForm {
                age: "vieux".into(),
                ..Default::default()
            }],
        };
        let fields: Vec<&str> = f.check(BOUNDS).unwrap_err().iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            vec![
                "attendance",
                "duration_min",
                "themes",
                "equipment",
                "participants"
            ]
        );
    }

    #[test]
    fn more_described_participants_than_present_is_refused() {
        let mut f = form();
        f.attendance = "2".into();
        let ok = f.check(BOUNDS).unwrap();
        assert_eq!(ok.participants.len(), 2);
        f.participants.push(ParticipantForm {
            autonomy: "autonome".into(),
            ..Default::default()
        });
        let e = f.check(BOUNDS).unwrap_err();
        assert_eq!(e[0].0, "participants");
        assert!(
            e[0].1.contains("3 participants pour 2 présents"),
            "{}",
            e[0].1
        );
    }

    #[test]
    fn codes_round_trip_through_storage() {
        let t = vec![Theme::Email, Theme::Ai];
        let s = join_codes(&t, Theme::code);
        assert_eq!(s, "email intelligence_artificielle");
        assert_eq!(split_codes(&s, Theme::parse), Some(t));
        assert_eq!(split_codes("email inconnu", Theme::parse), None);
        assert_eq!(split_codes("", Equipment::parse), Some(vec![]));
    }
}
