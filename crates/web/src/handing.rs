//! The handout flow shared by the agent's page and the API: the funder's rules, the checked
//! diagnostic, then the store's all-or-nothing write.

use passnum_core::InseeCode;
use passnum_core::OrderId;
use passnum_core::handout::{Handout, HandoutError, HandoutRequest};
use passnum_store::{DistributorId, HandoutRecord, StoreError};

use crate::AppState;
use crate::error::ApiError;

pub enum HandingError {
    Refused(HandoutError),
    Store(StoreError),
}

impl From<StoreError> for HandingError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<HandingError> for ApiError {
    fn from(e: HandingError) -> Self {
        match e {
            HandingError::Refused(r) => {
                ApiError::invalid(r.code(), crate::api::capitalize(&r.to_string()))
            }
            HandingError::Store(s) => s.into(),
        }
    }
}

pub async fn hand_out(
    st: &AppState,
    distributor: DistributorId,
    staff_id: Option<i64>,
    order: OrderId,
    booklet_number: i64,
    commune: &InseeCode,
    req: &HandoutRequest,
) -> Result<HandoutRecord, HandingError> {
    let rules = st.store.order_rules(order).await?;
    let handout = Handout::parse(req, &rules, &st.household).map_err(HandingError::Refused)?;
    Ok(st
        .store
        .hand_out(
            distributor,
            staff_id,
            order,
            booklet_number,
            commune,
            &handout,
            st.clock.now(),
        )
        .await?)
}
