//! The audit trail: appended, queried, never changed (the migrations' triggers refuse UPDATE
//! and DELETE on both backends).
//!
//! Every audited read writes one event before its answer leaves the server. Written one by
//! one, each would be its own transaction and its own log flush; so appends go through one
//! writer task, like identity lookups (`lookup.rs`): it takes every event waiting, inserts them
//! in one transaction, and only then answers each caller. An event is never acknowledged
//! before it is committed, and a failed commit fails every read that waited on it.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{Result, Store, StoreError, epoch_seconds, on_pool};

/// An event to append.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AuditEvent {
    /// Username, or `token:NAME` for an API token, or the name tried at a failed login.
    pub actor: String,
    /// `user`, `token`, `anonymous` or `system`.
    pub actor_kind: &'static str,
    /// Role code of the actor, when known.
    pub role: Option<String>,
    /// What happened: `login`, `login_failed`, `logout`, `read`, `export`, `create`, `update`,
    /// `delete`, `break_glass`, `permission_change`, `review`, `denied`.
    pub action: &'static str,
    /// Kind of thing acted on: `session`, `resident`, `user`, `token`, `institution`, ….
    pub entity: &'static str,
    /// Its id or code.
    pub entity_id: Option<String>,
    /// The resident concerned, so residents can see who looked at their record.
    pub resident_id: Option<i64>,
    /// The purpose or reason given.
    pub purpose: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: &'static str,
    /// Needs review by an auditor (break-the-glass).
    pub flagged: bool,
    /// Free detail (filters of an export, fields changed, …).
    pub detail: Option<String>,
}

/// A stored event, with its review if any.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    /// Sequence number.
    pub id: i64,
    /// Epoch seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// `user`, `token`, `anonymous` or `system`.
    pub actor_kind: String,
    /// Their role.
    pub role: Option<String>,
    /// What.
    pub action: String,
    /// On what kind of thing.
    pub entity: String,
    /// Which one.
    pub entity_id: Option<String>,
    /// The resident concerned.
    pub resident_id: Option<i64>,
    /// Purpose or reason given.
    pub purpose: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    /// Flagged for review.
    pub flagged: bool,
    /// Detail.
    pub detail: Option<String>,
    /// Who reviewed it.
    pub reviewer: Option<String>,
    /// When.
    pub reviewed_at: Option<i64>,
    /// Their note.
    pub review_note: Option<String>,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// By this actor.
    pub actor: Option<String>,
    /// Concerning this resident.
    pub resident_id: Option<i64>,
    /// This action.
    pub action: Option<String>,
    /// At or after (epoch seconds).
    pub from: Option<i64>,
    /// Before (epoch seconds).
    pub to: Option<i64>,
    /// Only flagged events not yet reviewed.
    pub unreviewed: bool,
    /// Events with an id below this (the next page of a newest-first listing).
    pub before: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// Largest number of events inserted in one transaction.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<()>>;

/// Handle to the writer task.
#[derive(Debug)]
pub(crate) struct AuditWriter {
    tx: mpsc::UnboundedSender<(AuditEvent, Reply)>,
}

fn start(store: &Store) -> AuditWriter {
    let (tx, rx) = mpsc::unbounded_channel();
    // On SQLite the writer has a connection of its own that never checkpoints on commit: a
    // checkpoint copies and syncs thousands of pages, and every read waiting on the batch
    // would wait for it too. The collector checkpoints every half second instead, off the
    // commit path.
    let (db, checkpoint) = match &store.db {
        crate::Db::Sqlite(p) => {
            let opts = (*p.connect_options())
                .clone()
                .pragma("wal_autocheckpoint", "0");
            let own = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(opts.clone());
            // Checkpoints get a connection of their own as well, so that copying pages back
            // never holds one of the connections the reads queue for.
            let checkpointer = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(opts);
            (crate::Db::Sqlite(own), Some(checkpointer))
        }
        crate::Db::Postgres(_) => (store.db.clone(), None),
    };
    let worker = Store {
        db,
        max_connections: store.max_connections,
        lookups: Default::default(),
        audit: Default::default(),
    };
    // SQLite has one write lock: a second batch in flight would only sleep in the busy
    // handler (in steps up to 100 ms) while later batches overtake it. PostgreSQL takes one
    // batch a core, leaving the rest of the pool to the reads waiting on them.
    let slots = match store.db {
        crate::Db::Sqlite(_) => 1,
        crate::Db::Postgres(_) => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            cores.min((store.max_connections as usize / 2).max(1))
        }
    };
    tokio::spawn(collect(
        worker,
        rx,
        Arc::new(Semaphore::new(slots)),
        checkpoint,
    ));
    AuditWriter { tx }
}

/// How often the SQLite audit writer's log is checkpointed while it writes.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

async fn collect(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<(AuditEvent, Reply)>,
    slots: Arc<Semaphore>,
    checkpoint: Option<sqlx::SqlitePool>,
) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut written = false;
    loop {
        let first = tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => ev,
                None => return,
            },
            _ = tick.tick() => {
                if let (true, Some(pool)) = (written, &checkpoint) {
                    written = false;
                    // PASSIVE: copies what no reader still needs, never waits on a lock.
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                            tracing::warn!(error = %e, "checkpointing after audit writes failed");
                        }
                    });
                }
                continue;
            }
        };
        written = true;
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(ev) => batch.push(ev),
                Err(_) => break,
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            let (events, replies): (Vec<AuditEvent>, Vec<Reply>) = batch.into_iter().unzip();
            match store.insert_audit(&events).await {
                Ok(()) => replies.into_iter().for_each(|r| {
                    let _ = r.send(Ok(()));
                }),
                Err(e) => {
                    let msg = e.to_string();
                    for r in replies {
                        let _ = r.send(Err(StoreError::Db(sqlx::Error::Protocol(msg.clone()))));
                    }
                }
            }
            drop(permit);
        });
    }
}

/// A whole batch is one statement over a JSON array of events, so the SQL text is fixed and a
/// batch costs one round trip whatever its size.
const AUDIT_INSERT_SQLITE: &str = "INSERT INTO audit_events (at, actor, actor_kind, role, action, entity, entity_id, \
    resident_id, purpose, client_addr, outcome, flagged, detail) \
    SELECT $1, value->>'actor', value->>'actor_kind', value->>'role', value->>'action', value->>'entity', \
    value->>'entity_id', value->>'resident_id', value->>'purpose', value->>'client_addr', value->>'outcome', \
    value->>'flagged', value->>'detail' FROM json_each($2) ORDER BY key";
const AUDIT_INSERT_PG: &str = "INSERT INTO audit_events (at, actor, actor_kind, role, action, entity, entity_id, \
    resident_id, purpose, client_addr, outcome, flagged, detail) \
    SELECT $1, v->>'actor', v->>'actor_kind', v->>'role', v->>'action', v->>'entity', v->>'entity_id', \
    (v->>'resident_id')::bigint, v->>'purpose', v->>'client_addr', v->>'outcome', (v->>'flagged')::boolean, \
    v->>'detail' FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(v, n) ORDER BY n";

impl Store {
    /// Appends `event`, returning once it is committed.
    pub async fn audit(&self, event: AuditEvent) -> Result<()> {
        let writer = self.audit.get_or_init(|| start(self));
        let (reply, done) = oneshot::channel();
        match writer.tx.send((event, reply)) {
            Ok(()) => done
                .await
                .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?,
            Err(mpsc::error::SendError((event, _))) => self.insert_audit(&[event]).await,
        }
    }

    /// Appends `events` with one statement (its own transaction).
    async fn insert_audit(&self, events: &[AuditEvent]) -> Result<()> {
        let now = epoch_seconds();
        let json = serde_json::to_string(events)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
        match &self.db {
            crate::Db::Sqlite(p) => {
                // Take the write lock at the start rather than upgrading a read transaction,
                // which SQLite may refuse with SQLITE_BUSY mid-way.
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                sqlx::query(AUDIT_INSERT_SQLITE)
                    .bind(now)
                    .bind(&json)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            crate::Db::Postgres(p) => {
                sqlx::query(AUDIT_INSERT_PG)
                    .bind(now)
                    .bind(&json)
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    /// Events matching `filter`, newest first.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>> {
        const SQL: &str = "SELECT e.id, e.at, e.actor, e.actor_kind, e.role, e.action, e.entity, e.entity_id, \
            e.resident_id, e.purpose, e.client_addr, e.outcome, e.flagged, e.detail, \
            r.reviewer, r.reviewed_at, r.note AS review_note \
            FROM audit_events e LEFT JOIN audit_reviews r ON r.event_id = e.id \
            WHERE ($1 IS NULL OR e.actor = $1) AND ($2 IS NULL OR e.resident_id = $2) \
            AND ($3 IS NULL OR e.action = $3) AND ($4 IS NULL OR e.at >= $4) AND ($5 IS NULL OR e.at < $5) \
            AND (NOT $6 OR (e.flagged AND r.event_id IS NULL)) AND ($7 IS NULL OR e.id < $7) \
            ORDER BY e.id DESC LIMIT $8";
        Ok(on_pool!(self, p => sqlx::query_as(SQL)
            .bind(filter.actor.as_deref()).bind(filter.resident_id).bind(filter.action.as_deref())
            .bind(filter.from).bind(filter.to).bind(filter.unreviewed).bind(filter.before)
            .bind(i64::from(filter.limit))
            .fetch_all(p).await?))
    }

    /// Records an auditor's review of flagged event `event_id`; reviewing twice is a conflict,
    /// an unknown or unflagged event is not found.
    pub async fn review_audit(&self, event_id: i64, reviewer: &str, note: &str) -> Result<()> {
        const CHECK: &str = "SELECT id FROM audit_events WHERE id = $1 AND flagged";
        const SQL: &str = "INSERT INTO audit_reviews (event_id, reviewer, reviewed_at, note) VALUES ($1, $2, $3, $4)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let _: i64 = sqlx::query_scalar(CHECK).bind(event_id).fetch_one(&mut *tx).await?;
            sqlx::query(SQL).bind(event_id).bind(reviewer).bind(epoch_seconds()).bind(note).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
