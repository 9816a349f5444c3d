//! `passnum print` reads the paper back: every booklet of an order is printed by the real
//! binary, every page rendered (poppler's pdftoppm), every QR code decoded (zbar's zbarimg);
//! each payload must verify with the published keys and name a stored cheque, on SQLite and
//! PostgreSQL. `passnum verify` then refuses tampered and truncated payloads.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use passnum_core::order::OrderRequest;
use passnum_core::signature::SignedCheque;
use passnum_core::{Money, NewOrder, Timestamp};
use passnum_store::testing::{TestDb, TestEngine};
use time::macros::{date, datetime};

fn passnum(db: &TestDb, key: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_passnum"))
        .env("RUST_BACKTRACE", "0")
        .arg("--database-url")
        .arg(&db.url)
        .arg("--signing-key")
        .arg(key)
        .args(["--public-url", "https://pass.example.fr"])
        .args(args)
        .output()
        .expect("run passnum")
}

fn tool(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (Debian poppler-utils and zbar-tools)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every QR payload of every PDF in `dir` whose name contains `part`, and their text.
fn decode_all(dir: &Path, part: &str) -> (BTreeSet<String>, String) {
    let work = dir.join(format!("pages-{part}"));
    let mut payloads = BTreeSet::new();
    let mut text = String::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect();
    files.sort();
    for pdf in &files {
        text.push_str(&tool(Command::new("pdftotext").arg(pdf).arg("-")));
        payloads.extend(passnum_print::readback::qr_payloads(pdf, &work));
    }
    (payloads, text)
}

async fn prints_and_reads_back(engine: TestEngine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let t = Timestamp::from_offset_datetime(datetime!(2026-06-15 10:00 UTC));
    let f = s
        .create_funder("Métropole de Lyon", "metropole", t)
        .await
        .unwrap();
    let order = NewOrder::parse(&OrderRequest {
        booklet_count: 3,
        cheques_per_booklet: 12,
        face_value_cents: 1000,
        valid_from: date!(2026 - 07 - 01),
        valid_until: date!(2027 - 06 - 30),
        tolerance_days: 30,
        perimeter_communes: vec!["69266".into()],
        perimeter_departements: vec![],
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    })
    .unwrap();
    let o = s.create_order(f.id, &order, t).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing.key");
    let out = dir.path().join("out");
    let id = o.id.0.to_string();
    for extra in [&[][..], &["--merged", "--per-file", "2"][..]] {
        let mut args = vec!["print", "--order", &id, "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let run = passnum(&db, &key, &args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let stored: BTreeSet<String> = s
        .list_cheques(o.id, 0, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    assert_eq!(stored.len(), 36);
    let keys = s.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 1, "the key was created once and published");
    let public = keys[0].verifying_key().unwrap();
    for part in ["carnet-", "carnets"] {
        let (payloads, text) = decode_all(&out, part);
        assert_eq!(
            payloads.len(),
            36,
            "{part}: one readable QR code per cheque"
        );
        let decoded: BTreeSet<String> = payloads
            .iter()
            .map(|p| {
                let (c, kid) = SignedCheque::verify(p, |k| (*k == keys[0].kid).then_some(public))
                    .unwrap_or_else(|e| panic!("{p}: {e}"));
                assert_eq!(kid, keys[0].kid);
                assert_eq!(c.face_value, Money::from_cents(1000));
                assert_eq!(c.valid_until, date!(2027 - 06 - 30));
                assert_eq!(c.order, o.id);
                c.code.grouped()
            })
            .collect();
        assert_eq!(
            decoded, stored,
            "{part}: the paper carries exactly the stored cheques"
        );
        for code in &stored {
            assert!(
                text.contains(code.as_str()),
                "{part}: {code} printed as text"
            );
        }
        // pdftotext may render the no-break space before € as a plain space.
        assert!(text.replace('\u{a0}', " ").contains("10,00 €"));
        assert!(text.contains("Valable du 01/07/2026 au 30/06/2027"));
        assert!(text.contains("Villeurbanne (69266)"));
        assert!(text.contains("https://pass.example.fr/lieux"));
    }
    assert!(out.join(format!("commande-{id}-courrier.pdf")).exists());
    let merged: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("carnets-"))
        .collect();
    assert_eq!(merged.len(), 2, "3 booklets in volumes of 2: {merged:?}");

    // `passnum verify`: genuine, tampered, truncated, and with a revoked key.
    let (payloads, _) = decode_all(&out, "carnet-000001");
    let good = payloads.iter().next().unwrap().clone();
    let ok = passnum(&db, &key, &["verify", &good]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Chèque authentique"));
    let tampered = good.replacen(":1000:", ":5000:", 1);
    let bad = passnum(&db, &key, &["verify", &tampered]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("pas un chèque authentique"));
    let cut = passnum(&db, &key, &["verify", &good[..good.len() - 10]]);
    assert!(!cut.status.success());
    assert!(String::from_utf8_lossy(&cut.stderr).contains("incomplet"));
    // Offline, from the exported key document.
    let export = passnum(&db, &key, &["keys", "export"]);
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, &export.stdout).unwrap();
    let offline = passnum(
        &db,
        &key,
        &["verify", "--keys", keys_file.to_str().unwrap(), &good],
    );
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let revoke = passnum(&db, &key, &["keys", "revoke", keys[0].kid.as_str()]);
    assert!(revoke.status.success());
    let after = passnum(&db, &key, &["verify", &good]);
    assert!(!after.status.success(), "a revoked key no longer verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_reads_back_on_sqlite() {
    prints_and_reads_back(TestEngine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_reads_back_on_postgres() {
    prints_and_reads_back(TestEngine::Postgres).await;
}
