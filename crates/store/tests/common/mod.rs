#![allow(dead_code)]
//! A small demo world shared by the storage tests.

use passnum_core::order::OrderRequest;
use passnum_core::{ChequeCode, InseeCode, NewOrder, Siret, Timestamp, VenueStatus};
use passnum_store::{Funder, NewVenue, Order, RedeemRequest, Store, Venue};
use time::macros::{date, datetime};

pub fn t0() -> Timestamp {
    Timestamp::from_offset_datetime(datetime!(2026-06-15 10:00 UTC))
}

pub const SIRETS: [&str; 4] = [
    "73282932000074",
    "13002603200008",
    "35600000000001",
    "44306184100047",
];

pub struct World {
    pub funder: Funder,
    pub order: Order,
    pub lyon: Venue,
    pub villeurbanne: Venue,
    pub paris: Venue,
    pub codes: Vec<ChequeCode>,
}

pub fn order_request(booklets: i64) -> OrderRequest {
    OrderRequest {
        booklet_count: booklets,
        cheques_per_booklet: 10,
        face_value_cents: 1000,
        valid_from: date!(2026 - 01 - 01),
        valid_until: date!(2026 - 12 - 31),
        tolerance_days: 30,
        perimeter_communes: vec![],
        perimeter_departements: vec!["69".into()],
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    }
}

pub async fn venue(
    store: &Store,
    siret: &str,
    name: &str,
    commune: &str,
    status: VenueStatus,
) -> Venue {
    store
        .create_venue(
            &NewVenue {
                siret: Siret::parse(siret).unwrap().into(),
                name: name.into(),
                commune: InseeCode::parse(commune).unwrap(),
                status,
                qualified_until: None,
                address: String::new(),
                contact: String::new(),
                services: store.referentiel_codes(),
            },
            t0(),
        )
        .await
        .unwrap()
}

pub async fn world(store: &Store, booklets: i64) -> World {
    let funder = store
        .create_funder("Métropole de Lyon", "metropole", t0())
        .await
        .unwrap();
    let order = store
        .create_order(
            funder.id,
            &NewOrder::parse(&order_request(booklets)).unwrap(),
            t0(),
        )
        .await
        .unwrap();
    let lyon = venue(
        store,
        SIRETS[0],
        "Médiathèque de Lyon",
        "69123",
        VenueStatus::Qualified,
    )
    .await;
    let villeurbanne = venue(
        store,
        SIRETS[1],
        "Espace numérique de Villeurbanne",
        "69266",
        VenueStatus::Qualified,
    )
    .await;
    let paris = venue(
        store,
        SIRETS[2],
        "Tiers-lieu parisien",
        "75056",
        VenueStatus::Qualified,
    )
    .await;
    let mut codes = vec![];
    let mut after = 0;
    loop {
        let page = store.list_cheques(order.id, after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        codes.extend(page.iter().map(|c| ChequeCode::parse(&c.code).unwrap()));
    }
    World {
        funder,
        order,
        lyon,
        villeurbanne,
        paris,
        codes,
    }
}

pub fn redeem_req(venue: &Venue, code: ChequeCode, now: Timestamp) -> RedeemRequest {
    RedeemRequest {
        venue_id: venue.id,
        code,
        service_code: "2.1.07".into(),
        workshop_id: None,
        now,
        idempotency: None,
    }
}

/// A handout after a diagnostic asking for online procedures, nobody's household recorded.
pub fn handout() -> passnum_core::handout::Handout {
    let request = passnum_core::handout::HandoutRequest {
        needs: vec!["online_procedures".into()],
        equipment: "phone_only".into(),
        level: "beginner".into(),
        consent: true,
        ..Default::default()
    };
    passnum_core::handout::Handout::parse(
        &request,
        &Default::default(),
        &passnum_core::handout::HouseholdKey::from_bytes([3; 32]),
    )
    .unwrap()
}

/// One workshop of one hour at the venue, for service 2.1.07, on `date` at `time` (Paris).
#[allow(dead_code)]
pub fn one_workshop(
    format: passnum_core::workshop::WorkshopFormat,
    title: &str,
    date: time::Date,
    time: time::Time,
    capacity: i64,
) -> passnum_core::workshop::WorkshopPlan {
    passnum_core::workshop::WorkshopPlan {
        format,
        title: title.into(),
        services: vec!["2.1.07".into()],
        level: passnum_core::workshop::Level::Beginner,
        time,
        dates: vec![date],
        duration_min: 60,
        place: passnum_core::workshop::Place::AtVenue,
        capacity,
        mediator: String::new(),
        accessibility: String::new(),
    }
}
