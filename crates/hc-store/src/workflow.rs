//! The response to signals and events (migration 0008): the workflow columns of
//! `surv_signals` / `surv_events`, the append-only trail `surv_actions`, the configured
//! webhooks and their outbox. The rules (which step is allowed, who is notified) are the
//! caller's; this module writes what it is given, each change in one transaction.

use chrono::NaiveDate;

use crate::{Result, Store, StoreError, on_pool};

/// A signal or an event, as the workflow addresses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkTarget {
    /// `surv_signals.id`.
    Signal(i64),
    /// `surv_events.id`.
    Event(i64),
}

impl WorkTarget {
    /// `signal` or `event`.
    pub fn kind(self) -> &'static str {
        match self {
            WorkTarget::Signal(_) => "signal",
            WorkTarget::Event(_) => "event",
        }
    }

    /// The id.
    pub fn id(self) -> i64 {
        match self {
            WorkTarget::Signal(id) | WorkTarget::Event(id) => id,
        }
    }

    /// The statements of this kind of target, static text each (no SQL is built at run time).
    fn sql(self) -> &'static TargetSql {
        match self {
            WorkTarget::Signal(_) => &SIGNAL_SQL,
            WorkTarget::Event(_) => &EVENT_SQL,
        }
    }
}

struct TargetSql {
    item: &'static str,
    update: &'static str,
    insert: &'static str,
    actions: &'static str,
}

macro_rules! target_sql {
    ($table:literal, $column:literal) => {
        TargetSql {
            item: concat!(
                "SELECT id, area_code, alert, status, outcome, assigned_to, created_at, answered_at FROM ",
                $table,
                " WHERE id = $1 AND ($2 IS NULL OR area_code LIKE $2)"
            ),
            update: concat!(
                "UPDATE ",
                $table,
                " SET status = $2, outcome = $3, assigned_to = $4, updated_at = $5, \
                 answered_at = COALESCE(answered_at, $5) WHERE id = $1 AND status = $6"
            ),
            insert: concat!(
                "INSERT INTO surv_actions (",
                $column,
                ", at, username, action, status, outcome, assigned_to, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, signal_id, event_id, at, \
                 username, action, status, outcome, assigned_to, note"
            ),
            actions: concat!(
                "SELECT a.id, a.signal_id, a.event_id, a.at, a.username, a.action, a.status, \
                 a.outcome, a.assigned_to, a.note FROM surv_actions a JOIN ",
                $table,
                " t ON t.id = a.",
                $column,
                " WHERE t.id = $1 AND ($2 IS NULL OR t.area_code LIKE $2) ORDER BY a.at, a.id"
            ),
        }
    };
}

static SIGNAL_SQL: TargetSql = target_sql!("surv_signals", "signal_id");
static EVENT_SQL: TargetSql = target_sql!("surv_events", "event_id");

/// The workflow state of a signal or event, with what routing and jurisdiction need.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WorkItem {
    /// Its id.
    pub id: i64,
    /// Its area.
    pub area_code: String,
    /// Alert colour.
    pub alert: String,
    /// Workflow status.
    pub status: String,
    /// Outcome once closed.
    pub outcome: Option<String>,
    /// Who works on it.
    pub assigned_to: Option<String>,
    /// When it was raised (unix seconds).
    pub created_at: i64,
    /// Its first action.
    pub answered_at: Option<i64>,
}

/// One action to append, with the state it leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionWrite {
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub username: String,
    /// `assign`, `verify`, `close`, `note`.
    pub action: String,
    /// The status after it.
    pub status: String,
    /// The outcome after it.
    pub outcome: Option<String>,
    /// The assignee after it.
    pub assigned_to: Option<String>,
    /// The note.
    pub note: String,
}

/// A stored action.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct ActionStored {
    /// Its id.
    pub id: i64,
    /// The signal acted on.
    pub signal_id: Option<i64>,
    /// The event acted on.
    pub event_id: Option<i64>,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub username: String,
    /// What.
    pub action: String,
    /// Status after it.
    pub status: Option<String>,
    /// Outcome after it.
    pub outcome: Option<String>,
    /// Assignee after it.
    pub assigned_to: Option<String>,
    /// Note.
    pub note: String,
}

/// A notification owed to a webhook. A payload that is a JSON object without an `id` gets the
/// signal's or event's id once it is known (signals raised in the same transaction).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxWrite {
    /// The endpoint.
    pub webhook_id: i64,
    /// `signal` or `event`.
    pub kind: String,
    /// The JSON payload.
    pub payload: serde_json::Value,
}

/// A configured webhook.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct WebhookRow {
    /// Its id.
    pub id: i64,
    /// Where to POST.
    pub url: String,
    /// The environment variable that holds the HMAC secret.
    pub secret_env: String,
    /// Lowest alert colour sent.
    pub min_alert: String,
    /// Area whose subtree it covers; empty: the whole city.
    pub area_code: String,
    /// Whether deliveries go out.
    pub active: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// A notification due for delivery.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxItem {
    /// Its id.
    pub id: i64,
    /// The endpoint.
    pub webhook_id: i64,
    /// Its URL.
    pub url: String,
    /// Its secret's variable.
    pub secret_env: String,
    /// `signal` or `event`.
    pub kind: String,
    /// The JSON body.
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// Outbox counts per webhook: `(webhook_id, pending, delivered, given_up, last_error)`.
pub type OutboxCounts = (i64, i64, i64, i64, Option<String>);

/// One signal's response, for response-time statistics.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ResponseItem {
    /// Its area.
    pub area_code: String,
    /// Its first day.
    pub first_day: NaiveDate,
    /// Workflow status.
    pub status: String,
    /// Raised (unix seconds).
    pub created_at: i64,
    /// First action.
    pub answered_at: Option<i64>,
}

/// A signal or event nobody has answered yet.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct UnansweredRow {
    /// `signal` or `event`.
    pub kind: String,
    /// Its id.
    pub id: i64,
    /// Alert colour.
    pub alert: String,
    /// Its area.
    pub area_code: String,
    /// The area's level.
    pub level: String,
    /// The stream (signal) or fusion rule (event).
    pub title: String,
    /// First day.
    pub first_day: NaiveDate,
    /// Raised (unix seconds).
    pub created_at: i64,
}

/// A demo signal's back-filled response: when it is taken to have been raised, and its
/// actions in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Backfill {
    /// The signal.
    pub signal_id: i64,
    /// Its new `created_at`.
    pub raised_at: i64,
    /// Its actions, oldest first; the last one's state is the signal's.
    pub actions: Vec<ActionWrite>,
}

/// Appends action `$a` (an [`ActionWrite`]) to `$target`'s trail inside transaction `$tx`,
/// setting its state if it is still `$expected`; evaluates to the stored action.
macro_rules! append_action {
    ($tx:expr, $target:expr, $expected:expr, $a:expr) => {{
        let target: WorkTarget = $target;
        let a: &ActionWrite = $a;
        let done = sqlx::query(target.sql().update)
            .bind(target.id())
            .bind(a.status.as_str())
            .bind(a.outcome.as_deref())
            .bind(a.assigned_to.as_deref())
            .bind(a.at)
            .bind($expected)
            .execute(&mut *$tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                constraint: "status".into(),
            });
        }
        let stored: ActionStored = sqlx::query_as(target.sql().insert)
            .bind(target.id())
            .bind(a.at)
            .bind(a.username.as_str())
            .bind(a.action.as_str())
            .bind(a.status.as_str())
            .bind(a.outcome.as_deref())
            .bind(a.assigned_to.as_deref())
            .bind(a.note.as_str())
            .fetch_one(&mut *$tx)
            .await?;
        stored
    }};
}

/// Queues notification `$n` (an [`OutboxWrite`]) about signal or event `$id` inside
/// transaction `$tx`, due at `$now`.
macro_rules! enqueue {
    ($tx:expr, $n:expr, $id:expr, $now:expr) => {{
        let n: &$crate::OutboxWrite = $n;
        let mut payload = n.payload.clone();
        if let Some(obj) = payload.as_object_mut() {
            obj.entry("id").or_insert(serde_json::Value::from($id));
        }
        sqlx::query(
            "INSERT INTO surv_outbox (webhook_id, kind, payload, created_at, next_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(n.webhook_id)
        .bind(n.kind.as_str())
        .bind(payload.to_string())
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use enqueue;

fn like(prefix: Option<&str>) -> Option<String> {
    prefix.map(|p| format!("{p}%"))
}

impl Store {
    /// The workflow state of `target`, if it lies in the subtree `prefix` (none: anywhere).
    pub async fn work_item(&self, target: WorkTarget, prefix: Option<&str>) -> Result<WorkItem> {
        Ok(on_pool!(self, p => sqlx::query_as(target.sql().item)
            .bind(target.id()).bind(like(prefix)).fetch_one(p).await?))
    }

    /// Appends `action` to `target`'s trail, sets its state, marks it answered if it was not,
    /// and queues `notify`, in one transaction. The state is changed only if it is still
    /// `expected_status` (someone else's step in between is [`StoreError::Conflict`] on
    /// `status`).
    pub async fn record_action(
        &self,
        target: WorkTarget,
        expected_status: &str,
        action: &ActionWrite,
        notify: &[OutboxWrite],
    ) -> Result<ActionStored> {
        let stored = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let stored = append_action!(tx, target, expected_status, action);
            for n in notify {
                enqueue!(tx, n, target.id(), action.at);
            }
            tx.commit().await?;
            stored
        });
        Ok(stored)
    }

    /// The trail of `target`, oldest first, if it lies in the subtree `prefix`.
    pub async fn actions(
        &self,
        target: WorkTarget,
        prefix: Option<&str>,
    ) -> Result<Vec<ActionStored>> {
        Ok(on_pool!(self, p => sqlx::query_as(target.sql().actions)
            .bind(target.id()).bind(like(prefix)).fetch_all(p).await?))
    }

    /// Signals whose first day lies in `from..=to`, in the subtree `prefix`, with their
    /// response times.
    pub async fn response_items(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        prefix: Option<&str>,
    ) -> Result<Vec<ResponseItem>> {
        const SQL: &str = "SELECT area_code, first_day, status, created_at, answered_at FROM surv_signals \
             WHERE first_day >= $1 AND first_day <= $2 AND ($3 IS NULL OR area_code LIKE $3) \
             ORDER BY area_code, first_day";
        Ok(on_pool!(self, p => sqlx::query_as(SQL)
            .bind(from).bind(to).bind(like(prefix)).fetch_all(p).await?))
    }

    /// Signals and events not yet answered, in the subtree `prefix`, newest first.
    pub async fn unanswered(&self, prefix: Option<&str>, limit: i64) -> Result<Vec<UnansweredRow>> {
        const SQL: &str = "SELECT kind, id, alert, area_code, level, title, first_day, created_at FROM (\
             SELECT 'signal' AS kind, id, alert, area_code, level, stream AS title, first_day, created_at \
             FROM surv_signals WHERE answered_at IS NULL AND ($1 IS NULL OR area_code LIKE $1) \
             UNION ALL \
             SELECT 'event' AS kind, id, alert, area_code, level, rule AS title, first_day, created_at \
             FROM surv_events WHERE answered_at IS NULL AND ($1 IS NULL OR area_code LIKE $1)\
             ) u ORDER BY created_at DESC, first_day DESC, kind, id DESC LIMIT $2";
        Ok(on_pool!(self, p => sqlx::query_as(SQL)
            .bind(like(prefix)).bind(limit).fetch_all(p).await?))
    }

    /// Writes demo responses in one transaction: each signal's raise time, then its actions
    /// (each from the state the previous one left).
    pub async fn backfill_responses(&self, items: &[Backfill]) -> Result<usize> {
        const RAISED: &str =
            "UPDATE surv_signals SET created_at = $2, updated_at = $2 WHERE id = $1";
        let mut n = 0;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for b in items {
                sqlx::query(RAISED).bind(b.signal_id).bind(b.raised_at).execute(&mut *tx).await?;
                let mut status = "new".to_owned();
                for a in &b.actions {
                    append_action!(tx, WorkTarget::Signal(b.signal_id), status.as_str(), a);
                    status.clone_from(&a.status);
                    n += 1;
                }
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    // Webhooks and their outbox.

    /// Adds a webhook; returns its id.
    pub async fn add_webhook(
        &self,
        url: &str,
        secret_env: &str,
        min_alert: &str,
        area_code: &str,
        now: i64,
    ) -> Result<i64> {
        const SQL: &str = "INSERT INTO surv_webhooks (url, secret_env, min_alert, area_code, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(url).bind(secret_env).bind(min_alert).bind(area_code).bind(now)
            .fetch_one(p).await?))
    }

    /// Every webhook, active or not.
    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        const SQL: &str = "SELECT id, url, secret_env, min_alert, area_code, active, created_at \
             FROM surv_webhooks ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// Stops deliveries to webhook `id` (its pending notifications stay, undelivered).
    pub async fn disable_webhook(&self, id: i64) -> Result<()> {
        const SQL: &str = "UPDATE surv_webhooks SET active = $2 WHERE id = $1";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(id).bind(false).execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Per webhook: pending, delivered and given-up notifications, and the latest error.
    pub async fn outbox_counts(&self, max_attempts: i64) -> Result<Vec<OutboxCounts>> {
        const SQL: &str = "SELECT webhook_id, \
             SUM(CASE WHEN delivered_at IS NULL AND attempts < $1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN delivered_at IS NULL AND attempts >= $1 THEN 1 ELSE 0 END), \
             (SELECT o2.last_error FROM surv_outbox o2 WHERE o2.webhook_id = o.webhook_id \
              AND o2.last_error IS NOT NULL ORDER BY o2.id DESC LIMIT 1) \
             FROM surv_outbox o GROUP BY webhook_id ORDER BY webhook_id";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(max_attempts).fetch_all(p).await?))
    }

    /// Notifications of active webhooks due at `now`, with fewer than `max_attempts` failed
    /// attempts, oldest first.
    pub async fn due_outbox(
        &self,
        now: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>> {
        const SQL: &str = "SELECT o.id, o.webhook_id, w.url, w.secret_env, o.kind, o.payload, o.attempts \
             FROM surv_outbox o JOIN surv_webhooks w ON w.id = o.webhook_id \
             WHERE o.delivered_at IS NULL AND o.next_at <= $1 AND o.attempts < $2 AND w.active \
             ORDER BY o.next_at, o.id LIMIT $3";
        Ok(on_pool!(self, p => sqlx::query_as(SQL)
            .bind(now).bind(max_attempts).bind(limit).fetch_all(p).await?))
    }

    /// Marks notification `id` delivered.
    pub async fn outbox_delivered(&self, id: i64, now: i64) -> Result<()> {
        const SQL: &str = "UPDATE surv_outbox SET delivered_at = $2, attempts = attempts + 1, \
             last_error = NULL WHERE id = $1";
        on_pool!(self, p => { sqlx::query(SQL).bind(id).bind(now).execute(p).await?; });
        Ok(())
    }

    /// Counts a failed attempt of notification `id` and sets its next try.
    pub async fn outbox_failed(&self, id: i64, error: &str, next_at: i64) -> Result<()> {
        const SQL: &str = "UPDATE surv_outbox SET attempts = attempts + 1, last_error = $2, \
             next_at = $3 WHERE id = $1";
        let error: String = error.chars().take(500).collect();
        on_pool!(self, p => { sqlx::query(SQL).bind(id).bind(error).bind(next_at).execute(p).await?; });
        Ok(())
    }

    /// Every notification of the outbox, newest first (for tests and operators).
    pub async fn outbox(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, i64, String, String, i64, Option<i64>)>> {
        const SQL: &str = "SELECT id, webhook_id, kind, payload, attempts, delivered_at FROM surv_outbox \
             ORDER BY id DESC LIMIT $1";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(limit).fetch_all(p).await?))
    }
}
