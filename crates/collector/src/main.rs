//! `trickle-collector --config FILE --db FILE --listen ADDR`: reads flags and the
//! environment, then runs [`trickle_collector::serve`] until SIGTERM or Ctrl-C.
//!
//! Secure by default: without a secret (`TRICKLE_SECRET` or `--secret`) it refuses
//! to start (exit status 2) unless given `--dev`, and then warns on every start
//! that posts and profile reads are unauthenticated.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use trickle_collector::auth::{AdminToken, Secret};
use trickle_collector::store::Store;
use trickle_collector::{parse_origins, AppState, Settings};

/// Trickle's reference collector: receives answers, keeps enriched profiles.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The widget config (JSON, contract section 1) to validate answers against.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The SQLite database; created and migrated on first start.
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    listen: String,
    /// HMAC secret for userHash checks (prefer the environment: flags show in `ps`).
    /// Required unless --dev is given.
    #[arg(long, env = "TRICKLE_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Development mode: start even without a secret. Then nothing is
    /// authenticated: anyone can post for any user and read any user's profile.
    #[arg(long)]
    dev: bool,
    /// Bearer token for GET /v1/export.csv; without it the export is disabled.
    #[arg(long, env = "TRICKLE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Comma-separated origins allowed to call cross-origin.
    #[arg(long, env = "TRICKLE_ALLOWED_ORIGINS", default_value = "")]
    allowed_origins: String,
    /// The most answers one request may carry (1 to 100, the core's envelope limit).
    #[arg(long, default_value_t = trickle_collector::DEFAULT_MAX_ANSWERS)]
    max_answers: usize,
    /// Seconds a request may take before it gets 408 (from the end of its head).
    #[arg(long, default_value_t = 10.0)]
    request_timeout: f64,
    /// Seconds a connection may wait for the next complete request head (idle
    /// keep-alive, or headers arriving slowly) before it is closed.
    #[arg(long, default_value_t = trickle_collector::DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    idle_timeout: f64,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "json")]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Human-readable lines.
    Text,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("trickle-collector: {message}");
            ExitCode::from(2)
        }
    }
}

/// Why the collector does not start without a secret.
const NO_SECRET: &str = "no secret: set TRICKLE_SECRET (or --secret) so that posts and profile \
reads are authenticated, or pass --dev to run without one on a development machine";

/// The warning of every start with --dev and no secret.
const DEV_WITHOUT_SECRET: &str = "--dev without a secret: posts AND profile reads are \
unauthenticated. Anyone can post answers for any user id, and anyone can read any user's \
stored personal data through GET /v1/profiles/{userId}. Set TRICKLE_SECRET outside development.";

/// A positive, finite number of seconds from a flag.
fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "{flag} must be a positive number of seconds (at most 86400)"
        ))
    }
}

fn run(args: Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("{}: {e}", args.config.display()))?;
    let config = trickle_collector::validate::load_config(&text)
        .map_err(|e| format!("{}: {e}", args.config.display()))?;
    let mut settings = Settings::new(config);
    settings.secret = args.secret.filter(|s| !s.is_empty()).map(Secret::new);
    settings.admin_token = args
        .admin_token
        .filter(|s| !s.is_empty())
        .map(|t| AdminToken::new(&t));
    settings.allowed_origins =
        parse_origins(&args.allowed_origins).map_err(|e| format!("allowed origins: {e}"))?;
    // Above the core's envelope limit the core would refuse with 422 anyway.
    settings.max_answers_per_request = args
        .max_answers
        .clamp(1, trickle_collector::DEFAULT_MAX_ANSWERS);
    settings.request_timeout = seconds("--request-timeout", args.request_timeout)?;
    settings.idle_timeout = seconds("--idle-timeout", args.idle_timeout)?;
    // Enough for any request still within its timeout to finish and answer.
    settings.shutdown_grace = settings.request_timeout + Duration::from_secs(5);
    match (&settings.secret, args.dev) {
        (None, false) => return Err(NO_SECRET.into()),
        (None, true) => tracing::warn!("{DEV_WITHOUT_SECRET}"),
        (Some(_), true) => {
            tracing::info!("--dev given, but a secret is set: userHash is checked as usual")
        }
        (Some(_), false) => {}
    }

    let store = Store::open(&args.db).map_err(|e| format!("{}: {e}", args.db.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(&args.listen).await.map_err(|e| format!("listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%addr, db = %args.db.display(), origins = settings.allowed_origins.len(),
            secret = settings.secret.is_some(), dev = args.dev, export = settings.admin_token.is_some(), "listening");
        // One plain line on stdout so scripts (and tests) can learn the port.
        println!("trickle-collector listening on http://{addr}");
        let state = AppState::new(settings, store);
        trickle_collector::serve(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())
    })
}

/// Resolves on SIGTERM (what service managers send) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
