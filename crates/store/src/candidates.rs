//! Places imported from the national venue standard (candidates) and what duplicate detection
//! compares them with: the venues and the other sources' candidates of the same communes.

use passnum_core::Timestamp;
use passnum_core::commune::GeoPoint;
use passnum_core::duplicates::Verdict;
use passnum_core::standard_import::ImportedPlace;

use crate::rows::{get_i64, get_string, placeholders, value_rows};
use crate::{Store, StoreError};

/// Something an imported place may be the same as.
#[derive(Clone, Debug, PartialEq)]
pub struct KnownPlace {
    pub kind: KnownKind,
    pub id: i64,
    /// "passnum" for venues; the candidate's source otherwise.
    pub source: String,
    /// The source's own id (candidates only).
    pub source_id: String,
    pub commune_insee: String,
    pub name: String,
    pub address: String,
    pub position: Option<GeoPoint>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownKind {
    Venue,
    Candidate,
}

/// The source name venues of passnum carry in comparisons.
pub const PASSNUM_SOURCE: &str = "passnum";

/// An imported place with what duplicate detection decided.
pub struct PlannedCandidate<'a> {
    pub place: &'a ImportedPlace,
    pub verdict: Verdict,
    pub matched: Option<(KnownKind, i64, f64)>,
}

/// How many rows a write created and updated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub created: usize,
    pub updated: usize,
}

const WIDTH: usize = 21;

impl Store {
    /// Venues and candidates in these communes.
    pub async fn known_places(&self, communes: &[String]) -> Result<Vec<KnownPlace>, StoreError> {
        if communes.is_empty() {
            return Ok(vec![]);
        }
        let marks = placeholders(self.engine(), 0, communes.len());
        let mut out = vec![];
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, name, address, commune_insee FROM venues WHERE commune_insee IN ({marks})"
        )));
        for c in communes {
            q = q.bind(c.as_str());
        }
        for r in q.fetch_all(self.pool()).await? {
            out.push(KnownPlace {
                kind: KnownKind::Venue,
                id: get_i64(&r, "id")?,
                source: PASSNUM_SOURCE.into(),
                source_id: String::new(),
                commune_insee: get_string(&r, "commune_insee")?,
                name: get_string(&r, "name")?,
                address: get_string(&r, "address")?,
                position: None,
            });
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, source, source_id, name, address, commune_insee, latitude, longitude \
             FROM venue_candidates WHERE commune_insee IN ({marks})"
        )));
        for c in communes {
            q = q.bind(c.as_str());
        }
        for r in q.fetch_all(self.pool()).await? {
            let lat: Option<f64> = sqlx::Row::try_get(&r, "latitude")?;
            let lon: Option<f64> = sqlx::Row::try_get(&r, "longitude")?;
            out.push(KnownPlace {
                kind: KnownKind::Candidate,
                id: get_i64(&r, "id")?,
                source: get_string(&r, "source")?,
                source_id: get_string(&r, "source_id")?,
                commune_insee: get_string(&r, "commune_insee")?,
                name: get_string(&r, "name")?,
                address: get_string(&r, "address")?,
                position: lat.zip(lon).map(|(latitude, longitude)| GeoPoint {
                    latitude,
                    longitude,
                }),
            });
        }
        Ok(out)
    }

    /// The ids of a source's candidates among `source_ids` (to tell an update from a creation).
    pub async fn candidate_ids(
        &self,
        source: &str,
        source_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in source_ids.chunks(500) {
            let marks = placeholders(self.engine(), 1, chunk.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, source_id FROM venue_candidates WHERE source = {} AND source_id IN ({marks})",
                placeholders(self.engine(), 0, 1)
            )))
            .bind(source);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                found.insert(get_string(&r, "source_id")?, get_i64(&r, "id")?);
            }
        }
        Ok(found)
    }

    /// Writes a chunk of imported places in one transaction: new ones inserted, known ones
    /// (same source and id) updated in place.
    pub async fn write_candidates(
        &self,
        source: &str,
        planned: &[PlannedCandidate<'_>],
        now: Timestamp,
    ) -> Result<Written, StoreError> {
        let ids: Vec<&str> = planned.iter().map(|p| p.place.source_id.as_str()).collect();
        let existing = self.candidate_ids(source, &ids).await?;
        let (updates, inserts): (Vec<&PlannedCandidate>, Vec<&PlannedCandidate>) = planned
            .iter()
            .partition(|p| existing.contains_key(&p.place.source_id));
        let mut tx = self.begin_write().await?;
        for chunk in inserts.chunks(500) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO venue_candidates (source, source_id, pivot, name, commune_insee, postcode, \
                 address, latitude, longitude, phone, email, website, hours, services, modalites, updated, \
                 imported_at, match_verdict, match_venue_id, match_candidate_id, match_score) VALUES {}",
                value_rows(self.engine(), chunk.len(), WIDTH)
            )));
            for p in chunk {
                q = bind_candidate(q, source, p, now);
            }
            q.execute(&mut *tx).await?;
        }
        for p in &updates {
            let q = sqlx::query(
                "UPDATE venue_candidates SET source = $1, source_id = $2, pivot = $3, name = $4, \
                 commune_insee = $5, postcode = $6, address = $7, latitude = $8, longitude = $9, \
                 phone = $10, email = $11, website = $12, hours = $13, services = $14, modalites = $15, \
                 updated = $16, imported_at = $17, match_verdict = $18, match_venue_id = $19, \
                 match_candidate_id = $20, match_score = $21 WHERE id = $22",
            );
            bind_candidate(q, source, p, now)
                .bind(existing[&p.place.source_id])
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Written {
            created: inserts.len(),
            updated: updates.len(),
        })
    }

    /// How many candidates there are, and how many of them are linked or suggested.
    pub async fn candidate_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, \
             COALESCE(SUM(CASE WHEN match_verdict = 'link' THEN 1 ELSE 0 END), 0) AS linked, \
             COALESCE(SUM(CASE WHEN match_verdict = 'suggest' THEN 1 ELSE 0 END), 0) AS suggested \
             FROM venue_candidates",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((
            get_i64(&r, "n")?,
            get_i64(&r, "linked")?,
            get_i64(&r, "suggested")?,
        ))
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind_candidate<'q>(
    q: AnyQuery<'q>,
    source: &str,
    p: &PlannedCandidate<'_>,
    now: Timestamp,
) -> AnyQuery<'q> {
    let c = p.place;
    let (kind, id, score) = match p.matched {
        Some((k, id, s)) => (Some(k), Some(id), Some(s)),
        None => (None, None, None),
    };
    q.bind(source.to_string())
        .bind(c.source_id.clone())
        .bind(c.pivot.clone())
        .bind(c.name.clone())
        .bind(c.commune_insee.clone())
        .bind(c.postcode.clone())
        .bind(c.address.clone())
        .bind(c.position.map(|p| p.latitude))
        .bind(c.position.map(|p| p.longitude))
        .bind(c.phone.clone())
        .bind(c.email.clone())
        .bind(c.website.clone())
        .bind(c.hours.clone())
        .bind(c.services.join("|"))
        .bind(c.modalites.join("|"))
        .bind(crate::rows::date_to_sql(c.updated))
        .bind(now.unix_ms())
        .bind(match p.verdict {
            Verdict::New => "new",
            Verdict::Suggest => "suggest",
            Verdict::Link => "link",
        })
        .bind(id.filter(|_| kind == Some(KnownKind::Venue)))
        .bind(id.filter(|_| kind == Some(KnownKind::Candidate)))
        .bind(score)
}
