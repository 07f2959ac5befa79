//! The real `trickle-collector` binary: flags, environment, exit codes, secure
//! defaults, and a SIGTERM in the middle of a stream of posts that loses no
//! acknowledged answer.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use trickle_collector::auth::Secret;

const BIN: &str = env!("CARGO_BIN_EXE_trickle-collector");

struct Running {
    child: Child,
    base: String,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts the binary with `args` on an ephemeral loopback port and reads the
/// address it prints.
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Running {
    spawn_logging(args, envs, Stdio::null())
}

/// The same, with its stderr (the logs) going to `logs`.
fn spawn_logging(args: &[&str], envs: &[(&str, &str)], logs: Stdio) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, CONFIG).unwrap();
    let db = dir.path().join("nested-does-not-matter.db");
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("TRICKLE_SECRET")
        .env_remove("TRICKLE_ADMIN_TOKEN")
        .env_remove("TRICKLE_ALLOWED_ORIGINS")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(logs);
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("spawn trickle-collector");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "unexpected first line {line:?}"
    );
    Running {
        child,
        base,
        db,
        _dir: dir,
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("collector did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_a_stream_of_posts_loses_no_acknowledged_answer() {
    let secret = "term-secret";
    let mut running = spawn(&[], &[("TRICKLE_SECRET", secret)]);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (url, acked) = (format!("{}/v1/answers", running.base), Arc::clone(&acked));
        clients.push(tokio::spawn(async move {
            let client = client();
            let user = format!("user-{c}");
            let hash = Secret::new(secret).sign(&user);
            for n in 0..100_000 {
                let id = format!("c{c}-n{n}");
                let body = signed_envelope(
                    &user,
                    &hash,
                    vec![answered(&id, "name", json!(format!("N{n}")))],
                );
                match client.post(&url).json(&body).send().await {
                    Ok(response) if response.status() == StatusCode::OK => {
                        acked.lock().unwrap().push(id)
                    }
                    // A refusal while shutting down, or the connection closing: stop.
                    Ok(_) | Err(_) => return n,
                }
            }
            100_000
        }));
    }
    // Let the posts flow, then stop the server underneath them.
    let flowing = Instant::now();
    while acked.lock().unwrap().len() < 50 && flowing.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sigterm(&running.child);
    let status = tokio::task::spawn_blocking(move || {
        let status = wait_exit(&mut running.child, Duration::from_secs(15));
        (status, running)
    })
    .await
    .unwrap();
    let (status, running) = status;
    assert!(status.success(), "exit status {status:?}");
    for client in clients {
        client.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!("{} answers acknowledged before SIGTERM", acked.len());
    assert!(
        acked.len() >= 50,
        "only {} answers were acknowledged before SIGTERM",
        acked.len()
    );
    let stored = all_answer_ids(&Location::Sqlite(running.db.clone())).await;
    let missing: Vec<_> = acked
        .iter()
        .filter(|id| stored.binary_search(id).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged answers lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test]
async fn the_environment_sets_secret_admin_token_and_allowed_origins() {
    let mut running = spawn(
        &[],
        &[
            ("TRICKLE_SECRET", "env-secret"),
            ("TRICKLE_ADMIN_TOKEN", "env-admin"),
            ("TRICKLE_ALLOWED_ORIGINS", "https://app.example.com"),
        ],
    );
    let client = client();
    let url = format!("{}/v1/answers", running.base);
    let unsigned = envelope("env-user", vec![answered("env1", "name", json!("Ada"))]);
    assert_eq!(
        client
            .post(&url)
            .json(&unsigned)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let hash = Secret::new("env-secret").sign("env-user");
    let signed = signed_envelope(
        "env-user",
        &hash,
        vec![answered("env1", "name", json!("Ada"))],
    );
    let response = client
        .post(&url)
        .header("origin", "https://app.example.com")
        .json(&signed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let export = client
        .get(format!("{}/v1/export.csv", running.base))
        .bearer_auth("env-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    assert!(export.text().await.unwrap().contains("env-user,Ada"));
    sigterm(&running.child);
    assert!(wait_exit(&mut running.child, Duration::from_secs(10)).success());
    assert_eq!(
        answer_rows(&Location::Sqlite(running.db.clone()), "env1").await,
        1
    );
}

#[test]
fn a_bad_config_stops_the_binary_with_the_path_of_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let mut broken: serde_json::Value = serde_json::from_str(CONFIG).unwrap();
    broken["stages"][2]["questions"][1]["options"] = json!([]);
    std::fs::write(&config, broken.to_string()).unwrap();
    let output = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("p.db"))
        .args(["--listen", "127.0.0.1:0", "--dev"])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("stages[2].questions[1].options"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("p.db").exists(),
        "no database is created for a refused config"
    );
}

#[test]
fn a_bad_origin_list_stops_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, CONFIG).unwrap();
    let output = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("p.db"))
        .args(["--allowed-origins", "https://app.example.com/path", "--dev"])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("https://app.example.com/path"));
}

#[tokio::test]
async fn logs_are_one_json_object_per_line_with_a_line_per_request() {
    let logs = tempfile::NamedTempFile::new().unwrap();
    let mut running = spawn_logging(
        &[],
        &[("RUST_LOG", "info"), ("TRICKLE_SECRET", "log-secret")],
        Stdio::from(logs.reopen().unwrap()),
    );
    let response = client()
        .get(format!("{}/healthz", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    sigterm(&running.child);
    assert!(wait_exit(&mut running.child, Duration::from_secs(10)).success());
    let text = std::fs::read_to_string(logs.path()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"listening"), "{messages:?}");
    assert!(messages.contains(&"stopped"), "{messages:?}");
    let request = lines
        .iter()
        .find(|l| l["fields"]["message"] == "finished processing request")
        .unwrap_or_else(|| panic!("no request line in {text}"));
    assert_eq!(request["fields"]["status"], 200);
    assert_eq!(request["span"]["uri"], "/healthz");
}

/// Runs the binary to completion (it is expected to refuse to start).
fn run_refused(args: &[&str], envs: &[(&str, &str)]) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, CONFIG).unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("p.db"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("TRICKLE_SECRET")
        .env("RUST_LOG", "off");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (output, dir)
}

#[test]
fn without_a_secret_and_without_dev_the_binary_refuses_to_start_naming_both_ways_out() {
    for envs in [vec![], vec![("TRICKLE_SECRET", "")]] {
        let (output, dir) = run_refused(&[], &envs);
        assert_eq!(output.status.code(), Some(2), "{envs:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("TRICKLE_SECRET") && stderr.contains("--dev"),
            "{envs:?}: {stderr}"
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).is_empty(),
            "it never listened"
        );
        assert!(
            !dir.path().join("p.db").exists(),
            "no database is created when refusing to start"
        );
    }
}

fn warnings_in(logs: &str) -> Vec<String> {
    logs.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["level"] == "WARN")
        .filter_map(|line| line["fields"]["message"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn with_dev_and_no_secret_it_starts_and_warns_on_every_start_that_posts_and_reads_are_open() {
    for start in 0..2 {
        let logs = tempfile::NamedTempFile::new().unwrap();
        let mut running = spawn_logging(
            &["--dev"],
            &[("RUST_LOG", "warn")],
            Stdio::from(logs.reopen().unwrap()),
        );
        // Unsigned posts and reads work: that is what the warning is about.
        let client = client();
        let body = envelope("dev-user", vec![answered("dev1", "name", json!("Ada"))]);
        let post = client
            .post(format!("{}/v1/answers", running.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::OK);
        let read = client
            .get(format!("{}/v1/profiles/dev-user", running.base))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::OK);
        sigterm(&running.child);
        assert!(wait_exit(&mut running.child, Duration::from_secs(10)).success());

        let text = std::fs::read_to_string(logs.path()).unwrap();
        let warning = warnings_in(&text)
            .into_iter()
            .find(|w| w.contains("--dev"))
            .unwrap_or_else(|| panic!("start {start}: no --dev warning in {text}"));
        for needle in [
            "posts",
            "profile reads",
            "unauthenticated",
            "any user",
            "personal data",
        ] {
            assert!(
                warning.contains(needle),
                "start {start}: {needle:?} missing: {warning}"
            );
        }
    }
}

#[tokio::test]
async fn with_dev_and_a_secret_the_secret_is_checked_and_nothing_warns_about_it() {
    let logs = tempfile::NamedTempFile::new().unwrap();
    let mut running = spawn_logging(
        &["--dev"],
        &[("RUST_LOG", "warn"), ("TRICKLE_SECRET", "dev-secret")],
        Stdio::from(logs.reopen().unwrap()),
    );
    let client = client();
    let body = envelope("dev-user", vec![answered("dev2", "name", json!("Ada"))]);
    let unsigned = client
        .post(format!("{}/v1/answers", running.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let read = client
        .get(format!("{}/v1/profiles/dev-user", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::UNAUTHORIZED);
    let hash = Secret::new("dev-secret").sign("dev-user");
    let signed = signed_envelope(
        "dev-user",
        &hash,
        vec![answered("dev2", "name", json!("Ada"))],
    );
    let post = client
        .post(format!("{}/v1/answers", running.base))
        .json(&signed)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);
    sigterm(&running.child);
    assert!(wait_exit(&mut running.child, Duration::from_secs(10)).success());
    let text = std::fs::read_to_string(logs.path()).unwrap();
    assert!(
        !warnings_in(&text)
            .iter()
            .any(|w| w.contains("unauthenticated")),
        "{text}"
    );
}

#[tokio::test]
async fn the_idle_timeout_flag_closes_an_idle_keep_alive_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut running = spawn(&["--dev", "--idle-timeout", "0.3"], &[]);
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the idle connection was still open after 5 s"
    );
    assert!(
        String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    sigterm(&running.child);
    assert!(wait_exit(&mut running.child, Duration::from_secs(10)).success());
}

#[test]
fn a_bad_idle_timeout_stops_the_binary() {
    for value in ["0", "-1", "NaN"] {
        let flag = format!("--idle-timeout={value}");
        let (output, _dir) = run_refused(&["--dev", &flag], &[]);
        assert_eq!(output.status.code(), Some(2), "{value}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("--idle-timeout"),
            "{value}"
        );
    }
}
