//! The handout flow shared by the agent's page and the API: the funder's rules, the checked
//! diagnostic, then the store's all-or-nothing write.

use passnum_core::handout::{Handout, HandoutError, HandoutRequest, HouseholdKey};
use passnum_core::{InseeCode, OrderId, Timestamp};
use passnum_store::{DistributorId, HandoutRecord, Store, StoreError};

pub enum HandingError {
    Refused(HandoutError),
    Store(StoreError),
}

impl From<StoreError> for HandingError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Which booklet an agent hands out, from which structure, and where the person lives.
pub struct HandoutOf<'a> {
    pub distributor: DistributorId,
    /// The agent's account, when the handout is made from the pages.
    pub staff_id: Option<i64>,
    pub order: OrderId,
    pub booklet_number: i64,
    pub commune: &'a InseeCode,
}

pub async fn hand_out(
    store: &Store,
    household: &HouseholdKey,
    of: HandoutOf<'_>,
    req: &HandoutRequest,
    now: Timestamp,
) -> Result<HandoutRecord, HandingError> {
    let rules = store.order_rules(of.order).await?;
    let handout = Handout::parse(req, &rules, household).map_err(HandingError::Refused)?;
    let birth_date = req.household.as_ref().map(|h| h.birth_date.as_str());
    handout
        .check_age_bands(birth_date, &rules, passnum_core::paris::local_date(now))
        .map_err(HandingError::Refused)?;
    Ok(store
        .hand_out(
            of.distributor,
            of.staff_id,
            of.order,
            of.booklet_number,
            of.commune,
            &handout,
            now,
        )
        .await?)
}
