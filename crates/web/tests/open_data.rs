//! The open-data file of venues (national venue standard v1.0.2).

mod common;

use common::*;
use passnum_core::{InseeCode, Siret, VenueStatus};
use passnum_store::NewVenue;

fn new_venue(
    siret: &str,
    name: &str,
    status: VenueStatus,
    address: &str,
    services: Vec<String>,
) -> NewVenue {
    NewVenue {
        siret: Siret::parse(siret).unwrap().into(),
        name: name.into(),
        commune: InseeCode::parse("69266").unwrap(),
        status,
        qualified_until: None,
        address: address.into(),
        contact: "04 78 00 00 00, ou contact@lieu.example".into(),
        services,
    }
}

api_test! {
    async fn qualified_venues_are_published_in_the_standard_and_only_they(app) {
        let s = app.store();
        let codes = vec!["2.1.07".to_string(), "2.2.01".to_string()];
        let q = s.create_venue(&new_venue("21690123000005", "Espace, « numérique »", VenueStatus::Qualified, "Place Lazare-Goujon, 69100 Villeurbanne", codes.clone()), t0()).await.unwrap();
        s.create_venue(&new_venue("44306184100047", "Candidat", VenueStatus::Applied, "1 rue Candide, 69100 Villeurbanne", codes.clone()), t0()).await.unwrap();
        let no_address = s.create_venue(&new_venue("73282932000074", "Sans adresse", VenueStatus::Qualified, "", codes), t0()).await.unwrap();
        let r = app.client.get(app.url("/open-data/lieux-de-mediation-numerique.csv")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.ends_with("_lieux-de-mediation-numerique.csv\""), "{disposition}");
        let body = r.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(headers, passnum_core::standard::COLUMNS);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1, "only the qualified venue with an address: {body}");
        let row = &rows[0];
        let col = |name: &str| row.get(headers.iter().position(|h| h == name).unwrap()).unwrap().to_string();
        assert_eq!(col("id"), format!("passnum-lieu-{}", q.id.0));
        assert_eq!(col("nom"), "Espace, « numérique »");
        assert_eq!((col("commune").as_str(), col("code_postal").as_str(), col("code_insee").as_str()), ("Villeurbanne", "69100", "69266"));
        assert_eq!(col("telephone"), "+33478000000");
        assert_eq!(col("courriels"), "contact@lieu.example");
        assert_eq!(col("services"), "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien");
        assert_eq!(col("modalites_accompagnement"), "Accompagnement individuel|Dans un atelier collectif");
        assert_eq!(col("date_maj"), passnum_core::paris::local_date(t0()).to_string());
        // The command line writes the same file, and says which venue it left out and why.
        let mut out = Vec::new();
        let report = passnum_app::open_data::export_venues(s, &mut out, "passnum").await.unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), body);
        assert_eq!(report.left_out, vec![(no_address.id.0, "adresse manquante")]);
    }
}
