//! `/api/v1`: routes, and the OpenAPI document generated from them.

mod activity;
mod cheques;
mod directory;
pub mod distribution;
pub mod dto;
mod figures;
mod funders;
mod handouts;
pub mod keys;
mod ledger;
mod orders;
mod payments;
mod publics;
mod redemptions;
mod services;
mod venues;
mod workshops;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ApiError;

/// Largest accepted request body. Every API body is small; a bigger one is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "passnum API",
        description = "API du Pass Numérique : commanditaires, commandes, lieux, encaissements, comptabilité. \
                       Toutes les routes demandent un jeton « Authorization: Bearer … » créé par `passnum token create`. \
                       Les erreurs ont la forme {\"error\": {\"code\": …, \"message\": …}} avec un code stable.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "funders", description = "Commanditaires"),
        (name = "orders", description = "Commandes, carnets et chèques"),
        (name = "distribution", description = "Distributeurs et répartition des carnets"),
        (name = "handouts", description = "Remise des carnets, diagnostic et orientation"),
        (name = "directory", description = "Annuaire public des lieux qualifiés (sans jeton)"),
        (name = "venues", description = "Lieux de médiation"),
        (name = "redemptions", description = "Encaissements et annulations"),
        (name = "cheques", description = "Consultation d'un chèque"),
        (name = "ledger", description = "Comptabilité en partie double"),
        (name = "services", description = "Référentiel des services"),
        (name = "workshops", description = "Ateliers et réservations"),
        (name = "payments", description = "Coordonnées bancaires des lieux et virements"),
        (name = "figures", description = "Chiffres du programme (opérateur, commanditaire, observateur)")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The errors every operation can answer whatever it does, declared once for all (after the
/// routes are in the document): a client generated from it then knows every status it may get.
fn declare_common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = path.starts_with("/.well-known");
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let has_body = op.request_body.is_some();
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                // A key sent again with another request is refused (422 idempotency_key_reused).
                let has_idempotency_key = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| {
                        matches!(p, utoipa::openapi::RefOr::T(p) if p.name.eq_ignore_ascii_case("idempotency-key"))
                    });
                let mut declare = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error_response(description).into());
                };
                declare(
                    "400",
                    "Requête illisible (paramètre, chemin ou JSON mal formé).",
                );
                declare("413", "Corps de requête trop volumineux.");
                declare("414", "Adresse trop longue (8 Kio au plus).");
                declare(
                    "431",
                    "En-têtes trop volumineux (32 Kio et 100 en-têtes au plus).",
                );
                declare("500", "Erreur interne (jamais sa cause).");
                declare("503", "Service momentanément indisponible : réessayez.");
                if !public {
                    declare("401", "Jeton absent ou invalide.");
                    declare("403", "Le rôle du jeton ne permet pas cette opération.");
                }
                if has_params {
                    declare(
                        "404",
                        "Ressource introuvable, ou que ce jeton ne peut pas voir.",
                    );
                }
                if has_body {
                    declare("415", "Le corps n'est pas du JSON (en-tête Content-Type).");
                }
                if has_body || has_idempotency_key {
                    declare(
                        "422",
                        "Contenu refusé : un code stable et une phrase disent quoi corriger.",
                    );
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

pub fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(funders::create, funders::list))
        .routes(routes!(funders::get_one))
        .routes(routes!(figures::get))
        .routes(routes!(orders::create, orders::list))
        .routes(routes!(orders::get_one))
        .routes(routes!(orders::cheques))
        .routes(routes!(orders::confirm))
        .routes(routes!(orders::pay))
        .routes(routes!(orders::issue))
        .routes(routes!(orders::cancel))
        .routes(routes!(distribution::create, distribution::list))
        .routes(routes!(distribution::distribution))
        .routes(routes!(distribution::allocate))
        .routes(routes!(distribution::transfer))
        .routes(routes!(distribution::preview))
        .routes(routes!(distribution::block))
        .routes(routes!(handouts::stock))
        .routes(routes!(handouts::create, handouts::list))
        .routes(routes!(handouts::orientation))
        .routes(routes!(handouts::block))
        .routes(routes!(handouts::set_rules))
        .routes(routes!(publics::list, publics::create))
        .routes(routes!(handouts::stats))
        .routes(routes!(keys::well_known))
        .routes(routes!(keys::put_logo).layer(DefaultBodyLimit::max(crate::ui::UPLOAD_BODY_BYTES)))
        .routes(routes!(keys::booklet_pdf))
        .routes(routes!(keys::letter_pdf))
        .routes(routes!(directory::search))
        .routes(routes!(directory::one))
        .routes(routes!(venues::create, venues::list))
        .routes(routes!(venues::get_one))
        .routes(routes!(venues::set_status))
        .routes(routes!(venues::set_practical_info))
        .routes(routes!(venues::get_catalogue, venues::set_catalogue))
        .routes(routes!(redemptions::create, redemptions::list))
        .routes(routes!(redemptions::rollback))
        .routes(routes!(cheques::status))
        .routes(routes!(ledger::balances))
        .routes(routes!(ledger::trial_balance))
        .routes(routes!(services::list))
        .routes(routes!(services::update, services::put))
        .routes(routes!(services::changes))
        .routes(routes!(workshops::create, workshops::list))
        .routes(routes!(workshops::cancel))
        .routes(routes!(workshops::book, workshops::bookings))
        .routes(routes!(workshops::cancel_booking))
        .routes(routes!(activity::put_record, activity::get_record))
        .routes(routes!(activity::activities))
        .routes(routes!(payments::set_bank_account, payments::bank_accounts))
        .routes(routes!(payments::confirm_bank_account))
        .routes(routes!(payments::preview))
        .routes(routes!(payments::create))
        .routes(routes!(payments::get_one))
        .routes(routes!(payments::confirm))
        .routes(routes!(payments::cancel))
        .routes(routes!(payments::create_correction, payments::corrections))
}

/// The OpenAPI document, as served.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = openapi_router().into_openapi();
    declare_common_errors(&mut doc);
    doc
}

/// Refuses a body whose declared length is over the limit before reading any of it: the body
/// limit alone would wait for the client to send 64 KiB before answering.
async fn refuse_declared_oversize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(refused) = refuse_oversized_head(&req) {
        return refused;
    }
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Logo uploads are the one place that takes more than a form (the image itself).
    let path = req.uri().path();
    let limit = if path.ends_with("/logo") || path == "/commanditaire/commandes/nouvelle" {
        crate::ui::UPLOAD_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    if declared.is_some_and(|n| n > limit as u64) {
        let mut response = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "Le corps de la requête est trop volumineux (64 Kio au plus).",
        )
        .into_response();
        // The body stays unread, so this connection cannot carry another request: say so,
        // or a client would reuse it and see its next request fail.
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    next.run(req).await
}

/// The longest address answered (browsers and proxies stop near 8 KiB too).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names, values and separators) and headers one request may carry.
/// Above `crate::server::MAX_HEAD_BUFFER` the connection refuses the request on its own,
/// without a body; between the two, the client is told why.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MAX_HEADERS: usize = 100;

fn refuse_oversized_head(req: &axum::extract::Request) -> Option<axum::response::Response> {
    if req.uri().to_string().len() > MAX_URI_BYTES {
        return Some(answer_for(
            req,
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            "L'adresse demandée est trop longue (8 Kio au plus).",
            (
                "Adresse trop longue",
                "L'adresse demandée est trop longue. Revenez à l'accueil et suivez les liens du site.",
            ),
        ));
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if bytes > MAX_HEADER_BYTES || headers.len() > MAX_HEADERS {
        return Some(answer_for(
            req,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            "Les en-têtes de la requête sont trop volumineux (32 Kio et 100 en-têtes au plus).",
            (
                "Requête trop volumineuse",
                "Votre navigateur envoie trop de données (souvent des cookies accumulés). Effacez les cookies de ce site, puis réessayez.",
            ),
        ));
    }
    None
}

/// Marks the answer to a handler that panicked.
#[derive(Clone, Copy)]
struct Panicked;

/// A handler that panics answers 500 (its transaction, dropped, wrote nothing): the stable
/// `internal_error` to programs, a DSFR page in French to a browser.
fn guard_panics<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            let mut r = ApiError::internal().into_response();
            r.extensions_mut().insert(Panicked);
            r
        }))
        .layer(axum::middleware::from_fn(
            |req: axum::extract::Request, next: axum::middleware::Next| async move {
                let page = wants_page(&req).then(|| req.headers().clone());
                let response = next.run(req).await;
                match page {
                    Some(headers) if response.extensions().get::<Panicked>().is_some() => {
                        let csrf = crate::ui::session::Csrf::from_headers(&headers);
                        crate::ui::message(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            None,
                            &csrf,
                            "Erreur inattendue",
                            "Une erreur inattendue a interrompu votre demande : rien n'a été enregistré à moitié. Réessayez dans un instant ; si l'erreur revient, prévenez l'opérateur.",
                        )
                    }
                    _ => response,
                }
            },
        ))
}

/// A browser asking for a page (HTML, outside `/api/`), rather than a program.
fn wants_page(req: &axum::extract::Request) -> bool {
    req.headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
        && !req.uri().path().starts_with("/api/")
}

/// An answer outside every route: JSON for the API and programs, a DSFR page for a browser
/// (one that asks for HTML, outside `/api/`).
fn answer_for(
    req: &axum::extract::Request,
    status: StatusCode,
    code: &str,
    sentence: &str,
    (heading, text): (&str, &str),
) -> axum::response::Response {
    if wants_page(req) {
        let csrf = crate::ui::session::Csrf::from_headers(req.headers());
        crate::ui::message(status, None, &csrf, heading, text)
    } else {
        ApiError::new(status, code, sentence).into_response()
    }
}

pub fn router(state: AppState, pages: Router<AppState>) -> Router {
    let (api, mut doc) = openapi_router().split_for_parts();
    declare_common_errors(&mut doc);
    let api = api.merge(pages);
    let doc = std::sync::Arc::new(doc);
    let deploy = state.deploy.clone();
    let router = api
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(doc.as_ref().clone()) }),
        )
        // `/healthz` is the address earlier versions answered; load balancers may still ask it.
        .route("/healthz", get(crate::ops::livez))
        .route("/livez", get(crate::ops::livez))
        .route("/readyz", get(crate::ops::readyz))
        .route(
            "/open-data/lieux-de-mediation-numerique.csv",
            get(crate::open_data::venues_csv),
        )
        .fallback(|req: axum::extract::Request| async move {
            answer_for(
                &req,
                StatusCode::NOT_FOUND,
                "not_found",
                "Cette adresse n'existe pas.",
                (
                    "Page introuvable",
                    "Cette adresse n'existe pas. Utilisez le menu, ou revenez à l'accueil.",
                ),
            )
        })
        .method_not_allowed_fallback(|req: axum::extract::Request| async move {
            answer_for(
                &req,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Méthode HTTP non prise en charge ici.",
                (
                    "Page introuvable",
                    "Cette page ne s'ouvre pas ainsi. Utilisez le menu, ou revenez à l'accueil.",
                ),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            crate::server::BODY_READ_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::fresh_reads::follow_writes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::ops::observe_request,
        ));
    let router = guard_panics(router).with_state(state);
    crate::deploy::layers(router, &deploy)
}

#[cfg(test)]
mod panic_tests {
    use super::*;
    use tower::ServiceExt;

    async fn ask(accept: &str, path: &str) -> (StatusCode, String, String) {
        let app = guard_panics(Router::new().route(
            "/{*rest}",
            get(|| async {
                panic!("a defect");
                #[allow(unreachable_code)]
                ""
            }),
        ));
        let req = axum::http::Request::get(path)
            .header("accept", accept)
            .body(axum::body::Body::empty())
            .unwrap();
        let r = app.oneshot(req).await.unwrap();
        let status = r.status();
        let ct = r.headers()[axum::http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, ct, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_panic_is_a_french_page_for_a_browser_and_a_stable_code_for_a_program() {
        let (status, ct, body) = ask("text/html,application/xhtml+xml", "/lieu").await;
        assert_eq!(status, 500);
        assert!(ct.starts_with("text/html"), "{ct}");
        assert!(
            body.contains("Erreur inattendue") && body.contains("fr-header"),
            "{body}"
        );
        let (status, ct, body) = ask("application/json", "/lieu").await;
        assert_eq!(
            (status, ct.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "application/json")
        );
        assert!(body.contains("\"internal_error\""), "{body}");
        // The API stays JSON even for a browser.
        let (_, ct, _) = ask("text/html", "/api/v1/orders").await;
        assert_eq!(ct, "application/json");
    }
}
