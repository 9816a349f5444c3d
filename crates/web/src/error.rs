//! The one error type of the HTTP layer, and its single mapping to responses.
//!
//! Body: `{"error": {"code": "stable_machine_code", "message": "Phrase en français."}}`.
//! Internal causes are logged, never shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use passnum_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `cheque_already_redeemed`.
    pub code: String,
    /// What happened and what to do, in French.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Jeton d'accès absent ou invalide : envoyez l'en-tête « Authorization: Bearer <jeton> ».",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Votre rôle ne permet pas cette opération.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Ressource introuvable.")
    }

    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// A form refused field by field: every "field : sentence" in one message.
    pub fn invalid_fields(code: &str, errors: &[(&'static str, String)]) -> Self {
        Self::invalid(
            code,
            errors
                .iter()
                .map(|(field, sentence)| format!("{field} : {sentence}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Une erreur interne est survenue. Réessayez ; si elle persiste, contactez l'opérateur.",
        )
    }

    /// A business refusal: its status follows from its kind.
    pub fn refused(r: &impl passnum_core::Refusal) -> Self {
        Self::new(Self::status_of_kind(r.kind()), r.code(), r.to_string())
    }

    /// The one mapping from a refusal's kind to an HTTP status.
    pub fn status_of_kind(kind: passnum_core::RefusalKind) -> StatusCode {
        match kind {
            passnum_core::RefusalKind::NotFound => StatusCode::NOT_FOUND,
            passnum_core::RefusalKind::Conflict => StatusCode::CONFLICT,
            passnum_core::RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::Invalid { code, message } => Self::invalid(code, message),
            StoreError::IdempotencyMismatch => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Cette clé d'idempotence a déjà servi pour une requête différente : utilisez une nouvelle clé.",
            ),
            StoreError::Stopped => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Le service redémarre : réessayez dans un instant.",
            ),
            StoreError::Interrupted => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "write_interrupted",
                "L'opération a été interrompue sans rien enregistrer : envoyez la même requête à nouveau.",
            ),
            // Serialization failures and deadlocks (retried in the store where it matters):
            // nothing was written, a stable code says to send the request again.
            e if e.is_retryable() => {
                tracing::warn!(error = %e, "écriture en conflit");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_busy",
                    "La base est très sollicitée : rien n'a été enregistré, envoyez la même requête dans un instant.",
                )
            }
            other => {
                tracing::error!(error = %other, "erreur de stockage");
                Self::internal()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<passnum_app::scopes::Denied> for ApiError {
    fn from(d: passnum_app::scopes::Denied) -> Self {
        match d {
            passnum_app::scopes::Denied::Forbidden => Self::forbidden(),
            passnum_app::scopes::Denied::NotFound => Self::not_found(),
        }
    }
}

impl From<passnum_app::handing::HandingError> for ApiError {
    fn from(e: passnum_app::handing::HandingError) -> Self {
        use passnum_app::handing::HandingError;
        match e {
            HandingError::Refused(r) => ApiError::invalid(r.code(), r.to_string()),
            HandingError::Store(s) => s.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_given_up_after_conflicts_answer_a_stable_code_not_500() {
        let e = ApiError::from(StoreError::Contention);
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code, "database_busy");
        assert!(e.message.contains("rien n'a été enregistré"));
    }
}
