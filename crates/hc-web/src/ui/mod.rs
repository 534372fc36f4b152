//! The server-rendered web UI: askama templates (`templates/`), messages in
//! `messages/<locale>.toml`, the stylesheet and icons in `static/`.
//!
//! Every page but `/login` needs a session: the [`ctx::Ctx`] extractor redirects anonymous
//! visitors (303) to `/login?next=<path>`. Handlers parse their query into typed filters
//! (400 on a malformed value), call `hc-store` reads, and map the records to small view structs
//! whose text is already translated and formatted; failures render as HTML error pages
//! ([`error::UiError`]). Charts are inline SVG drawn here ([`chart`]); no script is served.
//!
//! | Route | Page |
//! |---|---|
//! | `GET/POST /login`, `POST /logout` | sign in and out |
//! | `GET /lang/{zh,en}?back=` | remember the locale in a cookie |
//! | `GET /?under=` | overview: key figures, institutions and staff by kind, population pyramid |
//! | `GET /orgunits?code=&as_of=` | administrative tree with counts per child unit |
//! | `GET /institutions?kind=&grade=&name=&under=&fever=&group=&after=` | institutions |
//! | `GET /institutions/{code}` | one institution, its group and practitioners |
//! | `GET /residents?id_number=&name=&under=&sex=&after=` | resident search (masked) |
//! | `GET /residents/{id}` | one resident (masked) |
//! | `GET /static/…` | stylesheet and icons |

use axum::Router;
use axum::routing::get;

use crate::AppState;

mod assets;
mod chart;
mod ctx;
mod error;
mod fmt;
mod institutions;
mod login;
mod orgunits;
mod overview;
mod page;
mod residents;
mod shared;

/// The UI's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", axum::routing::post(login::logout))
        .route("/lang/{code}", get(login::switch))
        .route("/orgunits", get(orgunits::page))
        .route("/institutions", get(institutions::list))
        .route("/institutions/{code}", get(institutions::detail))
        .route("/residents", get(residents::search))
        .route("/residents/{id}", get(residents::detail))
        .route("/static/app.css", get(assets::css))
        .route("/static/logo.svg", get(assets::logo))
        .route("/static/favicon.svg", get(assets::logo))
        .route("/static/icons.svg", get(assets::icons))
}
