//! Accounts, passwords, second factors, login sessions and API tokens.
//!
//! Passwords are stored as Argon2id hashes. A session token is 32 random bytes (64 hex
//! digits) and an API token `hct_` followed by 32 random bytes; both are given to the client
//! once and stored only as their SHA-256. Every change to an account or token is audited.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use hc_core::access::{Principal, Role, Scope, SecurityPolicy};
use hc_core::validate::FieldError;
use hc_store::{NewToken, NewUser, Store, StoreError, TokenRow, UserRow};
use sha2::{Digest, Sha256};

use crate::AppError;
use crate::audit::{Caller, Event};

/// Prefix of API tokens, so a leaked one is recognisable (and scanners can find it).
pub const TOKEN_PREFIX: &str = "hct_";

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

/// Verifies off the async threads: Argon2 takes tens of milliseconds by design.
async fn verify_blocking(password: &str, hash: &str) -> bool {
    let (pw, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .unwrap_or(false)
}

/// A password nobody chose: 16 characters from an alphabet without look-alikes, with every
/// class the 等保 profile asks for.
pub fn generate_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"-_.!@#%+=";
    let pick = |set: &[u8]| set[rand::random_range(0..set.len())] as char;
    let mut out: Vec<char> = (0..12)
        .map(|i| match i % 3 {
            0 => pick(LOWER),
            1 => pick(UPPER),
            _ => pick(DIGIT),
        })
        .collect();
    out.extend([pick(SYMBOL), pick(DIGIT), pick(LOWER), pick(UPPER)]);
    // Shuffle so the classes do not sit in a fixed pattern.
    for i in (1..out.len()).rev() {
        out.swap(i, rand::random_range(0..=i));
    }
    out.into_iter().collect()
}

// -- TOTP (RFC 6238) ------------------------------------------------------------------------------

fn totp_of(secret_b32: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .ok()?;
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).ok()
}

/// A new random TOTP secret, base32.
pub fn new_totp_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    match totp_rs::Secret::Raw(bytes.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => String::new(),
    }
}

/// The `otpauth://` URI an authenticator app enrols from.
pub fn totp_uri(username: &str, secret_b32: &str) -> String {
    format!(
        "otpauth://totp/HealthCity:{username}?secret={secret_b32}&issuer=HealthCity&algorithm=SHA1&digits=6&period=30"
    )
}

/// The TOTP code of `secret_b32` at `unix_seconds` (for tests and the demo's instructions).
pub fn totp_code(secret_b32: &str, unix_seconds: u64) -> Option<String> {
    totp_of(secret_b32).map(|t| t.generate(unix_seconds))
}

/// The time step (30-second period) whose code `code` is, within one step of now.
fn totp_step(secret_b32: &str, code: &str) -> Option<i64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp_of(secret_b32)?;
    let step = now / 30;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| totp.generate(s * 30) == code)
        .and_then(|s| i64::try_from(s).ok())
}

// -- accounts -------------------------------------------------------------------------------------

/// What an administrator asks for when creating an account.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    /// Login name: 3-32 lower-case letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// Name shown in the UI (the username when empty).
    pub display_name: String,
    /// The password; `None` generates a one-time password to be changed at first login.
    pub password: Option<String>,
    /// Role code.
    pub role: String,
    /// Root of the org-unit subtree the account sees.
    pub scope_orgunit: Option<String>,
    /// The one institution the account works for.
    pub scope_institution: Option<String>,
    /// For resident accounts: whose record it is.
    pub resident_id: Option<i64>,
    /// For family doctors and institution staff: the practitioner whose account it is (a
    /// family doctor then sees only the teams that practitioner belongs to). The practitioner
    /// must work at the account's institution.
    pub practitioner_id: Option<i64>,
}

/// What creating an account hands back once (never stored in clear).
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    /// Account id.
    pub id: i64,
    /// The generated one-time password, when none was given.
    pub one_time_password: Option<String>,
    /// The TOTP enrolment URI, for roles that need a second factor.
    pub totp_uri: Option<String>,
}

/// Maps a uniqueness conflict on `field` to "`value` is taken".
fn taken<'a>(field: &'a str, value: &'a str) -> impl Fn(StoreError) -> AppError + 'a {
    move |e| match e {
        StoreError::Conflict { .. } => {
            AppError::Conflict(FieldError::new(field, format!("{value:?} is taken")))
        }
        other => other.into(),
    }
}

fn check_username(username: &str) -> Option<FieldError> {
    let ok = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    (!ok).then(|| {
        FieldError::new(
            "username",
            "must be 3-32 lower-case letters, digits, '.', '_' or '-'",
        )
    })
}

/// Checks a role and scope and fills in what they imply: an institution-only scope sees the
/// residents of the institution's own org unit. Returns (role, scope).
pub async fn resolve_scope(
    store: &Store,
    role: &str,
    orgunit: Option<&str>,
    institution: Option<&str>,
    resident_id: Option<i64>,
) -> Result<(Role, Scope), AppError> {
    let role = Role::parse(role).ok_or_else(|| {
        AppError::invalid(
            "role",
            format!("unknown role {role:?}; expected {}", Role::expected()),
        )
    })?;
    let city = Scope::city();
    let mut scope = Scope::default();
    if let Some(code) = orgunit.map(str::trim).filter(|s| !s.is_empty()) {
        store
            .orgunit(code, &city)
            .await
            .map_err(|_| AppError::invalid("scope", format!("no org unit {code:?}")))?;
        scope.orgunit = Some(code.to_owned());
    }
    if let Some(code) = institution.map(str::trim).filter(|s| !s.is_empty()) {
        let inst = store
            .institution(code, &city)
            .await
            .map_err(|_| AppError::invalid("institution", format!("no institution {code:?}")))?;
        if let Some(root) = scope.orgunit.as_deref()
            && !scope.contains_unit(&inst.record.community_code)
        {
            return Err(AppError::invalid(
                "institution",
                format!("{code} lies outside org unit {root}"),
            ));
        }
        if scope.orgunit.is_none() {
            scope.orgunit = Some(inst.record.community_code.clone());
        }
        scope.institution = Some(code.to_owned());
    }
    if role == Role::Resident {
        let id = resident_id.ok_or_else(|| {
            AppError::invalid("resident_id", "a resident account needs its resident's id")
        })?;
        store
            .resident_unscoped(id)
            .await
            .map_err(|_| AppError::invalid("resident_id", format!("no resident {id}")))?;
        scope = Scope {
            resident: Some(id),
            ..Scope::default()
        };
    } else if resident_id.is_some() {
        return Err(AppError::invalid(
            "resident_id",
            "only resident accounts belong to a resident",
        ));
    }
    if role.needs_scope() && scope.orgunit.is_none() {
        return Err(AppError::invalid(
            "scope",
            format!("role {} needs an org unit or an institution", role.as_str()),
        ));
    }
    Ok((role, scope))
}

/// Creates an account; `caller` is the administrator (or the CLI) doing it.
pub async fn create_user(
    store: &Store,
    policy: &SecurityPolicy,
    caller: &Caller,
    a: NewAccount,
) -> Result<CreatedAccount, AppError> {
    caller.require(hc_core::access::Permission::ManageAccounts)?;
    let mut errs: Vec<FieldError> = check_username(&a.username).into_iter().collect();
    if let Some(pw) = &a.password
        && let Some(problem) = policy.password_problem(&a.username, pw)
    {
        errs.push(FieldError::new("password", problem));
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let (role, scope) = resolve_scope(
        store,
        &a.role,
        a.scope_orgunit.as_deref(),
        a.scope_institution.as_deref(),
        a.resident_id,
    )
    .await?;
    let scope = match a.practitioner_id {
        None => scope,
        Some(id) => {
            let field = |problem: &str| {
                AppError::Invalid(vec![FieldError::new(
                    "practitioner_id",
                    format!("practitioner {id}: {problem}"),
                )])
            };
            if !matches!(role, Role::FamilyDoctor | Role::InstitutionStaff) {
                return Err(field(
                    "only a family doctor's or institution staff's account can be a practitioner's",
                ));
            }
            let Some(institution) = scope.institution.clone() else {
                return Err(field("the account needs an institution first"));
            };
            let within = Scope {
                institution: Some(institution.clone()),
                ..Scope::default()
            };
            if store.practitioner(id, &within).await.is_err() {
                return Err(field(&format!("no such practitioner at {institution}")));
            }
            Scope {
                practitioner: Some(id),
                ..scope
            }
        }
    };
    let (password, one_time) = match a.password {
        Some(p) => (p, None),
        None => {
            let p = generate_password();
            (p.clone(), Some(p))
        }
    };
    let hash = hash_password(&password)?;
    let totp = policy.needs_totp(role).then(new_totp_secret);
    let display = if a.display_name.trim().is_empty() {
        a.username.as_str()
    } else {
        a.display_name.trim()
    };
    let id = store
        .create_user(&NewUser {
            username: &a.username,
            display_name: display,
            password_hash: &hash,
            role: role.as_str(),
            scope_orgunit: scope.orgunit.as_deref(),
            scope_institution: scope.institution.as_deref(),
            resident_id: scope.resident,
            practitioner_id: scope.practitioner,
            totp_secret: totp.as_deref(),
            must_change_password: one_time.is_some(),
        })
        .await
        .map_err(taken("username", &a.username))?;
    caller
        .record(
            store,
            Event::new("permission_change", "user")
                .id(&a.username)
                .detail(format!(
                    "created with role {} and scope {}",
                    role.as_str(),
                    describe_scope(&scope)
                )),
        )
        .await?;
    Ok(CreatedAccount {
        id,
        one_time_password: one_time,
        totp_uri: totp.map(|s| totp_uri(&a.username, &s)),
    })
}

/// A scope in words, for the audit trail and listings.
pub fn describe_scope(scope: &Scope) -> String {
    let mut parts = Vec::new();
    if let Some(o) = &scope.orgunit {
        parts.push(format!("orgunit {o}"));
    }
    if let Some(i) = &scope.institution {
        parts.push(format!("institution {i}"));
    }
    if let Some(r) = scope.resident {
        parts.push(format!("resident {r}"));
    }
    if let Some(p) = scope.practitioner {
        parts.push(format!("practitioner {p}"));
    }
    if parts.is_empty() {
        "city".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The scope stored on an account.
pub fn scope_of(u: &UserRow) -> Scope {
    Scope {
        orgunit: u.scope_orgunit.clone(),
        institution: u.scope_institution.clone(),
        resident: u.resident_id,
        practitioner: u.practitioner_id,
    }
}

/// Resets an account's password to a generated one-time password, which is returned; the
/// account must change it at its next login, and its sessions end.
pub async fn reset_password(
    store: &Store,
    caller: &Caller,
    username: &str,
) -> Result<String, AppError> {
    caller.require(hc_core::access::Permission::ManageAccounts)?;
    let password = generate_password();
    let hash = hash_password(&password)?;
    store
        .set_password_hash(username, &hash, true)
        .await
        .map_err(crate::registry::not_found("user"))?;
    caller
        .record(
            store,
            Event::new("permission_change", "user")
                .id(username)
                .detail("password reset"),
        )
        .await?;
    Ok(password)
}

/// Changes the caller's own password after checking the current one.
pub async fn change_password(
    store: &Store,
    policy: &SecurityPolicy,
    caller: &Caller,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let username = caller.principal.name.as_str();
    let user = store
        .user_by_name(username)
        .await
        .map_err(|_| AppError::Unauthorized)?;
    if !verify_blocking(current, &user.password_hash).await {
        // Guessing through this form counts like guessing at the login.
        count_failure(store, policy, user.id, hc_store::epoch_seconds()).await?;
        return Err(AppError::invalid("current", "is not your current password"));
    }
    if let Some(problem) = policy.password_problem(username, new) {
        return Err(AppError::invalid("password", problem));
    }
    if current == new {
        return Err(AppError::invalid(
            "password",
            "must differ from the current password",
        ));
    }
    let hash = hash_password(new)?;
    store.set_password_hash(username, &hash, false).await?;
    caller
        .record(
            store,
            Event::new("update", "user")
                .id(username)
                .detail("own password changed"),
        )
        .await?;
    Ok(())
}

/// Disables or re-enables an account.
pub async fn set_disabled(
    store: &Store,
    caller: &Caller,
    username: &str,
    disabled: bool,
) -> Result<(), AppError> {
    caller.require(hc_core::access::Permission::ManageAccounts)?;
    store
        .set_user_disabled(username, disabled)
        .await
        .map_err(crate::registry::not_found("user"))?;
    caller
        .record(
            store,
            Event::new("permission_change", "user")
                .id(username)
                .detail(if disabled { "disabled" } else { "enabled" }),
        )
        .await?;
    Ok(())
}

// -- login ------------------------------------------------------------------------------------

/// Why a login failed, for the caller's own eyes only: every variant answers 401 with the
/// same message, except that a correct password without a required TOTP code asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unknown user, wrong password, locked or disabled account, wrong TOTP code.
    Refused,
    /// The password was right; the account needs a TOTP code.
    TotpRequired,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginSuccess {
    /// The session token to give the client.
    pub token: String,
    /// The account.
    pub principal: Principal,
}

/// Checks credentials and opens a session. Failures are counted and lock the account as the
/// policy says; both outcomes are audited with the client's address.
pub async fn login(
    store: &Store,
    policy: &SecurityPolicy,
    username: &str,
    password: &str,
    totp: Option<&str>,
    client_addr: Option<&str>,
) -> Result<Result<LoginSuccess, LoginFailure>, AppError> {
    let anonymous = Caller::anonymous(username, client_addr);
    let user = match store.user_by_name(username).await {
        Ok(u) => Some(u),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let now = hc_store::epoch_seconds();
    let Some(user) = user else {
        // Spend the same time as a real check, so timing does not reveal account names.
        let _ = verify_blocking(password, DUMMY_HASH).await;
        anonymous
            .record(
                store,
                Event::new("login_failed", "session").detail("unknown user"),
            )
            .await?;
        return Ok(Err(LoginFailure::Refused));
    };
    let locked = user.locked_until.is_some_and(|t| t > now);
    let password_ok = verify_blocking(password, &user.password_hash).await;
    let (name, role_code) = (user.username.clone(), user.role.clone());
    let fail = |reason: &'static str| {
        let ev = Event::new("login_failed", "session")
            .id(&name)
            .role(&role_code)
            .detail(reason);
        anonymous.record(store, ev)
    };
    if user.disabled {
        fail("account disabled").await?;
        return Ok(Err(LoginFailure::Refused));
    }
    if locked {
        fail("account locked").await?;
        return Ok(Err(LoginFailure::Refused));
    }
    if !password_ok {
        let locked_now = count_failure(store, policy, user.id, now).await?;
        fail(if locked_now {
            "wrong password; account locked"
        } else {
            "wrong password"
        })
        .await?;
        return Ok(Err(LoginFailure::Refused));
    }
    let role = Role::parse(&user.role).unwrap_or(Role::Resident);
    if policy.needs_totp(role) {
        let step = match (
            user.totp_secret.as_deref(),
            totp.filter(|c| !c.trim().is_empty()),
        ) {
            (_, None) => return Ok(Err(LoginFailure::TotpRequired)),
            (Some(secret), Some(code)) => totp_step(secret, code),
            (None, Some(_)) => None,
        };
        // A code is good once: a step at or before the last one used is a replay.
        let fresh = match step {
            Some(s) => store.use_totp_step(user.id, s).await?,
            None => false,
        };
        if !fresh {
            count_failure(store, policy, user.id, now).await?;
            fail(if step.is_some() {
                "TOTP code used before"
            } else {
                "wrong TOTP code"
            })
            .await?;
            return Ok(Err(LoginFailure::Refused));
        }
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    store
        .create_session(
            &token_hash(&token),
            user.id,
            i64::from(policy.absolute_hours) * 3600,
            client_addr,
        )
        .await?;
    let mut principal = principal_of(&user);
    if let Some(days) = policy.password_max_age_days()
        && now - user.password_changed_at > i64::from(days) * 86_400
    {
        principal.must_change_password = true;
    }
    Caller {
        principal: principal.clone(),
        client_addr: client_addr.map(str::to_owned),
    }
    .record(store, Event::new("login", "session"))
    .await?;
    Ok(Ok(LoginSuccess { token, principal }))
}

/// Counts a failed login; returns whether it locked the account.
async fn count_failure(
    store: &Store,
    policy: &SecurityPolicy,
    user_id: i64,
    now: i64,
) -> Result<bool, AppError> {
    let threshold = i32::try_from(policy.lockout_attempts).unwrap_or(i32::MAX);
    let until = now + i64::from(policy.lockout_minutes) * 60;
    Ok(store
        .record_login_failure(user_id, threshold, until)
        .await?)
}

/// Gives an account a new TOTP secret and returns its enrolment URI (a lost phone, or an
/// administrator from before second factors).
pub async fn reset_totp(
    store: &Store,
    caller: &Caller,
    username: &str,
) -> Result<String, AppError> {
    caller.require(hc_core::access::Permission::ManageAccounts)?;
    let secret = new_totp_secret();
    store
        .set_totp_secret(username, &secret)
        .await
        .map_err(crate::registry::not_found("user"))?;
    caller
        .record(
            store,
            Event::new("permission_change", "user")
                .id(username)
                .detail("second factor reset"),
        )
        .await?;
    Ok(totp_uri(username, &secret))
}

fn principal_of(u: &UserRow) -> Principal {
    Principal {
        user_id: Some(u.id),
        token_id: None,
        name: u.username.clone(),
        display_name: u.display_name.clone(),
        // An unknown stored role (edited by hand) gets the least: a resident without a record.
        role: Role::parse(&u.role).unwrap_or(Role::Resident),
        scope: scope_of(u),
        must_change_password: u.must_change_password,
    }
}

fn token_principal(t: &TokenRow) -> Principal {
    Principal {
        user_id: None,
        token_id: Some(t.id),
        name: format!("token:{}", t.name),
        display_name: t.name.clone(),
        role: Role::parse(&t.role).unwrap_or(Role::Resident),
        scope: Scope {
            orgunit: t.scope_orgunit.clone(),
            institution: t.scope_institution.clone(),
            resident: None,
            practitioner: None,
        },
        must_change_password: false,
    }
}

/// How often a session's or token's last use is written: at most once a minute.
const TOUCH_SECONDS: i64 = 60;

/// The principal of a session token or API token; anything else is unauthorized. Idle and
/// absolute session timeouts are checked here.
pub async fn authenticate(
    store: &Store,
    policy: &SecurityPolicy,
    token: &str,
) -> Result<Principal, AppError> {
    let now = hc_store::epoch_seconds();
    if let Some(secret) = token.strip_prefix(TOKEN_PREFIX) {
        if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::Unauthorized);
        }
        let row = store
            .live_token(&token_hash(token))
            .await
            .map_err(unauthorized)?;
        if row.last_used_at.is_none_or(|t| now - t >= TOUCH_SECONDS) {
            store.touch_token(row.id).await?;
        }
        return Ok(token_principal(&row));
    }
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::Unauthorized);
    }
    let hash = token_hash(token);
    let s = store.session(&hash).await.map_err(unauthorized)?;
    if !policy.session_alive(s.session_created_at, s.last_seen_at, now) {
        store.delete_session(&hash).await?;
        return Err(AppError::Unauthorized);
    }
    if now - s.last_seen_at >= TOUCH_SECONDS {
        store.touch_session(&hash).await?;
    }
    let mut p = principal_of(&s.user);
    if let Some(days) = policy.password_max_age_days()
        && now - s.user.password_changed_at > i64::from(days) * 86_400
    {
        p.must_change_password = true;
    }
    Ok(p)
}

fn unauthorized(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::Unauthorized,
        other => other.into(),
    }
}

/// Ends a session.
pub async fn logout(store: &Store, caller: &Caller, token: &str) -> Result<(), AppError> {
    store.delete_session(&token_hash(token)).await?;
    caller.record(store, Event::new("logout", "session")).await
}

/// The stored form of a session or API token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

// -- API tokens -------------------------------------------------------------------------------

/// What an administrator asks for when creating an API token.
#[derive(Debug, Clone, Default)]
pub struct NewApiToken {
    /// Name: the system it is for (3-64 letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// Role code.
    pub role: String,
    /// Root of the org-unit subtree it sees.
    pub scope_orgunit: Option<String>,
    /// The one institution it speaks for.
    pub scope_institution: Option<String>,
    /// Days until it expires (1-3650; default 365).
    pub expires_days: Option<u32>,
}

/// Creates an API token; returns the secret (shown once) and the stored token.
pub async fn create_token(
    store: &Store,
    caller: &Caller,
    t: NewApiToken,
) -> Result<(String, TokenRow), AppError> {
    caller.require(hc_core::access::Permission::ManageAccounts)?;
    let name_ok = (3..=64).contains(&t.name.len())
        && t.name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !name_ok {
        return Err(AppError::invalid(
            "name",
            "must be 3-64 letters, digits, '.', '_' or '-'",
        ));
    }
    let days = t.expires_days.unwrap_or(365);
    if !(1..=3650).contains(&days) {
        return Err(AppError::invalid(
            "expires_days",
            "must be between 1 and 3650",
        ));
    }
    let (role, scope) = resolve_scope(
        store,
        &t.role,
        t.scope_orgunit.as_deref(),
        t.scope_institution.as_deref(),
        None,
    )
    .await?;
    if matches!(role, Role::Resident | Role::Admin | Role::Auditor) {
        return Err(AppError::invalid(
            "role",
            format!(
                "a system token cannot have role {}; it is for people",
                role.as_str()
            ),
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
    let expires_at = hc_store::epoch_seconds() + i64::from(days) * 86_400;
    let row = store
        .create_token(&NewToken {
            name: &t.name,
            token_hash: &token_hash(&secret),
            role: role.as_str(),
            scope_orgunit: scope.orgunit.as_deref(),
            scope_institution: scope.institution.as_deref(),
            created_by: &caller.principal.name,
            expires_at: Some(expires_at),
        })
        .await
        .map_err(taken("name", &t.name))?;
    caller
        .record(
            store,
            Event::new("permission_change", "token")
                .id(&t.name)
                .detail(format!(
                    "created with role {} and scope {}, expires in {days} days",
                    role.as_str(),
                    describe_scope(&scope)
                )),
        )
        .await?;
    Ok((secret, row))
}

/// Revokes a token by name or id.
pub async fn revoke_token(
    store: &Store,
    caller: &Caller,
    name_or_id: &str,
) -> Result<TokenRow, AppError> {
    caller.require(hc_core::access::Permission::ManageAccounts)?;
    let row = store
        .revoke_token(name_or_id)
        .await
        .map_err(crate::registry::not_found("live token"))?;
    caller
        .record(
            store,
            Event::new("permission_change", "token")
                .id(&row.name)
                .detail("revoked"),
        )
        .await?;
    Ok(row)
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
    fn generated_passwords_pass_both_profiles_rules() {
        let dengbao = SecurityPolicy::default();
        for _ in 0..50 {
            let p = generate_password();
            assert_eq!(p.chars().count(), 16);
            assert_eq!(dengbao.password_problem("someone", &p), None, "{p}");
        }
    }

    #[test]
    fn totp_codes_follow_rfc_6238() {
        // RFC 6238 appendix B, SHA-1: the secret "12345678901234567890" at T = 59 s.
        let secret = match totp_rs::Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            totp_rs::Secret::Encoded(s) => s,
            totp_rs::Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(totp_code(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(totp_code(&secret, 1_111_111_109).as_deref(), Some("081804"));
        let fresh = new_totp_secret();
        assert_eq!(fresh.len(), 32);
        assert!(totp_uri("admin", &fresh).starts_with("otpauth://totp/HealthCity:admin?secret="));
    }

    #[test]
    fn usernames_are_checked() {
        assert!(check_username("admin").is_none());
        assert!(check_username("A").is_some());
        assert!(check_username("x'; drop table users; --").is_some());
    }
}
