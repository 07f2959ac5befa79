//! The SQLite store: answers (once per id) and one merged profile per user.
//!
//! Writes go through one dedicated writer thread that owns the only write
//! connection. It takes every job waiting in its queue, applies each inside its own
//! savepoint of one transaction, commits once, and only then replies to each job:
//! a 2xx is never sent for an answer that is not committed, and many concurrent
//! posts share one commit (group commit) instead of queueing on a lock. Reads use a
//! separate connection; WAL mode lets them run while the writer commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::profile::{ProfileDoc, StoredAnswer};

/// The most jobs one transaction takes; bounds how long any reply waits.
const MAX_JOBS_PER_COMMIT: usize = 512;
/// How many jobs may wait for the writer before posters wait for room.
const QUEUE_DEPTH: usize = 4096;
/// The most answers `GET /v1/profiles/{id}` lists (newest kept).
pub const MAX_LISTED_ANSWERS: usize = 1000;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those done.
/// Append only: never edit a migration that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: answers (the raw log, once per id) and the merged profile per user.
    "CREATE TABLE answers (
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
];

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored document could not be read back.
    #[error("corrupt stored document: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The database was written by a newer collector.
    #[error("database schema version {found} is newer than this collector's {known}")]
    TooNew {
        /// The database's `user_version`.
        found: i64,
        /// The newest migration this build knows.
        known: i64,
    },
    /// The writer has stopped (shutting down).
    #[error("the store is closed")]
    Closed,
    /// A blocking read task failed.
    #[error("read task failed: {0}")]
    Task(String),
}

/// One validated envelope to store.
#[derive(Debug, Clone)]
pub struct NewAnswers {
    /// The user the answers belong to.
    pub user_id: String,
    /// The answers, values normalised.
    pub answers: Vec<StoredAnswer>,
    /// The envelope's `context`, as JSON text.
    pub context: String,
}

/// What storing an envelope did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Answers stored for the first time.
    pub stored: usize,
    /// Answers whose id was already stored (accepted and ignored).
    pub duplicates: usize,
}

/// A stored answer as `GET /v1/profiles/{id}` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedAnswer {
    /// The answer itself.
    #[serde(flatten)]
    pub answer: StoredAnswer,
    /// When the collector stored it.
    pub received_at: String,
}

/// Everything the collector knows about one user.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The merged profile and prompt state.
    pub doc: ProfileDoc,
    /// When it last changed.
    pub updated_at: String,
    /// Stored answers, oldest first (at most [`MAX_LISTED_ANSWERS`], the newest).
    pub answers: Vec<ListedAnswer>,
}

/// One row of the export.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// The user id.
    pub user_id: String,
    /// The merged profile and prompt state.
    pub doc: ProfileDoc,
    /// When it last changed.
    pub updated_at: String,
}

struct Job {
    batch: NewAnswers,
    reply: oneshot::Sender<Result<Recorded, StoreError>>,
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    reader: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating on first start) the database at `path`, migrates it, and
    /// starts the writer thread.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
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
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                jobs: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(writer)),
                reader: Arc::new(Mutex::new(reader)),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Stores a batch; resolves once it is committed.
    pub async fn record(&self, batch: NewAnswers) -> Result<Recorded, StoreError> {
        let sender = lock(&self.inner.jobs).clone().ok_or(StoreError::Closed)?;
        let (reply, done) = oneshot::channel();
        sender
            .send(Job { batch, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// One user's profile, prompt state and answers; `None` if nothing is stored.
    pub async fn user(&self, user_id: String) -> Result<Option<UserRecord>, StoreError> {
        self.read(move |conn| read_user(conn, &user_id)).await
    }

    /// Every user's profile, ordered by user id.
    pub async fn export(&self) -> Result<Vec<ExportRow>, StoreError> {
        self.read(read_all).await
    }

    /// Whether the database answers a query and the writer is running.
    pub async fn ping(&self) -> Result<(), StoreError> {
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

    /// Stops taking jobs, lets the writer commit everything already queued, and
    /// waits for it to finish. Later `record` calls fail with [`StoreError::Closed`].
    pub fn close(&self) {
        // Dropping the last sender ends the writer's loop once the queue is empty.
        drop(lock(&self.inner.jobs).take());
        if let Some(handle) = lock(&self.inner.writer).take() {
            if handle.join().is_err() {
                tracing::error!("store writer thread panicked");
            }
        }
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let reader = Arc::clone(&self.inner.reader);
        tokio::task::spawn_blocking(move || f(&lock(&reader)))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

// A poisoned mutex only means another thread panicked while holding it; the
// connection or sender inside is still usable, so go on rather than cascade.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
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

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "database migrated");
    }
    Ok(())
}

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_JOBS_PER_COMMIT);
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        while jobs.len() < MAX_JOBS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit_jobs(&mut conn, &mut jobs);
    }
    // Fold the WAL back into the main file so a stopped collector leaves one file.
    if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
        tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
    }
}

fn commit_jobs(conn: &mut Connection, jobs: &mut Vec<Job>) {
    tracing::trace!(jobs = jobs.len(), "group commit");
    let now = crate::timestamp::now_utc();
    let tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            for job in jobs.drain(..) {
                let _ = job.reply.send(Err(StoreError::Task(message.clone())));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs.iter() {
        results.push(apply_in_savepoint(&tx, &job.batch, &now));
    }
    match tx.commit() {
        Ok(()) => {
            for (job, result) in jobs.drain(..).zip(results) {
                // The poster may have timed out and gone; the answer is stored anyway.
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed");
            let message = e.to_string();
            for job in jobs.drain(..) {
                let _ = job
                    .reply
                    .send(Err(StoreError::Task(format!("commit failed: {message}"))));
            }
        }
    }
}

/// One job inside its own savepoint, so a failing job does not undo the others
/// that share the transaction.
fn apply_in_savepoint(
    tx: &Transaction<'_>,
    batch: &NewAnswers,
    now: &str,
) -> Result<Recorded, StoreError> {
    // Cached statements: they run once per job, so they are prepared once.
    tx.prepare_cached("SAVEPOINT job")?.execute([])?;
    match apply_batch(tx, batch, now) {
        Ok(recorded) => {
            tx.prepare_cached("RELEASE job")?.execute([])?;
            Ok(recorded)
        }
        Err(e) => {
            tx.prepare_cached("ROLLBACK TO job")?.execute([])?;
            tx.prepare_cached("RELEASE job")?.execute([])?;
            Err(e)
        }
    }
}

fn apply_batch(
    tx: &Transaction<'_>,
    batch: &NewAnswers,
    now: &str,
) -> Result<Recorded, StoreError> {
    let mut fresh = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO answers (id, user_id, question_id, stage, field, status, value, other,
                                  answered_at, logins_count, context, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO NOTHING",
        )?;
        for answer in &batch.answers {
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
            ])?;
            if inserted == 1 {
                fresh.push(answer);
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
        Err(StoreError::Corrupt(e)) => {
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

fn load_doc(conn: &Connection, user_id: &str) -> Result<Option<(ProfileDoc, String)>, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT doc, updated_at FROM profiles WHERE user_id = ?1")?
        .query_row([user_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    match row {
        Some((doc, updated_at)) => Ok(Some((serde_json::from_str(&doc)?, updated_at))),
        None => Ok(None),
    }
}

fn read_user(conn: &Connection, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
    let (doc, updated_at) = match load_doc(conn, user_id) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        // Serve what the answers say; the next write stores the rebuilt doc.
        Err(StoreError::Corrupt(_)) => {
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

/// Up to `limit` of a user's stored answers, newest first.
fn answers_of(
    conn: &Connection,
    user_id: &str,
    limit: usize,
) -> Result<Vec<ListedAnswer>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, question_id, stage, field, status, value, other, answered_at, logins_count, received_at
         FROM answers WHERE user_id = ?1 ORDER BY answered_at DESC, id DESC LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![user_id, limit], |row| {
        Ok((
            StoredAnswer {
                id: row.get(0)?,
                question_id: row.get(1)?,
                stage: row.get(2)?,
                field: row.get(3)?,
                // Filled in below: these two need fallible parsing.
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
    })?;
    let mut answers = Vec::new();
    for row in rows {
        let (mut answer, status, value, received_at) = row?;
        answer.status = parse_status(&status)?;
        answer.value = value.map(|v| serde_json::from_str(&v)).transpose()?;
        answers.push(ListedAnswer {
            answer,
            received_at,
        });
    }
    Ok(answers)
}

/// A user's profile doc rebuilt by replaying every stored answer, oldest first,
/// each with the time it was received: the answers table is the source of truth,
/// the doc a cache of it.
fn rebuild_doc(conn: &Connection, user_id: &str) -> Result<ProfileDoc, StoreError> {
    let mut doc = ProfileDoc::default();
    for listed in answers_of(conn, user_id, usize::MAX)?.iter().rev() {
        doc.apply(&listed.answer, &listed.received_at);
    }
    Ok(doc)
}

fn read_all(conn: &Connection) -> Result<Vec<ExportRow>, StoreError> {
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

fn status_str(status: trickle_core::answer::Status) -> &'static str {
    use trickle_core::answer::Status;
    match status {
        Status::Answered => "answered",
        Status::Declined => "declined",
        Status::Snoozed => "snoozed",
    }
}

fn parse_status(text: &str) -> Result<trickle_core::answer::Status, StoreError> {
    Ok(serde_json::from_value(serde_json::Value::String(
        text.to_owned(),
    ))?)
}
