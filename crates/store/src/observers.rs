//! Observers (the State's programme team, a territorial hub): organisations whose staff read
//! the figures of the funders and territories they are granted. Nothing else is open to them.

use std::collections::BTreeMap;

use passnum_core::territory::{self, Level};
use passnum_core::{FunderId, ObserverId, OrderId, Timestamp};

use crate::FigureScope;

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
    /// The territories whose orders it reads.
    pub territories: Vec<(Level, String)>,
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
        let territories = sqlx::query(
            "SELECT level, code FROM observer_territories WHERE observer_id = $1 ORDER BY level, code",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .filter_map(|r| territory_of(r).transpose())
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Observer {
            id,
            name: get_string(&row, "name")?,
            kind: get_string(&row, "kind")?,
            funders,
            territories,
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
                        territories: vec![],
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
        for r in sqlx::query(
            "SELECT observer_id, level, code FROM observer_territories ORDER BY level, code",
        )
        .fetch_all(self.pool())
        .await?
        {
            let o = get_i64(&r, "observer_id")?;
            if let (Some(obs), Some(t)) = (list.iter_mut().find(|x| x.id.0 == o), territory_of(&r)?)
            {
                obs.territories.push(t);
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

    /// Opens (or closes) a territory's orders to an observer. Idempotent. The code must name
    /// a territory of the embedded data (a commune's INSEE code, an EPCI's SIREN…).
    pub async fn set_observer_territory(
        &self,
        observer: ObserverId,
        level: Level,
        code: &str,
        granted: bool,
        now: Timestamp,
    ) -> Result<Observer, StoreError> {
        self.get_observer(observer).await?;
        let code = code.trim();
        if territory::name_of(level, code).is_none() {
            return Err(StoreError::Invalid {
                code: "unknown_territory",
                message: format!(
                    "Aucun territoire de niveau « {} » ne porte le code « {code} ».",
                    level.label().to_lowercase()
                ),
            });
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM observer_territories WHERE observer_id = $1 AND level = $2 AND code = $3",
        )
        .bind(observer.0)
        .bind(level.slug())
        .bind(code)
        .execute(&mut *tx)
        .await?;
        if granted {
            sqlx::query(
                "INSERT INTO observer_territories (observer_id, level, code, granted_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(observer.0)
            .bind(level.slug())
            .bind(code)
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.get_observer(observer).await
    }

    /// The orders an observer reads: every order of its funders, and every order whose whole
    /// perimeter lies inside one of its territories (an order open to all of France never
    /// does). Perimeters are few rows; the territory test runs on the embedded data. Returns
    /// the observer too (its pages say what it is granted).
    pub async fn observer_scope(
        &self,
        observer: ObserverId,
    ) -> Result<(Observer, FigureScope), StoreError> {
        let o = self.get_observer(observer).await?;
        let funders: Vec<i64> = o.funders.iter().map(|(f, _)| f.0).collect();
        let mut perimeters: BTreeMap<i64, (i64, Vec<(Level, String)>)> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT o.id, o.funder_id, p.kind, p.code FROM orders o \
             LEFT JOIN order_perimeter p ON p.order_id = o.id WHERE o.status <> 'cancelled'",
        )
        .fetch_all(self.pool())
        .await?
        {
            let entry = perimeters
                .entry(get_i64(&r, "id")?)
                .or_insert((get_i64(&r, "funder_id")?, vec![]));
            if let Some(kind) = crate::rows::get_opt_string(&r, "kind")? {
                let level = Level::parse(&kind)
                    .ok_or_else(|| StoreError::corrupt(format!("périmètre {kind}")))?;
                entry.1.push((level, get_string(&r, "code")?));
            }
        }
        let inside = |entries: &[(Level, String)]| {
            !entries.is_empty()
                && o.territories.iter().any(|(level, code)| {
                    entries
                        .iter()
                        .all(|(entry_level, c)| territory::within(*level, code, *entry_level, c))
                })
        };
        let orders = perimeters
            .into_iter()
            .filter(|(_, (funder, entries))| funders.contains(funder) || inside(entries))
            .map(|(id, _)| OrderId(id))
            .collect();
        Ok((o, FigureScope::Orders(orders)))
    }
}

fn territory_of(r: &sqlx::any::AnyRow) -> Result<Option<(Level, String)>, StoreError> {
    match Level::parse(&get_string(r, "level")?) {
        Some(level) => Ok(Some((level, get_string(r, "code")?))),
        None => Ok(None),
    }
}
