//! What the command-line tests share: a funder with an order valid from yesterday for a month,
//! a qualified venue that may redeem its cheques, and `passnum serve` processes on free ports.
#![allow(dead_code)] // each test binary uses its part

use passnum_core::order::OrderRequest;
use passnum_core::{InseeCode, NewOrder, Siret, Timestamp, VenueStatus};
use passnum_store::{NewVenue, Order, Store, Venue};

pub fn now() -> Timestamp {
    Timestamp::from_offset_datetime(time::OffsetDateTime::now_utc())
}

/// "Métropole" orders `booklets` booklets of ten 10 € cheques; "Médiathèque" (Lyon) redeems.
pub async fn programme(s: &Store, booklets: i64) -> (Order, Venue) {
    programme_since(s, booklets, now()).await
}

/// The same programme set up at `now` (in the past for cheques redeemed days ago): the order is
/// valid from the day before.
pub async fn programme_since(s: &Store, booklets: i64, now: Timestamp) -> (Order, Venue) {
    let today = passnum_core::paris::local_date(now);
    let funder = s
        .create_funder("Métropole", "metropole", now)
        .await
        .unwrap();
    let order = NewOrder::parse(&OrderRequest {
        booklet_count: booklets,
        cheques_per_booklet: 10,
        face_value_cents: 1000,
        valid_from: today - time::Duration::days(1),
        valid_until: today + time::Duration::days(30),
        tolerance_days: 0,
        perimeter_communes: vec![],
        perimeter_departements: vec![],
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    })
    .unwrap();
    let order = s.create_order(funder.id, &order, now).await.unwrap();
    let venue = NewVenue {
        siret: Siret::parse("21690123000005").unwrap().into(),
        name: "Médiathèque".into(),
        commune: InseeCode::parse("69123").unwrap(),
        status: VenueStatus::Qualified,
        qualified_until: None,
        address: String::new(),
        contact: String::new(),
        services: s.referentiel_codes(),
    };
    let venue = s.create_venue(&venue, now).await.unwrap();
    (order, venue)
}

/// A `passnum serve` process, killed when dropped.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
