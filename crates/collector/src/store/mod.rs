//! The store: answers (once per user and answer id) and one merged profile per
//! user. Today it is SQLite ([`sqlite`], private); the public surface here (the
//! [`Store`] handle with `open`, `record`, `user`, `export`, `ping`, `close`, the
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

mod sqlite;

use std::path::Path;

use serde::Serialize;

use crate::profile::{ProfileDoc, StoredAnswer};

/// The most answers `GET /v1/profiles/{id}` lists (newest kept).
pub const MAX_LISTED_ANSWERS: usize = 1000;

/// An error from the database engine, kept opaque so no engine type leaks into
/// this module's public surface.
pub type EngineError = Box<dyn std::error::Error + Send + Sync + 'static>;

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

    /// Whether the database answers a query and the writer is running.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.engine.ping().await
    }

    /// Stops taking batches, commits everything already queued, and waits for the
    /// writer to finish. Later [`Store::record`] calls fail with
    /// [`StoreError::Closed`]. Blocking: call it from a blocking context.
    pub fn close(&self) {
        self.engine.close();
    }
}
