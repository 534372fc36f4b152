//! Coalesced identity lookups.
//!
//! Looking a person up by identity number is the registry's hottest read. Under load, each
//! lookup as its own query spends most of its time on round trips and per-query overhead, not
//! on the index. So lookups go through one collector task: it takes every request waiting,
//! asks the database once (`id_number = ANY(…)`, one index probe per key), and answers each
//! caller with its own rows. At most as many batches are in flight as the pool has
//! connections; while they run, new requests queue and form the next batch. An idle server
//! answers a single lookup at once, without waiting to fill a batch.

use std::collections::HashMap;
use std::sync::Arc;

use hc_core::model::Resident;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::batch::Entity;
use crate::registry::Stored;
use crate::{Result, Store, StoreError};

/// Largest number of identity numbers asked in one query.
const MAX_BATCH: usize = 64;

type Reply = oneshot::Sender<Result<Vec<Stored<Resident>>>>;

/// Handle to the collector task.
#[derive(Debug)]
pub(crate) struct Lookups {
    tx: mpsc::UnboundedSender<(String, Reply)>,
}

pub(crate) async fn residents_by_identity(
    store: &Store,
    number: &str,
) -> Result<Vec<Stored<Resident>>> {
    let lookups = store.lookups.get_or_init(|| start(store));
    let (reply, answer) = oneshot::channel();
    if lookups.tx.send((number.to_owned(), reply)).is_err() {
        return direct(store, &[number])
            .await
            .map(|mut m| m.remove(number).unwrap_or_default());
    }
    answer
        .await
        .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?
}

fn start(store: &Store) -> Lookups {
    let (tx, rx) = mpsc::unbounded_channel();
    // The task holds a store without a collector of its own, so it asks the database directly,
    // and the channel closes (ending the task) when the last real handle is dropped.
    let worker = Store {
        db: store.db.clone(),
        max_connections: store.max_connections,
        lookups: Default::default(),
        audit: Default::default(),
    };
    // As many batches in flight as cores: more would only split the queue into smaller
    // batches that then compete for the same CPUs.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let slots = Arc::new(Semaphore::new(
        cores.min(store.max_connections.max(1) as usize),
    ));
    tokio::spawn(collect(worker, rx, slots));
    Lookups { tx }
}

async fn collect(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<(String, Reply)>,
    slots: Arc<Semaphore>,
) {
    while let Some(first) = rx.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        // Everything that queued while we waited for a free connection joins this batch.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(req) => batch.push(req),
                Err(_) => break,
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            let keys: Vec<&str> = batch.iter().map(|(k, _)| k.as_str()).collect();
            match direct(&store, &keys).await {
                Ok(found) => {
                    // The same number may be asked for by several callers in one batch.
                    for (key, reply) in batch {
                        let _ = reply.send(Ok(found.get(&key).cloned().unwrap_or_default()));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for (_, reply) in batch {
                        let _ = reply.send(Err(StoreError::Db(sqlx::Error::Protocol(msg.clone()))));
                    }
                }
            }
            drop(permit);
        });
    }
}

/// One query for `keys`; the rows of each key, in id order.
async fn direct(store: &Store, keys: &[&str]) -> Result<HashMap<String, Vec<Stored<Resident>>>> {
    let mut unique: Vec<&str> = keys.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut rows = Resident::fetch_existing(store, &unique).await?;
    rows.sort_by_key(|e| e.stored.id);
    let mut out: HashMap<String, Vec<Stored<Resident>>> = HashMap::new();
    for e in rows {
        out.entry(e.stored.record.id_number.clone())
            .or_default()
            .push(e.stored);
    }
    Ok(out)
}
