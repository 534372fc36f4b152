//! Accounts, passwords and login sessions.
//!
//! Passwords are stored as Argon2id hashes; a session token is 32 random bytes, given to the
//! client once and stored only as its SHA-256.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use hc_store::{SessionUser, Store, StoreError};
use sha2::{Digest, Sha256};

use crate::AppError;

/// Roles an account may hold. Issue #5 gives them their permissions and jurisdictions.
pub const ROLES: [&str; 4] = ["admin", "analyst", "clinician", "viewer"];

/// How long a login session lasts: 12 hours.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::invalid("password", format!("cannot be hashed: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn check_new_account(username: &str, password: &str, role: &str) -> Result<(), AppError> {
    let mut errs = Vec::new();
    let ok_name = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !ok_name {
        errs.push(hc_core::validate::FieldError::new(
            "username",
            "must be 3-32 lower-case letters, digits, '.', '_' or '-'",
        ));
    }
    if password.chars().count() < 8 {
        errs.push(hc_core::validate::FieldError::new(
            "password",
            "must be at least 8 characters",
        ));
    }
    if !ROLES.contains(&role) {
        errs.push(hc_core::validate::FieldError::new(
            "role",
            format!("unknown role {role:?}; expected {}", ROLES.join("|")),
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// Creates an account; returns its id.
pub async fn create_user(
    store: &Store,
    username: &str,
    display_name: &str,
    password: &str,
    role: &str,
) -> Result<i64, AppError> {
    check_new_account(username, password, role)?;
    let hash = hash_password(password)?;
    let display = if display_name.trim().is_empty() {
        username
    } else {
        display_name.trim()
    };
    store
        .create_user(username, display, &hash, role)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::Conflict(hc_core::validate::FieldError::new(
                "username",
                format!("{username:?} is taken"),
            )),
            other => other.into(),
        })
}

/// Sets a new password; the account's sessions end.
pub async fn set_password(store: &Store, username: &str, password: &str) -> Result<(), AppError> {
    if password.chars().count() < 8 {
        return Err(AppError::invalid(
            "password",
            "must be at least 8 characters",
        ));
    }
    let hash = hash_password(password)?;
    store
        .set_password_hash(username, &hash)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound("user"),
            other => other.into(),
        })
}

/// Checks credentials and opens a session; returns the token to give the client.
pub async fn login(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(String, SessionUser), AppError> {
    let user = match store.user_by_name(username).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            // Spend the same time as a real check, so timing does not reveal account names.
            let pw = password.to_owned();
            let _ = tokio::task::spawn_blocking(move || verify_password(&pw, DUMMY_HASH)).await;
            return Err(AppError::Unauthorized);
        }
        Err(e) => return Err(e.into()),
    };
    let hash = user.password_hash.clone();
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    if !ok || user.disabled {
        return Err(AppError::Unauthorized);
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    store
        .create_session(&token_hash(&token), user.id, SESSION_SECONDS)
        .await?;
    let session = SessionUser {
        user_id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
    };
    Ok((token, session))
}

/// The account of a live session token.
pub async fn authenticate(store: &Store, token: &str) -> Result<SessionUser, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::Unauthorized);
    }
    store
        .session_user(&token_hash(token))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::Unauthorized,
            other => other.into(),
        })
}

/// Ends a session.
pub async fn logout(store: &Store, token: &str) -> Result<(), AppError> {
    Ok(store.delete_session(&token_hash(token)).await?)
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A valid Argon2id hash of a random password, verified against on unknown usernames.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn new_accounts_are_checked() {
        assert!(check_new_account("admin", "demo-pass", "admin").is_ok());
        let Err(AppError::Invalid(errs)) = check_new_account("A", "short", "god") else {
            panic!()
        };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "password", "role"]);
    }
}
