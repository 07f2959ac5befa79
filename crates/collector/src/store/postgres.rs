//! The PostgreSQL engine behind [`super::Store`] (`--db postgres://...`): one
//! database that several collectors share.
//!
//! Every call takes a connection from a pool (deadpool) whose waits, connects and
//! recycles are bounded, so while the database is unreachable calls fail fast with
//! [`StoreError::Database`] (a 503 for the widget, which retries) and pick up again
//! once it is back: a lost connection is noticed and replaced when it is next
//! taken from the pool.
//!
//! A posted batch is one transaction. Writes of one user are serialised across
//! collectors by a transaction-scoped advisory lock on the user id (taken first):
//! the merged profile is read, changed and written back without losing a
//! concurrent change, and the outbox rows of one user get their `seq` in commit
//! order, which the per-user delivery order relies on. Which answer is new is
//! still decided by the unique key (user_id, id) with `ON CONFLICT DO NOTHING`.
//!
//! Text columns are `COLLATE "C"` (byte order), so ordering (the export's user
//! order, the profile's answer order, a replay's order) is the same as SQLite's
//! whatever the database's default collation.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::report::{self, Report, ReportQuery, ReportRows};
use super::{
    at_ms, parse_status, same_content, status_str, unix_ms, Backend, Delivery, DeliveryKey,
    ExportRow, FailedDelivery, ListedAnswer, NewAnswers, Recorded, StoreError, UserRecord,
    MAX_LISTED_ANSWERS,
};
use crate::profile::{ProfileDoc, StoredAnswer};

/// Connections per collector. Each post holds one for its transaction only; with
/// several collectors on one database, their sum must stay under the server's
/// `max_connections` (100 by default).
const POOL_SIZE: usize = 16;
/// How long a call waits for a pooled connection, a new connection, or a check
/// of a returned one, before it fails (and the request gets a 503).
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// The advisory lock key (bigint form) held while migrating: "trickle" in ASCII.
/// Collectors starting together take turns; the second finds nothing to do.
const MIGRATION_LOCK: i64 = 0x0074_7269_636b_6c65;
/// The first half of the two-int advisory lock key of a user's writes ("trk"); the
/// second half is `hashtext(user_id)`. The two-int form never meets the bigint one.
const USER_LOCK_CLASS: i32 = 0x0074_726b;
/// The first half of the advisory lock key of a user's forwarding lines ("trf"),
/// the second `hashtext(user_id)`: the fan-out and the end of a head (done,
/// failed) take it, so one never misses the other's row (a row queued behind a
/// head that is being deleted would otherwise wait forever). Ingestion does not.
const LINE_LOCK_CLASS: i32 = 0x0074_7266;
/// The bigint advisory lock key of the fan-out ("fanout"): one collector fans out
/// at a time, so deliveries get their seq in log order.
const FAN_OUT_LOCK: i64 = 0x6661_6e6f_7574;

/// Schema migrations, applied in order inside one transaction under
/// [`MIGRATION_LOCK`]; `schema_version.version` counts those done. Append only:
/// never edit a migration that has shipped. (PostgreSQL's version 1 is the schema
/// SQLite reached in its version 4; the numbers of the two engines are their own.)
const MIGRATIONS: &[&str] = &[
    // 1: answers keyed by (user_id, id), the merged profile per user, and the
    // forwarding outbox with its sinks. Values, docs and contexts are JSON text
    // (as on SQLite: the collector reads them back byte for byte).
    r#"CREATE TABLE answers (
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        question_id TEXT COLLATE "C" NOT NULL,
        stage TEXT COLLATE "C" NOT NULL,
        field TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL CHECK (status IN ('answered', 'declined', 'snoozed')),
        value TEXT,
        other BOOLEAN NOT NULL DEFAULT false,
        answered_at TEXT COLLATE "C" NOT NULL,
        logins_count BIGINT NOT NULL,
        context TEXT NOT NULL,
        received_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (user_id, id)
    );
    CREATE INDEX answers_by_user ON answers (user_id, answered_at);
    CREATE TABLE profiles (
        user_id TEXT COLLATE "C" PRIMARY KEY,
        doc TEXT NOT NULL,
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
    // 2: forwarding off the ingestion path (as SQLite's version 5). A post with
    // fresh answers and sinks appends one row to `forward_log` (no secondary
    // index); the forwarder fans log rows out into `deliveries` in its own
    // transactions. In `deliveries` only the first row in line of a (sink, user)
    // is 'pending' (the head, read by claims through `deliveries_due`); the rows
    // behind it are 'queued'. Rows pending before this migration keep their seq;
    // all but the oldest of each (sink, user) queue behind it.
    r#"CREATE TABLE forward_log (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id TEXT COLLATE "C" NOT NULL,
        answer_ids TEXT[] NOT NULL,
        sink_ids BIGINT[] NOT NULL,
        created_at BIGINT NOT NULL
    );
    ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
    ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'queued', 'failed'));
    ALTER TABLE deliveries ALTER COLUMN status SET DEFAULT 'queued';
    UPDATE deliveries d SET status = 'queued'
    WHERE d.status = 'pending'
      AND EXISTS (SELECT 1 FROM deliveries e
                  WHERE e.sink_id = d.sink_id AND e.user_id = d.user_id
                    AND e.status = 'pending' AND e.seq < d.seq);
    DROP INDEX deliveries_in_order;
    CREATE INDEX deliveries_line ON deliveries (sink_id, user_id, seq) WHERE status <> 'failed';"#,
    // 3: the marketer's view (`GET /admin`), as SQLite's migration 6. `at_ms`:
    // when the answer counts as given (`answeredAt` clamped to its receipt, the
    // smaller of two canonical UTC strings), Unix ms, so the report's days are
    // integer arithmetic on both engines; filled in for stored answers. Then the
    // report's indexes, one per query: each reads its own index only. (SQLite
    // has two: `report::INDEXES` says why the engines differ.)
    r#"ALTER TABLE answers ADD COLUMN at_ms BIGINT NOT NULL DEFAULT 0;
    UPDATE answers SET at_ms =
        floor(extract(epoch FROM LEAST(answered_at, received_at)::timestamptz) * 1000)::bigint;
    CREATE INDEX answers_report_field ON answers (status, field, user_id);
    CREATE INDEX answers_report_question ON answers (question_id, status, value, other);
    CREATE INDEX answers_report_stage ON answers (stage, user_id, question_id, status);
    CREATE INDEX answers_report_day ON answers (status, at_ms);"#,
];

/// The answer columns, in the order [`answer_of`] reads them.
const ANSWER_COLUMNS: &str =
    "id, question_id, stage, field, status, value, other, answered_at, logins_count, received_at";

/// The engine: a connection pool, and the sink ids already resolved.
pub(super) struct Postgres {
    pool: Pool,
    /// Sink key to `sinks.id`. Sinks are never deleted, so a cached id stays right.
    sinks: Mutex<HashMap<String, i64>>,
}

/// rustls with ring (the provider reqwest already brings) and the Mozilla roots.
fn tls() -> Result<MakeRustlsConnect, StoreError> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::Database(Box::new(e))
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Closed => StoreError::Closed,
        PoolError::Backend(e) => db(e),
        other => StoreError::Database(Box::new(other)),
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Postgres {
    /// Connects (the URL's own `connect_timeout` wins over ours), migrates, and
    /// keeps the pool.
    pub(super) async fn connect(url: &str) -> Result<Postgres, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Config(format!("not a usable PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        // Without sslmode in the URL: no TLS (libpq would try TLS without checking
        // the certificate, which rustls never does; Debian's own PostgreSQL offers
        // a self-signed one). `sslmode=prefer` or `require`: TLS, the server's
        // certificate checked against the Mozilla roots.
        if !url.contains("sslmode=") {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
        }
        if config.get_application_name().is_none() {
            config.application_name("trickle-collector");
        }
        // Keepalives notice a server that vanished without closing the socket.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let manager = Manager::from_config(
            config,
            tls()?,
            // Fast: a connection whose socket closed (a database restart) is
            // dropped when taken; one that only looks alive fails its query,
            // which is a 503 the widget retries.
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        let engine = Postgres {
            pool,
            sinks: Mutex::new(HashMap::new()),
        };
        engine.migrate().await?;
        Ok(engine)
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .await
            .map_err(db)?;
        let found: i64 = match tx
            .query_opt("SELECT version FROM schema_version", &[])
            .await
            .map_err(db)?
        {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])
                    .await
                    .map_err(db)?;
                0
            }
        };
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.batch_execute(sql).await.map_err(db)?;

            tracing::info!(version = index + 1, "database migrated");
        }
        tx.execute("UPDATE schema_version SET version = $1", &[&known])
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// The ids of `names` in `sinks`, each added (in its own statement, outside
    /// any batch's transaction) the first time it is seen.
    async fn sink_ids(
        &self,
        client: &deadpool_postgres::Client,
        names: &[String],
    ) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(names.len());
        for name in names {
            let cached = lock(&self.sinks).get(name).copied();
            let id = match cached {
                Some(id) => id,
                None => {
                    // DO UPDATE (a no-op) rather than DO NOTHING: RETURNING then
                    // gives the id of an existing row too.
                    let row = client
                        .cached_query_one(
                            "INSERT INTO sinks (name) VALUES ($1)
                             ON CONFLICT (name) DO UPDATE SET name = excluded.name
                             RETURNING id",
                            &[name],
                        )
                        .await?;
                    let id: i64 = row.get(0);
                    lock(&self.sinks).insert(name.clone(), id);
                    id
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }
}

impl Postgres {
    /// Ends a head of line with `sql` (its delivery done or failed; the statement
    /// returns the row's `sink_id`, none if the row is gone) and makes the next
    /// of the line its head, under the user's line lock (see
    /// [`LINE_LOCK_CLASS`]).
    async fn end_head(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        user_id: &str,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.cached_execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LINE_LOCK_CLASS, &user_id],
        )
        .await?;
        let ended = tx.cached_query_opt(sql, params).await?;
        if let Some(row) = ended {
            let sink_id: i64 = row.get(0);
            promote(&tx, &[sink_id], &[user_id.to_owned()]).await?;
        }
        tx.commit().await.map_err(db)
    }
}

/// Gives each line (`sinks[i]`, `users[i]`) that has no head one: its oldest
/// queued row becomes 'pending'. Reads through `deliveries_line`.
async fn promote(
    client: &impl GenericClient,
    sinks: &[i64],
    users: &[String],
) -> Result<(), StoreError> {
    if sinks.is_empty() {
        return Ok(());
    }
    client
        .cached_execute(
            "UPDATE deliveries d SET status = 'pending'
             FROM (SELECT DISTINCT ON (q.sink_id, q.user_id) q.seq
                   FROM (SELECT DISTINCT s, u FROM unnest($1::int8[], $2::text[]) AS t(s, u)) t
                   JOIN deliveries q ON q.sink_id = t.s AND q.user_id = t.u
                   WHERE q.status <> 'failed' AND q.status = 'queued'
                     AND NOT EXISTS (SELECT 1 FROM deliveries p
                                     WHERE p.sink_id = q.sink_id AND p.user_id = q.user_id
                                       AND p.status <> 'failed' AND p.status = 'pending')
                   ORDER BY q.sink_id, q.user_id, q.seq) head
             WHERE d.seq = head.seq",
            &[&sinks, &users],
        )
        .await?;
    Ok(())
}

/// Queries through the connection's statement cache: a statement is parsed and
/// planned once per connection, and each later use is one round trip (a query
/// given as text costs two: prepare, then execute).
#[async_trait::async_trait]
trait Cached: GenericClient + Sync {
    async fn cached_query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let statement = self.prepare_cached(sql).await.map_err(db)?;
        self.query(&statement, params).await.map_err(db)
    }

    async fn cached_query_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        let statement = self.prepare_cached(sql).await.map_err(db)?;
        self.query_one(&statement, params).await.map_err(db)
    }

    async fn cached_query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let statement = self.prepare_cached(sql).await.map_err(db)?;
        self.query_opt(&statement, params).await.map_err(db)
    }

    async fn cached_execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let statement = self.prepare_cached(sql).await.map_err(db)?;
        self.execute(&statement, params).await.map_err(db)
    }
}

impl<C: GenericClient + Sync> Cached for C {}

/// `values` as query parameters.
fn params(values: &[String]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

// A poisoned mutex only means another thread panicked while holding it; the map
// inside is still right (inserts are single calls).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait::async_trait]
impl Backend for Postgres {
    async fn record(&self, batch: NewAnswers) -> Result<Recorded, StoreError> {
        let mut client = self.client().await?;
        let sinks = self.sink_ids(&client, &batch.forward_to).await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.cached_execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&USER_LOCK_CLASS, &batch.user_id],
        )
        .await?;
        // After the lock: an answer is received once the other collector's
        // transaction for this user has committed.
        let now = crate::timestamp::now_utc();
        let now_ms = unix_ms();
        // The whole batch in one statement (one round trip however many answers):
        // one array per column, in the batch's order. RETURNING names the answers
        // this statement inserted; the same id twice in the batch is inserted once.
        let n = batch.answers.len();
        let mut columns = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for answer in &batch.answers {
            columns.0.push(answer.id.as_str());
            columns.1.push(answer.question_id.as_str());
            columns.2.push(answer.stage.as_str());
            columns.3.push(answer.field.as_str());
            columns.4.push(status_str(answer.status));
            columns.5.push(
                answer
                    .value
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(corrupt)?,
            );
            columns.6.push(answer.other);
            columns.7.push(answer.answered_at.as_str());
            columns.8.push(i64::from(answer.logins_count));
            columns.9.push(at_ms(&answer.answered_at, &now));
        }
        let inserted = tx
            .cached_query(
                "INSERT INTO answers (id, user_id, question_id, stage, field, status, value, other,
                                      answered_at, logins_count, context, received_at, at_ms)
                 SELECT a.id, $2, a.question_id, a.stage, a.field, a.status, a.value, a.other,
                        a.answered_at, a.logins_count, $11, $12, a.at_ms
                 FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::bool[], $9::text[], $10::int8[], $13::int8[])
                      WITH ORDINALITY AS a(id, question_id, stage, field, status, value, other,
                                           answered_at, logins_count, at_ms, n)
                 ORDER BY a.n
                 ON CONFLICT (user_id, id) DO NOTHING
                 RETURNING id",
                &[
                    &columns.0,
                    &batch.user_id,
                    &columns.1,
                    &columns.2,
                    &columns.3,
                    &columns.4,
                    &columns.5,
                    &columns.6,
                    &columns.7,
                    &columns.8,
                    &batch.context,
                    &now,
                    &columns.9,
                ],
            )
            .await?;
        let mut inserted: HashSet<String> = inserted.iter().map(|row| row.get(0)).collect();
        let mut fresh = Vec::new();
        for (index, answer) in batch.answers.iter().enumerate() {
            // remove: a second answer with the same id is not fresh again.
            if inserted.remove(&answer.id) {
                fresh.push(answer);
            } else {
                let stored = stored_answer(&tx, &batch.user_id, &answer.id).await?;
                if !stored.is_some_and(|stored| same_content(&stored.answer, answer)) {
                    // Dropping the transaction rolls it back: nothing of the batch.
                    return Err(StoreError::IdConflict { index });
                }
            }
        }
        let recorded = Recorded {
            stored: fresh.len(),
            duplicates: batch.answers.len() - fresh.len(),
        };
        if fresh.is_empty() {
            tx.commit().await.map_err(db)?;
            return Ok(recorded);
        }
        // Forwarding: one row in the log for the whole post (its fresh answers
        // and sinks), committed with the answers (a crash loses neither or both);
        // the forwarder fans it out later, in its own transactions. Sent in the
        // same round trip as the profile's read (the client pipelines them).
        let ids: Vec<&str> = fresh.iter().map(|answer| answer.id.as_str()).collect();
        let log = async {
            if sinks.is_empty() {
                return Ok(0);
            }
            tx.cached_execute(
                "INSERT INTO forward_log (user_id, answer_ids, sink_ids, created_at)
                 VALUES ($1, $2, $3, $4)",
                &[&batch.user_id, &ids, &sinks, &now_ms],
            )
            .await
        };
        let (logged, stored) = tokio::join!(log, load_doc(&tx, &batch.user_id));
        logged?;
        let doc = match stored {
            Ok(stored) => {
                let mut doc = stored.map(|(doc, _)| doc).unwrap_or_default();
                for answer in fresh {
                    doc.apply(answer, &now);
                }
                doc
            }
            // An unreadable doc must not block the user's answers forever: replay
            // them all, the fresh ones included (already inserted here).
            Err(StoreError::Corrupt(e)) => {
                tracing::warn!(user_id = %batch.user_id, error = %e, "stored profile unreadable; rebuilding it from the answers");
                rebuild_doc(&tx, &batch.user_id).await?
            }
            Err(e) => return Err(e),
        };
        let doc = serde_json::to_string(&doc).map_err(corrupt)?;
        tx.cached_execute(
            "INSERT INTO profiles (user_id, doc, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            &[&batch.user_id, &doc, &now],
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(recorded)
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let client = self.client().await?;
        let (doc, updated_at) = match load_doc(&client, user_id).await {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            // Serve what the answers say; the next write stores the rebuilt doc.
            Err(StoreError::Corrupt(_)) => {
                let row = client
                    .cached_query_one(
                        "SELECT updated_at FROM profiles WHERE user_id = $1",
                        &[&user_id],
                    )
                    .await?;
                (rebuild_doc(&client, user_id).await?, row.get(0))
            }
            Err(e) => return Err(e),
        };
        let limit = i64::try_from(MAX_LISTED_ANSWERS).unwrap_or(i64::MAX);
        let rows = client
            .cached_query(
                &format!(
                    "SELECT {ANSWER_COLUMNS} FROM answers WHERE user_id = $1
                     ORDER BY answered_at DESC, id DESC LIMIT $2"
                ),
                &[&user_id, &limit],
            )
            .await?;
        let mut answers = rows.iter().map(answer_of).collect::<Result<Vec<_>, _>>()?;
        answers.reverse();
        Ok(Some(UserRecord {
            doc,
            updated_at,
            answers,
        }))
    }

    async fn export(&self) -> Result<Vec<ExportRow>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .cached_query(
                "SELECT user_id, doc, updated_at FROM profiles ORDER BY user_id",
                &[],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let user_id: String = row.get(0);
            let doc = match serde_json::from_str(row.get(1)) {
                Ok(doc) => doc,
                // One unreadable doc must not sink the whole export.
                Err(_) => rebuild_doc(&client, &user_id).await?,
            };
            out.push(ExportRow {
                user_id,
                doc,
                updated_at: row.get(2),
            });
        }
        Ok(out)
    }

    async fn report(&self, query: ReportQuery) -> Result<Report, StoreError> {
        let mut client = self.client().await?;
        // One snapshot: every chart counts the same answers.
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db)?;
        let mut report = ReportRows::default();
        for row in tx.cached_query(report::FIELDS_SQL, &[]).await? {
            report.field(row.get(0), row.get(1));
        }
        for row in tx.cached_query(report::RESPONSES_SQL, &[]).await? {
            report.responses(row.get(0), row.get(1), row.get(2))?;
        }
        let days = tx
            .cached_query(report::DAYS_SQL, &[&query.first_day, &query.last_day])
            .await?;
        for row in days {
            report.day(row.get(0), row.get(1), row.get(2))?;
        }
        if !query.questions.is_empty() {
            let sql = report::stages_sql(query.questions.len());
            for row in tx.cached_query(&sql, &params(&query.questions)).await? {
                report.stage(row.get(0), row.get(1), row.get(2), row.get(3));
            }
        }
        if !query.choice_questions.is_empty() {
            let sql = report::choices_sql(query.choice_questions.len());
            for row in tx
                .cached_query(&sql, &params(&query.choice_questions))
                .await?
            {
                report.choice(row.get(0), row.get(1), row.get(2), row.get(3));
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(report.finish())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        // EXISTS stops at the first row: a health check must not scan the table.
        client
            .cached_query_one("SELECT EXISTS (SELECT 1 FROM profiles)", &[])
            .await?;
        Ok(())
    }

    async fn claim_due(
        &self,
        sink: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let lease_until = now_ms.saturating_add(lease_ms);
        // Heads only ('pending'), through `deliveries_due`. A claimed row's
        // `next_at` becomes its lease's end: later claims do not read it again
        // until then (if its outcome never comes, a crash, it is due again).
        // One statement, so one implicit transaction: the heads of the line are
        // locked (rows another collector is claiming right now are skipped, not
        // waited for), leased, and returned with their answer and profile. A row
        // whose lease another claim set after this statement's snapshot is
        // re-checked against its new version once locked, and dropped.
        let rows = client
            .cached_query(
                &format!(
                    "WITH heads AS (
                        SELECT d.seq FROM deliveries d
                        WHERE d.sink_id = (SELECT id FROM sinks WHERE name = $1)
                          AND d.status = 'pending' AND d.next_at <= $2 AND d.lease_until <= $2
                        ORDER BY d.next_at, d.seq
                        LIMIT $3
                        FOR UPDATE SKIP LOCKED
                    ), claimed AS (
                        UPDATE deliveries d SET lease_until = $4, next_at = $4,
                                                attempts = d.attempts + 1
                        FROM heads WHERE d.seq = heads.seq
                        RETURNING d.seq, d.user_id, d.answer_id, d.attempts, d.created_at, d.next_at
                    )
                    SELECT c.seq, c.user_id, c.answer_id, c.attempts, c.created_at,
                           a.id IS NOT NULL, {answer}, a.context, p.doc
                    FROM claimed c
                    LEFT JOIN answers a ON a.user_id = c.user_id AND a.id = c.answer_id
                    LEFT JOIN profiles p ON p.user_id = c.user_id
                    ORDER BY c.next_at, c.seq",
                    answer = ANSWER_COLUMNS
                        .split(", ")
                        .map(|column| format!("a.{column}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                &[&sink, &now_ms, &limit, &lease_until],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let user_id: String = row.get(1);
            let answer = if row.get::<_, bool>(5) {
                Some(answer_at(&row, 6)?)
            } else {
                None
            };
            let profile = match row
                .get::<_, Option<&str>>(17)
                .map(serde_json::from_str::<ProfileDoc>)
            {
                None => Default::default(),
                Some(Ok(doc)) => doc.profile,
                Some(Err(_)) => rebuild_doc(&client, &user_id).await?.profile,
            };
            let attempts: i32 = row.get(3);
            out.push(Delivery {
                seq: row.get(0),
                user_id,
                answer_id: row.get(2),
                answer,
                context: row
                    .get::<_, Option<String>>(16)
                    .unwrap_or_else(|| "{}".into()),
                profile,
                attempts: u32::try_from(attempts).unwrap_or(0),
                created_at_ms: row.get(4),
            });
        }
        Ok(out)
    }

    async fn fan_out(&self, limit: usize) -> Result<usize, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let mine: bool = tx
            .cached_query_one("SELECT pg_try_advisory_xact_lock($1)", &[&FAN_OUT_LOCK])
            .await?
            .get(0);
        if !mine {
            // Another collector is fanning out; it takes these rows too.
            return Ok(0);
        }
        // A user's log rows commit in seq order (ingestion holds the user's lock
        // while it appends), so this snapshot never has a user's later row
        // without the earlier ones.
        let rows = tx
            .cached_query(
                "SELECT seq, user_id, answer_ids, sink_ids, created_at FROM forward_log
                 ORDER BY seq LIMIT $1",
                &[&limit],
            )
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let (mut seqs, mut users) = (Vec::with_capacity(rows.len()), Vec::new());
        let (mut sink_col, mut user_col, mut answer_col, mut created_col) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            seqs.push(row.get::<_, i64>(0));
            let user_id: String = row.get(1);
            let answer_ids: Vec<String> = row.get(2);
            let sink_ids: Vec<i64> = row.get(3);
            let created_at: i64 = row.get(4);
            for answer_id in &answer_ids {
                for &sink_id in &sink_ids {
                    sink_col.push(sink_id);
                    user_col.push(user_id.clone());
                    answer_col.push(answer_id.clone());
                    created_col.push(created_at);
                }
            }
            users.push(user_id);
        }
        // The lines of these users, locked against a head ending meanwhile
        // (only one fan-out runs at a time, so taking several cannot deadlock).
        tx.cached_execute(
            "SELECT pg_advisory_xact_lock($1, h)
             FROM (SELECT DISTINCT hashtext(u) AS h FROM unnest($2::text[]) AS u ORDER BY h) l",
            &[&LINE_LOCK_CLASS, &users],
        )
        .await?;
        // In the log's order: the seqs are given in it.
        tx.cached_execute(
            "INSERT INTO deliveries (sink_id, user_id, answer_id, status, created_at, next_at)
             SELECT x.sink_id, x.user_id, x.answer_id, 'queued', x.created_at, x.created_at
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[])
                  WITH ORDINALITY AS x(sink_id, user_id, answer_id, created_at, n)
             ORDER BY x.n",
            &[&sink_col, &user_col, &answer_col, &created_col],
        )
        .await?;
        promote(&tx, &sink_col, &user_col).await?;
        tx.cached_execute("DELETE FROM forward_log WHERE seq = ANY($1)", &[&seqs])
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(rows.len())
    }

    async fn mark_done(&self, of: DeliveryKey) -> Result<(), StoreError> {
        self.end_head(
            "DELETE FROM deliveries WHERE seq = $1 AND user_id = $2 AND answer_id = $3
             RETURNING sink_id",
            &[&of.seq, &of.user_id, &of.answer_id],
            &of.user_id,
        )
        .await
    }

    async fn reschedule(
        &self,
        of: DeliveryKey,
        next_at_ms: i64,
        error: String,
    ) -> Result<(), StoreError> {
        self.client()
            .await?
            .cached_execute(
                "UPDATE deliveries SET next_at = $2, lease_until = 0, last_error = $3
                 WHERE seq = $1 AND status = 'pending' AND user_id = $4 AND answer_id = $5",
                &[&of.seq, &next_at_ms, &error, &of.user_id, &of.answer_id],
            )
            .await?;
        Ok(())
    }

    async fn mark_failed(&self, of: DeliveryKey, error: String) -> Result<(), StoreError> {
        self.end_head(
            "UPDATE deliveries SET status = 'failed', lease_until = 0, last_error = $2
             WHERE seq = $1 AND user_id = $3 AND answer_id = $4
             RETURNING sink_id",
            &[&of.seq, &error, &of.user_id, &of.answer_id],
            &of.user_id,
        )
        .await
    }

    async fn list_failed(&self) -> Result<Vec<FailedDelivery>, StoreError> {
        let rows = self
            .client()
            .await?
            .cached_query(
                "SELECT d.seq, s.name, d.user_id, d.answer_id, d.attempts, d.created_at,
                        d.last_error
                 FROM deliveries d JOIN sinks s ON s.id = d.sink_id
                 WHERE d.status = 'failed' ORDER BY d.seq",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| FailedDelivery {
                seq: row.get(0),
                sink: row.get(1),
                user_id: row.get(2),
                answer_id: row.get(3),
                attempts: u32::try_from(row.get::<_, i32>(4)).unwrap_or(0),
                created_at_ms: row.get(5),
                last_error: row.get::<_, Option<String>>(6).unwrap_or_default(),
            })
            .collect())
    }

    async fn requeue_failed(&self, now_ms: i64) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // Every writer of the outbox waits (an admin command, rare): no head
        // ends and no fan-out queues while the lines are put back together.
        tx.batch_execute("LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE")
            .await
            .map_err(db)?;
        let rows = tx
            .cached_query(
                "UPDATE deliveries SET status = 'queued', attempts = 0, created_at = $1,
                        next_at = $1, lease_until = 0
                 WHERE status = 'failed'
                 RETURNING sink_id, user_id",
                &[&now_ms],
            )
            .await?;
        let sinks: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
        let users: Vec<String> = rows.iter().map(|row| row.get(1)).collect();
        promote(&tx, &sinks, &users).await?;
        tx.commit().await.map_err(db)?;
        Ok(rows.len())
    }

    async fn next_due(&self, sink: &str) -> Result<Option<i64>, StoreError> {
        let row = self
            .client()
            .await?
            .cached_query_one(
                // Log rows not fanned out yet are due now.
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM forward_log)
                             THEN least(min(greatest(next_at, lease_until)), $2)
                             ELSE min(greatest(next_at, lease_until)) END
                 FROM deliveries
                 WHERE sink_id = (SELECT id FROM sinks WHERE name = $1) AND status = 'pending'",
                &[&sink, &unix_ms()],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn pending_count(&self) -> Result<i64, StoreError> {
        let row = self
            .client()
            .await?
            .cached_query_one(
                "SELECT (SELECT count(*) FROM deliveries WHERE status <> 'failed')
                      + (SELECT coalesce(sum(cardinality(answer_ids) * cardinality(sink_ids)), 0)
                         FROM forward_log)::int8",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    fn close(&self) {
        // Every call so far has committed before it returned; closing the pool
        // makes later calls fail with Closed and drops idle connections.
        self.pool.close();
    }
}

/// The stored answer (user_id, id), if any.
async fn stored_answer(
    client: &impl GenericClient,
    user_id: &str,
    id: &str,
) -> Result<Option<ListedAnswer>, StoreError> {
    client
        .cached_query_opt(
            &format!("SELECT {ANSWER_COLUMNS} FROM answers WHERE user_id = $1 AND id = $2"),
            &[&user_id, &id],
        )
        .await?
        .map(|row| answer_of(&row))
        .transpose()
}

/// The stored profile doc and its time; [`StoreError::Corrupt`] if the doc is
/// not readable.
async fn load_doc(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Option<(ProfileDoc, String)>, StoreError> {
    let row = client
        .cached_query_opt(
            "SELECT doc, updated_at FROM profiles WHERE user_id = $1",
            &[&user_id],
        )
        .await?;
    match row {
        Some(row) => Ok(Some((
            serde_json::from_str(row.get(0)).map_err(corrupt)?,
            row.get(1),
        ))),
        None => Ok(None),
    }
}

/// A user's profile doc rebuilt by replaying every stored answer in the order the
/// collector received them, each with its own received time (the same replay as
/// SQLite's).
async fn rebuild_doc(client: &impl GenericClient, user_id: &str) -> Result<ProfileDoc, StoreError> {
    let rows = client
        .cached_query(
            &format!(
                "SELECT {ANSWER_COLUMNS} FROM answers WHERE user_id = $1
                 ORDER BY received_at, answered_at, id"
            ),
            &[&user_id],
        )
        .await?;
    let mut doc = ProfileDoc::default();
    for row in &rows {
        let listed = answer_of(row)?;
        doc.apply(&listed.answer, &listed.received_at);
    }
    Ok(doc)
}

/// A row of [`ANSWER_COLUMNS`].
fn answer_of(row: &Row) -> Result<ListedAnswer, StoreError> {
    answer_at(row, 0)
}

/// [`ANSWER_COLUMNS`] starting at column `at` of `row`.
fn answer_at(row: &Row, at: usize) -> Result<ListedAnswer, StoreError> {
    let logins: i64 = row.get(at + 8);
    Ok(ListedAnswer {
        answer: StoredAnswer {
            id: row.get(at),
            question_id: row.get(at + 1),
            stage: row.get(at + 2),
            field: row.get(at + 3),
            status: parse_status(row.get(at + 4))?,
            value: row
                .get::<_, Option<&str>>(at + 5)
                .map(serde_json::from_str)
                .transpose()
                .map_err(corrupt)?,
            other: row.get(at + 6),
            answered_at: row.get(at + 7),
            logins_count: u32::try_from(logins)
                .map_err(|_| StoreError::Corrupt(format!("loginsCount {logins} out of range")))?,
        },
        received_at: row.get(at + 9),
    })
}
