//! ProConnect sign-in against a real OpenID provider (the npm package oidc-provider, set up like
//! ProConnect's integration environment: PKCE, client_secret_post, user info as a signed JWT,
//! the siret claim, sign-out at the provider), on both engines: an account is linked once by an
//! invitation whose e-mail matches, then found by the provider's subject; an unknown identity,
//! another e-mail, another organisation's SIRET, a forged state, a tampered nonce, a replayed
//! code and a wrong issuer are refused with a sentence, and nothing is linked or created.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use passnum_app::proconnect::{ProConnect, Settings};
use passnum_store::Actor;
use passnum_store::testing::TestEngine;
use reqwest::{Client, Response};

const PUBLIC: &str = "http://pass.example.test";
const SECRET: &str = "un-secret-de-client-de-test";

struct Provider {
    child: Child,
    base: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider() -> Provider {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(
        repo.join("e2e/node_modules/oidc-provider").exists(),
        "oidc-provider est nécessaire : lancez ./scripts/test.sh, ou `cd e2e && npm ci`"
    );
    let child = Command::new("node")
        .arg(repo.join("e2e/oidc/provider.mjs"))
        .args([&port.to_string(), "passnum", SECRET])
        .arg(format!("{PUBLIC}/connexion/proconnect/retour"))
        .arg(format!("{PUBLIC}/connexion"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "oidc-provider ne démarre pas");
        std::thread::sleep(Duration::from_millis(50));
    }
    Provider {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn settings(issuer: &str) -> Settings {
    Settings {
        issuer: issuer.into(),
        client_id: "passnum".into(),
        client_secret: SECRET.into(),
        public_url: PUBLIC.into(),
    }
}

async fn app(engine: TestEngine, op: &Provider) -> TestApp {
    let pc = ProConnect::discover(&settings(&op.base)).await.unwrap();
    TestApp::spawn_with(engine, move |s| s.with_proconnect(pc)).await
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The provider's address as the browser goes there; passnum's public address mapped to the
/// test server (as a reverse proxy would).
fn local(app: &TestApp, url: &str) -> String {
    url.replace(PUBLIC, &app.base)
}

/// Goes to the provider from `start` (a passnum path), signs in there as `subject`, and returns
/// the provider's redirect back to passnum (not yet followed).
async fn at_provider(
    app: &TestApp,
    op: &Provider,
    browser: &Client,
    start: &str,
    subject: &str,
) -> String {
    let r = browser.get(app.url(start)).send().await.unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let mut url = location(&r);
    assert!(url.starts_with(&format!("{}/auth?", op.base)), "{url}");
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("nonce="),
        "{url}"
    );
    for _ in 0..10 {
        let r = browser.get(&url).send().await.unwrap();
        if r.status().is_redirection() {
            let next = location(&r);
            let next = if next.starts_with('/') {
                format!("{}{next}", op.base)
            } else {
                next
            };
            if next.starts_with(PUBLIC) {
                return next;
            }
            url = next;
            continue;
        }
        // The provider's sign-in form: its subject.
        let html = r.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let action = if action.starts_with('/') {
            format!("{}{action}", op.base)
        } else {
            action
        };
        let r = browser
            .post(action)
            .form(&[("prompt", "login"), ("login", subject), ("password", "x")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{:?}", r.text().await);
        let next = location(&r);
        url = if next.starts_with('/') {
            format!("{}{next}", op.base)
        } else {
            next
        };
    }
    panic!("the provider never sent the browser back");
}

async fn back(app: &TestApp, browser: &Client, callback: &str) -> (u16, String, Option<String>) {
    let r = browser.get(local(app, callback)).send().await.unwrap();
    let status = r.status().as_u16();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    (status, r.text().await.unwrap(), to)
}

/// A new browser through the provider as `subject` from `start`, and back to passnum.
async fn round_trip(
    app: &TestApp,
    op: &Provider,
    start: &str,
    subject: &str,
) -> (u16, String, Option<String>) {
    let b = browser();
    let cb = at_provider(app, op, &b, start, subject).await;
    back(app, &b, &cb).await
}

async fn invitation(app: &TestApp, email: &str, actor: Actor) -> (i64, String) {
    let m = app
        .store()
        .create_staff(email, "Invité", "!aucun-mot-de-passe", actor, t0())
        .await
        .unwrap();
    (
        m.id,
        app.store()
            .create_password_reset(m.id, t0(), 72 * 3_600_000)
            .await
            .unwrap(),
    )
}

async fn linked(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE oidc_subject IS NOT NULL")
        .fetch_one(app.store().pool())
        .await
        .unwrap()
}

async fn run(engine: TestEngine) {
    let op = provider();
    let app = app(engine, &op).await;
    let venue = venue(
        app.store(),
        "21690123000005",
        "Médiathèque de Lyon",
        "69123",
    )
    .await;
    let staff_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff")
        .fetch_one(app.store().pool())
        .await
        .unwrap();

    // The sign-in page offers ProConnect.
    let html = browser()
        .get(app.url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/connexion/proconnect\""), "{html}");

    // An identity no account is linked to, without invitation: refused, nothing created.
    let b = browser();
    let cb = at_provider(&app, &op, &b, "/connexion/proconnect", "sub-awa").await;
    let (status, html, _) = back(&app, &b, &cb).await;
    assert_eq!(status, 403, "{html}");
    assert!(
        html.contains("Aucun compte passnum n&#39;est relié à cette identité ProConnect"),
        "{html}"
    );
    let staff_now: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!((staff_now, linked(&app).await), (staff_before, 0));

    // Invited: the invitation page offers ProConnect; the identity is linked, the person is in.
    let (awa, token) = invitation(&app, "AWA@lyon.fr", Actor::Venue(venue.id)).await;
    let page = browser()
        .get(app.url(&format!("/mot-de-passe/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/connexion/proconnect?invitation={token}")),
        "{page}"
    );
    let b = browser();
    let cb = at_provider(
        &app,
        &op,
        &b,
        &format!("/connexion/proconnect?invitation={token}"),
        "sub-awa",
    )
    .await;
    assert!(
        cb.contains("iss="),
        "the provider names itself (RFC 9207): {cb}"
    );
    let (status, html, to) = back(&app, &b, &cb).await;
    assert_eq!((status, to.as_deref()), (303, Some("/lieu")), "{html}");
    let home = b.get(app.url("/lieu")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert_eq!(linked(&app).await, 1);
    assert!(
        !app.store()
            .password_reset_valid(&token, t0())
            .await
            .unwrap(),
        "the invitation is used"
    );
    // The same answer replayed: its state was used.
    let (status, html, _) = back(&app, &browser(), &cb).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("recommencez depuis la page de connexion"),
        "{html}"
    );
    let (status, _, _) = back(&app, &b, &cb).await;
    assert_eq!(status, 400, "even from the same browser");

    // Next time, no invitation needed; signing out goes through the provider.
    let b = browser();
    let cb = at_provider(&app, &op, &b, "/connexion/proconnect", "sub-awa").await;
    assert_eq!(back(&app, &b, &cb).await.2.as_deref(), Some("/lieu"));
    let html = b
        .get(app.url("/lieu"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field(&html, "csrf");
    let out = b
        .post(app.url("/deconnexion"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    // A page that goes on to the provider (a redirect would break the form's CSP form-action).
    assert_eq!(out.status(), 200);
    let page = out.text().await.unwrap();
    assert!(page.contains("Vous êtes déconnecté de passnum"), "{page}");
    let to = page
        .split("url=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        to.starts_with(&format!("{}/session/end?", op.base)) && to.contains("id_token_hint="),
        "{to}"
    );
    assert!(
        to.contains("post_logout_redirect_uri=http%3A%2F%2Fpass.example.test%2Fconnexion"),
        "{to}"
    );
    assert_eq!(
        b.get(app.url("/lieu")).send().await.unwrap().status(),
        303,
        "signed out of passnum"
    );

    // Another e-mail than the invitation's: refused, the invitation still usable.
    let (ben, token) = invitation(&app, "ben@lyon.fr", Actor::Venue(venue.id)).await;
    let (status, html, _) = round_trip(
        &app,
        &op,
        &format!("/connexion/proconnect?invitation={token}"),
        "sub-carla",
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        html.contains("n&#39;est pas celle de l&#39;invitation"),
        "{html}"
    );
    assert!(
        app.store()
            .password_reset_valid(&token, t0())
            .await
            .unwrap()
    );
    // Another establishment of the same town (same SIREN): accepted.
    assert_eq!(
        round_trip(
            &app,
            &op,
            &format!("/connexion/proconnect?invitation={token}"),
            "sub-ben"
        )
        .await
        .2
        .as_deref(),
        Some("/lieu")
    );
    assert_eq!(linked(&app).await, 2);
    let by_subject = |sub: &str| format!("{} {sub}", op.base);
    let ben_linked = app
        .store()
        .staff_by_oidc_subject(&by_subject("sub-ben"))
        .await
        .unwrap()
        .unwrap();
    let awa_linked = app
        .store()
        .staff_by_oidc_subject(&by_subject("sub-awa"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ben_linked.id, awa_linked.id),
        (ben, awa),
        "each identity to its invited account"
    );

    // An agent of another organisation (its SIRET): refused before anything is linked.
    let (_, token) = invitation(&app, "dan@lyon.fr", Actor::Venue(venue.id)).await;
    let (status, html, _) = round_trip(
        &app,
        &op,
        &format!("/connexion/proconnect?invitation={token}"),
        "sub-dan",
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        html.contains(
            "rattachée à une autre organisation que Médiathèque de Lyon (SIRET 21690123000005)"
        ),
        "{html}"
    );
    assert_eq!(linked(&app).await, 2);

    // The operator has no SIRET to compare: linked by invitation.
    let (_, token) = invitation(&app, "eve@operateur.fr", Actor::Operator).await;
    assert_eq!(
        round_trip(
            &app,
            &op,
            &format!("/connexion/proconnect?invitation={token}"),
            "sub-eve"
        )
        .await
        .2
        .as_deref(),
        Some("/operateur")
    );

    // A tampered nonce (the ID token's no longer matches): refused.
    let b = browser();
    let cb = at_provider(&app, &op, &b, "/connexion/proconnect", "sub-awa").await;
    sqlx::query("UPDATE oidc_logins SET nonce = 'autre'")
        .execute(app.store().pool())
        .await
        .unwrap();
    let (status, html, _) = back(&app, &b, &cb).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("ProConnect n&#39;a pas pu confirmer votre identité"),
        "{html}"
    );

    // A code used once, replayed with a new sign-in's state: the provider refuses it.
    let b = browser();
    let first = at_provider(&app, &op, &b, "/connexion/proconnect", "sub-awa").await;
    assert_eq!(back(&app, &b, &first).await.0, 303);
    let second = at_provider(&app, &op, &b, "/connexion/proconnect", "sub-awa").await;
    let code = |u: &str| {
        u.split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string()
    };
    let forged = second.replace(&code(&second), &code(&first));
    let (status, _, _) = back(&app, &b, &forged).await;
    assert_eq!(status, 400);

    // An answer that names another issuer (a mix-up between providers): refused.
    let b = browser();
    let cb = at_provider(&app, &op, &b, "/connexion/proconnect", "sub-awa").await;
    let (status, _, _) = back(
        &app,
        &b,
        &cb.replace(
            "iss=http%3A%2F%2F127.0.0.1",
            "iss=http%3A%2F%2Fautre.example",
        ),
    )
    .await;
    assert_eq!(status, 400);

    // A state from another browser (a link made to sign someone into another's account).
    let attacker = browser();
    let cb = at_provider(&app, &op, &attacker, "/connexion/proconnect", "sub-awa").await;
    let (status, _, _) = back(&app, &browser(), &cb).await;
    assert_eq!(status, 400);

    // A client that starts sign-ins without end is stopped (20 in 10 minutes), others are not.
    let flood = browser();
    let mut refused = 0;
    for _ in 0..22 {
        let r = flood
            .get(app.url("/connexion/proconnect"))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            refused += 1;
            assert!(
                r.text()
                    .await
                    .unwrap()
                    .contains("réessayez dans dix minutes")
            );
        }
    }
    assert_eq!(refused, 2);
    let other = browser()
        .get(app.url("/connexion/proconnect"))
        .header("x-forwarded-for", "203.0.113.10")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 303);

    // A wrong issuer is found at start: the discovery document names another.
    let wrong = ProConnect::discover(&settings(&op.base.replace("127.0.0.1", "localhost"))).await;
    assert!(matches!(
        wrong,
        Err(passnum_app::proconnect::OidcError::Discovery(..))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    run(TestEngine::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    run(TestEngine::Postgres).await
}
