//! Load generator for `trickle-collector` (used by `scripts/bench-collector.sh`).
//!
//! N concurrent clients post envelopes of `--batch` answers with unique ids to a
//! collector on this machine until `--requests` posts were sent or `--duration`
//! seconds passed, whichever comes first, then report answers per second and
//! latency percentiles. Loopback only: any other host is refused.
//!
//! ```text
//! cargo run --release -p trickle-collector --example load -- \
//!     --url http://127.0.0.1:8787 --clients 32 --requests 20000 --duration 20 --batch 1
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use trickle_collector::auth::Secret;

#[derive(Debug, Parser)]
struct Args {
    /// The collector's base URL (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8787")]
    url: String,
    /// Concurrent clients, each on its own connection.
    #[arg(long, default_value_t = 32)]
    clients: u64,
    /// Upper bound on posts sent in total.
    #[arg(long, default_value_t = 20_000)]
    requests: u64,
    /// Upper bound on run time, seconds.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Answers per post.
    #[arg(long, default_value_t = 1)]
    batch: u64,
    /// Distinct users the answers are spread over.
    #[arg(long, default_value_t = 1000)]
    users: u64,
    /// Sign userIds with this secret (set when the collector has TRICKLE_SECRET).
    #[arg(long, env = "TRICKLE_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// A label printed with the results.
    #[arg(long, default_value = "run")]
    label: String,
}

/// Answers for the fixture config's questions (tests/fixtures/config.json).
const ANSWERS: &[(&str, &str, &str, &str)] = &[
    ("name", "basics", "name", r#""Ada Lovelace""#),
    ("role", "basics", "company.role", r#""senior""#),
    ("size", "company", "company.size", "42"),
    ("topics", "company", "interests", r#"["api","reports"]"#),
    ("email", "contact", "contact.email", r#""ada@example.com""#),
];

fn is_loopback(url: &str) -> bool {
    let rest = url.strip_prefix("http://").unwrap_or("");
    let host = rest.split('/').next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

/// A random-looking UUID v4 string, as the widget makes (crypto.randomUUID), so
/// inserts land all over the id index as they would in production.
fn uuid(seed: u64) -> String {
    // splitmix64: two well-mixed 64-bit halves from a counter.
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let (a, b) = (mix(seed), mix(seed ^ 0xDEAD_BEEF_CAFE_F00D));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

fn body(args: &Args, run: u64, client: u64, n: u64, hashes: &[String]) -> String {
    let user_index = (client.wrapping_mul(7919) + n) % args.users;
    let user = format!("bench-user-{user_index}");
    let hash = hashes
        .get(user_index as usize)
        .map(|h| format!(r#","userHash":"{h}""#))
        .unwrap_or_default();
    let mut answers = String::new();
    for k in 0..args.batch {
        let (question, stage, field, value) = ANSWERS[((n + k) % ANSWERS.len() as u64) as usize];
        // Unique per run (n < 2^24 posts, k < 256 answers per post) and across runs.
        let id = uuid(run << 32 | (n & 0xff_ffff) << 8 | (k & 0xff));
        if k > 0 {
            answers.push(',');
        }
        answers.push_str(&format!(
            r#"{{"id":"{id}","questionId":"{question}","stage":"{stage}","field":"{field}","status":"answered","value":{value},"other":false,"answeredAt":"2026-11-30T15:00:00.000Z","loginsCount":3}}"#
        ));
    }
    format!(
        r#"{{"userId":"{user}"{hash},"answers":[{answers}],"context":{{"url":"https://app.example.com/","locale":"en","widget":"trickle/0.1.0"}}}}"#
    )
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    if !is_loopback(&args.url) {
        eprintln!(
            "load: refusing {}: only loopback targets (127.0.0.0/8, localhost, [::1])",
            args.url
        );
        std::process::exit(2);
    }
    let hashes: Arc<Vec<String>> = Arc::new(match &args.secret {
        Some(secret) => {
            let secret = Secret::new(secret.as_bytes());
            (0..args.users)
                .map(|u| secret.sign(&format!("bench-user-{u}")))
                .collect()
        }
        None => Vec::new(),
    });
    // Unique ids across runs against the same database.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let sent = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client_id in 0..args.clients {
        let (args, sent, hashes) = (Arc::clone(&args), Arc::clone(&sent), Arc::clone(&hashes));
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let url = format!("{}/v1/answers", args.url.trim_end_matches('/'));
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut duplicates = 0u64;
            loop {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                if n >= args.requests || Instant::now() >= deadline {
                    break;
                }
                let payload = body(&args, run, client_id, n, &hashes);
                let start = Instant::now();
                let result = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(payload)
                    .send()
                    .await;
                let ok = match result {
                    Ok(response) => {
                        let status = response.status();
                        // Read the body so the connection is reused.
                        let body = response.bytes().await.unwrap_or_default();
                        let recorded: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        duplicates += recorded["duplicates"].as_u64().unwrap_or(0);
                        status.is_success()
                    }
                    Err(_) => false,
                };
                if ok {
                    latencies.push(start.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors, duplicates)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut duplicates = 0;
    for task in tasks {
        let (mut l, e, d) = task.await.expect("client task");
        latencies.append(&mut l);
        errors += e;
        duplicates += d;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    let ok = latencies.len() as u64;
    let answers = ok * args.batch;
    println!(
        "{label}: clients={clients} batch={batch} requests_ok={ok} errors={errors} duplicates={duplicates} elapsed_s={elapsed:.2} \
         requests_per_s={rps:.0} answers_per_s={aps:.0} p50_ms={p50:.2} p99_ms={p99:.2} max_ms={max:.2}",
        label = args.label,
        clients = args.clients,
        batch = args.batch,
        rps = ok as f64 / elapsed,
        aps = answers as f64 / elapsed,
        p50 = pct(0.50),
        p99 = pct(0.99),
        max = pct(1.0),
    );
    // Every id is fresh, so a duplicate means the generator or the store is wrong.
    if errors > 0 || duplicates > 0 {
        std::process::exit(1);
    }
}
