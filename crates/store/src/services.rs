use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use passnum_core::Timestamp;
use passnum_core::service::{
    CheckedDraft, DEFAULT_REFERENTIEL_CSV, Service, ServiceCatalog, ServiceCode, name_changes,
};

use crate::rows::{get_i64, get_string, value_rows};
use crate::{Store, StoreError};

impl Store {
    /// Loads the shipped référentiel the first time passnum starts on a database.
    pub(crate) async fn ensure_services_loaded(&self) -> Result<(), StoreError> {
        // Two servers that start together both find the table empty; at SERIALIZABLE one of
        // them is refused and, run again, finds the référentiel the other loaded.
        crate::retry::retrying(&self.inner.telemetry, "referentiel", || {
            self.load_referentiel_if_empty()
        })
        .await
    }

    async fn load_referentiel_if_empty(&self) -> Result<(), StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM services")
            .fetch_one(self.pool())
            .await?;
        if count == 0 {
            let catalog = ServiceCatalog::parse_csv(DEFAULT_REFERENTIEL_CSV)
                .map_err(|e| StoreError::Config(format!("référentiel embarqué : {e}")))?;
            // The shipped référentiel is where the history starts.
            self.write_services(&catalog, None).await?;
        } else {
            self.refresh_service_cache().await?;
        }
        Ok(())
    }

    /// Adds or updates services from a catalogue (`passnum services load`). Existing codes keep
    /// their history: a service that redemptions point to is renamed, never removed. Each
    /// creation and renaming goes to the référentiel's history.
    pub async fn load_services(
        &self,
        catalog: &ServiceCatalog,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        self.write_services(catalog, Some(now)).await
    }

    async fn write_services(
        &self,
        catalog: &ServiceCatalog,
        history: Option<Timestamp>,
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let before: HashMap<String, Service> = read_services(&mut tx, None)
            .await?
            .into_iter()
            .map(|s| (s.code.to_string(), s))
            .collect();
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
        if let Some(now) = history {
            let changes: Vec<(String, String)> = catalog
                .services
                .iter()
                .flat_map(|s| {
                    name_changes(before.get(s.code.as_str()), s)
                        .into_iter()
                        .map(|c| (s.code.to_string(), c))
                })
                .collect();
            record_changes(self.engine(), &mut tx, &changes, ChangeAuthor::File, now).await?;
        }
        tx.commit().await?;
        self.refresh_service_cache().await?;
        Ok(catalog.services.len())
    }

    /// The operator creates a service or renames it, its category or its level (page, API).
    /// A category or level renamed is renamed for all its services; a name left empty keeps
    /// the current one. Returns the service and whether it is new.
    pub async fn save_service(
        &self,
        draft: &CheckedDraft,
        by: ChangeAuthor,
        now: Timestamp,
    ) -> Result<(Service, bool), StoreError> {
        let mut tx = self.begin_write().await?;
        let known = read_services(&mut tx, None).await?;
        let before = known.iter().find(|s| s.code == draft.code);
        let level_name = known
            .iter()
            .find(|s| s.level == draft.level)
            .map(|s| s.level_name.as_str());
        let category_name = known
            .iter()
            .find(|s| s.category_code == draft.category_code)
            .map(|s| s.category_name.as_str());
        let mut service =
            draft
                .with_names(level_name, category_name)
                .map_err(|e| StoreError::Invalid {
                    code: e.code(),
                    message: match e {
                        passnum_core::DraftError::LevelName => {
                            format!("Le niveau {} est nouveau : donnez son nom.", draft.level)
                        }
                        passnum_core::DraftError::CategoryName => {
                            format!(
                                "La catégorie {} est nouvelle : donnez son nom.",
                                draft.category_code
                            )
                        }
                        other => other.to_string(),
                    },
                })?;
        if let Some(b) = before {
            service.active = b.active;
            service.standard_service = b.standard_service.clone();
        } else {
            sqlx::query("INSERT INTO services (code, level, level_name, category_code, category_name, name) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(service.code.as_str())
                .bind(service.level)
                .bind(&service.level_name)
                .bind(&service.category_code)
                .bind(&service.category_name)
                .bind(&service.name)
                .execute(&mut *tx)
                .await?;
        }
        // A level's or category's name is one name: renamed here, renamed for all its services.
        for (sql, key, name) in [
            (
                "UPDATE services SET name = $1 WHERE code = $2 AND name <> $1",
                service.code.to_string(),
                &service.name,
            ),
            (
                "UPDATE services SET category_name = $1 WHERE category_code = $2 AND category_name <> $1",
                service.category_code.clone(),
                &service.category_name,
            ),
            (
                "UPDATE services SET level_name = $1 WHERE level = CAST($2 AS BIGINT) AND level_name <> $1",
                service.level.to_string(),
                &service.level_name,
            ),
        ] {
            sqlx::query(sql)
                .bind(name)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        let changes: Vec<(String, String)> = name_changes(before, &service)
            .into_iter()
            .map(|c| (service.code.to_string(), c))
            .collect();
        record_changes(self.engine(), &mut tx, &changes, by, now).await?;
        tx.commit().await?;
        self.refresh_service_cache().await?;
        Ok((service, before.is_none()))
    }

    /// The référentiel's history, newest first.
    pub async fn service_changes(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ServiceChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.service_code, c.at, c.via, s.display_name, c.change FROM service_changes c \
             LEFT JOIN staff s ON s.id = c.by_staff ORDER BY c.at DESC, c.id DESC LIMIT $1 OFFSET $2",
        )
        .bind(crate::rows::page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ServiceChange {
                    code: get_string(r, "service_code")?,
                    at: Timestamp::from_unix_ms(get_i64(r, "at")?),
                    by: match get_string(r, "via")?.as_str() {
                        "api" => "API (jeton de l'opérateur)".to_string(),
                        "file" => "fichier chargé (passnum services load)".to_string(),
                        _ => crate::rows::get_opt_string(r, "display_name")?.unwrap_or_default(),
                    },
                    change: get_string(r, "change")?,
                })
            })
            .collect()
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
        let mut conn = self.pool().acquire().await?;
        read_services(&mut conn, None).await
    }

    /// The operator deactivates (or reactivates) a service, or chooses its value in the
    /// national standard (`Some("")`: back to its category's). Takes effect at once: the next
    /// catalogue change and the next scan see it.
    pub async fn update_service(
        &self,
        code: &str,
        active: Option<bool>,
        standard_service: Option<&str>,
        by: ChangeAuthor,
        now: Timestamp,
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
        let before = read_services(&mut tx, Some(code))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE services SET active = COALESCE($1, active), standard_service = COALESCE($2, standard_service) WHERE code = $3",
        )
        .bind(active.map(i64::from))
        .bind(standard_service)
        .bind(code)
        .execute(&mut *tx)
        .await?;
        let after = read_services(&mut tx, Some(code))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        let mut changes = Vec::new();
        if before.active != after.active {
            changes.push(
                if after.active {
                    "Service réactivé : les lieux peuvent le proposer."
                } else {
                    "Service désactivé : plus de nouveau catalogue ni d'encaissement."
                }
                .to_string(),
            );
        }
        if before.standard_service != after.standard_service {
            let shown = |v: &str| {
                if v.is_empty() {
                    "celle de sa catégorie".to_string()
                } else {
                    format!("« {v} »")
                }
            };
            changes.push(format!(
                "Valeur du standard national : {} → {}.",
                shown(&before.standard_service),
                shown(&after.standard_service)
            ));
        }
        let changes: Vec<(String, String)> =
            changes.into_iter().map(|c| (code.to_string(), c)).collect();
        record_changes(self.engine(), &mut tx, &changes, by, now).await?;
        tx.commit().await?;
        self.refresh_service_cache().await?;
        Ok(after)
    }
}

/// Who changes the référentiel, for its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAuthor {
    /// A staff member on the operator's pages.
    Staff(i64),
    /// An API token (no staff member behind it).
    Api,
    /// `passnum services load`.
    File,
}

impl ChangeAuthor {
    fn parts(self) -> (Option<i64>, &'static str) {
        match self {
            Self::Staff(id) => (Some(id), "page"),
            Self::Api => (None, "api"),
            Self::File => (None, "file"),
        }
    }
}

/// One line of the référentiel's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceChange {
    pub code: String,
    pub at: Timestamp,
    /// Who did it: a staff member's name, "API" or "fichier chargé".
    pub by: String,
    pub change: String,
}

/// The services (or the one with `code`), in code order.
async fn read_services(
    conn: &mut sqlx::AnyConnection,
    code: Option<&str>,
) -> Result<Vec<Service>, StoreError> {
    sqlx::query(
        "SELECT code, level, level_name, category_code, category_name, name, active, standard_service \
         FROM services WHERE ($1 IS NULL OR code = $1) ORDER BY code",
    )
    .bind(code)
    .fetch_all(&mut *conn)
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

async fn record_changes(
    engine: crate::Engine,
    conn: &mut sqlx::AnyConnection,
    changes: &[(String, String)],
    by: ChangeAuthor,
    now: Timestamp,
) -> Result<(), StoreError> {
    for chunk in changes.chunks(200) {
        let sql = format!(
            "INSERT INTO service_changes (service_code, at, by_staff, via, change) VALUES {}",
            value_rows(engine, chunk.len(), 5)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let (staff, via) = by.parts();
        for (code, change) in chunk {
            q = q
                .bind(code.clone())
                .bind(now.unix_ms())
                .bind(staff)
                .bind(via)
                .bind(change.chars().take(1000).collect::<String>());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
