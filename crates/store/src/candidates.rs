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
        // A list of values joined, not `IN ($1, …, $n)`: PostgreSQL compares each row with
        // every parameter of an IN list (2,000 communes × every candidate per chunk of an
        // import), but hashes a VALUES list.
        let marks = format!(
            "SELECT column1 FROM (VALUES {}) AS asked",
            value_rows(self.engine(), communes.len(), 1)
        );
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
                commune_insee: get_string(&r, "commune_insee")?,
                name: get_string(&r, "name")?,
                address: get_string(&r, "address")?,
                position: None,
            });
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, source, name, address, commune_insee, latitude_e6, longitude_e6 \
             FROM venue_candidates WHERE commune_insee IN ({marks})"
        )));
        for c in communes {
            q = q.bind(c.as_str());
        }
        for r in q.fetch_all(self.pool()).await? {
            let lat = crate::rows::get_opt_i64(&r, "latitude_e6")?.map(from_e6);
            let lon = crate::rows::get_opt_i64(&r, "longitude_e6")?.map(from_e6);
            out.push(KnownPlace {
                kind: KnownKind::Candidate,
                id: get_i64(&r, "id")?,
                source: get_string(&r, "source")?,
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
            // Joined with a VALUES list, for the reason given in `known_places`.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT c.id, c.source_id FROM venue_candidates c \
                 JOIN (VALUES {}) AS asked ON asked.column1 = c.source_id \
                 WHERE c.source = {}",
                value_rows(self.engine(), chunk.len(), 1),
                placeholders(self.engine(), chunk.len(), 1)
            )));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.bind(source).fetch_all(self.pool()).await? {
                found.insert(get_string(&r, "source_id")?, get_i64(&r, "id")?);
            }
        }
        Ok(found)
    }

    /// Writes a chunk of imported places in one transaction: new ones inserted, known ones
    /// (same source and id, their ids in `existing` as [`Store::candidate_ids`] gives them)
    /// updated in place.
    pub async fn write_candidates(
        &self,
        source: &str,
        planned: &[PlannedCandidate<'_>],
        existing: &std::collections::HashMap<String, i64>,
        now: Timestamp,
    ) -> Result<Written, StoreError> {
        let (updates, inserts): (Vec<&PlannedCandidate>, Vec<&PlannedCandidate>) = planned
            .iter()
            .partition(|p| existing.contains_key(&p.place.source_id));
        let mut tx = self.begin_write().await?;
        for chunk in inserts.chunks(500) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO venue_candidates (source, source_id, pivot, name, commune_insee, postcode, \
                 address, latitude_e6, longitude_e6, phone, email, website, hours, services, modalites, updated, \
                 imported_at, match_verdict, match_venue_id, match_candidate_id, match_score_pm) VALUES {}",
                value_rows(self.engine(), chunk.len(), WIDTH)
            )));
            for p in chunk {
                q = bind_candidate(q, source, p, now);
            }
            q.execute(&mut *tx).await?;
        }
        // One statement per 500 rows, the new values joined by id (columns of a VALUES list
        // are column1, column2… on both engines).
        for chunk in updates.chunks(500) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE venue_candidates SET source = v.column1, source_id = v.column2, pivot = v.column3, name = v.column4, commune_insee = v.column5, postcode = v.column6, address = v.column7, latitude_e6 = v.column8, longitude_e6 = v.column9, phone = v.column10, email = v.column11, website = v.column12, hours = v.column13, services = v.column14, modalites = v.column15, updated = v.column16, imported_at = v.column17, match_verdict = v.column18, match_venue_id = v.column19, match_candidate_id = v.column20, match_score_pm = v.column21 \
                 FROM (VALUES {}) AS v WHERE venue_candidates.id = v.column22",
                value_rows(self.engine(), chunk.len(), WIDTH + 1)
            )));
            for p in chunk {
                q = bind_candidate(q, source, p, now).bind(existing[&p.place.source_id]);
            }
            q.execute(&mut *tx).await?;
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

/// An imported place as the operator reviews it, with what it was matched to.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateRow {
    pub id: i64,
    pub source: String,
    pub source_id: String,
    pub name: String,
    pub address: String,
    pub commune_insee: String,
    pub verdict: Verdict,
    /// The venue or other source's place matched: its kind, id, name and address.
    pub matched: Option<(KnownKind, i64, String, String)>,
    /// In thousandths.
    pub score_pm: Option<i64>,
}

impl Store {
    /// Candidates with the given verdict, most similar first, then by name.
    pub async fn list_candidates(
        &self,
        verdict: Verdict,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CandidateRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.source, c.source_id, c.name, c.address, c.commune_insee, c.match_score_pm, \
             c.match_venue_id, c.match_candidate_id, \
             COALESCE(v.name, o.name) AS matched_name, COALESCE(v.address, o.address) AS matched_address \
             FROM venue_candidates c \
             LEFT JOIN venues v ON v.id = c.match_venue_id \
             LEFT JOIN venue_candidates o ON o.id = c.match_candidate_id \
             WHERE c.match_verdict = $1 ORDER BY c.match_score_pm DESC, c.name, c.id LIMIT $2 OFFSET $3",
        )
        .bind(verdict_str(verdict))
        .bind(crate::rows::page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let venue = crate::rows::get_opt_i64(r, "match_venue_id")?;
                let candidate = crate::rows::get_opt_i64(r, "match_candidate_id")?;
                let target = venue
                    .map(|id| (KnownKind::Venue, id))
                    .or(candidate.map(|id| (KnownKind::Candidate, id)));
                Ok(CandidateRow {
                    id: get_i64(r, "id")?,
                    source: get_string(r, "source")?,
                    source_id: get_string(r, "source_id")?,
                    name: get_string(r, "name")?,
                    address: get_string(r, "address")?,
                    commune_insee: get_string(r, "commune_insee")?,
                    verdict,
                    matched: match target {
                        Some((kind, id)) => Some((
                            kind,
                            id,
                            crate::rows::get_opt_string(r, "matched_name")?.unwrap_or_default(),
                            crate::rows::get_opt_string(r, "matched_address")?.unwrap_or_default(),
                        )),
                        None => None,
                    },
                    score_pm: crate::rows::get_opt_i64(r, "match_score_pm")?,
                })
            })
            .collect()
    }

    /// The operator settles a suggested link: confirmed, it becomes a link; refused, the
    /// place stands alone. Only a suggestion can be settled, once.
    pub async fn settle_candidate_link(&self, id: i64, confirm: bool) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = if confirm {
            "UPDATE venue_candidates SET match_verdict = 'link' WHERE id = $1 AND match_verdict = 'suggest'"
        } else {
            "UPDATE venue_candidates SET match_verdict = 'new', match_venue_id = NULL, \
             match_candidate_id = NULL, match_score_pm = NULL WHERE id = $1 AND match_verdict = 'suggest'"
        };
        let n = sqlx::query(sql)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict {
                code: "not_a_suggestion",
                message:
                    "Ce rapprochement a déjà été tranché, ou n'existe pas : rechargez la page."
                        .into(),
            });
        }
        tx.commit().await?;
        Ok(())
    }
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::New => "new",
        Verdict::Suggest => "suggest",
        Verdict::Link => "link",
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
        .bind(c.position.map(|p| to_e6(p.latitude)))
        .bind(c.position.map(|p| to_e6(p.longitude)))
        .bind(c.phone.clone())
        .bind(c.email.clone())
        .bind(c.website.clone())
        .bind(c.hours.clone())
        .bind(c.services.join("|"))
        .bind(c.modalites.join("|"))
        .bind(crate::rows::date_to_sql(c.updated))
        .bind(now.unix_ms())
        .bind(verdict_str(p.verdict))
        .bind(id.filter(|_| kind == Some(KnownKind::Venue)))
        .bind(id.filter(|_| kind == Some(KnownKind::Candidate)))
        .bind(score.map(|s: f64| (s * 1000.0).round().clamp(0.0, 1000.0) as i64))
}

fn to_e6(degrees: f64) -> i64 {
    (degrees * 1e6).round() as i64
}

fn from_e6(micro: i64) -> f64 {
    micro as f64 / 1e6
}
