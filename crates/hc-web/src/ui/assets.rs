//! The stylesheet and icons, embedded in the binary and served under `/static/`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/app.css"));
const LOGO: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/logo.svg"));
const ICONS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/icons.svg"));

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// `GET /static/app.css`.
pub async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

/// `GET /static/logo.svg` (also the favicon).
pub async fn logo() -> Response {
    asset("image/svg+xml", LOGO)
}

/// `GET /static/icons.svg`: the navigation icons as `<symbol>`s.
pub async fn icons() -> Response {
    asset("image/svg+xml", ICONS)
}
