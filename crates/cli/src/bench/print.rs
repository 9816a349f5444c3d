//! Printing the booklets of an order.

use super::*;

/// Prints every booklet of a fresh order (`print_booklets` × 10 signed QR codes), one file
/// per booklet, then as merged volumes of 250 booklets.
pub(super) async fn bench_print(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let at = now();
    let funder = store
        .create_funder(&format!("Banc d'impression {tag}"), "autre", at)
        .await?;
    let today = passnum_core::paris::local_date(at);
    let order = store
        .create_order(funder.id, &order_of(args.print_booklets, today)?, at)
        .await?;
    let key = passnum_core::signature::generate_key(&mut rand::rng());
    store.register_signing_key(&key.verifying_key(), at).await?;
    let dir = tempfile::tempdir()?;
    for merged in [false, true] {
        let out = dir.path().join(if merged { "fusion" } else { "carnets" });
        let print_args = crate::orders::PrintArgs {
            order: order.id.0,
            out: out.clone(),
            merged,
            per_file: 250,
            letter_template: None,
            public_url: "https://pass.example.fr".into(),
            quiet: true,
        };
        let (n, took) = crate::orders::print(store, key.clone(), &print_args).await?;
        let bytes: u64 = std::fs::read_dir(&out)?
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!(
            "| print {} | {:?} | {n} booklets ({} QR codes) | {} cores | {:.2} s | {:.0} booklets/s, {} MB of PDF, peak RSS so far {} |",
            if merged {
                "merged (volumes of 250)"
            } else {
                "one file per booklet"
            },
            store.engine(),
            n * 10,
            std::thread::available_parallelism().map_or(1, |c| c.get()),
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            bytes / 1_000_000,
            peak_rss_mb(),
        );
    }
    Ok(())
}
