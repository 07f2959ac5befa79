//! Helpers shared by the integration tests: a real collector on a loopback port
//! with a fresh database, and envelope builders.

#![allow(dead_code)] // each test file uses a different subset

pub mod fakes;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use trickle_collector::store::Store;
use trickle_collector::{AppState, Settings};

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
    /// The database file.
    pub db: PathBuf,
    /// Holds the temporary directory (and database) alive.
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Starts on a fresh database.
    pub async fn start(settings: Settings) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(settings, dir).await
    }

    /// Starts on `dir/profiles.db` (which may already hold data).
    pub async fn start_in(settings: Settings, dir: tempfile::TempDir) -> Server {
        let db = dir.path().join("profiles.db");
        let store = Store::open(&db).expect("open store");
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

/// Rows in the answers table, read straight from the database file.
pub fn answer_rows(db: &Path, id: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open db");
    conn.query_row("SELECT count(*) FROM answers WHERE id = ?1", [id], |row| {
        row.get(0)
    })
    .expect("count")
}

/// All answer ids in the database.
pub fn all_answer_ids(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).expect("open db");
    let mut stmt = conn
        .prepare("SELECT id FROM answers ORDER BY id")
        .expect("prepare");
    let ids = stmt
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<Vec<String>, _>>();
    ids.expect("rows")
}
