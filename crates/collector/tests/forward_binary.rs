//! The real binary with `--forward`: start-up errors name the file, the path and
//! the missing environment variable; and a collector killed with SIGKILL while
//! deliveries are being retried, and again while they succeed, loses none and
//! (after the receiver's dedupe by `webhook-id`) delivers each answer once, on
//! both stores.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::fakes::{Fake, Reply};
use common::*;
use rstest::rstest;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_trickle-collector");
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn command(dir: &Path, db: &str, forward: &str, envs: &[(&str, &str)]) -> Command {
    std::fs::write(dir.join("config.json"), CONFIG).unwrap();
    std::fs::write(dir.join("forward.json"), forward).unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(dir.join("config.json"))
        .args(["--db", db])
        .arg("--forward")
        .arg(dir.join("forward.json"))
        .args([
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--forward-timeout",
            "0.3",
        ])
        .args([
            "--forward-first-retry-ms",
            "30",
            "--forward-max-retry-ms",
            "150",
        ])
        .args(["--forward-lease-ms", "1000", "--forward-poll-ms", "20"])
        .env_remove("TRICKLE_SECRET")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    command
}

fn start(dir: &Path, db: &str, forward: &str, envs: &[(&str, &str)]) -> (Child, String) {
    let mut child = command(dir, db, forward, envs)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line:?}");
    (child, base)
}

fn sigkill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}

#[test]
fn forward_json_errors_stop_the_start_and_name_path_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let run = |forward: &str| {
        let db = dir.path().join("p.db").display().to_string();
        let out = command(dir.path(), &db, forward, &[])
            .env_remove("HOOK_SECRET")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let file = dir.path().join("forward.json").display().to_string();
    let (code, err) = run(
        r#"{ "webhooks": [{ "url": "https://crm.example.com/h", "secret": "env:HOOK_SECRET" }] }"#,
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&format!(
            "{file}: webhooks[0].secret: environment variable HOOK_SECRET is not set"
        )),
        "{err}"
    );
    let (code, err) = run(r#"{ "segment": { "writeKey": "k", "urll": "https://x.example" } }"#);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&format!("{file}: segment.urll: unknown field `urll`")),
        "{err}"
    );
    let (code, err) =
        run(r#"{ "webhooks": [{ "url": "https://crm.example.com/h", "secret": "whsec_short" }] }"#);
    assert_eq!(code, Some(2));
    assert!(err.contains("webhooks[0].secret: "), "{err}");
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_retry_and_mid_delivery_loses_nothing(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let fake = Fake::start().await;
    // Phase 1: the receiver is down (503) while the collector retries.
    fake.set_plan(|_, _, _| Reply::Status(503, vec![]));
    let dir = tempfile::tempdir().unwrap();
    let location = fresh_db(engine, dir.path()).await;
    let db = db_arg(&location);
    let forward = json!({ "webhooks": [{ "url": format!("{}/hook", fake.base), "secret": "env:HOOK_SECRET" }] }).to_string();
    let envs = [("HOOK_SECRET", WHSEC)];
    let (mut child, base) = start(dir.path(), &db, &forward, &envs);
    let client = client();
    let mut expected = HashSet::new();
    for n in 0..40 {
        let (user, id) = (format!("user-{}", n % 8), format!("a{n}"));
        expected.insert(common::fakes::webhook_key(&user, &id));
        let r = client
            .post(format!("{base}/v1/answers"))
            .json(&envelope(
                &user,
                vec![answered(&id, "name", json!(format!("N{n}")))],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // Every user's first answer has been retried at least twice: kill it mid-retry.
    fake.wait_until("retries", |f| {
        let seen = f.seen("webhook");
        let mut tries: HashMap<&str, usize> = HashMap::new();
        for s in &seen {
            *tries.entry(s.key.as_str()).or_default() += 1;
        }
        tries.values().filter(|&&n| n >= 2).count() >= 8
    })
    .await;
    sigkill(&mut child);
    let before_kill = fake.seen("webhook").len();

    // Phase 2: the receiver is back but slow (each 2xx takes 40 ms); the
    // collector restarts on the same database and is killed again mid-flow.
    fake.set_plan(|_, _, _| Reply::SlowOk(Duration::from_millis(40)));
    let (mut child, _base) = start(dir.path(), &db, &forward, &envs);
    fake.wait_until("some deliveries", |f| f.accepted("webhook").len() >= 10)
        .await;
    sigkill(&mut child);

    // Phase 3: restart once more and let it finish.
    fake.set_plan(|_, _, _| Reply::Status(200, vec![]));
    let (mut child, _base) = start(dir.path(), &db, &forward, &envs);
    fake.wait_until("every answer delivered", |f| {
        let got: HashSet<String> = f
            .accepted("webhook")
            .iter()
            .map(|s| s.key.clone())
            .collect();
        got == expected
    })
    .await;
    let left = || query_count(&location, "SELECT count(*) FROM deliveries", &[]);
    for _ in 0..300 {
        if left().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let left = left().await;
    assert_eq!(left, 0, "outbox drained");
    sigkill(&mut child);

    let accepted = fake.accepted("webhook");
    let distinct: HashSet<&str> = accepted.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        distinct.len(),
        expected.len(),
        "after dedupe by webhook-id: each answer once"
    );
    eprintln!(
        "FIGURES SIGKILL ({:?}): {} answers, {} requests ({} x 503 before the first kill), {} accepted, {} repeats the receiver dropped by webhook-id, 0 lost",
        engine,
        expected.len(),
        fake.seen("webhook").len(),
        before_kill,
        accepted.len(),
        accepted.len() - distinct.len()
    );
}
