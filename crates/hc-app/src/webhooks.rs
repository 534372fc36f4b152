//! Webhook notifications of signals, events and their workflow: the configured endpoints
//! (`healthcity surveillance webhook add | list | disable`), what is queued for them, and the
//! delivery job the server runs every few seconds.
//!
//! Notifications are queued in the outbox (`surv_outbox`) in the same transaction as what they
//! announce: a signal or event raised, an event whose alert colour rises, a workflow step
//! (assign, verify, close; notes are not sent). [`deliver_due`] then POSTs each one, signed
//! (see [`hc_surveillance::notify`]), and on failure tries again later, waiting twice as long
//! each time, up to [`MAX_ATTEMPTS`] attempts. A receiver must accept the same notification
//! twice (the `X-HealthCity-Delivery` header is its outbox id), since an answer lost after a
//! successful POST leads to a retry.
//!
//! Secrets never reach the database: a webhook names an environment variable of the server
//! (`secret_env`), and [`deliver_due`] asks its caller for the value.
//!
//! This is the one place `hc-app` speaks HTTP, as a client: the job belongs with the use cases
//! that fill the outbox, and `reqwest` stays out of the server's request handling.

use std::time::Duration;

use hc_core::access::Permission;
use hc_store::{OutboxWrite, Store, StoreError, WebhookRow, epoch_seconds};
use hc_surveillance::Alert;
pub use hc_surveillance::notify::{MAX_ATTEMPTS, verify};
use hc_surveillance::notify::{SIGNATURE_HEADER, backoff, sign, wants};
use serde::Serialize;

use crate::AppError;
use crate::audit::{Caller, Event};

/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Notifications one call of [`deliver_due`] sends at most.
pub const BATCH: i64 = 100;

/// The header naming the notification (its outbox id), for receivers to drop duplicates.
pub const DELIVERY_HEADER: &str = "X-HealthCity-Delivery";

/// A webhook to add.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// `https://…` (or `http://` for a receiver on the same host or network).
    pub url: String,
    /// The environment variable that holds the HMAC secret.
    pub secret_env: String,
    /// Lowest alert colour sent: blue, yellow, orange, red.
    pub min_alert: String,
    /// Only signals and events in this org unit's subtree (none: the whole city).
    pub area_code: Option<String>,
}

/// A configured webhook and how its deliveries go.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookView {
    /// The webhook.
    #[serde(flatten)]
    pub hook: WebhookRow,
    /// Notifications waiting (or being retried).
    pub pending: i64,
    /// Notifications delivered.
    pub delivered: i64,
    /// Notifications given up after [`MAX_ATTEMPTS`].
    pub given_up: i64,
    /// The latest delivery error.
    pub last_error: Option<String>,
}

/// Adds a webhook; returns its id.
pub async fn add(store: &Store, caller: &Caller, hook: NewWebhook) -> Result<i64, AppError> {
    caller.require(Permission::ManageWebhooks)?;
    let url = hook.url.trim();
    let parsed =
        reqwest::Url::parse(url).map_err(|e| AppError::invalid("url", format!("{url}: {e}")))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(AppError::invalid("url", "an http:// or https:// URL"));
    }
    let env = hook.secret_env.trim();
    let env_ok = !env.is_empty()
        && env.len() <= 64
        && env
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !env.as_bytes()[0].is_ascii_digit();
    if !env_ok {
        return Err(AppError::invalid(
            "secret_env",
            "the NAME of an environment variable (A-Z, 0-9, _), not the secret itself",
        ));
    }
    let alert = Alert::parse(hook.min_alert.trim())
        .ok_or_else(|| AppError::invalid("min_alert", "blue, yellow, orange or red"))?;
    let area = hook.area_code.as_deref().map(str::trim).unwrap_or("");
    if !area.is_empty() && !area.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid("area_code", "an org-unit code"));
    }
    let id = store
        .add_webhook(url, env, alert.as_str(), area, epoch_seconds())
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::Conflict(hc_core::validate::FieldError::new(
                "url",
                "a webhook with this URL exists",
            )),
            other => other.into(),
        })?;
    caller
        .record(
            store,
            Event::new("create", "webhook")
                .id(id)
                .detail(format!("{url} min_alert={} area={area}", alert.as_str())),
        )
        .await?;
    Ok(id)
}

/// Every webhook with its delivery counts.
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<WebhookView>, AppError> {
    caller.require(Permission::ManageWebhooks)?;
    let counts = store.outbox_counts(MAX_ATTEMPTS).await?;
    Ok(store
        .webhooks()
        .await?
        .into_iter()
        .map(|hook| {
            let c = counts.iter().find(|c| c.0 == hook.id);
            WebhookView {
                pending: c.map_or(0, |c| c.1),
                delivered: c.map_or(0, |c| c.2),
                given_up: c.map_or(0, |c| c.3),
                last_error: c.and_then(|c| c.4.clone()),
                hook,
            }
        })
        .collect())
}

/// Stops deliveries to webhook `id`.
pub async fn disable(store: &Store, caller: &Caller, id: i64) -> Result<(), AppError> {
    caller.require(Permission::ManageWebhooks)?;
    store.disable_webhook(id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound("webhook"),
        other => other.into(),
    })?;
    caller
        .record(store, Event::new("disable", "webhook").id(id))
        .await
}

/// The active webhooks, for routing.
pub(crate) struct Routes(Vec<(i64, Alert, String)>);

impl Routes {
    /// Loads the active webhooks.
    pub(crate) async fn load(store: &Store) -> Result<Routes, AppError> {
        Ok(Routes(
            store
                .webhooks()
                .await?
                .into_iter()
                .filter(|w| w.active)
                .map(|w| {
                    let min = Alert::parse(&w.min_alert).unwrap_or(Alert::Blue);
                    (w.id, min, w.area_code)
                })
                .collect(),
        ))
    }

    /// The notifications of `payload` (about something of `alert` in `area`) for the
    /// webhooks that want it.
    pub(crate) fn route(
        &self,
        kind: &str,
        alert: &str,
        area: &str,
        payload: &serde_json::Value,
    ) -> Vec<OutboxWrite> {
        let alert = Alert::parse(alert).unwrap_or(Alert::Yellow);
        self.0
            .iter()
            .filter(|(_, min, prefix)| {
                wants(*min, hc_core::validate::subtree_prefix(prefix), alert, area)
            })
            .map(|(id, _, _)| OutboxWrite {
                webhook_id: *id,
                kind: kind.to_owned(),
                payload: payload.clone(),
            })
            .collect()
    }

    /// Whether no webhook is active.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client deliveries go through: rustls, a timeout, no redirects (a redirect could send
/// the signed payload somewhere the operator did not configure).
pub fn client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("HealthCity/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AppError::Internal(format!("the webhook client: {e}")))
}

/// What one delivery round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Notifications delivered (a 2xx answer).
    pub delivered: usize,
    /// Attempts that failed (to be retried, or given up after [`MAX_ATTEMPTS`]).
    pub failed: usize,
}

/// Sends the notifications due at `now` (unix seconds), signed with the secret that `secret`
/// returns for each webhook's variable name. Failures are recorded on the notification (its
/// attempts, last error and next try); only a storage failure is an error.
pub async fn deliver_due(
    store: &Store,
    client: &reqwest::Client,
    now: i64,
    secret: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<DeliveryReport, AppError> {
    let mut report = DeliveryReport::default();
    for item in store.due_outbox(now, MAX_ATTEMPTS, BATCH).await? {
        let result = match secret(&item.secret_env) {
            None => Err(format!(
                "the secret variable {} is not set on the server",
                item.secret_env
            )),
            Some(key) => {
                let signature = sign(key.as_bytes(), now, item.payload.as_bytes());
                client
                    .post(&item.url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, signature)
                    .header(DELIVERY_HEADER, item.id.to_string())
                    .body(item.payload.clone())
                    .send()
                    .await
                    .map_err(describe)
                    .and_then(|r| {
                        if r.status().is_success() {
                            Ok(())
                        } else {
                            Err(format!("answered {}", r.status()))
                        }
                    })
            }
        };
        match result {
            Ok(()) => {
                store.outbox_delivered(item.id, now).await?;
                report.delivered += 1;
            }
            Err(e) => {
                let attempts = item.attempts + 1;
                tracing::warn!(
                    webhook = item.webhook_id,
                    notification = item.id,
                    attempts,
                    "webhook delivery failed: {e}"
                );
                store
                    .outbox_failed(item.id, &e, now + backoff(attempts))
                    .await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// A transport error without the URL's query (which could hold a token).
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    format!("{kind}: {}", e.without_url())
}
