//! The two stores side by side, and what only PostgreSQL has: several
//! collectors on one database.
//!
//! - SQLite and PostgreSQL fed the same answers give the same profiles, prompt
//!   state, answer lists and export.
//! - PostgreSQL migrations run once when collectors start together; a database
//!   from a newer collector is refused.
//! - Two collectors on one database receiving the same answers concurrently store
//!   each once; their claims of the outbox never hand one delivery to both.
//! - The database stopped and started mid-run loses no acknowledged answer, and
//!   `/healthz` follows it down and back up.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use trickle_collector::profile::StoredAnswer;
use trickle_collector::store::{NewAnswers, Store, StoreError};

fn answer(id: &str, field: &str, status: &str, value: Option<Value>, at: &str) -> StoredAnswer {
    let (question, stage) = match field {
        "name" => ("name", "basics"),
        "company.role" => ("role", "basics"),
        "company.size" => ("size", "company"),
        "contact.phone" => ("phone", "contact"),
        "interests" => ("topics", "company"),
        other => panic!("no fixture field {other}"),
    };
    StoredAnswer {
        id: id.into(),
        question_id: question.into(),
        stage: stage.into(),
        field: field.into(),
        status: serde_json::from_value(json!(status)).unwrap(),
        value,
        other: false,
        answered_at: at.into(),
        logins_count: 3,
    }
}

fn batch(user: &str, answers: Vec<StoredAnswer>) -> NewAnswers {
    NewAnswers {
        user_id: user.into(),
        answers,
        context: r#"{"url":"https://app.example.com/"}"#.into(),
        forward_to: Vec::new(),
    }
}

/// A script of batches touching every rule: late and future-dated answers,
/// declines lifted by answers, snoozes, duplicates, a conflict, lists, numbers,
/// user ids that sort differently under a locale than by bytes.
fn script() -> Vec<NewAnswers> {
    vec![
        batch(
            "auth0|ada",
            vec![
                answer(
                    "a1",
                    "name",
                    "answered",
                    Some(json!("Ada")),
                    "2026-11-30T15:00:00.000Z",
                ),
                answer(
                    "a2",
                    "company.role",
                    "answered",
                    Some(json!("senior")),
                    "2026-11-30T15:00:01.000Z",
                ),
                answer(
                    "a3",
                    "company.size",
                    "answered",
                    Some(json!(42)),
                    "2026-11-30T15:00:02.000Z",
                ),
            ],
        ),
        // Late: an older name arrives after the newer one and must not win.
        batch(
            "auth0|ada",
            vec![answer(
                "a0",
                "name",
                "answered",
                Some(json!("Old Ada")),
                "2026-11-29T10:00:00.000Z",
            )],
        ),
        // Far future: clamped to when it arrived.
        batch(
            "Zed",
            vec![answer(
                "z1",
                "name",
                "answered",
                Some(json!("Pinned")),
                "9999-12-31T00:00:00.000Z",
            )],
        ),
        batch(
            "Zed",
            vec![
                answer(
                    "z2",
                    "contact.phone",
                    "declined",
                    None,
                    "2026-11-30T15:00:00.000Z",
                ),
                answer(
                    "z3",
                    "company.size",
                    "snoozed",
                    None,
                    "2026-11-30T15:00:00.000Z",
                ),
                answer(
                    "z4",
                    "interests",
                    "answered",
                    Some(json!(["api", "reports"])),
                    "2026-11-30T15:00:00.000Z",
                ),
            ],
        ),
        // A decline lifted by a later answer.
        batch(
            "bob",
            vec![answer(
                "b1",
                "contact.phone",
                "declined",
                None,
                "2026-11-30T15:00:00.000Z",
            )],
        ),
        batch(
            "bob",
            vec![answer(
                "b2",
                "contact.phone",
                "answered",
                Some(json!("+49 30 1234")),
                "2026-11-30T16:00:00.000Z",
            )],
        ),
        // A duplicate (same content) and the same id for another user.
        batch(
            "bob",
            vec![answer(
                "b2",
                "contact.phone",
                "answered",
                Some(json!("+49 30 1234")),
                "2026-11-30T16:00:00.000Z",
            )],
        ),
        batch(
            "ännchen",
            vec![answer(
                "b2",
                "name",
                "answered",
                Some(json!("Ännchen")),
                "2026-11-30T16:00:00.000Z",
            )],
        ),
        // A conflict: refused whole, the fresh answer beside it included.
        batch(
            "bob",
            vec![
                answer(
                    "b3",
                    "name",
                    "answered",
                    Some(json!("Robert")),
                    "2026-11-30T17:00:00.000Z",
                ),
                answer(
                    "b2",
                    "contact.phone",
                    "answered",
                    Some(json!("+1 555")),
                    "2026-11-30T16:00:00.000Z",
                ),
            ],
        ),
        batch(
            "_underscore",
            vec![answer(
                "u1",
                "name",
                "answered",
                Some(json!(2.5)),
                "2026-11-30T15:00:00.000Z",
            )],
        ),
    ]
}

/// What a store gives back, without the times it received things (the two
/// stores ran at different moments).
async fn observed(store: &Store, users: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for user in users {
        let record = store.user(user).await.unwrap().unwrap();
        let answers: Vec<Value> = record
            .answers
            .iter()
            .map(|a| serde_json::to_value(&a.answer).unwrap())
            .collect();
        out.insert(
            (*user).into(),
            json!({
                "profile": record.doc.profile,
                "declined": record.doc.declined.keys().collect::<Vec<_>>(),
                "snoozed": record.doc.snoozed.values().map(|s| json!([s.stage, s.logins_count])).collect::<Vec<_>>(),
                "answers": answers,
            }),
        );
    }
    let export: Vec<Value> = store
        .export()
        .await
        .unwrap()
        .iter()
        .map(|row| {
            json!([
                row.user_id,
                row.doc.profile,
                row.doc.declined.keys().collect::<Vec<_>>()
            ])
        })
        .collect();
    out.insert("export".into(), Value::Array(export));
    Value::Object(out)
}

#[tokio::test]
async fn sqlite_and_postgres_fed_the_same_answers_agree_on_profiles_answers_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for engine in [Sqlite, Postgres] {
        let (store, _) = open_store(engine, dir.path()).await;
        let mut outcomes = Vec::new();
        for b in script() {
            outcomes.push(match store.record(b).await {
                Ok(r) => format!("stored {} duplicates {}", r.stored, r.duplicates),
                Err(StoreError::IdConflict { index }) => format!("conflict at {index}"),
                Err(e) => panic!("{engine:?}: {e}"),
            });
        }
        let users = ["auth0|ada", "Zed", "bob", "ännchen", "_underscore"];
        seen.push((engine, outcomes, observed(&store, &users).await));
        store.close();
    }
    let (_, sqlite_outcomes, sqlite) = &seen[0];
    let (_, postgres_outcomes, postgres) = &seen[1];
    assert_eq!(sqlite_outcomes, postgres_outcomes);
    assert_eq!(sqlite, postgres);
    // And the script did what it says (so agreeing is not agreeing on nothing).
    assert_eq!(sqlite_outcomes[6], "stored 0 duplicates 1");
    assert_eq!(sqlite_outcomes[8], "conflict at 1");
    assert_eq!(sqlite["auth0|ada"]["profile"]["name"], "Ada");
    assert_eq!(sqlite["bob"]["profile"]["contact"]["phone"], "+49 30 1234");
    assert_eq!(sqlite["bob"]["declined"], json!([]));
    assert_eq!(sqlite["Zed"]["declined"], json!(["contact.phone"]));
    let order: Vec<&str> = sqlite["export"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["Zed", "_underscore", "auth0|ada", "bob", "ännchen"],
        "byte order on both"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_migrations_run_once_when_collectors_start_together() {
    let url = pg::fresh_database().await;
    let location = Location::Postgres(url.clone());
    let mut starts = Vec::new();
    for _ in 0..4 {
        let location = location.clone();
        starts.push(tokio::spawn(async move { Store::connect(&location).await }));
    }
    for start in starts {
        start.await.unwrap().expect("every collector starts");
    }
    let client = pg::connect(&url).await;
    let version: i64 = client
        .query_one("SELECT version FROM schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 3);
    let rows = client
        .query("SELECT count(*) FROM schema_version", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 1, "one version row");
    let tables: Vec<String> = client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        [
            "answers",
            "deliveries",
            "forward_log",
            "profiles",
            "schema_version",
            "sinks"
        ]
    );
}

#[tokio::test]
async fn a_postgres_database_from_a_newer_collector_is_refused() {
    let url = pg::fresh_database().await;
    let location = Location::Postgres(url.clone());
    Store::connect(&location).await.unwrap().close();
    pg::connect(&url)
        .await
        .batch_execute("UPDATE schema_version SET version = 99")
        .await
        .unwrap();
    match Store::connect(&location).await {
        Err(StoreError::TooNew { found: 99, known }) => assert_eq!(known, 3),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer database was opened"),
    }
}

#[tokio::test]
async fn an_unreachable_or_malformed_postgres_url_fails_the_start_with_a_clear_error() {
    // Nothing listens on port 1 of loopback: refused at once.
    let refused = Store::connect(&Location::Postgres(
        "postgres://nobody@127.0.0.1:1/none".into(),
    ))
    .await;
    match refused {
        Err(StoreError::Database(e)) => {
            let text = e.to_string();
            assert!(!text.is_empty());
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("connected to nothing"),
    }
    let malformed = Store::connect(&Location::Postgres(
        "postgres://u@127.0.0.1:notaport/db".into(),
    ))
    .await;
    match malformed {
        Err(StoreError::Config(message)) => {
            assert!(message.contains("not a usable PostgreSQL URL"), "{message}")
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a malformed URL was used"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_collectors_on_one_postgres_database_store_each_concurrent_answer_once() {
    let db = Location::Postgres(pg::fresh_database().await);
    let one = Server::start_at(db.clone(), settings(), tempfile::tempdir().unwrap()).await;
    let two = Server::start_at(db.clone(), settings(), tempfile::tempdir().unwrap()).await;
    const USERS: usize = 20;
    const PER_USER: usize = 10;
    // Every answer goes to both collectors at once, from separate clients.
    let mut tasks = Vec::new();
    for u in 0..USERS {
        for n in 0..PER_USER {
            let body = envelope(
                &format!("user-{u}"),
                vec![answered(
                    &format!("u{u}-a{n}"),
                    "name",
                    json!(format!("N{n}")),
                )],
            );
            for base in [one.url("/v1/answers"), two.url("/v1/answers")] {
                let body = body.clone();
                tasks.push(tokio::spawn(async move {
                    let response = client().post(base).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    response.json::<Value>().await.unwrap()
                }));
            }
        }
    }
    let (mut stored, mut duplicates) = (0, 0);
    for task in tasks {
        let body = task.await.unwrap();
        stored += body["stored"].as_u64().unwrap();
        duplicates += body["duplicates"].as_u64().unwrap();
    }
    let total = (USERS * PER_USER) as u64;
    assert_eq!((stored, duplicates), (total, total));
    assert_eq!(
        query_count(&db, "SELECT count(*) FROM answers", &[]).await,
        total as i64
    );
    // Both collectors read the same profiles, each with every answer once.
    for u in 0..USERS {
        let path = format!("/v1/profiles/user-{u}");
        let a: Value = client()
            .get(one.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let b: Value = client()
            .get(two.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a["answers"].as_array().unwrap().len(), PER_USER);
    }
    one.stop().await;
    two.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_from_two_collectors_never_hand_one_delivery_to_both_and_keep_each_users_order() {
    let db = Location::Postgres(pg::fresh_database().await);
    let one = Store::connect(&db).await.unwrap();
    let two = Store::connect(&db).await.unwrap();
    const SINK: &str = "webhook:http://127.0.0.1:9/hook";
    const USERS: usize = 30;
    const PER_USER: usize = 5;
    // Posts arrive through both collectors (a user's answers alternately through
    // one and the other) while both fan out and claim.
    let posting = {
        let (one, two) = (one.clone(), two.clone());
        tokio::spawn(async move {
            for n in 0..PER_USER {
                for u in 0..USERS {
                    let mut b = batch(
                        &format!("user-{u}"),
                        vec![answer(
                            &format!("a{n}"),
                            "name",
                            "answered",
                            Some(json!(n)),
                            "2026-11-30T15:00:00.000Z",
                        )],
                    );
                    b.forward_to = vec![SINK.into()];
                    let via = if (n + u) % 2 == 0 { &one } else { &two };
                    via.record(b).await.unwrap();
                }
            }
        })
    };
    let posted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Both collectors fan out, claim and complete as fast as they can, concurrently.
    let worker = |store: Store| {
        let posted = std::sync::Arc::clone(&posted);
        tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..5000 {
                store.fan_out(7).await.unwrap();
                let now = trickle_collector::store::unix_ms();
                let claimed = store.claim_due(SINK, now, 60_000, 4).await.unwrap();
                if claimed.is_empty() {
                    if posted.load(std::sync::atomic::Ordering::SeqCst)
                        && store.pending_count().await.unwrap() == 0
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                }
                for d in claimed {
                    got.push((d.user_id.clone(), d.answer_id.clone()));
                    store.mark_done(&d).await.unwrap();
                }
            }
            got
        })
    };
    let (a, b) = (worker(one.clone()), worker(two.clone()));
    posting.await.unwrap();
    posted.store(true, std::sync::atomic::Ordering::SeqCst);
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both collectors took part: {} and {}",
        a.len(),
        b.len()
    );
    let mut all: Vec<(String, String)> = a.iter().chain(&b).cloned().collect();
    let distinct: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(distinct.len(), all.len(), "a delivery was handed out twice");
    assert_eq!(all.len(), USERS * PER_USER);
    // Per user, each collector saw that user's answers in order; and since a
    // user's next delivery is claimable only once the previous one is done, the
    // union in completion order is in order too.
    for list in [&a, &b] {
        let mut last: HashMap<&str, &str> = HashMap::new();
        for (user, id) in list.iter() {
            if let Some(prev) = last.insert(user, id) {
                assert!(prev < id.as_str(), "{user}: {prev} then {id}");
            }
        }
    }
    all.sort();
    assert_eq!(
        all.first().unwrap(),
        &("user-0".to_string(), "a0".to_string())
    );
    one.close();
    two.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_and_started_mid_run_loses_no_acknowledged_answer() {
    let cluster = pg::PrivateCluster::start();
    let db = Location::Postgres(cluster.fresh_database("restart_test").await);
    let server = Server::start_at(db.clone(), settings(), tempfile::tempdir().unwrap()).await;
    let health = |server: &Server| {
        let url = server.url("/healthz");
        async move { client().get(url).send().await.unwrap().status() }
    };
    assert_eq!(health(&server).await, StatusCode::OK);

    // Four clients post answers one after another for the whole run, each
    // retrying a refused post (as the widget does) and keeping what was
    // acknowledged with a 200.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut posters = Vec::new();
    for c in 0..4 {
        let (url, stop) = (server.url("/v1/answers"), stop.clone());
        posters.push(tokio::spawn(async move {
            let http = client();
            let (mut acknowledged, mut refused) = (Vec::new(), 0u32);
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let id = format!("c{c}-{n}");
                let body = envelope(&format!("user-{c}"), vec![answered(&id, "name", json!(id))]);
                match http.post(&url).json(&body).send().await {
                    Ok(r) if r.status() == StatusCode::OK => {
                        acknowledged.push(id);
                        n += 1;
                    }
                    Ok(r) => {
                        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => panic!("the collector went away: {e}"),
                }
            }
            (acknowledged, refused)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::block_in_place(|| cluster.stop());
    let down = health(&server).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::block_in_place(|| cluster.restart());
    let mut up = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..100 {
        up = health(&server).await;
        if up == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut acknowledged, mut refused) = (Vec::new(), 0);
    for poster in posters {
        let (ids, r) = poster.await.unwrap();
        acknowledged.extend(ids);
        refused += r;
    }
    assert_eq!(
        down,
        StatusCode::SERVICE_UNAVAILABLE,
        "healthz while the database is down"
    );
    assert_eq!(up, StatusCode::OK, "healthz once it is back");
    assert!(refused > 0, "the posts really met the outage");
    let stored: HashSet<String> = all_answer_ids(&db).await.into_iter().collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    eprintln!(
        "FIGURES PG RESTART: {} answers acknowledged, {} posts refused with 503 during the outage, 0 lost",
        acknowledged.len(),
        refused
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_on_a_postgres_url_from_trickle_db_and_never_logs_its_password() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    const BIN: &str = env!("CARGO_BIN_EXE_trickle-collector");
    let url = pg::fresh_database().await;
    // The test cluster trusts loopback: any password gets in, so one can be shown.
    let mut with_password = url::Url::parse(&url).unwrap();
    with_password.set_password(Some("hunter2-secret")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, CONFIG).unwrap();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--dev"])
        .env("TRICKLE_DB", with_password.as_str())
        .env("RUST_LOG", "info")
        .env_remove("TRICKLE_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line:?}");
    let body = envelope("bin-user", vec![answered("bin-1", "name", json!("Ada"))]);
    let response = client()
        .post(format!("{base}/v1/answers"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::block_in_place(|| child.wait()).unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(!logs.contains("hunter2-secret"), "{logs}");
    assert!(
        logs.contains(":***@127.0.0.1"),
        "the database is named: {logs}"
    );
    assert_eq!(
        answer_rows(&Location::Postgres(url.clone()), "bin-1").await,
        1
    );

    // The outbox commands take the same URL (here from --db).
    let listing = Command::new(BIN)
        .args(["forward", "--failed", "--db", &url])
        .env_remove("TRICKLE_DB")
        .output()
        .unwrap();
    assert!(listing.status.success(), "{listing:?}");
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).lines().next(),
        Some("seq\tsink\tuserId\tanswerId\tattempts\tqueuedAt\tlastError")
    );
}

#[tokio::test]
async fn sslmode_require_asks_for_tls_and_a_server_without_it_is_refused() {
    // The test cluster has no TLS: a URL that requires it must not fall back to
    // plain text, and one that does not ask for it connects.
    let url = pg::fresh_database().await;
    let required = format!("{url}?sslmode=require");
    match Store::connect(&Location::Postgres(required)).await {
        Err(StoreError::Database(e)) => {
            let text = format!("{e:?}").to_ascii_lowercase();
            assert!(text.contains("tls"), "{text}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("connected without TLS although the URL requires it"),
    }
    Store::connect(&Location::Postgres(url))
        .await
        .unwrap()
        .close();
}

#[tokio::test]
async fn a_self_signed_postgres_certificate_is_refused_under_sslmode_require_and_prefer() {
    let cluster = pg::PrivateCluster::start_with_self_signed_tls();
    let url = cluster.fresh_database("tls_test").await;
    for mode in ["require", "prefer"] {
        match Store::connect(&Location::Postgres(format!("{url}?sslmode={mode}"))).await {
            Err(StoreError::Database(e)) => {
                let text = format!("{e:?}").to_ascii_lowercase();
                assert!(text.contains("certificate"), "{mode}: {text}");
            }
            Err(e) => panic!("{mode}: wrong error: {e}"),
            Ok(_) => panic!("{mode}: a self-signed certificate was accepted"),
        }
    }
    // Without sslmode: no TLS, as documented.
    Store::connect(&Location::Postgres(url))
        .await
        .unwrap()
        .close();
}
