//! The store: answers (once per user and answer id), one merged profile per
//! user, and the forwarding outbox. [`Backend`] is what a database engine
//! implements; there are two, SQLite (`sqlite.rs`, the default: one file, nothing to
//! run) and PostgreSQL (`postgres.rs`: one database shared by several collectors).
//! [`Store`] is the cheap-to-clone handle the rest of the collector uses; nothing
//! in this module's public surface names an engine's types.
//!
//! Guarantees every backend keeps (tests/stores.rs checks both against each other):
//! - [`Store::record`] resolves only once the batch is durably committed, so a 2xx
//!   is never sent for an answer that could still be lost.
//! - A batch is all or nothing: if one answer of it is refused (an id conflict),
//!   nothing of it is stored.
//! - The key of an answer is (user id, answer id), a unique key of the database,
//!   inserted with `ON CONFLICT DO NOTHING`: the database decides, whichever
//!   collector or connection races. The same pair again with the same content is a
//!   duplicate (accepted, changes nothing); with different content it is
//!   [`StoreError::IdConflict`].
//! - The merged profile is a cache of the answers: replaying a user's answers
//!   with [`ProfileDoc::apply`] (the rule of `trickle_core::profile`) gives the same
//!   document.
//! - Forwarding outbox, in two steps so that ingestion pays for one cheap row:
//!   a post with fresh answers and sinks ([`NewAnswers::forward_to`]) appends one
//!   row to the forwarding log, committed with the answers; [`Store::fan_out`]
//!   (the forwarder, in its own transactions) turns log rows into deliveries, one
//!   per answer and sink, in the order each user's posts committed. Deliveries
//!   of one (sink, user) form a line: only its first is 'pending' (the head),
//!   the rest 'queued'; when the head is done or failed the next becomes the
//!   head. `claim_due` reads heads only, under a lease, and never hands one to
//!   two claims (SQLite: its one writer thread serialises claims; PostgreSQL:
//!   `FOR UPDATE SKIP LOCKED`); `mark_done`, `reschedule`, `mark_failed`,
//!   `list_failed`, `requeue_failed` do what they say.
//!
//! Adding an operation means one method on [`Backend`], one in each engine, and
//! its forwarding method on [`Store`].

mod postgres;
pub mod report;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value as Json;

use crate::profile::{ProfileDoc, StoredAnswer};

/// The most answers `GET /v1/profiles/{id}` lists (newest kept).
pub const MAX_LISTED_ANSWERS: usize = 1000;

/// An error from the database engine, kept opaque so no engine type leaks into
/// this module's public surface.
pub type EngineError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Milliseconds since the Unix epoch: the outbox's clock.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where the collector keeps its data: the `--db` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file (created on first start).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`); the
    /// database must exist, its tables are created on first start.
    Postgres(String),
}

impl Location {
    /// `postgres://...` or `postgresql://...` is PostgreSQL; anything else is a
    /// SQLite file path.
    pub fn parse(arg: &str) -> Location {
        let lower = arg.get(..13).unwrap_or(arg).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Location::Postgres(arg.to_owned())
        } else {
            Location::Sqlite(PathBuf::from(arg))
        }
    }
}

impl std::fmt::Display for Location {
    /// The path, or the URL with any password replaced by `***` (this goes to
    /// logs and error messages).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    write!(f, "{parsed}")
                }
                // Not a URL the driver could use either; show only the scheme.
                Err(_) => f.write_str("postgres://(unparsable URL)"),
            },
        }
    }
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused (I/O, locking, a constraint, ...).
    #[error("database: {0}")]
    Database(#[source] EngineError),
    /// Stored data could not be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database was written by a newer collector.
    #[error("database schema version {found} is newer than this collector's {known}")]
    TooNew {
        /// The database's schema version.
        found: i64,
        /// The newest schema version this build knows.
        known: i64,
    },
    /// The answer at `index` of the batch has an id already stored for this user
    /// with different content. Nothing of the batch was stored.
    #[error("answers[{index}].id: this id is already stored for this user with different content")]
    IdConflict {
        /// The position of the conflicting answer in [`NewAnswers::answers`].
        index: usize,
    },
    /// The store is closed (shutting down).
    #[error("the store is closed")]
    Closed,
    /// A background task failed.
    #[error("store task failed: {0}")]
    Task(String),
    /// The `--db` value cannot be used (a PostgreSQL URL the driver refuses).
    #[error("{0}")]
    Config(String),
}

/// One validated envelope to store.
#[derive(Debug, Clone)]
pub struct NewAnswers {
    /// The user the answers belong to.
    pub user_id: String,
    /// The answers, values normalised, in the order they were posted.
    pub answers: Vec<StoredAnswer>,
    /// The envelope's `context`, as JSON text.
    pub context: String,
    /// The forwarding sinks (their keys) that get a pending delivery for each
    /// newly stored answer, written in the same transaction. Empty: none.
    pub forward_to: Vec<String>,
}

/// What storing an envelope did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Answers stored for the first time.
    pub stored: usize,
    /// Answers already stored for this user under the same id with the same
    /// content (accepted and ignored).
    pub duplicates: usize,
}

/// A stored answer as `GET /v1/profiles/{id}` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedAnswer {
    /// The answer itself.
    #[serde(flatten)]
    pub answer: StoredAnswer,
    /// When the collector stored it (canonical UTC).
    pub received_at: String,
}

/// Everything the collector knows about one user.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The merged profile and prompt state.
    pub doc: ProfileDoc,
    /// When it last changed (canonical UTC).
    pub updated_at: String,
    /// Stored answers, oldest `answeredAt` first (at most [`MAX_LISTED_ANSWERS`],
    /// the newest).
    pub answers: Vec<ListedAnswer>,
}

/// One row of the export.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// The user id.
    pub user_id: String,
    /// The merged profile and prompt state.
    pub doc: ProfileDoc,
    /// When it last changed (canonical UTC).
    pub updated_at: String,
}

/// A claimed delivery of the forwarding outbox: one answer to one sink.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The outbox row (increasing: the order answers were stored).
    pub seq: i64,
    /// The user.
    pub user_id: String,
    /// The answer's id.
    pub answer_id: String,
    /// The answer as stored (`None` if it is no longer stored).
    pub answer: Option<ListedAnswer>,
    /// The envelope's context the answer came with, as JSON text.
    pub context: String,
    /// The user's merged profile as it is now.
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// When the delivery was queued (or requeued), Unix milliseconds.
    pub created_at_ms: i64,
}

/// Which outbox row a claim's outcome is for: its seq, and the user and answer
/// it carries. A seq alone could name another row: seqs are rowids, and the
/// newest one is given out again once its row is deleted, so an outcome that
/// arrives after its lease ran out (and the row was delivered by a later claim)
/// must not land on a newer row that got the same seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryKey {
    /// The outbox row.
    pub seq: i64,
    /// The user of the delivery.
    pub user_id: String,
    /// The answer it carries.
    pub answer_id: String,
}

impl DeliveryKey {
    /// The key of a claimed delivery.
    pub fn of(delivery: &Delivery) -> Self {
        Self {
            seq: delivery.seq,
            user_id: delivery.user_id.clone(),
            answer_id: delivery.answer_id.clone(),
        }
    }
}

/// A delivery that gave up (listed by `trickle-collector forward --failed`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedDelivery {
    /// The outbox row.
    pub seq: i64,
    /// The sink's key.
    pub sink: String,
    /// The user.
    pub user_id: String,
    /// The answer's id.
    pub answer_id: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was queued, Unix milliseconds.
    pub created_at_ms: i64,
    /// The last error.
    pub last_error: String,
}

/// What a database engine implements; [`Store`] wraps one. The methods are the
/// [`Store`] methods of the same name (documented there); each engine keeps the
/// guarantees of the module documentation.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// See [`Store::record`].
    async fn record(&self, batch: NewAnswers) -> Result<Recorded, StoreError>;
    /// See [`Store::user`].
    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// See [`Store::export`].
    async fn export(&self) -> Result<Vec<ExportRow>, StoreError>;
    /// See [`Store::report`].
    async fn report(&self, query: report::ReportQuery) -> Result<report::Report, StoreError>;
    /// See [`Store::ping`].
    async fn ping(&self) -> Result<(), StoreError>;
    /// See [`Store::claim_due`].
    async fn claim_due(
        &self,
        sink: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// See [`Store::fan_out`].
    async fn fan_out(&self, limit: usize) -> Result<usize, StoreError>;
    /// See [`Store::mark_done`].
    async fn mark_done(&self, of: DeliveryKey) -> Result<(), StoreError>;
    /// See [`Store::reschedule`].
    async fn reschedule(
        &self,
        of: DeliveryKey,
        next_at_ms: i64,
        error: String,
    ) -> Result<(), StoreError>;
    /// See [`Store::mark_failed`].
    async fn mark_failed(&self, of: DeliveryKey, error: String) -> Result<(), StoreError>;
    /// See [`Store::list_failed`].
    async fn list_failed(&self) -> Result<Vec<FailedDelivery>, StoreError>;
    /// See [`Store::requeue_failed`].
    async fn requeue_failed(&self, now_ms: i64) -> Result<usize, StoreError>;
    /// See [`Store::next_due`].
    async fn next_due(&self, sink: &str) -> Result<Option<i64>, StoreError>;
    /// See [`Store::pending_count`].
    async fn pending_count(&self) -> Result<i64, StoreError>;
    /// See [`Store::close`]. Blocking.
    fn close(&self);
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    engine: Arc<dyn Backend>,
}

impl Store {
    /// Opens (creating on first start) the SQLite database at `path`, migrates it,
    /// and starts its writer.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            engine: Arc::new(sqlite::Sqlite::open(path)?),
        })
    }

    /// Opens the store at `location`: SQLite as [`Store::open`] does, or
    /// PostgreSQL: a connection pool (with timeouts, so an unreachable database
    /// makes calls fail instead of hang), then the migrations, under an advisory
    /// lock so collectors starting together migrate once. Fails when PostgreSQL
    /// cannot be reached.
    pub async fn connect(location: &Location) -> Result<Store, StoreError> {
        let engine: Arc<dyn Backend> = match location {
            Location::Sqlite(path) => {
                let path = path.clone();
                Arc::new(
                    tokio::task::spawn_blocking(move || sqlite::Sqlite::open(&path))
                        .await
                        .map_err(|e| StoreError::Task(e.to_string()))??,
                )
            }
            Location::Postgres(url) => Arc::new(postgres::Postgres::connect(url).await?),
        };
        Ok(Store { engine })
    }

    /// Stores a batch; resolves once it is committed. All or nothing: on
    /// [`StoreError::IdConflict`] (or any other error) nothing of it is stored.
    pub async fn record(&self, batch: NewAnswers) -> Result<Recorded, StoreError> {
        self.engine.record(batch).await
    }

    /// One user's profile, prompt state and answers; `None` if nothing is stored.
    pub async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.engine.user(user_id).await
    }

    /// Every user's profile, ordered by user id (byte order, on both engines).
    pub async fn export(&self) -> Result<Vec<ExportRow>, StoreError> {
        self.engine.export().await
    }

    /// The aggregates of the marketer's view (`GET /admin`), all read from one
    /// snapshot of the database.
    pub async fn report(&self, query: report::ReportQuery) -> Result<report::Report, StoreError> {
        self.engine.report(query).await
    }

    /// Whether the database answers a query (and, on SQLite, the writer runs).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.engine.ping().await
    }

    /// The forwarding outbox: claims up to `limit` due deliveries of `sink`, each
    /// the oldest pending one of its user for that sink (so one user's deliveries
    /// to one sink go in order), and leases them for `lease_ms`: until then, or
    /// until one of the calls below, no claim returns them again, from this
    /// collector or another one on the same database.
    pub async fn claim_due(
        &self,
        sink: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.engine.claim_due(sink, now_ms, lease_ms, limit).await
    }

    /// Turns up to `limit` rows of the forwarding log (one per post that stored
    /// answers for some sink), oldest first, into deliveries, in one transaction
    /// of its own; returns the log rows moved (fewer than `limit`: the log is
    /// empty now). Safe to call from several tasks and collectors at once: on
    /// PostgreSQL one collector fans out at a time, the others return 0.
    pub async fn fan_out(&self, limit: usize) -> Result<usize, StoreError> {
        self.engine.fan_out(limit).await
    }

    /// The delivery arrived: it leaves the outbox, and the next of its line
    /// (same sink and user) becomes due.
    pub async fn mark_done(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.engine.mark_done(DeliveryKey::of(delivery)).await
    }

    /// The delivery is tried again at `next_at_ms`; `error` says why it failed.
    pub async fn reschedule(
        &self,
        delivery: &Delivery,
        next_at_ms: i64,
        error: String,
    ) -> Result<(), StoreError> {
        self.engine
            .reschedule(DeliveryKey::of(delivery), next_at_ms, error)
            .await
    }

    /// The delivery gave up: kept as failed, listed by [`Store::list_failed`];
    /// the next of its line becomes due.
    pub async fn mark_failed(&self, delivery: &Delivery, error: String) -> Result<(), StoreError> {
        self.engine
            .mark_failed(DeliveryKey::of(delivery), error)
            .await
    }

    /// Every failed delivery, oldest first.
    pub async fn list_failed(&self) -> Result<Vec<FailedDelivery>, StoreError> {
        self.engine.list_failed().await
    }

    /// Puts every failed delivery back in its line (by its original order), due
    /// now when it is first in line, with a fresh retry window; returns how many.
    pub async fn requeue_failed(&self, now_ms: i64) -> Result<usize, StoreError> {
        self.engine.requeue_failed(now_ms).await
    }

    /// When the next pending delivery of `sink` is due (Unix ms), if any.
    pub async fn next_due(&self, sink: &str) -> Result<Option<i64>, StoreError> {
        self.engine.next_due(sink).await
    }

    /// Deliveries not yet done nor failed, all sinks, those still in the log
    /// included.
    pub async fn pending_count(&self) -> Result<i64, StoreError> {
        self.engine.pending_count().await
    }

    /// Stops taking batches, commits everything already queued (SQLite: waits for
    /// the writer; PostgreSQL: closes the pool), and returns. Later calls fail
    /// with [`StoreError::Closed`]. Blocking: call it from a blocking context.
    pub fn close(&self) {
        self.engine.close();
    }
}

/// Whether `stored` (read back from the database) has the same content as
/// `given`: question, stage, field, status, value, other, answeredAt and
/// loginsCount. The envelope's context and the received time are not content: a
/// retry from another page is still the same answer.
fn same_content(stored: &StoredAnswer, given: &StoredAnswer) -> bool {
    let same_value = match (&stored.value, &given.value) {
        (None, None) => true,
        (Some(stored), Some(given)) => same_json(stored, given),
        _ => false,
    };
    stored.question_id == given.question_id
        && stored.stage == given.stage
        && stored.field == given.field
        && stored.status == given.status
        && same_value
        && stored.other == given.other
        && stored.answered_at == given.answered_at
        && stored.logins_count == given.logins_count
}

/// JSON equality with numbers compared by value (`42` equals `42.0`), so a value
/// stored by an older build that wrote numbers differently still matches.
fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Json::Array(xs), Json::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_json(x, y))
        }
        (Json::Object(xs), Json::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, x)| ys.get(k).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}

/// An answer's status as both engines store it.
fn status_str(status: trickle_core::answer::Status) -> &'static str {
    use trickle_core::answer::Status;
    match status {
        Status::Answered => "answered",
        Status::Declined => "declined",
        Status::Snoozed => "snoozed",
    }
}

/// When an answer counts as given, in Unix ms: its `answeredAt` clamped to its
/// receipt (`answers.at_ms`, what the report's days count by). Both are canonical
/// UTC, which always parses; 0 only if one did not.
fn at_ms(answered_at: &str, received_at: &str) -> i64 {
    trickle_core::time::parse_rfc3339(crate::profile::clamp(answered_at, received_at)).unwrap_or(0)
}

/// The stored status text back; anything else is corrupt data.
fn parse_status(text: &str) -> Result<trickle_core::answer::Status, StoreError> {
    serde_json::from_value(Json::String(text.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("unknown answer status {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_compare_numbers_by_value() {
        assert!(same_json(&json!(42), &json!(42.0)));
        assert!(same_json(&json!(["a", "b"]), &json!(["a", "b"])));
        assert!(!same_json(&json!(["a", "b"]), &json!(["b", "a"])));
        assert!(!same_json(&json!("42"), &json!(42)));
        assert!(!same_json(&json!(2.5), &json!(2)));
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_anything_else_is_a_sqlite_path() {
        for url in [
            "postgres://u@db.example/trickle",
            "postgresql://u:p@127.0.0.1:5432/t?sslmode=disable",
            "POSTGRES://u@h/d",
        ] {
            assert_eq!(
                Location::parse(url),
                Location::Postgres(url.into()),
                "{url}"
            );
        }
        for path in [
            "profiles.db",
            "/var/lib/trickle/p.db",
            "postgres.db",
            "./postgres://x",
        ] {
            assert_eq!(
                Location::parse(path),
                Location::Sqlite(path.into()),
                "{path}"
            );
        }
    }

    #[test]
    fn a_postgres_location_never_shows_its_password() {
        let shown = Location::parse("postgres://trickle:s3cret@db.example:5432/t").to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("trickle:***@db.example:5432/t"), "{shown}");
        let shown = Location::parse("postgres://[broken").to_string();
        assert!(!shown.contains("broken"), "{shown}");
    }
}
