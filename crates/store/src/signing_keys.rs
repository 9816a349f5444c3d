//! Public keys of the cheque signatures. Secret keys never enter the database: each signing
//! server keeps its own in a file; the database publishes every public key so that any server
//! (and anyone holding the published list) can verify any printed cheque.

use passnum_core::Timestamp;
use passnum_core::signature::{KeyId, VerifyingKey};
use serde::Serialize;

use crate::rows::{get_i64, get_opt_i64, get_string};
use crate::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicKeyRecord {
    pub kid: KeyId,
    #[serde(skip)]
    pub public_key: [u8; 32],
    pub created_at: Timestamp,
    /// No longer signs new cheques; cheques it signed stay genuine.
    pub retired_at: Option<Timestamp>,
    /// Compromised: cheques it signed are refused.
    pub revoked_at: Option<Timestamp>,
}

impl PublicKeyRecord {
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.public_key).ok()
    }
}

impl Store {
    /// Publishes a public key. Registering the same key twice is harmless; another key under
    /// the same id is refused (the signer then draws a new key).
    pub async fn register_signing_key(
        &self,
        public: &VerifyingKey,
        now: Timestamp,
    ) -> Result<KeyId, StoreError> {
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "signing_key", || {
            self.register_signing_key_once(public, now)
        })
        .await
    }

    async fn register_signing_key_once(
        &self,
        public: &VerifyingKey,
        now: Timestamp,
    ) -> Result<KeyId, StoreError> {
        let kid = KeyId::of(public);
        let mut tx = self.begin_write().await?;
        // Servers sharing a key file register it at the same moment: the second insert is a
        // no-op, then both read back what is stored under the id. No conflict target: with
        // `(kid)` only, PostgreSQL let the racing insert fail on the other unique column
        // (public_key) instead of skipping it.
        sqlx::query(
            "INSERT INTO signing_keys (kid, public_key, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(kid.as_str())
        .bind(public.to_bytes().to_vec())
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?;
        let stored: Vec<u8> =
            sqlx::query_scalar("SELECT public_key FROM signing_keys WHERE kid = $1")
                .bind(kid.as_str())
                .fetch_one(&mut *tx)
                .await?;
        if stored != public.to_bytes() {
            return Err(StoreError::Conflict {
                code: "key_id_taken",
                message: format!(
                    "L'identifiant de clé {} est déjà pris par une autre clé : créez-en une nouvelle (passnum keys rotate).",
                    kid.as_str()
                ),
            });
        }
        tx.commit().await?;
        Ok(kid)
    }

    pub async fn signing_keys(&self) -> Result<Vec<PublicKeyRecord>, StoreError> {
        sqlx::query(
            "SELECT kid, public_key, created_at, retired_at, revoked_at FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let kid = get_string(r, "kid")?;
            let bytes: Vec<u8> = sqlx::Row::try_get(r, "public_key")?;
            Ok(PublicKeyRecord {
                kid: KeyId::parse(&kid).ok_or_else(|| StoreError::corrupt(format!("clé {kid}")))?,
                public_key: bytes
                    .try_into()
                    .map_err(|_| StoreError::corrupt(format!("clé publique {kid}")))?,
                created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
                retired_at: get_opt_i64(r, "retired_at")?.map(Timestamp::from_unix_ms),
                revoked_at: get_opt_i64(r, "revoked_at")?.map(Timestamp::from_unix_ms),
            })
        })
        .collect()
    }

    /// The keys that verify cheques today: every unrevoked key, by id.
    pub async fn verifying_keys(
        &self,
    ) -> Result<std::collections::HashMap<KeyId, VerifyingKey>, StoreError> {
        Ok(self
            .signing_keys()
            .await?
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .filter_map(|k| Some((k.kid.clone(), k.verifying_key()?)))
            .collect())
    }

    /// Marks a key retired (after rotation) or revoked (compromised). Idempotent: the first
    /// date stays.
    pub async fn end_signing_key(
        &self,
        kid: &KeyId,
        revoke: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let column = if revoke { "revoked_at" } else { "retired_at" };
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE signing_keys SET {column} = COALESCE({column}, $1) WHERE kid = $2"
        )))
        .bind(now.unix_ms())
        .bind(kid.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
