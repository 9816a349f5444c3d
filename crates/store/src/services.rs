use std::collections::HashSet;
use std::sync::Arc;

use passnum_core::service::{DEFAULT_REFERENTIEL_CSV, Service, ServiceCatalog, ServiceCode};

use crate::rows::{get_i64, get_string, value_rows};
use crate::{Store, StoreError};

impl Store {
    /// Loads the shipped référentiel the first time passnum starts on a database.
    pub(crate) async fn ensure_services_loaded(&self) -> Result<(), StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM services")
            .fetch_one(self.pool())
            .await?;
        if count == 0 {
            let catalog = ServiceCatalog::parse_csv(DEFAULT_REFERENTIEL_CSV)
                .map_err(|e| StoreError::Config(format!("référentiel embarqué : {e}")))?;
            self.load_services(&catalog).await?;
        } else {
            self.refresh_service_cache().await?;
        }
        Ok(())
    }

    /// Adds or updates services from a catalogue. Existing codes keep their history: a service
    /// that redemptions point to is renamed, never removed.
    pub async fn load_services(&self, catalog: &ServiceCatalog) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        for chunk in catalog.services.chunks(200) {
            let sql = format!(
                "INSERT INTO services (code, level, level_name, category_code, category_name, name) VALUES {} \
                 ON CONFLICT (code) DO UPDATE SET level = excluded.level, level_name = excluded.level_name, \
                 category_code = excluded.category_code, category_name = excluded.category_name, name = excluded.name",
                value_rows(self.engine(), chunk.len(), 6)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                q = q
                    .bind(s.code.as_str().to_string())
                    .bind(s.level)
                    .bind(s.level_name.clone())
                    .bind(s.category_code.clone())
                    .bind(s.category_name.clone())
                    .bind(s.name.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.refresh_service_cache().await?;
        Ok(catalog.services.len())
    }

    async fn refresh_service_cache(&self) -> Result<(), StoreError> {
        // Only what may be offered and scanned today.
        let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM services WHERE active = 1")
            .fetch_all(self.pool())
            .await?;
        *self.inner.caches.services.lock() = Arc::new(codes.into_iter().collect::<HashSet<_>>());
        Ok(())
    }

    /// Every service of the référentiel, deactivated ones included, in code order.
    pub async fn list_services(&self) -> Result<Vec<Service>, StoreError> {
        sqlx::query("SELECT code, level, level_name, category_code, category_name, name, active, standard_service FROM services ORDER BY code")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let code = get_string(r, "code")?;
                Ok(Service {
                    code: ServiceCode::parse(&code).ok_or_else(|| StoreError::corrupt(format!("service {code}")))?,
                    level: get_i64(r, "level")?,
                    level_name: get_string(r, "level_name")?,
                    category_code: get_string(r, "category_code")?,
                    category_name: get_string(r, "category_name")?,
                    name: get_string(r, "name")?,
                    active: get_i64(r, "active")? == 1,
                    standard_service: get_string(r, "standard_service")?,
                })
            })
            .collect()
    }

    /// The operator deactivates (or reactivates) a service, or chooses its value in the
    /// national standard (`Some("")`: back to its category's). Takes effect at once: the next
    /// catalogue change and the next scan see it.
    pub async fn update_service(
        &self,
        code: &str,
        active: Option<bool>,
        standard_service: Option<&str>,
    ) -> Result<Service, StoreError> {
        if let Some(v) = standard_service
            && !v.is_empty()
            && !passnum_core::standard::SERVICES.contains(&v)
        {
            return Err(StoreError::Invalid {
                code: "invalid_standard_service",
                message: format!(
                    "« {} » n'est pas une valeur « services » du standard national : choisissez l'une des neuf.",
                    v.chars().take(80).collect::<String>()
                ),
            });
        }
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE services SET active = COALESCE($1, active), standard_service = COALESCE($2, standard_service) WHERE code = $3",
        )
        .bind(active.map(i64::from))
        .bind(standard_service)
        .bind(code)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        self.refresh_service_cache().await?;
        self.list_services()
            .await?
            .into_iter()
            .find(|s| s.code.as_str() == code)
            .ok_or(StoreError::NotFound)
    }
}
