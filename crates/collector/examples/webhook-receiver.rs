//! A small webhook receiver standing in for a CRM (the demo's "What the CRM
//! received" panel, `scripts/demo.sh`, `e2e/demo.test.mjs`). Not part of the
//! collector: an example, so `cargo install` never ships it.
//!
//! `POST /hooks/trickle` (any path but `/received`) takes what `trickle-collector
//! --forward` sends and checks its Standard Webhooks signature the way a receiver
//! would, with its own code rather than the collector's signing function: the key is
//! the base64 after `whsec_`, the signed content `{webhook-id}.{webhook-timestamp}.{body}`,
//! `webhook-signature` a space-separated list of `v1,<base64 HMAC-SHA256>` of which one
//! must match (compared in constant time), and the timestamp within 5 minutes of now.
//! A verified delivery gets 204 (a repeat of a `webhook-id` too, flagged `repeat`);
//! anything else 401, which the collector treats as final.
//!
//! `GET /received`: the last `--keep` deliveries, verified or not, newest first:
//! `{ "deliveries": [{ "webhookId", "verified", "error", "repeat", "receivedAt",
//! "userId", "type", "answers": [{ "field", "status", "value" }], "profile" }],
//! "total": N }`.
//!
//! ```text
//! TRICKLE_WEBHOOK_SECRET=whsec_... cargo run -p trickle-collector --example webhook-receiver -- \
//!     --listen 127.0.0.1:8788
//! ```
//! Prints `webhook-receiver listening on http://ADDR` once it listens, then each
//! delivery as a JSON line.
//!
//! `cargo test -p trickle-collector` builds it (e2e/demo.test.mjs runs it); its unit
//! test, Standard Webhooks' reference vector, runs with
//! `cargo test -p trickle-collector --example webhook-receiver`.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use clap::Parser;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

#[derive(Debug, Parser)]
struct Args {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: String,
    /// The webhook's Standard Webhooks secret (`whsec_` + base64), as in forward.json.
    #[arg(long, env = "TRICKLE_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// How many deliveries `GET /received` keeps.
    #[arg(long, default_value_t = 20)]
    keep: usize,
}

/// Standard Webhooks' default tolerance for `webhook-timestamp`.
const TOLERANCE_SECS: i64 = 5 * 60;

struct Receiver {
    key: Vec<u8>,
    keep: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Newest first, at most `keep`.
    deliveries: VecDeque<Value>,
    /// Every verified `webhook-id` seen, so a repeat (at least once) is visible.
    seen: HashSet<String>,
    total: u64,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Checks a Standard Webhooks signature; `Err` says why it does not verify.
fn verify(key: &[u8], headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("missing {name}"))
    };
    let id = header("webhook-id")?;
    let timestamp = header("webhook-timestamp")?;
    let signatures = header("webhook-signature")?;
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| "webhook-timestamp is not a number".to_owned())?;
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err("webhook-timestamp too far from now".to_owned());
    }
    for entry in signatures.split(' ') {
        let Some(sig) = entry.strip_prefix("v1,") else {
            continue;
        };
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(sig) else {
            continue;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|e| e.to_string())?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err("no v1 signature matches".to_owned())
}

/// What the panel shows of one delivery.
fn summary(headers: &HeaderMap, body: &[u8], verified: &Result<(), String>) -> Value {
    let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let answers: Vec<Value> = payload
        .get("answers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|a| json!({ "field": a["field"], "status": a["status"], "value": a["value"] }))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "webhookId": headers.get("webhook-id").and_then(|v| v.to_str().ok()),
        "verified": verified.is_ok(),
        "error": verified.as_ref().err(),
        "receivedAt": now_secs(),
        "userId": payload.get("userId"),
        "type": payload.get("type"),
        "answers": answers,
        "profile": payload.get("profile"),
    })
}

async fn receive(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verified = verify(&rx.key, &headers, &body, now_secs());
    let mut entry = summary(&headers, &body, &verified);
    let mut inner = rx.inner.lock().unwrap_or_else(|e| e.into_inner());
    if verified.is_ok() {
        let id = entry["webhookId"].as_str().unwrap_or_default().to_owned();
        entry["repeat"] = json!(!inner.seen.insert(id));
    }
    println!("{entry}");
    inner.total += 1;
    inner.deliveries.push_front(entry);
    inner.deliveries.truncate(rx.keep);
    match verified {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

async fn received(State(rx): State<Arc<Receiver>>) -> Json<Value> {
    let inner = rx.inner.lock().unwrap_or_else(|e| e.into_inner());
    Json(json!({ "deliveries": inner.deliveries, "total": inner.total }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let key = args
        .secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
    let Some(key) = key else {
        eprintln!("webhook-receiver: the secret must be whsec_ followed by base64");
        std::process::exit(2);
    };
    let state = Arc::new(Receiver {
        key,
        keep: args.keep.max(1),
        inner: Mutex::default(),
    });
    let app = Router::new()
        .route("/received", get(received))
        .fallback(axum::routing::post(receive))
        .with_state(state);
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("webhook-receiver: cannot listen on {}: {e}", args.listen);
            std::process::exit(2);
        }
    };
    let addr = listener.local_addr().expect("local address");
    println!("webhook-receiver listening on http://{addr}");
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        eprintln!("webhook-receiver: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard Webhooks' own test vector (the standardwebhooks libraries' README).
    #[test]
    fn verifies_the_reference_vector() {
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "webhook-id",
            "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().unwrap(),
        );
        h.insert("webhook-timestamp", "1614265330".parse().unwrap());
        h.insert(
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
                .parse()
                .unwrap(),
        );
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(verify(&key, &h, body, 1614265330), Ok(()));
        assert!(verify(&key, &h, b"{\"test\": 1}", 1614265330).is_err());
        assert!(verify(&key, &h, body, 1614265330 + 301).is_err());
    }
}
