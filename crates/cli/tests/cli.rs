//! The `passnum` command as a newcomer uses it.

use std::process::Command;

fn passnum(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_passnum"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run passnum")
}

#[test]
fn demo_creates_a_programme_once_and_prints_working_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = passnum(&db, &["demo", "--no-serve"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Métropole de Lyon"));
    assert!(text.contains("pn_operator_"));
    assert_eq!(
        text.matches("pn_venue_").count(),
        4 + 1,
        "four venue tokens and the curl example"
    );
    // Running it again keeps the data and prints fresh tokens.
    let again = passnum(&db, &["demo", "--no-serve"]);
    let again = String::from_utf8(again.stdout).unwrap();
    assert!(again.contains("Métropole de Lyon (commanditaire n° 1)"));
    let check = passnum(&db, &["ledger", "check"]);
    assert!(check.status.success());
    assert!(
        String::from_utf8(check.stdout)
            .unwrap()
            .contains("Balance équilibrée")
    );
}

#[test]
fn token_create_explains_its_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = passnum(&db, &["token", "create", "--role", "venue"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("indiquez --for"));
    let out = passnum(&db, &["token", "create", "--role", "funder", "--for", "42"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("aucun commanditaire n'a ce numéro"));
    let out = passnum(&db, &["token", "create", "--role", "operator"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("pn_operator_")
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["token", "create", "--help"],
        vec!["bench", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_passnum"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8(out.stdout).unwrap().contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn the_ledger_exports_as_fec_and_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert!(passnum(&db, &["demo", "--no-serve"]).status.success());
    let fec = dir.path().join("000000000FEC20261231.txt");
    let out = passnum(&db, &["ledger", "fec", "--out", fec.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&fec).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines[0][0], "JournalCode");
    assert!(lines.iter().all(|l| l.len() == 18));
    // The demo's prepayment: 100 booklets × 10 × 10 €, bank debited, funds held credited; then
    // the two cheques of last week's workshop, owed to the venue. In date order.
    assert_eq!(lines.len(), 7);
    assert_eq!((lines[1][4], lines[1][11]), ("512000", "10000,00"));
    assert_eq!((lines[2][4], lines[2][12]), ("467000", "10000,00"));
    assert_eq!((lines[6][4], lines[6][12]), ("401000", "10,00"));
    let dates: Vec<&str> = lines[1..].iter().map(|l| l[3]).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
    let journal = dir.path().join("journal.csv");
    assert!(
        passnum(
            &db,
            &["ledger", "journal", "--out", journal.to_str().unwrap()]
        )
        .status
        .success()
    );
    let j = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(j.lines().count(), 4);
    assert!(
        j.lines()
            .nth(1)
            .unwrap()
            .contains(";prepayment;world:0;funder_held:1;1000000;1;")
    );
    assert!(j.lines().nth(3).unwrap().contains(";1000;"), "{j}");
}

#[test]
fn tokens_are_listed_without_secrets_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let token = String::from_utf8(
        passnum(
            &db,
            &[
                "token", "create", "--role", "operator", "--label", "poste 1",
            ],
        )
        .stdout,
    )
    .unwrap();
    let list = String::from_utf8(passnum(&db, &["token", "list"]).stdout).unwrap();
    assert!(list.contains("1\toperator\t0\tposte 1\tactif"), "{list}");
    assert!(!list.contains(token.trim()));
    assert!(
        passnum(&db, &["token", "revoke", "--id", "1"])
            .status
            .success()
    );
    let list = String::from_utf8(passnum(&db, &["token", "list"]).stdout).unwrap();
    assert!(list.contains("révoqué le"));
    let again = passnum(&db, &["token", "revoke", "--id", "1"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("aucun jeton actif"));
}

#[test]
fn venues_are_exported_then_imported_back_as_linked_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert!(passnum(&db, &["demo", "--no-serve"]).status.success());
    let file = dir.path().join("lieux.csv");
    assert!(
        passnum(&db, &["venues", "export", "--out", file.to_str().unwrap()])
            .status
            .success()
    );
    let dry = passnum(
        &db,
        &[
            "venues",
            "import",
            file.to_str().unwrap(),
            "--source",
            "cartographie",
            "--dry-run",
        ],
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report = String::from_utf8(dry.stdout).unwrap();
    assert!(
        report.contains("ligne 2 (id passnum-lieu-1) : créé, relié au lieu n° 1 (score 1,00)"),
        "{report}"
    );
    assert!(String::from_utf8_lossy(&dry.stderr).starts_with("Essai, rien n'est écrit."));
    let wrong = dir.path().join("autre.csv");
    std::fs::write(&wrong, "id;nom\n1;x\n").unwrap();
    let refused = passnum(&db, &["venues", "import", wrong.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Colonnes obligatoires absentes"));
}

#[test]
fn a_mistake_reads_as_one_sentence_even_with_backtraces_on_and_workshops_can_be_required() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let out = Command::new(env!("CARGO_BIN_EXE_passnum"))
        .arg("--database-url")
        .arg(&db)
        .args(["venues", "workshop-required", "--set", "peut-être"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Erreur : --set peut-être : indiquez yes ou no."),
        "{err}"
    );
    assert!(
        !err.contains("backtrace") && !err.contains("anyhow"),
        "{err}"
    );
    let out = passnum(&db, &["venues", "workshop-required", "--set", "yes"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Chaque encaissement doit désigner un atelier.")
    );
    let out = passnum(&db, &["venues", "workshop-required"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Chaque encaissement doit désigner un atelier."),
        "kept"
    );
}

#[test]
fn funders_and_observer_territories_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let out = passnum(
        &db,
        &[
            "funders",
            "create",
            "--name",
            "Département du Rhône",
            "--kind",
            "departement",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "1\tDépartement du Rhône\tdepartement\tbudget non déclaré\n"
    );
    let out = passnum(
        &db,
        &["funders", "create", "--name", "X", "--kind", "planete"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("type de commanditaire « planete » inconnu")
    );
    let out = passnum(&db, &["funders", "list"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    let out = passnum(
        &db,
        &["observers", "create", "--name", "Hub", "--kind", "hub"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = passnum(
        &db,
        &[
            "observers",
            "grant",
            "--observer",
            "1",
            "--territory",
            "departement:69",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .ends_with("aucun commanditaire\tdepartement:69\n")
    );
    let out = passnum(
        &db,
        &["observers", "grant", "--observer", "1", "--territory", "69"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("écrivez NIVEAU:CODE"));
    let out = passnum(
        &db,
        &[
            "observers",
            "grant",
            "--observer",
            "1",
            "--territory",
            "epci:123",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ne porte le code « 123 »"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
