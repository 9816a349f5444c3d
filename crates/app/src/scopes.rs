//! Who may see and do what, decided once for the API and the pages: each actor's scope over
//! redemptions and the ledger, and whose orders and bank details it may reach.

use passnum_core::VenueId;
use passnum_store::{Actor, LedgerScope, Order, RedemptionScope};

/// Why an actor is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// Another role's resource.
    Forbidden,
    /// Another organisation's: the same answer as for one that does not exist, so that ids
    /// cannot be probed.
    NotFound,
}

/// A venue sees its own redemptions, a funder those of its cheques, the operator all.
pub fn redemptions(actor: Actor) -> Result<RedemptionScope, Denied> {
    match actor {
        Actor::Operator => Ok(RedemptionScope::All),
        Actor::Funder(f) => Ok(RedemptionScope::Funder(f)),
        Actor::Venue(v) => Ok(RedemptionScope::Venue(v)),
        Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => Err(Denied::Forbidden),
    }
}

/// A funder sees its held funds, a venue what it is owed, the operator every account.
pub fn ledger(actor: Actor) -> Result<LedgerScope, Denied> {
    match actor {
        Actor::Operator => Ok(LedgerScope::All),
        Actor::Funder(f) => Ok(LedgerScope::Funder(f)),
        Actor::Venue(v) => Ok(LedgerScope::Venue(v)),
        Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => Err(Denied::Forbidden),
    }
}

/// Only a venue redeems, for itself.
pub fn redeeming_venue(actor: Actor) -> Result<VenueId, Denied> {
    match actor {
        Actor::Venue(v) => Ok(v),
        _ => Err(Denied::Forbidden),
    }
}

/// A venue's bank details: the operator, or the venue itself.
pub fn bank_details(actor: Actor, venue: VenueId) -> Result<(), Denied> {
    match actor {
        Actor::Operator => Ok(()),
        Actor::Venue(v) if v == venue => Ok(()),
        Actor::Venue(_) => Err(Denied::NotFound),
        Actor::Funder(_) | Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => {
            Err(Denied::Forbidden)
        }
    }
}

/// An order: the operator, or the funder that placed it.
pub fn order(actor: Actor, order: &Order) -> Result<(), Denied> {
    match actor {
        Actor::Operator => Ok(()),
        Actor::Funder(f) if f == order.funder_id => Ok(()),
        Actor::Funder(_) => Err(Denied::NotFound),
        Actor::Venue(_) | Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => {
            Err(Denied::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use passnum_core::FunderId;
    use passnum_store::DistributorId;

    #[test]
    fn each_actor_reaches_its_own_and_another_organisations_looks_absent() {
        let (v1, v2) = (VenueId(1), VenueId(2));
        assert_eq!(bank_details(Actor::Operator, v1), Ok(()));
        assert_eq!(bank_details(Actor::Venue(v1), v1), Ok(()));
        assert_eq!(bank_details(Actor::Venue(v2), v1), Err(Denied::NotFound));
        assert_eq!(
            bank_details(Actor::Funder(FunderId(1)), v1),
            Err(Denied::Forbidden)
        );
        assert_eq!(redeeming_venue(Actor::Venue(v2)), Ok(v2));
        assert_eq!(redeeming_venue(Actor::Operator), Err(Denied::Forbidden));
        assert_eq!(
            redemptions(Actor::Funder(FunderId(3))),
            Ok(RedemptionScope::Funder(FunderId(3)))
        );
        let agent = Actor::Distributor(DistributorId(4));
        assert_eq!(redemptions(agent), Err(Denied::Forbidden));
        assert_eq!(ledger(agent), Err(Denied::Forbidden));
        assert_eq!(ledger(Actor::Venue(v1)), Ok(LedgerScope::Venue(v1)));
    }
}
