//! The store: answers (once per user and answer id) and one merged profile per
//! user. Today it is SQLite ([`sqlite`], private); the public surface here (the
//! [`Store`] handle with `open`, `record`, `user`, `export`, `report`, `ping`, `close`, the
//! data types and [`StoreError`]) names no SQLite type, so another backend can
//! sit behind the same calls later.
//!
//! Guarantees every backend keeps:
//! - [`Store::record`] resolves only once the batch is durably committed, so a 2xx
//!   is never sent for an answer that could still be lost.
//! - A batch is all or nothing: if one answer of it is refused (an id conflict),
//!   nothing of it is stored.
//! - The key of an answer is (user id, answer id). The same pair again with the
//!   same content is a duplicate (accepted, changes nothing); with different
//!   content it is [`StoreError::IdConflict`].
//! - The merged profile is a cache of the answers: replaying a user's answers
//!   with [`ProfileDoc::apply`] gives the same document.
//! - Forwarding outbox: a newly stored answer's pending deliveries
//!   ([`NewAnswers::forward_to`]) commit with the answer. `claim_due` only hands
//!   out the oldest pending delivery of a (sink, user), under a lease; `mark_done`,
//!   `reschedule`, `mark_failed`, `list_failed`, `requeue_failed` do what they say.
//!   (On PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`; here the one writer
//!   thread serialises it.)

pub mod report;
mod sqlite;

use std::path::Path;

use serde::Serialize;

use crate::profile::{ProfileDoc, StoredAnswer};

/// The most answers `GET /v1/profiles/{id}` lists (newest kept).
pub const MAX_LISTED_ANSWERS: usize = 1000;

/// An error from the database engine, kept opaque so no engine type leaks into
/// this module's public surface.
pub type EngineError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Milliseconds since the Unix epoch: the outbox's clock.
pub fn unix_ms() -> i64 {
    sqlite::unix_ms()
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
#[derive(Debug, Clone)]
struct DeliveryKey {
    seq: i64,
    user_id: String,
    answer_id: String,
}

impl DeliveryKey {
    fn of(delivery: &Delivery) -> Self {
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

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    engine: sqlite::Sqlite,
}

impl Store {
    /// Opens (creating on first start) the SQLite database at `path`, migrates it,
    /// and starts its writer.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            engine: sqlite::Sqlite::open(path)?,
        })
    }

    /// Stores a batch; resolves once it is committed. All or nothing: on
    /// [`StoreError::IdConflict`] (or any other error) nothing of it is stored.
    pub async fn record(&self, batch: NewAnswers) -> Result<Recorded, StoreError> {
        self.engine.record(batch).await
    }

    /// One user's profile, prompt state and answers; `None` if nothing is stored.
    pub async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.engine.user(user_id.to_owned()).await
    }

    /// Every user's profile, ordered by user id.
    pub async fn export(&self) -> Result<Vec<ExportRow>, StoreError> {
        self.engine.export().await
    }

    /// The aggregates of the marketer's view (`GET /admin`), all read from one
    /// snapshot of the database.
    pub async fn report(&self, query: report::ReportQuery) -> Result<report::Report, StoreError> {
        self.engine.report(query).await
    }

    /// Whether the database answers a query and the writer is running.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.engine.ping().await
    }

    /// The forwarding outbox: claims up to `limit` due deliveries of `sink`, each
    /// the oldest pending one of its user for that sink (so one user's deliveries
    /// to one sink go in order), and leases them for `lease_ms`: until then, or
    /// until one of the calls below, no claim returns them again.
    pub async fn claim_due(
        &self,
        sink: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.engine
            .claim_due(sink.to_owned(), now_ms, lease_ms, limit)
            .await
    }

    /// The delivery arrived: it leaves the outbox.
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

    /// The delivery gave up: kept as failed, listed by [`Store::list_failed`].
    pub async fn mark_failed(&self, delivery: &Delivery, error: String) -> Result<(), StoreError> {
        self.engine
            .mark_failed(DeliveryKey::of(delivery), error)
            .await
    }

    /// Every failed delivery, oldest first.
    pub async fn list_failed(&self) -> Result<Vec<FailedDelivery>, StoreError> {
        self.engine.list_failed().await
    }

    /// Makes every failed delivery pending again, due now, with a fresh retry
    /// window; returns how many.
    pub async fn requeue_failed(&self, now_ms: i64) -> Result<usize, StoreError> {
        self.engine.requeue_failed(now_ms).await
    }

    /// When the next pending delivery of `sink` is due (Unix ms), if any.
    pub async fn next_due(&self, sink: &str) -> Result<Option<i64>, StoreError> {
        self.engine.next_due(sink.to_owned()).await
    }

    /// Pending deliveries, all sinks.
    pub async fn pending_count(&self) -> Result<i64, StoreError> {
        self.engine.pending_count().await
    }

    /// Stops taking batches, commits everything already queued, and waits for the
    /// writer to finish. Later [`Store::record`] calls fail with
    /// [`StoreError::Closed`]. Blocking: call it from a blocking context.
    pub fn close(&self) {
        self.engine.close();
    }
}
