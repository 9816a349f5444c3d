//! Member territories of an order (issue 16): declared with their délibération and
//! convention, their communes (each in one territory of the order), their documents, and the
//! two stages of an allocation — the funder's stock to territories, then a territory's stock
//! to its own structures.

use std::collections::BTreeSet;

use passnum_core::application::{Document, DocumentType};
use passnum_core::member_territory::{Declared, NewTerritory};
use passnum_core::{DistributorId, InseeCode, OrderId, TerritoryId, Timestamp};
use serde::Serialize;

use crate::inventory::Holder;
use crate::rows::{get_i64, get_opt_string, get_string};
use crate::{Store, StoreError};

/// A member territory, with what it holds of the order's booklets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Territory {
    pub id: TerritoryId,
    pub order_id: OrderId,
    pub name: String,
    pub communes: Vec<String>,
    pub deliberation_ref: String,
    /// AAAA-MM-JJ.
    pub deliberation_on: String,
    pub convention_ref: Option<String>,
    pub convention_on: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
    /// Booklets it received from the funder (its share, passed on or not).
    pub received: i64,
    /// Of those, not yet passed to a structure (nor blocked).
    pub in_stock: i64,
}

/// What the list of a territory's documents shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TerritoryDocument {
    pub id: i64,
    pub kind: DocumentKind,
    pub file_name: String,
    pub size_bytes: i64,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}

/// Why a document is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Deliberation,
    Convention,
    Autre,
}

impl DocumentKind {
    pub const ALL: [Self; 3] = [Self::Deliberation, Self::Convention, Self::Autre];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deliberation => "deliberation",
            Self::Convention => "convention",
            Self::Autre => "autre",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Deliberation => "Délibération",
            Self::Convention => "Convention de mandat",
            Self::Autre => "Autre pièce",
        }
    }
}

const COLUMNS: &str = "t.id, t.order_id, t.name, t.deliberation_ref, t.deliberation_on, t.convention_ref, \
                       t.convention_on, t.created_at, t.created_by";

fn refuse(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        code,
        message: message.into(),
    }
}

pub(crate) fn day(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl Store {
    /// Declares a member territory of an order, checked under the order's lock against its
    /// perimeter and the territories already declared (a commune joins once; the key on
    /// (order, commune) refuses a concurrent duplicate too).
    pub async fn declare_territory(
        &self,
        order: OrderId,
        t: &NewTerritory,
        by: &str,
        now: Timestamp,
    ) -> Result<Territory, StoreError> {
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        let id = crate::retry::retrying(&self.inner.telemetry, "declare_territory", || {
            self.declare_territory_once(order, t, by, now)
        })
        .await?;
        self.territory(order, id).await
    }

    async fn declare_territory_once(
        &self,
        order: OrderId,
        t: &NewTerritory,
        by: &str,
        now: Timestamp,
    ) -> Result<TerritoryId, StoreError> {
        let mut tx = self.begin_write().await?;
        crate::orders::lock_open_order(
            self.engine(),
            &mut tx,
            order,
            "Cette commande est annulée : aucun territoire ne peut la rejoindre.",
        )
        .await?;
        let perimeter = crate::orders::perimeter(&mut tx, &self.inner.caches, order).await?;
        let declared = territory_communes_of_order(&mut tx, order).await?;
        let views: Vec<Declared<'_>> = declared
            .iter()
            .map(|(_, name, communes)| Declared { name, communes })
            .collect();
        t.check_against(&perimeter, &views)
            .map_err(|e| StoreError::refused(&e))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO order_territories (order_id, name, deliberation_ref, deliberation_on, convention_ref, \
             convention_on, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(order.0)
        .bind(&t.name)
        .bind(&t.deliberation.reference)
        .bind(day(t.deliberation.date))
        .bind(t.convention.as_ref().map(|c| c.reference.clone()))
        .bind(t.convention.as_ref().map(|c| day(c.date)))
        .bind(now.unix_ms())
        .bind(passnum_core::text::kept(by.trim(), 200))
        .fetch_one(&mut *tx)
        .await?;
        insert_communes(&mut tx, order, TerritoryId(id), &t.communes).await?;
        tx.commit().await?;
        Ok(TerritoryId(id))
    }

    /// The member territories of an order, by name, with their booklet counts.
    pub async fn territories_of(&self, order: OrderId) -> Result<Vec<Territory>, StoreError> {
        self.read_territories(order, None).await
    }

    /// One territory of an order, or `NotFound` (also for another order's territory).
    pub async fn territory(
        &self,
        order: OrderId,
        id: TerritoryId,
    ) -> Result<Territory, StoreError> {
        self.read_territories(order, Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    async fn read_territories(
        &self,
        order: OrderId,
        one: Option<TerritoryId>,
    ) -> Result<Vec<Territory>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        // The order's territories (or one), then what they received (from the moves) and
        // still hold (from the stock index), then their communes: four reads whatever the
        // number of territories.
        let one_of = |column: &str| match one {
            Some(t) => format!(" AND {column} = {}", t.0),
            None => String::new(),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM order_territories t WHERE t.order_id = $1{} ORDER BY t.name, t.id",
            one_of("t.id")
        )))
        .bind(order.0)
        .fetch_all(&mut *conn)
        .await?;
        let mut received: std::collections::HashMap<i64, i64> = Default::default();
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT to_territory_id, CAST(SUM(booklets) AS BIGINT) AS n FROM allocation_moves \
             WHERE order_id = $1 AND to_territory_id IS NOT NULL{} GROUP BY to_territory_id",
            one_of("to_territory_id")
        )))
        .bind(order.0)
        .fetch_all(&mut *conn)
        .await?
        {
            received.insert(get_i64(&r, "to_territory_id")?, get_i64(&r, "n")?);
        }
        let mut in_stock: std::collections::HashMap<i64, i64> = Default::default();
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            // Each run counts its booklets by primary key (see holder_runs::CHECKS for why
            // not a join on BETWEEN).
            "SELECT r.territory_id, CAST(SUM((SELECT COUNT(*) FROM booklets b \
             WHERE b.id BETWEEN r.first_id AND r.last_id AND b.blocked_at IS NULL)) AS BIGINT) AS n \
             FROM holder_runs r WHERE r.territory_id IN \
             (SELECT id FROM order_territories t WHERE t.order_id = $1{}) \
             AND r.distributor_id IS NULL GROUP BY r.territory_id",
            one_of("t.id")
        )))
        .bind(order.0)
        .fetch_all(&mut *conn)
        .await?
        {
            in_stock.insert(get_i64(&r, "territory_id")?, get_i64(&r, "n")?);
        }
        let mut communes: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT territory_id, commune_insee FROM territory_communes WHERE order_id = $1{} \
             ORDER BY commune_insee",
            one_of("territory_id")
        )))
        .bind(order.0)
        .fetch_all(&mut *conn)
        .await?
        {
            communes
                .entry(get_i64(&r, "territory_id")?)
                .or_default()
                .push(get_string(&r, "commune_insee")?);
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = get_i64(r, "id")?;
            let communes = communes.remove(&id).unwrap_or_default();
            out.push(Territory {
                id: TerritoryId(id),
                order_id: OrderId(get_i64(r, "order_id")?),
                name: get_string(r, "name")?,
                communes,
                deliberation_ref: get_string(r, "deliberation_ref")?,
                deliberation_on: get_string(r, "deliberation_on")?,
                convention_ref: get_opt_string(r, "convention_ref")?,
                convention_on: get_opt_string(r, "convention_on")?,
                created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
                created_by: get_string(r, "created_by")?,
                received: received.get(&id).copied().unwrap_or(0),
                in_stock: in_stock.get(&id).copied().unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// Attaches a PDF to a territory (its délibération, its convention, another piece).
    pub async fn attach_territory_document(
        &self,
        order: OrderId,
        territory: TerritoryId,
        kind: DocumentKind,
        doc: &Document,
        by: &str,
        now: Timestamp,
    ) -> Result<TerritoryDocument, StoreError> {
        if doc.kind != DocumentType::Pdf {
            return Err(refuse(
                "document_not_pdf",
                format!(
                    "« {} » n'est pas un PDF : enregistrez la pièce en PDF et envoyez-la de nouveau.",
                    doc.file_name
                ),
            ));
        }
        let mut tx = self.begin_write().await?;
        self.territory_of_order(&mut tx, order, territory).await?;
        let by = passnum_core::text::kept(by.trim(), 200);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO territory_documents (territory_id, kind, file_name, size_bytes, content, uploaded_at, uploaded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(territory.0)
        .bind(kind.as_str())
        .bind(&doc.file_name)
        .bind(doc.bytes.len() as i64)
        .bind(doc.bytes.clone())
        .bind(now.unix_ms())
        .bind(&by)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(TerritoryDocument {
            id,
            kind,
            file_name: doc.file_name.clone(),
            size_bytes: doc.bytes.len() as i64,
            uploaded_at: now,
            uploaded_by: by,
        })
    }

    /// A territory's documents, newest first (without their content).
    pub async fn territory_documents(
        &self,
        order: OrderId,
        territory: TerritoryId,
    ) -> Result<Vec<TerritoryDocument>, StoreError> {
        sqlx::query(
            "SELECT d.id, d.kind, d.file_name, d.size_bytes, d.uploaded_at, d.uploaded_by FROM territory_documents d \
             JOIN order_territories t ON t.id = d.territory_id WHERE t.order_id = $1 AND t.id = $2 ORDER BY d.id DESC",
        )
        .bind(order.0)
        .bind(territory.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let kind = get_string(r, "kind")?;
            Ok(TerritoryDocument {
                id: get_i64(r, "id")?,
                kind: DocumentKind::parse(&kind)
                    .ok_or_else(|| StoreError::corrupt(format!("pièce de type {kind}")))?,
                file_name: get_string(r, "file_name")?,
                size_bytes: get_i64(r, "size_bytes")?,
                uploaded_at: Timestamp::from_unix_ms(get_i64(r, "uploaded_at")?),
                uploaded_by: get_string(r, "uploaded_by")?,
            })
        })
        .collect()
    }

    /// A document's name and bytes, or `NotFound` if it is not this territory's of this order.
    pub async fn territory_document(
        &self,
        order: OrderId,
        territory: TerritoryId,
        id: i64,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let row = sqlx::query(
            "SELECT d.file_name, d.content FROM territory_documents d JOIN order_territories t ON t.id = d.territory_id \
             WHERE t.order_id = $1 AND t.id = $2 AND d.id = $3",
        )
        .bind(order.0)
        .bind(territory.0)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((
            get_string(&row, "file_name")?,
            sqlx::Row::try_get(&row, "content")?,
        ))
    }

    /// First stage: the funder's stock to member territories, all or nothing.
    pub async fn allocate_to_territories(
        &self,
        order: OrderId,
        shares: &[(TerritoryId, i64)],
        by: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let shares: Vec<(Holder, i64)> = shares
            .iter()
            .map(|(t, n)| (Holder::Territory(*t), *n))
            .collect();
        self.allocate(order, Holder::Funder, &shares, by, now).await
    }

    /// Second stage: a territory's stock to structures in its communes, all or nothing.
    pub async fn allocate_from_territory(
        &self,
        order: OrderId,
        territory: TerritoryId,
        shares: &[(DistributorId, i64)],
        by: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let shares: Vec<(Holder, i64)> = shares
            .iter()
            .map(|(d, n)| (Holder::Structure(*d), *n))
            .collect();
        self.allocate(order, Holder::Territory(territory), &shares, by, now)
            .await
    }

    /// The structures whose commune a territory covers, by name: those it may give booklets
    /// to.
    pub async fn structures_of_territory(
        &self,
        order: OrderId,
        territory: TerritoryId,
    ) -> Result<Vec<crate::Distributor>, StoreError> {
        let t = self.territory(order, territory).await?;
        // The territory's communes and, for a city, its arrondissements (structures are often
        // registered with the arrondissement's code).
        let mut codes: Vec<String> = t.communes.clone();
        for c in &t.communes {
            codes.extend(passnum_core::commune::arrondissements_of(c));
        }
        let mut out: Vec<crate::Distributor> = vec![];
        for chunk in codes.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, name, kind, commune_insee, created_at, venue_id FROM distributors WHERE commune_insee IN ({})",
                marks.join(", ")
            )));
            for c in chunk {
                q = q.bind(c.clone());
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(crate::distribution::distributor(&r)?);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Records (or corrects) the territory's convention de mandat, signed after it joined.
    pub async fn record_convention(
        &self,
        order: OrderId,
        territory: TerritoryId,
        convention: &passnum_core::member_territory::Act,
    ) -> Result<Territory, StoreError> {
        let mut tx = self.begin_write().await?;
        self.territory_of_order(&mut tx, order, territory).await?;
        sqlx::query(
            "UPDATE order_territories SET convention_ref = $1, convention_on = $2 WHERE id = $3",
        )
        .bind(&convention.reference)
        .bind(day(convention.date))
        .bind(territory.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.territory(order, territory).await
    }

    /// The order a territory is a member of (a referent's session knows only its territory).
    pub async fn order_of_territory(&self, territory: TerritoryId) -> Result<OrderId, StoreError> {
        let order: Option<i64> =
            sqlx::query_scalar("SELECT order_id FROM order_territories WHERE id = $1")
                .bind(territory.0)
                .fetch_optional(self.pool())
                .await?;
        order.map(OrderId).ok_or(StoreError::NotFound)
    }

    /// `NotFound` unless `territory` is a member of `order`.
    pub(crate) async fn territory_of_order(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        order: OrderId,
        territory: TerritoryId,
    ) -> Result<(), StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM order_territories WHERE id = $1 AND order_id = $2")
                .bind(territory.0)
                .bind(order.0)
                .fetch_optional(&mut **tx)
                .await?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }

    /// A territory's communes, read in a transaction.
    pub(crate) async fn territory_communes_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        territory: TerritoryId,
    ) -> Result<BTreeSet<InseeCode>, StoreError> {
        let codes: Vec<String> = sqlx::query_scalar(
            "SELECT commune_insee FROM territory_communes WHERE territory_id = $1",
        )
        .bind(territory.0)
        .fetch_all(&mut **tx)
        .await?;
        codes
            .iter()
            .map(|c| InseeCode::parse(c).map_err(|_| StoreError::corrupt(format!("commune {c}"))))
            .collect()
    }
}

/// Every territory of an order as (name, communes), to check a new one against.
/// A territory's communes, a few hundred rows per statement; the key on (order, commune)
/// refuses a commune that a concurrent request just gave another territory.
pub(crate) async fn insert_communes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: OrderId,
    territory: TerritoryId,
    communes: &BTreeSet<InseeCode>,
) -> Result<(), StoreError> {
    let codes: Vec<&InseeCode> = communes.iter().collect();
    for chunk in codes.chunks(300) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, {}, ${})", order.0, territory.0, i + 1))
            .collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO territory_communes (order_id, territory_id, commune_insee) VALUES {}",
            rows.join(", ")
        )));
        for c in chunk {
            q = q.bind(c.as_str().to_string());
        }
        q.execute(&mut **tx).await.map_err(|e| {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                StoreError::Conflict {
                    code: "territory_overlap",
                    message: "Une de ces communes vient d'être déclarée dans un autre territoire : rechargez la page.".into(),
                }
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// Each territory of the order (id, name) with its communes, read in the caller's transaction.
pub(crate) async fn territory_communes_of_order(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: OrderId,
) -> Result<Vec<(TerritoryId, String, BTreeSet<InseeCode>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, c.commune_insee FROM order_territories t \
         LEFT JOIN territory_communes c ON c.territory_id = t.id WHERE t.order_id = $1 ORDER BY t.id",
    )
    .bind(order.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut out: Vec<(i64, String, BTreeSet<InseeCode>)> = vec![];
    for r in &rows {
        let id = get_i64(r, "id")?;
        if out.last().is_none_or(|(last, _, _)| *last != id) {
            out.push((id, get_string(r, "name")?, BTreeSet::new()));
        }
        if let Some(c) = get_opt_string(r, "commune_insee")?
            && let Ok(code) = InseeCode::parse(&c)
            && let Some(last) = out.last_mut()
        {
            last.2.insert(code);
        }
    }
    Ok(out
        .into_iter()
        .map(|(id, n, c)| (TerritoryId(id), n, c))
        .collect())
}
