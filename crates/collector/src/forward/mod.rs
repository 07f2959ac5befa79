//! Forwarding (contract section 6, "Forwarding"): every newly stored answer goes
//! on to the places where profiles live: signed webhooks, the Auth0 Management
//! API, Segment.
//!
//! It is an outbox in the collector's own database: the store appends one log
//! row per post with fresh answers in the answers' own transaction
//! ([`crate::store::NewAnswers::forward_to`]), so a crash loses neither or both.
//! A fan-out task turns log rows into deliveries (one per answer and sink) in
//! transactions of its own ([`crate::store::Store::fan_out`]), at the sinks'
//! pace: when a sink's claim finds fewer due deliveries than it has room for. So
//! ingestion pays for one cheap row per post and nothing more, whatever the
//! sinks do, and a sink that hangs leaves the log to grow (one row per post)
//! instead of making the collector fan out rows it cannot send.
//! One task per sink ([`Forwarder::start`]) claims due deliveries
//! ([`crate::store::Store::claim_due`]), sends up to
//! [`Timing::max_in_flight`] of them at a time, and marks each done, reschedules
//! it with a growing, jittered delay (network errors, 408, 429, 5xx; a
//! `Retry-After` or Auth0's `X-RateLimit-Reset` is honoured) or, after
//! [`Timing::give_up_after`] or on a final error, marks it failed. Ingestion never
//! waits for a sink: a post only adds rows and wakes the tasks.
//!
//! At least once: a delivery is removed only after its sink answered 2xx, so a
//! crash between the 2xx and that removal sends it again; each sink's own id
//! (`webhook-id`, Segment's `messageId`) lets the receiver drop the repeat, and an
//! Auth0 PATCH of the same values is idempotent.

mod config;
mod sinks;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use trickle_core::answer::Context;

use crate::store::{unix_ms, Delivery, Store, StoreError};

/// How long the fan-out task lets posts gather after a sink asked for more
/// before it moves them (at most [`Timing::poll`]): one larger transaction
/// instead of one per post. It delays a delivery by at most this.
pub const FAN_OUT_GATHER: Duration = Duration::from_millis(100);
/// The most log rows (posts) one fan-out transaction moves.
pub const FAN_OUT_BATCH: usize = 2000;

pub use config::parse as parse_config;
pub use sinks::{webhook_id, webhook_signature, Outcome, Sink};

/// How the forwarder paces itself. The defaults are the production values; tests
/// shorten them.
#[derive(Debug, Clone)]
pub struct Timing {
    /// The delay before the first retry; each further retry doubles it (then a
    /// random part of up to half is taken off, so retries of many deliveries
    /// spread out).
    pub first_retry: Duration,
    /// The longest delay between two attempts (a `Retry-After` may ask for more).
    pub max_retry: Duration,
    /// A delivery still failing this long after it was queued is marked failed.
    pub give_up_after: Duration,
    /// One request's time limit, connect included.
    pub request_timeout: Duration,
    /// How long a claimed delivery stays out of other claims: longer than a
    /// request may take, so a crashed collector's deliveries are due again soon
    /// after it restarts.
    pub lease: Duration,
    /// How often a sink's task looks for due deliveries when nothing woke it.
    pub poll: Duration,
    /// Deliveries in flight per sink at most (each a different user).
    pub max_in_flight: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            request_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            max_in_flight: 16,
        }
    }
}

impl Timing {
    /// The delay before attempt `attempts + 1` after `attempts` failed ones:
    /// `first_retry * 2^(attempts-1)`, at most `max_retry`, minus a random part of
    /// up to half.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let full = self
            .first_retry
            .saturating_mul(1u32 << exp)
            .min(self.max_retry);
        let half = full / 2;
        let jitter = random_u64() % (half.as_millis() as u64 + 1);
        full - Duration::from_millis(jitter)
    }
}

fn random_u64() -> u64 {
    // RandomState is seeded from the OS per instance: enough for jitter, no extra crate.
    let mut h = RandomState::new().build_hasher();
    h.write_u64(unix_ms() as u64);
    h.finish()
}

/// The configured sinks and the client that reaches them.
pub struct Forwarder {
    sinks: Vec<Arc<Sink>>,
    wakers: Vec<Arc<Notify>>,
    /// Wakes the fan-out task: a sink's claim found fewer due deliveries than it
    /// had room for.
    hungry: Arc<Notify>,
    timing: Timing,
    client: reqwest::Client,
}

impl std::fmt::Debug for Forwarder {
    // Secrets stay out of logs: only the sinks' keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("sinks", &self.sink_keys())
            .field("timing", &self.timing)
            .finish()
    }
}

impl Forwarder {
    /// Reads `forward.json`'s text. `env` resolves `"env:NAME"` secrets (the
    /// binary passes `std::env::var`). Errors name the path of the bad value
    /// (`webhooks[0].secret: ...`).
    pub fn from_json(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
        timing: Timing,
    ) -> Result<Forwarder, String> {
        let sinks = parse_config(text, env)?;
        Forwarder::new(sinks, timing)
    }

    /// A forwarder over `sinks`.
    pub fn new(sinks: Vec<Sink>, timing: Timing) -> Result<Forwarder, String> {
        let client = reqwest::Client::builder()
            // A redirect is not a delivery (as in the widget): never followed.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timing.request_timeout)
            .connect_timeout(timing.request_timeout)
            .user_agent(concat!("trickle-collector/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Forwarder {
            wakers: sinks.iter().map(|_| Arc::new(Notify::new())).collect(),
            hungry: Arc::new(Notify::new()),
            sinks: sinks.into_iter().map(Arc::new).collect(),
            timing,
            client,
        })
    }

    /// Every sink's key (what the outbox rows name), in config order.
    pub fn sink_keys(&self) -> Vec<String> {
        self.sinks.iter().map(|s| s.key.clone()).collect()
    }

    /// The keys of the sinks that may get answers posted with `context`: a sink
    /// marked `marketing` never gets answers sent under Global Privacy Control
    /// (`context.gpc`) or with `context.consent.marketing: false`.
    pub fn sinks_for(&self, context: &Context) -> Vec<String> {
        let no_marketing = context.gpc
            || context
                .consent
                .as_ref()
                .is_some_and(|c| c.marketing == Some(false));
        self.sinks
            .iter()
            .filter(|s| !(s.marketing && no_marketing))
            .map(|s| s.key.clone())
            .collect()
    }

    /// Tells every sink's task that new answers are logged: one with room claims,
    /// and if that finds too few, the fan-out task moves the log along.
    pub fn wake(&self) {
        for waker in &self.wakers {
            waker.notify_one();
        }
    }

    /// Starts the fan-out task and one task per sink on the current tokio
    /// runtime.
    pub fn start(self: &Arc<Self>, store: Store) -> Running {
        let fan_out = tokio::spawn(run_fan_out(Arc::clone(self), store.clone()));
        let tasks = std::iter::once(fan_out)
            .chain(self.sinks.iter().zip(&self.wakers).map(|(sink, waker)| {
                tokio::spawn(run_sink(
                    Arc::clone(self),
                    Arc::clone(sink),
                    Arc::clone(waker),
                    store.clone(),
                ))
            }))
            .collect();
        Running { tasks }
    }
}

/// The running sink tasks.
pub struct Running {
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops the tasks. A delivery in flight is abandoned; it stays in the outbox
    /// and is sent again once its lease has passed (at least once).
    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Moves logged answers into deliveries, then wakes the sink tasks. Runs when a
/// sink asks for more (its claim came back short), after letting posts gather
/// for [`FAN_OUT_GATHER`]; the sinks ask on every poll while they are idle, so
/// another collector's posts and log rows left by a crash are moved too.
async fn run_fan_out(fwd: Arc<Forwarder>, store: Store) {
    let gather = FAN_OUT_GATHER.min(fwd.timing.poll);
    loop {
        fwd.hungry.notified().await;
        tokio::time::sleep(gather).await;
        match store.fan_out(FAN_OUT_BATCH).await {
            Ok(0) => {}
            Ok(moved) => {
                tracing::debug!(posts = moved, "fanned out");
                fwd.wake();
            }
            Err(StoreError::Closed) => return,
            Err(e) => tracing::warn!(error = %e, "fanning out logged answers failed"),
        }
    }
}

async fn run_sink(fwd: Arc<Forwarder>, sink: Arc<Sink>, waker: Arc<Notify>, store: Store) {
    let lease_ms = i64::try_from(fwd.timing.lease.as_millis()).unwrap_or(i64::MAX);
    // Dropping this set (the task aborted) aborts the deliveries in flight.
    let mut in_flight = JoinSet::new();
    tracing::info!(sink = %sink.key, "forwarding");
    loop {
        let room = fwd.timing.max_in_flight.saturating_sub(in_flight.len());
        if room > 0 {
            match store.claim_due(&sink.key, unix_ms(), lease_ms, room).await {
                Ok(batch) => {
                    if batch.len() < room {
                        // Too few due deliveries: more may be in the log.
                        fwd.hungry.notify_one();
                    }
                    for delivery in batch {
                        in_flight.spawn(deliver(
                            Arc::clone(&fwd),
                            Arc::clone(&sink),
                            store.clone(),
                            delivery,
                        ));
                    }
                }
                Err(StoreError::Closed) => return,
                Err(e) => {
                    tracing::warn!(sink = %sink.key, error = %e, "claiming deliveries failed")
                }
            }
        }
        tokio::select! {
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            () = waker.notified() => {}
            () = tokio::time::sleep(fwd.timing.poll) => {}
        }
    }
}

async fn deliver(fwd: Arc<Forwarder>, sink: Arc<Sink>, store: Store, delivery: Delivery) {
    let outcome = match &delivery.answer {
        Some(answer) => sink.send(&fwd.client, &delivery, answer).await,
        None => Outcome::Fail("the answer is no longer stored".into()),
    };
    let (seq, key) = (delivery.seq, &sink.key);
    let result = match outcome {
        Outcome::Done => {
            tracing::debug!(sink = %key, seq, attempts = delivery.attempts, "delivered");
            store.mark_done(&delivery).await
        }
        Outcome::Fail(error) => {
            tracing::warn!(sink = %key, seq, user_id = %delivery.user_id, %error, "delivery failed for good");
            store.mark_failed(&delivery, error).await
        }
        Outcome::Retry { error, after } => {
            let now = unix_ms();
            let delay = after.unwrap_or_else(|| fwd.timing.backoff(delivery.attempts));
            let next_at = now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
            let deadline = delivery.created_at_ms.saturating_add(
                i64::try_from(fwd.timing.give_up_after.as_millis()).unwrap_or(i64::MAX),
            );
            if next_at > deadline {
                let error = format!("gave up after {} attempts: {error}", delivery.attempts);
                tracing::warn!(sink = %key, seq, user_id = %delivery.user_id, %error, "delivery failed for good");
                store.mark_failed(&delivery, error).await
            } else {
                tracing::info!(sink = %key, seq, attempts = delivery.attempts, retry_in_ms = delay.as_millis() as u64, %error, "delivery will be retried");
                store.reschedule(&delivery, next_at, error).await
            }
        }
    };
    if let Err(e) = result {
        // The lease runs out and the delivery is claimed again: at least once.
        tracing::warn!(sink = %key, seq, error = %e, "recording a delivery's outcome failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let timing = Timing {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            ..Timing::default()
        };
        for _ in 0..100 {
            let first = timing.backoff(1);
            assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
            let fourth = timing.backoff(4);
            assert!(fourth >= Duration::from_secs(4) && fourth <= Duration::from_secs(8));
            let late = timing.backoff(40);
            assert!(late >= Duration::from_secs(30) && late <= Duration::from_secs(60));
        }
    }
}
