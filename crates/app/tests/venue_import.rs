//! Importing the national venue standard, on both engines: a report line per row, nothing
//! written on a dry run or an unreadable file, updates by source and id, duplicates linked to
//! venues or suggested, candidates never qualified.

use std::io::Write;

use passnum_app::venue_import::{ImportError, RowAction, RowReport, import_venues};
use passnum_core::duplicates::Verdict;
use passnum_core::{InseeCode, Siret, Timestamp, VenueStatus};
use passnum_store::{KnownKind, NewVenue, Store, both_engines};

fn t0() -> Timestamp {
    Timestamp::from_unix_ms(1_780_000_000_000)
}

const HEADER: &str = "id,pivot,nom,commune,code_postal,code_insee,adresse,latitude,longitude,telephone,services,modalites_accompagnement,date_maj";

fn file(lines: &[&str]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    writeln!(f, "{HEADER}").unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
    f
}

async fn import(
    s: &Store,
    path: &std::path::Path,
    source: &str,
    dry_run: bool,
) -> Result<Vec<RowReport>, ImportError> {
    let mut lines = vec![];
    import_venues(s, path, source, dry_run, t0(), |r| lines.push(r.clone())).await?;
    Ok(lines)
}

async fn candidates(s: &Store) -> i64 {
    s.candidate_counts().await.unwrap().0
}

const GOOD: &str = "coop-1,,Médiathèque Jean Macé,Lyon,69007,,2 rue Domer,45.746,4.842,04 78 00 00 00,Aide aux démarches administratives|Loisirs et créations numériques,Accompagnement individuel,2026-11-30";

both_engines! {
    async fn every_row_is_reported_and_a_dry_run_writes_nothing(db) {
        let s = &db.store;
        let f = file(&[
            GOOD,
            "coop-2,73282932000075,Espace numérique,Vénissieux,69200,,3 av. Jean Jaurès,,,,,,2026-11-30",
            "coop-3,,Centre social,Vénissieux,69200,,8 rue Paul Bert,4.9,45.7,pas de téléphone,Cuisine,,2026-11-30",
            "coop-1,,Doublon de ligne,Lyon,69007,,2 rue Domer,,,,,,2026-11-30",
            "coop-4,,Sans date,Lyon,69007,,1 rue X,,,,,,",
        ]);
        let report = import(s, f.path(), "coop", true).await.unwrap();
        assert_eq!(candidates(s).await, 0, "a dry run writes nothing");
        let actions: Vec<(u64, RowAction)> = report.iter().map(|r| (r.line, r.action.clone())).collect();
        assert_eq!(actions, vec![(2, RowAction::Create), (3, RowAction::Refuse), (4, RowAction::Create), (5, RowAction::Refuse), (6, RowAction::Refuse)]);
        assert_eq!(report[1].notes[0].column, "pivot");
        assert!(report[1].sentence().contains("ligne 3 (id coop-2) : refusé ; pivot : Ce SIRET n'est pas valide"), "{}", report[1].sentence());
        // Optional columns never refuse a row: their value is left out, and said so.
        let columns: Vec<&str> = report[2].notes.iter().map(|n| n.column).collect();
        assert_eq!(columns, ["latitude", "telephone", "services"]);
        assert!(report[2].sentence().contains("[valeur ignorée]"));
        assert!(report[3].sentence().contains("figure déjà plus haut"));
        assert_eq!(report[4].notes[0].column, "date_maj");

        let written = import(s, f.path(), "coop", false).await.unwrap();
        assert_eq!(written.iter().map(|r| r.action.clone()).collect::<Vec<_>>(), actions.iter().map(|a| a.1.clone()).collect::<Vec<_>>(), "the dry run said what the import did");
        assert_eq!(candidates(s).await, 2);
        // Again: the same source's places are updated, not doubled.
        let again = import(s, f.path(), "coop", false).await.unwrap();
        assert_eq!(again[0].action, RowAction::Update);
        assert_eq!(candidates(s).await, 2);
        assert!(s.venues_in_status(&VenueStatus::ALL, 10, 0).await.unwrap().is_empty(), "never a venue, let alone a qualified one");
    }
}

both_engines! {
    async fn a_file_that_cannot_be_read_writes_nothing(db) {
        let s = &db.store;
        let mut latin1 = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        latin1.write_all(format!("{HEADER}\n").as_bytes()).unwrap();
        latin1.write_all(b"a,,Caf\xe9,Lyon,69007,,1 rue,,,,,,2026-11-30\n").unwrap();
        latin1.flush().unwrap();
        let e = import(s, latin1.path(), "x", false).await.unwrap_err();
        assert!(e.to_string().contains("n'est pas en UTF-8 (ligne 2)"), "{e}");
        // A good first row does not get written when a later line is unreadable.
        let mut late = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        late.write_all(format!("{HEADER}\n{GOOD}\n").as_bytes()).unwrap();
        late.write_all(b"b,,Caf\xe9,Lyon,69007,,1 rue,,,,,,2026-11-30\n").unwrap();
        late.flush().unwrap();
        assert!(import(s, late.path(), "x", false).await.is_err());
        let mut columns = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        columns.write_all(b"id;nom\n1;x\n").unwrap();
        columns.flush().unwrap();
        let e = import(s, columns.path(), "x", false).await.unwrap_err();
        assert!(e.to_string().contains("Colonnes obligatoires absentes : commune, code_postal, adresse, date_maj"), "{e}");
        let mut json = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
        json.write_all(b"[{\"id\": \"j1\", \"nom\": \"x\"").unwrap();
        json.flush().unwrap();
        assert!(import(s, json.path(), "x", false).await.unwrap_err().to_string().contains("n'est pas une liste de lieux"));
        assert_eq!(candidates(s).await, 0);
    }
}

both_engines! {
    async fn duplicates_are_linked_or_suggested_across_sources_only(db) {
        let s = &db.store;
        let venue = s.create_venue(&NewVenue {
            siret: Siret::parse("21690123000005").unwrap().into(),
            name: "Médiathèque Jean-Macé".into(),
            commune: InseeCode::parse("69387").unwrap(),
            status: VenueStatus::Applied,
            qualified_until: None,
            address: "2 rue Domer".into(),
            contact: String::new(),
            services: vec![],
        }, t0()).await.unwrap();
        // JSON, with multi-values as arrays and numbers as numbers.
        let mut json = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
        json.write_all(r#"[
            {"id": "c1", "pivot": "", "nom": "MEDIATHEQUE JEAN MACE", "commune": "Lyon", "code_postal": "69007", "adresse": "2 r. Domer", "date_maj": "2026-11-30", "latitude": 45.746, "longitude": 4.842, "services": ["Aide aux démarches administratives"]},
            {"id": "c2", "pivot": "", "nom": "Médiathèque Jean Macé", "commune": "Lyon", "code_postal": "69007", "adresse": "40 rue de Marseille", "date_maj": "2026-11-30"},
            {"id": "c3", "pivot": "", "nom": "Fablab", "commune": "Lyon", "code_postal": "69007", "adresse": "9 rue Béchevelin", "date_maj": "2026-11-30"}
        ]"#.as_bytes()).unwrap();
        json.flush().unwrap();
        let report = import(s, json.path(), "cartographie", false).await.unwrap();
        let found: Vec<Option<(Verdict, KnownKind, i64)>> = report.iter().map(|r| r.matched.map(|(v, k, id, _)| (v, k, id))).collect();
        assert_eq!(found, vec![
            Some((Verdict::Link, KnownKind::Venue, venue.id.0)),
            Some((Verdict::Suggest, KnownKind::Venue, venue.id.0)),
            None,
        ]);
        assert_eq!(s.candidate_counts().await.unwrap(), (3, 1, 1));
        // Another source finds the first source's places; the same source never matches itself.
        let f = file(&["x9,,Fablab,Lyon,69007,,9 rue Bechevelin,,,,,,2026-12-01"]);
        let other = import(s, f.path(), "coop", false).await.unwrap();
        let Some((Verdict::Link, KnownKind::Candidate, c3, _)) = other[0].matched else { panic!("{:?}", other[0]) };
        // "cartographie" sending the same line: its own c3 is vetoed, coop's x9 is found.
        let same = import(s, f.path(), "cartographie", true).await.unwrap();
        let Some((Verdict::Link, KnownKind::Candidate, found, _)) = same[0].matched else { panic!("{:?}", same[0]) };
        assert_ne!(found, c3, "a source never matches its own places");
    }
}

both_engines! {
    async fn places_with_and_without_coordinates_share_one_statement(db) {
        // The same one-row statement bound first with empty coordinates and score, then with
        // values (PostgreSQL caches it with the types of its first binding).
        let s = &db.store;
        import(s, file(&["a1,,Lieu A,Lyon,69007,,1 rue A,,,,,,2026-11-30"]).path(), "one", false).await.unwrap();
        let r = import(s, file(&["b1,,Lieu A,Lyon,69007,,1 rue A,45.746,4.842,,,,2026-11-30"]).path(), "two", false).await.unwrap();
        assert!(r[0].matched.is_some());
        let known = s.known_places(&["69387".into()]).await.unwrap();
        let b = known.iter().find(|k| k.source == "two").unwrap();
        assert_eq!(b.position.map(|p| (p.latitude, p.longitude)), Some((45.746, 4.842)));
    }
}

both_engines! {
    async fn an_imported_place_opens_one_application_and_is_linked_to_it(db) {
        let s = &db.store;
        let f = file(&["coop-9,73282932000074,Fablab des Pentes,Lyon,69001,,9 montée de la Grande-Côte,,,04 78 11 22 33,,,2026-11-30"]);
        import(s, f.path(), "coop", false).await.unwrap();
        let id = s.list_candidates(Verdict::New, 10, 0).await.unwrap()[0].id;
        let c = s.candidate(id).await.unwrap();
        assert_eq!((c.pivot.as_deref(), c.contact().as_str(), c.venue_id), (Some("73282932000074"), "+33478112233", None));
        let operator = s.create_staff("op@passnum.fr", "Olivia", "x", passnum_store::Actor::Operator, t0()).await.unwrap().id;
        let number = |n: &str| passnum_core::OrgNumber::parse(n).unwrap();
        // Two operators at once, with two numbers: one file, never two.
        let (a, b) = tokio::join!(
            s.open_file_from_candidate(id, number("73282932000074"), operator, t0()),
            s.open_file_from_candidate(id, number("84712345000011"), operator, t0()),
        );
        let venue = match (a, b) {
            (Ok(v), Err(e)) | (Err(e), Ok(v)) => {
                assert!(matches!(e, passnum_store::StoreError::Conflict { code: "candidate_already_linked", .. }), "{e:?}");
                v
            }
            other => panic!("exactly one file: {other:?}"),
        };
        assert_eq!(s.list_venues(10, 0).await.unwrap().len(), 1, "the loser left no venue behind");
        assert_eq!((venue.status, venue.name.as_str(), venue.contact.as_str()), (VenueStatus::Applied, "Fablab des Pentes", "+33478112233"));
        assert_eq!(venue.commune_insee, "69381");
        let history = s.venue_status_history(venue.id).await.unwrap();
        assert!(history[0].reason.starts_with(&format!("Dossier ouvert depuis le lieu importé n° {id} (coop, id coop-9)")));
        assert_eq!(history[0].by_staff, Some(operator));
        let c = s.candidate(id).await.unwrap();
        assert_eq!(c.venue_id, Some(venue.id.0));
        assert_eq!(s.candidate_counts().await.unwrap(), (1, 1, 0));
        // Importing the file again keeps the link to the venue it became.
        import(s, f.path(), "coop", false).await.unwrap();
        assert_eq!(s.candidate(id).await.unwrap().venue_id, Some(venue.id.0));
        assert!(matches!(s.candidate(id + 1000).await, Err(passnum_store::StoreError::NotFound)));
    }
}
