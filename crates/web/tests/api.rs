//! The JSON API, end to end over real HTTP, on SQLite and PostgreSQL.

mod common;

use common::*;
use passnum_store::Actor;
use serde_json::json;

const SIRET_A: &str = "21690123000005";
const SIRET_B: &str = "21692660000000";

api_test! {
    async fn a_funder_orders_a_venue_redeems_the_ledger_shows_who_owes_what(app) {
        let op = app.operator.clone();
        // The operator registers a funder and a venue.
        let (st, funder) = json(app.post(&op, "/api/v1/funders", &json!({"name": "Département du Rhône", "kind": "departement"})).await).await;
        assert_eq!(st, 201, "{funder}");
        let (st, v) = json(app.post(&op, "/api/v1/venues", &json!({
            "siret": "216 901 230 00005", "name": "Médiathèque", "commune_insee": "69123", "status": "qualified"
        })).await).await;
        assert_eq!((st, error_code(&v)), (409, "empty_catalogue"), "a venue is qualified with its catalogue");
        let (st, venue) = json(app.post(&op, "/api/v1/venues", &json!({
            "siret": "216 901 230 00005", "name": "Médiathèque", "commune_insee": "69123", "status": "qualified",
            "services": ["2.1.07", "1.1.01"]
        })).await).await;
        assert_eq!(st, 201, "{venue}");
        let funder_id = funder["id"].as_i64().unwrap();
        let venue_id = venue["id"].as_i64().unwrap();
        let ft = app.token(passnum_store::Actor::Funder(passnum_core::FunderId(funder_id))).await;
        let vt = app.token(passnum_store::Actor::Venue(passnum_core::VenueId(venue_id))).await;
        // The funder orders 3 booklets of 10 × 10 €.
        let (st, order) = json(app.post(&ft, "/api/v1/orders", &json!({
            "booklet_count": 3, "valid_from": "2026-01-01", "valid_until": "2026-12-31",
            "perimeter": {"departements": ["69"]}
        })).await).await;
        assert_eq!(st, 201, "{order}");
        assert_eq!(order["total_cents"], 30_000);
        assert_eq!((order["status"].as_str(), order["counts"]["issued"].as_i64()), (Some("draft"), Some(0)));
        let order_id = order["id"].as_i64().unwrap();
        // draft → confirmed (the funder) → paid, issued (the operator only).
        let step = |token: String, step: &'static str| {
            let (client, url) = (app.client.clone(), app.url(&format!("/api/v1/orders/{order_id}/{step}")));
            async move { json(client.post(url).bearer_auth(token).send().await.unwrap()).await }
        };
        let (st, v) = step(ft.clone(), "issue").await;
        assert_eq!((st, error_code(&v)), (403, "forbidden"));
        let (st, v) = step(op.clone(), "issue").await;
        assert_eq!((st, error_code(&v)), (409, "order_state"), "{v}");
        let (st, v) = step(ft.clone(), "confirm").await;
        assert_eq!((st, v["status"].as_str()), (200, Some("confirmed")), "{v}");
        let (st, v) = step(ft.clone(), "confirm").await;
        assert_eq!((st, error_code(&v)), (409, "order_state"), "confirming twice: {v}");
        let (st, v) = step(ft.clone(), "payment").await;
        assert_eq!((st, error_code(&v)), (403, "forbidden"));
        let (_, fb) = json(app.get(&ft, "/api/v1/ledger/balances").await).await;
        assert_eq!(fb[0]["balance_cents"], 0, "nothing held before payment");
        let (st, v) = step(op.clone(), "payment").await;
        assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");
        let (st, v) = step(ft.clone(), "cancel").await;
        assert_eq!((st, error_code(&v)), (409, "order_state"), "a paid order is not cancelled");
        let (st, order) = step(op.clone(), "issue").await;
        assert_eq!((st, order["status"].as_str()), (200, Some("issued")), "{order}");
        assert_eq!(order["counts"]["issued"], 30);
        // Its cheques, page by page.
        let (_, page) = json(app.get(&ft, &format!("/api/v1/orders/{order_id}/cheques?limit=20")).await).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 20);
        let after = page["next_after"].as_i64().unwrap();
        let (_, page2) = json(app.get(&ft, &format!("/api/v1/orders/{order_id}/cheques?limit=20&after={after}")).await).await;
        assert_eq!(page2["items"].as_array().unwrap().len(), 10);
        assert!(page2["next_after"].is_null());
        let code = page["items"][0]["code"].as_str().unwrap().to_string();
        // The venue checks, then redeems, typing the code in lower case with spaces.
        let (st, status) = json(app.get(&vt, &format!("/api/v1/cheques/{code}")).await).await;
        assert_eq!((st, status["state"].as_str()), (200, Some("issued")));
        let typed = code.to_lowercase().replace('-', " ");
        let (st, r) = json(app.post(&vt, "/api/v1/redemptions", &json!({"code": typed, "service_code": "2.1.07"})).await).await;
        assert_eq!(st, 201, "{r}");
        assert_eq!(r["amount"], "10,00\u{a0}€");
        assert_eq!(r["cheque_code"], code);
        // The ledger: the funder holds 290 €, the venue is owed 10 €, the books balance.
        let (_, fb) = json(app.get(&ft, "/api/v1/ledger/balances").await).await;
        assert_eq!(fb[0]["balance_cents"], 29_000);
        let (_, vb) = json(app.get(&vt, "/api/v1/ledger/balances").await).await;
        assert_eq!(vb[0]["balance_cents"], 1000);
        let (st, tb) = json(app.get(&op, "/api/v1/ledger/trial-balance").await).await;
        assert_eq!((st, tb["balanced"].as_bool(), tb["total_cents"].as_i64()), (200, Some(true), Some(0)));
        let (_, o) = json(app.get(&ft, &format!("/api/v1/orders/{order_id}")).await).await;
        assert_eq!((o["counts"]["issued"].as_i64(), o["counts"]["redeemed"].as_i64()), (Some(29), Some(1)));
    }
}

api_test! {
    async fn thirty_two_parallel_http_redemptions_of_one_cheque_succeed_once(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let code = p.codes[0].grouped();
        let mut tasks = vec![];
        for _ in 0..48 {
            let (client, url, token, code) = (app.client.clone(), app.url("/api/v1/redemptions"), p.venue_token.clone(), code.clone());
            tasks.push(tokio::spawn(async move {
                client.post(url).bearer_auth(token).json(&json!({"code": code, "service_code": "2.1.07"})).send().await.unwrap().status().as_u16()
            }));
        }
        let mut statuses = vec![];
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 47, "{statuses:?}");
        let (_, vb) = json(app.get(&p.venue_token, "/api/v1/ledger/balances").await).await;
        assert_eq!(vb[0]["balance_cents"], 1000);
    }
}

api_test! {
    async fn an_idempotency_key_replays_the_first_answer_and_changes_nothing(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let send = |code: String, key: &'static str| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/redemptions"), p.venue_token.clone());
            async move {
                client.post(url).bearer_auth(token).header("Idempotency-Key", key)
                    .json(&json!({"code": code, "service_code": "2.1.07"})).send().await.unwrap()
            }
        };
        let first = send(p.codes[0].grouped(), "k-1").await;
        assert_eq!(first.status(), 201);
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first_body = first.text().await.unwrap();
        // The retry, formatted differently but the same request.
        let retry = send(p.codes[0].as_compact().to_lowercase(), "k-1").await;
        assert_eq!(retry.status(), 201);
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        assert_eq!(retry.text().await.unwrap(), first_body);
        // Same key, another cheque: refused, and that cheque stays unused.
        let (st, v) = json(send(p.codes[1].grouped(), "k-1").await).await;
        assert_eq!((st, error_code(&v)), (422, "idempotency_key_reused"));
        let (_, s) = json(app.get(&p.venue_token, &format!("/api/v1/cheques/{}", p.codes[1])).await).await;
        assert_eq!(s["state"], "issued");
        let (_, list) = json(app.get(&p.venue_token, "/api/v1/redemptions").await).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        // A refused request is replayed as the same refusal.
        let (st1, v1) = json(send(p.codes[0].grouped(), "k-2").await).await;
        let (st2, v2) = json(send(p.codes[0].grouped(), "k-2").await).await;
        assert_eq!((st1, st2), (409, 409));
        assert_eq!(v1, v2);
        // A malformed key is refused.
        let r = app.client.post(app.url("/api/v1/redemptions")).bearer_auth(&p.venue_token).header("Idempotency-Key", "")
            .json(&json!({"code": p.codes[2].grouped(), "service_code": "2.1.07"})).send().await.unwrap();
        let (st, v) = json(r).await;
        assert_eq!((st, error_code(&v)), (400, "invalid_idempotency_key"));
    }
}

api_test! {
    async fn rollback_through_the_api(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let (_, r) = json(app.post(&p.venue_token, "/api/v1/redemptions", &json!({"code": p.codes[0].grouped(), "service_code": "2.1.07"})).await).await;
        let id = r["id"].as_i64().unwrap();
        let other = venue(app.store(), SIRET_B, "Autre lieu", "69266").await;
        let other_token = app.token(passnum_store::Actor::Venue(other.id)).await;
        let (st, v) = json(app.post(&other_token, &format!("/api/v1/redemptions/{id}/rollback"), &json!({})).await).await;
        assert_eq!((st, error_code(&v)), (404, "redemption_unknown"));
        let (st, v) = json(app.post(&p.venue_token, &format!("/api/v1/redemptions/{id}/rollback"), &json!({})).await).await;
        assert_eq!(st, 200, "{v}");
        assert!(v["rolled_back_at"].is_string());
        let (st, v) = json(app.post(&p.venue_token, &format!("/api/v1/redemptions/{id}/rollback"), &json!({})).await).await;
        assert_eq!((st, error_code(&v)), (409, "redemption_already_cancelled"));
        // Redeemed again, then too late to cancel.
        let (_, r) = json(app.post(&p.venue_token, "/api/v1/redemptions", &json!({"code": p.codes[0].grouped(), "service_code": "2.1.07"})).await).await;
        app.clock.advance_ms(25 * 3_600_000);
        let (st, v) = json(app.post(&p.venue_token, &format!("/api/v1/redemptions/{}/rollback", r["id"]), &json!({})).await).await;
        assert_eq!((st, error_code(&v)), (409, "rollback_window_closed"));
    }
}

api_test! {
    async fn each_actor_sees_only_its_own(app) {
        let a = programme(&app, "Métropole A", SIRET_A).await;
        let b = programme(&app, "Métropole B", SIRET_B).await;
        let (st, _) = json(app.post(&a.venue_token, "/api/v1/redemptions", &json!({"code": a.codes[0].grouped(), "service_code": "2.1.07"})).await).await;
        assert_eq!(st, 201);
        // Venue B sees none of venue A's redemptions.
        let (_, list) = json(app.get(&b.venue_token, "/api/v1/redemptions").await).await;
        assert!(list.as_array().unwrap().is_empty());
        let (_, list) = json(app.get(&a.venue_token, "/api/v1/redemptions").await).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        // Funder B cannot see funder A's order, nor tell A's cheque from a code that does not exist.
        let (st, v) = json(app.get(&b.funder_token, &format!("/api/v1/orders/{}", a.order.id)).await).await;
        assert_eq!((st, error_code(&v)), (404, "not_found"));
        let (st1, theirs) = json(app.get(&b.funder_token, &format!("/api/v1/cheques/{}", a.codes[1])).await).await;
        let ghost = passnum_core::ChequeCode::generate(&mut rand_code());
        let (st2, none) = json(app.get(&b.funder_token, &format!("/api/v1/cheques/{ghost}")).await).await;
        assert_eq!((st1, st2), (404, 404));
        assert_eq!(theirs, none);
        let (_, orders) = json(app.get(&b.funder_token, "/api/v1/orders").await).await;
        assert_eq!(orders.as_array().unwrap().len(), 1);
        assert_eq!(orders[0]["id"], b.order.id.0);
        // Funder B sees only redemptions of its own cheques.
        let (_, list) = json(app.get(&b.funder_token, "/api/v1/redemptions").await).await;
        assert!(list.as_array().unwrap().is_empty());
        // Wrong roles are refused.
        for (token, method, path) in [
            (&a.venue_token, "POST", "/api/v1/funders"),
            (&a.funder_token, "POST", "/api/v1/venues"),
            (&a.funder_token, "POST", "/api/v1/redemptions"),
            (&a.venue_token, "GET", "/api/v1/orders"),
            (&a.funder_token, "GET", "/api/v1/ledger/trial-balance"),
        ] {
            let req = if method == "POST" { app.client.post(app.url(path)).json(&json!({})) } else { app.client.get(app.url(path)) };
            let (st, v) = json(req.bearer_auth(token).send().await.unwrap()).await;
            // The role is checked before the body is even parsed.
            assert_eq!((st, error_code(&v)), (403, "forbidden"), "{method} {path}");
        }
        // Funder B cannot order for funder A.
        let (st, v) = json(app.post(&b.funder_token, "/api/v1/orders", &json!({
            "funder_id": a.funder.id.0, "booklet_count": 1, "valid_from": "2026-01-01", "valid_until": "2026-12-31"
        })).await).await;
        assert_eq!((st, error_code(&v)), (403, "forbidden"));
        // No token, or a wrong one: denied by default.
        let (st, v) = json(app.client.get(app.url("/api/v1/orders")).send().await.unwrap()).await;
        assert_eq!((st, error_code(&v)), (401, "unauthenticated"));
        let (st, _) = json(app.get("pn_operator_forged", "/api/v1/funders").await).await;
        assert_eq!(st, 401);
    }
}

/// Sends only the headers of a huge POST and reads the answer, as a client would that waits
/// for the server before streaming (the server must answer without reading the body).
async fn oversized_post(
    base: &str,
    path: &str,
    token: &str,
    len: usize,
) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{{\"booklet_count\": "
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    let status: u16 = text[9..12].parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|_| panic!("{text}")),
    )
}

fn rand_code() -> rand::rngs::StdRng {
    rand::SeedableRng::seed_from_u64(42)
}

api_test! {
    async fn bad_input_gets_a_clear_4xx_and_writes_nothing(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let op = app.operator.clone();
        let order = |body: serde_json::Value| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/orders"), p.funder_token.clone());
            async move { json(client.post(url).bearer_auth(token).json(&body).send().await.unwrap()).await }
        };
        let base = json!({"booklet_count": 1, "valid_from": "2026-01-01", "valid_until": "2026-12-31"});
        let with = |k: &str, v: serde_json::Value| { let mut b = base.clone(); b[k] = v; b };
        let cases = vec![
            (with("booklet_count", json!(1_000_000_000)), 422, "invalid_order"),
            (with("booklet_count", json!(0)), 422, "invalid_order"),
            (with("booklet_count", json!(-5)), 422, "invalid_order"),
            (with("booklet_count", json!(1.5)), 422, "invalid_body"),
            (with("booklet_count", json!("dix")), 422, "invalid_body"),
            (with("booklet_count", json!(99999999999999999999u128 as f64)), 422, "invalid_body"),
            (with("face_value_cents", json!(0)), 422, "invalid_order"),
            (with("face_value_cents", json!(-1000)), 422, "invalid_order"),
            (with("cheques_per_booklet", json!(100_000)), 422, "invalid_order"),
            (with("valid_until", json!("2025-01-01")), 422, "invalid_order"),
            (with("valid_from", json!("01/01/2026")), 422, "invalid_date"),
            (with("tolerance_days", json!(-1)), 422, "invalid_order"),
            (with("perimeter", json!({"communes": ["6912"]})), 422, "invalid_order"),
            (with("perimeter", json!({"pays": ["FR"]})), 422, "invalid_body"),
            (with("surprise", json!(true)), 422, "invalid_body"),
            (json!({"valid_from": "2026-01-01", "valid_until": "2026-12-31"}), 422, "invalid_body"),
            (with("funder_id", json!(p.funder.id.0 + 1000)), 403, "forbidden"),
        ];
        for (body, status, code) in cases {
            let (st, v) = order(body.clone()).await;
            assert_eq!((st, error_code(&v)), (status, code), "{body}");
        }
        // The operator ordering for a funder that does not exist.
        let (st, v) = json(app.post(&op, "/api/v1/orders", &with("funder_id", json!(999_999))).await).await;
        assert_eq!((st, error_code(&v)), (422, "funder_unknown"));
        // Malformed JSON, wrong content type, a 10 MB body.
        let raw = |body: Vec<u8>, ct: &'static str| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/orders"), p.funder_token.clone());
            async move { json(client.post(url).bearer_auth(token).header("content-type", ct).body(body).send().await.unwrap()).await }
        };
        let (st, v) = raw(b"{\"booklet_count\": ".to_vec(), "application/json").await;
        assert_eq!((st, error_code(&v)), (400, "malformed_json"));
        let (st, v) = raw(b"booklet_count=1".to_vec(), "application/x-www-form-urlencoded").await;
        assert_eq!((st, error_code(&v)), (415, "unsupported_media_type"));
        // A 10 MB body is refused from its Content-Length, before the server reads it.
        let (st, v) = oversized_post(&app.base, "/api/v1/orders", &p.funder_token, 10 * 1024 * 1024).await;
        assert_eq!((st, error_code(&v)), (413, "body_too_large"));
        // A body just over the limit.
        // And the connection it came on is not reused for the next request.
        for _ in 0..5 {
            let (st, v) = raw(vec![b' '; 70 * 1024], "application/json").await;
            assert_eq!((st, error_code(&v)), (413, "body_too_large"));
            let (st, _) = json(app.get(&op, "/api/v1/orders").await).await;
            assert_eq!(st, 200);
        }
        // Unknown ids and paths.
        let (st, v) = json(app.get(&op, "/api/v1/orders/999999").await).await;
        assert_eq!((st, error_code(&v)), (404, "not_found"));
        let (st, v) = json(app.get(&op, "/api/v1/orders/abc").await).await;
        assert_eq!((st, error_code(&v)), (400, "invalid_path"));
        let (st, v) = json(app.get(&op, "/api/v1/nothing-here").await).await;
        assert_eq!((st, error_code(&v)), (404, "not_found"));
        let (st, v) = json(app.client.delete(app.url("/api/v1/orders")).bearer_auth(&op).send().await.unwrap()).await;
        assert_eq!((st, error_code(&v)), (405, "method_not_allowed"));
        let (st, v) = json(app.get(&op, "/api/v1/orders?limit=beaucoup").await).await;
        assert_eq!((st, error_code(&v)), (400, "invalid_query"));
        let (st, v) = json(app.post(&op, "/api/v1/venues/999999/status", &json!({"status": "qualified"})).await).await;
        assert_eq!((st, error_code(&v)), (404, "not_found"));
        // Venues: a bad SIRET, a taken SIRET, a bad commune.
        let (st, v) = json(app.post(&op, "/api/v1/venues", &json!({"siret": "12345678901234", "name": "X", "commune_insee": "69123"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_siret"));
        let (st, v) = json(app.post(&op, "/api/v1/venues", &json!({"siret": SIRET_A, "name": "X", "commune_insee": "69123"})).await).await;
        assert_eq!((st, error_code(&v)), (409, "siret_taken"));
        let (st, v) = json(app.post(&op, "/api/v1/venues", &json!({"siret": SIRET_B, "name": "X", "commune_insee": "1"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_commune"));
        let (st, v) = json(app.post(&op, "/api/v1/funders", &json!({"name": "  ", "kind": "commune"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_name"));
        // Redemptions: a typo caught by the check symbol, garbage, an unknown service.
        let mut typo = p.codes[0].as_compact().into_bytes();
        typo[3] = if typo[3] == b'7' { b'8' } else { b'7' };
        let typo = String::from_utf8(typo).unwrap();
        let (st, v) = json(app.post(&p.venue_token, "/api/v1/redemptions", &json!({"code": typo, "service_code": "2.1.07"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "code_check_failed"));
        assert!(v["error"]["message"].as_str().unwrap().starts_with("Une lettre du code semble fausse"));
        let (st, v) = json(app.post(&p.venue_token, "/api/v1/redemptions", &json!({"code": "n'importe quoi", "service_code": "2.1.07"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "code_malformed"));
        let (st, v) = json(app.post(&p.venue_token, "/api/v1/redemptions", &json!({"code": p.codes[0].grouped(), "service_code": "9.9.9"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "service_unknown"));
        let (st, v) = json(app.post(&p.venue_token, "/api/v1/redemptions/abc/rollback", &json!({})).await).await;
        assert_eq!((st, error_code(&v)), (400, "invalid_path"));
        // Nothing was half-written: still one order, no redemption, balanced books.
        let (_, orders) = json(app.get(&op, "/api/v1/orders").await).await;
        assert_eq!(orders.as_array().unwrap().len(), 1);
        let (_, reds) = json(app.get(&op, "/api/v1/redemptions").await).await;
        assert!(reds.as_array().unwrap().is_empty());
        let (_, tb) = json(app.get(&op, "/api/v1/ledger/trial-balance").await).await;
        assert_eq!(tb["balanced"], true);
        let (_, fb) = json(app.get(&p.funder_token, "/api/v1/ledger/balances").await).await;
        assert_eq!(fb[0]["balance_cents"], 20_000);
    }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_route() {
    let app = TestApp::spawn(passnum_store::testing::TestEngine::Sqlite).await;
    let r = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    let (st, doc) = json(r).await;
    assert_eq!(st, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/funders", "post"),
        ("/api/v1/funders", "get"),
        ("/api/v1/funders/{id}", "get"),
        ("/api/v1/orders", "post"),
        ("/api/v1/orders", "get"),
        ("/api/v1/orders/{id}", "get"),
        ("/api/v1/orders/{id}/cheques", "get"),
        ("/api/v1/venues", "post"),
        ("/api/v1/venues", "get"),
        ("/api/v1/venues/{id}", "get"),
        ("/api/v1/venues/{id}/status", "post"),
        ("/api/v1/redemptions", "post"),
        ("/api/v1/redemptions", "get"),
        ("/api/v1/redemptions/{id}/rollback", "post"),
        ("/api/v1/cheques/{code}", "get"),
        ("/api/v1/ledger/balances", "get"),
        ("/api/v1/ledger/trial-balance", "get"),
        ("/api/v1/services", "get"),
        ("/api/v1/venues/{id}/bank-accounts", "post"),
        (
            "/api/v1/venues/{id}/bank-accounts/{account_id}/confirm",
            "post",
        ),
        ("/api/v1/payment-runs/preview", "post"),
        ("/api/v1/payment-runs", "post"),
        ("/api/v1/payment-runs/{id}/confirm", "post"),
        ("/api/v1/payment-runs/{id}/cancel", "post"),
        ("/api/v1/orders/{id}/confirm", "post"),
        ("/api/v1/orders/{id}/payment", "post"),
        ("/api/v1/orders/{id}/issue", "post"),
        ("/api/v1/orders/{id}/cancel", "post"),
        ("/api/v1/orders/{id}/logo", "put"),
        ("/api/v1/orders/{id}/booklets/{number}/pdf", "get"),
        ("/api/v1/orders/{id}/letter/pdf", "get"),
        ("/.well-known/passnum-keys.json", "get"),
        ("/api/v1/payment-corrections", "post"),
        ("/api/v1/payment-corrections", "get"),
        ("/api/v1/stock", "get"),
        ("/api/v1/handouts", "post"),
        ("/api/v1/handouts", "get"),
        ("/api/v1/handouts/{id}/orientation", "get"),
        ("/api/v1/orders/{id}/handout-rules", "put"),
        ("/api/v1/orders/{id}/publics", "get"),
        ("/api/v1/orders/{id}/publics", "post"),
        ("/api/v1/orders/{id}/distribution-stats", "get"),
        ("/api/v1/venues/{id}/practical-info", "put"),
        ("/api/v1/venues/{id}/catalogue", "get"),
        ("/api/v1/venues/{id}/catalogue", "put"),
        ("/api/v1/handouts/{id}/block", "post"),
        ("/api/v1/directory", "get"),
        ("/api/v1/directory/{id}", "get"),
        ("/api/v1/services/{code}", "patch"),
        ("/api/v1/services/{code}", "put"),
        ("/api/v1/services/changes", "get"),
        ("/api/v1/venues/{id}/workshops", "post"),
        ("/api/v1/venues/{id}/workshops", "get"),
        ("/api/v1/workshops/{id}/cancel", "post"),
        ("/api/v1/workshops/{id}/bookings", "post"),
        ("/api/v1/workshops/{id}/bookings", "get"),
        ("/api/v1/bookings/{id}/cancel", "post"),
        ("/api/v1/workshops/{id}/record", "put"),
        ("/api/v1/workshops/{id}/record", "get"),
        ("/api/v1/venues/{id}/activities", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(doc["components"]["schemas"]["CreateRedemption"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(paths.len(), 56);
    // The directory is public: no token asked.
    assert!(paths["/api/v1/directory"]["get"].get("security").is_none());
}

api_test! {
    async fn payment_runs_through_the_api(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let op = app.operator.clone();
        for c in &p.codes[..3] {
            let (st, _) = json(app.post(&p.venue_token, "/api/v1/redemptions", &json!({"code": c.grouped(), "service_code": "2.1.07"})).await).await;
            assert_eq!(st, 201);
        }
        let bank = format!("/api/v1/venues/{}/bank-accounts", p.venue.id);
        // The venue records its own bank details; mistakes are explained.
        let (st, v) = json(app.post(&p.venue_token, &bank, &json!({"iban": "FR7630006000011234567890188", "bic": "AGRIFRPP", "holder": "Lieu"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_iban"));
        let (st, v) = json(app.post(&p.venue_token, &bank, &json!({"iban": "FR7630006000011234567890189", "bic": "AGRI", "holder": "Lieu"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_bic"));
        let (st, acct) = json(app.post(&p.venue_token, &bank, &json!({"iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP", "holder": "Lieu"})).await).await;
        assert_eq!(st, 201, "{acct}");
        assert!(acct["confirmed_at"].is_null());
        let other = venue(app.store(), "21692660000000", "Autre", "69266").await;
        let other_token = app.token(passnum_store::Actor::Venue(other.id)).await;
        let (st, _) = json(app.get(&other_token, &bank).await).await;
        assert_eq!(st, 404);
        let (st, _) = json(app.post(&p.funder_token, "/api/v1/payment-runs/preview", &json!({"cutoff": "2026-06-15"})).await).await;
        assert_eq!(st, 403);
        app.clock.advance_ms(2 * 24 * 3_600_000);
        let (_, preview) = json(app.post(&op, "/api/v1/payment-runs/preview", &json!({"cutoff": "2026-06-15"})).await).await;
        assert_eq!(preview["waiting"][0]["reason"], "bank_details_unconfirmed");
        let (st, v) = json(app.post(&op, "/api/v1/payment-runs", &json!({"cutoff": "2026-06-15"})).await).await;
        assert_eq!((st, error_code(&v)), (409, "nothing_to_pay"));
        let (st, _) = json(app.post(&op, &format!("{bank}/{}/confirm", acct["id"]), &json!({})).await).await;
        assert_eq!(st, 200);
        let (st, v) = json(app.post(&op, "/api/v1/payment-runs", &json!({"cutoff": "2026-06-17"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "cutoff_not_past"));
        let (st, v) = json(app.post(&op, "/api/v1/payment-runs", &json!({"cutoff": "2026-06-15", "fee_basis_points": 5000})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_fee"));
        let (st, run) = json(app.post(&op, "/api/v1/payment-runs", &json!({"cutoff": "2026-06-15", "fee_basis_points": 400})).await).await;
        assert_eq!(st, 201, "{run}");
        assert_eq!((run["cheques"].as_i64(), run["net_cents"].as_i64(), run["status"].as_str()), (Some(3), Some(2880), Some("draft")));
        let id = run["id"].as_i64().unwrap();
        let (st, run) = json(app.post(&op, &format!("/api/v1/payment-runs/{id}/confirm"), &json!({})).await).await;
        assert_eq!((st, run["status"].as_str()), (200, Some("confirmed")));
        let (st, v) = json(app.post(&op, &format!("/api/v1/payment-runs/{id}/confirm"), &json!({})).await).await;
        assert_eq!((st, error_code(&v)), (409, "run_already_confirmed"));
        let (_, s) = json(app.get(&p.venue_token, &format!("/api/v1/cheques/{}", p.codes[0])).await).await;
        assert_eq!(s["state"], "paid");
        let (_, vb) = json(app.get(&p.venue_token, "/api/v1/ledger/balances").await).await;
        assert_eq!(vb[0]["balance_cents"], 0);
        let (_, tb) = json(app.get(&op, "/api/v1/ledger/trial-balance").await).await;
        assert_eq!(tb["balanced"], true);
    }
}

api_test! {
    async fn ordering_options_are_checked_and_bad_ones_issue_nothing(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let op = app.operator.clone();
        let base = json!({"booklet_count": 2, "valid_from": "2026-01-01", "valid_until": "2026-12-31"});
        let with = |k: &str, v: serde_json::Value| { let mut b = base.clone(); b[k] = v; b };
        let before = json(app.get(&op, "/api/v1/orders").await).await.1.as_array().unwrap().len();
        let cases = vec![
            (with("funding", json!([{"source": "État", "basis_points": 5000}, {"source": "FEDER", "basis_points": 2100}])), "invalid_order", "71 %"),
            (with("funding", json!([{"source": "État", "basis_points": 0}])), "invalid_order", "part strictement positive"),
            (with("perimeter", json!({"communes": ["69999"]})), "invalid_order", "69999"),
            (with("perimeter", json!({"epcis": ["123456789"]})), "invalid_order", "123456789"),
            (with("perimeter", json!({"regions": ["99"]})), "invalid_order", "« 99 »"),
            (with("perimeter", json!({"communes": ["69266"], "departements": ["69"]})), "invalid_order", "Villeurbanne (69266) est déjà dans Rhône (69)"),
            (with("target_publics", json!(["martiens"])), "invalid_order", "martiens"),
            (with("valid_until", json!("2025-12-31")), "invalid_order", "fin de validité"),
            (with("cover_text", json!("x".repeat(1600))), "invalid_order", "1500"),
        ];
        for (body, code, words) in cases {
            let (st, v) = json(app.post(&p.funder_token, "/api/v1/orders", &body).await).await;
            assert_eq!((st, error_code(&v)), (422, code), "{body}");
            assert!(v["error"]["message"].as_str().unwrap().contains(words), "{v}");
        }
        // A budget (exactly what the confirmed order commits): a new order beyond it is refused,
        // explained, and not recorded.
        app.store().set_funder_budget(p.funder.id, Some(passnum_core::Money::from_cents(20_000))).await.unwrap();
        let (st, v) = json(app.post(&p.funder_token, "/api/v1/orders", &base).await).await;
        assert_eq!((st, error_code(&v)), (422, "over_budget"), "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("budget"));
        app.store().set_funder_budget(p.funder.id, None).await.unwrap();
        let after = json(app.get(&op, "/api/v1/orders").await).await.1.as_array().unwrap().len();
        assert_eq!(before, after, "nothing recorded");

        // A perimeter by intercommunalité and région, given back as given.
        let (st, d) = json(app.post(&p.funder_token, "/api/v1/orders", &with("perimeter", json!({"epcis": ["200046977"], "regions": ["53"]}))).await).await;
        assert_eq!(st, 201, "{d}");
        assert_eq!(d["perimeter"], json!({"communes": [], "departements": [], "epcis": ["200046977"], "regions": ["53"]}));
        let id = d["id"].as_i64().unwrap();
        assert_eq!(json(app.post(&p.funder_token, &format!("/api/v1/orders/{id}/cancel"), &json!({})).await).await.0, 200);
        // A good draft with options, then its logo.
        let (st, d) = json(app.post(&p.funder_token, "/api/v1/orders", &with("funding", json!([
            {"source": "État", "basis_points": 5000}, {"source": "FEDER", "basis_points": 2100}, {"source": "Fonds propres", "basis_points": 2900}
        ]))).await).await;
        assert_eq!(st, 201, "{d}");
        assert_eq!(d["funding"][1]["basis_points"], 2100);
        let logo = format!("/api/v1/orders/{}/logo", d["id"]);
        let put = |body: Vec<u8>, ct: &'static str| {
            let (client, url, token) = (app.client.clone(), app.url(&logo), p.funder_token.clone());
            async move { client.put(url).bearer_auth(token).header("content-type", ct).body(body).send().await.unwrap() }
        };
        let r = put(b"GIF89a not an image".to_vec(), "image/gif").await;
        let (st, v) = json(r).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_logo"));
        let r = put(b"<svg><script>alert(1)</script></svg>".to_vec(), "image/svg+xml").await;
        let (st, v) = json(r).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_logo"), "{v}");
        let r = put(vec![b' '; 700 * 1024], "image/png").await;
        let (st, v) = json(r).await;
        assert_eq!((st, error_code(&v)), (413, "body_too_large"), "{v}");
        // Just over the logo limit, under the body limit: the logo itself is refused, clearly.
        let r = put(vec![b' '; 530 * 1024], "image/png").await;
        let (st, v) = json(r).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_logo"), "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("512 Ko"));
        // A decompression bomb: an SVG wrapping, in a data: URI, a PNG that declares
        // 32000x32000 pixels. Refused before anything is decoded.
        let bomb = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><image width="40" height="20" href="data:image/png;base64,{}"/></svg>"#,
            "iVBORw0KGgoAAAANSUhEUgAAfQAAAH0ACAAAAAA".repeat(100)
        );
        let started = std::time::Instant::now();
        let (st, v) = json(put(bomb.into_bytes(), "image/svg+xml").await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_logo"), "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("image incluse"), "{v}");
        println!("logo bomb refused in {:?}", started.elapsed());
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#000091"/></svg>"##;
        let r = put(svg.to_vec(), "image/svg+xml").await;
        assert_eq!(r.status().as_u16(), 204);
        let (_, o) = json(app.get(&p.funder_token, &format!("/api/v1/orders/{}", d["id"])).await).await;
        assert_eq!(o["has_logo"], true);
        // Another funder cannot touch it.
        let other = programme(&app, "Département", SIRET_B).await;
        let r = app.client.put(app.url(&logo)).bearer_auth(&other.funder_token).header("content-type", "image/svg+xml").body(svg.to_vec()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
        // Booklets of a draft are not printable.
        let (st, v) = json(app.get(&p.funder_token, &format!("/api/v1/orders/{}/booklets/1/pdf", d["id"])).await).await;
        assert_eq!((st, error_code(&v)), (409, "order_state"));
    }
}

api_test! {
    async fn signed_payloads_are_checked_before_redemption_and_keys_are_published(app) {
        use passnum_core::signature::{SignedCheque, generate_key};
        let p = programme(&app, "Métropole", SIRET_A).await;
        let key = generate_key(&mut rand::rng());
        app.store().register_signing_key(&key.verifying_key(), t0()).await.unwrap();
        let order = app.store().get_order(p.order.id).await.unwrap();
        let signed = |code: passnum_core::ChequeCode, cents: i64| SignedCheque {
            code,
            face_value: passnum_core::Money::from_cents(cents),
            valid_until: order.valid_until,
            order: order.id,
        };
        // The well-known document lists the key, without authentication.
        let r = app.client.get(app.url("/.well-known/passnum-keys.json")).send().await.unwrap();
        let (st, doc) = json(r).await;
        assert_eq!(st, 200);
        let kid = passnum_core::signature::KeyId::of(&key.verifying_key());
        let listed = doc["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("key listed");
        assert_eq!(listed["crv"], "Ed25519");
        assert_eq!(listed["kty"], "OKP");
        // A forged payload (value raised, signature of the real one) is refused as not genuine.
        let genuine = signed(p.codes[0], 1000).payload(&key);
        let forged = genuine.replacen(":1000:", ":5000:", 1);
        let redeem = |code: String| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/redemptions"), p.venue_token.clone());
            async move { json(client.post(url).bearer_auth(token).json(&json!({"code": code, "service_code": "2.1.07"})).send().await.unwrap()).await }
        };
        let (st, v) = redeem(forged).await;
        assert_eq!((st, error_code(&v)), (422, "not_genuine"), "{v}");
        let (st, v) = redeem(genuine[..genuine.len() - 30].to_string()).await;
        assert_eq!((st, error_code(&v)), (422, "payload_malformed"), "{v}");
        let stranger = signed(p.codes[1], 1000).payload(&generate_key(&mut rand::rng()));
        let (st, v) = redeem(stranger).await;
        assert_eq!((st, error_code(&v)), (422, "not_genuine"), "{v}");
        let (_, vb) = json(app.get(&p.venue_token, "/api/v1/ledger/balances").await).await;
        assert_eq!(vb[0]["balance_cents"], 0, "nothing redeemed");
        // The genuine payload redeems like the printed code.
        let (st, v) = redeem(genuine).await;
        assert_eq!(st, 201, "{v}");
        assert_eq!(v["cheque_code"], p.codes[0].grouped());
    }
}

api_test! {
    async fn a_funder_shares_its_booklets_with_a_previewed_key(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let op = app.operator.clone();
        let (st, v) = json(app.post(&op, "/api/v1/distributors", &json!({"name": "CCAS", "kind": "ccas", "commune_insee": "69999"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_place"));
        let mut ids = vec![];
        for (name, commune) in [("CCAS de Lyon", "69123"), ("CCAS de Villeurbanne", "69266"), ("Médiathèque de Vaulx", "69256")] {
            let (st, d) = json(app.post(&op, "/api/v1/distributors", &json!({"name": name, "kind": "ccas", "commune_insee": commune})).await).await;
            assert_eq!(st, 201, "{d}");
            ids.push(d["id"].as_i64().unwrap());
        }
        let (st, v) = json(app.post(&p.funder_token, "/api/v1/distributors", &json!({"name": "X", "kind": "ccas", "commune_insee": "69123"})).await).await;
        assert_eq!((st, error_code(&v)), (403, "forbidden"));
        let big = order_2026(30, &[]);
        let order = app.store().create_order(p.funder.id, &big, t0()).await.unwrap().id.0;
        let url = |s: &str| format!("/api/v1/orders/{order}/{s}");
        let (_, dist) = json(app.get(&p.funder_token, &url("distribution")).await).await;
        let stock = dist["unallocated"].as_i64().unwrap();
        assert!(stock > 0);
        // A key: 1 booklet each, the rest by commune population (70) and a QPV figure (30).
        let key = json!({
            "criteria": [{"name": "qpv", "weight": 30}],
            "commune_population_weight": 70,
            "structures": [
                {"distributor_id": ids[0], "fixed": 1, "values": [20000]},
                {"distributor_id": ids[1], "fixed": 1, "values": [10000]},
                {"distributor_id": ids[2], "fixed": 1, "values": [15000]}
            ]
        });
        let (st, preview) = json(app.post(&p.funder_token, &url("allocation-preview"), &key).await).await;
        assert_eq!(st, 200, "{preview}");
        let shares = preview["allocations"].as_array().unwrap();
        assert_eq!(shares.iter().map(|s| s["booklets"].as_i64().unwrap()).sum::<i64>(), stock);
        assert!(shares[0]["booklets"].as_i64() > shares[1]["booklets"].as_i64(), "Lyon is larger: {preview}");
        let (_, dist) = json(app.get(&p.funder_token, &url("distribution")).await).await;
        assert_eq!(dist["unallocated"].as_i64(), Some(stock), "a preview writes nothing");
        // Bad keys are explained.
        for (bad, code) in [
            (json!({"criteria": [{"name": "qpv", "weight": -1}], "structures": [{"distributor_id": ids[0], "values": [1]}]}), "invalid_key"),
            (json!({"criteria": [{"name": "qpv", "weight": 1}], "structures": [{"distributor_id": 424242, "values": [1]}]}), "distributor_unknown"),
            (json!({"criteria": [{"name": "qpv", "weight": 1}], "structures": [{"distributor_id": ids[0], "values": [1]}, {"distributor_id": ids[0], "values": [2]}]}), "invalid_key"),
            (json!({"criteria": [], "structures": [{"distributor_id": ids[0], "fixed": stock + 1}]}), "invalid_key"),
        ] {
            let (st, v) = json(app.post(&p.funder_token, &url("allocation-preview"), &bad).await).await;
            assert_eq!((st, error_code(&v)), (422, code), "{bad}");
        }
        // Commit the preview, then a transfer; too much is refused and changes nothing.
        let r = app.client.post(app.url(&url("allocations"))).bearer_auth(&p.funder_token).json(&json!({"allocations": preview["allocations"]})).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 204);
        let (st, v) = json(app.post(&p.funder_token, &url("allocations"), &json!({"allocations": [{"distributor_id": ids[0], "booklets": 1}]})).await).await;
        assert_eq!((st, error_code(&v)), (422, "stock_short"));
        let first = shares[0]["booklets"].as_i64().unwrap();
        let (st, v) = json(app.post(&p.funder_token, &url("transfers"), &json!({"from_distributor_id": ids[0], "to_distributor_id": ids[1], "booklets": first + 1})).await).await;
        assert_eq!((st, error_code(&v)), (422, "stock_short"));
        let r = app.client.post(app.url(&url("transfers"))).bearer_auth(&p.funder_token).json(&json!({"from_distributor_id": ids[0], "to_distributor_id": ids[1], "booklets": 1})).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 204);
        let (_, dist) = json(app.get(&p.funder_token, &url("distribution")).await).await;
        assert_eq!(dist["unallocated"], 0);
        assert_eq!(dist["distributors"][0]["in_stock"].as_i64(), Some(first - 1));
        // Another funder cannot see or share this order.
        let other = programme(&app, "Département", SIRET_B).await;
        let (st, _) = json(app.get(&other.funder_token, &url("distribution")).await).await;
        assert_eq!(st, 404);
        // A lost booklet: its cheques are refused at once.
        let (st, v) = json(app.post(&p.funder_token, &url("booklets/1/block"), &json!({"reason": "oublié"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_reason"));
        let (st, v) = json(app.post(&p.funder_token, &url("booklets/1/block"), &json!({"reason": "lost"})).await).await;
        assert_eq!((st, v["blocked_cheques"].as_i64()), (200, Some(10)), "{v}");
        let (st, v) = json(app.post(&p.funder_token, &url("booklets/1/block"), &json!({"reason": "stolen"})).await).await;
        assert_eq!((st, error_code(&v)), (409, "booklet_blocked"));
        let (st, _) = json(app.post(&other.funder_token, &url("booklets/2/block"), &json!({"reason": "lost"})).await).await;
        assert_eq!(st, 404);
    }
}

api_test! {
    async fn an_agent_hands_out_and_gets_the_nearest_fitting_venues(app) {
        let p = programme(&app, "Métropole", SIRET_A).await;
        let s = app.store();
        // A second venue further away (Villeurbanne), one outside the perimeter (Paris).
        venue(s, SIRET_B, "Espace Villeurbanne", "69266").await;
        venue(s, "35600000000001", "Tiers-lieu parisien", "75056").await;
        s.set_venue_practical_info(p.venue.id, "mardi 9 h–12 h", "plain-pied", t0()).await.unwrap();
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let mine = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        let other = s.create_distributor("CCAS de Bron", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(p.order.id, &[(mine, 1), (other, 1)], "tests", t0()).await.unwrap();
        let agent = app.token(Actor::Distributor(mine)).await;

        // The agent sees its own stock only; a venue cannot use the agent's routes.
        let (st, stock) = json(app.get(&agent, "/api/v1/stock").await).await;
        assert_eq!(st, 200);
        assert_eq!(stock.as_array().unwrap().len(), 1);
        assert_eq!(stock[0]["booklet_number"], 1);
        assert_eq!(app.get(&p.venue_token, "/api/v1/stock").await.status(), 403);
        // An agent is no funder: ordering routes refuse it.
        assert_eq!(app.get(&agent, &format!("/api/v1/orders/{}", p.order.id.0)).await.status(), 403);

        let body = |number: i64, consent: bool| json!({
            "order_id": p.order.id.0, "booklet_number": number, "commune_insee": "69123",
            "needs": ["online_procedures"], "equipment": "phone_only", "level": "beginner",
            "publics": ["senior"], "consent": consent,
        });
        // Bad input: no consent, another structure's booklet, an unknown commune.
        let (st, v) = json(app.post(&agent, "/api/v1/handouts", &body(1, false)).await).await;
        assert_eq!((st, error_code(&v)), (422, "consent_required"));
        let (st, v) = json(app.post(&agent, "/api/v1/handouts", &body(2, true)).await).await;
        assert_eq!((st, error_code(&v)), (409, "not_in_your_stock"));
        let mut bad = body(1, true);
        bad["commune_insee"] = json!("69999");
        let (st, v) = json(app.post(&agent, "/api/v1/handouts", &bad).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_place"));
        assert_eq!(s.distributor_stock_count(mine).await.unwrap(), 1, "nothing changed");

        let (st, v) = json(app.post(&agent, "/api/v1/handouts", &body(1, true)).await).await;
        assert_eq!(st, 201, "{v}");
        let names: Vec<&str> = v["suggestions"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Lieu Métropole", "Espace Villeurbanne"], "nearest first, perimeter only");
        assert_eq!(v["suggestions"][0]["opening_hours"], "mardi 9 h–12 h");
        assert_eq!(v["suggestions"][0]["distance_km"], 0.0);
        assert!(v["suggestions"][1]["distance_km"].as_f64().unwrap() > 1.0);
        let id = v["handout"]["id"].as_i64().unwrap();
        let (st, again) = json(app.get(&agent, &format!("/api/v1/handouts/{id}/orientation")).await).await;
        assert_eq!(st, 200);
        assert_eq!(again, v["suggestions"]);
        let other_agent = app.token(Actor::Distributor(other)).await;
        assert_eq!(app.get(&other_agent, &format!("/api/v1/handouts/{id}/orientation")).await.status(), 404);
        let block = format!("/api/v1/handouts/{id}/block");
        assert_eq!(app.post(&other_agent, &block, &json!({"stolen": true})).await.status(), 404);
        let (st, v) = json(app.post(&agent, &block, &json!({"stolen": true})).await).await;
        assert_eq!((st, v["blocked_cheques"].as_i64()), (200, Some(10)));
        let (st, v) = json(app.post(&agent, &block, &json!({"stolen": true})).await).await;
        assert_eq!((st, error_code(&v)), (409, "booklet_blocked"));

        // The funder sets its rules and reads its figures; another funder cannot.
        let rules = app.client.put(app.url(&format!("/api/v1/orders/{}/handout-rules", p.order.id.0)))
            .bearer_auth(&p.funder_token).json(&json!({"target_only": false, "one_per_household": true}))
            .send().await.unwrap();
        assert_eq!(rules.status(), 200);
        let (st, stats) = json(app.get(&p.funder_token, &format!("/api/v1/orders/{}/distribution-stats", p.order.id.0)).await).await;
        assert_eq!(st, 200);
        assert_eq!(stats["handed_out"], 1);
        assert_eq!(stats["per_public"]["senior"], 1);
        let q = programme(&app, "Ville", "44306184100047").await;
        assert_eq!(app.get(&q.funder_token, &format!("/api/v1/orders/{}/distribution-stats", p.order.id.0)).await.status(), 404);
    }
}

api_test! {
    async fn a_redemption_whose_batch_fails_answers_write_interrupted_and_the_same_request_then_succeeds(app) {
        let a = programme(&app, "Métropole", "21690123000005").await;
        let body = serde_json::json!({"code": a.codes[0].grouped(), "service_code": "2.1.07"});
        app.store().panic_next_redeem_batch();
        let (st, r) = json(app.post(&a.venue_token, "/api/v1/redemptions", &body).await).await;
        assert_eq!(st, 503, "{r}");
        assert_eq!(r["error"]["code"], "write_interrupted");
        let (st, r) = json(app.post(&a.venue_token, "/api/v1/redemptions", &body).await).await;
        assert_eq!(st, 201, "{r}");
    }
}

api_test! {
    async fn a_venue_edits_its_own_catalogue_and_the_next_scan_follows_it(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let other = programme(&app, "Département", "44306184100047").await;
        let url = format!("/api/v1/venues/{}/catalogue", p.venue.id.0);
        let put = |token: String, body: serde_json::Value| {
            let (client, url) = (app.client.clone(), app.url(&url));
            async move { json(client.put(url).bearer_auth(token).json(&body).send().await.unwrap()).await }
        };
        let (st, v) = put(p.venue_token.clone(), json!({"services": [
            {"service_code": "2.2.01", "format": "individual"},
            {"service_code": "1.1.05", "format": "collective"}
        ]})).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["services"], json!([
            {"service_code": "1.1.05", "format": "collective"},
            {"service_code": "2.2.01", "format": "individual"}
        ]));
        // At once: a scan for a service just removed is refused, one just added is paid.
        let scan = |code: String, service: &'static str| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/redemptions"), p.venue_token.clone());
            async move { json(client.post(url).bearer_auth(token).json(&json!({"code": code, "service_code": service})).send().await.unwrap()).await }
        };
        let (st, r) = scan(p.codes[0].grouped(), "2.1.07").await;
        assert_eq!((st, error_code(&r)), (422, "service_not_offered"), "{r}");
        let (st, r) = scan(p.codes[1].grouped(), "2.2.01").await;
        assert_eq!(st, 201, "{r}");
        // Bad input: a code, a sentence, nothing changed.
        for (body, code) in [
            (json!({"services": [{"service_code": "9.9.99", "format": "both"}]}), "service_unknown"),
            (json!({"services": [{"service_code": "2.1.07", "format": "en groupe"}]}), "invalid_format"),
        ] {
            let (st, v) = put(p.venue_token.clone(), body).await;
            assert_eq!((st, error_code(&v)), (422, code), "{v}");
        }
        let (st, v) = put(p.venue_token.clone(), json!({"services": []})).await;
        assert_eq!((st, error_code(&v)), (409, "empty_catalogue"), "{v}");
        let (_, v) = json(app.get(&p.venue_token, &url).await).await;
        assert_eq!(v["services"].as_array().unwrap().len(), 2, "unchanged");
        // Another venue does not see it; a funder may not.
        let (st, _) = put(other.venue_token.clone(), json!({"services": []})).await;
        assert_eq!(st, 404);
        let (st, _) = json(app.get(&p.funder_token, &url).await).await;
        assert_eq!(st, 403);
    }
}

api_test! {
    async fn anyone_reads_the_directory_in_json_without_a_token(app) {
        let lyon = venue(app.store(), "21690123000005", "Médiathèque du 3e", "69383").await;
        let s = app.store();
        let c = passnum_core::catalogue::Catalogue::parse([("2.1.07", "collective")], |c| s.service_is_known(c)).unwrap();
        s.set_venue_catalogue(lyon.id, &c, None, t0()).await.unwrap();
        venue(s, "44306184100047", "France Services", "69259").await;
        let applied = s.create_venue(&passnum_store::NewVenue {
            siret: passnum_core::Siret::parse("73282932000074").unwrap().into(), name: "Candidat".into(),
            commune: passnum_core::InseeCode::parse("69383").unwrap(), status: passnum_core::VenueStatus::Applied,
            qualified_until: None, address: String::new(), contact: String::new(), services: vec!["2.1.07".into()],
        }, t0()).await.unwrap();
        let get = |path: String| {
            let (client, url) = (app.client.clone(), app.url(&path));
            async move { json(client.get(url).send().await.unwrap()).await }
        };
        let (st, r) = get("/api/v1/directory?q=69003".into()).await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["total"], 1, "the application in the same commune is not listed: {r}");
        assert_eq!(r["venues"][0]["name"], "Médiathèque du 3e");
        assert_eq!(r["venues"][0]["commune"], "Lyon 3e Arrondissement");
        assert_eq!(r["venues"][0]["services"], json!([{"code": "2.1.07", "format": "collective"}]));
        let (_, r) = get("/api/v1/directory?q=Lyon&format=individual".into()).await;
        assert_eq!(r["total"], 0, "Lyon's only venue works collectively");
        let (_, r) = get("/api/v1/directory?limit=1".into()).await;
        assert_eq!((r["total"].as_i64(), r["venues"].as_array().unwrap().len()), (Some(2), 1));
        let (st, r) = get("/api/v1/directory?format=both".into()).await;
        assert_eq!((st, error_code(&r)), (422, "invalid_format"));
        let (st, r) = get("/api/v1/directory?category=9.9".into()).await;
        assert_eq!((st, error_code(&r)), (422, "unknown_category"));
        let (st, _) = get(format!("/api/v1/directory/{}", lyon.id.0)).await;
        assert_eq!(st, 200);
        let (st, r) = get(format!("/api/v1/directory/{}", applied.id.0)).await;
        assert_eq!((st, error_code(&r)), (404, "not_found"), "an application is not public");
    }
}

api_test! {
    async fn the_operator_deactivates_a_service_and_scans_follow_at_once(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let patch = |token: String, code: &'static str, body: serde_json::Value| {
            let (client, url) = (app.client.clone(), app.url(&format!("/api/v1/services/{code}")));
            async move { json(client.patch(url).bearer_auth(token).json(&body).send().await.unwrap()).await }
        };
        let (st, r) = patch(p.venue_token.clone(), "2.1.07", json!({"active": false})).await;
        assert_eq!((st, error_code(&r)), (403, "forbidden"), "{r}");
        let (st, r) = patch(app.operator.clone(), "2.1.07", json!({"active": false, "standard_service": "Loisirs et créations numériques"})).await;
        assert_eq!(st, 200, "{r}");
        assert_eq!((r["active"].as_bool(), r["standard_service"].as_str()), (Some(false), Some("Loisirs et créations numériques")));
        // At once: a scan for it is refused, a catalogue cannot add it; old data stays.
        let scan = |code: String, service: &'static str| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/redemptions"), p.venue_token.clone());
            async move { json(client.post(url).bearer_auth(token).json(&json!({"code": code, "service_code": service})).send().await.unwrap()).await }
        };
        let (st, r) = scan(p.codes[0].grouped(), "2.1.07").await;
        assert_eq!((st, r["error"]["code"].as_str().or(r["outcome"]["refusal"].as_str())), (422, Some("service_unknown")), "{r}");
        let (st, r) = json(app.get(&app.operator, "/api/v1/services").await).await;
        assert_eq!(st, 200);
        assert!(r.as_array().unwrap().iter().any(|s| s["code"] == "2.1.07" && s["active"] == false), "listed, deactivated");
        let (st, _) = patch(app.operator.clone(), "2.1.07", json!({"active": true, "standard_service": ""})).await;
        assert_eq!(st, 200);
        let (st, r) = scan(p.codes[0].grouped(), "2.1.07").await;
        assert_eq!(st, 201, "offered again: {r}");
        let (st, r) = patch(app.operator.clone(), "2.1.07", json!({"standard_service": "Cuisine"})).await;
        assert_eq!((st, error_code(&r)), (422, "invalid_standard_service"));
        let (st, r) = patch(app.operator.clone(), "9.9.99", json!({"active": false})).await;
        assert_eq!((st, error_code(&r)), (404, "not_found"));
    }
}

api_test! {
    async fn the_operator_adds_a_service_by_api_and_venues_can_offer_it(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let put = |token: String, code: &'static str, body: serde_json::Value| {
            let (client, url) = (app.client.clone(), app.url(&format!("/api/v1/services/{code}")));
            async move { json(client.put(url).bearer_auth(token).json(&body).send().await.unwrap()).await }
        };
        let (st, r) = put(p.venue_token.clone(), "2.9.01", json!({"name": "Visio"})).await;
        assert_eq!((st, error_code(&r)), (403, "forbidden"));
        let (st, r) = put(app.operator.clone(), "2.9.01", json!({"name": "Visio"})).await;
        assert_eq!((st, error_code(&r)), (422, "invalid_category_name"), "a new category needs its name: {r}");
        assert!(r["error"]["message"].as_str().unwrap().contains("2.9 est nouvelle"));
        let (st, r) = put(app.operator.clone(), "7.1.01", json!({"name": "X", "category_name": "Y", "level_name": "Z"})).await;
        assert_eq!((st, error_code(&r)), (422, "invalid_service_level"));
        let (st, r) = put(app.operator.clone(), "2.9.01", json!({"name": "Visio", "category_name": "Se voir à distance", "colour": 1})).await;
        assert_eq!((st, error_code(&r)), (422, "invalid_body"), "{r}");
        let (st, r) = put(app.operator.clone(), "2.9.01", json!({"name": " Visio avec ses proches ", "category_name": "Se voir à distance"})).await;
        assert_eq!(st, 201, "{r}");
        assert_eq!((r["name"].as_str(), r["category_code"].as_str(), r["level"].as_i64()), (Some("Visio avec ses proches"), Some("2.9"), Some(2)));
        let (st, _) = put(app.operator.clone(), "2.9.01", json!({"name": "Visio en famille"})).await;
        assert_eq!(st, 200, "renamed");
        // A venue adds it to its catalogue and a cheque is scanned for it at once.
        let url = format!("/api/v1/venues/{}/catalogue", p.venue.id.0);
        let r = app.client.put(app.url(&url)).bearer_auth(&p.venue_token).json(&json!({"services": [{"service_code": "2.9.01", "format": "individual"}, {"service_code": "2.1.07", "format": "both"}]})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = app.client.post(app.url("/api/v1/redemptions")).bearer_auth(&p.venue_token).json(&json!({"code": p.codes[0].grouped(), "service_code": "2.9.01"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let (st, h) = json(app.get(&app.operator, "/api/v1/services/changes?limit=10").await).await;
        assert_eq!(st, 200);
        let h = h.as_array().unwrap();
        assert_eq!(h.len(), 2, "{h:?}");
        assert!(h[0]["change"].as_str().unwrap().starts_with("Service renommé : « Visio avec ses proches » → « Visio en famille »"));
        assert!(h[1]["change"].as_str().unwrap().starts_with("Service créé"));
        assert!(h.iter().all(|c| c["code"] == "2.9.01" && c["by"].as_str().unwrap().starts_with("API")));
        let (st, r) = json(app.get(&app.operator, "/api/v1/services/changes?limit=x").await).await;
        assert_eq!((st, error_code(&r)), (400, "invalid_query"), "{r}");
    }
}

api_test! {
    async fn a_venue_publishes_a_workshop_books_places_and_scans_one_cheque_per_booklet(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let s = app.store();
        let url = format!("/api/v1/venues/{}/workshops", p.venue.id.0);
        let body = json!({
            "format": "collective", "title": "Premiers pas", "services": ["2.1.07"], "level": "beginner",
            "date": "2026-06-15", "time": "14:00", "duration_min": 90, "capacity": 1, "mediator": "Samia",
            "repeat": "weekly", "until": "2026-06-29", "except": ["2026-06-22"],
        });
        let (st, v) = json(app.post(&p.funder_token, &url, &body).await).await;
        assert_eq!(st, 403, "{v}");
        let mut bad = body.clone();
        bad["capacity"] = json!(0);
        bad["date"] = json!("2026-06-01");
        let (st, v) = json(app.post(&p.venue_token, &url, &bad).await).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_workshop"));
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains("date : Cette date est passée") && message.contains("capacity : Indiquez un nombre de places"), "{message}");
        let (st, v) = json(app.post(&p.venue_token, &url, &body).await).await;
        assert_eq!(st, 201, "{v}");
        let list = v.as_array().unwrap();
        assert_eq!(list.len(), 2, "the 22nd is an exception");
        assert_eq!(list[0]["starts_at"], "2026-06-15T12:00:00Z");
        assert_eq!(list[1]["series_id"], list[0]["id"]);
        let ws = list[0]["id"].as_i64().unwrap();
        let (st, mine) = json(app.get(&p.venue_token, &format!("{url}?from=2026-06-01&days=60")).await).await;
        assert_eq!((st, mine.as_array().unwrap().len()), (200, 2));
        // The venue books on the phone: the person reads the code out.
        let code1 = s.booking_code(p.order.id, 1).await.unwrap();
        let book = |booklet: String, code: Option<String>, extra: serde_json::Value| {
            let mut b = json!({"booklet": booklet, "code": code});
            for (k, v) in extra.as_object().unwrap() { b[k] = v.clone(); }
            let (client, url, token) = (app.client.clone(), app.url(&format!("/api/v1/workshops/{ws}/bookings")), p.venue_token.clone());
            async move { json(client.post(url).bearer_auth(token).json(&b).send().await.unwrap()).await }
        };
        let r1 = format!("{}-1", p.order.id.0);
        let (st, v) = book(r1.clone(), Some("ZZZZ-ZZZZ".into()), json!({})).await;
        assert_eq!((st, error_code(&v)), (422, "booking_code_wrong"));
        let (st, v) = book(r1.clone(), Some(code1.to_lowercase()), json!({"contact": "06 12 34 56 78"})).await;
        assert_eq!((st, error_code(&v)), (422, "contact_without_consent"));
        let (st, v) = book(r1.clone(), Some(code1.clone()), json!({"contact": "06 12 34 56 78", "consent": true})).await;
        assert_eq!((st, v["status"].as_str(), v["has_contact"].as_bool()), (201, Some("booked"), Some(true)), "{v}");
        let (st, v) = book(r1.clone(), Some(code1.clone()), json!({})).await;
        assert_eq!((st, error_code(&v)), (409, "booklet_already_booked"));
        let code2 = s.booking_code(p.order.id, 2).await.unwrap();
        let (st, v) = book(format!("{}-2", p.order.id.0), Some(code2), json!({})).await;
        assert_eq!((st, v["status"].as_str()), (201, Some("waiting")), "one place: the second waits");
        let (st, v) = book("pas-un-carnet".into(), Some(code1.clone()), json!({})).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_booklet"));
        let (_, line) = json(app.get(&p.venue_token, &format!("/api/v1/workshops/{ws}/bookings")).await).await;
        assert_eq!(line.as_array().unwrap().iter().map(|b| b["status"].as_str().unwrap()).collect::<Vec<_>>(), ["booked", "waiting"]);
        // On the day: the booked booklet's first cheque is accepted, its second refused.
        app.clock.set(passnum_core::Timestamp::from_offset_datetime(time::macros::datetime!(2026-06-15 12:30 UTC)));
        let scan = |code: String, workshop: Option<i64>| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/redemptions"), p.venue_token.clone());
            async move { json(client.post(url).bearer_auth(token).json(&json!({"code": code, "service_code": "2.1.07", "workshop_id": workshop})).send().await.unwrap()).await }
        };
        let (st, v) = scan(p.codes[0].grouped(), Some(ws)).await;
        assert_eq!((st, v["workshop_id"].as_i64()), (201, Some(ws)), "{v}");
        let (st, v) = scan(p.codes[1].grouped(), Some(ws)).await;
        assert_eq!((st, error_code(&v)), (409, "booklet_already_in_workshop"));
        assert!(v["error"]["message"].as_str().unwrap().contains("un seul chèque par carnet et par atelier"));
        // Booklet 2 is only in line: as a walk-in it finds the only place taken.
        let (st, v) = scan(p.codes[10].grouped(), Some(ws)).await;
        assert_eq!((st, error_code(&v)), (409, "workshop_full"));
        let (st, v) = scan(p.codes[11].grouped(), Some(list[1]["id"].as_i64().unwrap())).await;
        assert_eq!((st, error_code(&v)), (422, "workshop_not_today"));
        let (st, _) = scan(p.codes[12].grouped(), None).await;
        assert_eq!(st, 201, "without a workshop, while the programme allows it");
        // The venue cancels next week's workshop.
        let next = list[1]["id"].as_i64().unwrap();
        let (st, v) = json(app.post(&p.venue_token, &format!("/api/v1/workshops/{next}/cancel"), &json!({"reason": "x"})).await).await;
        assert_eq!((st, error_code(&v)), (422, "reason_required"));
        let (st, v) = json(app.post(&p.venue_token, &format!("/api/v1/workshops/{next}/cancel"), &json!({"reason": "Fermeture exceptionnelle"})).await).await;
        assert_eq!((st, v["cancel_reason"].as_str()), (200, Some("Fermeture exceptionnelle")));
        let (st, v) = json(app.post(&p.funder_token, &format!("/api/v1/workshops/{next}/cancel"), &json!({"reason": "Pas à moi"})).await).await;
        assert_eq!((st, error_code(&v)), (403, "forbidden"));
    }
}

api_test! {
    async fn a_catalogue_says_which_publics_and_support_in_the_standards_words(app) {
        let p = programme(&app, "Métropole", "21690123000005").await;
        let url = format!("/api/v1/venues/{}/catalogue", p.venue.id.0);
        let put = |body: serde_json::Value| {
            let (client, url, token) = (app.client.clone(), app.url(&url), p.venue_token.clone());
            async move { json(client.put(url).bearer_auth(token).json(&body).send().await.unwrap()).await }
        };
        let entry = json!([{"service_code": "2.1.07", "format": "both"}]);
        let (st, v) = put(json!({"services": entry, "publics": ["Seniors", "Jeunes", "Seniors"], "specific_support": ["Surdité"]})).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!((v["publics"].clone(), v["specific_support"].clone()), (json!(["Jeunes", "Seniors"]), json!(["Surdité"])), "the standard's order, once each");
        // A value outside the standard: refused, nothing changed (services included).
        let (st, v) = put(json!({"services": [{"service_code": "2.2.01", "format": "both"}], "publics": ["Retraités"]})).await;
        assert_eq!((st, error_code(&v)), (422, "invalid_public"));
        let (_, v) = json(app.get(&p.venue_token, &url).await).await;
        assert_eq!(v["services"][0]["service_code"], "2.1.07");
        // Absent from a replacement: kept.
        let (_, v) = put(json!({"services": entry})).await;
        assert_eq!(v["publics"], json!(["Jeunes", "Seniors"]));
        // (Their place in the open-data row is tested in core's `standard::row`, and the
        // demo's file, which carries some, is validated with frictionless.)
    }
}
