//! Helpers shared by the integration tests: a real collector on a loopback port
//! with a fresh database of either engine, queries straight into that database,
//! and envelope builders.
//!
//! PostgreSQL: with `TRICKLE_TEST_POSTGRES` set (`scripts/test.sh` sets it, via
//! `scripts/pg-cluster.sh run`), each test gets a new database on that server;
//! without it, the first test that needs PostgreSQL starts a private cluster
//! (`scripts/pg-cluster.sh start`, stopped and removed once this test process
//! ends). No PostgreSQL binaries: those tests fail, saying how to get them.

#![allow(dead_code)] // each test file uses a different subset

pub mod fakes;
pub mod pg;

use std::path::Path;

use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
pub use trickle_collector::store::Location;
use trickle_collector::store::Store;
use trickle_collector::{AppState, Settings};

/// The database engine a test runs on (`#[values(Sqlite, Postgres)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file in the test's temporary directory.
    Sqlite,
    /// A new database on the test PostgreSQL server.
    Postgres,
}

#[allow(unused_imports)] // not every test file names both
pub use Engine::{Postgres, Sqlite};

/// A fresh, empty database of `engine` (a file under `dir` for SQLite).
pub async fn fresh_db(engine: Engine, dir: &Path) -> Location {
    match engine {
        Engine::Sqlite => Location::Sqlite(dir.join("profiles.db")),
        Engine::Postgres => Location::Postgres(pg::fresh_database().await),
    }
}

/// A fresh store of `engine`, kept in `dir`.
pub async fn open_store(engine: Engine, dir: &Path) -> (Store, Location) {
    let db = fresh_db(engine, dir).await;
    let store = Store::connect(&db).await.expect("open store");
    (store, db)
}

/// The fixture config's text.
pub const CONFIG: &str = include_str!("../fixtures/config.json");

/// The fixture config, validated by the collector's own loader.
pub fn settings() -> Settings {
    Settings::new(
        trickle_collector::validate::load_config(CONFIG).expect("fixture config is valid"),
    )
}

/// A collector serving in this process on 127.0.0.1 with its own database.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The database (also what `--db` of the binary takes: [`Server::db_arg`]).
    pub db: Location,
    /// Holds the temporary directory (and a SQLite database) alive.
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Starts on a fresh database of `engine`.
    pub async fn start(engine: Engine, settings: Settings) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = fresh_db(engine, dir.path()).await;
        Self::start_at(db, settings, dir).await
    }

    /// Starts on `db` (which may already hold data, or be another collector's).
    pub async fn start_at(db: Location, settings: Settings, dir: tempfile::TempDir) -> Server {
        let store = Store::connect(&db).await.expect("open store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let state = AppState::new(settings, store);
        let task = tokio::spawn(trickle_collector::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Server {
            base,
            db,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The database as the binary's `--db` takes it.
    pub fn db_arg(&self) -> String {
        db_arg(&self.db)
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Graceful stop; returns the directory so a test can restart on it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
        self.dir
    }
}

/// A client that keeps no connection pool between tests' servers.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

/// One answered answer for the fixture config.
pub fn answered(id: &str, question: &str, value: Value) -> Value {
    let (stage, field) = question_meta(question);
    json!({
        "id": id,
        "questionId": question,
        "stage": stage,
        "field": field,
        "status": "answered",
        "value": value,
        "other": false,
        "answeredAt": "2026-11-30T15:00:00.000Z",
        "loginsCount": 3
    })
}

/// A decline or snooze (`status`) of `question`.
pub fn without_value(id: &str, question: &str, status: &str) -> Value {
    let (stage, field) = question_meta(question);
    json!({
        "id": id,
        "questionId": question,
        "stage": stage,
        "field": field,
        "status": status,
        "other": false,
        "answeredAt": "2026-11-30T15:00:00.000Z",
        "loginsCount": 3
    })
}

fn question_meta(question: &str) -> (&'static str, &'static str) {
    match question {
        "name" => ("basics", "name"),
        "role" => ("basics", "company.role"),
        "email" => ("contact", "contact.email"),
        "phone" => ("contact", "contact.phone"),
        "size" => ("company", "company.size"),
        "topics" => ("company", "interests"),
        "founded" => ("company", "company.founded"),
        other => panic!("no fixture question {other}"),
    }
}

/// The posted body for `user` with `answers` (no hash).
pub fn envelope(user: &str, answers: Vec<Value>) -> Value {
    json!({
        "userId": user,
        "answers": answers,
        "context": { "url": "https://app.example.com/projects", "locale": "en", "widget": "trickle/0.1.0" }
    })
}

/// The same with a `userHash`.
pub fn signed_envelope(user: &str, hash: &str, answers: Vec<Value>) -> Value {
    let mut env = envelope(user, answers);
    env["userHash"] = json!(hash);
    env
}

/// `location` as the binary's `--db` takes it.
pub fn db_arg(location: &Location) -> String {
    match location {
        Location::Sqlite(path) => path.display().to_string(),
        Location::Postgres(url) => url.clone(),
    }
}

/// The first column of the rows `sql` selects, read straight from the database
/// (not through the collector), as text. `$1`, `$2`... work on both engines
/// (SQLite numbers `$N` parameters in order of appearance).
pub async fn query_texts(db: &Location, sql: &str, args: &[&str]) -> Vec<String> {
    match db {
        Location::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("open db");
            let mut stmt = conn.prepare(sql).expect("prepare");
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |row| {
                    let value: rusqlite::types::Value = row.get(0)?;
                    Ok(match value {
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                })
                .expect("query")
                .collect::<Result<Vec<String>, _>>();
            rows.expect("rows")
        }
        Location::Postgres(url) => {
            let client = pg::connect(url).await;
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
                .iter()
                .map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            client
                .query(sql, &params)
                .await
                .expect("query")
                .iter()
                .map(|row| match row.try_get::<_, String>(0) {
                    Ok(text) => text,
                    Err(_) => row.get::<_, i64>(0).to_string(),
                })
                .collect()
        }
    }
}

/// One integer `sql` selects (a count), read straight from the database.
pub async fn query_count(db: &Location, sql: &str, args: &[&str]) -> i64 {
    let rows = query_texts(db, sql, args).await;
    assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
    rows[0].parse().expect("an integer")
}

/// Rows in the answers table with answer id `id`.
pub async fn answer_rows(db: &Location, id: &str) -> i64 {
    query_count(db, "SELECT count(*) FROM answers WHERE id = $1", &[id]).await
}

/// All answer ids in the database, in byte order.
pub async fn all_answer_ids(db: &Location) -> Vec<String> {
    query_texts(db, "SELECT id FROM answers ORDER BY id", &[]).await
}

/// Deliveries with this status: `failed`, or `pending`: not done nor failed,
/// wherever they are (first in line, queued behind it, or still in the
/// forwarding log as one row per post).
pub async fn deliveries(db: &Location, status: &str) -> i64 {
    if status != "pending" {
        return query_count(
            db,
            "SELECT count(*) FROM deliveries WHERE status = $1",
            &[status],
        )
        .await;
    }
    let logged = match db {
        Location::Sqlite(_) => "json_array_length(answer_ids) * json_array_length(sink_ids)",
        Location::Postgres(_) => "cardinality(answer_ids) * cardinality(sink_ids)",
    };
    query_count(
        db,
        &format!(
            "SELECT (SELECT count(*) FROM deliveries WHERE status IN ('pending', 'queued'))
                  + (SELECT coalesce(sum({logged}), 0) FROM forward_log)"
        ),
        &[],
    )
    .await
}

/// SQLite's `answers` and `profiles` tables as of schema version 2, for tests that
/// build an older database by hand and migrate it.
pub const SQLITE_V2_ANSWERS_AND_PROFILES: &str = "CREATE TABLE answers (
    id TEXT NOT NULL, user_id TEXT NOT NULL, question_id TEXT NOT NULL,
    stage TEXT NOT NULL, field TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('answered', 'declined', 'snoozed')),
    value TEXT, other INTEGER NOT NULL DEFAULT 0, answered_at TEXT NOT NULL,
    logins_count INTEGER NOT NULL, context TEXT NOT NULL, received_at TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX answers_by_user ON answers (user_id, answered_at);
CREATE TABLE profiles (
    user_id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL, updated_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;";
