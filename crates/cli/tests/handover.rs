//! `passnum distribution` as a funder's accountant uses it, on SQLite and PostgreSQL: the
//! recorded moves, the inventory per holder at a date, and each move's procès-verbal de remise
//! as a PDF, read back with poppler's pdftotext.

use std::process::Command;

mod common;

use passnum_core::InseeCode;
use passnum_store::testing::{TestDb, TestEngine};

fn passnum(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_passnum"))
        .env("RUST_BACKTRACE", "0")
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .output()
        .expect("run passnum")
}

/// The text of a PDF, its lines joined (pdftotext keeps the page's line breaks).
fn pdf_text(pdf: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .replace('\u{a0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn moves_inventory_and_handover_records(engine: TestEngine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let (o, _) = common::programme(s, 10).await;
    let t = common::now();
    let today = passnum_core::paris::local_date(t);
    let lyon = InseeCode::parse_known("69123").unwrap();
    let ccas = s
        .create_distributor("CCAS de Lyon", "ccas", &lyon, t)
        .await
        .unwrap()
        .id;
    let villeurbanne = InseeCode::parse_known("69266").unwrap();
    let mairie = s
        .create_distributor("Mairie de Villeurbanne", "mairie", &villeurbanne, t)
        .await
        .unwrap()
        .id;
    s.allocate_booklets(o.id, &[(ccas, 5), (mairie, 3)], "tests", t)
        .await
        .unwrap();
    s.transfer_booklets(o.id, ccas, mairie, 2, "tests", t.plus_ms(1))
        .await
        .unwrap();
    let id = o.id.0.to_string();

    let moves = ok(passnum(&db, &["distribution", "--order", &id, "--moves"]));
    let lines: Vec<&str> = moves.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{moves}");
    assert!(
        lines[0].ends_with(&format!("stock\t{}\t5\t1-5\ttests", ccas.0)),
        "{moves}"
    );
    assert!(
        lines[2].ends_with(&format!("{}\t{}\t2\t1-2\ttests", ccas.0, mairie.0)),
        "{moves}"
    );
    let transfer_move: i64 = lines[2].split('\t').next().unwrap().parse().unwrap();

    let (yesterday, today) = (
        (today - time::Duration::days(1)).to_string(),
        today.to_string(),
    );
    let before = ok(passnum(
        &db,
        &["distribution", "--order", &id, "--at", &yesterday],
    ));
    assert!(before.contains("n'était pas encore émise le"), "{before}");
    let inv = ok(passnum(
        &db,
        &["distribution", "--order", &id, "--at", &today],
    ));
    assert!(inv.contains("Inventaire de la commande n°"), "{inv}");
    assert!(
        inv.contains("-\t10\t8\t0\t0\t2\tStock du commanditaire"),
        "{inv}"
    );
    assert!(
        inv.contains(&format!("{}\t5\t2\t0\t0\t3\tCCAS de Lyon", ccas.0)),
        "{inv}"
    );
    assert!(
        inv.contains(&format!(
            "{}\t5\t0\t0\t0\t5\tMairie de Villeurbanne",
            mairie.0
        )),
        "{inv}"
    );

    // A move's procès-verbal, written by the binary and read back.
    let dir = tempfile::tempdir().unwrap();
    let pv = |n: &str| {
        let pdf = dir.path().join(format!("pv-{n}.pdf"));
        let out = pdf.to_str().unwrap();
        ok(passnum(
            &db,
            &["distribution", "--order", &id, "--pv", n, "--out", out],
        ));
        pdf_text(&pdf)
    };
    let text = pv(&transfer_move.to_string());
    for words in [
        format!("PROCÈS-VERBAL DE REMISE DE CARNETS PASS NUMÉRIQUE N° {transfer_move}"),
        format!("Commande n° {id} de Métropole,"),
        "CCAS de Lyon remet à Mairie de Villeurbanne 2 carnets (valeur faciale 200,00 €)".into(),
        "CCAS de Lyon détient 3 carnets non remis".into(),
        "Mairie de Villeurbanne détient 5 carnets non remis".into(),
        "Carnets n° 1-2.".into(),
        "Répartition décidée par tests.".into(),
        "Pour le destinataire".into(),
    ] {
        assert!(text.contains(&words), "« {words} » in:\n{text}");
    }
    // The allocation's first move counts only itself: the funder's stock after it.
    let first = lines[0].split('\t').next().unwrap();
    let text1 = pv(first);
    assert!(
        text1.contains("(stock du commanditaire) détient 5 carnets non remis"),
        "{text1}"
    );

    let missing = passnum(&db, &["distribution", "--order", &id, "--pv", "999"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("n'a pas de remise n° 999"));
}

/// `passnum territory …`: a member territory declared (an arrondissement of its city refused
/// in a second one), a PDF attached, the funder's stock shared among territories (preview, then
/// --commit), then the territory's share given to one of its structures, with the procès-verbal
/// naming the territory and the booklet numbers.
async fn territories_in_two_stages(engine: TestEngine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let (o, _) = common::programme(s, 10).await;
    let id = o.id.0.to_string();
    let fails = |args: &[&str]| {
        let out = passnum(&db, args);
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let declare = [
        "territory",
        "declare",
        "--order",
        &id,
        "--name",
        "Lyon",
        "--deliberation",
        "2026-045",
        "--deliberation-date",
        "12/03/2026",
        "--communes",
    ];
    let out = ok(passnum(&db, &[&declare[..], &["69123"]].concat()));
    let t: i64 = out.split_whitespace().nth(2).unwrap().parse().unwrap();
    let tid = t.to_string();
    let mut again = declare.to_vec();
    again[5] = "Lyon 3e";
    let err = fails(&[&again[..], &["69383"]].concat());
    assert!(
        err.contains("est déjà dans le territoire « Lyon »"),
        "{err}"
    );
    let listed = ok(passnum(&db, &["territory", "list", "--order", &id]));
    assert!(
        listed.contains(&format!(
            "{t}\t0\t0\t2026-045 du 2026-03-12\t-\t69123\tLyon"
        )),
        "{listed}"
    );
    let err = fails(&[
        "territory",
        "convention",
        "--order",
        &id,
        "--territory",
        &tid,
        "--reference",
        "CM-7",
        "--date",
        "31/02/2026",
    ]);
    assert!(err.contains("n'est pas lisible"), "{err}");
    ok(passnum(
        &db,
        &[
            "territory",
            "convention",
            "--order",
            &id,
            "--territory",
            &tid,
            "--reference",
            "CM-7",
            "--date",
            "15/04/2026",
        ],
    ));
    let listed = ok(passnum(&db, &["territory", "list", "--order", &id]));
    assert!(listed.contains("\tCM-7 du 2026-04-15\t"), "{listed}");
    // Its communes changed: Lyon and Villeurbanne; an unknown code refused.
    let communes = |codes: &str| {
        passnum(
            &db,
            &[
                "territory",
                "amend",
                "--order",
                &id,
                "--territory",
                &tid,
                "--communes",
                codes,
            ],
        )
    };
    let out = communes("69123, 99999");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("99999"), "{err}");
    let listed = ok(passnum(&db, &["territory", "list", "--order", &id]));
    assert!(
        listed.contains("\t69123\tLyon"),
        "nothing changed: {listed}"
    );
    let out = ok(communes("69123, 69266"));
    assert_eq!(
        out.trim(),
        format!("territoire n° {t} « Lyon » : 69123, 69266 ; délibération 2026-045 du 2026-03-12")
    );
    ok(communes("69123"));
    // Renamed, its communes kept.
    let out = ok(passnum(
        &db,
        &[
            "territory",
            "amend",
            "--order",
            &id,
            "--territory",
            &tid,
            "--name",
            "Ville de Lyon",
        ],
    ));
    assert_eq!(
        out.trim(),
        format!(
            "territoire n° {t} « Ville de Lyon » : 69123 ; délibération 2026-045 du 2026-03-12"
        )
    );
    ok(passnum(
        &db,
        &[
            "territory",
            "amend",
            "--order",
            &id,
            "--territory",
            &tid,
            "--name",
            "Lyon",
        ],
    ));
    // Its délibération typed wrongly at the declaration: corrected, the rest kept.
    let out = ok(passnum(
        &db,
        &[
            "territory",
            "amend",
            "--order",
            &id,
            "--territory",
            &tid,
            "--deliberation",
            "2026-054",
            "--deliberation-date",
            "21/03/2026",
        ],
    ));
    assert_eq!(
        out.trim(),
        format!("territoire n° {t} « Lyon » : 69123 ; délibération 2026-054 du 2026-03-21")
    );
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("deliberation.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 deliberation").unwrap();
    let png = dir.path().join("scan.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n....").unwrap();
    let attach = |file: &std::path::Path| {
        passnum(
            &db,
            &[
                "territory",
                "attach",
                "--order",
                &id,
                "--territory",
                &tid,
                "--kind",
                "deliberation",
                "--file",
                file.to_str().unwrap(),
            ],
        )
    };
    assert!(ok(attach(&pdf)).contains("deliberation.pdf"));
    let out = attach(&png);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("pas un PDF"));
    let ccas = s
        .create_distributor(
            "CCAS Lyon 3e",
            "ccas",
            &InseeCode::parse_known("69383").unwrap(),
            common::now(),
        )
        .await
        .unwrap()
        .id;
    let preview = ok(passnum(
        &db,
        &[
            "territory",
            "allocate",
            "--order",
            &id,
            "--population-weight",
            "1",
        ],
    ));
    assert!(preview.contains(&format!("{t}\t10")), "{preview}");
    assert_eq!(
        s.unallocated_booklets(o.id).await.unwrap(),
        10,
        "a preview writes nothing"
    );
    ok(passnum(
        &db,
        &[
            "territory",
            "allocate",
            "--order",
            &id,
            "--population-weight",
            "1",
            "--commit",
        ],
    ));
    let err = fails(&[
        "territory",
        "share",
        "--order",
        &id,
        "--territory",
        &tid,
        "--to",
        &ccas.0.to_string(),
        "--booklets",
        "11",
    ]);
    assert!(err.contains("il en reste 10"), "{err}");
    ok(passnum(
        &db,
        &[
            "territory",
            "share",
            "--order",
            &id,
            "--territory",
            &tid,
            "--to",
            &ccas.0.to_string(),
            "--booklets",
            "4",
        ],
    ));
    let moves = ok(passnum(&db, &["distribution", "--order", &id, "--moves"]));
    let lines: Vec<&str> = moves.lines().skip(1).collect();
    assert!(
        lines[0].ends_with(&format!(
            "stock\tT{t}\t10\t1-10\tligne de commande (opérateur)"
        )),
        "{moves}"
    );
    assert!(
        lines[1].ends_with(&format!(
            "T{t}\t{}\t4\t1-4\tligne de commande (opérateur)",
            ccas.0
        )),
        "{moves}"
    );
    let second = lines[1].split('\t').next().unwrap();
    let out = dir.path().join("pv.pdf");
    ok(passnum(
        &db,
        &[
            "distribution",
            "--order",
            &id,
            "--pv",
            second,
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let text = pdf_text(&out);
    for words in [
        "Territoire Lyon remet à CCAS Lyon 3e 4 carnets",
        "Carnets n° 1-4.",
        "Territoire Lyon détient 6 carnets non remis",
        // The délibération as corrected above.
        "Territoire Lyon : délibération n° 2026-054 du 21/03/2026 ; convention de mandat n° CM-7 du 15/04/2026.",
    ] {
        assert!(text.contains(words), "« {words} » in:\n{text}");
    }
    // A territory declared by mistake is withdrawn; Lyon, which gave booklets, stays.
    let mut bron = declare.to_vec();
    bron[5] = "Bron";
    let out = ok(passnum(&db, &[&bron[..], &["69029"]].concat()));
    let bron_id = out.split_whitespace().nth(2).unwrap().to_string();
    let remove = |t: &str| {
        passnum(
            &db,
            &["territory", "remove", "--order", &id, "--territory", t],
        )
    };
    assert_eq!(
        ok(remove(&bron_id)).trim(),
        format!("territoire n° {bron_id} retiré")
    );
    let out = remove(&tid);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a reçu des carnets"), "{err}");
    let listed = ok(passnum(&db, &["territory", "list", "--order", &id]));
    assert!(
        listed.contains("\tLyon") && !listed.contains("Bron"),
        "{listed}"
    );
}

/// `passnum territory allocate --then-share`: both stages decided at once, each territory's
/// share split among its structures by the population of their commune.
async fn both_stages_at_once(engine: TestEngine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let (o, _) = common::programme(s, 10).await;
    let id = o.id.0.to_string();
    let t = common::now();
    let lyon = passnum_core::member_territory::NewTerritory::parse(
        "Lyon",
        "69123",
        ("D", "12/03/2026"),
        ("", ""),
    )
    .unwrap();
    let lyon = s
        .declare_territory(o.id, &lyon, "tests", t)
        .await
        .unwrap()
        .id;
    let third = s
        .create_distributor(
            "CCAS Lyon 3e",
            "ccas",
            &InseeCode::parse_known("69383").unwrap(),
            t,
        )
        .await
        .unwrap()
        .id;
    let first = s
        .create_distributor(
            "CCAS Lyon 1er",
            "ccas",
            &InseeCode::parse_known("69381").unwrap(),
            t,
        )
        .await
        .unwrap()
        .id;
    let preview = ok(passnum(
        &db,
        &[
            "territory",
            "allocate",
            "--order",
            &id,
            "--population-weight",
            "1",
            "--then-share",
        ],
    ));
    assert!(preview.contains(&format!("{lyon}\t{third}\t")), "{preview}");
    assert!(
        s.allocation_moves(o.id).await.unwrap().is_empty(),
        "a preview writes nothing"
    );
    ok(passnum(
        &db,
        &[
            "territory",
            "allocate",
            "--order",
            &id,
            "--population-weight",
            "1",
            "--then-share",
            "--commit",
        ],
    ));
    let held: std::collections::BTreeMap<_, _> = s
        .distribution_of(o.id)
        .await
        .unwrap()
        .iter()
        .map(|d| (d.distributor_id, d.in_stock))
        .collect();
    assert_eq!(held.values().sum::<i64>(), 10);
    // The 3rd arrondissement is more populous than the 1st.
    assert!(held[&third] > held[&first], "{held:?}");
    assert_eq!(s.territory(o.id, lyon).await.unwrap().in_stock, 0);
    assert_eq!(
        s.allocation_moves(o.id).await.unwrap().len(),
        3,
        "funder → territory, territory → each structure"
    );
}

#[tokio::test]
async fn both_stages_at_once_on_sqlite() {
    both_stages_at_once(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn both_stages_at_once_on_postgres() {
    both_stages_at_once(TestEngine::Postgres).await;
}

/// `passnum public`: an order's own publics, added, listed, reworded and retired; refusals
/// in sentences, nothing written.
async fn own_publics_from_the_command_line(engine: TestEngine) {
    let db = TestDb::new(engine).await;
    let (o, _) = common::programme(&db.store, 2).await;
    let order = o.id.0.to_string();
    let add = |label: &str, age: &str| {
        passnum(
            &db,
            &[
                "public", "add", "--order", &order, "--label", label, "--age", age, "--target",
            ],
        )
    };
    let first = ok(add("Femmes des communes isolées", "16-25"));
    let code = first.split('\t').next().unwrap().to_string();
    assert!(code.starts_with("own_"), "{first}");
    assert!(first.contains("16 à 25 ans [public cible]"), "{first}");
    // A national public, an inverted band, a duplicate: refused with their sentence.
    for (label, age, says) in [
        ("Personne isolée", "", "déjà un public national"),
        ("Jeunes", "25-16", "inversez-les"),
        ("femmes des communes isolees", "", "a déjà un public nommé"),
    ] {
        let out = add(label, age);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{label}: {err}");
    }
    let open = ok(add("Retraités", "60-"));
    assert!(open.contains("60 ans et plus"), "{open}");
    let id = code.trim_start_matches("own_");
    let edited = ok(passnum(
        &db,
        &[
            "public",
            "edit",
            "--order",
            &order,
            "--public",
            id,
            "--label",
            "Jeunes femmes isolées",
            "--age",
            "-25",
        ],
    ));
    assert_eq!(
        edited.trim(),
        format!("{code}\tJeunes femmes isolées\t25 ans au plus")
    );
    ok(passnum(
        &db,
        &["public", "retire", "--order", &order, "--public", id],
    ));
    let list = ok(passnum(&db, &["public", "list", "--order", &order]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].ends_with("[retiré]") && lines[1].contains("Retraités"),
        "{list}"
    );
}

#[tokio::test]
async fn own_publics_on_sqlite() {
    own_publics_from_the_command_line(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn own_publics_on_postgres() {
    own_publics_from_the_command_line(TestEngine::Postgres).await;
}

#[tokio::test]
async fn territories_on_sqlite() {
    territories_in_two_stages(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn territories_on_postgres() {
    territories_in_two_stages(TestEngine::Postgres).await;
}

#[tokio::test]
async fn handover_records_on_sqlite() {
    moves_inventory_and_handover_records(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn handover_records_on_postgres() {
    moves_inventory_and_handover_records(TestEngine::Postgres).await;
}
