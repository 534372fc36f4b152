//! Who is calling, what they may do, and the audit trail of what they did.
//!
//! Every use case that reads a full record, exports, writes, or changes a permission takes a
//! [`Caller`] and records an [`Event`] through it before answering. The trail is append-only
//! (the database refuses changes); auditors query it, and residents see the part about them.

use hc_core::access::{Permission, Principal, Role, Scope};
use hc_store::{AuditEvent, AuditFilter, AuditRow, Store, StoreError};

use crate::AppError;

/// The principal of a request and where it came from.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub principal: Principal,
    /// Client address, as the server saw it.
    pub client_addr: Option<String>,
}

impl Caller {
    /// The command line run by the operator on the server itself: an administrator with the
    /// whole city in scope, recorded as `cli`.
    pub fn cli() -> Caller {
        Caller {
            principal: Principal {
                user_id: None,
                token_id: None,
                name: "cli".to_owned(),
                display_name: "command line".to_owned(),
                role: Role::Admin,
                scope: Scope::city(),
                must_change_password: false,
            },
            client_addr: None,
        }
    }

    /// Someone not signed in, who typed `username` at the login.
    pub fn anonymous(username: &str, client_addr: Option<&str>) -> Caller {
        let name: String = username.chars().take(64).collect();
        Caller {
            principal: Principal {
                user_id: None,
                token_id: None,
                name,
                display_name: String::new(),
                role: Role::Resident,
                scope: Scope {
                    resident: Some(-1),
                    ..Scope::default()
                },
                must_change_password: false,
            },
            client_addr: client_addr.map(str::to_owned),
        }
    }

    /// Refuses (403) a caller without `p`.
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.principal.can(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "role {} may not do this",
                self.principal.role.as_str()
            )))
        }
    }

    /// The caller's scope.
    pub fn scope(&self) -> &Scope {
        &self.principal.scope
    }

    /// Appends `event`, done by this caller, to the trail.
    pub async fn record(&self, store: &Store, event: Event) -> Result<(), AppError> {
        let p = &self.principal;
        let kind = if p.name == "cli" && p.user_id.is_none() && p.token_id.is_none() {
            "system"
        } else if p.user_id.is_none() && p.token_id.is_none() {
            "anonymous"
        } else {
            p.kind()
        };
        let role = match kind {
            "anonymous" => event.role,
            _ => Some(p.role.as_str().to_owned()),
        };
        store
            .audit(AuditEvent {
                actor: p.name.clone(),
                actor_kind: kind,
                role,
                action: event.action,
                entity: event.entity,
                entity_id: event.entity_id,
                resident_id: event.resident_id,
                purpose: event.purpose,
                client_addr: self.client_addr.clone(),
                outcome: event.outcome,
                flagged: event.flagged,
                detail: event.detail,
            })
            .await
            .map_err(AppError::from)
    }
}

/// An event under construction.
#[derive(Debug, Clone)]
pub struct Event {
    action: &'static str,
    entity: &'static str,
    entity_id: Option<String>,
    resident_id: Option<i64>,
    purpose: Option<String>,
    outcome: &'static str,
    flagged: bool,
    detail: Option<String>,
    role: Option<String>,
}

impl Event {
    /// `action` on a thing of kind `entity`, with outcome `ok`.
    pub fn new(action: &'static str, entity: &'static str) -> Event {
        Event {
            action,
            entity,
            entity_id: None,
            resident_id: None,
            purpose: None,
            outcome: "ok",
            flagged: false,
            detail: None,
            role: None,
        }
    }

    /// The thing's id or code.
    pub fn id(mut self, id: impl ToString) -> Event {
        self.entity_id = Some(id.to_string());
        self
    }

    /// The resident concerned (shown to them in their access log).
    pub fn resident(mut self, id: i64) -> Event {
        self.resident_id = Some(id);
        self.entity_id.get_or_insert_with(|| id.to_string());
        self
    }

    /// The purpose or reason stated.
    pub fn purpose(mut self, p: impl Into<String>) -> Event {
        self.purpose = Some(p.into());
        self
    }

    /// Detail.
    pub fn detail(mut self, d: impl Into<String>) -> Event {
        self.detail = Some(d.into());
        self
    }

    /// Flags the event for an auditor's review.
    pub fn flagged(mut self) -> Event {
        self.flagged = true;
        self
    }

    /// The outcome (`ok`, `denied`, `failed`).
    pub fn outcome(mut self, o: &'static str) -> Event {
        self.outcome = o;
        self
    }

    /// The role of an actor not signed in (a failed login names the account's role).
    pub(crate) fn role(mut self, r: &str) -> Event {
        self.role = Some(r.to_owned());
        self
    }
}

/// The largest page of events.
pub const MAX_EVENTS: u32 = 1000;

/// Events matching `filter`, for auditors. The query is itself audited.
pub async fn query(
    store: &Store,
    caller: &Caller,
    filter: AuditFilter,
) -> Result<Vec<AuditRow>, AppError> {
    caller.require(Permission::ReadAudit)?;
    if !(1..=MAX_EVENTS).contains(&filter.limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_EVENTS}"),
        ));
    }
    let rows = store.audit_events(&filter).await?;
    caller
        .record(
            store,
            Event::new("read", "audit").detail(describe_filter(&filter)),
        )
        .await?;
    Ok(rows)
}

fn describe_filter(f: &AuditFilter) -> String {
    let mut parts = Vec::new();
    if let Some(a) = &f.actor {
        parts.push(format!("actor={a}"));
    }
    if let Some(r) = f.resident_id {
        parts.push(format!("resident={r}"));
    }
    if let Some(a) = &f.action {
        parts.push(format!("action={a}"));
    }
    if let Some(t) = f.from {
        parts.push(format!("from={t}"));
    }
    if let Some(t) = f.to {
        parts.push(format!("to={t}"));
    }
    if f.unreviewed {
        parts.push("unreviewed".to_owned());
    }
    parts.join(" ")
}

/// Marks a flagged event as reviewed, with a note.
pub async fn review(
    store: &Store,
    caller: &Caller,
    event_id: i64,
    note: &str,
) -> Result<(), AppError> {
    caller.require(Permission::ReviewAudit)?;
    let note = note.trim();
    if note.chars().count() < 4 {
        return Err(AppError::invalid("note", "say what the review found"));
    }
    store
        .review_audit(event_id, &caller.principal.name, note)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound("flagged event"),
            StoreError::Conflict { .. } => AppError::Conflict(hc_core::validate::FieldError::new(
                "event",
                "already reviewed",
            )),
            other => other.into(),
        })?;
    caller
        .record(
            store,
            Event::new("review", "audit").id(event_id).detail(note),
        )
        .await
}

/// Who looked at or changed the caller's own record (PIPL art. 45): resident accounts only.
pub async fn own_access_log(
    store: &Store,
    caller: &Caller,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditRow>, AppError> {
    caller.require(Permission::OwnRecord)?;
    let resident = caller
        .scope()
        .resident
        .ok_or(AppError::NotFound("record"))?;
    let rows = store
        .audit_events(&AuditFilter {
            resident_id: Some(resident),
            before,
            limit: limit.clamp(1, MAX_EVENTS),
            ..AuditFilter::default()
        })
        .await?;
    Ok(rows)
}
