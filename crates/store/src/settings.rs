//! Programme-wide settings: the operator's fees, the household key's fingerprint.

use passnum_core::Timestamp;
use passnum_core::payment::FeeRate;
use serde::Serialize;

use crate::rows::get_i64;
use crate::{Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProgrammeFees {
    /// Kept from each cheque paid to a venue (the default of payment runs).
    pub venue_fee_bp: i64,
    /// Charged to a funder on top of its order's face value.
    pub funder_fee_bp: i64,
}

impl ProgrammeFees {
    pub fn venue(self) -> FeeRate {
        FeeRate::from_basis_points(self.venue_fee_bp).unwrap_or_default()
    }

    pub fn funder(self) -> FeeRate {
        FeeRate::from_basis_points(self.funder_fee_bp).unwrap_or_default()
    }
}

impl Store {
    pub async fn programme_fees(&self) -> Result<ProgrammeFees, StoreError> {
        let row =
            sqlx::query("SELECT venue_fee_bp, funder_fee_bp FROM programme_settings WHERE id = 1")
                .fetch_one(self.pool())
                .await?;
        Ok(ProgrammeFees {
            venue_fee_bp: get_i64(&row, "venue_fee_bp")?,
            funder_fee_bp: get_i64(&row, "funder_fee_bp")?,
        })
    }

    /// Sets the fees for what comes next: confirmed orders keep the fee of their invoice,
    /// payment runs keep the fee they were prepared with.
    pub async fn set_programme_fees(
        &self,
        venue: FeeRate,
        funder: FeeRate,
        now: Timestamp,
    ) -> Result<ProgrammeFees, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE programme_settings SET venue_fee_bp = $1, funder_fee_bp = $2, updated_at = $3 WHERE id = 1",
        )
        .bind(venue.basis_points())
        .bind(funder.basis_points())
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.programme_fees().await
    }
}

impl Store {
    /// Whether every scan must name a workshop (`passnum settings` / the operator's page).
    pub async fn workshop_required(&self) -> Result<bool, StoreError> {
        let v: i64 =
            sqlx::query_scalar("SELECT workshop_required FROM programme_settings WHERE id = 1")
                .fetch_one(self.pool())
                .await?;
        Ok(v == 1)
    }

    pub async fn set_workshop_required(
        &self,
        required: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE programme_settings SET workshop_required = $1, updated_at = $2 WHERE id = 1",
        )
        .bind(i64::from(required))
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // This server's redemption batches see it at once (others within seconds).
        *self.inner.caches.workshop_required.lock() = Some((required, std::time::Instant::now()));
        Ok(())
    }
}

impl Store {
    /// Checks that this server hashes households with the same secret as the others sharing
    /// the database: records the fingerprint the first time, refuses another one afterwards.
    pub async fn check_household_key(&self, fingerprint: &str) -> Result<(), StoreError> {
        // Servers starting together all write the first fingerprint: retried on a
        // serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "household_key", || {
            self.check_household_key_once(fingerprint)
        })
        .await
    }

    async fn check_household_key_once(&self, fingerprint: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE programme_settings SET household_key_fingerprint = $1 \
             WHERE id = 1 AND household_key_fingerprint IS NULL",
        )
        .bind(fingerprint)
        .execute(&mut *tx)
        .await?;
        let stored: Option<String> = sqlx::query_scalar(
            "SELECT household_key_fingerprint FROM programme_settings WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        if stored.as_deref() != Some(fingerprint) {
            return Err(StoreError::Config(
                "la clé des foyers de ce serveur n'est pas celle des autres serveurs de cette \
                 base : copiez le fichier de clé des foyers du premier serveur (option \
                 --household-key)"
                    .into(),
            ));
        }
        Ok(())
    }
}
