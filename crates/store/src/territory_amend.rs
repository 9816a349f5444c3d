//! Correcting a member territory after it joined — its name (a typo), its communes (a code
//! typed wrongly, a commune that joins or leaves the group), its délibération's reference and
//! date (typed wrongly): checked like a declaration, and never taking away a commune whose
//! structures already received the territory's booklets.

use passnum_core::member_territory::{Declared, TerritoryAmendment, TerritoryError, covers};
use passnum_core::territory::{Level, label_of};
use passnum_core::{InseeCode, OrderId, TerritoryId};

use crate::rows::get_string;
use crate::territories::{Territory, insert_communes, territory_communes_of_order};
use crate::{Store, StoreError};

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
        crate::orders::lock_open_order(
            self.engine(),
            &mut tx,
            order,
            "Cette commande est annulée : ses territoires ne changent plus.",
        )
        .await?;
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
}
