//! Observers (the State's programme team, a territorial hub): organisations whose staff read
//! the figures of the funders they are granted. Nothing else is open to them.

use passnum_core::{FunderId, ObserverId, Timestamp};

use crate::rows::{get_i64, get_string};
use crate::{Store, StoreError};

/// The kinds of observer, with their labels.
pub const OBSERVER_KINDS: [(&str, &str); 3] = [
    ("etat", "Équipe du programme (État)"),
    ("hub", "Hub territorial"),
    ("autre", "Autre"),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observer {
    pub id: ObserverId,
    pub name: String,
    pub kind: String,
    /// The funders whose figures it reads, by name.
    pub funders: Vec<(FunderId, String)>,
}

impl Store {
    pub async fn create_observer(
        &self,
        name: &str,
        kind: &str,
        now: Timestamp,
    ) -> Result<Observer, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid {
                code: "invalid_name",
                message: "Donnez le nom de l'observateur (200 caractères au plus).".into(),
            });
        }
        if !OBSERVER_KINDS.iter().any(|(k, _)| *k == kind) {
            return Err(StoreError::Invalid {
                code: "invalid_kind",
                message: "Choisissez le type d'observateur : État, hub territorial ou autre."
                    .into(),
            });
        }
        let mut tx = self.begin_write().await?;
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM observers WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        if taken > 0 {
            return Err(StoreError::Conflict {
                code: "observer_exists",
                message: "Un observateur porte déjà ce nom.".into(),
            });
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO observers (name, kind, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(kind)
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get_observer(ObserverId(id)).await
    }

    pub async fn get_observer(&self, id: ObserverId) -> Result<Observer, StoreError> {
        let row = sqlx::query("SELECT id, name, kind FROM observers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        let funders = sqlx::query(
            "SELECT f.id, f.name FROM observer_funders g JOIN funders f ON f.id = g.funder_id \
             WHERE g.observer_id = $1 ORDER BY f.name",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((FunderId(get_i64(r, "id")?), get_string(r, "name")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Observer {
            id,
            name: get_string(&row, "name")?,
            kind: get_string(&row, "kind")?,
            funders,
        })
    }

    /// Every observer with its funders, in two statements (observers are few: 500 at most).
    pub async fn list_observers(&self) -> Result<Vec<Observer>, StoreError> {
        let mut list: Vec<Observer> =
            sqlx::query("SELECT id, name, kind FROM observers ORDER BY name LIMIT 500")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| {
                    Ok(Observer {
                        id: ObserverId(get_i64(r, "id")?),
                        name: get_string(r, "name")?,
                        kind: get_string(r, "kind")?,
                        funders: vec![],
                    })
                })
                .collect::<Result<_, StoreError>>()?;
        for r in sqlx::query(
            "SELECT g.observer_id, f.id, f.name FROM observer_funders g \
             JOIN funders f ON f.id = g.funder_id ORDER BY f.name",
        )
        .fetch_all(self.pool())
        .await?
        {
            let o = get_i64(&r, "observer_id")?;
            if let Some(obs) = list.iter_mut().find(|x| x.id.0 == o) {
                obs.funders
                    .push((FunderId(get_i64(&r, "id")?), get_string(&r, "name")?));
            }
        }
        Ok(list)
    }

    /// Opens (or closes) a funder's figures to an observer. Idempotent.
    pub async fn set_observer_grant(
        &self,
        observer: ObserverId,
        funder: FunderId,
        granted: bool,
        now: Timestamp,
    ) -> Result<Observer, StoreError> {
        self.get_observer(observer).await?;
        self.get_funder(funder).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM observer_funders WHERE observer_id = $1 AND funder_id = $2")
            .bind(observer.0)
            .bind(funder.0)
            .execute(&mut *tx)
            .await?;
        if granted {
            sqlx::query(
                "INSERT INTO observer_funders (observer_id, funder_id, granted_at) VALUES ($1, $2, $3)",
            )
            .bind(observer.0)
            .bind(funder.0)
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.get_observer(observer).await
    }
}
