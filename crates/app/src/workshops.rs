//! Publishing workshops from a form (page or API): the venue's catalogue and the commune list
//! are read here, the checks are core's, the writing is the store's.

use passnum_core::commune::communes;
use passnum_core::workshop::{FieldError, WorkshopForm, WorkshopPlan};
use passnum_core::{InseeCode, Timestamp, VenueId, paris};
use passnum_store::{Store, StoreError, Workshop};

/// A commune as a person types it: its INSEE code, its postcode (one commune) or its name (one
/// match).
pub fn find_commune(typed: &str) -> Option<InseeCode> {
    let typed = typed.trim();
    if let Ok(c) = InseeCode::parse_known(typed) {
        return Some(c);
    }
    let list = communes();
    let by_postcode = list.by_postcode(typed);
    let found = if by_postcode.len() == 1 {
        by_postcode
    } else {
        list.matching(typed)
    };
    match found.as_slice() {
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
