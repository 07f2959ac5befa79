//! Fills a running collector with simulated users through its real HTTP API, so
//! the demo's `/admin` page shows a realistic spread of answers (see
//! `common/simulated_users.rs` for how they behave). Used by `scripts/demo.sh`.
//!
//! Idempotent: when the collector already knows the first simulated user, it
//! posts nothing (the demo's database survives restarts).
//!
//! ```text
//! cargo run -p trickle-collector --example demo-users -- \
//!     --url http://127.0.0.1:8787 --config static/demo.config.json --users 400
//! ```

#[path = "common/simulated_users.rs"]
mod simulated_users;

use clap::Parser;
use trickle_collector::auth::Secret;

#[derive(Debug, Parser)]
struct Args {
    /// The collector's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8787")]
    url: String,
    /// The config the collector runs with (the answers must fit it).
    #[arg(long)]
    config: std::path::PathBuf,
    /// How many users.
    #[arg(long, default_value_t = 400)]
    users: usize,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Sign user ids with this secret (when the collector has one).
    #[arg(long, env = "TRICKLE_SECRET", hide_env_values = true)]
    secret: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("{}: {e}", args.config.display()))?;
    let config = trickle_collector::validate::load_config(&text)
        .map_err(|e| format!("{}: {}: {}", args.config.display(), e.path, e.message))?;
    let secret = args.secret.filter(|s| !s.is_empty()).map(Secret::new);
    let people = simulated_users::simulate(
        &config,
        args.users,
        trickle_collector::store::unix_ms(),
        args.seed,
    );
    let client = reqwest::Client::new();
    let base = args.url.trim_end_matches('/');

    if let Some(first) = people.first() {
        let mut read = client.get(format!("{base}/v1/profiles/{}", first.user_id));
        if let Some(secret) = &secret {
            read = read.header("x-trickle-user-hash", secret.sign(&first.user_id));
        }
        let known: serde_json::Value = read.send().await?.error_for_status()?.json().await?;
        if !known["updatedAt"].is_null() {
            println!("[demo-users] the collector already has the simulated users; nothing posted");
            return Ok(());
        }
    }

    let mut responses = 0;
    for person in &people {
        let mut envelope = person.envelope.clone();
        if let Some(secret) = &secret {
            envelope["userHash"] = secret.sign(&person.user_id).into();
        }
        let response = client
            .post(format!("{base}/v1/answers"))
            .json(&envelope)
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(format!("{}: {status}: {body}", person.user_id).into());
        }
        responses += person.responses;
    }
    println!(
        "[demo-users] posted {responses} responses of {} simulated users",
        people.len()
    );
    Ok(())
}
