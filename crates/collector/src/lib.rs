//! `trickle-collector`: the reference endpoint of contract section 6. It receives
//! what the widget posts, validates it with `trickle-core` against the same config
//! the widget uses, and keeps one enriched profile per user in SQLite or PostgreSQL.
//!
//! The binary (`src/main.rs`) only reads flags and the environment; everything else
//! is here so tests run the real server in-process on a loopback port:
//!
//! ```no_run
//! # async fn demo(settings: trickle_collector::Settings) -> std::io::Result<()> {
//! let store = trickle_collector::store::Store::open("profiles.db".as_ref()).unwrap();
//! let state = trickle_collector::AppState::new(settings, store);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! trickle_collector::serve(listener, state, std::future::pending()).await
//! # }
//! ```
//!
//! Modules:
//! - [`routes`]: the handlers; [`error`]: the JSON error body.
//! - [`validate`]: config and envelope parsing, answer checks (via `trickle-core`).
//! - [`store`]: the storage trait and its engines: SQLite (migrations, a group-committing
//!   writer thread) and PostgreSQL (a pool, advisory-locked migrations).
//! - [`profile`]: the merged profile and prompt state of a user (the rule is `trickle_core::profile`).
//! - [`suggest`]: the profile read's `suggestions` (confirm instead of ask).
//! - [`auth`]: the user HMAC and the admin token, compared in constant time.
//! - [`export`]: the CSV export.
//! - [`admin`]: `GET /admin`, the marketer's view (charts and tables).
//! - [`forward`]: forwarding to webhooks, Auth0 and Segment through an outbox.
//! - [`timestamp`]: canonical UTC timestamps (`trickle_core::time`) and the clock.

#![warn(missing_docs)]

pub mod admin;
pub mod auth;
pub mod error;
pub mod export;
pub mod forward;
pub mod profile;
pub mod routes;
pub mod store;
pub mod suggest;
pub mod timestamp;
pub mod validate;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use trickle_core::config::Config;

use crate::auth::{AdminToken, Secret};
use crate::store::Store;

/// Bodies over this many bytes get 413 (contract section 6).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Default cap on answers in one post (the core's envelope limit; the widget's
/// batches stay well below it).
pub const DEFAULT_MAX_ANSWERS: usize = trickle_core::answer::MAX_ANSWERS_PER_ENVELOPE;
/// Default time a request may take, body upload included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a connection may wait for the next complete request head.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How the collector is set up (from flags and environment in the binary).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The widget's config (section 1), already validated.
    pub config: Config,
    /// With a secret, every post and profile read must carry the user's HMAC.
    /// Without one, anyone can post for and read any user: the binary runs so only
    /// when given `--dev`.
    pub secret: Option<Secret>,
    /// Without a token the export is disabled (403) and `GET /admin` is off (404).
    pub admin_token: Option<AdminToken>,
    /// Origins allowed to call cross-origin, normalised by [`parse_origins`]
    /// (`scheme://host[:port]`). Empty: no CORS headers at all, same-origin use only.
    pub allowed_origins: Vec<HeaderValue>,
    /// The most answers one post may carry (more: 413).
    pub max_answers_per_request: usize,
    /// The longest a request may take before a 408, from the end of its head to
    /// its response (body upload included).
    pub request_timeout: Duration,
    /// How long a connection may wait for the next complete request head: from
    /// accepting it, or from the end of the previous response on a keep-alive
    /// connection. Then it is closed, so idle keep-alive connections and clients
    /// that trickle their headers do not hold a connection forever.
    pub idle_timeout: Duration,
    /// After a shutdown signal, how long open connections may take to finish
    /// before they are abandoned.
    pub shutdown_grace: Duration,
    /// Forwarding (`--forward forward.json`): the sinks every newly stored
    /// answer is queued for. `None`: answers stay here.
    pub forward: Option<Arc<forward::Forwarder>>,
}

impl Settings {
    /// Settings with defaults: no secret, no admin token, no CORS.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            secret: None,
            admin_token: None,
            allowed_origins: Vec::new(),
            max_answers_per_request: DEFAULT_MAX_ANSWERS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            shutdown_grace: DEFAULT_REQUEST_TIMEOUT + Duration::from_secs(5),
            forward: None,
        }
    }
}

/// Parses a comma-separated origin list (`TRICKLE_ALLOWED_ORIGINS`) into the
/// origins a browser sends in `Origin`: each entry is parsed as a URL and
/// normalised (scheme and host lowercased, a default port dropped, a trailing
/// `/` allowed). An entry with a scheme other than http or https, a user name or
/// password, a path other than `/`, a query or a fragment is refused, and the
/// error names the entry. Repeated origins are kept once.
pub fn parse_origins(list: &str) -> Result<Vec<HeaderValue>, String> {
    let mut out = Vec::new();
    for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let origin = parse_origin(raw)
            .map_err(|why| format!("{raw:?} is not an origin (scheme://host[:port]): {why}"))?;
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

fn parse_origin(raw: &str) -> Result<HeaderValue, String> {
    let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it has a user name or password".into());
    }
    if url.path() != "/" {
        return Err(format!("it has a path ({:?})", url.path()));
    }
    if url.query().is_some() {
        return Err("it has a query".into());
    }
    if url.fragment().is_some() {
        return Err("it has a fragment".into());
    }
    // http(s) URLs always have a host; the serialization is what browsers send.
    let origin = url.origin().ascii_serialization();
    HeaderValue::from_str(&origin).map_err(|_| format!("{origin:?} is not a valid header value"))
}

/// Shared, cheap-to-clone state of the handlers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

/// What [`AppState`] derefs to.
pub struct Shared {
    /// The settings.
    pub settings: Settings,
    /// The database.
    pub store: Store,
    /// The configured fields in config order (the export's columns).
    pub fields: Vec<String>,
}

impl AppState {
    /// State over an opened store.
    pub fn new(settings: Settings, store: Store) -> Self {
        let fields = validate::fields(&settings.config);
        Self {
            inner: Arc::new(Shared {
                settings,
                store,
                fields,
            }),
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.inner
    }
}

/// The router with every route and layer: trace (outermost), CORS, `Retry-After`
/// on 429 and 503, timeout, body limit. CORS wraps everything else so refusals
/// (401, 409, 413, 422, 503) carry CORS headers too: without them a browser hides
/// the status and the widget would retry a final error forever.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .route("/v1/answers", post(routes::post_answers))
        .route("/v1/profiles/{user_id}", get(routes::get_profile))
        .route("/v1/export.csv", get(routes::export_csv))
        .route("/healthz", get(routes::healthz))
        .route("/admin", get(admin::page))
        .route(admin::page::STYLESHEET_PATH, get(admin::stylesheet))
        .route(admin::page::ICON_PATH, get(admin::icon))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::timeout,
        ))
        .layer(axum::middleware::map_response(routes::ensure_retry_after));
    let router = match cors(&state.settings) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

fn cors(settings: &Settings) -> Option<CorsLayer> {
    if settings.allowed_origins.is_empty() {
        return None;
    }
    // The widget sends its configured extra headers too (e.g. X-Api-Key); a
    // preflight that did not allow them would block every post.
    let mut headers = vec![
        HeaderName::from_static("content-type"),
        HeaderName::from_static(routes::USER_HASH_HEADER),
    ];
    for name in settings.config.headers.keys() {
        match HeaderName::try_from(name.as_str()) {
            Ok(header) => headers.push(header),
            Err(_) => {
                tracing::warn!(header = %name, "config header is not a valid header name; not allowed in CORS")
            }
        }
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(settings.allowed_origins.clone()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(headers)
            // The widget reads Retry-After of a 429 or 503 to time its retry; a
            // browser hides response headers not exposed here.
            .expose_headers([axum::http::header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (each has
/// committed before it answered) and closes the store: its writer commits
/// whatever is queued and checkpoints the WAL.
///
/// The accept loop is hyper's HTTP/1.1 server with a header-read timeout of
/// `idle_timeout` (axum's own `serve` sets none). Hyper starts that timer whenever
/// a connection waits for a request head: when it is accepted and again after each
/// response on a keep-alive connection. So one setting closes both an idle
/// keep-alive connection and a client that never finishes its headers. A
/// connection that still has not finished when `shutdown_grace` has passed after
/// the signal is abandoned.
/// Nothing acknowledged is lost that way: an answer is acknowledged only after
/// its commit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let grace = state.settings.shutdown_grace;
    // The forwarder's tasks: they only read and update the outbox, so ingestion
    // never waits for a sink.
    let forwarding = state
        .settings
        .forward
        .as_ref()
        .map(|forwarder| forwarder.start(store.clone()));
    let idle_timeout = state.settings.idle_timeout;
    let router = app(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(idle_timeout);

    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are one write each; waiting for Nagle only adds latency.
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("no longer accepting; finishing open connections");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_s = grace.as_secs_f64(), "connections still open after the grace period; closing anyway");
        }
    }
    if let Some(forwarding) = forwarding {
        forwarding.stop();
    }
    let closing = tokio::task::spawn_blocking(move || store.close()).await;
    if let Err(e) = closing {
        tracing::error!(error = %e, "closing the store failed");
    }
    tracing::info!("stopped");
    Ok(())
}
