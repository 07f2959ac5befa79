//! The store on its own: jobs sharing one commit are isolated by savepoints, an
//! unreadable profile is rebuilt from the answers, and a version 1 database is
//! migrated without losing anything.

mod common;

use common::*;
use trickle_collector::profile::StoredAnswer;
use trickle_collector::store::{NewAnswers, Store, StoreError};

fn batch(user: &str, id: &str, name: &str, at: &str) -> NewAnswers {
    NewAnswers {
        user_id: user.into(),
        answers: vec![StoredAnswer {
            id: id.into(),
            question_id: "name".into(),
            stage: "basics".into(),
            field: "name".into(),
            status: trickle_core::answer::Status::Answered,
            value: Some(serde_json::json!(name)),
            other: false,
            answered_at: at.into(),
            logins_count: 1,
        }],
        context: "{}".into(),
        forward_to: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_rolled_back_alone_and_the_others_in_its_commit_stand() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let store = Store::open(&db).unwrap();
    // Make one particular insert fail, behind the store's back, after the row of
    // an earlier answer of the same job would have been written.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER fail_job_10 AFTER INSERT ON profiles WHEN NEW.user_id = 'user-10'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();

    // Queue many jobs at once so several share a commit with the failing one.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .record(batch(
                    &format!("user-{i}"),
                    &format!("job-{i}"),
                    "Ada",
                    "2026-11-30T15:00:00.000Z",
                ))
                .await
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if i == 10 {
            assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
        } else {
            assert_eq!(result.unwrap().stored, 1, "job {i}");
        }
    }
    store.close();
    let ids = all_answer_ids(&Location::Sqlite(db.clone())).await;
    assert!(
        !ids.contains(&"job-10".to_string()),
        "the failing job's answer row was rolled back with it"
    );
    assert_eq!(ids.len(), 19, "{ids:?}");
}

#[tokio::test]
async fn an_unreadable_profile_is_rebuilt_from_the_stored_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let store = Store::open(&db).unwrap();
    store
        .record(batch("u", "a1", "Old", "2026-11-30T15:00:00.000Z"))
        .await
        .unwrap();
    store
        .record(batch("u", "a2", "Newest", "2026-11-30T17:00:00.000Z"))
        .await
        .unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE profiles SET doc = 'not json'", [])
        .unwrap();
    // Reading and exporting work before any write repairs it.
    let user = store.user("u").await.unwrap().unwrap();
    assert_eq!(user.doc.get("name"), Some(&serde_json::json!("Newest")));
    let rows = store.export().await.unwrap();
    assert_eq!(rows[0].doc.get("name"), Some(&serde_json::json!("Newest")));

    // A late-arriving older answer: the rebuilt profile still holds the newest.
    let recorded = store
        .record(batch("u", "a3", "Middle", "2026-11-30T16:00:00.000Z"))
        .await
        .unwrap();
    assert_eq!(recorded.stored, 1);
    let user = store.user("u").await.unwrap().unwrap();
    assert_eq!(user.doc.get("name"), Some(&serde_json::json!("Newest")));
    assert_eq!(user.answers.len(), 3);
    store.close();
}

/// The schema of version 1, as that release created it.
const V1_SCHEMA: &str = "CREATE TABLE answers (
        id TEXT PRIMARY KEY NOT NULL,
        user_id TEXT NOT NULL,
        question_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        field TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('answered', 'declined', 'snoozed')),
        value TEXT,
        other INTEGER NOT NULL DEFAULT 0,
        answered_at TEXT NOT NULL,
        logins_count INTEGER NOT NULL,
        context TEXT NOT NULL,
        received_at TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX answers_by_user ON answers (user_id, answered_at);
    CREATE TABLE profiles (
        user_id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
    PRAGMA user_version = 1;";

#[tokio::test]
async fn a_version_1_database_is_migrated_keeping_its_answers_and_keyed_by_user_and_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        // Version 1 trusted a far-future answeredAt: its doc pins the name.
        conn.execute_batch(
            r#"INSERT INTO answers VALUES ('old-id', 'alice', 'name', 'basics', 'name', 'answered',
                 '"Pinned"', 0, '9999-12-31T00:00:00.000Z', 2, '{}', '2026-11-30T15:00:00.000Z');
               INSERT INTO profiles VALUES ('alice',
                 '{"profile":{"name":"Pinned"},"fieldTimes":{"name":"9999-12-31T00:00:00.000Z"},"declined":{},"snoozed":{}}',
                 '2026-11-30T15:00:00.000Z');"#,
        )
        .unwrap();
    }

    let store = Store::open(&db).unwrap();
    let alice = store.user("alice").await.unwrap().unwrap();
    assert_eq!(alice.answers.len(), 1);
    assert_eq!(alice.answers[0].answer.id, "old-id");
    assert_eq!(
        alice.answers[0].answer.answered_at,
        "9999-12-31T00:00:00.000Z"
    );
    assert_eq!(alice.answers[0].received_at, "2026-11-30T15:00:00.000Z");
    assert_eq!(alice.updated_at, "2026-11-30T15:00:00.000Z");
    // The profile was rebuilt with the clamp: the pin now counts as received.
    assert_eq!(
        alice.doc.field_times["name"], "2026-11-30T15:00:00.000Z",
        "profile not rebuilt by the migration"
    );

    // The same id again for alice with the same content: a duplicate.
    let mut again = batch("alice", "old-id", "Pinned", "9999-12-31T00:00:00.000Z");
    again.answers[0].logins_count = 2;
    let recorded = store.record(again).await.unwrap();
    assert_eq!((recorded.stored, recorded.duplicates), (0, 1));
    // The same id for bob: his own answer.
    let recorded = store
        .record(batch("bob", "old-id", "Bob", "2026-11-30T16:00:00.000Z"))
        .await
        .unwrap();
    assert_eq!((recorded.stored, recorded.duplicates), (1, 0));
    let bob = store.user("bob").await.unwrap().unwrap();
    assert_eq!(bob.doc.get("name"), Some(&serde_json::json!("Bob")));
    // A real answer given now wins over the migrated far-future one.
    let recorded = store
        .record(batch("alice", "new-id", "Real", "2026-12-01T00:00:00.000Z"))
        .await
        .unwrap();
    assert_eq!(recorded.stored, 1);
    let alice = store.user("alice").await.unwrap().unwrap();
    assert_eq!(alice.doc.get("name"), Some(&serde_json::json!("Real")));
    store.close();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'answers' AND sql IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        indexes,
        ["answers_by_user", "answers_report", "answers_report_day"]
    );
    assert_eq!(
        answer_rows(&Location::Sqlite(db.clone()), "old-id").await,
        2
    );
}

#[tokio::test]
async fn a_database_from_a_newer_collector_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("future.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    match Store::open(&db) {
        Err(StoreError::TooNew { found: 99, known }) => assert_eq!(known, 6),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer database was opened"),
    }
}

#[tokio::test]
async fn a_conflicting_job_is_rolled_back_alone_and_reports_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let store = Store::open(&db).unwrap();
    store
        .record(batch("u", "a1", "Ada", "2026-11-30T15:00:00.000Z"))
        .await
        .unwrap();
    let mut conflicting = batch("u", "fresh", "Bea", "2026-11-30T15:00:00.000Z");
    conflicting
        .answers
        .extend(batch("u", "a1", "Not Ada", "2026-11-30T15:00:00.000Z").answers);
    match store.record(conflicting).await {
        Err(StoreError::IdConflict { index: 1 }) => {}
        other => panic!("expected a conflict at index 1, got {other:?}"),
    }
    let user = store.user("u").await.unwrap().unwrap();
    assert_eq!(user.answers.len(), 1);
    assert_eq!(user.doc.get("name"), Some(&serde_json::json!("Ada")));
    store.close();
}

#[tokio::test]
async fn a_version_3_outbox_is_migrated_keeping_its_rows_their_order_and_sinks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v3.db");
    {
        // Version 3's outbox as it shipped (answers and profiles as of version 2).
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(&format!(
            "{SQLITE_V2_ANSWERS_AND_PROFILES}
            CREATE TABLE deliveries (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                sink TEXT NOT NULL,
                user_id TEXT NOT NULL,
                answer_id TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                next_at INTEGER NOT NULL,
                lease_until INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            ) STRICT;
            CREATE INDEX deliveries_due ON deliveries (sink, status, next_at);
            CREATE INDEX deliveries_in_order ON deliveries (sink, user_id, seq) WHERE status = 'pending';
            INSERT INTO deliveries (seq, sink, user_id, answer_id, status, attempts, created_at, next_at, last_error)
              VALUES (7, 'webhook:https://a.example/hook', 'alice', 'a1', 'pending', 0, 1000, 1000, NULL),
                     (9, 'segment', 'alice', 'a2', 'failed', 3, 1000, 1000, 'HTTP 400'),
                     (12, 'webhook:https://a.example/hook', 'alice', 'a3', 'pending', 0, 1000, 1000, NULL);
            PRAGMA user_version = 3;"
        ))
        .unwrap();
    }

    let store = Store::open(&db).unwrap();
    let failed = store.list_failed().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (
            failed[0].seq,
            failed[0].sink.as_str(),
            failed[0].answer_id.as_str()
        ),
        (9, "segment", "a2")
    );
    assert_eq!(failed[0].last_error, "HTTP 400");
    assert_eq!(store.pending_count().await.unwrap(), 2);
    // Only alice's oldest pending delivery to the webhook is handed out.
    let hook = "webhook:https://a.example/hook";
    let claimed = store.claim_due(hook, 2000, 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].seq, claimed[0].answer_id.as_str()), (7, "a1"));
    // A new answer's delivery comes after the migrated ones.
    let mut new = batch("alice", "a4", "Alice", "2026-11-30T15:00:00.000Z");
    new.forward_to = vec![hook.into(), "segment".into()];
    store.record(new).await.unwrap();
    assert_eq!(store.fan_out(100).await.unwrap(), 1, "one post logged");
    store.mark_done(&claimed[0]).await.unwrap();
    let next = store.claim_due(hook, 3000, 60_000, 10).await.unwrap();
    assert_eq!((next[0].seq, next[0].answer_id.as_str()), (12, "a3"));
    assert_eq!(next.len(), 1);
    let now = trickle_collector::store::unix_ms() + 1000;
    let segment = store.claim_due("segment", now, 60_000, 10).await.unwrap();
    assert_eq!(segment.len(), 1);
    assert!(segment[0].seq > 12, "new rows come after the migrated ones");
    assert_eq!(segment[0].answer_id, "a4");
    store.close();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
}
