//! HTTP tests through `app(state).oneshot(request)`, on SQLite and, when
//! `HEALTHCITY_TEST_POSTGRES` is set, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod api;
mod care;
mod common;
mod feeds;
mod surveillance;
mod surveillance_api;
mod ui;
