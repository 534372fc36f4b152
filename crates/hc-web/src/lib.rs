//! HealthCity over HTTP: the JSON API under `/api/v1`, the server-rendered web UI, and the
//! operational endpoints (`/healthz`, `/readyz`, `/metrics`).
//!
//! This is the only crate that knows about HTTP, JSON shapes, HTML and locales. Handlers call
//! `hc-app` use cases and `hc-store` reads; they contain no SQL and no business rules.
//!
//! ```no_run
//! # async fn demo(store: hc_store::Store) -> std::io::Result<()> {
//! let state = hc_web::AppState::new(store, hc_web::WebConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! hc_web::serve(state, listener).await
//! # }
//! ```
#![deny(missing_docs)]

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub mod api;
mod auth;
mod error;
pub mod i18n;
mod metrics;
mod ops;
mod ui;

pub use auth::CurrentUser;
pub use error::ApiError;

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest CSV upload accepted by the import endpoints, in bytes.
    pub max_import_bytes: usize,
    /// Mark session cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Password rules, lockout, timeouts, second factor.
    pub policy: hc_core::access::SecurityPolicy,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_body_bytes: 1 << 20,
            max_import_bytes: 64 << 20,
            secure_cookies: false,
            policy: hc_core::access::SecurityPolicy::default(),
        }
    }
}

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: hc_store::Store,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// Primary-care rules and indicator definitions (the national specification by default).
    pub care: Arc<hc_app::care::CareSettings>,
    /// Recently verified sessions, so a request costs no session query (see `auth.rs`).
    pub(crate) sessions: Arc<auth::SessionCache>,
    /// The stream configuration of detection runs started over the API (none: the built-in).
    pub surveillance: Option<Arc<hc_surveillance::Config>>,
}

impl AppState {
    /// State over `store`.
    pub fn new(store: hc_store::Store, config: WebConfig) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            care: Arc::new(hc_app::care::CareSettings::default()),
            sessions: Arc::new(auth::SessionCache::default()),
            surveillance: None,
        }
    }

    /// The same state with the deployment's stream configuration for detection runs.
    pub fn with_surveillance(mut self, config: Arc<hc_surveillance::Config>) -> Self {
        self.surveillance = Some(config);
        self
    }

    /// The same state with the deployment's primary-care settings (`[care]` in the settings
    /// file) instead of the national defaults.
    pub fn with_care(mut self, care: hc_app::care::CareSettings) -> Self {
        self.care = Arc::new(care);
        self
    }
}

/// The whole application: API, UI, operational endpoints, with limits and metrics.
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(ops::router())
        .nest("/api/v1", api::router(&state))
        .merge(ui::router())
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
}

/// Serves `app(state)` on `listener` until Ctrl-C / SIGTERM.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small request/response exchanges: send each response at once rather than letting
    // Nagle's algorithm hold it for an acknowledgement.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
    });
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
