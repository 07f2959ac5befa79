//! The forwarding outbox's structure on both stores: a post appends one log row,
//! the fan-out turns it into deliveries, only the first delivery in line of a
//! (sink, user) is claimable, and the next becomes claimable when it is done or
//! failed; log rows survive a restart; pending deliveries of an older database
//! are migrated into lines without loss.

mod common;

use std::time::Duration;

use common::*;
use rstest::rstest;
use trickle_collector::profile::StoredAnswer;
use trickle_collector::store::{unix_ms, Delivery, NewAnswers, Store};

const HOOK: &str = "webhook:https://a.example/hook";
const SEGMENT: &str = "segment";
const LEASE: i64 = 60_000;

fn post(user: &str, ids: &[&str], sinks: &[&str]) -> NewAnswers {
    NewAnswers {
        user_id: user.into(),
        answers: ids
            .iter()
            .map(|id| StoredAnswer {
                id: (*id).into(),
                question_id: "name".into(),
                stage: "basics".into(),
                field: "name".into(),
                status: trickle_core::answer::Status::Answered,
                value: Some(serde_json::json!(format!("value of {id}"))),
                other: false,
                answered_at: "2026-11-30T15:00:00.000Z".into(),
                logins_count: 1,
            })
            .collect(),
        context: "{}".into(),
        forward_to: sinks.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// (user, answer id) of each claimed delivery, in claim order.
fn names(claimed: &[Delivery]) -> Vec<(String, String)> {
    claimed
        .iter()
        .map(|d| (d.user_id.clone(), d.answer_id.clone()))
        .collect()
}

fn pair(user: &str, id: &str) -> (String, String) {
    (user.to_owned(), id.to_owned())
}

/// Claims everything due now for `sink`.
async fn claim(store: &Store, sink: &str) -> Vec<Delivery> {
    store.claim_due(sink, unix_ms(), LEASE, 100).await.unwrap()
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_is_logged_once_and_fanned_out_per_answer_and_sink_in_order(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = open_store(engine, dir.path()).await;
    store
        .record(post("alice", &["a1", "a2"], &[HOOK, SEGMENT]))
        .await
        .unwrap();
    store.record(post("alice", &["a3"], &[HOOK])).await.unwrap();
    // A post with no sinks logs nothing; a duplicate post logs nothing.
    store.record(post("bob", &["b1"], &[])).await.unwrap();
    store.record(post("alice", &["a3"], &[HOOK])).await.unwrap();
    assert_eq!(
        query_count(&db, "SELECT count(*) FROM forward_log", &[]).await,
        2
    );
    assert_eq!(
        query_count(&db, "SELECT count(*) FROM deliveries", &[]).await,
        0,
        "ingestion writes no delivery"
    );
    assert_eq!(store.pending_count().await.unwrap(), 5);
    assert!(claim(&store, HOOK).await.is_empty(), "not fanned out yet");

    assert_eq!(store.fan_out(100).await.unwrap(), 2);
    assert_eq!(store.fan_out(100).await.unwrap(), 0, "the log is empty");
    assert_eq!(store.pending_count().await.unwrap(), 5);
    assert_eq!(
        query_texts(
            &db,
            "SELECT d.answer_id || ' ' || s.name || ' ' || d.status FROM deliveries d
             JOIN sinks s ON s.id = d.sink_id ORDER BY d.seq",
            &[]
        )
        .await,
        [
            format!("a1 {HOOK} pending"),
            format!("a1 {SEGMENT} pending"),
            format!("a2 {HOOK} queued"),
            format!("a2 {SEGMENT} queued"),
            format!("a3 {HOOK} queued"),
        ]
    );
    store.close();
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_first_in_line_of_a_sink_and_user_is_claimed_and_the_next_follows_it(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open_store(engine, dir.path()).await;
    store
        .record(post("alice", &["a1", "a2"], &[HOOK]))
        .await
        .unwrap();
    store.record(post("bob", &["b1"], &[HOOK])).await.unwrap();
    store
        .record(post("alice", &["a3", "a4"], &[HOOK]))
        .await
        .unwrap();
    // Fanned out in small steps: the line is the same.
    while store.fan_out(1).await.unwrap() > 0 {}

    let first = claim(&store, HOOK).await;
    assert_eq!(names(&first), [pair("alice", "a1"), pair("bob", "b1")]);
    assert!(claim(&store, HOOK).await.is_empty(), "both leased");

    // Done: the next of alice's line is due at once.
    store.mark_done(&first[0]).await.unwrap();
    let second = claim(&store, HOOK).await;
    assert_eq!(names(&second), [pair("alice", "a2")]);

    // Rescheduled: it keeps its place; nothing behind it is claimed meanwhile.
    store
        .reschedule(&second[0], unix_ms() + 400, "HTTP 503".into())
        .await
        .unwrap();
    assert!(claim(&store, HOOK).await.is_empty());
    tokio::time::sleep(Duration::from_millis(450)).await;
    let again = claim(&store, HOOK).await;
    assert_eq!(names(&again), [pair("alice", "a2")]);
    assert_eq!(again[0].attempts, 2);

    // Failed: it leaves the line, which goes on with a3.
    store
        .mark_failed(&again[0], "HTTP 400".into())
        .await
        .unwrap();
    let third = claim(&store, HOOK).await;
    assert_eq!(names(&third), [pair("alice", "a3")]);

    // Requeued while a3 is first in line: a2 goes back to its own place, before
    // a4, and waits for a3.
    assert_eq!(store.requeue_failed(unix_ms()).await.unwrap(), 1);
    assert!(
        claim(&store, HOOK).await.is_empty(),
        "a3 still holds the line"
    );
    store.mark_done(&third[0]).await.unwrap();
    let fourth = claim(&store, HOOK).await;
    assert_eq!(names(&fourth), [pair("alice", "a2")]);
    assert_eq!(fourth[0].attempts, 1, "a fresh retry window");
    store.mark_done(&fourth[0]).await.unwrap();
    let fifth = claim(&store, HOOK).await;
    assert_eq!(names(&fifth), [pair("alice", "a4")]);
    store.mark_done(&fifth[0]).await.unwrap();
    store.mark_done(&first[1]).await.unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert!(store.list_failed().await.unwrap().is_empty());
    store.close();
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_outcome_for_a_delivery_another_claim_finished_changes_no_line(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open_store(engine, dir.path()).await;
    store
        .record(post("alice", &["a1", "a2"], &[HOOK]))
        .await
        .unwrap();
    store.fan_out(100).await.unwrap();
    let first = claim(&store, HOOK).await;
    store.mark_done(&first[0]).await.unwrap();
    let second = claim(&store, HOOK).await;
    assert_eq!(names(&second), [pair("alice", "a2")]);
    // The first claim's outcome again (a repeat after its lease ran out): a2
    // stays leased, first in line, and is not handed out twice.
    store.mark_done(&first[0]).await.unwrap();
    store.mark_failed(&first[0], "late".into()).await.unwrap();
    assert!(claim(&store, HOOK).await.is_empty());
    assert_eq!(store.pending_count().await.unwrap(), 1);
    assert!(store.list_failed().await.unwrap().is_empty());
    store.close();
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_answers_survive_a_restart_before_their_fan_out(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = open_store(engine, dir.path()).await;
    for n in 0..5 {
        let id = format!("a{n}");
        store
            .record(post("alice", &[id.as_str()], &[HOOK]))
            .await
            .unwrap();
    }
    // Two posts fanned out, three still in the log, when the collector stops.
    assert_eq!(store.fan_out(2).await.unwrap(), 2);
    store.close();

    let store = Store::connect(&db).await.unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 5);
    let mut order = Vec::new();
    loop {
        store.fan_out(100).await.unwrap();
        let claimed = claim(&store, HOOK).await;
        if claimed.is_empty() {
            break;
        }
        assert_eq!(claimed.len(), 1, "one at a time for one user");
        order.extend(names(&claimed));
        store.mark_done(&claimed[0]).await.unwrap();
    }
    let want: Vec<_> = (0..5).map(|n| pair("alice", &format!("a{n}"))).collect();
    assert_eq!(order, want);
    assert_eq!(store.pending_count().await.unwrap(), 0);
    store.close();
}

#[tokio::test]
async fn sqlite_claims_read_only_heads_and_lines_through_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plan.db");
    Store::open(&db).unwrap().close();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let plan = |sql: &str| -> String {
        conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("\n")
    };
    // The claim's query, as in store/sqlite.rs.
    let claim = plan(
        "SELECT d.seq FROM deliveries d
         WHERE d.sink_id = (SELECT id FROM sinks WHERE name = 'x')
           AND d.status = 'pending' AND d.next_at <= 5 AND d.lease_until <= 5
         ORDER BY d.next_at, d.seq LIMIT 16",
    );
    assert!(claim.contains("USING INDEX deliveries_due"), "{claim}");
    assert!(!claim.contains("TEMP B-TREE"), "{claim}");
    // The promotion's lookups.
    let line = plan(
        "SELECT seq FROM deliveries
         WHERE sink_id = 1 AND user_id = 'u' AND status <> 'failed' AND status = 'queued'
         ORDER BY seq LIMIT 1",
    );
    assert!(line.contains("INDEX deliveries_line"), "{line}");
    assert!(!line.contains("TEMP B-TREE"), "{line}");
}

#[tokio::test]
async fn a_version_4_sqlite_outbox_is_migrated_into_lines_keeping_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v4.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(&format!(
            "{SQLITE_V2_ANSWERS_AND_PROFILES}
            CREATE TABLE sinks (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
            CREATE TABLE deliveries (
                seq INTEGER PRIMARY KEY,
                sink_id INTEGER NOT NULL,
                user_id TEXT NOT NULL,
                answer_id TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                next_at INTEGER NOT NULL,
                lease_until INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            ) STRICT;
            CREATE INDEX deliveries_due ON deliveries (sink_id, next_at) WHERE status = 'pending';
            CREATE INDEX deliveries_in_order ON deliveries (sink_id, user_id) WHERE status = 'pending';
            PRAGMA user_version = 4;"
        ))
        .unwrap();
        seed_version_4_outbox(|sql| conn.execute_batch(sql).unwrap());
    }
    let store = Store::open(&db).unwrap();
    check_migrated_lines(&store).await;
    store.close();
}

#[tokio::test]
async fn a_version_1_postgres_outbox_is_migrated_into_lines_keeping_every_row() {
    let url = pg::fresh_database().await;
    {
        let client = pg::connect(&url).await;
        // PostgreSQL's version 1 as it shipped (the outbox part; answers and
        // profiles are not touched by version 2).
        client
            .batch_execute(
                r#"CREATE TABLE schema_version (version BIGINT NOT NULL);
                INSERT INTO schema_version (version) VALUES (1);
                CREATE TABLE answers (
                    user_id TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL,
                    question_id TEXT COLLATE "C" NOT NULL, stage TEXT COLLATE "C" NOT NULL,
                    field TEXT COLLATE "C" NOT NULL,
                    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('answered', 'declined', 'snoozed')),
                    value TEXT, other BOOLEAN NOT NULL DEFAULT false,
                    answered_at TEXT COLLATE "C" NOT NULL, logins_count BIGINT NOT NULL,
                    context TEXT NOT NULL, received_at TEXT COLLATE "C" NOT NULL,
                    PRIMARY KEY (user_id, id)
                );
                CREATE INDEX answers_by_user ON answers (user_id, answered_at);
                CREATE TABLE profiles (
                    user_id TEXT COLLATE "C" PRIMARY KEY, doc TEXT NOT NULL,
                    updated_at TEXT COLLATE "C" NOT NULL
                );
                CREATE TABLE sinks (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    name TEXT COLLATE "C" NOT NULL UNIQUE
                );
                CREATE TABLE deliveries (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    sink_id BIGINT NOT NULL REFERENCES sinks (id),
                    user_id TEXT COLLATE "C" NOT NULL,
                    answer_id TEXT COLLATE "C" NOT NULL,
                    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at BIGINT NOT NULL,
                    next_at BIGINT NOT NULL,
                    lease_until BIGINT NOT NULL DEFAULT 0,
                    last_error TEXT
                );
                CREATE INDEX deliveries_due ON deliveries (sink_id, next_at, seq) WHERE status = 'pending';
                CREATE INDEX deliveries_in_order ON deliveries (sink_id, user_id, seq) WHERE status = 'pending';"#,
            )
            .await
            .unwrap();
        let mut sql = String::new();
        seed_version_4_outbox(|s| sql.push_str(s));
        // Explicit seqs into an identity column.
        let sql = sql.replace(
            "last_error)\n         VALUES",
            "last_error) OVERRIDING SYSTEM VALUE VALUES",
        );
        assert!(sql.contains("OVERRIDING"));
        client.batch_execute(&sql).await.unwrap();
        client
            .batch_execute("SELECT setval(pg_get_serial_sequence('deliveries', 'seq'), 20)")
            .await
            .unwrap();
    }
    let store = Store::connect(&Location::Postgres(url)).await.unwrap();
    check_migrated_lines(&store).await;
    store.close();
}

/// An outbox as the previous schema kept it (the same SQL on both engines):
/// alice has three pending rows and a failed one for the webhook, bob one pending
/// row for each sink, and carol's only row failed.
fn seed_version_4_outbox(mut run: impl FnMut(&str)) {
    run(
        "INSERT INTO sinks (name) VALUES ('webhook:https://a.example/hook'), ('segment');
         INSERT INTO deliveries (seq, sink_id, user_id, answer_id, status, attempts, created_at, next_at, lease_until, last_error)
         VALUES (3, 1, 'alice', 'a1', 'pending', 2, 1000, 1000, 0, 'HTTP 503'),
                (4, 1, 'bob', 'b1', 'pending', 0, 1000, 1000, 0, NULL),
                (5, 2, 'bob', 'b1', 'pending', 0, 1000, 1000, 0, NULL),
                (6, 1, 'alice', 'a2', 'failed', 9, 1000, 1000, 0, 'HTTP 400'),
                (8, 1, 'alice', 'a3', 'pending', 0, 1000, 1000, 0, NULL),
                (9, 1, 'carol', 'c1', 'failed', 1, 1000, 1000, 0, 'HTTP 410'),
                (11, 1, 'alice', 'a4', 'pending', 0, 1000, 1000, 0, NULL);",
    );
}

/// What [`seed_version_4_outbox`] must become: every row kept with its seq,
/// alice's pending rows in one line (a1 first, its attempts kept), the failed
/// ones listed, and new answers behind the migrated ones.
async fn check_migrated_lines(store: &Store) {
    assert_eq!(store.pending_count().await.unwrap(), 5);
    let failed: Vec<_> = store
        .list_failed()
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.seq, f.user_id, f.answer_id))
        .collect();
    assert_eq!(
        failed,
        [
            (6, "alice".to_owned(), "a2".to_owned()),
            (9, "carol".to_owned(), "c1".to_owned())
        ]
    );
    store.record(post("alice", &["a5"], &[HOOK])).await.unwrap();
    store.fan_out(100).await.unwrap();
    let mut hook = Vec::new();
    loop {
        let claimed = claim(store, HOOK).await;
        if claimed.is_empty() {
            break;
        }
        for d in &claimed {
            if d.answer_id == "a1" {
                assert_eq!(d.attempts, 3, "its earlier attempts kept");
            }
            hook.push((d.seq, d.user_id.clone(), d.answer_id.clone()));
            store.mark_done(d).await.unwrap();
        }
    }
    let alice: Vec<_> = hook
        .iter()
        .filter(|(_, user, _)| user == "alice")
        .map(|(_, _, id)| id.as_str())
        .collect();
    assert_eq!(alice, ["a1", "a3", "a4", "a5"]);
    assert!(hook.iter().any(|(seq, user, _)| *seq == 4 && user == "bob"));
    assert!(hook.iter().all(|(seq, _, id)| id != "a5" || *seq > 11));
    let segment = claim(store, SEGMENT).await;
    assert_eq!(names(&segment), [pair("bob", "b1")]);
    assert_eq!(segment[0].seq, 5);
}
