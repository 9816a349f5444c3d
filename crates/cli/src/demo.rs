//! The demo programme: a métropole funds 100 booklets, venues around Lyon accept them.

use std::net::SocketAddr;

use passnum_core::order::OrderRequest;
use passnum_core::{InseeCode, NewOrder, Siret, VenueStatus};
use passnum_store::{Actor, NewVenue, Store};

use crate::now;

/// (SIRET, name, commune, status, address, how to book, services offered; empty: all).
type DemoVenue = (
    &'static str,
    &'static str,
    &'static str,
    VenueStatus,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const VENUES: &[DemoVenue] = &[
    (
        "21690123000005",
        "Médiathèque de la Part-Dieu",
        "69123",
        VenueStatus::Qualified,
        "30 boulevard Marius-Vivier-Merle, 69003 Lyon",
        "04 78 62 18 00, espace numérique au 2e étage",
        &[
            ("1.1.02", "collective"),
            ("1.1.05", "collective"),
            ("2.1.01", "both"),
            ("2.1.03", "both"),
            ("2.1.07", "both"),
            ("2.2.02", "individual"),
            ("2.2.03", "individual"),
            ("3.1.01", "collective"),
        ],
    ),
    (
        "21692660000000",
        "Espace numérique de Villeurbanne",
        "69266",
        VenueStatus::Qualified,
        "Place Lazare-Goujon, 69100 Villeurbanne",
        "Sur rendez-vous : numerique@villeurbanne.example",
        &[
            ("2.1.01", "individual"),
            ("2.1.03", "collective"),
            ("2.1.06", "individual"),
            ("2.1.07", "both"),
            ("2.2.01", "individual"),
            ("2.2.02", "individual"),
            ("2.2.03", "individual"),
            ("2.2.04", "individual"),
        ],
    ),
    (
        "21692590000005",
        "France Services de Vénissieux",
        "69259",
        VenueStatus::Qualified,
        "Place Léon-Sublet, 69200 Vénissieux",
        "04 72 21 44 44, du lundi au vendredi",
        &[
            ("2.2.01", "individual"),
            ("2.2.02", "both"),
            ("2.2.03", "individual"),
            ("2.2.04", "individual"),
        ],
    ),
    (
        "84712345000003",
        "Association Clic'Solidaire (en cours de qualification)",
        "69123",
        VenueStatus::Applied,
        "12 rue de la République, 69002 Lyon",
        "clic-solidaire.example",
        &[("2.1.03", "collective"), ("2.1.07", "collective")],
    ),
];

/// Creates the demo programme if the database has none, then prints tokens, sign-ins and codes
/// when `print` is set.
pub async fn create(
    store: &Store,
    listen: SocketAddr,
    print: bool,
    signer: Option<&passnum_core::signature::SigningKey>,
) -> anyhow::Result<()> {
    let at = now();
    let existing = store.list_funders(1, 0).await?;
    let (funder, venues) = if let Some(f) = existing.into_iter().next() {
        eprintln!("Données de démonstration déjà présentes : nouveaux jetons ci-dessous.");
        (f, store.list_venues(10, 0).await?)
    } else {
        // The programme began a month ago: its order, prepaid then, pays the cheques scanned
        // at last week's workshop (the books in date order, as an auditor reads them).
        seed(store, at.plus_ms(-30 * 86_400_000), at).await?
    };
    let structure = store.list_distributors(1, 0).await?;
    let orders = store.list_orders(Some(funder.id), 1, 0).await?;
    let territory = match orders.first() {
        Some(o) => store.territories_of(o.id).await?.first().map(|t| t.id),
        None => None,
    };
    let staff = demo_staff(
        store,
        funder.id,
        &venues,
        structure.first().map(|d| d.id),
        territory,
    )
    .await?;
    let codes = match orders.first() {
        Some(o) => store.list_cheques(o.id, 0, 3).await?,
        None => vec![],
    };
    if !print {
        return Ok(());
    }
    let operator = store.create_token(Actor::Operator, "démo", at).await?;
    let funder_token = store
        .create_token(Actor::Funder(funder.id), "démo", at)
        .await?;
    println!(
        "Programme de démonstration : {} (commanditaire n° {})",
        funder.name, funder.id
    );
    println!("  jeton opérateur      : {operator}");
    println!("  jeton commanditaire  : {funder_token}");
    let mut first_venue_token = None;
    for v in &venues {
        let t = store.create_token(Actor::Venue(v.id), "démo", at).await?;
        println!(
            "  jeton lieu n° {} ({}, {}) : {t}",
            v.id,
            v.name,
            v.status.as_str()
        );
        first_venue_token.get_or_insert(t);
    }
    println!("Comptes des pages web (http://{listen}/connexion) :");
    for (email, password, role) in &staff {
        println!("  {role:<28} {email}  mot de passe : {password}");
    }
    println!("Quelques codes de chèques :");
    for c in &codes {
        println!(
            "  carnet {} chèque {} : {} ({})",
            c.booklet_number,
            c.number,
            c.code,
            c.state.as_str()
        );
    }
    if let Some(o) = orders.first() {
        // The last booklet stays in the funder's stock: free to try booking and scanning.
        let number = o.booklet_count;
        if let Ok(code) = store.booking_code(o.id, number).await {
            let cheques = store.booklet_cheques(o.id, number).await?;
            println!(
                "Pour essayer les ateliers : carnet {}-{number}, code de réservation {} ; ses chèques : {}",
                o.id,
                passnum_core::workshop::display_booking_code(&code),
                cheques
                    .iter()
                    .take(3)
                    .map(|(_, c)| c.grouped())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if let (Some(key), Some(c), Some(o)) = (signer, codes.get(2), orders.first()) {
        // What the QR code of that cheque carries: paste it in the scan page to try the
        // signature check.
        let signed = passnum_core::signature::SignedCheque {
            code: passnum_core::ChequeCode::parse(&c.code)?,
            face_value: passnum_core::Money::from_cents(o.face_value_cents),
            valid_until: o.valid_until,
            order: o.id,
        };
        println!(
            "QR code du chèque {} (à coller dans la page d'encaissement) : {}",
            c.code,
            signed.payload(key)
        );
    }
    if let (Some(t), Some(c)) = (first_venue_token, codes.first()) {
        println!("Essayez un encaissement :");
        println!(
            "  curl -s -X POST http://{listen}/api/v1/redemptions -H 'Authorization: Bearer {t}' \
             -H 'Content-Type: application/json' -H 'Idempotency-Key: essai-1' \
             -d '{{\"code\": \"{}\", \"service_code\": \"2.1.07\"}}'",
            c.code
        );
    }
    Ok(())
}

/// The demo programme: a métropole's order of 100 booklets, four venues, three distributing
/// structures with 30 booklets shared between two of them, a member territory holding 10, and
/// a public of the funder's own.
async fn seed(
    store: &Store,
    at: passnum_core::Timestamp,
    now: passnum_core::Timestamp,
) -> anyhow::Result<(passnum_store::Funder, Vec<passnum_store::Venue>)> {
    let funder = store
        .create_funder("Métropole de Lyon", "metropole", at)
        .await?;
    let today = passnum_core::paris::local_date(at);
    let order = NewOrder::parse(&OrderRequest {
        booklet_count: 100,
        cheques_per_booklet: 10,
        face_value_cents: 1000,
        valid_from: today,
        valid_until: today + time::Duration::days(365),
        tolerance_days: 30,
        perimeter_communes: vec![],
        perimeter_departements: vec!["69".into()],
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    })?
    .with_options(&passnum_core::order_options::OrderOptionsRequest {
        target_publics: vec!["senior".into(), "job_seeker".into(), "young".into()],
        cover_text: "La Métropole de Lyon vous offre ce carnet pour prendre en main le numérique, à votre rythme, près de chez vous.".into(),
        funding: vec![
            ("État".into(), 5000),
            ("FEDER".into(), 2100),
            ("Métropole de Lyon".into(), 2900),
        ],
    })?;
    let order = store.create_order(funder.id, &order, at).await?;
    let mut venues = vec![];
    for (siret, name, commune, status, address, contact, services) in VENUES {
        let v = NewVenue {
            siret: Siret::parse(siret)?.into(),
            name: (*name).into(),
            commune: InseeCode::parse(commune)?,
            status: VenueStatus::Applied,
            qualified_until: None,
            address: (*address).into(),
            contact: (*contact).into(),
            services: vec![],
        };
        // As a real venue does: it applies, fills in its catalogue, then is qualified.
        let mut created = store.create_venue(&v, at).await?;
        let catalogue = passnum_core::catalogue::Catalogue::parse(services.iter().copied(), |c| {
            store.service_is_known(c)
        })?;
        store
            .set_venue_catalogue(created.id, &catalogue, None, at)
            .await?;
        if *status != VenueStatus::Applied {
            created = store
                .set_venue_status(
                    created.id,
                    &passnum_core::StatusDecision::new(*status, "Lieu de démonstration."),
                    None,
                    at,
                )
                .await?;
        }
        store
            .set_venue_practical_info(
                created.id,
                "du mardi au samedi, 10 h–12 h et 14 h–18 h",
                "accès de plain-pied, boucle magnétique à l'accueil",
                at,
            )
            .await?;
        // What the standard calls specific publics and support, for the open-data file.
        store
            .set_venue_publics(created.id, &["Seniors"], &["Surdité"], at)
            .await?;
        venues.push(created);
    }
    let mut distributors = vec![];
    for (name, kind, commune) in [
        ("CCAS de Lyon", "ccas", "69123"),
        ("CCAS de Villeurbanne", "ccas", "69266"),
        ("Médiathèque de Vaulx-en-Velin", "mediatheque", "69256"),
    ] {
        let d = store
            .create_distributor(name, kind, &InseeCode::parse_known(commune)?, at)
            .await?;
        distributors.push(d.id);
    }
    // Stock for the demo agent (CCAS de Lyon) and a second structure.
    store
        .allocate_booklets(
            order.id,
            &[(distributors[0], 20), (distributors[1], 10)],
            "démonstration",
            at,
        )
        .await?;
    demo_territory_and_public(store, order.id, at).await?;
    import_demo_places(store, at).await?;
    demo_workshops(store, venues[0].id, order.id, now).await?;
    Ok((funder, venues))
}

/// A member territory, Vaulx-en-Velin, holding ten of the order's booklets, and a public of
/// the funder's own.
async fn demo_territory_and_public(
    store: &Store,
    order: passnum_core::OrderId,
    at: passnum_core::Timestamp,
) -> anyhow::Result<()> {
    let today = passnum_core::paris::local_date(at);
    // A member territory, Vaulx-en-Velin, joined by délibération with its convention signed:
    // ten booklets from the funder's stock for its référente to pass on to its médiathèque.
    let vaulx = passnum_core::member_territory::NewTerritory::parse(
        "Ville de Vaulx-en-Velin",
        "69256",
        ("2026-012", &passnum_core::paris::format_date(today)),
        ("CM-2026-03", &passnum_core::paris::format_date(today)),
    )?;
    let vaulx = store
        .declare_territory(order, &vaulx, "démonstration", at)
        .await?;
    store
        .allocate_to_territories(order, &[(vaulx.id, 10)], "démonstration", at)
        .await?;
    // A public of the funder's own, next to the national ones, offered at the counter.
    let own = passnum_core::own_public::NewOwnPublic::parse(
        &passnum_core::own_public::OwnPublicRequest {
            label: "Parents d'élèves en quartier prioritaire".into(),
            age_min: String::new(),
            age_max: String::new(),
            criteria: "Orientés par le collège ou le centre social du quartier".into(),
            target: true,
        },
    )?;
    store
        .add_order_public(order, &own, "démonstration", at)
        .await?;
    Ok(())
}

/// The first venue's workshops: a weekly collective one from tomorrow for four weeks, and an
/// individual appointment the day after tomorrow, so that booking and scanning can be tried;
/// and one held last week, whose activity record is still to fill.
async fn demo_workshops(
    store: &Store,
    venue: passnum_core::VenueId,
    order: passnum_core::OrderId,
    at: passnum_core::Timestamp,
) -> anyhow::Result<()> {
    use passnum_core::workshop::{Level, Place, WorkshopFormat, WorkshopPlan};
    let today = passnum_core::paris::local_date(at);
    let day = |n: i64| today + time::Duration::days(n);
    let collective = WorkshopPlan {
        format: WorkshopFormat::Collective,
        title: "Premiers pas sur la tablette".into(),
        services: vec!["2.1.07".into()],
        level: Level::Beginner,
        time: time::Time::from_hms(14, 0, 0)?,
        dates: vec![day(1), day(8), day(15), day(22)],
        duration_min: 90,
        place: Place::AtVenue,
        capacity: 8,
        mediator: "Samia".into(),
        accessibility: "Salle de plain-pied, boucle magnétique.".into(),
    };
    store.create_workshops(venue, &collective, at).await?;
    let appointment = WorkshopPlan {
        format: WorkshopFormat::Individual,
        title: "Rendez-vous : vos démarches en ligne".into(),
        services: vec!["2.2.02".into()],
        level: Level::Beginner,
        time: time::Time::from_hms(10, 0, 0)?,
        dates: vec![day(2)],
        duration_min: 45,
        place: Place::AtVenue,
        capacity: 1,
        mediator: "Karim".into(),
        accessibility: String::new(),
    };
    store.create_workshops(venue, &appointment, at).await?;
    held_workshop(store, venue, order, day(-7), at).await
}

/// A collective workshop held a week ago, two cheques scanned at it (booklets 98 and 99 of the
/// funder's stock) and no activity record yet: the venue's "Ateliers passés" has one to fill.
async fn held_workshop(
    store: &Store,
    venue: passnum_core::VenueId,
    order: passnum_core::OrderId,
    day: time::Date,
    at: passnum_core::Timestamp,
) -> anyhow::Result<()> {
    use passnum_core::workshop::{Level, Place, WorkshopFormat, WorkshopPlan};
    let plan = WorkshopPlan {
        format: WorkshopFormat::Collective,
        title: "Envoyer un courriel avec une pièce jointe".into(),
        services: vec!["2.1.07".into()],
        level: Level::Beginner,
        time: time::Time::from_hms(14, 0, 0)?,
        dates: vec![day],
        duration_min: 90,
        place: Place::AtVenue,
        capacity: 8,
        mediator: "Samia".into(),
        accessibility: String::new(),
    };
    let start = plan.starts()[0];
    let w = store
        .create_workshops(venue, &plan, start.plus_ms(-86_400_000))
        .await?
        .remove(0);
    for number in [98, 99] {
        let (_, code) = store
            .booklet_cheques(order, number)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("carnet {number} sans chèque"))?;
        let outcome = store
            .redeem(passnum_store::RedeemRequest {
                venue_id: venue,
                code,
                service_code: "2.1.07".into(),
                workshop_id: Some(w.id),
                now: start.plus_ms(30 * 60_000).min(at),
                idempotency: None,
            })
            .await?
            .outcome;
        anyhow::ensure!(
            matches!(outcome, passnum_store::Outcome::Accepted(_)),
            "démo : {outcome:?}"
        );
    }
    Ok(())
}

/// Places "imported" from a file of the national venue standard, for the operator's
/// `/operateur/candidats`: one the duplicate detection links to a demo venue, one it suggests,
/// two standing alone (one with its SIRET, to open an application from).
const DEMO_PLACES: &str = "id,pivot,nom,commune,code_postal,adresse,telephone,horaires,services,date_maj
coop-101,,Espace numérique Villeurbanne,Villeurbanne,69100,Place Lazare Goujon,,,Aide aux démarches administratives,2026-11-02
coop-102,,France Services de Vénissieux,Vénissieux,69200,Place Léon Sublet,,,Aide aux démarches administratives,2026-11-02
coop-103,84712345000011,Fablab des Pentes,Lyon,69001,9 montée de la Grande-Côte,04 78 11 22 33,Mo-Fr 14:00-18:00,Loisirs et créations numériques,2026-11-02
coop-104,,Maison de quartier Bron Terraillon,Bron,69500,5 rue Marcel Bramet,,,Maîtrise des outils numériques du quotidien,2026-11-02
";

async fn import_demo_places(store: &Store, at: passnum_core::Timestamp) -> anyhow::Result<()> {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile()?;
    std::io::Write::write_all(&mut file, DEMO_PLACES.as_bytes())?;
    passnum_app::venue_import::import_venues(store, file.path(), "coop-demo", false, at, |_| {})
        .await?;
    Ok(())
}

/// Demo sign-ins with published passwords: for trying passnum out, never for production.
pub const DEMO_STAFF: &[(&str, &str, &str)] = &[
    (
        "operateur@demo.passnum.fr",
        "Opératrice démo",
        "demo-operateur-2026",
    ),
    (
        "commanditaire@demo.passnum.fr",
        "Service inclusion numérique",
        "demo-commanditaire-2026",
    ),
    (
        "mediateur@demo.passnum.fr",
        "Médiateur de la Part-Dieu",
        "demo-mediateur-2026",
    ),
    (
        "agent@demo.passnum.fr",
        "Agente du CCAS de Lyon",
        "demo-agent-2026",
    ),
    (
        "observatoire@demo.passnum.fr",
        "Hub territorial du Rhône",
        "demo-observatoire-2026",
    ),
    (
        "referente@demo.passnum.fr",
        "Référente de Vaulx-en-Velin",
        "demo-referente-2026",
    ),
];

/// The demo's observer, a territorial hub that reads the demo funder's figures.
async fn demo_observer(
    store: &Store,
    funder: passnum_core::FunderId,
) -> anyhow::Result<passnum_core::ObserverId> {
    const NAME: &str = "Hub territorial du Rhône (démo)";
    let id = match store
        .list_observers()
        .await?
        .into_iter()
        .find(|o| o.name == NAME)
    {
        Some(o) => o.id,
        None => store.create_observer(NAME, "hub", now()).await?.id,
    };
    store.set_observer_grant(id, funder, true, now()).await?;
    Ok(id)
}

async fn demo_staff(
    store: &Store,
    funder: passnum_core::FunderId,
    venues: &[passnum_store::Venue],
    structure: Option<passnum_store::DistributorId>,
    territory: Option<passnum_core::TerritoryId>,
) -> anyhow::Result<Vec<(String, String, String)>> {
    // One actor per line of DEMO_STAFF, in its order; none for the agent without a structure.
    let actors = [
        Some(Actor::Operator),
        Some(Actor::Funder(funder)),
        Some(Actor::Venue(venues[0].id)),
        structure.map(Actor::Distributor),
        Some(Actor::Observer(demo_observer(store, funder).await?)),
        territory.map(Actor::Referent),
    ];
    let roles = [
        "opérateur",
        "commanditaire",
        "médiateur (lieu qualifié)",
        "agent (CCAS, remise des carnets)",
        "observateur (hub territorial, lit les chiffres)",
        "référente territoriale (répartit les carnets de Vaulx-en-Velin)",
    ];
    let mut out = vec![];
    for (((email, name, password), actor), role) in DEMO_STAFF.iter().zip(actors).zip(roles) {
        let Some(actor) = actor else { continue };
        if store.staff_for_sign_in(email).await?.is_none() {
            let hash = passnum_app::passwords::hash_password(password.to_string())
                .await
                .map_err(|e| anyhow::anyhow!("hachage du mot de passe : {e}"))?;
            store.create_staff(email, name, &hash, actor, now()).await?;
        }
        out.push((email.to_string(), password.to_string(), role.to_string()));
    }
    Ok(out)
}
