use passnum_core::venue::StatusDecision;
use passnum_core::{InseeCode, OrgNumber, Timestamp, VenueId, VenueStatus, VenueView, paris};
use serde::Serialize;
use sqlx::any::AnyRow;
use time::Date;

use crate::funders::clean_name;
use crate::rows::{
    date_to_sql, get_i64, get_opt_date, get_opt_i64, get_opt_string, get_string, page_limit,
};
use crate::{Store, StoreError};
use passnum_core::text::MAX_ADDRESS_CHARS;

#[derive(Clone, Debug)]
pub struct NewVenue {
    /// The organisation's SIRET, or the RNA number of an association without one (the column
    /// keeps its historical name `siret`).
    pub siret: OrgNumber,
    pub name: String,
    pub commune: InseeCode,
    pub status: VenueStatus,
    pub qualified_until: Option<Date>,
    /// Street address, as a person would write it on an envelope.
    pub address: String,
    /// How to book: telephone, e-mail or web page.
    pub contact: String,
    /// Codes of the services offered (each given individually and collectively until the venue
    /// says otherwise in its catalogue).
    pub services: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Venue {
    pub id: VenueId,
    pub siret: String,
    pub name: String,
    pub commune_insee: String,
    pub status: VenueStatus,
    pub qualified_until: Option<Date>,
    pub created_at: Timestamp,
    pub address: String,
    pub contact: String,
    /// Free text, as shown to a person: "lundi–vendredi 9 h–12 h, mercredi 14 h–18 h".
    pub opening_hours: String,
    /// Free text: step-free access, hearing loop, help in other languages…
    pub accessibility: String,
    /// Codes of the services offered.
    pub services: Vec<String>,
    /// Name and role of who commits the organisation (from its application).
    pub legal_representative: String,
    /// When the applicant accepted the programme's charter (none: registered by the operator).
    pub charter_accepted_at: Option<Timestamp>,
    /// Publics addressed specifically and specific support, in the national standard's values
    /// (`standard::PUBLICS`, `standard::SPECIFIC_SUPPORT`), pipe-separated.
    pub publics: String,
    pub specific_support: String,
}

pub(crate) const COLUMNS: &str = "id, siret, name, commune_insee, status, qualified_until, created_at, address, contact, opening_hours, accessibility, legal_representative, charter_accepted_at, publics, specific_support";

/// One status a venue went through, with who decided and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub at: Timestamp,
    /// None: the daily job, the command line, an API token or an upgrade.
    pub by_staff: Option<i64>,
    pub by_name: Option<String>,
    pub from: Option<VenueStatus>,
    pub to: VenueStatus,
    pub qualified_until: Option<Date>,
    pub reason: String,
}

pub(crate) fn venue(row: &AnyRow) -> Result<Venue, StoreError> {
    let status = get_string(row, "status")?;
    Ok(Venue {
        id: VenueId(get_i64(row, "id")?),
        siret: get_string(row, "siret")?,
        name: get_string(row, "name")?,
        commune_insee: get_string(row, "commune_insee")?,
        status: VenueStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("statut {status}")))?,
        qualified_until: get_opt_date(row, "qualified_until")?,
        created_at: Timestamp::from_unix_ms(get_i64(row, "created_at")?),
        address: get_string(row, "address")?,
        contact: get_string(row, "contact")?,
        opening_hours: get_string(row, "opening_hours")?,
        accessibility: get_string(row, "accessibility")?,
        services: vec![],
        legal_representative: get_string(row, "legal_representative")?,
        charter_accepted_at: get_opt_i64(row, "charter_accepted_at")?.map(Timestamp::from_unix_ms),
        publics: get_string(row, "publics")?,
        specific_support: get_string(row, "specific_support")?,
    })
}

pub(crate) fn clean_text(s: &str, what: &str, max: usize) -> Result<String, StoreError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(StoreError::Invalid {
            code: "invalid_venue",
            message: format!("{what} dépasse {max} caractères : raccourcissez ce texte."),
        });
    }
    Ok(s.to_string())
}

impl Venue {
    pub fn view(&self) -> Result<VenueView, StoreError> {
        Ok(VenueView {
            status: self.status,
            qualified_until: self.qualified_until,
            commune: InseeCode::parse(&self.commune_insee).map_err(StoreError::corrupt)?,
        })
    }
}

pub(crate) fn siret_taken() -> StoreError {
    StoreError::Conflict {
        code: "siret_taken",
        message: "Ce numéro (SIRET ou RNA) appartient déjà à un lieu inscrit : un organisme ne s'inscrit qu'une fois. Pour reprendre ce lieu ou modifier sa fiche, écrivez à l'opérateur du programme."
            .into(),
    }
}

fn status(row: &AnyRow, col: &str) -> Result<VenueStatus, StoreError> {
    let s = get_string(row, col)?;
    VenueStatus::parse(&s).ok_or_else(|| StoreError::corrupt(format!("statut {s}")))
}

/// Records one status change, inside the caller's transaction.
pub(crate) async fn record_status_change(
    tx: &mut sqlx::AnyConnection,
    id: VenueId,
    from: Option<VenueStatus>,
    decision: &StatusDecision,
    by_staff: Option<i64>,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO venue_status_changes (venue_id, at, by_staff, from_status, to_status, qualified_until, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.0)
    .bind(now.unix_ms())
    .bind(by_staff)
    .bind(from.map(VenueStatus::as_str))
    .bind(decision.to.as_str())
    .bind(decision.qualified_until.map(date_to_sql))
    .bind(decision.reason.trim())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn create_venue(&self, v: &NewVenue, now: Timestamp) -> Result<Venue, StoreError> {
        let mut tx = self.begin_write().await?;
        let created = self
            .insert_venue(&mut tx, v, "Lieu enregistré par l'opérateur.", None, now)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Checks and inserts a venue with its payable account, catalogue and first history line,
    /// inside the caller's transaction.
    pub(crate) async fn insert_venue(
        &self,
        tx: &mut sqlx::AnyConnection,
        v: &NewVenue,
        reason: &str,
        by_staff: Option<i64>,
        now: Timestamp,
    ) -> Result<Venue, StoreError> {
        let name = clean_name(&v.name)?;
        let address = clean_text(&v.address, "L'adresse", MAX_ADDRESS_CHARS)?;
        let contact = clean_text(&v.contact, "Le contact", MAX_ADDRESS_CHARS)?;
        let known = self.inner.caches.services.lock().clone();
        let mut services: Vec<String> = v.services.iter().map(|c| c.trim().to_string()).collect();
        services.sort();
        services.dedup();
        if let Some(bad) = services.iter().find(|c| !known.contains(*c)) {
            return Err(StoreError::Invalid {
                code: "service_unknown",
                message: format!("Le service « {bad} » n'existe pas dans le référentiel."),
            });
        }
        if v.status == VenueStatus::Qualified && services.is_empty() {
            let r = passnum_core::venue::StatusChangeRefusal::EmptyCatalogue;
            return Err(StoreError::Conflict {
                code: r.code(),
                message: r.to_string(),
            });
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO venues (siret, name, commune_insee, status, qualified_until, created_at, updated_at, address, contact) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) RETURNING {COLUMNS}"
        )))
        .bind(v.siret.as_str())
        .bind(&name)
        .bind(v.commune.as_str())
        .bind(v.status.as_str())
        .bind(v.qualified_until.map(date_to_sql))
        .bind(now.unix_ms())
        .bind(&address)
        .bind(&contact)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)
        .map_err(|e| if e.is_unique_violation() { siret_taken() } else { e })?;
        let mut created = venue(&row)?;
        sqlx::query("INSERT INTO accounts (kind, owner_id) VALUES ('venue_payable', $1)")
            .bind(created.id.0)
            .execute(&mut *tx)
            .await?;
        for code in &services {
            sqlx::query("INSERT INTO venue_services (venue_id, service_code) VALUES ($1, $2)")
                .bind(created.id.0)
                .bind(code.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let decision = StatusDecision {
            to: v.status,
            qualified_until: v.qualified_until,
            reason: reason.into(),
        };
        record_status_change(tx, created.id, None, &decision, by_staff, now).await?;
        created.services = services;
        Ok(created)
    }

    pub async fn list_venues(&self, limit: i64, offset: i64) -> Result<Vec<Venue>, StoreError> {
        let mut conn = self.may_lag().await?;
        let mut venues: Vec<Venue> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues ORDER BY id LIMIT $1 OFFSET $2"
        )))
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(venue)
        .collect::<Result<_, _>>()?;
        let (Some(first), Some(last)) = (venues.first(), venues.last()) else {
            return Ok(venues);
        };
        let rows = sqlx::query(
            "SELECT venue_id, service_code FROM venue_services WHERE venue_id BETWEEN $1 AND $2 ORDER BY service_code",
        )
        .bind(first.id.0)
        .bind(last.id.0)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id = VenueId(get_i64(r, "venue_id")?);
            if let Some(v) = venues.iter_mut().find(|v| v.id == id) {
                v.services.push(get_string(r, "service_code")?);
            }
        }
        Ok(venues)
    }

    /// The services a venue offers.
    pub(crate) async fn venue_services(&self, id: VenueId) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT service_code FROM venue_services WHERE venue_id = $1 ORDER BY service_code",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn get_venue(&self, id: VenueId) -> Result<Venue, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut v = venue(&row)?;
        v.services = self.venue_services(id).await?;
        Ok(v)
    }

    /// Sets what a person reads before going to the venue: opening hours and accessibility.
    /// Writes texts of a venue that the public reads (checked by the caller) and moves its
    /// `updated_at`, the standard's `date_maj`. `set` assigns `$1…$n`, one per text.
    async fn update_public_texts(
        &self,
        id: VenueId,
        set: &'static str,
        texts: &[&str],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let n = texts.len();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE venues SET {set}, updated_at = ${} WHERE id = ${}",
            n + 1,
            n + 2
        )));
        for t in texts {
            q = q.bind(*t);
        }
        let mut tx = self.begin_write().await?;
        let changed = q
            .bind(now.unix_ms())
            .bind(id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// How to book at the venue (telephone, e-mail or web page); moves its `updated_at`.
    pub async fn set_venue_contact(
        &self,
        id: VenueId,
        contact: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let contact = clean_text(contact, "La prise de rendez-vous", MAX_ADDRESS_CHARS)?;
        self.update_public_texts(id, "contact = $1", &[&contact], now)
            .await
    }

    /// Moves the venue's `updated_at` (the standard's `date_maj`).
    pub async fn set_venue_practical_info(
        &self,
        id: VenueId,
        opening_hours: &str,
        accessibility: &str,
        now: Timestamp,
    ) -> Result<Venue, StoreError> {
        let hours = clean_text(opening_hours, "Le texte des horaires d'ouverture", 500)?;
        let access = clean_text(accessibility, "Le texte d'accessibilité", 500)?;
        self.update_public_texts(
            id,
            "opening_hours = $1, accessibility = $2",
            &[&hours, &access],
            now,
        )
        .await?;
        self.get_venue(id).await
    }

    /// Decides on a venue (qualify, ask for more, refuse, suspend, withdraw, end), and records
    /// the decision with who took it and why. The checks and the change happen in one
    /// transaction, so two decisions taken together cannot both pass on the same old status.
    pub async fn set_venue_status(
        &self,
        id: VenueId,
        decision: &StatusDecision,
        by_staff: Option<i64>,
        now: Timestamp,
    ) -> Result<Venue, StoreError> {
        let reason = clean_text(
            &decision.reason,
            "Le motif",
            passnum_core::venue::MAX_REASON_CHARS,
        )?;
        let decision = StatusDecision {
            reason,
            ..decision.clone()
        };
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let current = venue(&row)?;
        let catalogue_len = get_i64(
            &sqlx::query("SELECT COUNT(*) AS n FROM venue_services WHERE venue_id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?,
            "n",
        )?;
        passnum_core::venue::check_status_change(
            current.status,
            &decision,
            usize::try_from(catalogue_len).unwrap_or(0),
            paris::local_date(now),
        )
        .map_err(|r| StoreError::Conflict {
            code: r.code(),
            message: r.to_string(),
        })?;
        // A new qualification sets its end date; other decisions keep the last one, which
        // the history and the venue's page still show.
        let until = if decision.to == VenueStatus::Qualified {
            decision.qualified_until
        } else {
            current.qualified_until
        };
        // Only a status change that is still the one read above lands (a racing decision
        // made in between makes this one fail instead of overwriting it).
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE venues SET status = $1, qualified_until = $2, updated_at = $3 \
             WHERE id = $4 AND status = $5 RETURNING {COLUMNS}"
        )))
        .bind(decision.to.as_str())
        .bind(until.map(date_to_sql))
        .bind(now.unix_ms())
        .bind(id.0)
        .bind(current.status.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict {
            code: "venue_status_changed",
            message: "Le statut de ce lieu vient de changer : rechargez la page avant de décider."
                .into(),
        })?;
        record_status_change(
            &mut tx,
            id,
            Some(current.status),
            &StatusDecision {
                qualified_until: until,
                ..decision.clone()
            },
            by_staff,
            now,
        )
        .await?;
        let notice = passnum_core::notice::Notice::VenueDecision {
            venue_name: current.name.clone(),
            status_label: decision.to.label().to_string(),
            reason: decision.reason.clone(),
        };
        crate::outbox::queue_mail_to_org(
            &mut tx,
            now,
            &format!(
                "venue_status:{}:{}:{}",
                id.0,
                now.unix_ms(),
                decision.to.as_str()
            ),
            crate::Role::Venue,
            id.0,
            &notice,
        )
        .await?;
        tx.commit().await?;
        let mut v = venue(&row)?;
        v.services = self.venue_services(id).await?;
        Ok(v)
    }

    /// Sets the publics a venue addresses specifically and the specific support it gives, in
    /// the standard's values; moves its `updated_at`.
    pub async fn set_venue_publics(
        &self,
        id: VenueId,
        publics: &[&str],
        specific_support: &[&str],
        now: Timestamp,
    ) -> Result<Venue, StoreError> {
        use passnum_core::standard::{PUBLICS, SPECIFIC_SUPPORT, in_list_order};
        let joined = |values: &[&str], allowed: &[&str]| {
            in_list_order(values, allowed).map_err(|bad| StoreError::Invalid {
                code: "invalid_public",
                message: format!("« {bad} » n'est pas une valeur du standard national."),
            })
        };
        let publics = joined(publics, &PUBLICS)?;
        let support = joined(specific_support, &SPECIFIC_SUPPORT)?;
        self.update_public_texts(
            id,
            "publics = $1, specific_support = $2",
            &[&publics, &support],
            now,
        )
        .await?;
        self.get_venue(id).await
    }

    /// Every status the venue went through, oldest first, with the name of who decided.
    pub async fn venue_status_history(&self, id: VenueId) -> Result<Vec<StatusChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.at, c.by_staff, s.display_name, c.from_status, c.to_status, c.qualified_until, c.reason \
             FROM venue_status_changes c LEFT JOIN staff s ON s.id = c.by_staff \
             WHERE c.venue_id = $1 ORDER BY c.at, c.id",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatusChange {
                    at: Timestamp::from_unix_ms(get_i64(r, "at")?),
                    by_staff: get_opt_i64(r, "by_staff")?,
                    by_name: get_opt_string(r, "display_name")?,
                    from: get_opt_string(r, "from_status")?
                        .map(|s| {
                            VenueStatus::parse(&s)
                                .ok_or_else(|| StoreError::corrupt(format!("statut {s}")))
                        })
                        .transpose()?,
                    to: status(r, "to_status")?,
                    qualified_until: get_opt_date(r, "qualified_until")?,
                    reason: get_string(r, "reason")?,
                })
            })
            .collect()
    }

    /// Venues in the given statuses, oldest application first (the operator's queue).
    pub async fn venues_in_status(
        &self,
        statuses: &[VenueStatus],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Venue>, StoreError> {
        if statuses.is_empty() {
            return Ok(vec![]);
        }
        let marks = crate::rows::placeholders(self.engine(), 0, statuses.len());
        let n = statuses.len();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues WHERE status IN ({marks}) ORDER BY created_at, id \
             LIMIT {} OFFSET {}",
            crate::rows::placeholders(self.engine(), n, 1),
            crate::rows::placeholders(self.engine(), n + 1, 1),
        )));
        for s in statuses {
            q = q.bind(s.as_str());
        }
        q.bind(page_limit(limit))
            .bind(offset.max(0))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(venue)
            .collect()
    }

    /// How many venues are in each status (the queue's tabs).
    pub async fn venue_status_counts(&self) -> Result<Vec<(VenueStatus, i64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM venues GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        let mut counts: Vec<(VenueStatus, i64)> =
            VenueStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for r in &rows {
            let s = status(r, "status")?;
            if let Some(c) = counts.iter_mut().find(|(x, _)| *x == s) {
                c.1 = get_i64(r, "n")?;
            }
        }
        Ok(counts)
    }
}
