//! Correcting a member territory after it joined — its name (a typo), its communes (a code
//! typed wrongly, a commune that joins or leaves the group), its délibération's reference and
//! date (typed wrongly): checked like a declaration, and never taking away a commune whose
//! structures already received the territory's booklets. Withdrawing one declared by mistake,
//! while nothing hangs on it.

use passnum_core::member_territory::{Declared, TerritoryAmendment, TerritoryError, covers};
use passnum_core::territory::{Level, label_of};
use passnum_core::{InseeCode, OrderId, TerritoryId};

use crate::rows::get_string;
use crate::territories::{Territory, insert_communes, territory_communes_of_order};
use crate::{Store, StoreError};

/// Why a cancelled order's territories are neither corrected nor withdrawn.
const CANCELLED: &str = "Cette commande est annulée : ses territoires ne changent plus.";

impl Store {
    /// Renames a territory, replaces its communes and its délibération's reference and date,
    /// under the order's lock: its name unique
    /// in the order, each commune inside the perimeter and in no other territory; a commune
    /// where a structure received booklets from the territory stays. All or nothing.
    pub async fn amend_territory(
        &self,
        order: OrderId,
        territory: TerritoryId,
        amendment: &TerritoryAmendment,
    ) -> Result<Territory, StoreError> {
        crate::retry::retrying(&self.inner.telemetry, "amend_territory", || {
            self.amend_territory_once(order, territory, amendment)
        })
        .await?;
        self.territory(order, territory).await
    }

    async fn amend_territory_once(
        &self,
        order: OrderId,
        territory: TerritoryId,
        amendment: &TerritoryAmendment,
    ) -> Result<(), StoreError> {
        let communes = &amendment.communes;
        let mut tx = self.begin_write().await?;
        crate::orders::lock_open_order(self.engine(), &mut tx, order, CANCELLED).await?;
        let declared = territory_communes_of_order(&mut tx, order).await?;
        if !declared.iter().any(|(id, _, _)| *id == territory) {
            return Err(StoreError::NotFound);
        }
        let others: Vec<Declared<'_>> = declared
            .iter()
            .filter(|(id, _, _)| *id != territory)
            .map(|(_, name, communes)| Declared { name, communes })
            .collect();
        let perimeter = crate::orders::perimeter(&mut tx, &self.inner.caches, order).await?;
        amendment
            .check_against(&perimeter, &others)
            .map_err(|e| StoreError::refused(&e))?;
        // The communes of the structures this territory gave booklets to (its moves: a few
        // rows, where the booklets would be a scan).
        let served = sqlx::query(
            "SELECT DISTINCT d.commune_insee FROM allocation_moves m \
             JOIN distributors d ON d.id = m.to_distributor_id WHERE m.from_territory_id = $1",
        )
        .bind(territory.0)
        .fetch_all(&mut *tx)
        .await?;
        for r in &served {
            let commune = get_string(r, "commune_insee")?;
            if let Ok(c) = InseeCode::parse(&commune)
                && !covers(communes, &c)
            {
                return Err(StoreError::Conflict {
                    code: "territory_commune_in_use",
                    message: format!(
                        "{} garde des structures qui ont reçu des carnets de ce territoire : \
                         elle reste dans ses communes.",
                        label_of(Level::Commune, &commune)
                    ),
                });
            }
        }
        // The name's key refuses a concurrent rename to the same name.
        sqlx::query(
            "UPDATE order_territories SET name = $1, deliberation_ref = $2, deliberation_on = $3 WHERE id = $4",
        )
        .bind(&amendment.name)
        .bind(&amendment.deliberation.reference)
        .bind(crate::territories::day(amendment.deliberation.date))
        .bind(territory.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    StoreError::refused(&TerritoryError::DuplicateName(amendment.name.clone()))
                } else {
                    e
                }
            })?;
        sqlx::query("DELETE FROM territory_communes WHERE territory_id = $1")
            .bind(territory.0)
            .execute(&mut *tx)
            .await?;
        insert_communes(&mut tx, order, territory, communes).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws a territory declared by mistake, under the order's lock, while nothing hangs
    /// on it: no booklet moved to or from it (its moves and procès-verbaux stay true), no
    /// référent account or API token. Its communes and documents go with it. All or nothing.
    pub async fn remove_territory(
        &self,
        order: OrderId,
        territory: TerritoryId,
    ) -> Result<(), StoreError> {
        crate::retry::retrying(&self.inner.telemetry, "remove_territory", || {
            self.remove_territory_once(order, territory)
        })
        .await
    }

    async fn remove_territory_once(
        &self,
        order: OrderId,
        territory: TerritoryId,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        crate::orders::lock_open_order(self.engine(), &mut tx, order, CANCELLED).await?;
        // Locked before looking for référents: an account or token being created for it holds
        // it in share mode (Store::lock_referent_territory), so one of the two waits.
        let lock = self.engine().for_update();
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM order_territories WHERE id = $1 AND order_id = $2{lock}"
        )))
        .bind(territory.0)
        .bind(order.0)
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        let moved: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM allocation_moves WHERE from_territory_id = $1 OR to_territory_id = $1 LIMIT 1",
        )
        .bind(territory.0)
        .fetch_optional(&mut *tx)
        .await?;
        if moved.is_some() {
            return Err(StoreError::Conflict {
                code: "territory_in_use",
                message: "Ce territoire a reçu des carnets : il reste, pour l'inventaire et les \
                          procès-verbaux. Corrigez-le plutôt (nom, communes, délibération)."
                    .into(),
            });
        }
        let referent: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM staff WHERE role = 'referent' AND org_id = $1 \
             UNION ALL SELECT 1 FROM api_tokens WHERE role = 'referent' AND actor_id = $1",
        )
        .bind(territory.0)
        .fetch_optional(&mut *tx)
        .await?;
        if referent.is_some() {
            return Err(StoreError::Conflict {
                code: "territory_has_referents",
                message: "Un référent est désigné pour ce territoire : il ne peut plus être \
                          retiré. Corrigez-le plutôt (nom, communes, délibération)."
                    .into(),
            });
        }
        for sql in [
            "DELETE FROM territory_documents WHERE territory_id = $1",
            "DELETE FROM territory_communes WHERE territory_id = $1",
            "DELETE FROM order_territories WHERE id = $1",
        ] {
            sqlx::query(sql).bind(territory.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
