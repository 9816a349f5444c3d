use passnum_core::{OrderError, PlaceError, SiretError};

/// Errors of the storage layer. Business refusals of a redemption are not errors: they are
/// an [`crate::Outcome`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record, or one the caller may not see.
    #[error("introuvable")]
    NotFound,
    /// A uniqueness or state rule refused the write; `code` is stable, `message` is French.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Input that parses but is not acceptable.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("cette clé d'idempotence a déjà servi pour une autre requête")]
    IdempotencyMismatch,
    #[error("configuration : {0}")]
    Config(String),
    /// Data in the database that passnum itself did not write that way.
    #[error("donnée incohérente en base : {0}")]
    Corrupt(String),
    #[error("le service d'écriture est arrêté")]
    Stopped,
    /// The write was taken but did not complete (its batch failed before commit): nothing was
    /// written, and the same request may be sent again.
    #[error("l'écriture a été interrompue avant d'être enregistrée")]
    Interrupted,
    /// Writes kept colliding with others (serialization failures or deadlocks, retried a few
    /// times): nothing was written; the same request may be sent again in a moment.
    #[error("la base est très sollicitée : rien n'a été enregistré, réessayez dans un instant")]
    Contention,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// A refusal decided by core, with its code and sentence; its kind says which variant.
    pub fn refused(r: &impl passnum_core::Refusal) -> Self {
        match r.kind() {
            passnum_core::RefusalKind::NotFound => Self::NotFound,
            passnum_core::RefusalKind::Conflict => Self::Conflict {
                code: r.code(),
                message: r.to_string(),
            },
            passnum_core::RefusalKind::Invalid => Self::Invalid {
                code: r.code(),
                message: r.to_string(),
            },
        }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }

    /// True for a failure that running the same transaction again may cure: PostgreSQL's
    /// serialization failure (40001) or deadlock (40P01), or contention already given up on.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Contention => true,
            Self::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40001") | Some("40P01"))
            }
            _ => false,
        }
    }

    /// True when the database refused a write because of a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

impl From<OrderError> for StoreError {
    fn from(e: OrderError) -> Self {
        Self::Invalid {
            code: "invalid_order",
            message: e.to_string(),
        }
    }
}

impl From<SiretError> for StoreError {
    fn from(e: SiretError) -> Self {
        Self::Invalid {
            code: "invalid_siret",
            message: e.to_string(),
        }
    }
}

impl From<PlaceError> for StoreError {
    fn from(e: PlaceError) -> Self {
        Self::Invalid {
            code: "invalid_place",
            message: e.to_string(),
        }
    }
}
