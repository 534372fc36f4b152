//! Accounts, login sessions, API tokens and break-the-glass grants. Passwords and tokens
//! arrive here already hashed; the rules (lockout, timeouts, who may do what) live in
//! `hc_core::access` and `hc-app`.

use crate::{Result, Store, epoch_seconds, on_pool};

/// A stored account.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct UserRow {
    /// Surrogate id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// PHC string of the password hash.
    #[serde(skip)]
    pub password_hash: String,
    /// Role code.
    pub role: String,
    /// Whether the account may no longer log in.
    pub disabled: bool,
    /// Root of the visible org-unit subtree.
    pub scope_orgunit: Option<String>,
    /// The one visible institution.
    pub scope_institution: Option<String>,
    /// The resident a resident account belongs to.
    pub resident_id: Option<i64>,
    /// The practitioner whose account it is.
    pub practitioner_id: Option<i64>,
    /// Failed logins since the last success or lock.
    pub failed_logins: i32,
    /// Locked until this time (epoch seconds).
    pub locked_until: Option<i64>,
    /// Base32 TOTP secret, when the account has a second factor.
    #[serde(skip)]
    pub totp_secret: Option<String>,
    /// The password was set by someone else and must be changed at the next login.
    pub must_change_password: bool,
    /// When the password was last set (epoch seconds).
    pub password_changed_at: i64,
    /// When the account was created.
    pub created_at: i64,
    /// Last successful login.
    pub last_login_at: Option<i64>,
}

/// A new account, password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// Name shown in the UI.
    pub display_name: &'a str,
    /// PHC string of the password hash.
    pub password_hash: &'a str,
    /// Role code.
    pub role: &'a str,
    /// Root of the visible org-unit subtree.
    pub scope_orgunit: Option<&'a str>,
    /// The one visible institution.
    pub scope_institution: Option<&'a str>,
    /// The resident a resident account belongs to.
    pub resident_id: Option<i64>,
    /// The practitioner whose account it is.
    pub practitioner_id: Option<i64>,
    /// Base32 TOTP secret.
    pub totp_secret: Option<&'a str>,
    /// Must change the password at the first login.
    pub must_change_password: bool,
}

/// A live session and its account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    /// The account.
    #[sqlx(flatten)]
    pub user: UserRow,
    /// When the session opened.
    pub session_created_at: i64,
    /// When it was last used.
    pub last_seen_at: i64,
}

/// A stored API token (its secret is only ever held as a hash).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TokenRow {
    /// Surrogate id.
    pub id: i64,
    /// Name given by the administrator (the system it is for).
    pub name: String,
    /// Role code.
    pub role: String,
    /// Root of the visible org-unit subtree.
    pub scope_orgunit: Option<String>,
    /// The one visible institution.
    pub scope_institution: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When (epoch seconds).
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// When it was last used.
    pub last_used_at: Option<i64>,
}

/// A new API token.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// Name.
    pub name: &'a str,
    /// SHA-256 of the secret, hex.
    pub token_hash: &'a str,
    /// Role code.
    pub role: &'a str,
    /// Root of the visible org-unit subtree.
    pub scope_orgunit: Option<&'a str>,
    /// The one visible institution.
    pub scope_institution: Option<&'a str>,
    /// Creator's username.
    pub created_by: &'a str,
    /// Expiry (epoch seconds).
    pub expires_at: Option<i64>,
}

macro_rules! user_cols {
    () => {
        "u.id, u.username, u.display_name, u.password_hash, u.role, u.disabled, \
    u.scope_orgunit, u.scope_institution, u.resident_id, u.practitioner_id, u.failed_logins, u.locked_until, u.totp_secret, \
    u.must_change_password, u.password_changed_at, u.created_at, u.last_login_at"
    };
}
macro_rules! token_cols {
    () => {
        "id, name, role, scope_orgunit, scope_institution, created_by, created_at, expires_at, revoked_at, last_used_at"
    };
}

impl Store {
    /// Makes account `user_id` practitioner `practitioner_id`'s (or no one's).
    pub async fn set_user_practitioner(
        &self,
        user_id: i64,
        practitioner_id: Option<i64>,
    ) -> Result<()> {
        const SQL: &str = "UPDATE users SET practitioner_id = $2 WHERE id = $1";
        let done = on_pool!(self, p => sqlx::query(SQL).bind(user_id).bind(practitioner_id)
            .execute(p).await?.rows_affected());
        if done == 0 {
            return Err(crate::StoreError::NotFound);
        }
        Ok(())
    }

    /// Creates an account and returns its id; a taken username is a conflict.
    pub async fn create_user(&self, u: &NewUser<'_>) -> Result<i64> {
        const SQL: &str = "INSERT INTO users (username, display_name, password_hash, role, scope_orgunit, \
            scope_institution, resident_id, totp_secret, must_change_password, password_changed_at, created_at, \
            practitioner_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id";
        let now = epoch_seconds();
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(u.username).bind(u.display_name).bind(u.password_hash).bind(u.role)
            .bind(u.scope_orgunit).bind(u.scope_institution).bind(u.resident_id).bind(u.totp_secret)
            .bind(u.must_change_password).bind(now).bind(u.practitioner_id)
            .fetch_one(p).await?))
    }

    /// The account named `username`.
    pub async fn user_by_name(&self, username: &str) -> Result<UserRow> {
        const SQL: &str = concat!(
            "SELECT ",
            user_cols!(),
            " FROM users u WHERE u.username = $1"
        );
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(username).fetch_one(p).await?))
    }

    /// All accounts, by username.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        const SQL: &str = concat!("SELECT ", user_cols!(), " FROM users u ORDER BY u.username");
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// Replaces an account's password hash, sets whether it must be changed at the next login,
    /// clears any lock, and ends the account's sessions.
    pub async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()> {
        const SQL: &str = "UPDATE users SET password_hash = $2, must_change_password = $3, password_changed_at = $4, \
            failed_logins = 0, locked_until = NULL WHERE username = $1 RETURNING id";
        const END: &str = "DELETE FROM sessions WHERE user_id = $1";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(SQL).bind(username).bind(password_hash).bind(must_change)
                .bind(epoch_seconds()).fetch_one(&mut *tx).await?;
            sqlx::query(END).bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Enables or disables an account; disabling ends its sessions, enabling clears its lock.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<()> {
        const SQL: &str = "UPDATE users SET disabled = $2, failed_logins = 0, locked_until = NULL \
            WHERE username = $1 RETURNING id";
        const END: &str = "DELETE FROM sessions WHERE user_id = $1";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(SQL).bind(username).bind(disabled).fetch_one(&mut *tx).await?;
            if disabled {
                sqlx::query(END).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Counts one more failed login, in one statement so that concurrent attempts each count:
    /// at the `threshold`-th failure in a row (0: never) the count restarts and the account is
    /// locked until `lock_until`. Returns whether this failure locked it.
    pub async fn record_login_failure(
        &self,
        user_id: i64,
        threshold: i32,
        lock_until: i64,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE users SET \
            locked_until = CASE WHEN $2 > 0 AND failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
            failed_logins = CASE WHEN $2 > 0 AND failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
            WHERE id = $1 RETURNING locked_until";
        let locked: Option<i64> = on_pool!(self, p => sqlx::query_scalar(SQL).bind(user_id).bind(threshold).bind(lock_until).fetch_one(p).await?);
        Ok(locked == Some(lock_until))
    }

    /// Records that the TOTP time step `step` was used, unless it (or a later one) already
    /// was: a code is good once. Returns whether it was fresh.
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        const SQL: &str = "UPDATE users SET totp_last_step = $2 WHERE id = $1 \
            AND (totp_last_step IS NULL OR totp_last_step < $2)";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(user_id).bind(step).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Gives an account a new TOTP secret (enrolment, or a lost authenticator).
    pub async fn set_totp_secret(&self, username: &str, secret: &str) -> Result<()> {
        const SQL: &str = "UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE username = $1 RETURNING id";
        let _: i64 = on_pool!(self, p => sqlx::query_scalar(SQL).bind(username).bind(secret).fetch_one(p).await?);
        Ok(())
    }

    /// Stores a session for `user_id` after a successful login, and resets the failure count.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        ttl_seconds: i64,
        client_addr: Option<&str>,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO sessions (token_hash, user_id, expires_at, created_at, last_seen_at, client_addr) \
            VALUES ($1, $2, $3, $4, $4, $5)";
        const PURGE: &str = "DELETE FROM sessions WHERE expires_at < $1";
        const RESET: &str = "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1";
        let now = epoch_seconds();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(PURGE).bind(now).execute(&mut *tx).await?;
            sqlx::query(SQL).bind(token_hash).bind(user_id).bind(now + ttl_seconds).bind(now).bind(client_addr)
                .execute(&mut *tx).await?;
            sqlx::query(RESET).bind(user_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The enabled account of an unexpired session, with the session's times.
    pub async fn session(&self, token_hash: &str) -> Result<SessionRow> {
        const SQL: &str = concat!(
            "SELECT ",
            user_cols!(),
            ", s.created_at AS session_created_at, s.last_seen_at FROM sessions s \
            JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(SQL).bind(token_hash).bind(epoch_seconds()).fetch_one(p).await?),
        )
    }

    /// Marks a session as used now.
    pub async fn touch_session(&self, token_hash: &str) -> Result<()> {
        const SQL: &str = "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1";
        on_pool!(self, p => { sqlx::query(SQL).bind(token_hash).bind(epoch_seconds()).execute(p).await?; });
        Ok(())
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM sessions WHERE token_hash = $1";
        on_pool!(self, p => { sqlx::query(SQL).bind(token_hash).execute(p).await?; });
        Ok(())
    }

    // -- API tokens ------------------------------------------------------------------------------

    /// Stores a new API token and returns it; a taken name is a conflict.
    pub async fn create_token(&self, t: &NewToken<'_>) -> Result<TokenRow> {
        const SQL: &str = concat!(
            "INSERT INTO api_tokens (name, token_hash, role, scope_orgunit, scope_institution, created_by, \
            created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
            token_cols!()
        );
        Ok(on_pool!(self, p => sqlx::query_as(SQL)
            .bind(t.name).bind(t.token_hash).bind(t.role).bind(t.scope_orgunit).bind(t.scope_institution)
            .bind(t.created_by).bind(epoch_seconds()).bind(t.expires_at)
            .fetch_one(p).await?))
    }

    /// All API tokens, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>> {
        const SQL: &str = concat!(
            "SELECT ",
            token_cols!(),
            " FROM api_tokens ORDER BY id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// The live (unrevoked, unexpired) token with this hash.
    pub async fn live_token(&self, token_hash: &str) -> Result<TokenRow> {
        const SQL: &str = concat!(
            "SELECT ",
            token_cols!(),
            " FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(SQL).bind(token_hash).bind(epoch_seconds()).fetch_one(p).await?),
        )
    }

    /// Records that token `id` was used now.
    pub async fn touch_token(&self, id: i64) -> Result<()> {
        const SQL: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
        on_pool!(self, p => { sqlx::query(SQL).bind(id).bind(epoch_seconds()).execute(p).await?; });
        Ok(())
    }

    /// Revokes the live token with this name or, when no token has that name, this decimal
    /// id; returns it. Revoking twice is not found.
    pub async fn revoke_token(&self, name_or_id: &str) -> Result<TokenRow> {
        const BY_NAME: &str = concat!(
            "UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING ",
            token_cols!()
        );
        const BY_ID: &str = concat!(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM api_tokens t WHERE t.name = $3) RETURNING ",
            token_cols!()
        );
        let now = epoch_seconds();
        let by_name: Option<TokenRow> = on_pool!(self, p => sqlx::query_as(BY_NAME).bind(name_or_id).bind(now).fetch_optional(p).await?);
        if let Some(row) = by_name {
            return Ok(row);
        }
        let id = name_or_id
            .parse::<i64>()
            .map_err(|_| crate::StoreError::NotFound)?;
        Ok(
            on_pool!(self, p => sqlx::query_as(BY_ID).bind(id).bind(now).bind(name_or_id).fetch_one(p).await?),
        )
    }

    // -- break-the-glass -------------------------------------------------------------------------

    /// Grants `user_id` access to `resident_id` for `ttl_seconds`; returns the expiry.
    pub async fn grant_access(
        &self,
        user_id: i64,
        resident_id: i64,
        reason: &str,
        ttl_seconds: i64,
    ) -> Result<i64> {
        const SQL: &str = "INSERT INTO access_grants (user_id, resident_id, reason, granted_at, expires_at) \
            VALUES ($1, $2, $3, $4, $5)";
        let now = epoch_seconds();
        on_pool!(self, p => { sqlx::query(SQL).bind(user_id).bind(resident_id).bind(reason).bind(now).bind(now + ttl_seconds).execute(p).await?; });
        Ok(now + ttl_seconds)
    }

    /// The expiry of `user_id`'s live grant to `resident_id`, if any.
    pub async fn live_grant(&self, user_id: i64, resident_id: i64) -> Result<Option<i64>> {
        const SQL: &str = "SELECT MAX(expires_at) FROM access_grants WHERE user_id = $1 AND resident_id = $2 AND expires_at > $3";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(SQL).bind(user_id).bind(resident_id).bind(epoch_seconds()).fetch_one(p).await?),
        )
    }
}
