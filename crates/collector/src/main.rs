//! `trickle-collector --config FILE --db FILE|URL --listen ADDR`: reads flags and the
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
use trickle_collector::forward::{Forwarder, Timing};
use trickle_collector::store::{Location, Store};
use trickle_collector::{parse_origins, AppState, Settings};

/// Trickle's reference collector: receives answers, keeps enriched profiles.
#[derive(Debug, Parser)]
#[command(version, about, subcommand_negates_reqs = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The widget config (JSON, contract section 1) to validate answers against.
    #[arg(long, value_name = "FILE", required = true)]
    config: Option<PathBuf>,
    /// Where profiles are kept: a SQLite file (created on first start), or a
    /// PostgreSQL URL `postgres://user:password@host:port/database` (the database
    /// must exist; several collectors may share it). Migrated on start. Prefer the
    /// environment for a URL with a password: flags show in `ps`.
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "TRICKLE_DB",
        hide_env_values = true,
        required = true
    )]
    db: Option<String>,
    /// Forward every newly stored answer to the sinks in this file (webhooks,
    /// Auth0, Segment; see the README). Secrets may be written "env:NAME".
    #[arg(long, value_name = "FILE")]
    forward: Option<PathBuf>,
    /// Seconds one forwarding request may take.
    #[arg(long, default_value_t = 10.0)]
    forward_timeout: f64,
    /// Tests only: milliseconds before the first forwarding retry (doubling after).
    #[arg(long, hide = true)]
    forward_first_retry_ms: Option<u64>,
    /// Tests only: the longest forwarding retry delay, milliseconds.
    #[arg(long, hide = true)]
    forward_max_retry_ms: Option<u64>,
    /// Tests only: milliseconds after which a delivery gives up.
    #[arg(long, hide = true)]
    forward_give_up_ms: Option<u64>,
    /// Tests only: milliseconds a claimed delivery is leased.
    #[arg(long, hide = true)]
    forward_lease_ms: Option<u64>,
    /// Tests only: milliseconds between looks for due deliveries.
    #[arg(long, hide = true)]
    forward_poll_ms: Option<u64>,
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
    /// Bearer token for GET /v1/export.csv and password of GET /admin (HTTP Basic);
    /// without it both are disabled.
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

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The forwarding outbox: list failed deliveries, or queue them again.
    Forward(ForwardArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["failed", "retry"])))]
struct ForwardArgs {
    /// The collector's database: a SQLite file or a PostgreSQL URL, as for the
    /// server.
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "TRICKLE_DB",
        hide_env_values = true
    )]
    db: String,
    /// List the deliveries that gave up (one tab-separated line each).
    #[arg(long)]
    failed: bool,
    /// Make every failed delivery pending again, due now, with a fresh 24 h window
    /// (a running collector with the same sinks sends them).
    #[arg(long)]
    retry: bool,
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
    let result = match args.command {
        Some(Command::Forward(ref forward)) => outbox(forward),
        None => run(args),
    };
    match result {
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

/// `trickle-collector forward --failed | --retry --db FILE`.
fn outbox(args: &ForwardArgs) -> Result<(), String> {
    let location = Location::parse(&args.db);
    // Opening would create an empty database: a mistyped path must not look empty.
    if let Location::Sqlite(path) = &location {
        if !path.exists() {
            return Err(format!("{}: no such database", path.display()));
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let store = runtime
        .block_on(Store::connect(&location))
        .map_err(|e| format!("{location}: {e}"))?;
    let result = runtime.block_on(async {
        if args.retry {
            let n = store
                .requeue_failed(trickle_collector::store::unix_ms())
                .await
                .map_err(|e| e.to_string())?;
            println!("requeued {n} failed deliveries");
        } else {
            let failed = store.list_failed().await.map_err(|e| e.to_string())?;
            println!("seq\tsink\tuserId\tanswerId\tattempts\tqueuedAt\tlastError");
            for f in &failed {
                let queued =
                    trickle_core::time::format_rfc3339_millis(f.created_at_ms).unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    f.seq,
                    f.sink,
                    f.user_id,
                    f.answer_id,
                    f.attempts,
                    queued,
                    f.last_error.replace(['\t', '\n'], " ")
                );
            }
            eprintln!("{} failed deliveries", failed.len());
        }
        Ok::<(), String>(())
    });
    store.close();
    result
}

fn run(args: Args) -> Result<(), String> {
    // clap requires both unless a subcommand is given.
    let (Some(config_path), Some(db)) = (args.config.clone(), args.db.clone()) else {
        return Err("--config and --db are required".into());
    };
    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let config = trickle_collector::validate::load_config(&text)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
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

    if let Some(path) = &args.forward {
        let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
        let defaults = Timing::default();
        let request_timeout = seconds("--forward-timeout", args.forward_timeout)?;
        let timing = Timing {
            first_retry: ms(args.forward_first_retry_ms, defaults.first_retry),
            max_retry: ms(args.forward_max_retry_ms, defaults.max_retry),
            give_up_after: ms(args.forward_give_up_ms, defaults.give_up_after),
            request_timeout,
            // Longer than a request can take, so a crashed collector's claims
            // come back soon after a restart.
            lease: ms(
                args.forward_lease_ms,
                request_timeout * 2 + Duration::from_secs(5),
            ),
            poll: ms(args.forward_poll_ms, defaults.poll),
            max_in_flight: defaults.max_in_flight,
        };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let forwarder = Forwarder::from_json(&text, |name| std::env::var(name).ok(), timing)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        tracing::info!(sinks = ?forwarder.sink_keys(), "forwarding answers");
        settings.forward = Some(std::sync::Arc::new(forwarder));
    }
    let location = Location::parse(&db);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let store = Store::connect(&location).await.map_err(|e| format!("{location}: {e}"))?;
        let listener =
            tokio::net::TcpListener::bind(&args.listen).await.map_err(|e| format!("listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%addr, db = %location, origins = settings.allowed_origins.len(),
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
