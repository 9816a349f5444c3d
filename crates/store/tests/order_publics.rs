//! A funder's own publics per order, on both engines: added, reworded and retired (never
//! deleted), unique per order even from concurrent requests and bounded in number; the
//! handout rules that follow (own targets, retired publics refused); handouts that record
//! them, and the figures that name them next to the national publics.

mod common;

use common::*;
use passnum_core::InseeCode;
use passnum_core::handout::{Handout, HandoutRequest, HouseholdKey};
use passnum_core::own_public::{
    MAX_OWN_PUBLICS, NewOwnPublic, OwnPublicId, OwnPublicRequest, PublicRef,
};
use passnum_store::{FigureScope, Store, StoreError, both_engines};

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

fn public(label: &str, ages: (&str, &str), target: bool) -> NewOwnPublic {
    NewOwnPublic::parse(&OwnPublicRequest {
        label: label.into(),
        age_min: ages.0.into(),
        age_max: ages.1.into(),
        criteria: "Orientées par la mission locale".into(),
        target,
    })
    .unwrap()
}

async fn add(
    s: &Store,
    order: passnum_core::OrderId,
    label: &str,
) -> Result<OwnPublicId, StoreError> {
    s.add_order_public(
        order,
        &public(label, ("", ""), false),
        "Marie Dupont <m.dupont@metropole.fr>",
        t0(),
    )
    .await
    .map(|p| p.id)
}

both_engines! {
    async fn publics_are_added_reworded_and_retired_per_order(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let young = s
            .add_order_public(w.order.id, &public("Femmes des communes isolées", ("16", "25"), true), "tests", t0())
            .await
            .unwrap();
        assert_eq!(young.code(), format!("own_{}", young.id.0));
        assert_eq!(young.age.unwrap().words(), "16 à 25 ans");
        assert_eq!(young.criteria, "Orientées par la mission locale");
        assert!(young.target && !young.retired);
        let carers = add(s, w.order.id, "Aidants familiaux").await.unwrap();
        // The same label, however written, is refused; so is a national public.
        assert_eq!(code(add(s, w.order.id, "aidant familiaux").await.unwrap_err()), "public_label_taken");
        // Reworded: the code stays.
        let reworded = s
            .update_order_public(w.order.id, carers, &public("Aidants de proches âgés", ("", "64"), false))
            .await
            .unwrap();
        assert_eq!((reworded.id, reworded.label.as_str()), (carers, "Aidants de proches âgés"));
        assert_eq!(reworded.age.unwrap().words(), "64 ans au plus");
        // Renaming onto another public's label is refused, and changes nothing.
        let err = s
            .update_order_public(w.order.id, carers, &public("Femmes des communes isolées", ("", ""), false))
            .await
            .unwrap_err();
        assert_eq!(code(err), "public_label_taken");
        // Another order sees none of them, and cannot touch them.
        let other = s.create_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert!(s.order_publics(other.id).await.unwrap().is_empty());
        let moved = s.update_order_public(other.id, carers, &public("Autre", ("", ""), false)).await;
        assert!(matches!(moved, Err(StoreError::NotFound)), "{moved:?}");
        assert!(matches!(s.retire_order_public(other.id, carers, t0()).await, Err(StoreError::NotFound)));
        // The same label on another order is fine.
        add(s, other.id, "Aidants familiaux").await.unwrap();
        // Retired: kept, no longer a target, no longer changed; a second retirement is done.
        s.retire_order_public(w.order.id, young.id, t0()).await.unwrap();
        s.retire_order_public(w.order.id, young.id, t0()).await.unwrap();
        let list = s.order_publics(w.order.id).await.unwrap();
        let seen: Vec<(&str, bool, bool)> = list.iter().map(|p| (p.label.as_str(), p.target, p.retired)).collect();
        assert_eq!(seen, [("Femmes des communes isolées", false, true), ("Aidants de proches âgés", false, false)]);
        let err = s.update_order_public(w.order.id, young.id, &public("Femmes isolées", ("", ""), true)).await.unwrap_err();
        assert_eq!(code(err), "public_retired");
        // A retired public's label stays taken: its handouts keep that name.
        assert_eq!(code(add(s, w.order.id, "Femmes des communes isolées").await.unwrap_err()), "public_label_taken");
    }
}

both_engines! {
    async fn concurrent_additions_keep_labels_unique_and_the_count_bounded(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        // Six requests add the same label at once: one gets it.
        let tries = (0..6).map(|_| {
            let s = s.clone();
            let order = w.order.id;
            tokio::spawn(async move { add(&s, order, "Salariés en reconversion").await })
        });
        let results = futures_util::future::join_all(tries).await;
        let mut ok = 0;
        for r in results {
            match r.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(code(e), "public_label_taken"),
            }
        }
        assert_eq!(ok, 1);
        // Up to the limit less two, then four distinct labels at once: two get in.
        for i in 1..MAX_OWN_PUBLICS - 2 {
            add(s, w.order.id, &format!("Public numéro {i}")).await.unwrap();
        }
        let tries = (0..4).map(|i| {
            let s = s.clone();
            let order = w.order.id;
            tokio::spawn(async move { add(&s, order, &format!("Dernier public {i}")).await })
        });
        let mut refused = 0;
        for r in futures_util::future::join_all(tries).await {
            if let Err(e) = r.unwrap() {
                assert_eq!(code(e), "too_many_publics");
                refused += 1;
            }
        }
        assert_eq!(refused, 2);
        assert_eq!(s.order_publics(w.order.id).await.unwrap().len(), MAX_OWN_PUBLICS);
    }
}

both_engines! {
    async fn a_cancelled_order_takes_no_new_public(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let draft = s.create_draft_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        s.cancel_order(draft.id, t0()).await.unwrap();
        assert_eq!(code(add(s, draft.id, "Aidants").await.unwrap_err()), "order_state");
        assert!(matches!(add(s, passnum_core::OrderId(9_999), "Aidants").await, Err(StoreError::NotFound)));
    }
}

fn person(publics: &[&str]) -> HandoutRequest {
    HandoutRequest {
        needs: vec!["email".into()],
        equipment: "none".into(),
        level: "never".into(),
        publics: publics.iter().map(|p| p.to_string()).collect(),
        consent: true,
        ..Default::default()
    }
}

both_engines! {
    async fn handouts_record_own_publics_and_the_figures_name_them(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let lyon = InseeCode::parse_known("69123").unwrap();
        let d = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(w.order.id, &[(d, 4)], "tests", t0()).await.unwrap();
        let women = s
            .add_order_public(w.order.id, &public("Femmes des communes isolées", ("16", "25"), true), "tests", t0())
            .await
            .unwrap();
        let carers = add(s, w.order.id, "Aidants familiaux").await.unwrap();
        // "Target publics only" now has a target: the own one.
        let rules = s.set_order_rules(w.order.id, true, false).await.unwrap();
        assert_eq!(rules.target_publics.iter().copied().collect::<Vec<_>>(), [PublicRef::Own(women.id)]);
        assert_eq!(rules.own_publics.len(), 2);
        let key = HouseholdKey::from_bytes([3; 32]);
        let first = Handout::parse(&person(&["senior", &women.code()]), &rules, &key).unwrap();
        s.hand_out(d, None, w.order.id, 1, &lyon, &first, t0()).await.unwrap();
        let off_target = Handout::parse(&person(&[&carers_code(carers)]), &rules, &key).unwrap_err();
        assert_eq!(passnum_core::handout::HandoutError::code(&off_target), "not_target_public");
        assert!(off_target.to_string().contains("Femmes des communes isolées (16 à 25 ans)"), "{off_target}");
        // Once retired, a public is no longer accepted, and the target rule has no target left.
        s.retire_order_public(w.order.id, women.id, t0()).await.unwrap();
        let rules = s.order_rules(w.order.id).await.unwrap();
        assert!(rules.target_publics.is_empty());
        let refused = Handout::parse(&person(&[&women.code()]), &rules, &key).unwrap_err();
        assert_eq!(passnum_core::handout::HandoutError::code(&refused), "invalid_public");
        let second = Handout::parse(&person(&[&carers_code(carers)]), &rules, &key).unwrap();
        s.hand_out(d, None, w.order.id, 2, &lyon, &second, t0()).await.unwrap();
        // The figures: the funder's stats by code, and labels by order for the figure pages.
        let stats = s.distribution_stats(w.order.id).await.unwrap();
        assert_eq!(stats.per_public.get("senior"), Some(&1));
        assert_eq!(stats.per_public.get(&women.code()), Some(&1));
        assert_eq!(stats.per_public.get(&carers_code(carers)), Some(&1));
        let labels = s.public_labels(&FigureScope::funder(w.funder.id)).await.unwrap();
        assert_eq!(labels.label(&women.code()), "Femmes des communes isolées (16 à 25 ans) — public propre");
        assert_eq!(labels.label("senior"), "Personne âgée (65 ans et plus)");
        assert_eq!(labels.label("own_999999"), "own_999999");
        // Another funder's scope does not name them.
        let stranger = s.create_funder("Département du Nord", "departement", t0()).await.unwrap();
        let theirs = s.public_labels(&FigureScope::funder(stranger.id)).await.unwrap();
        assert_eq!(theirs.label(&women.code()), women.code());
        // A structure reads the publics of the orders it holds booklets of, and no other.
        assert!(s.distributor_holds_order(d, w.order.id).await.unwrap());
        let other = s.create_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert!(!s.distributor_holds_order(d, other.id).await.unwrap());
    }
}

fn carers_code(id: OwnPublicId) -> String {
    PublicRef::Own(id).code()
}
