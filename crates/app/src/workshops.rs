//! Publishing workshops from a form (page or API): the venue's catalogue and the commune list
//! are read here, the checks are core's, the writing is the store's.

use passnum_core::commune::communes;
use passnum_core::workshop::{FieldError, WorkshopForm, WorkshopPlan};
use passnum_core::workshop::{parse_booking_code, parse_booklet_ref};
use passnum_core::{InseeCode, Timestamp, VenueId, paris};
use passnum_store::{BookletKey, Store, StoreError, Workshop};

/// A commune as a person types it: its postcode (when it names one commune: people type
/// postcodes far more often than INSEE codes, and the two overlap), its INSEE code, or its name
/// (one match, or one commune of exactly that name: "Lyon" rather than its arrondissements).
pub fn find_commune(typed: &str) -> Option<InseeCode> {
    let typed = typed.trim();
    let list = communes();
    if let [one] = list.of_residents(typed).as_slice() {
        return InseeCode::parse(one.insee).ok();
    }
    if let Ok(c) = InseeCode::parse_known(typed) {
        return Some(c);
    }
    let found = list.matching(typed);
    if let [one] = found.as_slice() {
        return InseeCode::parse(one.insee).ok();
    }
    // "Lyon" is the city, though its arrondissements come along in the matches.
    let wanted = passnum_core::commune::folded(typed);
    match found
        .iter()
        .filter(|c| passnum_core::commune::folded(c.name) == wanted)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [one] => InseeCode::parse(one.insee).ok(),
        _ => None,
    }
}

/// What publishing a form gave: the workshops, or the form's errors (field, sentence).
pub enum Published {
    Done(Vec<Workshop>),
    Refused(Vec<FieldError>),
}

/// Checks the form against the venue's catalogue and publishes it (one workshop or a series).
pub async fn publish(
    store: &Store,
    venue: VenueId,
    form: &WorkshopForm,
    now: Timestamp,
) -> Result<Published, StoreError> {
    let catalogue = store.venue_catalogue(venue).await?;
    let plan: Result<WorkshopPlan, Vec<FieldError>> = form.check(
        paris::local_date(now),
        |code| catalogue.iter().find(|(c, _)| c == code).map(|(_, f)| *f),
        find_commune,
    );
    match plan {
        Err(errors) => Ok(Published::Refused(errors)),
        Ok(plan) => Ok(Published::Done(
            store.create_workshops(venue, &plan, now).await?,
        )),
    }
}

/// Typed input refused before any lookup: a stable code and a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputRefusal {
    pub code: &'static str,
    pub message: &'static str,
}

/// Reads a booklet's reference and code as typed (page or API); the agent of the structure that
/// handed the booklet out needs no code.
pub fn booklet_key(
    booklet: &str,
    code: Option<&str>,
    agent: bool,
) -> Result<BookletKey, InputRefusal> {
    let (order_id, number) = parse_booklet_ref(booklet).ok_or(InputRefusal {
        code: "invalid_booklet",
        message: "Numéro de carnet illisible : recopiez-le comme sur la couverture, par exemple 3-12.",
    })?;
    let code = match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(parse_booking_code(c).ok_or(InputRefusal {
            code: "booking_code_wrong",
            message: "Code de réservation illisible : 8 lettres et chiffres, comme ABCD-EFGH sur la couverture.",
        })?),
        None if agent => None,
        None => {
            return Err(InputRefusal {
                code: "booking_code_wrong",
                message: "Indiquez le code de réservation imprimé sur la couverture du carnet.",
            });
        }
    };
    Ok(BookletKey {
        order_id,
        number,
        code,
    })
}

/// A contact for reminders: only with consent, an e-mail or a phone number on one line.
pub fn contact_with_consent(
    contact: Option<&str>,
    consent: bool,
) -> Result<Option<String>, InputRefusal> {
    match contact.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(_) if !consent => Err(InputRefusal {
            code: "contact_without_consent",
            message: "Un contact n'est gardé qu'avec l'accord de la personne : cochez la case, ou laissez le contact vide.",
        }),
        Some(c) if c.chars().count() > 254 || c.chars().any(char::is_control) => {
            Err(InputRefusal {
                code: "invalid_contact",
                message: "Indiquez une adresse électronique ou un numéro de téléphone, sur une ligne.",
            })
        }
        Some(c) => Ok(Some(c.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commune_is_found_by_postcode_insee_code_or_name() {
        let code = |t: &str| find_commune(t).map(|c| c.as_str().to_string());
        assert_eq!(
            code("69003").as_deref(),
            Some("69383"),
            "a postcode: Lyon 3e"
        );
        assert_eq!(
            code("Lyon").as_deref(),
            Some("69123"),
            "the city, not its arrondissements"
        );
        assert_eq!(code(" villeurbanne ").as_deref(), Some("69266"));
        assert_eq!(
            code("69266").as_deref(),
            Some("69266"),
            "an INSEE code no postcode uses"
        );
        assert_eq!(
            code("69210"),
            None,
            "a postcode of several communes names none"
        );
        assert_eq!(code("Nullepart"), None);
    }

    #[test]
    fn a_booklet_key_is_read_as_typed_and_a_contact_needs_consent() {
        let k = booklet_key(" 3-12 ", Some("abcd efgh"), false).unwrap();
        assert_eq!(
            (k.order_id.0, k.number, k.code.as_deref()),
            (3, 12, Some("ABCDEFGH"))
        );
        assert_eq!(
            booklet_key("3-12", None, false).unwrap_err().code,
            "booking_code_wrong"
        );
        assert_eq!(booklet_key("3-12", None, true).unwrap().code, None);
        assert_eq!(
            booklet_key("douze", Some("ABCDEFGH"), false)
                .unwrap_err()
                .code,
            "invalid_booklet"
        );
        assert_eq!(
            booklet_key("3-12", Some("ABCD"), false).unwrap_err().code,
            "booking_code_wrong"
        );
        assert_eq!(contact_with_consent(Some("  "), false), Ok(None));
        assert_eq!(
            contact_with_consent(Some("06 12"), false).unwrap_err().code,
            "contact_without_consent"
        );
        assert_eq!(
            contact_with_consent(Some("a\nb"), true).unwrap_err().code,
            "invalid_contact"
        );
        assert_eq!(
            contact_with_consent(Some(" x@y.fr "), true),
            Ok(Some("x@y.fr".into()))
        );
    }

    #[test]
    fn a_commune_is_found_by_code_postcode_or_name() {
        assert_eq!(
            find_commune("69266")
                .map(|c| c.as_str().to_string())
                .as_deref(),
            Some("69266")
        );
        assert_eq!(
            find_commune("Villeurbanne")
                .map(|c| c.as_str().to_string())
                .as_deref(),
            Some("69266")
        );
        assert_eq!(
            find_commune("69100")
                .map(|c| c.as_str().to_string())
                .as_deref(),
            Some("69266")
        );
        assert_eq!(find_commune("Atlantide"), None);
    }
}
