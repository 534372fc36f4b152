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
//! | `GET /residents/{id}` | one resident (in clear for roles that see identities; audited) |
//! | `POST /residents/break-glass` | emergency access to a record outside one's jurisdiction |
//! | `GET /residents/{id}/care?done=` | a resident's primary care: contract, key populations, diagnoses, follow-ups, due services, checks (care roles; audited) |
//! | `POST /residents/{id}/care/{contracts,diagnoses,checks}`, `POST /residents/{id}/care/enrolments/{e}/followups` | sign a contract, add a diagnosis, record a check or a follow-up; redirect back, or the page again with the errors by the form |
//! | `GET /care` | the family-doctor teams of one's jurisdiction (care roles) |
//! | `GET /care/teams/{id}?date=` | a team's worklist: due this week, overdue, lost to follow-up, referrals to follow up (names masked; audited) |
//! | `GET /indicators?year=&org=&level=` | primary-care indicators with targets; figures link to the residents behind them for roles that see residents |
//! | `GET /indicators/{code}/members?org=&year=&meets=&after=` | the residents behind a figure, masked (audited) |
//! | `GET /audit?actor=&resident_id=&action=&from=&to=&unreviewed=&before=` | audit log (auditors) |
//! | `POST /audit/{id}/review` | mark a flagged event reviewed, with a note (auditors) |
//! | `GET /admin/accounts` | accounts and API tokens, the new-account form (administrators) |
//! | `POST /admin/accounts`, `POST /admin/accounts/{username}/{disable,enable,reset-password}` | create an account, change one; a one-time password is shown once |
//! | `POST /admin/tokens/{name}/revoke` | revoke an API token (administrators) |
//! | `GET /surveillance?date=&alert=&feed=&area=&map=street` | the day's signals and events by alert level, the map of districts (or streets) coloured by the highest open signal (surveillance roles) |
//! | `GET /surveillance/streams?stream=&from=&to=` | a stream's epidemic curve: counts, expected, threshold, alarms |
//! | `GET /surveillance/signals/{id}`, `GET /surveillance/events/{id}` | a signal (with the masked line list, audited) or an event, its history and the verification form |
//! | `POST /surveillance/{signals,events}/{id}/actions` | assign, verify, close or annotate (`verify_signals`) |
//! | `GET /surveillance/response?from=&to=` | response times per district against the 24-hour target |
//! | `GET /surveillance/truth` | the demo's injected outbreaks: found or not, and how many days after they began |
//! | `GET /me?before=` | a resident's own record, who looked at it, and its download |
//! | `GET/POST /account/password` | change one's password (forced after a reset) |
//! | `GET /static/…` | stylesheet and icons |

use axum::Router;
use axum::routing::get;

use crate::AppState;

mod account;
mod accounts;
mod assets;
mod audit;
mod care;
mod chart;
mod ctx;
mod error;
mod fmt;
mod indicators;
mod institutions;
mod login;
mod me;
mod orgunits;
mod overview;
mod page;
mod residents;
mod shared;
mod surveillance;
mod surveillance_detail;
mod surveillance_stream;

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
        .route(
            "/residents/break-glass",
            axum::routing::post(residents::break_glass),
        )
        .route("/residents/{id}", get(residents::detail))
        .route("/residents/{id}/care", get(care::record))
        .route(
            "/residents/{id}/care/contracts",
            axum::routing::post(care::post_contract),
        )
        .route(
            "/residents/{id}/care/diagnoses",
            axum::routing::post(care::post_diagnosis),
        )
        .route(
            "/residents/{id}/care/enrolments/{enrolment}/followups",
            axum::routing::post(care::post_followup),
        )
        .route(
            "/residents/{id}/care/checks",
            axum::routing::post(care::post_check),
        )
        .route("/care", get(care::teams))
        .route("/care/teams/{id}", get(care::worklist))
        .route("/indicators", get(indicators::list))
        .route("/indicators/{code}/members", get(indicators::members))
        .route("/audit", get(audit::list))
        .route("/audit/{id}/review", axum::routing::post(audit::review))
        .route(
            "/admin/accounts",
            get(accounts::list).post(accounts::create),
        )
        .route(
            "/admin/accounts/{username}/{action}",
            axum::routing::post(accounts::act),
        )
        .route(
            "/admin/tokens/{name}/revoke",
            axum::routing::post(accounts::revoke),
        )
        .route("/surveillance", get(surveillance::board))
        .route("/surveillance/streams", get(surveillance_stream::page))
        .route("/surveillance/response", get(surveillance::response))
        .route("/surveillance/truth", get(surveillance::truth))
        .route(
            "/surveillance/signals/{id}",
            get(surveillance_detail::signal),
        )
        .route("/surveillance/events/{id}", get(surveillance_detail::event))
        .route(
            "/surveillance/{kind}/{id}/actions",
            axum::routing::post(surveillance_detail::act),
        )
        .route("/me", get(me::page))
        .route(
            "/account/password",
            get(account::form).post(account::submit),
        )
        .route("/static/app.css", get(assets::css))
        .route("/static/logo.svg", get(assets::logo))
        .route("/static/favicon.svg", get(assets::logo))
        .route("/static/icons.svg", get(assets::icons))
}
