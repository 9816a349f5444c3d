//! Staff accounts of the web pages: people of the operator, of a funder or of a venue.
//!
//! Passwords arrive here already hashed (argon2, in the web layer). Session and reset tokens
//! are random and stored as SHA-256 hashes, like API tokens.

use passnum_core::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::rows::{get_i64, get_opt_i64, get_string, page_limit};
use crate::tokens::{hash_token, random_token};
use crate::{Actor, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub actor: Actor,
    pub created_at: Timestamp,
    pub disabled: bool,
    /// The organisation's own administrator (a venue's applicant): invites its colleagues.
    pub org_admin: bool,
    /// The organisation's other hat, read with the session: a venue that is also a
    /// distributing structure (or the converse) gives its accounts both menus.
    pub also: Option<Actor>,
}

impl StaffMember {
    /// Who acted, as a record shows it: "Marie Dupont <m.dupont@ville.fr>".
    pub fn signature(&self) -> String {
        format!("{} <{}>", self.display_name, self.email)
    }
}

pub(crate) const COLUMNS: &str =
    "id, email, display_name, role, org_id, created_at, disabled_at, org_admin";

pub(crate) fn member(row: &AnyRow) -> Result<StaffMember, StoreError> {
    let role = get_string(row, "role")?;
    let org = get_i64(row, "org_id")?;
    Ok(StaffMember {
        id: get_i64(row, "id")?,
        email: get_string(row, "email")?,
        display_name: get_string(row, "display_name")?,
        actor: Actor::from_parts(&role, org)?,
        created_at: Timestamp::from_unix_ms(get_i64(row, "created_at")?),
        disabled: get_opt_i64(row, "disabled_at")?.is_some(),
        org_admin: get_i64(row, "org_admin")? == 1,
        also: None,
    })
}

/// Lower-cased, trimmed; a plausible address (one @, something on each side).
pub fn normalize_email(email: &str) -> Result<String, StoreError> {
    let e = email.trim().to_lowercase();
    let ok = e.len() >= 3
        && e.len() <= passnum_core::text::MAX_EMAIL_CHARS
        && e.split('@').count() == 2
        && e.split('@').all(|p| !p.is_empty())
        && !e.chars().any(char::is_whitespace);
    if ok {
        Ok(e)
    } else {
        Err(StoreError::Invalid {
            code: "invalid_email",
            message: "Adresse électronique invalide (exemple : nom@mairie.fr).".into(),
        })
    }
}

impl Store {
    pub async fn create_staff(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        actor: Actor,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        // A référent's account races its territory's withdrawal (lock_referent_territory):
        // at SERIALIZABLE the loser fails to serialize, and runs again to find the outcome.
        crate::retry::retrying(&self.inner.telemetry, "create_staff", || {
            self.create_staff_once(email, display_name, password_hash, actor, now)
        })
        .await
    }

    async fn create_staff_once(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        actor: Actor,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        let email = normalize_email(email)?;
        let name = crate::funders::clean_name(display_name)?;
        self.check_actor_exists(actor).await?;
        let (role, org) = (actor.role().as_str(), actor.actor_id());
        let mut tx = self.begin_write().await?;
        self.lock_referent_territory(&mut tx, actor).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO staff (email, display_name, password_hash, role, org_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        )))
        .bind(&email)
        .bind(&name)
        .bind(password_hash)
        .bind(role)
        .bind(org)
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict { code: "email_taken", message: "Un compte existe déjà avec cette adresse.".into() }
            } else {
                e
            }
        })?;
        tx.commit().await?;
        member(&row)
    }

    /// The account and its password hash, for sign-in.
    pub async fn staff_for_sign_in(
        &self,
        email: &str,
    ) -> Result<Option<(StaffMember, String)>, StoreError> {
        let Ok(email) = normalize_email(email) else {
            return Ok(None);
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, password_hash FROM staff WHERE email = $1"
        )))
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((member(&r)?, get_string(&r, "password_hash")?)))
            .transpose()
    }

    pub async fn list_staff(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<StaffMember>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff ORDER BY id LIMIT $1 OFFSET $2"
        )))
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(member)
        .collect()
    }

    /// Accounts whose address or name contains `query` (any case, for unaccented letters),
    /// every account when it is empty; oldest first, `limit` from `offset`.
    pub async fn search_staff(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<StaffMember>, StoreError> {
        let words = query.trim().to_lowercase();
        let pattern = crate::rows::like_pattern(&words);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff WHERE $1 = '' OR LOWER(email) LIKE $2 ESCAPE '\\' \
             OR LOWER(display_name) LIKE $2 ESCAPE '\\' ORDER BY id LIMIT $3 OFFSET $4"
        )))
        .bind(words.as_str())
        .bind(pattern)
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(member)
        .collect()
    }

    /// The accounts of one organisation (a venue's team), oldest first.
    pub async fn staff_of(&self, actor: Actor) -> Result<Vec<StaffMember>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff WHERE role = $1 AND org_id = $2 ORDER BY id LIMIT 200"
        )))
        .bind(actor.role().as_str())
        .bind(actor.actor_id())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(member)
        .collect()
    }

    pub async fn get_staff(&self, id: i64) -> Result<StaffMember, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        member(&row)
    }

    /// Opens a session and returns its token (to put in a cookie).
    pub async fn create_session(
        &self,
        staff_id: i64,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        self.open_session(staff_id, None, now, ttl_ms).await
    }

    /// A new session's token; `id_token` is kept when it was opened through ProConnect.
    pub(crate) async fn open_session(
        &self,
        staff_id: i64,
        id_token: Option<&str>,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        let token = random_token(40);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sessions (token_hash, staff_id, created_at, expires_at, id_token) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash_token(&token))
            .bind(staff_id)
            .bind(now.unix_ms())
            .bind(now.unix_ms() + ttl_ms)
            .bind(id_token)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The signed-in member of a live session, if any.
    pub async fn session_staff(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<StaffMember>, StoreError> {
        // The other hat in the same read: the structure of a venue's account, the venue of a
        // structure's account.
        let row = sqlx::query(
            "SELECT s.id, s.email, s.display_name, s.role, s.org_id, s.created_at, s.disabled_at, s.org_admin, \
             dv.id AS also_distributor, d.venue_id AS also_venue FROM sessions x \
             JOIN staff s ON s.id = x.staff_id \
             LEFT JOIN distributors dv ON s.role = 'venue' AND dv.venue_id = s.org_id \
             LEFT JOIN distributors d ON s.role = 'distributor' AND d.id = s.org_id \
             WHERE x.token_hash = $1 AND x.expires_at > $2",
        )
        .bind(hash_token(token))
        .bind(now.unix_ms())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut m = member(&row)?;
        m.also = match (
            get_opt_i64(&row, "also_distributor")?,
            get_opt_i64(&row, "also_venue")?,
        ) {
            (Some(d), _) => Some(Actor::Distributor(crate::DistributorId(d))),
            (None, Some(v)) => Some(Actor::Venue(passnum_core::VenueId(v))),
            (None, None) => None,
        };
        Ok(Some(m).filter(|m| !m.disabled))
    }

    pub async fn delete_session(&self, token: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A one-time link token to choose a new password, valid `ttl_ms`.
    pub async fn create_password_reset(
        &self,
        staff_id: i64,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        let member = self.get_staff(staff_id).await?;
        let token = random_token(40);
        let token_hash = hash_token(&token);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO password_resets (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&token_hash)
            .bind(staff_id)
            .bind(now.unix_ms())
            .bind(now.unix_ms() + ttl_ms)
            .execute(&mut *tx)
            .await?;
        // The link is also mailed (when a mail server is configured): the page that made it
        // still shows it, for the operator who hands it over by other means.
        let notice = passnum_core::notice::Notice::PasswordLink {
            name: member.display_name,
            token: token.clone(),
            expires_at: now.plus_ms(ttl_ms),
        };
        crate::outbox::queue_mail(
            &mut tx,
            now,
            &format!("password:{token_hash}"),
            &member.email,
            &notice,
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Whether a reset token is still usable (for showing the form).
    pub async fn password_reset_valid(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash_token(token))
        .bind(now.unix_ms())
        .fetch_one(self.pool())
        .await?;
        Ok(n == 1)
    }

    /// Uses a reset token once: sets the new password hash and closes the member's sessions.
    pub async fn reset_password(
        &self,
        token: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let staff_id: Option<i64> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING staff_id",
        )
        .bind(now.unix_ms())
        .bind(hash_token(token))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(staff_id) = staff_id else {
            return Err(StoreError::NotFound);
        };
        sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(staff_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
            .bind(staff_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM sign_in_attempts WHERE email = (SELECT email FROM staff WHERE id = $1)",
        )
        .bind(staff_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
