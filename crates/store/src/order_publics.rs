//! A funder's own publics per order (`passnum_core::own_public`): added, reworded, retired
//! (never deleted: a handout may name one), read for the handout rules, the forms and the
//! figures.

use std::collections::HashMap;

use passnum_core::OrderId;
use passnum_core::Timestamp;
use passnum_core::order_options::Public;
use passnum_core::own_public::{
    AgeBand, NewOwnPublic, OwnPublic, OwnPublicError, OwnPublicId, PublicRef, label_key,
};

use crate::figures::{FigureScope, OrderScope, Sql};
use crate::rows::{get_i64, get_opt_i64, get_string};
use crate::{Store, StoreError};

const COLUMNS: &str = "id, label, age_min, age_max, criteria, target, retired_at";

fn own_public(r: &sqlx::any::AnyRow) -> Result<OwnPublic, StoreError> {
    let byte = |col: &str| -> Result<Option<u8>, StoreError> {
        get_opt_i64(r, col)?
            .map(|a| u8::try_from(a).map_err(|_| StoreError::corrupt(format!("{col} {a}"))))
            .transpose()
    };
    let (min, max) = (byte("age_min")?, byte("age_max")?);
    Ok(OwnPublic {
        id: OwnPublicId(get_i64(r, "id")?),
        label: get_string(r, "label")?,
        age: (min.is_some() || max.is_some()).then_some(AgeBand { min, max }),
        criteria: get_string(r, "criteria")?,
        target: get_i64(r, "target")? == 1,
        retired: get_opt_i64(r, "retired_at")?.is_some(),
    })
}

/// Names of recorded public codes, national and own, for pages and exports.
#[derive(Clone, Debug, Default)]
pub struct PublicLabels {
    own: HashMap<i64, String>,
}

impl PublicLabels {
    /// "Personne isolée", "Femmes des communes isolées (16 à 25 ans) — public propre"; an
    /// unknown code as it is.
    pub fn label(&self, code: &str) -> String {
        match PublicRef::parse_code(code) {
            Some(PublicRef::National(p)) => p.label().to_string(),
            Some(PublicRef::Own(id)) => self
                .own
                .get(&id.0)
                .map_or_else(|| code.to_string(), |l| format!("{l} — public propre")),
            None => code.to_string(),
        }
    }

    /// Whether `code` is one of the seven national publics, comparable across funders.
    pub fn is_national(code: &str) -> bool {
        Public::parse(code).is_some()
    }
}

impl Store {
    /// The own publics of an order, in the order they were added, retired ones included.
    pub async fn order_publics(&self, order: OrderId) -> Result<Vec<OwnPublic>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM order_publics WHERE order_id = $1 ORDER BY id"
        )))
        .bind(order.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(own_public)
        .collect()
    }

    /// Adds an own public to an order, checked under the order's lock against its other
    /// publics (the key on the label refuses a concurrent duplicate too).
    pub async fn add_order_public(
        &self,
        order: OrderId,
        p: &NewOwnPublic,
        by: &str,
        now: Timestamp,
    ) -> Result<OwnPublic, StoreError> {
        let id = crate::retry::retrying(&self.inner.telemetry, "add_order_public", || {
            self.write_order_public(order, Change::Add { by, now }, p)
        })
        .await?;
        self.order_public(order, id).await
    }

    /// Rewords an own public (its code, and so the handouts that name it, stay).
    pub async fn update_order_public(
        &self,
        order: OrderId,
        id: OwnPublicId,
        p: &NewOwnPublic,
    ) -> Result<OwnPublic, StoreError> {
        crate::retry::retrying(&self.inner.telemetry, "update_order_public", || {
            self.write_order_public(order, Change::Edit(id), p)
        })
        .await?;
        self.order_public(order, id).await
    }

    async fn order_public(&self, order: OrderId, id: OwnPublicId) -> Result<OwnPublic, StoreError> {
        self.order_publics(order)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// One write of an own public; a change is refused when the public is retired or not
    /// this order's.
    async fn write_order_public(
        &self,
        order: OrderId,
        change: Change<'_>,
        p: &NewOwnPublic,
    ) -> Result<OwnPublicId, StoreError> {
        let editing = match change {
            Change::Edit(id) => Some(id),
            Change::Add { .. } => None,
        };
        let mut tx = self.begin_write().await?;
        crate::orders::lock_open_order(
            self.engine(),
            &mut tx,
            order,
            "Cette commande est annulée : ses publics ne changent plus.",
        )
        .await?;
        let existing: Vec<OwnPublic> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM order_publics WHERE order_id = $1 ORDER BY id"
        )))
        .bind(order.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(own_public)
        .collect::<Result<_, _>>()?;
        if let Some(id) = editing {
            match existing.iter().find(|e| e.id == id) {
                None => return Err(StoreError::NotFound),
                Some(e) if e.retired => {
                    return Err(StoreError::Conflict {
                        code: "public_retired",
                        message: "Ce public est retiré : il ne peut plus être modifié.".into(),
                    });
                }
                Some(_) => {}
            }
        }
        p.check_against(&existing, editing)
            .map_err(|e| StoreError::refused(&e))?;
        let (min, max) = (
            p.age.and_then(|a| a.min).map(i64::from),
            p.age.and_then(|a| a.max).map(i64::from),
        );
        let written = match change {
            Change::Edit(id) => sqlx::query(
                "UPDATE order_publics SET label = $1, label_key = $2, age_min = $3, age_max = $4, \
                 criteria = $5, target = $6 WHERE id = $7 AND order_id = $8 RETURNING id",
            )
            .bind(&p.label)
            .bind(label_key(&p.label))
            .bind(min)
            .bind(max)
            .bind(&p.criteria)
            .bind(i64::from(p.target))
            .bind(id.0)
            .bind(order.0),
            Change::Add { by, now } => sqlx::query(
                "INSERT INTO order_publics (order_id, label, label_key, age_min, age_max, \
                     criteria, target, created_at, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(order.0)
            .bind(&p.label)
            .bind(label_key(&p.label))
            .bind(min)
            .bind(max)
            .bind(&p.criteria)
            .bind(i64::from(p.target))
            .bind(now.unix_ms())
            .bind(passnum_core::text::kept(by.trim(), 200)),
        }
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                StoreError::refused(&OwnPublicError::DuplicateLabel(p.label.clone()))
            } else {
                e
            }
        })?;
        let id = get_i64(&written, "id")?;
        tx.commit().await?;
        Ok(OwnPublicId(id))
    }

    /// Retires an own public: no longer offered at handouts nor a target; the handouts that
    /// name it keep it, and the figures still count them under its label.
    pub async fn retire_order_public(
        &self,
        order: OrderId,
        id: OwnPublicId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE order_publics SET retired_at = $1, target = 0 \
             WHERE id = $2 AND order_id = $3 AND retired_at IS NULL",
        )
        .bind(now.unix_ms())
        .bind(id.0)
        .bind(order.0)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        // Already retired (a second click) is done; another order's public is not found.
        self.order_public(order, id).await.map(|_| ())
    }

    /// Whether a structure holds, or has handed out, booklets of `order`: it may then read the
    /// order's publics.
    pub async fn distributor_holds_order(
        &self,
        distributor: crate::DistributorId,
        order: OrderId,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM holder_runs WHERE distributor_id = $1 AND order_id = $2 LIMIT 1",
        )
        .bind(distributor.0)
        .bind(order.0)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Labels of the own publics of the orders in `scope`, for the figures.
    pub async fn public_labels(&self, scope: &FigureScope) -> Result<PublicLabels, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = self.order_scope(&mut conn, scope).await?;
        if matches!(&scope, OrderScope::Orders(o) if o.is_empty()) {
            return Ok(PublicLabels::default());
        }
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT p.id, p.label, p.age_min, p.age_max, p.criteria, p.target, p.retired_at \
             FROM order_publics p WHERE 1 = 1{}",
            q.scope(&scope, "p.order_id")
        );
        let mut own = HashMap::new();
        for r in q.query(text).fetch_all(&mut *conn).await? {
            let p = own_public(&r)?;
            own.insert(p.id.0, p.long_label());
        }
        Ok(PublicLabels { own })
    }
}

#[derive(Clone, Copy)]
enum Change<'a> {
    Add { by: &'a str, now: Timestamp },
    Edit(OwnPublicId),
}
