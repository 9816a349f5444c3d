//! What ProConnect sign-in keeps: the sign-ins under way (state, nonce, PKCE verifier), the
//! link between an account and the provider's subject, and the ID token of a session for
//! signing out at the provider.

use passnum_core::Timestamp;

use crate::rows::{get_opt_string, get_string};
use crate::staff::{COLUMNS, member};
use crate::tokens::hash_token;
use crate::{StaffMember, Store, StoreError};

/// Sign-ins under way at most (each lives 10 minutes).
pub const MAX_PENDING_LOGINS: i64 = 10_000;

/// A sign-in under way, found again by its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    /// The hash of the invitation (password link) to use, when the person links their account.
    pub invitation_hash: Option<String>,
}

/// Why an invitation cannot link an identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Used, expired or unknown.
    InvitationInvalid,
    /// ProConnect gave another e-mail address than the invited account's.
    EmailMismatch,
    /// The identity is already linked to another account, or the account to another identity.
    AlreadyLinked,
}

impl Store {
    /// Records a sign-in under way for `ttl_ms`; `state` is stored hashed.
    pub async fn start_oidc_login(
        &self,
        state: &str,
        login: &PendingLogin,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // Old attempts nobody finished go first: the table stays small whatever the traffic.
        sqlx::query("DELETE FROM oidc_logins WHERE expires_at < $1")
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
        // Bounded: a client that starts sign-ins without end cannot fill the table.
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_logins")
            .fetch_one(&mut *tx)
            .await?;
        if open >= MAX_PENDING_LOGINS {
            return Err(StoreError::Conflict {
                code: "too_many_sign_ins",
                message: "Trop de connexions sont en cours : réessayez dans quelques minutes."
                    .into(),
            });
        }
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, invitation_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash_token(state))
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(login.invitation_hash.as_deref())
        .bind(now.unix_ms())
        .bind(now.unix_ms() + ttl_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a sign-in under way, once: a replayed callback finds nothing.
    pub async fn take_oidc_login(
        &self,
        state: &str,
        now: Timestamp,
    ) -> Result<Option<PendingLogin>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, invitation_hash, expires_at",
        )
        .bind(hash_token(state))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(r) = row else { return Ok(None) };
        if crate::rows::get_i64(&r, "expires_at")? <= now.unix_ms() {
            return Ok(None);
        }
        Ok(Some(PendingLogin {
            nonce: get_string(&r, "nonce")?,
            pkce_verifier: get_string(&r, "pkce_verifier")?,
            invitation_hash: get_opt_string(&r, "invitation_hash")?,
        }))
    }

    /// The active account linked to this subject (`issuer sub`), if any.
    pub async fn staff_by_oidc_subject(
        &self,
        subject: &str,
    ) -> Result<Option<StaffMember>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff WHERE oidc_subject = $1"
        )))
        .bind(subject)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| member(&r)).transpose()?.filter(|m| !m.disabled))
    }

    /// The active account an invitation (an unused password link) is for.
    pub async fn invitation_member(
        &self,
        invitation_hash: &str,
        now: Timestamp,
    ) -> Result<Option<StaffMember>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff WHERE id = (SELECT staff_id FROM password_resets \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)"
        )))
        .bind(invitation_hash)
        .bind(now.unix_ms())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| member(&r)).transpose()?.filter(|m| !m.disabled))
    }

    /// Links the invited account to `subject`, using the invitation once, when ProConnect's
    /// e-mail is the invited account's (compared without case).
    pub async fn link_oidc_by_invitation(
        &self,
        invitation_hash: &str,
        subject: &str,
        email: &str,
        now: Timestamp,
    ) -> Result<Result<StaffMember, LinkRefusal>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, oidc_subject FROM staff WHERE id = (SELECT staff_id FROM password_resets \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)"
        )))
        .bind(invitation_hash)
        .bind(now.unix_ms())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(LinkRefusal::InvitationInvalid));
        };
        let m = member(&row)?;
        if m.disabled {
            return Ok(Err(LinkRefusal::InvitationInvalid));
        }
        if !m.email.eq_ignore_ascii_case(email.trim()) {
            return Ok(Err(LinkRefusal::EmailMismatch));
        }
        if get_opt_string(&row, "oidc_subject")?.is_some_and(|s| s != subject) {
            return Ok(Err(LinkRefusal::AlreadyLinked));
        }
        let linked = sqlx::query("UPDATE staff SET oidc_subject = $1 WHERE id = $2")
            .bind(subject)
            .bind(m.id)
            .execute(&mut *tx)
            .await;
        match linked.map_err(StoreError::from) {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() => return Ok(Err(LinkRefusal::AlreadyLinked)),
            Err(e) => return Err(e),
        }
        sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_hash = $2")
            .bind(now.unix_ms())
            .bind(invitation_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(m))
    }

    /// Opens a session through ProConnect, keeping its ID token for signing out there.
    pub async fn create_oidc_session(
        &self,
        staff_id: i64,
        id_token: &str,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        self.open_session(staff_id, Some(id_token), now, ttl_ms)
            .await
    }

    /// The ID token of a session opened through ProConnect.
    pub async fn session_id_token(&self, token: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT id_token FROM sessions WHERE token_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(self.pool())
        .await?
        .flatten())
    }
}
