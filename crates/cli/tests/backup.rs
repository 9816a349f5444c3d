//! `passnum backup` and `passnum restore --verify` on both engines, as an operator runs them:
//! the restored books agree to the cent and hold the same cheques; a truncated file, one from a
//! newer passnum or one for the other engine is refused and the target left untouched.

mod common;

use std::process::{Command, Output};

use passnum_store::testing::{EmptyDb, TestEngine};
use passnum_store::{Outcome, RedeemRequest, Store, StoreOptions, both_engines};

fn passnum(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passnum"))
        .args(args)
        .output()
        .expect("passnum")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A programme with redeemed cheques: what a backup must carry.
async fn programme(s: &Store) {
    let now = common::now();
    let (order, venue) = common::programme(s, 3).await;
    for c in s.list_cheques(order.id, 0, 7).await.unwrap() {
        let code = passnum_core::ChequeCode::parse(&c.code).unwrap();
        let r = RedeemRequest {
            venue_id: venue.id,
            code,
            service_code: "2.1.07".into(),
            workshop_id: None,
            now,
            idempotency: None,
        };
        assert!(matches!(
            s.redeem(r).await.unwrap().outcome,
            Outcome::Accepted(_)
        ));
    }
}

fn engine_of(url: &str) -> TestEngine {
    if url.starts_with("postgres") {
        TestEngine::Postgres
    } else {
        TestEngine::Sqlite
    }
}

/// Whether nothing was restored at `target`: no file, or a database without tables.
async fn untouched(target: &EmptyDb) -> bool {
    match passnum_store::sqlite_file(&target.url) {
        Some(path) => !path.exists(),
        None => passnum_store::backup::postgres_is_empty(&target.url)
            .await
            .unwrap(),
    }
}

both_engines! {
    async fn a_backup_restores_and_proves_its_books(db) {
        programme(&db.store).await;
        let engine = engine_of(&db.url);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sauvegarde");
        let out = passnum(&["--database-url", &db.url, "backup", "--out", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        #[cfg(unix)]
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions()) & 0o077, 0, "owner only");
        // A second backup to the same file is refused; the first one is kept.
        let again = passnum(&["--database-url", &db.url, "backup", "--out", file.to_str().unwrap()]);
        assert!(!again.status.success());

        let target = EmptyDb::new(engine).await;
        let out = passnum(&["restore", file.to_str().unwrap(), "--into", &target.url, "--verify"]);
        let report = text(&out);
        assert!(out.status.success(), "{report}");
        assert!(report.contains("chèques : 30") && report.contains("encaissements : 7") && report.contains("Vérifiée : balance équilibrée"), "{report}");
        let restored = Store::connect(&target.url, StoreOptions::default()).await.unwrap();
        assert_eq!(restored.table_counts().await.unwrap(), db.store.table_counts().await.unwrap());
        assert_eq!(restored.trial_balance().await.unwrap(), db.store.trial_balance().await.unwrap());
        restored.close().await;
        // Restoring over it is refused.
        let out = passnum(&["restore", file.to_str().unwrap(), "--into", &target.url]);
        assert!(!out.status.success() && text(&out).contains("rien n'a été touché"), "{}", text(&out));

        // A truncated file: refused, nothing restored.
        let bytes = std::fs::read(&file).unwrap();
        let cut = dir.path().join("coupée");
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
        let target = EmptyDb::new(engine).await;
        let out = passnum(&["restore", cut.to_str().unwrap(), "--into", &target.url, "--verify"]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("incomplet") || text(&out).contains("incomplète"), "{}", text(&out));
        assert!(untouched(&target).await, "the target is untouched");

        // For the other engine: refused with the way to do it.
        let other = EmptyDb::new(match engine { TestEngine::Sqlite => TestEngine::Postgres, TestEngine::Postgres => TestEngine::Sqlite }).await;
        let out = passnum(&["restore", file.to_str().unwrap(), "--into", &other.url]);
        assert!(!out.status.success() && text(&out).contains("rien n'a été restauré"), "{}", text(&out));
        assert!(untouched(&other).await);

        // From a newer passnum (a migration this build does not know): refused.
        let head = db.store.schema_state().await.unwrap().head;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)").bind(head + 1).execute(db.store.pool()).await.unwrap();
        let newer = dir.path().join("plus-récente");
        let out = passnum(&["--database-url", &db.url, "backup", "--out", newer.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        let target = EmptyDb::new(engine).await;
        let out = passnum(&["restore", newer.to_str().unwrap(), "--into", &target.url]);
        assert!(!out.status.success() && text(&out).contains("version plus récente de passnum"), "{}", text(&out));
        assert!(untouched(&target).await);
    }
}

both_engines! {
    async fn the_daily_jobs_check_the_audit_trail(db) {
        let line = passnum_store::NewAuditEntry {
            actor: "staff:1".into(), role: "operator".into(), org_id: None,
            action: "POST /operateur/commanditaires".into(), target: "/operateur/commanditaires".into(),
            status: 303, client: "192.0.2.7".into(), at: common::now(),
        };
        db.store.append_audit(&line).await.unwrap();
        db.store.append_audit(&line).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        let jobs = || passnum(&["--database-url", &db.url, "--signing-key", key.to_str().unwrap(), "jobs", "run"]);
        let out = jobs();
        assert!(out.status.success() && text(&out).contains("Journal d'audit intact : 2 lignes, empreinte de tête "), "{}", text(&out));
        // Someone rewrites a line behind the triggers' back: the next daily run says so and fails.
        let drop = match db.store.engine() {
            passnum_store::Engine::Sqlite => "DROP TRIGGER audit_log_no_update",
            passnum_store::Engine::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        };
        sqlx::query(sqlx::AssertSqlSafe(drop)).execute(db.store.pool()).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'staff:2' WHERE id = 1").execute(db.store.pool()).await.unwrap();
        let out = jobs();
        assert!(!out.status.success() && text(&out).contains("journal d'audit altéré à la ligne 1"), "{}", text(&out));
    }
}

both_engines! {
    /// The daily job moves each venue's payment mark over the cheques a confirmed run paid,
    /// says so, and finds nothing more to do the next day.
    async fn the_daily_job_moves_the_payment_marks_over_what_a_run_paid(db) {
        use passnum_core::payment::FeeRate;
        let s = &db.store;
        let now = common::now();
        let today = passnum_core::paris::local_date(now);
        let days_ago = now.plus_ms(-3 * 24 * 3_600_000);
        let (order, venue) = common::programme_since(s, 1, days_ago).await;
        let details = passnum_core::BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Commune").unwrap();
        let account = s.set_bank_account(venue.id, &details, days_ago).await.unwrap();
        s.confirm_bank_account(venue.id, account.id, days_ago).await.unwrap();
        let mut last = 0;
        for c in s.list_cheques(order.id, 0, 3).await.unwrap() {
            let r = RedeemRequest {
                venue_id: venue.id,
                code: passnum_core::ChequeCode::parse(&c.code).unwrap(),
                service_code: "2.1.07".into(),
                workshop_id: None,
                now: days_ago,
                idempotency: None,
            };
            match s.redeem(r).await.unwrap().outcome {
                Outcome::Accepted(a) => last = a.id.0,
                Outcome::Refused(r) => panic!("{r:?}"),
            }
        }
        let run = s.create_payment_run(today - time::Duration::days(1), FeeRate::default(), now).await.unwrap();
        s.confirm_payment_run(run.id, now).await.unwrap();
        let mark = || async {
            sqlx::query_scalar::<_, i64>("SELECT below_id FROM venue_payment_marks WHERE venue_id = $1")
                .bind(venue.id.0)
                .fetch_optional(s.pool())
                .await
                .unwrap()
        };
        assert_eq!(mark().await, None);
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        let jobs = || passnum(&["--database-url", &db.url, "--signing-key", key.to_str().unwrap(), "jobs", "run"]);
        let out = jobs();
        assert!(out.status.success() && text(&out).contains("Virements : repère de paiement avancé pour 1 lieux."), "{}", text(&out));
        assert_eq!(mark().await, Some(last + 1));
        let out = jobs();
        assert!(out.status.success() && !text(&out).contains("repère de paiement"), "{}", text(&out));
    }
}
