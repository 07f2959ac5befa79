//! `GET /admin`: the marketer's view (contract section 6). How complete profiles
//! are, how each stage and question does, what people pick, and responses per
//! day, as server-rendered HTML with SVG charts and a data table beside each.
//!
//! - Guarded by HTTP Basic: any user name, the admin token as password. Without a
//!   token configured the page does not exist (404, like any unknown path).
//! - No script at all, and no inline style: the page is sent under
//!   [`CONTENT_SECURITY_POLICY`]; its only stylesheet is served here
//!   ([`page::STYLESHEET_PATH`]).
//! - The numbers come from [`crate::store::Store::report`] (one aggregate query
//!   per chart); [`view`] turns them into rows, [`charts`] draws, [`page`](mod@page) writes
//!   the HTML.

pub mod charts;
pub mod page;
pub mod view;

use std::time::Instant;

use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY as CSP, CONTENT_TYPE, REFERRER_POLICY, WWW_AUTHENTICATE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use headers::authorization::Basic;
use headers::{Authorization, HeaderMapExt};
use trickle_core::config::Config;

use crate::error::ApiError;
use crate::store::report::Report;
use crate::AppState;

/// The page's policy: nothing but its own stylesheet, no script, no frames, no
/// forms. Stricter than `default-src 'none'; style-src 'self'; img-src 'self'`:
/// the charts are inline SVG, so the page loads no image at all.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The stylesheet.
const STYLESHEET: &str = include_str!("admin.css");
/// The icon: three bars, the product's accent.
const ICON: &str = include_str!("icon.svg");

/// Renders the page for `report` under `config`, with the last day of the
/// per-day chart the one holding `now_ms` (UTC).
pub fn render(config: &Config, report: &Report, now_ms: i64) -> Result<String, charts::ChartError> {
    let dashboard = view::Dashboard::new(config, report, now_ms);
    let generated_at = trickle_core::time::format_rfc3339_millis(now_ms).unwrap_or_default();
    Ok(page::render(&dashboard, &generated_at)?.into_string())
}

/// `GET /admin`.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refusal) = authorize(&state, &headers) {
        return refusal.into_response();
    }
    let started = Instant::now();
    let now_ms = crate::store::unix_ms();
    let config = &state.settings.config;
    let report = match state.store.report(view::query(config, now_ms)).await {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(error = %e, "admin report failed");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the store is unavailable; retry later",
            )
            .retry_after(crate::routes::STORE_RETRY_AFTER_SECS)
            .into_response();
        }
    };
    let queried = started.elapsed();
    let html = match render(config, &report, now_ms) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "admin page failed to render");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "render_failed",
                e.to_string(),
            )
            .into_response();
        }
    };
    let total = started.elapsed();
    tracing::info!(
        query_ms = queried.as_secs_f64() * 1e3,
        total_ms = total.as_secs_f64() * 1e3,
        "admin page served"
    );
    let timing = format!(
        "db;dur={:.1}, render;dur={:.1}",
        queried.as_secs_f64() * 1e3,
        (total - queried).as_secs_f64() * 1e3
    );
    let mut response = (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CSP, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
            // Free-text answers are personal data: no cache keeps a copy.
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        html,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

/// `GET /admin/admin.css`: the page's stylesheet. Public (it holds no data), but
/// like the page it does not exist without an admin token.
pub async fn stylesheet(State(state): State<AppState>) -> Response {
    if state.settings.admin_token.is_none() {
        return Refusal::Off.into_response();
    }
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("max-age=300")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Why a request may not see the page.
enum Refusal {
    /// No admin token is configured: the page is off.
    Off,
    /// No Basic credentials, or a password that is not the token.
    BadCredentials,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            // The same 404 as any unknown path: nothing says the page exists.
            Refusal::Off => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").into_response()
            }
            Refusal::BadCredentials => {
                let mut response = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "bad_admin_token",
                    "HTTP Basic required: any user name, the admin token as password",
                )
                .into_response();
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"trickle admin\", charset=\"UTF-8\""),
                );
                response
            }
        }
    }
}

/// `GET /admin/icon.svg`: the page's icon (public, and off without a token too).
pub async fn icon(State(state): State<AppState>) -> Response {
    if state.settings.admin_token.is_none() {
        return Refusal::Off.into_response();
    }
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (CACHE_CONTROL, HeaderValue::from_static("max-age=86400")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        ICON,
    )
        .into_response()
}

/// Basic credentials with the admin token as password (any user name).
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(token) = &state.settings.admin_token else {
        return Err(Refusal::Off);
    };
    let given = headers.typed_get::<Authorization<Basic>>();
    if given.is_some_and(|basic| token.verify(basic.password())) {
        return Ok(());
    }
    tracing::warn!("admin page: missing or wrong credentials");
    Err(Refusal::BadCredentials)
}
