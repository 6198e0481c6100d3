//! People who sign in to the web pages, and their sessions.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults, OWASP's
//! recommended parameters) and verified off the async threads by the
//! caller. A session is a 256-bit random cookie value of which only SHA-256
//! is stored, with its own CSRF token and an absolute expiry.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use daicho_report::{Says, Text};
use serde::Serialize;
use sqlx::Row;

use crate::clients::random_token;
use crate::{Store, StoreError, stamp};

/// What a signed-in person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebRole {
    /// Reads every page and export.
    Viewer,
    /// Also accepts and ignores diff items.
    Editor,
}

impl WebRole {
    pub fn as_str(self) -> &'static str {
        match self {
            WebRole::Viewer => "viewer",
            WebRole::Editor => "editor",
        }
    }

    fn from_db(text: &str) -> WebRole {
        if text == "editor" {
            WebRole::Editor
        } else {
            WebRole::Viewer
        }
    }
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub user: String,
    pub role: WebRole,
    pub csrf: String,
}

/// How long a session lasts, whatever happens.
const SESSION_HOURS: i64 = 12;

/// The argon2id PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::BadPassword(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::BadPassword(e.to_string()))
}

/// Whether `password` matches the stored PHC string (false for a damaged one).
pub fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

impl Store {
    /// Adds a person with an already hashed password ([`hash_password`]).
    pub async fn add_user(
        &self,
        name: &str,
        role: WebRole,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        if !crate::clients::valid_name(name) {
            return Err(StoreError::BadName(name.to_owned()));
        }
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO web_users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(stamp(jiff::Timestamp::now()))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::UserExists(name.to_owned()));
        }
        self.audit(
            &mut tx,
            "admin",
            "user-add",
            &Says::of(Text::AuditNameRole)
                .with("role", role.as_str())
                .with("name", name),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a person and ends their sessions. False if unknown.
    pub async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM web_sessions WHERE user_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query("DELETE FROM web_users WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed > 0 {
            self.audit(
                &mut tx,
                "admin",
                "user-remove",
                &Says::of(Text::AuditName).with("name", name),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// Every person: (name, role, created at).
    pub async fn users(&self) -> Result<Vec<(String, WebRole, String)>, StoreError> {
        Ok(
            sqlx::query("SELECT name, role, created_at FROM web_users ORDER BY name")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| (r.get(0), WebRole::from_db(&r.get::<String, _>(1)), r.get(2)))
                .collect(),
        )
    }

    /// The stored hash and role of `name`, for the caller to verify.
    pub async fn user_credentials(
        &self,
        name: &str,
    ) -> Result<Option<(String, WebRole)>, StoreError> {
        Ok(
            sqlx::query("SELECT password_hash, role FROM web_users WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| (r.get(0), WebRole::from_db(&r.get::<String, _>(1)))),
        )
    }

    /// Starts a session for `user`: returns the cookie value (shown to the
    /// browser only) and the session. Sign-ins go to the audit log.
    pub async fn start_session(
        &self,
        user: &str,
        role: WebRole,
    ) -> Result<(String, WebSession), StoreError> {
        let (token, csrf) = (random_token()?, random_token()?);
        let now = jiff::Timestamp::now();
        let expires = now + jiff::SignedDuration::from_hours(SESSION_HOURS);
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(stamp(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO web_sessions (token_hash, user_name, csrf, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(crate::clients::hash(&token))
            .bind(user)
            .bind(&csrf)
            .bind(stamp(expires))
            .execute(&mut *tx)
            .await?;
        self.audit(
            &mut tx,
            user,
            "web-sign-in",
            &Says::of(Text::AuditSignedIn).with("role", role.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok((
            token,
            WebSession {
                user: user.to_owned(),
                role,
                csrf,
            },
        ))
    }

    /// The live session a cookie value belongs to.
    pub async fn session(&self, token: &str) -> Result<Option<WebSession>, StoreError> {
        Ok(sqlx::query(
            "SELECT s.user_name, u.role, s.csrf FROM web_sessions s JOIN web_users u ON u.name = s.user_name \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(crate::clients::hash(token))
        .bind(stamp(jiff::Timestamp::now()))
        .fetch_optional(&self.pool)
        .await?
        .map(|r| WebSession {
            user: r.get(0),
            role: WebRole::from_db(&r.get::<String, _>(1)),
            csrf: r.get(2),
        }))
    }

    /// Ends the session a cookie value belongs to.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(crate::clients::hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
