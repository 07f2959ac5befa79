//! The SQLite engine behind [`super::Store`].
//!
//! Writes go through one dedicated writer thread that owns the only write
//! connection. It takes every job waiting in its queue, applies each inside its own
//! savepoint of one transaction, commits once, and only then replies to each job:
//! a 2xx is never sent for an answer that is not committed, and many concurrent
//! posts share one commit (group commit) instead of queueing on a lock. Reads use a
//! separate connection; WAL mode lets them run while the writer commits.
//!
//! Errors inside this module are [`Error`] (which knows rusqlite); they become the
//! engine-neutral [`StoreError`] where they leave it.

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::report::{self, Report, ReportQuery, ReportRows};
use super::{
    at_ms, parse_status, same_content, status_str, unix_ms, Backend, Delivery, DeliveryKey,
    ExportRow, FailedDelivery, ListedAnswer, NewAnswers, Recorded, StoreError, UserRecord,
    MAX_LISTED_ANSWERS,
};
use crate::profile::{ProfileDoc, StoredAnswer};

/// The most jobs one transaction takes; bounds how long any reply waits.
const MAX_JOBS_PER_COMMIT: usize = 512;
/// How many jobs may wait for the writer before posters wait for room.
const QUEUE_DEPTH: usize = 4096;

/// Forwarding sinks' keys and their `sinks.id`, as committed: the writer resolves
/// each key once, so an outbox row carries a small integer instead of the key.
type SinkIds = HashMap<String, i64>;

/// A migration's step in Rust, run after its SQL in the same transaction.
type MigrationStep = fn(&Transaction<'_>) -> Result<(), Error>;

/// One schema migration: SQL, then optionally a step in Rust, in one transaction.
struct Migration {
    sql: &'static str,
    then: Option<MigrationStep>,
}

/// Schema migrations, applied in order; `PRAGMA user_version` counts those done.
/// Append only: never edit a migration that has shipped.
const MIGRATIONS: &[Migration] = &[
    // 1: answers (the raw log, once per id) and the merged profile per user.
    Migration {
        sql: "CREATE TABLE answers (
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
        ) STRICT, WITHOUT ROWID;",
        then: None,
    },
    // 2: an answer's key is (user_id, id): the same id under another user is
    // another answer (contract v2). SQLite cannot change a primary key, so the
    // table is rebuilt. Then every profile is rebuilt from its answers, so values
    // merged by version 1 (which trusted a client's future answeredAt) follow the
    // clamped order too.
    Migration {
        sql: "CREATE TABLE answers_v2 (
            id TEXT NOT NULL,
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
            received_at TEXT NOT NULL,
            PRIMARY KEY (user_id, id)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO answers_v2 (id, user_id, question_id, stage, field, status, value, other,
                                answered_at, logins_count, context, received_at)
            SELECT id, user_id, question_id, stage, field, status, value, other,
                   answered_at, logins_count, context, received_at
            FROM answers;
        DROP TABLE answers;
        ALTER TABLE answers_v2 RENAME TO answers;
        CREATE INDEX answers_by_user ON answers (user_id, answered_at);",
        then: Some(rebuild_all_profiles),
    },
    // 3: the forwarding outbox (contract section 6, "Forwarding"). One row per
    // newly stored answer and configured sink, written in the answer's own
    // transaction; a delivered row is deleted, a row that gave up is kept as
    // 'failed'. Times are Unix milliseconds. `lease_until`: a claimed row is not
    // claimed again before then (a crashed sender's rows come back after it).
    Migration {
        sql: "CREATE TABLE deliveries (
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
        CREATE INDEX deliveries_in_order ON deliveries (sink, user_id, seq) WHERE status = 'pending';",
        then: None,
    },
    // 4: a cheaper outbox row, written once per answer and sink inside the
    // answer's transaction. Sinks get a small integer id (`sinks`), so the rows and
    // their indexes no longer repeat the sink's key; `seq` is a plain rowid (no
    // AUTOINCREMENT and its `sqlite_sequence` update per insert): a new row's seq
    // is still above every existing row's, which is all the per-user order needs.
    // (The outcome of a claim is written with the row's user and answer too, so a
    // seq reused after the newest row was deleted is never mistaken for another.)
    // The two indexes are partial (pending rows only) and narrow; the rowid at the
    // end of each index entry gives `ORDER BY next_at, seq` and `seq < ?` for free.
    Migration {
        sql: "CREATE TABLE sinks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        ) STRICT;
        INSERT INTO sinks (name) SELECT DISTINCT sink FROM deliveries ORDER BY sink;
        CREATE TABLE deliveries_v4 (
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
        INSERT INTO deliveries_v4 (seq, sink_id, user_id, answer_id, status, attempts,
                                   created_at, next_at, lease_until, last_error)
            SELECT d.seq, s.id, d.user_id, d.answer_id, d.status, d.attempts,
                   d.created_at, d.next_at, d.lease_until, d.last_error
            FROM deliveries d JOIN sinks s ON s.name = d.sink
            ORDER BY d.seq;
        DROP TABLE deliveries;
        ALTER TABLE deliveries_v4 RENAME TO deliveries;
        CREATE INDEX deliveries_due ON deliveries (sink_id, next_at) WHERE status = 'pending';
        CREATE INDEX deliveries_in_order ON deliveries (sink_id, user_id) WHERE status = 'pending';",
        then: None,
    },
    // 5: forwarding off the ingestion path. A post with fresh answers and sinks
    // appends one row to `forward_log` (no secondary index: the rowid B-tree only
    // grows at its right edge); the forwarder fans log rows out into `deliveries`
    // in transactions of its own ([`fan_out`]), in log order, which is the order
    // the single writer committed them. In `deliveries` only the first row in
    // line of a (sink, user) is 'pending' (the head, what claims read through
    // `deliveries_due`); the rows behind it are 'queued' and become the head in
    // seq order when it is done or failed ([`promote`]). Rows pending before this
    // migration keep their seq; all but the oldest of each (sink, user) queue.
    Migration {
        sql: "CREATE TABLE forward_log (
            seq INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            answer_ids TEXT NOT NULL,
            sink_ids TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE deliveries_v5 (
            seq INTEGER PRIMARY KEY,
            sink_id INTEGER NOT NULL,
            user_id TEXT NOT NULL,
            answer_id TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            next_at INTEGER NOT NULL,
            lease_until INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        ) STRICT;
        INSERT INTO deliveries_v5 (seq, sink_id, user_id, answer_id, status, attempts,
                                   created_at, next_at, lease_until, last_error)
            SELECT d.seq, d.sink_id, d.user_id, d.answer_id,
                   CASE WHEN d.status = 'pending' AND EXISTS (
                            SELECT 1 FROM deliveries e
                            WHERE e.sink_id = d.sink_id AND e.user_id = d.user_id
                              AND e.status = 'pending' AND e.seq < d.seq)
                        THEN 'queued' ELSE d.status END,
                   d.attempts, d.created_at, d.next_at, d.lease_until, d.last_error
            FROM deliveries d
            ORDER BY d.seq;
        DROP TABLE deliveries;
        ALTER TABLE deliveries_v5 RENAME TO deliveries;
        CREATE INDEX deliveries_due ON deliveries (sink_id, next_at) WHERE status = 'pending';
        CREATE INDEX deliveries_line ON deliveries (sink_id, user_id) WHERE status <> 'failed';",
        then: None,
    },
    // 6: the marketer's view (`GET /admin`). `at_ms`: when the answer counts as
    // given (answeredAt clamped to its receipt), Unix ms, so days are integer
    // arithmetic in any engine; filled in for stored answers, then the report's
    // indexes (`report::INDEXES`).
    Migration {
        sql: "ALTER TABLE answers ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;",
        then: Some(fill_at_ms_and_index),
    },
];

/// What goes wrong inside this module.
#[derive(Debug)]
enum Error {
    Sqlite(rusqlite::Error),
    Json(serde_json::Error),
    Public(StoreError),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Public(e)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Sqlite(e) => StoreError::Database(Box::new(e)),
            Error::Json(e) => StoreError::Corrupt(e.to_string()),
            Error::Public(e) => e,
        }
    }
}

/// A boxed write run by the writer inside its own savepoint of a group commit.
type WriteFn = Box<dyn FnOnce(&Transaction<'_>) -> Result<Box<dyn Any + Send>, Error> + Send>;

enum Job {
    /// A posted envelope.
    Record {
        batch: NewAnswers,
        reply: oneshot::Sender<Result<Recorded, StoreError>>,
    },
    /// Any other write (the forwarding outbox's claims and updates).
    Run {
        apply: WriteFn,
        reply: oneshot::Sender<Result<Box<dyn Any + Send>, StoreError>>,
    },
}

/// A job's result, waiting for the commit before it is sent.
enum Done {
    Record(
        oneshot::Sender<Result<Recorded, StoreError>>,
        Result<Recorded, StoreError>,
    ),
    Run(
        oneshot::Sender<Result<Box<dyn Any + Send>, StoreError>>,
        Result<Box<dyn Any + Send>, StoreError>,
    ),
}

impl Done {
    fn send(self) {
        // The caller may have timed out and gone; what committed stays committed.
        match self {
            Done::Record(reply, result) => drop(reply.send(result)),
            Done::Run(reply, result) => drop(reply.send(result)),
        }
    }

    fn fail(self, message: &str) {
        let error = || StoreError::Task(message.to_owned());
        match self {
            Done::Record(reply, _) => drop(reply.send(Err(error()))),
            Done::Run(reply, _) => drop(reply.send(Err(error()))),
        }
    }
}

/// The engine: a writer thread with its queue, and a read connection.
#[derive(Clone)]
pub(super) struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    reader: Arc<Mutex<Connection>>,
}

impl Sqlite {
    pub(super) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        Ok(Self::open_inner(path)?)
    }

    fn open_inner(path: &Path) -> Result<Sqlite, Error> {
        let mut write = Connection::open(path)?;
        configure(&write)?;
        migrate(&mut write)?;
        let reader = Connection::open(path)?;
        configure(&reader)?;

        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = std::thread::Builder::new()
            .name("trickle-store-writer".into())
            .spawn(move || writer_loop(write, rx))
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Sqlite {
            inner: Arc::new(Inner {
                jobs: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(writer)),
                reader: Arc::new(Mutex::new(reader)),
            }),
        })
    }

    /// Runs `f` on the writer, in its own savepoint of the next group commit;
    /// resolves once that commit is done.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, Error> + Send + 'static,
    {
        let sender = lock(&self.inner.jobs).clone().ok_or(StoreError::Closed)?;
        let (reply, done) = oneshot::channel();
        let apply: WriteFn = Box::new(move |tx| Ok(Box::new(f(tx)?) as Box<dyn Any + Send>));
        sender
            .send(Job::Run { apply, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        let boxed = done.await.map_err(|_| StoreError::Closed)??;
        boxed
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Task("a write returned the wrong type".into()))
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let reader = Arc::clone(&self.inner.reader);
        let result = tokio::task::spawn_blocking(move || f(&lock(&reader)))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(result?)
    }
}

#[async_trait::async_trait]
impl Backend for Sqlite {
    async fn record(&self, batch: NewAnswers) -> Result<Recorded, StoreError> {
        let sender = lock(&self.inner.jobs).clone().ok_or(StoreError::Closed)?;
        let (reply, done) = oneshot::channel();
        sender
            .send(Job::Record { batch, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    async fn claim_due(
        &self,
        sink: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sink = sink.to_owned();
        self.write(move |tx| claim_due(tx, &sink, now_ms, lease_ms, limit))
            .await
    }

    async fn fan_out(&self, limit: usize) -> Result<usize, StoreError> {
        self.write(move |tx| fan_out(tx, limit)).await
    }

    async fn mark_done(&self, of: DeliveryKey) -> Result<(), StoreError> {
        self.write(move |tx| {
            let sink_id: Option<i64> = tx
                .prepare_cached(
                    "DELETE FROM deliveries WHERE seq = ?1 AND user_id = ?2 AND answer_id = ?3
                     RETURNING sink_id",
                )?
                .query_row(params![of.seq, of.user_id, of.answer_id], |row| row.get(0))
                .optional()?;
            if let Some(sink_id) = sink_id {
                promote(tx, sink_id, &of.user_id)?;
            }
            Ok(())
        })
        .await
    }

    async fn reschedule(
        &self,
        of: DeliveryKey,
        next_at_ms: i64,
        error: String,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.prepare_cached(
                "UPDATE deliveries SET next_at = ?2, lease_until = 0, last_error = ?3
                 WHERE seq = ?1 AND status = 'pending' AND user_id = ?4 AND answer_id = ?5",
            )?
            .execute(params![of.seq, next_at_ms, error, of.user_id, of.answer_id])?;
            Ok(())
        })
        .await
    }

    async fn mark_failed(&self, of: DeliveryKey, error: String) -> Result<(), StoreError> {
        self.write(move |tx| {
            let sink_id: Option<i64> = tx
                .prepare_cached(
                    "UPDATE deliveries SET status = 'failed', lease_until = 0, last_error = ?2
                     WHERE seq = ?1 AND user_id = ?3 AND answer_id = ?4
                     RETURNING sink_id",
                )?
                .query_row(params![of.seq, error, of.user_id, of.answer_id], |row| {
                    row.get(0)
                })
                .optional()?;
            if let Some(sink_id) = sink_id {
                promote(tx, sink_id, &of.user_id)?;
            }
            Ok(())
        })
        .await
    }

    async fn requeue_failed(&self, now_ms: i64) -> Result<usize, StoreError> {
        self.write(move |tx| {
            // Back in line in their own place (by seq): each waits behind a
            // pending head of its (sink, user), or becomes the head.
            let lines: Vec<(i64, String)> = tx
                .prepare_cached(
                    "UPDATE deliveries SET status = 'queued', attempts = 0, created_at = ?1,
                            next_at = ?1, lease_until = 0
                     WHERE status = 'failed'
                     RETURNING sink_id, user_id",
                )?
                .query_map([now_ms], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let requeued = lines.len();
            let lines: std::collections::BTreeSet<(i64, String)> = lines.into_iter().collect();
            for (sink_id, user_id) in &lines {
                promote(tx, *sink_id, user_id)?;
            }
            Ok(requeued)
        })
        .await
    }

    async fn list_failed(&self) -> Result<Vec<FailedDelivery>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT d.seq, s.name, d.user_id, d.answer_id, d.attempts, d.created_at,
                        d.last_error
                 FROM deliveries d JOIN sinks s ON s.id = d.sink_id
                 WHERE d.status = 'failed' ORDER BY d.seq",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(FailedDelivery {
                    seq: row.get(0)?,
                    sink: row.get(1)?,
                    user_id: row.get(2)?,
                    answer_id: row.get(3)?,
                    attempts: row.get(4)?,
                    created_at_ms: row.get(5)?,
                    last_error: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn next_due(&self, sink: &str) -> Result<Option<i64>, StoreError> {
        let sink = sink.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    // Log rows not fanned out yet are due now (their sinks are
                    // not matched: the fan-out that makes them due is for all).
                    "SELECT CASE WHEN EXISTS (SELECT 1 FROM forward_log)
                                 THEN min(coalesce(min(max(next_at, lease_until)), ?2), ?2)
                                 ELSE min(max(next_at, lease_until)) END
                     FROM deliveries
                     WHERE sink_id = (SELECT id FROM sinks WHERE name = ?1)
                       AND status = 'pending'",
                )?
                .query_row(params![sink, unix_ms()], |row| row.get::<_, Option<i64>>(0))?)
        })
        .await
    }

    async fn pending_count(&self) -> Result<i64, StoreError> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT (SELECT count(*) FROM deliveries WHERE status <> 'failed')
                      + (SELECT coalesce(sum(json_array_length(answer_ids)
                                             * json_array_length(sink_ids)), 0)
                         FROM forward_log)",
                [],
                |row| row.get(0),
            )?)
        })
        .await
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let user_id = user_id.to_owned();
        self.read(move |conn| read_user(conn, &user_id)).await
    }

    async fn export(&self) -> Result<Vec<ExportRow>, StoreError> {
        self.read(read_all).await
    }

    async fn report(&self, query: ReportQuery) -> Result<Report, StoreError> {
        self.read(move |conn| {
            // One read transaction: every chart counts the same answers.
            let tx = conn.unchecked_transaction()?;
            let report = read_report(&tx, &query)?;
            tx.finish()?;
            Ok(report)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let running = lock(&self.inner.jobs)
            .as_ref()
            .is_some_and(|tx| !tx.is_closed());
        if !running {
            return Err(StoreError::Closed);
        }
        self.read(|conn| {
            // EXISTS stops at the first row: a health check must not scan the table.
            Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM profiles)", [], |_| Ok(()))?)
        })
        .await
    }

    fn close(&self) {
        // Dropping the last sender ends the writer's loop once the queue is empty.
        drop(lock(&self.inner.jobs).take());
        if let Some(handle) = lock(&self.inner.writer).take() {
            if handle.join().is_err() {
                tracing::error!("store writer thread panicked");
            }
        }
    }
}

// A poisoned mutex only means another thread panicked while holding it; the
// connection or sender inside is still usable, so go on rather than cascade.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn configure(conn: &Connection) -> Result<(), Error> {
    // WAL: readers never block the writer. synchronous=FULL: a commit is on disk
    // before the writer replies, so an acknowledged answer survives a power cut;
    // group commit keeps the fsync cost per answer small.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Random UUID keys touch pages all over the id index; a 64 MiB page cache
    // (default: 2 MiB) keeps them in memory instead of re-reading them per commit.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > known {
        return Err(StoreError::TooNew { found, known }.into());
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        if let Some(step) = migration.then {
            step(&tx)?;
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "database migrated");
    }
    Ok(())
}

/// Migration 2's step: every stored profile rebuilt from its answers.
fn rebuild_all_profiles(tx: &Transaction<'_>) -> Result<(), Error> {
    let users = {
        let mut stmt = tx.prepare("SELECT user_id FROM profiles")?;
        let users = stmt
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        users
    };
    let mut update = tx.prepare("UPDATE profiles SET doc = ?2 WHERE user_id = ?1")?;
    for user_id in &users {
        let doc = rebuild_doc(tx, user_id)?;
        update.execute(params![user_id, serde_json::to_string(&doc)?])?;
    }
    if !users.is_empty() {
        tracing::info!(users = users.len(), "profiles rebuilt from their answers");
    }
    Ok(())
}

/// Migration 5's step: `at_ms` of every stored answer, then the report's indexes.
fn fill_at_ms_and_index(tx: &Transaction<'_>) -> Result<(), Error> {
    let rows = {
        let mut stmt = tx.prepare("SELECT user_id, id, answered_at, received_at FROM answers")?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    at_ms(&row.get::<_, String>(2)?, &row.get::<_, String>(3)?),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows
    };
    let mut update = tx.prepare("UPDATE answers SET at_ms = ?3 WHERE user_id = ?1 AND id = ?2")?;
    for (user_id, id, at) in &rows {
        update.execute(params![user_id, id, at])?;
    }
    tx.execute_batch(report::INDEXES)?;
    Ok(())
}

/// Runs the report's queries (`store/report.rs`) on `conn`; the caller wraps them
/// in one transaction so every chart counts the same answers.
fn read_report(conn: &Connection, query: &ReportQuery) -> Result<Report, Error> {
    use rusqlite::params_from_iter;

    let mut report = ReportRows::default();
    let mut stmt = conn.prepare_cached(report::FIELDS_SQL)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        report.field(row.get(0)?, row.get(1)?);
    }
    let mut stmt = conn.prepare_cached(report::RESPONSES_SQL)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        report.responses(row.get(0)?, &row.get::<_, String>(1)?, row.get(2)?)?;
    }
    let mut stmt = conn.prepare_cached(report::DAYS_SQL)?;
    let mut rows = stmt.query([query.first_day, query.last_day])?;
    while let Some(row) = rows.next()? {
        report.day(row.get(0)?, &row.get::<_, String>(1)?, row.get(2)?)?;
    }
    if !query.questions.is_empty() {
        let mut stmt = conn.prepare(&report::stages_sql(query.questions.len()))?;
        let mut rows = stmt.query(params_from_iter(&query.questions))?;
        while let Some(row) = rows.next()? {
            report.stage(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        }
    }
    if !query.choice_questions.is_empty() {
        let mut stmt = conn.prepare(&report::choices_sql(query.choice_questions.len()))?;
        let mut rows = stmt.query(params_from_iter(&query.choice_questions))?;
        while let Some(row) = rows.next()? {
            report.choice(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        }
    }
    Ok(report.finish())
}

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_JOBS_PER_COMMIT);
    let mut sink_ids = SinkIds::new();
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        while jobs.len() < MAX_JOBS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit_jobs(&mut conn, &mut jobs, &mut sink_ids);
    }
    // Fold the WAL back into the main file so a stopped collector leaves one file.
    if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
        tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
    }
}

fn commit_jobs(conn: &mut Connection, jobs: &mut Vec<Job>, sink_ids: &mut SinkIds) {
    tracing::trace!(jobs = jobs.len(), "group commit");
    // One received time for the whole commit: every answer in it arrived by now.
    let now = crate::timestamp::now_utc();
    let now_ms = unix_ms();
    let tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            for job in jobs.drain(..) {
                match job {
                    Job::Record { reply, .. } => {
                        drop(reply.send(Err(StoreError::Task(message.clone()))))
                    }
                    Job::Run { reply, .. } => {
                        drop(reply.send(Err(StoreError::Task(message.clone()))))
                    }
                }
            }
            return;
        }
    };
    // Sinks seen for the first time get their id here, outside every job's
    // savepoint (a job rolled back must not take a cached id with it); they are
    // kept only if this transaction commits. One that fails here is resolved by
    // the job itself, which then reports the error.
    let mut new_sinks = Vec::new();
    for job in jobs.iter() {
        if let Job::Record { batch, .. } = job {
            for name in &batch.forward_to {
                if !sink_ids.contains_key(name) {
                    if let Ok(id) = sink_id(&tx, name) {
                        sink_ids.insert(name.clone(), id);
                        new_sinks.push(name.clone());
                    }
                }
            }
        }
    }
    let mut done = Vec::with_capacity(jobs.len());
    for job in jobs.drain(..) {
        done.push(match job {
            Job::Record { batch, reply } => Done::Record(
                reply,
                in_savepoint(&tx, |tx| apply_batch(tx, &batch, &now, now_ms, sink_ids))
                    .map_err(StoreError::from),
            ),
            Job::Run { apply, reply } => {
                Done::Run(reply, in_savepoint(&tx, apply).map_err(StoreError::from))
            }
        });
    }
    match tx.commit() {
        Ok(()) => done.into_iter().for_each(Done::send),
        Err(e) => {
            for name in new_sinks {
                sink_ids.remove(&name);
            }
            tracing::error!(error = %e, "commit failed");
            let message = format!("commit failed: {e}");
            for d in done {
                d.fail(&message);
            }
        }
    }
}

/// One job inside its own savepoint, so a failing job (an id conflict included)
/// is undone entirely without undoing the others that share the transaction.
fn in_savepoint<T>(
    tx: &Transaction<'_>,
    job: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    // Cached statements: they run once per job, so they are prepared once.
    tx.prepare_cached("SAVEPOINT job")?.execute([])?;
    match job(tx) {
        Ok(done) => {
            tx.prepare_cached("RELEASE job")?.execute([])?;
            Ok(done)
        }
        Err(e) => {
            tx.prepare_cached("ROLLBACK TO job")?.execute([])?;
            tx.prepare_cached("RELEASE job")?.execute([])?;
            Err(e)
        }
    }
}

/// The outbox's claim: up to `limit` due heads of line of `sink` (only a
/// (sink, user)'s first row is 'pending'), leased until `now + lease`, with the
/// answer and the user's merged profile as they are now. The lease's end is also
/// the row's `next_at`, so a leased row leaves the due range of
/// `deliveries_due` and later claims do not read it again; if its outcome never
/// comes (a crash), it is due again when the lease ends.
fn claim_due(
    tx: &Transaction<'_>,
    sink: &str,
    now_ms: i64,
    lease_ms: i64,
    limit: usize,
) -> Result<Vec<Delivery>, Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let heads: Vec<(i64, String, String, u32, i64)> = tx
        .prepare_cached(
            "SELECT d.seq, d.user_id, d.answer_id, d.attempts, d.created_at FROM deliveries d
             WHERE d.sink_id = (SELECT id FROM sinks WHERE name = ?1)
               AND d.status = 'pending' AND d.next_at <= ?2 AND d.lease_until <= ?2
             ORDER BY d.next_at, d.seq LIMIT ?3",
        )?
        .query_map(params![sink, now_ms, limit], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(heads.len());
    for (seq, user_id, answer_id, attempts, created_at_ms) in heads {
        tx.prepare_cached(
            "UPDATE deliveries SET lease_until = ?2, next_at = ?2, attempts = attempts + 1
             WHERE seq = ?1",
        )?
        .execute(params![seq, now_ms.saturating_add(lease_ms)])?;
        let answer = tx
            .prepare_cached(&format!(
                "SELECT {ANSWER_COLUMNS} FROM answers WHERE user_id = ?1 AND id = ?2"
            ))?
            .query_row(params![user_id, answer_id], answer_row)
            .optional()?
            .map(listed)
            .transpose()?;
        let context: Option<String> = tx
            .prepare_cached("SELECT context FROM answers WHERE user_id = ?1 AND id = ?2")?
            .query_row(params![user_id, answer_id], |row| row.get(0))
            .optional()?;
        let profile = match load_doc(tx, &user_id) {
            Ok(doc) => doc.map(|(doc, _)| doc.profile).unwrap_or_default(),
            Err(Error::Json(_)) => rebuild_doc(tx, &user_id)?.profile,
            Err(e) => return Err(e),
        };
        out.push(Delivery {
            seq,
            user_id,
            answer_id,
            answer,
            context: context.unwrap_or_else(|| "{}".into()),
            profile,
            attempts: attempts.saturating_add(1),
            created_at_ms,
        });
    }
    Ok(out)
}

/// Moves up to `limit` rows of `forward_log`, oldest first, into `deliveries`:
/// one row per answer and sink, in the log's order (answers in their batch's
/// order, sinks in the post's order), queued behind the (sink, user)'s line,
/// then each touched line gets a head if it has none. One transaction (the
/// caller's savepoint): a crash keeps the log rows or moves them all. Returns
/// the log rows moved.
fn fan_out(tx: &Transaction<'_>, limit: usize) -> Result<usize, Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows: Vec<(i64, String, String, String, i64)> = tx
        .prepare_cached(
            "SELECT seq, user_id, answer_ids, sink_ids, created_at FROM forward_log
             ORDER BY seq LIMIT ?1",
        )?
        .query_map([limit], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let Some(&(last, ..)) = rows.last() else {
        return Ok(0);
    };
    let mut lines = std::collections::BTreeSet::new();
    {
        let mut enqueue = tx.prepare_cached(
            "INSERT INTO deliveries (sink_id, user_id, answer_id, status, created_at, next_at)
             VALUES (?1, ?2, ?3, 'queued', ?4, ?4)",
        )?;
        for (_, user_id, answer_ids, sink_ids, created_at) in &rows {
            let answer_ids: Vec<String> = serde_json::from_str(answer_ids)?;
            let sink_ids: Vec<i64> = serde_json::from_str(sink_ids)?;
            for answer_id in &answer_ids {
                for sink_id in &sink_ids {
                    enqueue.execute(params![sink_id, user_id, answer_id, created_at])?;
                }
            }
            for &sink_id in &sink_ids {
                lines.insert((sink_id, user_id.as_str()));
            }
        }
    }
    for (sink_id, user_id) in lines {
        promote(tx, sink_id, user_id)?;
    }
    tx.prepare_cached("DELETE FROM forward_log WHERE seq <= ?1")?
        .execute([last])?;
    Ok(rows.len())
}

/// Gives the line of (`sink_id`, `user_id`) a head if it has none: its oldest
/// queued row becomes 'pending'. Both lookups go through `deliveries_line`
/// (hence the `status <> 'failed'` term, the index's own condition).
fn promote(tx: &Transaction<'_>, sink_id: i64, user_id: &str) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE deliveries SET status = 'pending'
         WHERE seq = (SELECT seq FROM deliveries
                      WHERE sink_id = ?1 AND user_id = ?2 AND status <> 'failed'
                        AND status = 'queued'
                      ORDER BY seq LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM deliveries
                           WHERE sink_id = ?1 AND user_id = ?2 AND status <> 'failed'
                             AND status = 'pending')",
    )?
    .execute(params![sink_id, user_id])?;
    Ok(())
}

/// The id of the sink keyed `name` in `sinks`, added if it is new.
fn sink_id(conn: &Connection, name: &str) -> Result<i64, Error> {
    conn.prepare_cached("INSERT INTO sinks (name) VALUES (?1) ON CONFLICT (name) DO NOTHING")?
        .execute([name])?;
    Ok(conn
        .prepare_cached("SELECT id FROM sinks WHERE name = ?1")?
        .query_row([name], |row| row.get(0))?)
}

fn apply_batch(
    tx: &Transaction<'_>,
    batch: &NewAnswers,
    now: &str,
    now_ms: i64,
    sink_ids: &SinkIds,
) -> Result<Recorded, Error> {
    let mut fresh = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO answers (id, user_id, question_id, stage, field, status, value, other,
                                  answered_at, logins_count, context, received_at, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (user_id, id) DO NOTHING",
        )?;
        for (index, answer) in batch.answers.iter().enumerate() {
            let value = answer
                .value
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?;
            let inserted = insert.execute(params![
                answer.id,
                batch.user_id,
                answer.question_id,
                answer.stage,
                answer.field,
                status_str(answer.status),
                value,
                answer.other,
                answer.answered_at,
                answer.logins_count,
                batch.context,
                now,
                at_ms(&answer.answered_at, now),
            ])?;
            if inserted == 1 {
                fresh.push(answer);
            } else if !same_as_stored(tx, &batch.user_id, answer)? {
                return Err(StoreError::IdConflict { index }.into());
            }
        }
    }
    let recorded = Recorded {
        stored: fresh.len(),
        duplicates: batch.answers.len() - fresh.len(),
    };
    if fresh.is_empty() {
        return Ok(recorded);
    }
    // Forwarding: one row in the log for the whole post (its fresh answers and
    // sinks), committed with the answers (a crash loses neither or both); the
    // forwarder fans it out into deliveries later, in its own transactions.
    if !batch.forward_to.is_empty() {
        let sinks = batch
            .forward_to
            .iter()
            .map(|name| match sink_ids.get(name) {
                Some(&id) => Ok(id),
                None => sink_id(tx, name),
            })
            .collect::<Result<Vec<i64>, Error>>()?;
        let answer_ids: Vec<&str> = fresh.iter().map(|answer| answer.id.as_str()).collect();
        tx.prepare_cached(
            "INSERT INTO forward_log (user_id, answer_ids, sink_ids, created_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            batch.user_id,
            serde_json::to_string(&answer_ids)?,
            serde_json::to_string(&sinks)?,
            now_ms
        ])?;
    }
    let doc = match load_doc(tx, &batch.user_id) {
        Ok(stored) => {
            let mut doc = stored.map(|(doc, _)| doc).unwrap_or_default();
            for answer in fresh {
                doc.apply(answer, now);
            }
            doc
        }
        // An unreadable doc (edited by hand, or written by a buggy build) must not
        // block the user's answers forever: replay them all, the fresh ones included
        // (they are already inserted in this savepoint).
        Err(Error::Json(e)) => {
            tracing::warn!(user_id = %batch.user_id, error = %e, "stored profile unreadable; rebuilding it from the answers");
            rebuild_doc(tx, &batch.user_id)?
        }
        Err(e) => return Err(e),
    };
    tx.prepare_cached(
        "INSERT INTO profiles (user_id, doc, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
    )?
    .execute(params![batch.user_id, serde_json::to_string(&doc)?, now])?;
    Ok(recorded)
}

/// Whether the answer stored under (`user_id`, `answer.id`) has the same content
/// as `answer` (see [`same_content`]).
fn same_as_stored(conn: &Connection, user_id: &str, answer: &StoredAnswer) -> Result<bool, Error> {
    let stored = conn
        .prepare_cached(&format!(
            "SELECT {ANSWER_COLUMNS} FROM answers WHERE user_id = ?1 AND id = ?2"
        ))?
        .query_row(params![user_id, answer.id], answer_row)?;
    Ok(same_content(&listed(stored)?.answer, answer))
}

fn load_doc(conn: &Connection, user_id: &str) -> Result<Option<(ProfileDoc, String)>, Error> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT doc, updated_at FROM profiles WHERE user_id = ?1")?
        .query_row([user_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    match row {
        Some((doc, updated_at)) => Ok(Some((serde_json::from_str(&doc)?, updated_at))),
        None => Ok(None),
    }
}

fn read_user(conn: &Connection, user_id: &str) -> Result<Option<UserRecord>, Error> {
    let (doc, updated_at) = match load_doc(conn, user_id) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        // Serve what the answers say; the next write stores the rebuilt doc.
        Err(Error::Json(_)) => {
            let updated_at: String = conn
                .prepare_cached("SELECT updated_at FROM profiles WHERE user_id = ?1")?
                .query_row([user_id], |row| row.get(0))?;
            (rebuild_doc(conn, user_id)?, updated_at)
        }
        Err(e) => return Err(e),
    };
    let mut answers = answers_of(conn, user_id, MAX_LISTED_ANSWERS)?;
    answers.reverse();
    Ok(Some(UserRecord {
        doc,
        updated_at,
        answers,
    }))
}

const ANSWER_COLUMNS: &str = "id, question_id, stage, field, status, value, other, answered_at, \
                              logins_count, received_at";

/// Up to `limit` of a user's stored answers, newest `answeredAt` first.
fn answers_of(conn: &Connection, user_id: &str, limit: usize) -> Result<Vec<ListedAnswer>, Error> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ANSWER_COLUMNS} FROM answers WHERE user_id = ?1
         ORDER BY answered_at DESC, id DESC LIMIT ?2"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![user_id, limit], answer_row)?;
    rows.map(|row| listed(row?)).collect()
}

type AnswerRow = (StoredAnswer, String, Option<String>, String);

fn answer_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AnswerRow> {
    Ok((
        StoredAnswer {
            id: row.get(0)?,
            question_id: row.get(1)?,
            stage: row.get(2)?,
            field: row.get(3)?,
            // Filled in by `listed`: these two need fallible parsing.
            status: trickle_core::answer::Status::Snoozed,
            value: None,
            other: row.get(6)?,
            answered_at: row.get(7)?,
            logins_count: row.get(8)?,
        },
        row.get::<_, String>(4)?,
        row.get::<_, Option<String>>(5)?,
        row.get::<_, String>(9)?,
    ))
}

fn listed((mut answer, status, value, received_at): AnswerRow) -> Result<ListedAnswer, Error> {
    answer.status = parse_status(&status)?;
    answer.value = value.map(|v| serde_json::from_str(&v)).transpose()?;
    Ok(ListedAnswer {
        answer,
        received_at,
    })
}

/// A user's profile doc rebuilt by replaying every stored answer in the order the
/// collector received them, each with its own received time: the answers table
/// is the source of truth, the doc a cache of it.
fn rebuild_doc(conn: &Connection, user_id: &str) -> Result<ProfileDoc, Error> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ANSWER_COLUMNS} FROM answers WHERE user_id = ?1
         ORDER BY received_at, answered_at, id"
    ))?;
    let mut doc = ProfileDoc::default();
    for row in stmt.query_map([user_id], answer_row)? {
        let listed = listed(row?)?;
        doc.apply(&listed.answer, &listed.received_at);
    }
    Ok(doc)
}

fn read_all(conn: &Connection) -> Result<Vec<ExportRow>, Error> {
    let mut stmt =
        conn.prepare("SELECT user_id, doc, updated_at FROM profiles ORDER BY user_id")?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (user_id, doc, updated_at) = row?;
        let doc = match serde_json::from_str(&doc) {
            Ok(doc) => doc,
            // One unreadable doc must not sink the whole export.
            Err(_) => rebuild_doc(conn, &user_id)?,
        };
        out.push(ExportRow {
            user_id,
            doc,
            updated_at,
        });
    }
    Ok(out)
}
