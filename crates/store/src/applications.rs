//! A venue's application from the public page, its documents, the programme's charter, and
//! the daily job on qualification end dates.

use passnum_core::application::{Document, DocumentType};
use passnum_core::catalogue::Catalogue;
use passnum_core::venue::{QualificationStep, StatusDecision, due_qualification_steps};
use passnum_core::{Timestamp, VenueId, VenueStatus, paris};
use serde::Serialize;

use crate::rows::{date_to_sql, get_i64, get_opt_i64, get_string};
use crate::staff::{StaffMember, member, normalize_email};
use crate::venues::{NewVenue, Venue, clean_text, record_status_change, siret_taken, venue};
use crate::{Store, StoreError};

/// Everything a venue sends when it applies; written whole or not at all.
pub struct NewApplication {
    /// The venue; its status is set to `Applied` and its charter acceptance to the time of
    /// the application whatever this says.
    pub venue: NewVenue,
    /// Name and role of who commits the organisation: "Marie Dupont, présidente".
    pub legal_representative: String,
    pub catalogue: Catalogue,
    pub opening_hours: String,
    pub accessibility: String,
    /// The applicant, who becomes the venue's own administrator.
    pub applicant_email: String,
    pub applicant_name: String,
    /// Already hashed by the web layer.
    pub password_hash: String,
    pub documents: Vec<Document>,
}

/// A supporting document, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentInfo {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_at: Timestamp,
}

/// What the daily job did to one venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QualificationStepDone {
    pub venue_id: VenueId,
    pub venue_name: String,
    pub step: &'static str,
    pub summary: String,
}

/// A qualification that ends within 30 days, as the venue and the operator are warned of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndingQualification {
    pub venue_id: VenueId,
    pub venue_name: String,
    pub qualified_until: time::Date,
}

fn email_taken(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Conflict {
            code: "email_taken",
            message: "Un compte existe déjà avec cette adresse électronique : connectez-vous, ou utilisez une autre adresse.".into(),
        }
    } else {
        e
    }
}

fn number_taken(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        siret_taken()
    } else {
        e
    }
}

impl Store {
    /// Records an application: the venue (new in the operator's queue), its catalogue, its
    /// practical information, its documents, its first status and the applicant's account,
    /// in one transaction.
    pub async fn submit_application(
        &self,
        app: &NewApplication,
        now: Timestamp,
    ) -> Result<(Venue, StaffMember), StoreError> {
        let v = &app.venue;
        let name = crate::funders::clean_name(&v.name)?;
        let text = passnum_core::text::MAX_ADDRESS_CHARS;
        let address = clean_text(&v.address, "L'adresse", text)?;
        let contact = clean_text(&v.contact, "La prise de rendez-vous", text)?;
        let legal = clean_text(&app.legal_representative, "Le représentant légal", text)?;
        let hours = clean_text(&app.opening_hours, "Le texte des horaires d'ouverture", 500)?;
        let access = clean_text(&app.accessibility, "Le texte d'accessibilité", 500)?;
        let email = normalize_email(&app.applicant_email)?;
        let applicant = crate::funders::clean_name(&app.applicant_name)?;
        if app.documents.len() > passnum_core::application::MAX_DOCUMENTS {
            return Err(StoreError::Invalid {
                code: "too_many_documents",
                message: passnum_core::application::DocumentError::TooMany.to_string(),
            });
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO venues (siret, name, commune_insee, status, created_at, updated_at, address, contact, \
             opening_hours, accessibility, legal_representative, charter_accepted_at) \
             VALUES ($1, $2, $3, 'applied', $4, $4, $5, $6, $7, $8, $9, $4) RETURNING {}",
            crate::venues::COLUMNS
        )))
        .bind(v.siret.as_str())
        .bind(&name)
        .bind(v.commune.as_str())
        .bind(now.unix_ms())
        .bind(&address)
        .bind(&contact)
        .bind(&hours)
        .bind(&access)
        .bind(&legal)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| number_taken(e.into()))?;
        let created = venue(&row)?;
        let id = created.id;
        sqlx::query("INSERT INTO accounts (kind, owner_id) VALUES ('venue_payable', $1)")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        crate::catalogues::write_catalogue(&mut tx, id, &app.catalogue).await?;
        let staff_row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO staff (email, display_name, password_hash, role, org_id, created_at, org_admin) \
             VALUES ($1, $2, $3, 'venue', $4, $5, 1) RETURNING {}",
            crate::staff::COLUMNS
        )))
        .bind(&email)
        .bind(&applicant)
        .bind(&app.password_hash)
        .bind(id.0)
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| email_taken(e.into()))?;
        let admin = member(&staff_row)?;
        sqlx::query(
            "INSERT INTO venue_catalogue_changes (venue_id, at, by_staff, summary) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0)
        .bind(now.unix_ms())
        .bind(admin.id)
        .bind(app.catalogue.change_from(&Catalogue::default()))
        .execute(&mut *tx)
        .await?;
        let first = StatusDecision {
            to: VenueStatus::Applied,
            qualified_until: None,
            reason: "Candidature déposée en ligne, charte acceptée.".into(),
        };
        record_status_change(&mut tx, id, None, &first, Some(admin.id), now).await?;
        for d in &app.documents {
            insert_document(&mut tx, id, d, now).await?;
        }
        tx.commit().await?;
        let mut created = created;
        created.services = app
            .catalogue
            .entries()
            .map(|(c, _)| c.as_str().to_string())
            .collect();
        Ok((created, admin))
    }

    /// The venue's supporting documents, oldest first.
    pub async fn venue_documents(&self, id: VenueId) -> Result<Vec<DocumentInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, file_name, content_type, size_bytes, uploaded_at FROM venue_documents \
             WHERE venue_id = $1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DocumentInfo {
                    id: get_i64(r, "id")?,
                    file_name: get_string(r, "file_name")?,
                    content_type: get_string(r, "content_type")?,
                    size_bytes: get_i64(r, "size_bytes")?,
                    uploaded_at: Timestamp::from_unix_ms(get_i64(r, "uploaded_at")?),
                })
            })
            .collect()
    }

    /// One document of the venue, with its bytes.
    pub async fn venue_document(
        &self,
        venue: VenueId,
        document: i64,
    ) -> Result<Document, StoreError> {
        let row = sqlx::query(
            "SELECT file_name, content_type, content FROM venue_documents WHERE venue_id = $1 AND id = $2",
        )
        .bind(venue.0)
        .bind(document)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let mime = get_string(&row, "content_type")?;
        Ok(Document {
            file_name: get_string(&row, "file_name")?,
            kind: DocumentType::from_mime(&mime)
                .ok_or_else(|| StoreError::corrupt(format!("type {mime}")))?,
            bytes: sqlx::Row::try_get(&row, "content")?,
        })
    }

    /// A document the venue adds after applying (the operator asked for it, for instance).
    pub async fn add_venue_document(
        &self,
        venue: VenueId,
        document: &Document,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let count = get_i64(
            &sqlx::query("SELECT COUNT(*) AS n FROM venue_documents WHERE venue_id = $1")
                .bind(venue.0)
                .fetch_one(&mut *tx)
                .await?,
            "n",
        )?;
        // Bounded per venue, so that an account cannot fill the database.
        if count >= 2 * passnum_core::application::MAX_DOCUMENTS as i64 {
            return Err(StoreError::Conflict {
                code: "too_many_documents",
                message: "Ce lieu a déjà dix documents : écrivez à l'opérateur pour en retirer."
                    .into(),
            });
        }
        insert_document(&mut tx, venue, document, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The programme's charter as the operator last wrote it (empty: not written yet).
    pub async fn charter(&self) -> Result<(String, Option<Timestamp>), StoreError> {
        let row = sqlx::query(
            "SELECT charter_text, charter_updated_at FROM programme_settings WHERE id = 1",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((
            get_string(&row, "charter_text")?,
            get_opt_i64(&row, "charter_updated_at")?.map(Timestamp::from_unix_ms),
        ))
    }

    pub async fn set_charter(&self, text: &str, now: Timestamp) -> Result<(), StoreError> {
        let text = clean_text(text, "La charte", 20_000)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE programme_settings SET charter_text = $1, charter_updated_at = $2 WHERE id = 1",
        )
        .bind(&text)
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The daily job on qualification end dates: a warning 30 days before (once per venue
    /// and end date), the end the day after the last day. Safe to run as often as wished.
    pub async fn run_qualification_steps(
        &self,
        now: Timestamp,
    ) -> Result<Vec<QualificationStepDone>, StoreError> {
        let today = paris::local_date(now);
        let rows = sqlx::query(
            "SELECT id, name, qualified_until FROM venues \
             WHERE status = 'qualified' AND qualified_until IS NOT NULL AND qualified_until <= $1 ORDER BY id",
        )
        .bind(date_to_sql(
            today + time::Duration::days(passnum_core::venue::END_WARNING_DAYS),
        ))
        .fetch_all(self.pool())
        .await?;
        let mut done = vec![];
        for r in &rows {
            let id = VenueId(get_i64(r, "id")?);
            let name = get_string(r, "name")?;
            let until = crate::rows::get_date(r, "qualified_until")?;
            for step in due_qualification_steps(until, today) {
                let (code, summary) = match step {
                    QualificationStep::Warn => (
                        "warn",
                        format!(
                            "La qualification se termine le {} : renouvelez-la avant cette date ou le lieu ne pourra plus encaisser.",
                            paris::format_date(until)
                        ),
                    ),
                    QualificationStep::End => (
                        "end",
                        format!(
                            "Qualification arrivée à son terme le {}.",
                            paris::format_date(until)
                        ),
                    ),
                };
                // Each step is its own transaction, retried alone on a serialization failure
                // (SERIALIZABLE, issue 18): a step already done is never redone or forgotten.
                let step_done =
                    crate::retry::retrying(&self.inner.telemetry, "qualification_step", || {
                        self.qualification_step(id, &name, until, code, &summary, now)
                    })
                    .await?;
                if step_done {
                    done.push(QualificationStepDone {
                        venue_id: id,
                        venue_name: name.clone(),
                        step: code,
                        summary,
                    });
                }
            }
        }
        Ok(done)
    }

    /// Records one step once (the primary key decides between concurrent jobs); the end
    /// also moves the venue to `Expired`, in the same transaction.
    async fn qualification_step(
        &self,
        id: VenueId,
        name: &str,
        until: time::Date,
        step: &str,
        summary: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO venue_qualification_steps (venue_id, qualified_until, step, done_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(date_to_sql(until))
        .bind(step)
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        if step == "end" {
            let moved = sqlx::query(
                "UPDATE venues SET status = 'expired', updated_at = $1 \
                 WHERE id = $2 AND status = 'qualified' AND qualified_until = $3",
            )
            .bind(now.unix_ms())
            .bind(id.0)
            .bind(date_to_sql(until))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                // Renewed or decided meanwhile: nothing ends.
                return Ok(false);
            }
            let decision = StatusDecision {
                to: VenueStatus::Expired,
                qualified_until: Some(until),
                reason: summary.to_string(),
            };
            record_status_change(
                &mut tx,
                id,
                Some(VenueStatus::Qualified),
                &decision,
                None,
                now,
            )
            .await?;
        }
        let notice = passnum_core::notice::Notice::QualificationStep {
            venue_name: name.to_string(),
            ended: step == "end",
            summary: summary.to_string(),
        };
        crate::outbox::queue_mail_to_org(
            &mut tx,
            now,
            &format!("qualification:{}:{}:{step}", id.0, date_to_sql(until)),
            crate::Role::Venue,
            id.0,
            &notice,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Qualified venues warned that their qualification ends soon (the operator's queue, the
    /// venue's own page); `venue` narrows to one.
    pub async fn ending_qualifications(
        &self,
        venue: Option<VenueId>,
    ) -> Result<Vec<EndingQualification>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.id, v.name, v.qualified_until FROM venues v \
             JOIN venue_qualification_steps s ON s.venue_id = v.id AND s.qualified_until = v.qualified_until AND s.step = 'warn' \
             WHERE v.status = 'qualified' AND ($1 = 0 OR v.id = $1) ORDER BY v.qualified_until, v.id LIMIT 500",
        )
        .bind(venue.map_or(0, |v| v.0))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EndingQualification {
                    venue_id: VenueId(get_i64(r, "id")?),
                    venue_name: get_string(r, "name")?,
                    qualified_until: crate::rows::get_date(r, "qualified_until")?,
                })
            })
            .collect()
    }
}

async fn insert_document(
    tx: &mut sqlx::AnyConnection,
    venue: VenueId,
    d: &Document,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO venue_documents (venue_id, file_name, content_type, size_bytes, content, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(venue.0)
    .bind(&d.file_name)
    .bind(d.kind.mime())
    .bind(i64::try_from(d.bytes.len()).unwrap_or(i64::MAX))
    .bind(&d.bytes)
    .bind(now.unix_ms())
    .execute(&mut *tx)
    .await?;
    Ok(())
}
