//! passnum on the public internet, over real HTTP on SQLite and PostgreSQL: sign-in throttling
//! that parallel requests cannot bypass and that cannot lock the owner out, deployment over
//! HTTPS (host-only secure cookies, HSTS), security headers, links built from the configured
//! address.

mod common;

use common::*;
use passnum_store::Actor;
use passnum_store::testing::TestEngine;
use passnum_web::AppState;
use reqwest::Client;

const PASSWORD: &str = "une phrase de passe assez longue";

fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A CSRF cookie and its form token, as a browser holds them.
async fn csrf_of(app: &TestApp, client: &Client, cookie_name: &str) -> String {
    let r = client.get(app.url("/connexion")).send().await.unwrap();
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let token = field(&r.text().await.unwrap(), "csrf");
    assert!(set.starts_with(&format!("{cookie_name}={token};")), "{set}");
    token
}

async fn post_sign_in(
    app: &TestApp,
    client: &Client,
    cookie: &str,
    csrf: &str,
    from: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/connexion"))
        .header("cookie", format!("{cookie}={csrf}"))
        .header("x-forwarded-for", from)
        .form(&[
            ("email", "op@passnum.fr"),
            ("password", password),
            ("csrf", csrf),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap()
}

async fn operator_account(app: &TestApp) {
    let hash = passnum_app::passwords::hash_password(PASSWORD.into())
        .await
        .unwrap();
    app.store()
        .create_staff("op@passnum.fr", "Opératrice", &hash, Actor::Operator, t0())
        .await
        .unwrap();
}

/// Many password checks allowed at once, so that only the attempt count stops a burst.
async fn wide_app(engine: TestEngine) -> TestApp {
    TestApp::spawn_with(engine, |mut s: AppState| {
        s.shared_mut().password_checks = passnum_app::sign_in::PasswordChecks::new(64);
        s
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_sqlite() {
    parallel_wrong_passwords(wide_app(TestEngine::Sqlite).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_postgres() {
    parallel_wrong_passwords(wide_app(TestEngine::Postgres).await).await
}

/// 150 parallel wrong passwords for one account get five checks, and the owner still signs in.
async fn parallel_wrong_passwords(app: TestApp) {
    {
        operator_account(&app).await;
        let client = no_redirects();
        let csrf = csrf_of(&app, &client, "passnum_csrf").await;
        let attacker = "203.0.113.5";
        let tries: Vec<_> = (0..150)
            .map(|i| {
                let (app_url, client, csrf) = (app.url("/connexion"), client.clone(), csrf.clone());
                tokio::spawn(async move {
                    client
                        .post(app_url)
                        .header("cookie", format!("passnum_csrf={csrf}"))
                        .header("x-forwarded-for", attacker)
                        .form(&[
                            ("email", "op@passnum.fr"),
                            ("password", &format!("essai {i}")),
                            ("csrf", &csrf),
                            ("next", ""),
                        ])
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut checked = 0;
        for t in tries {
            match t.await.unwrap() {
                422 => checked += 1,
                429 => {}
                other => panic!("status {other}"),
            }
        }
        assert!(checked <= 5, "{checked} password checks");
        // Going on one by one, the client never gets more than five checks in all (fewer when
        // the burst's attempts, each recorded before its count, already fill the window).
        loop {
            match post_sign_in(
                &app,
                &client,
                "passnum_csrf",
                &csrf,
                attacker,
                "encore faux",
            )
            .await
            .status()
            .as_u16()
            {
                422 => checked += 1,
                429 => break,
                other => panic!("status {other}"),
            }
        }
        assert!(checked <= 5, "{checked} password checks");
        // The attacker's client is held, even with the right password…
        let r = post_sign_in(&app, &client, "passnum_csrf", &csrf, attacker, PASSWORD).await;
        assert_eq!(r.status(), 429);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Trop de tentatives pour ce compte")
        );
        // …but the owner, elsewhere, is not locked out.
        let r = post_sign_in(
            &app,
            &client,
            "passnum_csrf",
            &csrf,
            "198.51.100.9",
            PASSWORD,
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/operateur");
    }
}

api_test! {
    async fn one_client_cannot_spray_passwords_over_many_accounts(app) {
        let client = no_redirects();
        let csrf = csrf_of(&app, &client, "passnum_csrf").await;
        let mut statuses = Vec::new();
        for i in 0..22 {
            let r = client
                .post(app.url("/connexion"))
                .header("cookie", format!("passnum_csrf={csrf}"))
                .header("x-forwarded-for", "203.0.113.77")
                .form(&[("email", format!("inconnu{i}@exemple.fr").as_str()), ("password", "essai"), ("csrf", &csrf), ("next", "")])
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 20, "{statuses:?}");
        assert_eq!(&statuses[20..], [429, 429]);
    }
}

api_test! {
    async fn password_links_use_the_configured_address_never_the_host_header(app) {
        operator_account(&app).await;
        let client = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let html = client.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
        let csrf = field(&html, "csrf");
        let r = client.post(app.url("/connexion"))
            .form(&[("email", "op@passnum.fr"), ("password", PASSWORD), ("csrf", &csrf), ("next", "")])
            .send().await.unwrap();
        assert_eq!(r.status(), 303);
        // Signed in, the forms carry a token derived from the session: read it from the page.
        let page = client.get(app.url("/operateur/comptes")).send().await.unwrap().text().await.unwrap();
        let signed_in_csrf = field(&page, "csrf");
        assert_ne!(signed_in_csrf, csrf, "the token changes with the session");
        // The CSRF cookie's value (which a double-submit check would accept, and which an
        // attacker able to set cookies would choose) no longer passes once signed in.
        let r = client
            .post(app.url("/operateur/comptes"))
            .form(&[("email", "intrus@passnum.fr"), ("name", "Intrus"), ("role", "operator"), ("org", ""), ("csrf", &csrf)])
            .send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(app.store().staff_for_sign_in("intrus@passnum.fr").await.unwrap().is_none());
        let html = client
            .post(app.url("/operateur/comptes"))
            .header("host", "evil.example")
            .form(&[("email", "nouvelle@passnum.fr"), ("name", "Nouvelle"), ("role", "operator"), ("org", ""), ("csrf", &signed_in_csrf)])
            .send().await.unwrap().text().await.unwrap();
        assert!(html.contains("http://pass.example.test/mot-de-passe/"), "{html}");
        assert!(!html.contains("evil.example"));
    }
}

async fn https_app(engine: TestEngine) -> TestApp {
    TestApp::spawn_with(engine, |s: AppState| {
        s.with_public_url("https://pass.example.fr/")
    })
    .await
}

async fn over_https(app: TestApp) {
    operator_account(&app).await;
    let client = no_redirects();
    let r = client.get(app.url("/connexion")).send().await.unwrap();
    let h = r.headers().clone();
    assert_eq!(
        h["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        !h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
    let set = h["set-cookie"].to_str().unwrap();
    assert!(
        set.starts_with("__Host-passnum_csrf=") && set.ends_with("; Secure"),
        "{set}"
    );
    let csrf = field(&r.text().await.unwrap(), "csrf");
    // A plain cookie, which a sibling sub-domain could set, is not believed over HTTPS.
    let r = post_sign_in(
        &app,
        &client,
        "passnum_csrf",
        &csrf,
        "198.51.100.1",
        PASSWORD,
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post_sign_in(
        &app,
        &client,
        "__Host-passnum_csrf",
        &csrf,
        "198.51.100.1",
        PASSWORD,
    )
    .await;
    assert_eq!(r.status(), 303);
    let session = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        session.starts_with("__Host-passnum_session=")
            && session.contains("HttpOnly")
            && session.ends_with("; Secure"),
        "{session}"
    );
    let token = session
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap();
    let r = client
        .get(app.url("/operateur"))
        .header("cookie", format!("__Host-passnum_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    // Static files keep their own caching.
    let r = client
        .get(app.url("/static/app/passnum.css"))
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["cache-control"], "no-store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_https_cookies_are_host_only_and_secure_sqlite() {
    over_https(https_app(TestEngine::Sqlite).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_https_cookies_are_host_only_and_secure_postgres() {
    over_https(https_app(TestEngine::Postgres).await).await
}

/// Stopped while redemptions are in flight: every redemption the server committed was
/// answered; what got no answer was not committed; the server then stops and refuses new
/// connections.
async fn stop_with_redemptions_in_flight(mut app: TestApp) {
    // Two programmes (two funders, two venues): 40 cheques, 40 clients at once.
    let a = programme(&app, "Métropole", "21690123100011").await;
    let b = programme(&app, "Département", "21692660000000").await;
    let work: Vec<(String, String)> = a
        .codes
        .iter()
        .map(|c| (c.grouped(), a.venue_token.clone()))
        .chain(b.codes.iter().map(|c| (c.grouped(), b.venue_token.clone())))
        .collect();
    let total = work.len();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(code, token)| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/redemptions"));
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&serde_json::json!({"code": code, "service_code": "2.1.07"}))
                    .send()
                    .await;
                (code, r.map(|r| r.status().as_u16()))
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let before = std::time::Instant::now();
    app.stop().await.unwrap();
    assert!(
        before.elapsed() < passnum_web::server::SHUTDOWN_GRACE,
        "stopped in {:?}",
        before.elapsed()
    );
    let mut answered = 0;
    for t in tasks {
        let (code, outcome) = t.await.unwrap();
        let redeemed = app
            .store()
            .cheque_status(&passnum_core::ChequeCode::parse(&code).unwrap(), None)
            .await
            .unwrap()
            .state
            == passnum_core::ChequeState::Redeemed;
        match outcome {
            Ok(201) => {
                answered += 1;
                assert!(redeemed, "{code} answered 201 but not redeemed");
            }
            Ok(other) => panic!("{code}: status {other}"),
            Err(_) => assert!(!redeemed, "{code} committed without its answer"),
        }
    }
    assert!(total >= 32, "{total} clients");
    println!("{answered} of {total} redemptions answered before the stop");
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "still accepting after the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_answers_every_committed_redemption_sqlite() {
    stop_with_redemptions_in_flight(TestApp::spawn(TestEngine::Sqlite).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_answers_every_committed_redemption_postgres() {
    stop_with_redemptions_in_flight(TestApp::spawn(TestEngine::Postgres).await).await
}

/// A client that opens a connection and never finishes its headers is cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(TestEngine::Sqlite).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(40), conn.read(&mut buf)).await;
    let n = read
        .expect("the server must close the connection")
        .unwrap_or(0);
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_secs(10),
        "closed after {waited:?}"
    );
    // Closed (0 bytes) or answered with an error status, never a normal answer.
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        n == 0 || text.starts_with("HTTP/1.1 408") || text.starts_with("HTTP/1.1 4"),
        "{text}"
    );
}

api_test! {
    async fn forms_from_another_site_are_refused_and_sign_out_always_ends_the_session(app) {
        operator_account(&app).await;
        let client = no_redirects();
        let csrf = csrf_of(&app, &client, "passnum_csrf").await;
        let sign_in_from = |site: Option<&'static str>, origin: Option<&'static str>| {
            let mut r = client
                .post(app.url("/connexion"))
                .header("cookie", format!("passnum_csrf={csrf}"))
                .form(&[("email", "op@passnum.fr"), ("password", PASSWORD), ("csrf", csrf.as_str()), ("next", "")]);
            if let Some(s) = site {
                r = r.header("sec-fetch-site", s);
            }
            if let Some(o) = origin {
                r = r.header("origin", o);
            }
            r.send()
        };
        for (site, origin) in [
            (Some("cross-site"), None),
            (Some("same-site"), None),
            (None, Some("https://evil.example")),
            (None, Some("null")),
        ] {
            let r = sign_in_from(site, origin).await.unwrap();
            assert_eq!(r.status(), 403, "{site:?} {origin:?}");
            assert!(r.text().await.unwrap().contains("envoyé depuis un autre site"));
        }
        // The same form from passnum itself goes through.
        let host = app.base.trim_start_matches("http://").to_string();
        let r = sign_in_from(Some("same-origin"), None).await.unwrap();
        assert_eq!(r.status(), 303);
        let own_origin: &'static str = Box::leak(format!("http://{host}").into_boxed_str());
        let r = sign_in_from(None, Some(own_origin)).await.unwrap();
        assert_eq!(r.status(), 303);
        let session = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        // A sign-out whose form token is wrong still ends the session on the server.
        let r = client
            .post(app.url("/deconnexion"))
            .header("cookie", format!("passnum_csrf={csrf}; {session}"))
            .form(&[("csrf", "faux")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = client.get(app.url("/operateur")).header("cookie", session.as_str()).send().await.unwrap();
        assert_eq!(r.status(), 303, "the old session cookie no longer signs in");
    }
}

api_test! {
    async fn browsers_get_pages_and_programs_get_json_for_unknown_addresses(app) {
        let client = no_redirects();
        let get = |path: &str, accept: &'static str| client.get(app.url(path)).header("accept", accept).send();
        let r = get("/nulle-part", "text/html,application/xhtml+xml").await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("Page introuvable"));
        let r = get("/deconnexion", "text/html").await.unwrap();
        assert_eq!(r.status(), 405);
        assert!(r.text().await.unwrap().contains("ouvre pas ainsi"));
        let (st, v) = json(get("/nulle-part", "application/json").await.unwrap()).await;
        assert_eq!((st, error_code(&v)), (404, "not_found"));
        let (st, v) = json(get("/api/v1/nulle-part", "text/html").await.unwrap()).await;
        assert_eq!((st, error_code(&v)), (404, "not_found"));
    }
}

api_test! {
    async fn pass_checks_are_limited_per_real_client_behind_the_proxy(app) {
        let client = no_redirects();
        let csrf = csrf_of(&app, &client, "passnum_csrf").await;
        let check = |from: String| {
            client
                .post(app.url("/verifier"))
                .header("cookie", format!("passnum_csrf={csrf}"))
                .header("x-forwarded-for", from)
                .form(&[("code", "ZCW53-NNKY9-666RS"), ("csrf", csrf.as_str())])
                .send()
        };
        // Behind the proxy every request comes from 127.0.0.1: the public does not share one
        // allowance…
        for i in 0..30 {
            assert_ne!(check(format!("198.51.100.{i}")).await.unwrap().status(), 429);
        }
        // …but one person still gets twenty checks a minute, then a sentence.
        let mut statuses = Vec::new();
        for _ in 0..22 {
            statuses.push(check("203.0.113.9".into()).await.unwrap().status().as_u16());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
        let r = check("203.0.113.9".into()).await.unwrap();
        assert!(r.text().await.unwrap().contains("Trop de vérifications depuis votre connexion"));
        app.clock.advance_ms(60_000);
        assert_ne!(check("203.0.113.9".into()).await.unwrap().status(), 429);
    }
}

api_test! {
    async fn oversized_addresses_and_headers_get_an_answer_that_says_which(app) {
        let client = no_redirects();
        let long = format!("/api/v1/pass/{}", "9".repeat(9 * 1024));
        let (st, v) = json(client.get(app.url(&long)).send().await.unwrap()).await;
        assert_eq!((st, error_code(&v)), (414, "uri_too_long"));
        let r = client.get(app.url(&format!("/verifier?q={}", "x".repeat(9 * 1024)))).header("accept", "text/html").send().await.unwrap();
        assert_eq!(r.status(), 414);
        assert!(r.text().await.unwrap().contains("Adresse trop longue"));
        // Cookies piled up by a browser: a page that says what to do.
        let cookie = format!("a={}", "c".repeat(33 * 1024));
        let r = client.get(app.url("/")).header("accept", "text/html").header("cookie", cookie.as_str()).send().await.unwrap();
        assert_eq!(r.status(), 431);
        assert!(r.text().await.unwrap().contains("Effacez les cookies"));
        let mut many = client.get(app.url("/api/v1/pass/1"));
        for i in 0..101 {
            many = many.header(format!("x-en-tete-{i}"), "1");
        }
        let (st, v) = json(many.send().await.unwrap()).await;
        assert_eq!((st, error_code(&v)), (431, "headers_too_large"));
        // Beyond what a connection buffers, it refuses on its own; the server goes on.
        let huge = format!("a={}", "c".repeat(200 * 1024));
        // (The client may still be writing when the refusal comes, and see a reset instead.)
        if let Ok(r) = client.get(app.url("/")).header("cookie", huge.as_str()).send().await {
            assert_eq!(r.status(), 431);
        }
        assert_eq!(client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    }
}

api_test! {
    async fn every_status_an_operation_answers_is_declared_in_the_openapi_document(app) {
        let _ = programme(&app, "Métropole", "21690123100011").await;
        let doc: serde_json::Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        let funder = app.token(Actor::Funder(passnum_core::FunderId(1))).await;
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let declared: Vec<&str> = op["responses"].as_object().unwrap().keys().map(String::as_str).collect();
                for id in ["1", "999999", "pas-un-nombre"] {
                    let url = app.url(&path.split('/').map(|seg| if seg.starts_with('{') { id } else { seg }).collect::<Vec<_>>().join("/"));
                    let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                    let tries: Vec<reqwest::RequestBuilder> = vec![
                        app.client.request(m.clone(), &url),
                        app.client.request(m.clone(), &url).bearer_auth(&app.operator).json(&serde_json::json!({})),
                        app.client.request(m.clone(), &url).bearer_auth(&funder).json(&serde_json::json!({"x": 1})),
                        app.client.request(m.clone(), &url).bearer_auth(&app.operator).header("content-type", "application/json").body("{pas du json"),
                        app.client.request(m.clone(), &url).bearer_auth(&app.operator).header("content-type", "text/plain").body("texte"),
                    ];
                    for t in tries {
                        let r = t.send().await.unwrap();
                        let status = r.status().as_u16().to_string();
                        assert!(declared.contains(&status.as_str()), "{method} {path} ({url}) answered {status}, declares {declared:?}");
                        assert!(r.status().as_u16() < 500, "{method} {url} answered {status}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 300, "{checked}");
    }
}

/// Readiness fails, with the check that fails, when the server has no signing key or the
/// database was migrated by a newer passnum; liveness does not (a restart would not help).
async fn readiness_says_which_check_fails(engine: TestEngine) {
    let app = TestApp::spawn_with(engine, |mut s: AppState| {
        s.shared_mut().signer = None;
        s
    })
    .await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/health+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (
            body["status"].as_str(),
            body["checks"]["keys:signing"][0]["status"].as_str()
        ),
        (Some("fail"), Some("fail")),
        "{body}"
    );
    assert_eq!(
        body["checks"]["database:migrations"][0]["status"], "pass",
        "{body}"
    );
    let newer = app.store().schema_state().await.unwrap().head + 1;
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)")
        .bind(newer)
        .execute(app.store().pool())
        .await
        .unwrap();
    let body: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["checks"]["database:migrations"][0]["status"], "fail",
        "{body}"
    );
    assert_eq!(
        body["checks"]["database:migrations"][0]["observedValue"], newer,
        "{body}"
    );
    assert_eq!(
        app.client
            .get(app.url("/livez"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readiness_says_which_check_fails_sqlite() {
    readiness_says_which_check_fails(TestEngine::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readiness_says_which_check_fails_postgres() {
    readiness_says_which_check_fails(TestEngine::Postgres).await
}
