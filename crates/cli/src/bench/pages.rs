//! Page weights and page times on a demo database.

use super::*;

/// Median time to answer each page on the demo data (a fresh demo database), measured over
/// loopback one request at a time, and the weight of the scan page until the first scan.
pub(super) async fn bench_pages(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("pages.db").display()
    );
    let store = Store::connect(&url, StoreOptions::default()).await?;
    let app = Application::build(
        AppState::new(store.clone(), Arc::new(SystemClock)),
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let listen = app.local_addr();
    crate::demo::create(&store, listen, false, None).await?;
    let base = format!("http://{listen}");
    tokio::spawn(app.run_until_stopped());
    let slip = history(&store).await?;
    let cookies = sessions(&store).await?;
    let pages: &[(&str, Option<&str>)] = &[
        ("/", None),
        ("/verifier", None),
        ("/lieux", None),
        ("/connexion", None),
        ("/lieu", Some("venue")),
        ("/lieu/paiements", Some("venue")),
        ("/commanditaire", Some("funder")),
        ("/commanditaire/encaissements", Some("funder")),
        ("/commanditaire/commandes/1", Some("funder")),
        ("/commanditaire/commandes/1/facture", Some("funder")),
        ("/commanditaire/releve", Some("funder")),
        ("/operateur", Some("operator")),
        ("/operateur/commanditaires", Some("operator")),
        ("/operateur/commandes", Some("operator")),
        ("/operateur/lieux", Some("operator")),
        ("/operateur/virements", Some("operator")),
        ("/operateur/comptes", Some("operator")),
        ("/structure", Some("distributor")),
        ("/structure/remise", Some("distributor")),
        (slip.as_str(), Some("distributor")),
    ];
    let client = reqwest::Client::new();
    println!();
    println!("| page | requests | median | p90 | HTML bytes |");
    println!("|---|---|---|---|---|");
    let mut scan_html = 0;
    for (path, role) in pages {
        let mut lat = vec![];
        let mut size = 0;
        for _ in 0..args.page_requests {
            let mut req = client.get(format!("{base}{path}"));
            if let Some(r) = role {
                req = req.header("cookie", format!("passnum_session={}", cookies[r]));
            }
            let t = Instant::now();
            let resp = req.send().await?;
            anyhow::ensure!(resp.status() == 200, "{path}: {}", resp.status());
            size = resp.bytes().await?.len();
            lat.push(t.elapsed());
        }
        if *path == "/lieu" {
            scan_html = size;
        }
        let mut sorted = lat.clone();
        sorted.sort();
        println!(
            "| {path} | {} | {:.2} ms | {:.2} ms | {size} |",
            lat.len(),
            median(lat).as_secs_f64() * 1e3,
            sorted[sorted.len() * 9 / 10].as_secs_f64() * 1e3
        );
    }
    print_scan_weight(&client, &base, scan_html).await?;
    store.close().await;
    Ok(())
}

/// Some history for the pages to show: 50 redemptions at the demo venue and one handout at the
/// demo agent's structure. Returns the handout's orientation page.
async fn history(store: &Store) -> anyhow::Result<String> {
    let venue = store.list_venues(1, 0).await?.remove(0);
    let order = store.list_orders(None, 1, 0).await?.remove(0);
    for c in store.list_cheques(order.id, 0, 50).await? {
        let code = ChequeCode::parse(&c.code).expect("stored code");
        store
            .redeem(RedeemRequest {
                venue_id: venue.id,
                code,
                service_code: "2.1.07".into(),
                workshop_id: None,
                now: now(),
                idempotency: None,
            })
            .await?;
    }
    // One handout at the demo agent's structure, for its orientation page.
    let structure = store.list_distributors(1, 0).await?.remove(0);
    let handout = passnum_core::handout::Handout::parse(
        &passnum_core::handout::HandoutRequest {
            needs: vec!["online_procedures".into(), "email".into()],
            equipment: "phone_only".into(),
            level: "never".into(),
            consent: true,
            ..Default::default()
        },
        &passnum_core::handout::HandoutRules::default(),
        &passnum_core::handout::HouseholdKey::generate(),
    )?;
    let handed = store
        .hand_out(
            structure.id,
            None,
            order.id,
            1,
            &InseeCode::parse("69123")?,
            &handout,
            now(),
        )
        .await?;
    Ok(format!("/structure/remises/{}", handed.id))
}

/// A session for each demo sign-in, by role.
async fn sessions(
    store: &Store,
) -> anyhow::Result<std::collections::HashMap<&'static str, String>> {
    let mut cookies = std::collections::HashMap::new();
    for (email, _, _) in crate::demo::DEMO_STAFF {
        let (member, _) = store
            .staff_for_sign_in(email)
            .await?
            .context("demo staff")?;
        cookies.insert(
            member.actor.role().as_str(),
            store.create_session(member.id, now(), 3_600_000).await?,
        );
    }
    Ok(cookies)
}

/// What a browser downloads for the scan page until the first scan, measured over HTTP as it is
/// served to a browser that accepts brotli and gzip: the page, its styles, the DSFR scripts,
/// the fonts, and the QR decoder a browser without `BarcodeDetector` loads when the camera opens.
async fn print_scan_weight(
    client: &reqwest::Client,
    base: &str,
    scan_html: usize,
) -> anyhow::Result<()> {
    let size = |path: String| async move {
        let resp = client
            .get(format!("{base}/static/{path}"))
            .header("accept-encoding", "br, gzip")
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 200, "{path}: {}", resp.status());
        anyhow::Ok(resp.bytes().await?.len())
    };
    let css = size("dsfr/css/dsfr.min.css".into()).await? + size("app/passnum.css".into()).await?;
    let mut js = 0;
    for f in [
        "app/scan.js",
        "dsfr/js/core.module.min.js",
        "dsfr/js/modal.module.min.js",
        "dsfr/js/navigation.module.min.js",
        "dsfr/js/header.module.min.js",
    ] {
        js += size(f.into()).await?;
    }
    let decoder = size("vendor/jsqr/jsQR.min.js".into()).await?;
    let mut fonts = 0;
    for f in ["Marianne-Regular", "Marianne-Medium", "Marianne-Bold"] {
        fonts += size(format!("dsfr/fonts/{f}.woff2")).await?;
    }
    println!();
    println!(
        "Scan page weight until the first scan (brotli or gzip): HTML {scan_html} B (uncompressed) + CSS {css} B + JS {js} B + fonts {fonts} B + QR decoder {decoder} B = {} KB",
        (scan_html + css + js + fonts + decoder) / 1024
    );
    Ok(())
}
