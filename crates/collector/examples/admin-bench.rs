//! How long `GET /admin` takes at a given number of stored answers (the issue's
//! bound: under 200 ms at 100,000).
//!
//! Fills a fresh database (SQLite in a temporary directory, or the empty
//! PostgreSQL database given by `--db postgres://...`) with simulated users'
//! answers under the seed config, validated and stored as a post would be, until
//! at least `--answers` are stored; then serves it on a loopback port and times
//! `--rounds` page loads over HTTP (what a marketer waits for), and as many
//! in-process runs of the two halves: the store's report (the aggregate queries)
//! and the rendering (view, charts, HTML).
//!
//! ```text
//! cargo run --release -p trickle-collector --example admin-bench -- --answers 100000
//! cargo run --release -p trickle-collector --example admin-bench -- --db postgres://127.0.0.1:5432/empty
//! ```

#[path = "common/simulated_users.rs"]
mod simulated_users;

use std::time::{Duration, Instant};

use clap::Parser;
use trickle_collector::auth::AdminToken;
use trickle_collector::store::{Location, NewAnswers, Store};
use trickle_collector::{admin, validate, AppState, Settings};

#[derive(Debug, Parser)]
struct Args {
    /// Store at least this many answers (responses of any status).
    #[arg(long, default_value_t = 100_000)]
    answers: usize,
    /// Timed page loads (and in-process runs of each half).
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Keep the database at this path (a new SQLite file) instead of a temporary
    /// one, or use this PostgreSQL database (`postgres://...`, holding no answers).
    #[arg(long)]
    db: Option<String>,
    /// Time the database given by `--db` as it is, without storing anything (a
    /// database an earlier run filled, e.g. after PostgreSQL's autovacuum).
    #[arg(long, requires = "db")]
    reuse: bool,
}

const CONFIG: &str = include_str!("../../core/fixtures/seed.config.json");
const TOKEN: &str = "bench-admin-token";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = validate::load_config(CONFIG).map_err(|e| e.message)?;
    let dir = tempfile::tempdir()?;
    let location = match &args.db {
        Some(db) => Location::parse(db),
        None => Location::Sqlite(dir.path().join("bench.db")),
    };
    if let (Location::Sqlite(path), false) = (&location, args.reuse) {
        if path.exists() {
            return Err(format!("{} exists; give a new path", path.display()).into());
        }
    }
    let store = Store::connect(&location).await?;
    let now_ms = trickle_collector::store::unix_ms();
    if !args.reuse
        && store
            .report(admin::view::query(&config, now_ms))
            .await?
            .known_users
            > 0
    {
        return Err(format!("{location} already holds answers; give an empty database").into());
    }

    let started = Instant::now();
    let mut stored = 0;
    let mut users = 0;
    let mut round = 0u64;
    while !args.reuse && stored < args.answers {
        // Simulated in rounds of 2,000 users, posted 64 at a time (group commit).
        let people = simulated_users::simulate(&config, 2_000, now_ms, round);
        round += 1;
        for chunk in people.chunks(64) {
            let mut posts = Vec::with_capacity(chunk.len());
            for person in chunk {
                let body = serde_json::to_vec(&person.envelope)?;
                let mut envelope = validate::parse_envelope(&body).map_err(|_| "bad envelope")?;
                // Each round's users are new people.
                envelope.user_id = format!("{}-r{round}", person.user_id);
                let answers = validate::check_answers(&config, &envelope).map_err(|e| e.message)?;
                let store = store.clone();
                posts.push(tokio::spawn(async move {
                    store
                        .record(NewAnswers {
                            user_id: envelope.user_id,
                            answers,
                            context: "{}".into(),
                            forward_to: Vec::new(),
                        })
                        .await
                }));
            }
            for (post, person) in posts.into_iter().zip(chunk) {
                let recorded = post.await??;
                // Every simulated answer is new: none may be refused or deduplicated.
                assert_eq!(recorded.stored, person.responses, "{}", person.user_id);
                stored += recorded.stored;
                users += 1;
            }
        }
    }
    if args.reuse {
        println!("{location}: timed as it is");
    } else {
        println!(
            "{location}: stored {stored} answers of {users} users in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let mut settings = Settings::new(config.clone());
    settings.admin_token = Some(AdminToken::new(TOKEN));
    let state = AppState::new(settings, store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/admin", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(trickle_collector::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let mut page = Vec::with_capacity(args.rounds);
    let mut bytes = 0;
    // One warm-up load: the first read pages the indexes into the cache.
    for i in 0..=args.rounds {
        let t = Instant::now();
        let response = client
            .get(&url)
            .basic_auth("bench", Some(TOKEN))
            .send()
            .await?
            .error_for_status()?;
        bytes = response.bytes().await?.len();
        if i > 0 {
            page.push(t.elapsed());
        }
    }
    let mut query = Vec::with_capacity(args.rounds);
    let mut render = Vec::with_capacity(args.rounds);
    for _ in 0..args.rounds {
        let now_ms = trickle_collector::store::unix_ms();
        let t = Instant::now();
        let report = store.report(admin::view::query(&config, now_ms)).await?;
        query.push(t.elapsed());
        let t = Instant::now();
        let html = admin::render(&config, &report, now_ms)?;
        render.push(t.elapsed());
        std::hint::black_box(html);
    }
    let _ = stop.send(());
    server.await??;

    println!("page over HTTP ({bytes} bytes): {}", summary(&mut page));
    println!("  report (queries): {}", summary(&mut query));
    println!("  render (HTML, SVG): {}", summary(&mut render));
    Ok(())
}

fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "median {:.1} ms, p90 {:.1} ms, max {:.1} ms ({} runs)",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
        ms(times[times.len() - 1]),
        times.len()
    )
}
