//! A database created by the previous release (schema version 5, orders that were issued in
//! one step) upgrades to the order workflow without losing or breaking anything, on both
//! engines; on SQLite, foreign keys are enforced again afterwards.

use passnum_core::{OrderId, OrderStatus};
use passnum_store::testing::{TestDb, TestEngine};

/// Fills an old database with rows written in its own schema, naming the statement that fails.
async fn fill(old: &passnum_store::testing::OldDb, statements: &[&str]) {
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(&old.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

async fn upgrade_keeps_issued_orders(engine: TestEngine) {
    let old = TestDb::at_version(engine, 5).await;
    // Fresh databases: the identities start at 1.
    fill(
        &old,
        &[
        "INSERT INTO funders (name, kind, created_at) VALUES ('Métropole', 'metropole', 1000)",
        "INSERT INTO accounts (kind, owner_id) VALUES ('funder_held', 1)",
        "INSERT INTO orders (funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents, valid_from, valid_until, tolerance_days, created_at) \
         VALUES (1, 'issued', 1, 2, 1000, 2000, '2026-01-01', '2026-12-31', 30, 1000)",
        "INSERT INTO order_perimeter (order_id, kind, code) VALUES (1, 'departement', '69')",
        "INSERT INTO booklets (order_id, number) VALUES (1, 1)",
        "INSERT INTO cheques (order_id, booklet_id, number, code, state, face_value_cents) VALUES (1, 1, 1, '000000000000000', 'issued', 1000)",
    ])
    .await;
    let db = old.upgrade().await;
    let o = db.store.get_order(OrderId(1)).await.unwrap();
    assert_eq!(o.status, OrderStatus::Issued);
    assert_eq!(o.perimeter_departements, vec!["69".to_string()]);
    assert!(o.confirmed_at.is_some() && o.paid_at.is_some() && o.issued_at.is_some());
    assert_eq!(db.store.order_counts(OrderId(1)).await.unwrap().issued, 1);
    // References to orders still hold, and are still enforced.
    let broken = sqlx::query("INSERT INTO booklets (order_id, number) VALUES (999, 1)")
        .execute(db.store.pool())
        .await;
    assert!(
        broken.is_err(),
        "a booklet of a missing order is refused after the upgrade"
    );
    // The new statuses are accepted.
    let f = passnum_core::FunderId(1);
    let order = passnum_core::NewOrder::parse(&passnum_core::OrderRequest {
        booklet_count: 1,
        cheques_per_booklet: 10,
        face_value_cents: 1000,
        valid_from: time::macros::date!(2027 - 01 - 01),
        valid_until: time::macros::date!(2027 - 12 - 31),
        tolerance_days: 0,
        perimeter_communes: vec![],
        perimeter_departements: vec![],
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    })
    .unwrap();
    let ts = passnum_core::Timestamp::from_unix_ms(2000);
    let d = db.store.create_draft_order(f, &order, ts).await.unwrap();
    assert_eq!(d.status, OrderStatus::Draft);
}

#[tokio::test]
async fn upgrade_on_sqlite() {
    upgrade_keeps_issued_orders(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn upgrade_on_postgres() {
    upgrade_keeps_issued_orders(TestEngine::Postgres).await;
}

/// Before migration 12 an empty catalogue meant "every service": qualified venues without one
/// keep giving every service after the upgrade, now listed explicitly; others are untouched.
async fn upgrade_fills_the_empty_catalogues_of_qualified_venues(engine: TestEngine) {
    let old = TestDb::at_version(engine, 11).await;
    fill(
        &old,
        &[
        "INSERT INTO services (code, level, level_name, category_code, category_name, name) VALUES \
         ('2.1.07', 2, 'Maîtriser', '2.1', 'Utiliser', 'Envoyer un courriel'), \
         ('2.2.01', 2, 'Maîtriser', '2.2', 'Démarches', 'Déclarer ses revenus')",
        "INSERT INTO venues (siret, name, commune_insee, status, created_at) VALUES \
         ('73282932000074', 'Sans catalogue', '69123', 'qualified', 1000), \
         ('13002603200008', 'Avec catalogue', '69123', 'qualified', 1000), \
         ('35600000000001', 'Candidat', '69123', 'applied', 1000)",
        "INSERT INTO venue_services (venue_id, service_code) VALUES (2, '2.2.01')",
    ])
    .await;
    let db = old.upgrade().await;
    let codes = |id| {
        let store = db.store.clone();
        async move {
            store
                .venue_catalogue(passnum_core::VenueId(id))
                .await
                .unwrap()
                .into_iter()
                .map(|(c, f)| format!("{c} {}", f.as_str()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(codes(1).await, ["2.1.07 both", "2.2.01 both"]);
    assert_eq!(codes(2).await, ["2.2.01 both"]);
    assert!(codes(3).await.is_empty());
    let history = db
        .store
        .venue_catalogue_changes(passnum_core::VenueId(1), 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].summary.contains("ne vaut plus"));
    assert!(
        db.store
            .venue_catalogue_changes(passnum_core::VenueId(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn catalogues_upgrade_on_sqlite() {
    upgrade_fills_the_empty_catalogues_of_qualified_venues(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn catalogues_upgrade_on_postgres() {
    upgrade_fills_the_empty_catalogues_of_qualified_venues(TestEngine::Postgres).await;
}

/// Migration 20 fills the figures' rollups from the books already there: the booklets'
/// counters, the cheques used per Paris month (a Rust step) and what runs paid.
async fn upgrade_fills_the_figure_rollups(engine: TestEngine) {
    let old = TestDb::at_version(engine, 19).await;
    // 30 June 22:30 UTC is 1 July in Paris.
    let july_first = 1_782_858_600_000_i64;
    fill(
        &old,
        &[
        "INSERT INTO services (code, level, level_name, category_code, category_name, name) VALUES \
         ('2.1.07', 2, 'Maîtriser', '2.1', 'Utiliser', 'Envoyer un courriel')",
        "INSERT INTO funders (name, kind, created_at) VALUES ('Métropole', 'metropole', 1000)",
        "INSERT INTO orders (funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents, \
         valid_from, valid_until, tolerance_days, created_at) VALUES (1, 'issued', 1, 3, 1000, 3000, '2026-01-01', '2026-12-31', 0, 1000)",
        "INSERT INTO booklets (order_id, number, booking_code) VALUES (1, 1, 'ABCDEFGH')",
        "INSERT INTO cheques (order_id, booklet_id, number, code, state, face_value_cents) VALUES \
         (1, 1, 1, 'AAAAAAAAAAAAAA1', 'paid', 1000), (1, 1, 2, 'AAAAAAAAAAAAAA2', 'redeemed', 1000), \
         (1, 1, 3, 'AAAAAAAAAAAAAA3', 'issued', 1000)",
        "INSERT INTO venues (siret, name, commune_insee, status, created_at) VALUES ('73282932000074', 'Lieu', '69123', 'qualified', 1000)",
        "INSERT INTO redemptions (cheque_id, venue_id, service_code, amount_cents, redeemed_at, rolled_back_at) VALUES \
         (1, 1, '2.1.07', 1000, 1782000000000, NULL), (2, 1, '2.1.07', 1000, 1782858600000, NULL), \
         (3, 1, '2.1.07', 1000, 1782000000000, 1782000001000)",
        "INSERT INTO venue_bank_accounts (venue_id, iban, bic, holder, created_at, confirmed_at) VALUES \
         (1, 'FR7630006000011234567890189', 'AGRIFRPP', 'Lieu', 1000, 1000)",
        "INSERT INTO payment_runs (cutoff_date, status, fee_basis_points, created_at, confirmed_at) VALUES ('2026-06-30', 'confirmed', 0, 1000, 1000)",
        "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents) \
         VALUES (1, 1, 1, 1, 1, 1000, 0)",
    ])
    .await;
    let db = old.upgrade().await;
    let s = &db.store;
    assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
    let f = s.funnel(&passnum_store::FigureScope::All).await.unwrap();
    assert_eq!(
        (f.first_used, f.cheques_used, f.cheques_paid, f.paid_cents),
        (1, 2, 1, 1000)
    );
    let june = passnum_store::MonthSpan {
        key: 202606,
        from: passnum_core::Timestamp::from_unix_ms(1_780_264_800_000),
        to: passnum_core::Timestamp::from_unix_ms(july_first),
    };
    let july = passnum_store::MonthSpan {
        key: 202607,
        from: june.to,
        to: passnum_core::Timestamp::from_unix_ms(july_first + 31 * 86_400_000),
    };
    let months = s
        .monthly_figures(&passnum_store::FigureScope::All, &[june, july])
        .await
        .unwrap();
    assert_eq!(
        months.iter().map(|m| m.cheques_used).collect::<Vec<_>>(),
        [1, 1]
    );
}

#[tokio::test]
async fn figure_rollups_upgrade_on_sqlite() {
    upgrade_fills_the_figure_rollups(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn figure_rollups_upgrade_on_postgres() {
    upgrade_fills_the_figure_rollups(TestEngine::Postgres).await;
}

/// Two cheques redeemed at a venue with confirmed bank details (every table a run item's keys
/// reach), for the payment runs' upgrades.
const REDEEMED_AT_A_PAID_VENUE: [&str; 8] = [
    "INSERT INTO services (code, level, level_name, category_code, category_name, name) VALUES \
         ('2.1.07', 2, 'Maîtriser', '2.1', 'Utiliser', 'Envoyer un courriel')",
    "INSERT INTO funders (name, kind, created_at) VALUES ('Métropole', 'metropole', 1000)",
    "INSERT INTO orders (funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents, \
         valid_from, valid_until, tolerance_days, created_at) VALUES (1, 'issued', 1, 2, 1000, 2000, '2026-01-01', '2026-12-31', 0, 1000)",
    "INSERT INTO booklets (order_id, number, booking_code) VALUES (1, 1, 'ABCDEFGH')",
    "INSERT INTO cheques (order_id, booklet_id, number, code, state, face_value_cents) VALUES \
         (1, 1, 1, 'AAAAAAAAAAAAAA1', 'redeemed', 1000), (1, 1, 2, 'AAAAAAAAAAAAAA2', 'redeemed', 1000)",
    "INSERT INTO venues (siret, name, commune_insee, status, created_at) VALUES ('73282932000074', 'Lieu', '69123', 'qualified', 1000)",
    "INSERT INTO redemptions (cheque_id, venue_id, service_code, amount_cents, redeemed_at) VALUES \
         (1, 1, '2.1.07', 1000, 1782000000000), (2, 1, '2.1.07', 1000, 1782000000000)",
    "INSERT INTO venue_bank_accounts (venue_id, iban, bic, holder, created_at, confirmed_at) VALUES \
         (1, 'FR7630006000011234567890189', 'AGRIFRPP', 'Lieu', 1000, 1000)",
];

/// Migration 29 drops `payouts`: a cheque paid by a confirmed run keeps its payout as the run's
/// item, the history check still finds it paid, and it can never be put in a second run.
async fn upgrade_keeps_each_payout_as_its_run_item(engine: TestEngine) {
    let old = TestDb::at_version(engine, 28).await;
    let mut statements = REDEEMED_AT_A_PAID_VENUE.to_vec();
    statements.extend([
        "UPDATE cheques SET state = 'paid' WHERE id = 1",
        "INSERT INTO payment_runs (cutoff_date, status, fee_basis_points, created_at, confirmed_at, cancelled_at) VALUES \
         ('2026-06-30', 'confirmed', 0, 1000, 1000, NULL), ('2026-06-30', 'cancelled', 0, 1000, NULL, 1000)",
        "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents, cancelled) \
         VALUES (1, 1, 1, 1, 1, 1000, 0, 0), (2, 2, 2, 1, 1, 1000, 0, 1)",
        "INSERT INTO accounts (kind, owner_id) VALUES ('venue_payable', 1)",
        "INSERT INTO transfers (debit_account_id, credit_account_id, amount_cents, kind, payment_run_id, created_at) \
         SELECT v.id, w.id, 1000, 'venue_payment', 1, 1000 FROM accounts v, accounts w \
         WHERE v.kind = 'venue_payable' AND v.owner_id = 1 AND w.kind = 'world'",
        "INSERT INTO payouts (cheque_id, redemption_id, transfer_id, paid_at) VALUES (1, 1, 1, 1000)",
    ]);
    fill(&old, &statements).await;
    let db = old.upgrade().await;
    let s = &db.store;
    let paid_check = "état « payé » écrit sur un chèque, ou paiement d'un encaissement annulé ou d'un autre chèque";
    let findings = s.verify_cheque_history().await.unwrap();
    assert!(
        findings.iter().all(|f| f.check != paid_check),
        "{findings:?}"
    );
    // The cheque paid once cannot be taken by a later run; the other one, whose run was
    // cancelled, can.
    sqlx::query(
        "INSERT INTO payment_runs (cutoff_date, status, fee_basis_points, created_at) VALUES ('2026-07-31', 'draft', 0, 2000)",
    )
    .execute(s.pool())
    .await
    .unwrap();
    let item = |redemption: i64, cheque: i64| {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents) \
             VALUES (3, {redemption}, {cheque}, 1, 1, 1000, 0)"
        )))
    };
    let twice = item(1, 1).execute(s.pool()).await.unwrap_err();
    assert!(twice.as_database_error().unwrap().is_unique_violation());
    item(2, 2).execute(s.pool()).await.unwrap();
    // Still tied to a cheque that exists (and, through the key, to a run that exists).
    let orphan = item(5, 999).execute(s.pool()).await.unwrap_err();
    assert!(
        orphan
            .as_database_error()
            .unwrap()
            .is_foreign_key_violation()
    );
    // Migration 31: "paid" is read from the confirmed run's item, no longer stored on the cheque.
    let stored: Vec<String> = sqlx::query_scalar("SELECT state FROM cheques ORDER BY id")
        .fetch_all(s.pool())
        .await
        .unwrap();
    assert_eq!(stored, ["redeemed", "redeemed"]);
    // (The planted codes carry no check symbol: real ones are given to read them back.)
    let mut codes = vec![];
    for id in [1, 2] {
        let code = passnum_core::ChequeCode::generate(&mut rand::rng());
        sqlx::query("UPDATE cheques SET code = $1 WHERE id = $2")
            .bind(code.as_compact())
            .bind(id)
            .execute(s.pool())
            .await
            .unwrap();
        codes.push(code);
    }
    let mut states = vec![];
    for code in &codes {
        states.push(s.cheque_status(code, None).await.unwrap().state);
    }
    assert_eq!(
        states,
        [
            passnum_core::ChequeState::Paid,
            passnum_core::ChequeState::Redeemed
        ]
    );
    // A cheque with "paid" written on it again is found by the check.
    sqlx::query("UPDATE cheques SET state = 'paid' WHERE id = 2")
        .execute(s.pool())
        .await
        .unwrap();
    let findings = s.verify_cheque_history().await.unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.check == paid_check && f.rows == 1),
        "{findings:?}"
    );
}

#[tokio::test]
async fn payouts_upgrade_on_sqlite() {
    upgrade_keeps_each_payout_as_its_run_item(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn payouts_upgrade_on_postgres() {
    upgrade_keeps_each_payout_as_its_run_item(TestEngine::Postgres).await;
}

/// Migration 35: the booklets already allocated get their holder runs, so that a structure's
/// stock, read through them, is the same after the upgrade.
async fn upgrade_gives_allocated_booklets_their_holder_runs(engine: TestEngine) {
    let old = TestDb::at_version(engine, 34).await;
    fill(
        &old,
        &[
        "INSERT INTO funders (name, kind, created_at) VALUES ('Métropole', 'metropole', 1000)",
        "INSERT INTO orders (funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents, \
         valid_from, valid_until, tolerance_days, created_at) VALUES (1, 'issued', 7, 1, 1000, 7000, '2026-01-01', '2026-12-31', 0, 1000)",
        "INSERT INTO distributors (name, kind, commune_insee, created_at) VALUES ('CCAS', 'ccas', '69123', 1000), ('Médiathèque', 'mediatheque', '69123', 1000)",
        "INSERT INTO order_territories (order_id, name, deliberation_ref, deliberation_on, created_at, created_by) \
         VALUES (1, 'Vaulx-en-Velin', 'D-1', '2026-01-10', 1000, 'tests')",
        "INSERT INTO booklets (order_id, number, distributor_id, territory_id) VALUES \
         (1, 1, 1, NULL), (1, 2, 1, NULL), (1, 3, NULL, NULL), (1, 4, 1, NULL), (1, 5, 2, 1), (1, 6, 2, 1), (1, 7, NULL, 1)",
    ])
    .await;
    let db = old.upgrade().await;
    let s = &db.store;
    let runs: Vec<(i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT first_id, last_id, territory_id, distributor_id FROM holder_runs ORDER BY first_id",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(
        runs,
        [
            (1, 2, None, Some(1)),
            (4, 4, None, Some(1)),
            (5, 6, Some(1), Some(2)),
            (7, 7, Some(1), None)
        ]
    );
    let ccas = passnum_store::DistributorId(1);
    assert_eq!(s.distributor_stock_count(ccas).await.unwrap(), 3);
    // (The order was written without its prepayment: only the checks of holders matter here.)
    let findings = s.verify_cheque_history().await.unwrap();
    assert!(
        findings.iter().all(|f| !f.check.contains("plage")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn holder_runs_upgrade_on_sqlite() {
    upgrade_gives_allocated_booklets_their_holder_runs(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn holder_runs_upgrade_on_postgres() {
    upgrade_gives_allocated_booklets_their_holder_runs(TestEngine::Postgres).await;
}

/// A funder and its two issued orders (ids 1 and 2: 3 and 2 booklets of one 10 € cheque), for
/// the figures' upgrade tests.
const FUNDER_WITH_TWO_ORDERS: [&str; 2] = [
    "INSERT INTO funders (name, kind, created_at) VALUES ('Métropole', 'metropole', 1000)",
    "INSERT INTO orders (funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents, \
     valid_from, valid_until, tolerance_days, created_at) VALUES \
     (1, 'issued', 3, 1, 1000, 3000, '2026-01-01', '2026-12-31', 0, 1000), \
     (1, 'issued', 2, 1, 1000, 2000, '2026-01-01', '2026-12-31', 0, 1000)",
];

/// Migration 36: each order's funnel line is counted from its booklets, and the booklets
/// already used are put on one of their order's month lines, so that the programme's funnel,
/// read from those rollups, is the same after the upgrade.
async fn upgrade_counts_each_order_s_funnel_line(engine: TestEngine) {
    let old = TestDb::at_version(engine, 35).await;
    fill(
        &old,
        &[
        FUNDER_WITH_TWO_ORDERS[0],
        FUNDER_WITH_TWO_ORDERS[1],
        "INSERT INTO booklets (order_id, number, handed_out_at, cheques_used, used_cents, first_used_at) VALUES \
         (1, 1, 5000, 2, 2000, 6000), (1, 2, 5000, 0, 0, NULL), (1, 3, NULL, 1, 1000, 7000), \
         (2, 1, NULL, 0, 0, NULL), (2, 2, NULL, 0, 0, NULL)",
        "INSERT INTO venues (siret, name, commune_insee, status, created_at) VALUES ('73282932000074', 'Lieu', '69123', 'qualified', 1000)",
        "INSERT INTO usage_months (order_id, venue_id, service_code, format, month, cheques, cents) VALUES \
         (1, 1, 'S2', 'none', 202601, 1, 1000), (1, 1, 'S1', 'none', 202602, 2, 2000)",
    ])
    .await;
    let db = old.upgrade().await;
    let s = &db.store;
    let lines: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT order_id, bought, handed_out FROM order_funnel ORDER BY order_id")
            .fetch_all(s.pool())
            .await
            .unwrap();
    assert_eq!(lines, [(1, 3, 2), (2, 2, 0)]);
    let first: Vec<(String, i64)> =
        sqlx::query_as("SELECT service_code, first_uses FROM usage_months ORDER BY month")
            .fetch_all(s.pool())
            .await
            .unwrap();
    assert_eq!(
        first,
        [("S2".to_string(), 2), ("S1".to_string(), 0)],
        "on the order's first line"
    );
    let f = s.funnel(&passnum_store::FigureScope::All).await.unwrap();
    assert_eq!((f.bought, f.handed_out, f.first_used), (5, 2, 2));
    let problems = s.figures_check().await.unwrap();
    assert!(
        problems.iter().all(|p| !p.contains("entonnoir")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn order_funnel_upgrade_on_sqlite() {
    upgrade_counts_each_order_s_funnel_line(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn order_funnel_upgrade_on_postgres() {
    upgrade_counts_each_order_s_funnel_line(TestEngine::Postgres).await;
}

/// Migration 38: each order's month lines are summed from the venues' lines and its cheques
/// paid from `usage_paid`, so that the funnel and the monthly series, read from them, are the
/// same after the upgrade.
async fn upgrade_sums_each_order_s_month_lines_and_payments(engine: TestEngine) {
    let old = TestDb::at_version(engine, 37).await;
    fill(
        &old,
        &[
        FUNDER_WITH_TWO_ORDERS[0],
        FUNDER_WITH_TWO_ORDERS[1],
        "INSERT INTO booklets (order_id, number, handed_out_at, cheques_used, used_cents, first_used_at) VALUES \
         (1, 1, 5000, 1, 1000, 6000), (1, 2, 5000, 1, 1000, 6000), (1, 3, NULL, 1, 1000, 7000), \
         (2, 1, NULL, 1, 1000, 8000), (2, 2, NULL, 0, 0, NULL)",
        "INSERT INTO order_funnel (order_id, bought, handed_out) VALUES (1, 3, 2), (2, 2, 0)",
        "INSERT INTO venues (siret, name, commune_insee, status, created_at) VALUES \
         ('73282932000074', 'Lieu', '69123', 'qualified', 1000), ('73282932000082', 'Autre', '69266', 'qualified', 1000)",
        "INSERT INTO usage_months (order_id, venue_id, service_code, format, month, cheques, cents, first_uses) VALUES \
         (1, 1, 'S1', 'none', 202601, 1, 1000, 1), (1, 2, 'S2', 'individual', 202601, 1, 1000, 1), \
         (1, 1, 'S1', 'none', 202602, 1, 1000, 1), (2, 2, 'S1', 'none', 202602, 1, 1000, 1)",
        "INSERT INTO usage_paid (order_id, venue_id, cheques, cents) VALUES (1, 1, 2, 2000), (1, 2, 1, 1000)",
    ])
    .await;
    let db = old.upgrade().await;
    let s = &db.store;
    let lines: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT order_id, month, cheques, cents, first_uses FROM order_months ORDER BY order_id, month",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(
        lines,
        [
            (1, 202601, 2, 2000, 2),
            (1, 202602, 1, 1000, 1),
            (2, 202602, 1, 1000, 1)
        ]
    );
    let paid: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT order_id, paid, paid_cents FROM order_funnel ORDER BY order_id")
            .fetch_all(s.pool())
            .await
            .unwrap();
    assert_eq!(paid, [(1, 3, 3000), (2, 0, 0)]);
    let f = s.funnel(&passnum_store::FigureScope::All).await.unwrap();
    assert_eq!(
        (f.first_used, f.cheques_used, f.cheques_paid, f.paid_cents),
        (4, 4, 3, 3000)
    );
    let problems = s.figures_check().await.unwrap();
    assert!(
        problems
            .iter()
            .all(|p| !p.contains("par commande") && !p.contains("aux lieux")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn order_months_upgrade_on_sqlite() {
    upgrade_sums_each_order_s_month_lines_and_payments(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn order_months_upgrade_on_postgres() {
    upgrade_sums_each_order_s_month_lines_and_payments(TestEngine::Postgres).await;
}

/// Migration 39: each run's totals are summed from its items, a cancelled run's too, so that a
/// run reads the same after the upgrade without rereading its items.
async fn upgrade_writes_each_run_s_totals(engine: TestEngine) {
    let old = TestDb::at_version(engine, 38).await;
    let mut statements = REDEEMED_AT_A_PAID_VENUE.to_vec();
    statements.extend([
        "INSERT INTO payment_runs (cutoff_date, status, fee_basis_points, created_at, confirmed_at, cancelled_at) VALUES \
         ('2026-06-30', 'cancelled', 400, 1000, NULL, 1000), ('2026-06-30', 'confirmed', 400, 2000, 2000, NULL)",
        "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents, cancelled) \
         VALUES (1, 1, 1, 1, 1, 1000, 40, 1), (1, 2, 2, 1, 1, 1000, 40, 1), (2, 1, 1, 1, 1, 1000, 40, 0)",
    ]);
    fill(&old, &statements).await;
    let db = old.upgrade().await;
    let s = &db.store;
    let runs = s.list_payment_runs(10, 0).await.unwrap();
    assert_eq!(
        runs.iter()
            .map(|r| (r.id, r.cheques, r.gross_cents, r.fee_cents, r.net_cents))
            .collect::<Vec<_>>(),
        [(2, 1, 1000, 40, 960), (1, 2, 2000, 80, 1920)]
    );
    let findings = s.verify_cheque_history().await.unwrap();
    assert!(
        findings
            .iter()
            .all(|f| !f.check.starts_with("virement dont les totaux")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn payment_run_totals_upgrade_on_sqlite() {
    upgrade_writes_each_run_s_totals(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn payment_run_totals_upgrade_on_postgres() {
    upgrade_writes_each_run_s_totals(TestEngine::Postgres).await;
}
