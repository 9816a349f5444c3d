//! Storage behaviour, on SQLite and PostgreSQL alike.

mod common;

use common::*;
use passnum_core::ledger::AccountKey;
use passnum_core::{ChequeCode, ChequeState, Timestamp, VenueStatus};
use passnum_store::{
    IdempotencyKey, LedgerScope, Outcome, RedemptionScope, RollbackRequest, StoreError,
    both_engines,
};

fn accepted(o: &Outcome) -> &passnum_store::Redemption {
    match o {
        Outcome::Accepted(r) => r,
        Outcome::Refused(r) => panic!("refused: {r:?}"),
    }
}

fn refused_code(o: &Outcome) -> &str {
    match o {
        Outcome::Refused(r) => &r.code,
        Outcome::Accepted(r) => panic!("accepted: {r:?}"),
    }
}

both_engines! {
    async fn issuing_an_order_creates_cheques_and_holds_the_prepayment(db) {
        let s = &db.store;
        let w = world(s, 20).await;
        assert_eq!(w.codes.len(), 200);
        let unique: std::collections::HashSet<_> = w.codes.iter().map(|c| c.as_compact()).collect();
        assert_eq!(unique.len(), 200);
        let counts = s.order_counts(w.order.id).await.unwrap();
        assert_eq!((counts.issued, counts.redeemed, counts.remaining_value_cents), (200, 0, 200_000));
        let held = s.balances(LedgerScope::Funder(w.funder.id)).await.unwrap();
        assert_eq!(held[0].balance_cents, 200_000);
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert!(s.verify_ledger().await.unwrap().is_empty());
        assert_eq!(s.get_order(w.order.id).await.unwrap().perimeter_departements, vec!["69".to_string()]);
        let page = s.list_cheques(w.order.id, 0, 15).await.unwrap();
        assert_eq!(page.get(10).map(|c| (c.booklet_number, c.number)), Some((2, 1)));
    }
}

both_engines! {
    async fn a_redemption_moves_money_from_funder_to_venue(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let a = s.redeem(redeem_req(&w.lyon, w.codes[0], t0())).await.unwrap();
        let r = accepted(&a.outcome);
        assert_eq!((r.amount_cents, r.venue_id, r.funder_id), (1000, w.lyon.id, w.funder.id));
        assert_eq!(r.cheque_code, w.codes[0].grouped());
        assert!(!a.replayed);
        let venue = s.balances(LedgerScope::Venue(w.lyon.id)).await.unwrap();
        assert_eq!(venue[0].account, AccountKey::VenuePayable(w.lyon.id));
        assert_eq!(venue[0].balance_cents, 1000);
        let held = s.balances(LedgerScope::Funder(w.funder.id)).await.unwrap();
        assert_eq!(held[0].balance_cents, 19_000);
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert!(s.verify_ledger().await.unwrap().is_empty());
        let status = s.cheque_status(&w.codes[0], None).await.unwrap();
        assert_eq!((status.state, status.redeemed_at), (ChequeState::Redeemed, Some(t0())));
        // A second scan is refused and says when the first happened.
        let again = s.redeem(redeem_req(&w.villeurbanne, w.codes[0], t0().plus_ms(60_000))).await.unwrap();
        match &again.outcome {
            Outcome::Refused(r) => {
                assert_eq!(r.code, "cheque_already_redeemed");
                assert_eq!(r.message, "Ce pass a déjà été utilisé le 15/06/2026 à 12 h 00.");
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(s.list_redemptions(RedemptionScope::Venue(w.lyon.id), 0, 50).await.unwrap().len(), 1);
        assert!(s.list_redemptions(RedemptionScope::Venue(w.villeurbanne.id), 0, 50).await.unwrap().is_empty());
        assert_eq!(s.list_redemptions(RedemptionScope::Funder(w.funder.id), 0, 50).await.unwrap().len(), 1);
    }
}

both_engines! {
    async fn refusals_follow_the_documented_order(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        // A well-formed code that no order issued.
        let stranger = ChequeCode::generate(&mut rand::rng());
        assert_eq!(refused_code(&s.redeem(redeem_req(&w.lyon, stranger, t0())).await.unwrap().outcome), "cheque_unknown");
        // Before validity.
        let early = Timestamp::from_offset_datetime(time::macros::datetime!(2025-12-31 12:00 UTC));
        assert_eq!(refused_code(&s.redeem(redeem_req(&w.lyon, w.codes[0], early)).await.unwrap().outcome), "cheque_not_yet_valid");
        // Within tolerance: accepted; after it: expired.
        let late = Timestamp::from_offset_datetime(time::macros::datetime!(2027-01-20 12:00 UTC));
        let too_late = Timestamp::from_offset_datetime(time::macros::datetime!(2027-02-01 12:00 UTC));
        assert_eq!(refused_code(&s.redeem(redeem_req(&w.lyon, w.codes[1], too_late)).await.unwrap().outcome), "cheque_expired");
        accepted(&s.redeem(redeem_req(&w.lyon, w.codes[1], late)).await.unwrap().outcome);
        // Outside the perimeter (Paris for a Lyon order).
        assert_eq!(refused_code(&s.redeem(redeem_req(&w.paris, w.codes[2], t0())).await.unwrap().outcome), "venue_outside_perimeter");
        // A venue that is not qualified.
        let applied = venue(s, SIRETS[3], "Association en attente", "69123", VenueStatus::Applied).await;
        assert_eq!(refused_code(&s.redeem(redeem_req(&applied, w.codes[2], t0())).await.unwrap().outcome), "venue_not_qualified");
        // An unknown service.
        let mut r = redeem_req(&w.lyon, w.codes[2], t0());
        r.service_code = "9.9.99".into();
        assert_eq!(refused_code(&s.redeem(r).await.unwrap().outcome), "service_unknown");
        // None of the refusals changed anything.
        let counts = s.order_counts(w.order.id).await.unwrap();
        assert_eq!((counts.issued, counts.redeemed), (9, 1));
        assert!(s.verify_ledger().await.unwrap().is_empty());
    }
}

both_engines! {
    async fn parallel_redemptions_of_one_cheque_succeed_exactly_once(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let venues = [w.lyon.clone(), w.villeurbanne.clone()];
        let mut tasks = vec![];
        for i in 0..64 {
            let s = s.clone();
            let req = redeem_req(&venues[i % 2], w.codes[0], t0().plus_ms(i as i64));
            tasks.push(tokio::spawn(async move { s.redeem(req).await.unwrap() }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap().outcome {
                Outcome::Accepted(_) => ok += 1,
                Outcome::Refused(r) => assert_eq!(r.code, "cheque_already_redeemed"),
            }
        }
        assert_eq!(ok, 1);
        let total: i64 = s.balances(LedgerScope::All).await.unwrap().iter()
            .filter(|b| matches!(b.account, AccountKey::VenuePayable(_))).map(|b| b.balance_cents).sum();
        assert_eq!(total, 1000);
        assert!(s.verify_ledger().await.unwrap().is_empty());
    }
}

both_engines! {
    async fn idempotency_key_replays_the_first_answer(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let key = |hash: &str| Some(IdempotencyKey { actor: format!("venue:{}", w.lyon.id), key: "scan-1".into(), request_hash: hash.into() });
        let mut req = redeem_req(&w.lyon, w.codes[0], t0());
        req.idempotency = key("h1");
        let first = s.redeem(req.clone()).await.unwrap();
        let id = accepted(&first.outcome).id;
        let second = s.redeem(req.clone()).await.unwrap();
        assert!(second.replayed);
        assert_eq!(accepted(&second.outcome).id, id);
        // Same key, other body: refused, nothing written.
        let mut other = redeem_req(&w.lyon, w.codes[1], t0());
        other.idempotency = key("h2");
        assert!(matches!(s.redeem(other).await, Err(StoreError::IdempotencyMismatch)));
        assert_eq!(s.order_counts(w.order.id).await.unwrap().redeemed, 1);
        // Twenty simultaneous retries of one keyed request: one write, one answer.
        let mut tasks = vec![];
        for _ in 0..20 {
            let s = s.clone();
            let mut r = redeem_req(&w.lyon, w.codes[2], t0());
            r.idempotency = Some(IdempotencyKey { actor: "venue:x".into(), key: "burst".into(), request_hash: "hb".into() });
            tasks.push(tokio::spawn(async move { s.redeem(r).await.unwrap() }));
        }
        let mut ids = std::collections::HashSet::new();
        for t in tasks {
            ids.insert(accepted(&t.await.unwrap().outcome).id);
        }
        assert_eq!(ids.len(), 1);
        assert_eq!(s.order_counts(w.order.id).await.unwrap().redeemed, 2);
    }
}

both_engines! {
    async fn rollback_reverses_within_the_window_only(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let r = accepted(&s.redeem(redeem_req(&w.lyon, w.codes[0], t0())).await.unwrap().outcome).clone();
        let rb = |venue: &passnum_store::Venue, now: Timestamp| RollbackRequest { venue_id: venue.id, redemption_id: r.id, now, idempotency: None };
        // Another venue cannot cancel it, and learns nothing.
        assert_eq!(refused_code(&s.rollback(rb(&w.villeurbanne, t0())).await.unwrap().outcome), "redemption_unknown");
        let done = s.rollback(rb(&w.lyon, t0().plus_ms(3_600_000))).await.unwrap();
        assert!(accepted(&done.outcome).rolled_back_at.is_some());
        assert_eq!(refused_code(&s.rollback(rb(&w.lyon, t0().plus_ms(3_600_001))).await.unwrap().outcome), "redemption_already_cancelled");
        assert_eq!(s.balances(LedgerScope::Venue(w.lyon.id)).await.unwrap()[0].balance_cents, 0);
        assert_eq!(s.balances(LedgerScope::Funder(w.funder.id)).await.unwrap()[0].balance_cents, 10_000);
        assert!(s.verify_ledger().await.unwrap().is_empty());
        // The cheque is usable again.
        let again = s.redeem(redeem_req(&w.villeurbanne, w.codes[0], t0().plus_ms(7_200_000))).await.unwrap();
        let again = accepted(&again.outcome).clone();
        // Past the window, cancelling is refused.
        let late = RollbackRequest { venue_id: w.villeurbanne.id, redemption_id: again.id, now: t0().plus_ms(7_200_000 + 24 * 3_600_000 + 1), idempotency: None };
        assert_eq!(refused_code(&s.rollback(late).await.unwrap().outcome), "rollback_window_closed");
        // Unknown id.
        let ghost = RollbackRequest { venue_id: w.lyon.id, redemption_id: passnum_core::RedemptionId(999_999), now: t0(), idempotency: None };
        assert_eq!(refused_code(&s.rollback(ghost).await.unwrap().outcome), "redemption_unknown");
        // The reversal names the transfer it reverses.
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transfers WHERE kind = 'redemption_reversal' AND reverses_id IS NOT NULL")
            .fetch_one(s.pool()).await.unwrap();
        assert_eq!(n, 1);
    }
}

both_engines! {
    async fn the_database_itself_refuses_broken_invariants(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let r = accepted(&s.redeem(redeem_req(&w.lyon, w.codes[0], t0())).await.unwrap().outcome).clone();
        let cheque_id: i64 = sqlx::query_scalar("SELECT cheque_id FROM redemptions WHERE id = $1").bind(r.id.0).fetch_one(s.pool()).await.unwrap();
        // A second active redemption of the same cheque.
        let dup = sqlx::query("INSERT INTO redemptions (cheque_id, venue_id, service_code, amount_cents, redeemed_at) VALUES ($1, $2, '2.1.07', 1000, 1)")
            .bind(cheque_id).bind(w.villeurbanne.id.0).execute(s.pool()).await;
        assert!(dup.unwrap_err().as_database_error().unwrap().is_unique_violation());
        // Posted transfers cannot be changed or removed.
        assert!(sqlx::query("UPDATE transfers SET amount_cents = 1").execute(s.pool()).await.is_err());
        assert!(sqlx::query("DELETE FROM transfers").execute(s.pool()).await.is_err());
        // A transfer of zero or a negative amount.
        assert!(sqlx::query("INSERT INTO transfers (debit_account_id, credit_account_id, amount_cents, kind, created_at) VALUES (1, 2, 0, 'prepayment', 1)").execute(s.pool()).await.is_err());
        // No account but the world goes negative.
        assert!(sqlx::query("UPDATE accounts SET debits_cents = credits_cents + 1 WHERE kind = 'venue_payable'").execute(s.pool()).await.is_err());
        // A cheque is paid at most once, ever: one run item not cancelled per cheque, even
        // through another redemption (here another cheque's, in another run).
        let other = accepted(&s.redeem(redeem_req(&w.lyon, w.codes[1], t0())).await.unwrap().outcome).id.0;
        let details = passnum_core::BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Lyon").unwrap();
        let bank = s.set_bank_account(w.lyon.id, &details, t0()).await.unwrap().id;
        let item = |run: i64, redemption: i64, cancelled: i64| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents, cancelled) \
                 VALUES ({run}, {redemption}, {cheque_id}, {}, {bank}, 1000, 0, {cancelled})", w.lyon.id.0)))
        };
        for run in [1, 2, 3] {
            sqlx::query("INSERT INTO payment_runs (id, cutoff_date, status, fee_basis_points, created_at) VALUES ($1, '2026-06-14', 'draft', 0, 1)")
                .bind(run).execute(s.pool()).await.unwrap();
        }
        item(1, r.id.0, 1).execute(s.pool()).await.unwrap();
        item(2, r.id.0, 0).execute(s.pool()).await.unwrap();
        let twice = item(3, other, 0).execute(s.pool()).await;
        assert!(twice.unwrap_err().as_database_error().unwrap().is_unique_violation());
        // A SIRET belongs to one venue only.
        let again = s.create_venue(&passnum_store::NewVenue {
            siret: passnum_core::Siret::parse(SIRETS[0]).unwrap().into(), name: "Doublon".into(),
            commune: passnum_core::InseeCode::parse("69123").unwrap(), status: VenueStatus::Qualified, qualified_until: None,
            address: String::new(),
            contact: String::new(),
            services: s.referentiel_codes(),
        }, t0()).await;
        assert!(matches!(again, Err(StoreError::Conflict { code: "siret_taken", .. })));
    }
}

both_engines! {
    async fn tokens_authenticate_their_actor_only(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let t = s.create_token(passnum_store::Actor::Venue(w.lyon.id), "accueil", t0()).await.unwrap();
        assert!(t.starts_with("pn_venue_"));
        assert_eq!(s.authenticate(&t).await.unwrap(), Some(passnum_store::Actor::Venue(w.lyon.id)));
        assert_eq!(s.authenticate("pn_venue_nope").await.unwrap(), None);
        let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(s.pool()).await.unwrap();
        assert_ne!(stored, t);
        assert!(matches!(s.create_token(passnum_store::Actor::Funder(passnum_core::FunderId(999)), "x", t0()).await, Err(StoreError::NotFound)));
        // A revoked token no longer authenticates.
        let id = s.list_tokens().await.unwrap()[0].id;
        s.revoke_token(id, t0()).await.unwrap();
        assert_eq!(s.authenticate(&t).await.unwrap(), None);
        assert!(matches!(s.revoke_token(id, t0()).await, Err(StoreError::NotFound)));
    }
}

both_engines! {
    async fn the_referentiel_is_loaded_once_and_reloadable(db) {
        let s = &db.store;
        let before = s.list_services().await.unwrap();
        assert!(before.len() >= 40);
        let csv = format!("{}1,Découvrir,1.1,S'informer,1.1.99,Un service ajouté\n", passnum_core::service::DEFAULT_REFERENTIEL_CSV);
        let cat = passnum_core::ServiceCatalog::parse_csv(&csv).unwrap();
        s.load_services(&cat, t0()).await.unwrap();
        assert_eq!(s.list_services().await.unwrap().len(), before.len() + 1);
        // Reconnecting migrates nothing twice and keeps the services.
        let again = passnum_store::Store::connect(&db.url, Default::default()).await.unwrap();
        assert_eq!(again.list_services().await.unwrap().len(), before.len() + 1);
        // The new service is immediately usable.
        let w = world(s, 1).await;
        let mut r = redeem_req(&w.lyon, w.codes[0], t0());
        r.service_code = "1.1.99".into();
        accepted(&s.redeem(r).await.unwrap().outcome);
    }
}

both_engines! {
    async fn the_operator_adds_and_renames_services_and_the_history_says_who(db) {
        use passnum_store::ChangeAuthor;
        let s = &db.store;
        // Loaded at first start: the history begins after the shipped référentiel.
        assert!(s.service_changes(100, 0).await.unwrap().is_empty());
        let draft = |code: &str, name: &str, category: &str, level: &str| {
            passnum_core::ServiceDraft { code: code.into(), name: name.into(), category_name: category.into(), level_name: level.into() }
                .check()
                .unwrap()
        };
        // A new category needs its name; an existing level keeps its own.
        let refused = s.save_service(&draft("2.9.01", "Visio", "", ""), ChangeAuthor::Api, t0()).await;
        assert!(matches!(refused, Err(StoreError::Invalid { code: "invalid_category_name", .. })), "{refused:?}");
        let level2 = s.list_services().await.unwrap().into_iter().find(|x| x.level == 2).unwrap().level_name;
        let (created, new) = s.save_service(&draft("2.9.01", "Visio", "Se voir à distance", ""), ChangeAuthor::Api, t0()).await.unwrap();
        assert!(new && created.active);
        assert_eq!((created.level_name.as_str(), created.category_code.as_str()), (level2.as_str(), "2.9"));
        // Renaming a category renames it for all its services, in one change on the history.
        let in_21 = s.list_services().await.unwrap().into_iter().filter(|x| x.category_code == "2.1").count();
        assert!(in_21 >= 2);
        let staff = s.create_staff("op@passnum.fr", "Opératrice", "x", passnum_store::Actor::Operator, t0()).await.unwrap().id;
        let (renamed, new) = s.save_service(&draft("2.1.07", "Envoyer et recevoir des courriels", "Communiquer", ""), ChangeAuthor::Staff(staff), t0()).await.unwrap();
        assert!(!new);
        assert_eq!(renamed.name, "Envoyer et recevoir des courriels");
        let all = s.list_services().await.unwrap();
        assert_eq!(all.iter().filter(|x| x.category_code == "2.1" && x.category_name == "Communiquer").count(), in_21);
        // The same names again change nothing and write no history.
        s.save_service(&draft("2.1.07", "Envoyer et recevoir des courriels", "", ""), ChangeAuthor::Staff(staff), t0()).await.unwrap();
        // Deactivating is a change too; the service stays.
        s.update_service("2.9.01", Some(false), Some("Loisirs et créations numériques"), ChangeAuthor::Api, t0()).await.unwrap();
        let h = s.service_changes(100, 0).await.unwrap();
        let said: Vec<(&str, &str)> = h.iter().map(|c| (c.code.as_str(), c.change.as_str())).collect();
        assert_eq!(h.len(), 5, "{said:?}");
        assert!(said.iter().any(|(c, t)| *c == "2.9.01" && t.starts_with("Service créé : « Visio »")));
        assert!(said.iter().any(|(c, t)| *c == "2.1.07" && t.starts_with("Service renommé")));
        assert!(said.iter().any(|(_, t)| t.starts_with("Catégorie 2.1 renommée")));
        assert!(said.iter().any(|(_, t)| *t == "Service désactivé : plus de nouveau catalogue ni d'encaissement."));
        assert!(said.iter().any(|(_, t)| t.starts_with("Valeur du standard national : celle de sa catégorie → « Loisirs")));
        assert!(h.iter().filter(|c| c.code == "2.1.07").all(|c| c.by == "Opératrice"), "{h:?}");
        assert!(h.iter().filter(|c| c.code == "2.9.01").all(|c| c.by.starts_with("API")));
        // A file loaded says so, for what it created or renamed only.
        let csv = format!("{}1,Découvrir,1.1,S'informer,1.1.99,Un service ajouté\n", passnum_core::service::DEFAULT_REFERENTIEL_CSV);
        s.load_services(&passnum_core::ServiceCatalog::parse_csv(&csv).unwrap(), t0()).await.unwrap();
        let h = s.service_changes(100, 0).await.unwrap();
        let from_file: Vec<_> = h.iter().filter(|c| c.by.starts_with("fichier")).collect();
        // 1.1.99 created; 2.1.07 and its category back to the shipped names.
        assert!(from_file.iter().any(|c| c.code == "1.1.99" && c.change.starts_with("Service créé")), "{from_file:?}");
        assert!(from_file.iter().any(|c| c.code == "2.1.07" && c.change.starts_with("Service renommé")));
        assert_eq!(s.service_changes(2, 0).await.unwrap().len(), 2);
    }
}

both_engines! {
    async fn a_venue_redeems_only_services_of_its_catalogue(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let mut v = passnum_store::NewVenue {
            siret: passnum_core::Siret::parse(SIRETS[3]).unwrap().into(),
            name: "France Services".into(),
            commune: passnum_core::InseeCode::parse("69259").unwrap(),
            status: VenueStatus::Qualified,
            qualified_until: None,
            address: "Place Léon-Sublet, 69200 Vénissieux".into(),
            contact: "04 72 21 44 44".into(),
            services: vec!["2.2.01".into(), "9.9.99".into()],
        };
        let bad = s.create_venue(&v, t0()).await;
        assert!(matches!(bad, Err(StoreError::Invalid { code: "service_unknown", .. })));
        v.services = vec!["2.2.01".into(), "2.2.02".into(), "2.2.01".into()];
        let created = s.create_venue(&v, t0()).await.unwrap();
        assert_eq!(created.services, vec!["2.2.01".to_string(), "2.2.02".to_string()]);
        assert_eq!(s.get_venue(created.id).await.unwrap().address, "Place Léon-Sublet, 69200 Vénissieux");
        let listed = s.list_venues(10, 0).await.unwrap();
        assert_eq!(listed.iter().find(|x| x.id == created.id).unwrap().services.len(), 2);
        let mut r = redeem_req(&created, w.codes[0], t0());
        assert_eq!(refused_code(&s.redeem(r.clone()).await.unwrap().outcome), "service_not_offered");
        r.service_code = "2.2.01".into();
        accepted(&s.redeem(r).await.unwrap().outcome);
        // An empty catalogue is not "every service": a venue cannot be qualified without one…
        v.siret = passnum_core::Siret::parse("84712345000011").unwrap().into();
        v.services = vec![];
        let refused = s.create_venue(&v, t0()).await;
        assert!(matches!(refused, Err(StoreError::Conflict { code: "empty_catalogue", .. })), "{refused:?}");
        v.status = VenueStatus::Applied;
        let applied = s.create_venue(&v, t0()).await.unwrap();
        let refused = s.set_venue_status(applied.id, &passnum_core::StatusDecision::new(VenueStatus::Qualified, "test"), None, t0()).await;
        assert!(matches!(refused, Err(StoreError::Conflict { code: "empty_catalogue", .. })), "{refused:?}");
        // …and one whose catalogue was filled, formats and all, then emptied, gives nothing.
        let catalogue = passnum_core::catalogue::Catalogue::parse([("2.1.07", "collective")], |c| s.service_is_known(c)).unwrap();
        let change = s.set_venue_catalogue(applied.id, &catalogue, Some(7), t0()).await.unwrap();
        assert_eq!(change.summary, "Ajouté : 2.1.07 (collectif).");
        s.set_venue_status(applied.id, &passnum_core::StatusDecision::new(VenueStatus::Qualified, "test"), None, t0()).await.unwrap();
        assert_eq!(s.venue_catalogue(applied.id).await.unwrap(), vec![("2.1.07".to_string(), passnum_core::catalogue::ServiceFormat::Collective)]);
        let empty = passnum_core::catalogue::Catalogue::default();
        let refused = s.set_venue_catalogue(applied.id, &empty, None, t0()).await;
        assert!(matches!(refused, Err(StoreError::Conflict { code: "empty_catalogue", .. })), "a qualified venue keeps one service");
        s.set_venue_status(applied.id, &passnum_core::StatusDecision::new(VenueStatus::Suspended, "test"), None, t0()).await.unwrap();
        s.set_venue_catalogue(applied.id, &empty, None, t0().plus_ms(5)).await.unwrap();
        s.set_venue_status(applied.id, &passnum_core::StatusDecision::new(VenueStatus::Qualified, "test"), None, t0()).await.unwrap_err();
        let history = s.venue_catalogue_changes(applied.id, 10).await.unwrap();
        assert_eq!(history.iter().map(|c| (c.by_staff, c.summary.as_str())).collect::<Vec<_>>(), vec![
            (None, "Retiré : 2.1.07."),
            (Some(7), "Ajouté : 2.1.07 (collectif)."),
        ]);
    }
}

both_engines! {
    async fn every_cheque_history_agrees_with_the_ledger(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let a = accepted(&s.redeem(redeem_req(&w.lyon, w.codes[0], t0())).await.unwrap().outcome).clone();
        accepted(&s.redeem(redeem_req(&w.lyon, w.codes[1], t0())).await.unwrap().outcome);
        s.rollback(RollbackRequest { venue_id: w.lyon.id, redemption_id: a.id, now: t0(), idempotency: None }).await.unwrap();
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        // A cheque put back to "issued" behind passnum's back is caught.
        sqlx::query("UPDATE cheques SET state = 'issued' WHERE code = $1").bind(w.codes[1].as_compact()).execute(s.pool()).await.unwrap();
        let findings = s.verify_cheque_history().await.unwrap();
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rows, 1);
        assert!(findings[0].check.starts_with("encaissement actif"));
        // Transfers page in id order with their accounts.
        let t = s.transfers_page(0, 100).await.unwrap();
        assert_eq!(t.iter().map(|t| t.kind.as_str()).collect::<Vec<_>>(), vec!["prepayment", "redemption", "redemption", "redemption_reversal"]);
        assert_eq!(t[3].reverses_id, Some(t[1].id));
        assert_eq!(s.transfers_page(t[1].id, 100).await.unwrap().len(), 2);
    }
}

both_engines! {
    async fn a_panicking_redemption_batch_fails_its_callers_and_the_writer_goes_on(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        // More panics in a row than there are writers (one on SQLite, four on PostgreSQL):
        // an unsupervised writer would be gone after its first.
        for i in 0..6 {
            s.panic_next_redeem_batch();
            let r = s.redeem(redeem_req(&w.lyon, w.codes[i], t0())).await;
            assert!(matches!(r, Err(StoreError::Interrupted)), "{r:?}");
            // Nothing of the failed batch was written: the cheque is still unused.
            let status = s.cheque_status(&w.codes[i], None).await.unwrap();
            assert_eq!(status.state, ChequeState::Issued);
        }
        // The same request again is accepted, once, by a writer that is still there.
        for i in 0..6 {
            let a = s.redeem(redeem_req(&w.lyon, w.codes[i], t0())).await.unwrap();
            accepted(&a.outcome);
        }
        assert_eq!(s.list_redemptions(RedemptionScope::Venue(w.lyon.id), 0, 50).await.unwrap().len(), 6);
        assert!(s.verify_ledger().await.unwrap().is_empty());
    }
}

/// Every PostgreSQL session passnum opens commits durably, reads time in UTC and never JIT-
/// compiles a statement (a run's choice of candidates spent 145 ms of 340 compiling at ten
/// million cheques; `pool.rs`).
#[tokio::test]
async fn postgres_sessions_commit_durably_in_utc_without_jit() {
    let db =
        passnum_store::testing::TestDb::new(passnum_store::testing::TestEngine::Postgres).await;
    // More connections than one, so that each is checked, not only the first.
    let mut held = vec![];
    for _ in 0..3 {
        held.push(db.store.pool().acquire().await.unwrap());
    }
    for conn in &mut held {
        let settings: (String, String, String) = sqlx::query_as(
            "SELECT current_setting('jit'), current_setting('synchronous_commit'), current_setting('TimeZone')",
        )
        .fetch_one(&mut **conn)
        .await
        .unwrap();
        assert_eq!(settings, ("off".into(), "on".into(), "UTC".into()));
    }
}
