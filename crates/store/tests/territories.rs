//! Member territories of an order, on both engines: declared once per commune (even by
//! concurrent requests), inside the perimeter; their documents; the two stages of an
//! allocation (funder → territories → their own structures), all or nothing, and the
//! inventory that follows each holder.

mod common;

use common::*;
use passnum_core::application::Document;
use passnum_core::member_territory::NewTerritory;
use passnum_core::{InseeCode, TerritoryId};
use passnum_store::{DocumentKind, Holder, Store, StoreError, TerritoryPlan, both_engines};

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

fn territory(name: &str, codes: &str) -> NewTerritory {
    NewTerritory::parse(name, codes, ("2026-045", "12/03/2026"), ("", "")).unwrap()
}

async fn declare(
    s: &Store,
    order: passnum_core::OrderId,
    name: &str,
    codes: &str,
) -> Result<TerritoryId, StoreError> {
    s.declare_territory(
        order,
        &territory(name, codes),
        "Marie Dupont <m.dupont@metropole.fr>",
        t0(),
    )
    .await
    .map(|t| t.id)
}

both_engines! {
    async fn a_commune_joins_an_order_once_and_inside_its_perimeter(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let lyon = declare(s, w.order.id, "Ville de Lyon", "69123").await.unwrap();
        let t = NewTerritory::parse("Villeurbanne", "69266", ("D-12", "2026-03-01"), ("CM-3", "02/04/2026")).unwrap();
        s.declare_territory(w.order.id, &t, "tests", t0()).await.unwrap();
        // Outside the Rhône perimeter; an arrondissement of Lyon, already in; a name taken.
        assert_eq!(code(declare(s, w.order.id, "Paris", "75056").await.unwrap_err()), "outside_perimeter");
        assert_eq!(code(declare(s, w.order.id, "Lyon 3e", "69383").await.unwrap_err()), "territory_overlap");
        assert_eq!(code(declare(s, w.order.id, "ville de lyon", "69259").await.unwrap_err()), "territory_name_taken");
        let list = s.territories_of(w.order.id).await.unwrap();
        assert_eq!(list.iter().map(|t| (t.name.as_str(), t.communes.clone())).collect::<Vec<_>>(),
            [("Ville de Lyon", vec!["69123".to_string()]), ("Villeurbanne", vec!["69266".to_string()])]);
        let v = &list[1];
        assert_eq!((v.deliberation_ref.as_str(), v.deliberation_on.as_str()), ("D-12", "2026-03-01"));
        assert_eq!((v.convention_ref.as_deref(), v.convention_on.as_deref()), (Some("CM-3"), Some("2026-04-02")));
        assert_eq!(list[0].created_by, "Marie Dupont <m.dupont@metropole.fr>");
        // Lyon's convention, signed later.
        let c = passnum_core::member_territory::parse_convention("CM-7", "15/04/2026").unwrap();
        let t = s.record_convention(w.order.id, lyon, &c).await.unwrap();
        assert_eq!((t.convention_ref.as_deref(), t.convention_on.as_deref()), (Some("CM-7"), Some("2026-04-15")));
        // Another order does not see them.
        let other = s.create_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert!(matches!(s.territory(other.id, lyon).await, Err(StoreError::NotFound)));
        assert!(matches!(s.record_convention(other.id, lyon, &c).await, Err(StoreError::NotFound)));
        assert!(s.territories_of(other.id).await.unwrap().is_empty());
    }
}

both_engines! {
    async fn concurrent_declarations_of_one_commune_let_one_through(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let tries = (0..6).map(|i| {
            let s = s.clone();
            let order = w.order.id;
            tokio::spawn(async move { declare(&s, order, &format!("Bron {i}"), "69029").await })
        });
        let results = futures_util::future::join_all(tries).await;
        let ok = results.iter().filter(|r| r.as_ref().unwrap().is_ok()).count();
        assert_eq!(ok, 1, "{results:?}");
        for r in results.into_iter().map(|r| r.unwrap()).filter(|r| r.is_err()) {
            assert_eq!(code(r.unwrap_err()), "territory_overlap");
        }
        assert_eq!(s.territories_of(w.order.id).await.unwrap().len(), 1, "nothing half-written");
    }
}

both_engines! {
    async fn booklets_go_to_territories_then_to_their_own_structures(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let lyon = declare(s, w.order.id, "Ville de Lyon", "69123").await.unwrap();
        let vil = declare(s, w.order.id, "Villeurbanne", "69266").await.unwrap();
        let ccas = s.create_distributor("CCAS Lyon 3e", "ccas", &InseeCode::parse_known("69383").unwrap(), t0()).await.unwrap().id;
        let mairie = s.create_distributor("Mairie de Villeurbanne", "mairie", &InseeCode::parse_known("69266").unwrap(), t0()).await.unwrap().id;
        let at = |h: i64| t0().plus_ms(h * 3_600_000);
        // Stage one: an unknown territory, or more than the stock, moves nothing.
        assert_eq!(code(s.allocate_to_territories(w.order.id, &[(lyon, 2), (TerritoryId(999_999), 1)], "tests", at(1)).await.unwrap_err()), "territory_unknown");
        assert_eq!(code(s.allocate_to_territories(w.order.id, &[(lyon, 8), (vil, 3)], "tests", at(1)).await.unwrap_err()), "stock_short");
        assert_eq!(s.unallocated_booklets(w.order.id).await.unwrap(), 10);
        s.allocate_to_territories(w.order.id, &[(lyon, 6), (vil, 3)], "Marie Dupont", at(1)).await.unwrap();
        assert_eq!(s.unallocated_booklets(w.order.id).await.unwrap(), 1);
        // Stage two: a structure outside the territory, or more than it holds, moves nothing.
        assert_eq!(code(s.allocate_from_territory(w.order.id, lyon, &[(ccas, 1), (mairie, 1)], "tests", at(2)).await.unwrap_err()), "structure_outside_territory");
        assert_eq!(code(s.allocate_from_territory(w.order.id, lyon, &[(ccas, 7)], "tests", at(2)).await.unwrap_err()), "stock_short");
        let other = s.create_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert!(matches!(s.allocate_from_territory(other.id, lyon, &[(ccas, 1)], "tests", at(2)).await, Err(StoreError::NotFound | StoreError::Conflict { .. })));
        s.allocate_from_territory(w.order.id, lyon, &[(ccas, 4)], "Référent Lyon", at(2)).await.unwrap();
        s.allocate_from_territory(w.order.id, vil, &[(mairie, 3)], "Référent Villeurbanne", at(2)).await.unwrap();
        let ts = s.territories_of(w.order.id).await.unwrap();
        assert_eq!(ts.iter().map(|t| (t.id, t.received, t.in_stock)).collect::<Vec<_>>(), [(lyon, 6, 2), (vil, 3, 0)]);
        let stocks: Vec<(i64, i64)> = s.distribution_of(w.order.id).await.unwrap().iter().map(|d| (d.distributor_id.0, d.in_stock)).collect();
        assert_eq!(stocks, [(ccas.0, 4), (mairie.0, 3)]);
        // The structures a territory may give to: its communes (a city with its arrondissements).
        let mine: Vec<_> = s.structures_of_territory(w.order.id, lyon).await.unwrap().iter().map(|d| d.id).collect();
        assert_eq!(mine, [ccas]);
        // The inventory: the funder, then territories, then structures.
        let inv: Vec<(Holder, i64, i64, i64)> = s.inventory_at(w.order.id, at(3)).await.unwrap().iter().map(|l| (l.holder, l.received, l.sent, l.in_stock)).collect();
        assert_eq!(inv, [
            (Holder::Funder, 10, 9, 1),
            (Holder::Territory(lyon), 6, 4, 2),
            (Holder::Territory(vil), 3, 3, 0),
            (Holder::Structure(ccas), 4, 0, 4),
            (Holder::Structure(mairie), 3, 0, 3),
        ]);
        // Each move: who gave, who received, which numbers, who decided.
        let moves: Vec<_> = s.allocation_moves(w.order.id).await.unwrap().into_iter()
            .map(|m| (m.from, m.to, m.booklets, m.numbers.unwrap(), m.decided_by.unwrap())).collect();
        assert_eq!(moves, [
            (Holder::Funder, Holder::Territory(lyon), 6, "1-6".to_string(), "Marie Dupont".to_string()),
            (Holder::Funder, Holder::Territory(vil), 3, "7-9".to_string(), "Marie Dupont".to_string()),
            (Holder::Territory(lyon), Holder::Structure(ccas), 4, "1-4".to_string(), "Référent Lyon".to_string()),
            (Holder::Territory(vil), Holder::Structure(mairie), 3, "7-9".to_string(), "Référent Villeurbanne".to_string()),
        ]);
        // A direct allocation takes only the funder's own stock, never a territory's.
        assert_eq!(code(s.allocate_booklets(w.order.id, &[(ccas, 2)], "tests", at(4)).await.unwrap_err()), "stock_short");
        s.allocate_booklets(w.order.id, &[(ccas, 1)], "tests", at(4)).await.unwrap();
        assert_eq!(s.territory(w.order.id, lyon).await.unwrap().in_stock, 2);
        // The funnel counts the nine booklets that went through territories, passed on or not,
        // and the eight now at structures.
        let f = s.funnel(&passnum_store::FigureScope::Orders(vec![w.order.id])).await.unwrap();
        assert_eq!((f.bought, f.via_territories, f.allocated), (10, 9, 8));
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
    }
}

both_engines! {
    async fn a_territory_keeps_its_pdf_documents(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let lyon = declare(s, w.order.id, "Ville de Lyon", "69123").await.unwrap();
        let pdf = Document::check("Délibération 2026-045.pdf", b"%PDF-1.7 delib".to_vec()).unwrap();
        let png = Document::check("scan.png", b"\x89PNG\r\n\x1a\n....".to_vec()).unwrap();
        let d = s.attach_territory_document(w.order.id, lyon, DocumentKind::Deliberation, &pdf, "tests", t0()).await.unwrap();
        assert_eq!(code(s.attach_territory_document(w.order.id, lyon, DocumentKind::Autre, &png, "tests", t0()).await.unwrap_err()), "document_not_pdf");
        let list = s.territory_documents(w.order.id, lyon).await.unwrap();
        assert_eq!(list, std::slice::from_ref(&d));
        assert_eq!(d.file_name, "Deliberation_2026-045.pdf");
        let (name, bytes) = s.territory_document(w.order.id, lyon, d.id).await.unwrap();
        assert_eq!((name.as_str(), bytes.as_slice()), ("Deliberation_2026-045.pdf", &b"%PDF-1.7 delib"[..]));
        let other = s.create_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert!(matches!(s.territory_document(other.id, lyon, d.id).await, Err(StoreError::NotFound)));
        assert!(matches!(s.attach_territory_document(other.id, lyon, DocumentKind::Autre, &pdf, "tests", t0()).await, Err(StoreError::NotFound)));
    }
}

both_engines! {
    async fn both_stages_at_once_write_each_booklet_once_and_record_both_moves(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let lyon = declare(s, w.order.id, "Ville de Lyon", "69123").await.unwrap();
        let vil = declare(s, w.order.id, "Villeurbanne", "69266").await.unwrap();
        let ccas = s.create_distributor("CCAS Lyon 3e", "ccas", &InseeCode::parse_known("69383").unwrap(), t0()).await.unwrap().id;
        let mairie = s.create_distributor("Mairie de Villeurbanne", "mairie", &InseeCode::parse_known("69266").unwrap(), t0()).await.unwrap().id;
        let plan = |lyon_n: i64, ccas_n: i64, to: passnum_core::DistributorId| vec![
            TerritoryPlan { territory: lyon, booklets: lyon_n, structures: vec![(to, ccas_n)] },
            TerritoryPlan { territory: vil, booklets: 3, structures: vec![(mairie, 3)] },
        ];
        // Refusals move nothing: onward over the share, a structure outside, the stock short,
        // an unknown territory.
        assert_eq!(code(s.allocate_both_stages(w.order.id, &plan(4, 5, ccas), "tests", t0()).await.unwrap_err()), "invalid_allocation");
        assert_eq!(code(s.allocate_both_stages(w.order.id, &plan(6, 4, mairie), "tests", t0()).await.unwrap_err()), "structure_outside_territory");
        assert_eq!(code(s.allocate_both_stages(w.order.id, &plan(8, 4, ccas), "tests", t0()).await.unwrap_err()), "stock_short");
        let mut unknown = plan(6, 4, ccas);
        unknown[1].territory = TerritoryId(999_999);
        assert_eq!(code(s.allocate_both_stages(w.order.id, &unknown, "tests", t0()).await.unwrap_err()), "territory_unknown");
        assert_eq!(s.unallocated_booklets(w.order.id).await.unwrap(), 10);
        assert!(s.allocation_moves(w.order.id).await.unwrap().is_empty());
        s.allocate_both_stages(w.order.id, &plan(6, 4, ccas), "Marie Dupont", t0()).await.unwrap();
        // The same holders as the two stages one after the other.
        let ts = s.territories_of(w.order.id).await.unwrap();
        assert_eq!(ts.iter().map(|t| (t.id, t.received, t.in_stock)).collect::<Vec<_>>(), [(lyon, 6, 2), (vil, 3, 0)]);
        let inv: Vec<(Holder, i64, i64, i64)> = s.inventory_at(w.order.id, t0()).await.unwrap().iter().map(|l| (l.holder, l.received, l.sent, l.in_stock)).collect();
        assert_eq!(inv, [
            (Holder::Funder, 10, 9, 1),
            (Holder::Territory(lyon), 6, 4, 2),
            (Holder::Territory(vil), 3, 3, 0),
            (Holder::Structure(ccas), 4, 0, 4),
            (Holder::Structure(mairie), 3, 0, 3),
        ]);
        let moves: Vec<_> = s.allocation_moves(w.order.id).await.unwrap().into_iter()
            .map(|m| (m.from, m.to, m.booklets, m.numbers.unwrap())).collect();
        assert_eq!(moves, [
            (Holder::Funder, Holder::Territory(lyon), 6, "1-6".to_string()),
            (Holder::Territory(lyon), Holder::Structure(ccas), 4, "1-4".to_string()),
            (Holder::Funder, Holder::Territory(vil), 3, "7-9".to_string()),
            (Holder::Territory(vil), Holder::Structure(mairie), 3, "7-9".to_string()),
        ]);
        // What Lyon kept, it still shares later.
        s.allocate_from_territory(w.order.id, lyon, &[(ccas, 2)], "tests", t0()).await.unwrap();
        assert_eq!(s.territory(w.order.id, lyon).await.unwrap().in_stock, 0);
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
    }
}

fn amended(name: &str, codes: &str) -> passnum_core::member_territory::TerritoryAmendment {
    passnum_core::member_territory::TerritoryAmendment::parse(
        name,
        codes,
        ("2026-045", "12/03/2026"),
    )
    .unwrap()
}

both_engines! {
    async fn a_territory_is_renamed_and_changes_its_communes_without_losing_its_structures(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let lyon = declare(s, w.order.id, "Ville de Lyon", "69123").await.unwrap();
        let vil = declare(s, w.order.id, "Est lyonnais", "69266").await.unwrap();
        // Bron joins the eastern territory; a commune of Lyon, or outside the Rhône, does not.
        let t = s.amend_territory(w.order.id, vil, &amended("Est lyonnais", "69266, 69029")).await.unwrap();
        assert_eq!(t.communes, ["69029", "69266"]);
        assert_eq!(code(s.amend_territory(w.order.id, vil, &amended("Est lyonnais", "69266, 69383")).await.unwrap_err()), "territory_overlap");
        assert_eq!(code(s.amend_territory(w.order.id, vil, &amended("Est lyonnais", "69266, 75056")).await.unwrap_err()), "outside_perimeter");
        // Bron's structure received booklets from the territory: Bron stays.
        let bron = s.create_distributor("CCAS de Bron", "ccas", &InseeCode::parse_known("69029").unwrap(), t0()).await.unwrap().id;
        s.allocate_to_territories(w.order.id, &[(vil, 3)], "tests", t0()).await.unwrap();
        s.allocate_from_territory(w.order.id, vil, &[(bron, 2)], "tests", t0()).await.unwrap();
        let err = s.amend_territory(w.order.id, vil, &amended("Est lyonnais", "69266")).await.unwrap_err();
        assert!(matches!(&err, StoreError::Conflict { code: "territory_commune_in_use", message } if message.contains("Bron")), "{err:?}");
        assert_eq!(s.territory(w.order.id, vil).await.unwrap().communes, ["69029", "69266"], "nothing changed");
        // Villeurbanne, without structure served, can leave; Lyon's territory is untouched, and
        // another order's territory is not found.
        // Renamed (a typo), and Lyon's name is taken, whatever its case.
        assert_eq!(code(s.amend_territory(w.order.id, vil, &amended("ville de LYON", "69029")).await.unwrap_err()), "territory_name_taken");
        let t = s.amend_territory(w.order.id, vil, &amended("Bron", "69029")).await.unwrap();
        assert_eq!((t.name.as_str(), t.communes.clone()), ("Bron", vec!["69029".to_string()]));
        // Its délibération typed wrongly: corrected with the rest, or not at all.
        let fixed = passnum_core::member_territory::TerritoryAmendment::parse("Bron", "69029", ("2026-054", "21/03/2026")).unwrap();
        let t = s.amend_territory(w.order.id, vil, &fixed).await.unwrap();
        assert_eq!((t.deliberation_ref.as_str(), t.deliberation_on.as_str()), ("2026-054", "2026-03-21"));
        let refused = passnum_core::member_territory::TerritoryAmendment::parse("Bron", "69029, 69123", ("2026-099", "01/04/2026")).unwrap();
        assert_eq!(code(s.amend_territory(w.order.id, vil, &refused).await.unwrap_err()), "territory_overlap");
        assert_eq!(s.territory(w.order.id, vil).await.unwrap().deliberation_ref, "2026-054", "nothing half-written");
        assert_eq!(s.territory(w.order.id, lyon).await.unwrap().communes, ["69123"]);
        declare(s, w.order.id, "Villeurbanne", "69266").await.unwrap();
        let other = s.create_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert!(matches!(s.amend_territory(other.id, vil, &amended("Est lyonnais", "69029")).await, Err(StoreError::NotFound)));
    }
}

both_engines! {
    async fn a_territory_declared_by_mistake_is_withdrawn_while_nothing_hangs_on_it(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let mistake = declare(s, w.order.id, "Villeurbanne", "69266").await.unwrap();
        let pdf = Document::check("Délibération.pdf", b"%PDF-1.7 delib".to_vec()).unwrap();
        s.attach_territory_document(w.order.id, mistake, DocumentKind::Deliberation, &pdf, "tests", t0()).await.unwrap();
        // Another order's funder cannot reach it.
        let other = s.create_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert!(matches!(s.remove_territory(other.id, mistake).await, Err(StoreError::NotFound)));
        s.remove_territory(w.order.id, mistake).await.unwrap();
        assert!(s.territories_of(w.order.id).await.unwrap().is_empty());
        assert!(matches!(s.territory(w.order.id, mistake).await, Err(StoreError::NotFound)));
        // Its commune and its name are free again.
        let vil = declare(s, w.order.id, "Villeurbanne", "69266").await.unwrap();
        // One that received booklets stays, for its moves and procès-verbaux.
        s.allocate_to_territories(w.order.id, &[(vil, 2)], "tests", t0()).await.unwrap();
        assert_eq!(code(s.remove_territory(w.order.id, vil).await.unwrap_err()), "territory_in_use");
        // One with a référent stays too.
        let lyon = declare(s, w.order.id, "Ville de Lyon", "69123").await.unwrap();
        s.create_staff("referente@lyon.fr", "Référente", "hash", passnum_store::Actor::Referent(lyon), t0()).await.unwrap();
        assert_eq!(code(s.remove_territory(w.order.id, lyon).await.unwrap_err()), "territory_has_referents");
        assert_eq!(s.territories_of(w.order.id).await.unwrap().len(), 2, "nothing removed");
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
    }
}

both_engines! {
    /// A référent's account created while its territory is withdrawn, at once (real parallel
    /// tasks): one of the two goes through, never both, so no account points at nothing.
    async fn a_referent_created_while_its_territory_is_withdrawn_never_points_at_nothing(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let communes = ["69266", "69029", "69259", "69256", "69290", "69091", "69149", "69244"];
        let mut kept = 0;
        for (i, commune) in communes.iter().enumerate() {
            let t = declare(s, w.order.id, &format!("Essai {i}"), commune).await.unwrap();
            let (a, b, order) = (s.clone(), s.clone(), w.order.id);
            let removal = tokio::spawn(async move { a.remove_territory(order, t).await });
            let account = tokio::spawn(async move {
                b.create_staff(&format!("referent{i}@lyon.fr"), "Référent", "hash", passnum_store::Actor::Referent(t), t0()).await
            });
            match (removal.await.unwrap(), account.await.unwrap()) {
                (Ok(()), Err(StoreError::NotFound)) => assert!(matches!(s.territory(order, t).await, Err(StoreError::NotFound))),
                (Err(e), Ok(_)) => {
                    assert_eq!(code(e), "territory_has_referents");
                    kept += 1;
                }
                other => panic!("step {i}: {other:?}"),
            }
        }
        // Every référent account names a territory that exists.
        let orphans: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff s WHERE s.role = 'referent' AND NOT EXISTS (SELECT 1 FROM order_territories t WHERE t.id = s.org_id)",
        )
        .fetch_one(s.pool())
        .await
        .unwrap();
        assert_eq!(orphans, 0);
        assert_eq!(s.territories_of(w.order.id).await.unwrap().len(), kept);
    }
}
