//! Extractors whose rejections are [`ApiError`]s, so a client always gets the same JSON shape.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body; unknown fields are refused by the DTOs (`deny_unknown_fields`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Envoyez un corps JSON avec l'en-tête « Content-Type: application/json ».",
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "Le corps de la requête n'est pas du JSON valide.",
        ),
        JsonRejection::JsonDataError(e) => ApiError::invalid(
            "invalid_body",
            format!(
                "Le contenu JSON ne correspond pas au format attendu : {}",
                e.body_text()
            ),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "Le corps de la requête est trop volumineux (64 Kio au plus).",
        ),
        other => ApiError::new(
            other.status(),
            "invalid_body",
            "Le corps de la requête n'a pas pu être lu.",
        ),
    }
}

pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    format!("Adresse invalide : {}", e.body_text()),
                )
            })
    }
}

pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("Paramètres invalides : {}", e.body_text()),
                )
            })
    }
}

/// The optional `Idempotency-Key` header: 1 to 200 visible ASCII characters.
pub struct IdempotencyHeader(pub Option<passnum_app::redeem::ClientKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let bad = || {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                format!(
                    "L'en-tête Idempotency-Key doit contenir de 1 à {} caractères ASCII visibles.",
                    passnum_app::redeem::MAX_IDEMPOTENCY_KEY_CHARS
                ),
            )
        };
        let s = v.to_str().map_err(|_| bad())?;
        passnum_app::redeem::ClientKey::parse(s)
            .map(|k| Self(Some(k)))
            .ok_or_else(bad)
    }
}
