//! Backup and verified restore of a SQLite database with `--backup-cheques` cheques (issue 17's
//! target: 1,000,000 under 60 s): `VACUUM INTO`, then the copy checked, renamed, opened and
//! verified (books, counters, funding, keys).

use super::*;

pub(super) async fn bench_backup(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    if store.engine() != passnum_store::Engine::Sqlite {
        println!(
            "| backup + verified restore | {:?} | | | skipped | pg_dump / pg_restore: see docs/operations.md |",
            store.engine()
        );
        return Ok(());
    }
    let funder = store
        .create_funder(&format!("Banc de sauvegarde {tag}"), "autre", now())
        .await?;
    let order = order_of(
        args.backup_cheques.div_euclid(10).max(1),
        passnum_core::paris::local_date(now()),
    )?;
    store.create_order(funder.id, &order, now()).await?;
    let cheques: i64 = store
        .table_counts()
        .await?
        .iter()
        .find(|(l, _)| *l == "chèques")
        .map_or(0, |(_, n)| *n);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("sauvegarde.db");
    let start = Instant::now();
    store.sqlite_backup_into(&file).await?;
    let backup = start.elapsed();
    let size = std::fs::metadata(&file)?.len();
    let target = format!("sqlite://{}", dir.path().join("restauree.db").display());
    let start = Instant::now();
    crate::backup::restore_sqlite(&file, &target).await?;
    let copied = start.elapsed();
    let restored = Store::connect(&target, StoreOptions::default()).await?;
    let report = crate::backup::verify(&restored).await?;
    restored.close().await;
    let restore = start.elapsed();
    anyhow::ensure!(report.findings.is_empty(), "{:?}", report.findings);
    println!(
        "| backup + verified restore | Sqlite | {cheques} cheques in the database | 1 | {:.1} s | backup {:.1} s ({:.0} MB), restore {:.1} s (copy and check {:.1} s, verify {:.1} s) |",
        (backup + restore).as_secs_f64(),
        backup.as_secs_f64(),
        size as f64 / 1e6,
        restore.as_secs_f64(),
        copied.as_secs_f64(),
        (restore - copied).as_secs_f64()
    );
    Ok(())
}
