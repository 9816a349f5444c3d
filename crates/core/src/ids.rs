//! Typed identifiers, so a venue id is never passed where a funder id is expected.

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    FunderId,
    OrderId,
    BookletId,
    ChequeId,
    VenueId,
    DistributorId,
    ObserverId,
    RedemptionId,
    TransferId,
    AccountId,
    TerritoryId
);
