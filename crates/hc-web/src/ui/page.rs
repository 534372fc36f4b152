//! Turning templates into responses: HTML with the security headers every page carries,
//! redirects, and the last-resort page when a template fails to render.

use askama::Template;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::fmt;

/// Headers of every HTML page: no caching of personal data, no sniffing, no framing, no
/// third-party resources, and no full URL (which may carry search terms) in referrers.
const PAGE_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
    (header::CACHE_CONTROL, "no-store"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
];

/// Shown when a template itself fails; plain, bilingual, with no dependencies.
const RENDER_FAILED: &str = "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>500</title></head>\
<body><main><h1>服务器内部错误 / Internal error</h1><p><a href=\"/\">返回首页 / Home</a></p></main></body></html>";

/// Renders `tpl` as a page with `status`.
pub fn html<T: Template>(status: StatusCode, tpl: &T) -> Response {
    match tpl.render() {
        Ok(body) => with_headers(status, body),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            with_headers(StatusCode::INTERNAL_SERVER_ERROR, RENDER_FAILED.to_owned())
        }
    }
}

fn with_headers(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    for (name, value) in PAGE_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// 303 See Other to a local `target`.
pub fn redirect(target: &str) -> Response {
    redirect_with(target, None)
}

/// 303 See Other to a local `target`, optionally setting a cookie.
pub fn redirect_with(target: &str, set_cookie: Option<&str>) -> Response {
    let target = if fmt::is_local_path(target) {
        fmt::location(target)
    } else {
        "/".to_owned()
    };
    let mut res = StatusCode::SEE_OTHER.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&target).unwrap_or(HeaderValue::from_static("/")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    res
}
