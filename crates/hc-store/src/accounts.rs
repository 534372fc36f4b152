//! Accounts and login sessions. Passwords arrive here already hashed; tokens arrive hashed.

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
}

/// The account behind a live session.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SessionUser {
    /// Account id.
    pub user_id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role code.
    pub role: String,
}

impl Store {
    /// Creates an account and returns its id; a taken username is a conflict.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<i64> {
        const SQL: &str = "INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(SQL).bind(username).bind(display_name).bind(password_hash).bind(role).fetch_one(p).await?),
        )
    }

    /// The account named `username`.
    pub async fn user_by_name(&self, username: &str) -> Result<UserRow> {
        const SQL: &str = "SELECT id, username, display_name, password_hash, role, disabled FROM users WHERE username = $1";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(username).fetch_one(p).await?))
    }

    /// All accounts, by username.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        const SQL: &str = "SELECT id, username, display_name, password_hash, role, disabled FROM users ORDER BY username";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// Replaces an account's password hash and ends its sessions.
    pub async fn set_password_hash(&self, username: &str, password_hash: &str) -> Result<()> {
        const SQL: &str = "UPDATE users SET password_hash = $2 WHERE username = $1 RETURNING id";
        const END: &str = "DELETE FROM sessions WHERE user_id = $1";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(SQL).bind(username).bind(password_hash).fetch_one(&mut *tx).await?;
            sqlx::query(END).bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Enables or disables an account; disabling ends its sessions.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<()> {
        const SQL: &str = "UPDATE users SET disabled = $2 WHERE username = $1 RETURNING id";
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

    /// Stores a session for `user_id`, valid for `ttl_seconds`.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        ttl_seconds: i64,
    ) -> Result<()> {
        const SQL: &str =
            "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)";
        const PURGE: &str = "DELETE FROM sessions WHERE expires_at < $1";
        let now = epoch_seconds();
        on_pool!(self, p => {
            sqlx::query(PURGE).bind(now).execute(p).await?;
            sqlx::query(SQL).bind(token_hash).bind(user_id).bind(now + ttl_seconds).execute(p).await?;
        });
        Ok(())
    }

    /// The enabled account of a live session.
    pub async fn session_user(&self, token_hash: &str) -> Result<SessionUser> {
        const SQL: &str = "SELECT u.id AS user_id, u.username, u.display_name, u.role FROM sessions s \
            JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled";
        Ok(
            on_pool!(self, p => sqlx::query_as(SQL).bind(token_hash).bind(epoch_seconds()).fetch_one(p).await?),
        )
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM sessions WHERE token_hash = $1";
        on_pool!(self, p => { sqlx::query(SQL).bind(token_hash).execute(p).await?; });
        Ok(())
    }
}
