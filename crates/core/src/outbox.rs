//! The outbox (contract section 3's delivery rule): answers are written to storage
//! before the first send and removed only after a 2xx. Failures are retried with
//! backoff; other 4xx go to a dead-letter list.
//!
//! Time (`now_ms`) and randomness (`jitter`) are parameters: the state machine is
//! deterministic. The widget owns the clock, the timers and the network.
//!
//! Size policy: at most [`MAX_QUEUED`] answers wait. Enqueueing into a full outbox
//! evicts the oldest queued *snooze* (the least valuable record: the prompt state
//! already holds it), or if there is none the oldest entry; the evicted entry goes
//! to the dead-letter list with reason `overflow`, so it stays visible rather than
//! silently lost. The dead-letter list keeps the newest [`MAX_DEAD`] entries.

use serde::{Deserialize, Serialize};

use crate::answer::{Answer, Context, Envelope, Status};
use crate::json::{write_list, Object};
use crate::retry::{is_retryable, RetryPolicy};

/// The version written into the stored outbox; any other is discarded.
pub const OUTBOX_VERSION: u32 = 1;
/// Most answers waiting for delivery.
pub const MAX_QUEUED: usize = 200;
/// Most dead-letter entries kept.
pub const MAX_DEAD: usize = 50;
/// Most answers in one request.
pub const MAX_BATCH_ANSWERS: usize = 20;
/// Most serialized answer bytes in one request: well below the collector's 64 KiB
/// body limit and `sendBeacon`'s 64 KiB in-flight budget, envelope included.
pub const MAX_BATCH_BYTES: usize = 32 * 1024;
/// Longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER_MS: u64 = 60 * 60_000;
/// Longest a dead letter is kept: it holds personal data, and after a month nobody
/// will act on it.
pub const MAX_DEAD_AGE_MS: u64 = 30 * 24 * 60 * 60_000;

/// One answer waiting for delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Queued {
    /// Whose answer it is.
    pub user_id: String,
    /// The host's HMAC of the user id, sent along.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
    /// The answer, unchanged across retries (its id is the idempotency key).
    pub answer: Answer,
    /// Failed attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not to be sent before this time (ms since the epoch); 0 = at once.
    #[serde(default)]
    pub next_at: u64,
    /// In flight (in this tab or another) until this time: no other send takes it
    /// meanwhile. Kept apart from `next_at` so that waking the queue (`online`, a
    /// page load) skips the backoff but never a lease.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub leased_until: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Queued {
    /// When it may be sent next: after its backoff and its lease.
    pub fn due_at(&self) -> u64 {
        self.next_at.max(self.leased_until)
    }

    /// Writes the stored form, as `Serialize` does.
    pub fn write_json(&self, out: &mut String) {
        let mut o = Object::new(out);
        o.str("userId", &self.user_id);
        o.opt_str("userHash", self.user_hash.as_deref());
        self.answer.write_json(o.key("answer"));
        o.u64("attempts", u64::from(self.attempts));
        o.u64("nextAt", self.next_at);
        if self.leased_until != 0 {
            o.u64("leasedUntil", self.leased_until);
        }
        o.end();
    }
}

/// Why an answer was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadReason {
    /// The endpoint answered with a final 4xx.
    Rejected,
    /// The outbox was full (see the module's size policy).
    Overflow,
    /// The endpoint answered with a redirect, which is never followed (a login
    /// page's 200 must not count as delivered).
    Redirected,
    /// The browser refused to send the request as configured (e.g. a header it
    /// cannot carry): sending it again cannot succeed.
    Unsendable,
}

impl DeadReason {
    /// The stored name (`"rejected"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadReason::Rejected => "rejected",
            DeadReason::Overflow => "overflow",
            DeadReason::Redirected => "redirected",
            DeadReason::Unsendable => "unsendable",
        }
    }
}

/// An answer that will not be delivered; kept for `explain()` and `trickle:error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeadLetter {
    /// Whose answer it is.
    pub user_id: String,
    /// The answer.
    pub answer: Answer,
    /// Why it was given up on.
    pub reason: DeadReason,
    /// The HTTP status, when rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// When it was given up on (ms since the epoch).
    pub at: u64,
}

impl DeadLetter {
    /// Writes the stored form (also what `explain()` lists), as `Serialize` does.
    pub fn write_json(&self, out: &mut String) {
        let mut o = Object::new(out);
        o.str("userId", &self.user_id);
        self.answer.write_json(o.key("answer"));
        o.str("reason", self.reason.as_str());
        if let Some(status) = self.status {
            o.u64("status", u64::from(status));
        }
        o.u64("at", self.at);
        o.end();
    }
}

/// Writes a list of dead letters (`explain()`'s `deadLetter`).
pub fn write_dead_letters(out: &mut String, dead: &[DeadLetter]) {
    write_list(out, dead, DeadLetter::write_json);
}

/// Answers of one user to send in one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Whose answers.
    pub user_id: String,
    /// The host's HMAC of the user id.
    pub user_hash: Option<String>,
    /// The answers, oldest first.
    pub answers: Vec<Answer>,
    /// Their ids, to pass back to [`Outbox::apply`].
    pub ids: Vec<String>,
}

impl Batch {
    /// The request body of contract section 3.
    pub fn envelope(&self, context: Context) -> Envelope {
        Envelope {
            user_id: self.user_id.clone(),
            user_hash: self.user_hash.clone(),
            answers: self.answers.clone(),
            context,
        }
    }

    /// The request body as JSON text: `self.envelope(context).to_json()`,
    /// written from the batch without copying its answers into an envelope.
    pub fn body(&self, context: &Context) -> String {
        crate::answer::envelope_json(
            &self.user_id,
            self.user_hash.as_deref(),
            &self.answers,
            context,
        )
    }
}

/// The result of sending a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the answers are stored; remove them.
    Delivered,
    /// No response (offline, DNS, CORS, timeout): retry.
    NetworkError,
    /// 408, 429, 5xx: retry, no sooner than `retry_after_ms` if the server said so.
    Retry {
        /// The HTTP status.
        status: u16,
        /// The server's `Retry-After`, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// Any other 4xx: final; the answers move to the dead-letter list.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// A redirect (3xx), never followed: final, like a 4xx.
    Redirected,
    /// The request could not be made as configured: final.
    Unsendable,
}

impl Outcome {
    /// Classifies an HTTP status (0, as some fetch failures report, is a
    /// network error).
    pub fn from_status(status: u16) -> Outcome {
        match status {
            0 => Outcome::NetworkError,
            200..=299 => Outcome::Delivered,
            300..=399 => Outcome::Redirected,
            s if is_retryable(s) => Outcome::Retry {
                status: s,
                retry_after_ms: None,
            },
            s => Outcome::Rejected { status: s },
        }
    }

    /// The answers will never be delivered: dead-letter them.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Outcome::Rejected { .. } | Outcome::Redirected | Outcome::Unsendable
        )
    }
}

/// What [`Outbox::enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Queued.
    Added,
    /// An answer with this id is already queued or dead-lettered; nothing changed.
    Duplicate,
    /// Queued, and the outbox was full: the answer with this id was evicted to
    /// the dead-letter list.
    AddedEvicting(String),
}

/// The queue of answers waiting for delivery, plus the dead-letter list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Outbox {
    version: u32,
    #[serde(default)]
    queue: Vec<Queued>,
    #[serde(default)]
    dead: Vec<DeadLetter>,
    #[serde(skip)]
    policy: RetryPolicy,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbox {
    /// An empty outbox with the default retry policy.
    pub fn new() -> Self {
        Self {
            version: OUTBOX_VERSION,
            queue: Vec::new(),
            dead: Vec::new(),
            policy: RetryPolicy::default(),
        }
    }

    /// An empty outbox with another retry policy.
    pub fn with_policy(policy: RetryPolicy) -> Self {
        Self {
            policy,
            ..Self::new()
        }
    }

    /// Reads a stored outbox. Anything corrupt or of another version gives an
    /// empty outbox (storage is not trusted; a panic would be worse than a lost
    /// retry). A readable one is brought back within the size bounds and
    /// deduplicated.
    pub fn from_json(json: &str) -> Outbox {
        Outbox::read(json).0
    }

    /// [`Outbox::from_json`] of the stored text already parsed (`null` for text
    /// that is not JSON).
    pub fn from_value(doc: serde_json::Value) -> Outbox {
        Outbox::read_value(doc).0
    }

    /// Reads a stored outbox entry by entry: an entry this version cannot read
    /// (corrupt, or written by another version) is returned apart, as JSON, and
    /// the others survive. Not JSON, or an outbox of another version, reads as
    /// empty with the whole document returned apart when it holds queued entries.
    pub fn read(json: &str) -> (Outbox, Vec<serde_json::Value>) {
        Outbox::read_value(crate::json::parse(json).unwrap_or_default())
    }

    /// [`Outbox::read`] of the stored text already parsed (`null` for text that
    /// is not JSON).
    pub fn read_value(doc: serde_json::Value) -> (Outbox, Vec<serde_json::Value>) {
        use serde_json::Value;
        let mut outbox = Outbox::new();
        let Value::Object(mut doc) = doc else {
            return (outbox, Vec::new());
        };
        // Taken out in place (`Map::remove` would bring in the index map's
        // `swap_remove`, about a kilobyte, for this alone), and put back in place
        // when the whole document is kept aside: the copy keeps its member order.
        let queue = match doc.get_mut("queue").map(Value::take) {
            Some(Value::Array(entries)) => entries,
            _ => Vec::new(),
        };
        if doc.get("version").and_then(Value::as_u64) != Some(u64::from(OUTBOX_VERSION)) {
            if queue.is_empty() {
                return (outbox, Vec::new());
            }
            if let Some(slot) = doc.get_mut("queue") {
                *slot = Value::Array(queue);
            }
            return (outbox, vec![Value::Object(doc)]);
        }
        let mut apart = Vec::new();
        let mut seen = crate::sorted::Set::new();
        for entry in queue {
            match crate::read::queued(&entry) {
                Some(q) if seen.insert(q.answer.id.clone()) => outbox.queue.push(q),
                Some(_) => {}
                None => apart.push(entry),
            }
        }
        if let Some(dead) = doc.get("dead").and_then(Value::as_array) {
            // Dead letters are kept for the record only; one unreadable is dropped.
            for d in dead {
                if let Some(d) = crate::read::dead_letter(d) {
                    outbox.dead.push(d);
                }
            }
        }
        outbox.queue.truncate(MAX_QUEUED);
        keep_newest_dead(&mut outbox.dead);
        (outbox, apart)
    }

    /// Forgets dead letters older than [`MAX_DEAD_AGE_MS`] at `now_ms`. One with
    /// no time (an overflow recorded before this rule) is dated `now_ms`, so it
    /// goes a month from now.
    pub fn prune(&mut self, now_ms: u64) {
        for d in self.dead.iter_mut().filter(|d| d.at == 0) {
            d.at = now_ms;
        }
        self.dead
            .retain(|d| now_ms.saturating_sub(d.at) <= MAX_DEAD_AGE_MS);
    }

    /// The stored form (read back with [`Outbox::from_json`]).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        o.u64("version", u64::from(self.version));
        write_list(o.key("queue"), &self.queue, Queued::write_json);
        write_dead_letters(o.key("dead"), &self.dead);
        o.end();
        out
    }

    /// Queues an answer, due at once. Call this, and store the outbox, before the
    /// first send. An id already queued or dead-lettered is ignored.
    pub fn enqueue(&mut self, user_id: &str, user_hash: Option<&str>, answer: Answer) -> Enqueued {
        let id = &answer.id;
        if self.queue.iter().any(|q| &q.answer.id == id)
            || self.dead.iter().any(|d| &d.answer.id == id)
        {
            return Enqueued::Duplicate;
        }
        let mut result = Enqueued::Added;
        if self.queue.len() >= MAX_QUEUED {
            let victim = self
                .queue
                .iter()
                .position(|q| q.answer.status == Status::Snoozed)
                .unwrap_or(0);
            let evicted = self.queue.remove(victim);
            result = Enqueued::AddedEvicting(evicted.answer.id.clone());
            self.bury(evicted, DeadReason::Overflow, None, 0);
        }
        self.queue.push(Queued {
            user_id: user_id.to_owned(),
            user_hash: user_hash.map(str::to_owned),
            answer,
            attempts: 0,
            next_at: 0,
            leased_until: 0,
        });
        result
    }

    /// The next request to send at `now_ms`: the oldest due answer and, in queue
    /// order, the other due answers of the same user (and hash), up to
    /// [`MAX_BATCH_ANSWERS`] and [`MAX_BATCH_BYTES`]. `None` when nothing is due.
    ///
    /// Does not change the outbox: send at most one batch at a time, or
    /// [`Outbox::lease`] it first.
    pub fn due_batch(&self, now_ms: u64) -> Option<Batch> {
        let first = self.queue.iter().find(|q| q.due_at() <= now_ms)?;
        Some(self.collect(first, &|q| q.due_at() <= now_ms))
    }

    /// Every queued answer of `user_id`, due or not, in size-bounded batches: for
    /// `sendBeacon` while the page unloads. The answers stay queued (a beacon
    /// reports no result); the receiver ignores ids it has already seen.
    pub fn all_queued(&self, user_id: &str) -> Vec<Batch> {
        self.all_queued_except(user_id, &[])
    }

    /// [`Outbox::all_queued`] without the answers `skip` (e.g. beaconed moments ago).
    pub fn all_queued_except(&self, user_id: &str, skip: &[String]) -> Vec<Batch> {
        let mut batches: Vec<Batch> = Vec::new();
        let mut taken = crate::sorted::Set::new();
        for id in skip {
            taken.insert(id.clone());
        }
        while let Some(first) = self
            .queue
            .iter()
            .find(|q| q.user_id == user_id && !taken.contains(&q.answer.id))
        {
            let batch = self.collect(first, &|q| !taken.contains(&q.answer.id));
            for id in &batch.ids {
                taken.insert(id.clone());
            }
            batches.push(batch);
        }
        batches
    }

    // `dyn`: one copy of this for both callers.
    fn collect(&self, first: &Queued, eligible: &dyn Fn(&Queued) -> bool) -> Batch {
        let mut answers = Vec::new();
        let mut ids = Vec::new();
        let mut bytes = 0usize;
        for q in &self.queue {
            if q.user_id != first.user_id || q.user_hash != first.user_hash || !eligible(q) {
                continue;
            }
            let mut text = String::new();
            q.answer.write_json(&mut text);
            let size = text.len();
            if !answers.is_empty()
                && (answers.len() >= MAX_BATCH_ANSWERS || bytes + size > MAX_BATCH_BYTES)
            {
                break;
            }
            bytes += size;
            answers.push(q.answer.clone());
            ids.push(q.answer.id.clone());
        }
        Batch {
            user_id: first.user_id.clone(),
            user_hash: first.user_hash.clone(),
            answers,
            ids,
        }
    }

    /// Marks `ids` as in flight until `until_ms`: [`Outbox::due_batch`] skips them
    /// meanwhile, and if the page dies before [`Outbox::apply`], they become due
    /// again then (the stored outbox keeps the lease).
    pub fn lease(&mut self, ids: &[String], until_ms: u64) {
        for q in self.queue.iter_mut().filter(|q| ids.contains(&q.answer.id)) {
            q.leased_until = until_ms;
        }
    }

    /// Ends the lease of `ids` and makes them due at `now_ms` (to send them again
    /// at once, e.g. one by one after their batch was refused). With `lease_until`,
    /// only answers still under that lease (not taken over by another sender).
    pub fn release(&mut self, ids: &[String], now_ms: u64, lease_until: Option<u64>) {
        for q in self.queue.iter_mut().filter(|q| {
            ids.contains(&q.answer.id)
                && !lease_until
                    .is_some_and(|mine| q.leased_until != mine && q.leased_until > now_ms)
        }) {
            q.leased_until = 0;
            q.next_at = now_ms;
        }
    }

    /// Applies the result of sending the answers `ids` at `now_ms`. `jitter` is a
    /// random number in 0..1 (see [`RetryPolicy::delay_ms`]). Ids no longer queued
    /// are ignored.
    pub fn apply(&mut self, ids: &[String], outcome: Outcome, now_ms: u64, jitter: f64) {
        self.apply_leased(ids, outcome, now_ms, jitter, None);
    }

    /// [`Outbox::apply`] for the sender that leased `ids` until `lease_until`. An
    /// answer whose lease has meanwhile been renewed by another sender (this one's
    /// ran out and another tab took it over) is left to that sender when the
    /// outcome is a retry: clearing its lease would let a third send start while
    /// the other is in flight. A delivery or a final refusal applies all the same.
    pub fn apply_leased(
        &mut self,
        ids: &[String],
        outcome: Outcome,
        now_ms: u64,
        jitter: f64,
        lease_until: Option<u64>,
    ) {
        let taken_over = |q: &Queued| {
            lease_until.is_some_and(|mine| q.leased_until != mine && q.leased_until > now_ms)
        };
        match outcome {
            Outcome::Delivered => self.queue.retain(|q| !ids.contains(&q.answer.id)),
            Outcome::NetworkError | Outcome::Retry { .. } => {
                let floor = match outcome {
                    Outcome::Retry {
                        retry_after_ms: Some(ms),
                        ..
                    } => ms.min(MAX_RETRY_AFTER_MS),
                    _ => 0,
                };
                let policy = self.policy;
                for q in self
                    .queue
                    .iter_mut()
                    .filter(|q| ids.contains(&q.answer.id) && !taken_over(q))
                {
                    q.attempts = q.attempts.saturating_add(1);
                    let delay = policy.delay_ms(q.attempts, jitter).max(floor);
                    q.next_at = now_ms.saturating_add(delay);
                    q.leased_until = 0;
                }
            }
            Outcome::Rejected { .. } | Outcome::Redirected | Outcome::Unsendable => {
                let (reason, status) = match outcome {
                    Outcome::Rejected { status } => (DeadReason::Rejected, Some(status)),
                    Outcome::Redirected => (DeadReason::Redirected, None),
                    _ => (DeadReason::Unsendable, None),
                };
                // Buried as they are met, in queue order: the same dead-letter list
                // as burying them after the split, without a `Vec` of them.
                for q in std::mem::take(&mut self.queue) {
                    if ids.contains(&q.answer.id) {
                        self.bury(q, reason, status, now_ms);
                    } else {
                        self.queue.push(q);
                    }
                }
            }
        }
    }

    /// Makes every queued answer due at `now_ms` (the browser came back online,
    /// or a new page load): waiting out a long backoff then helps nobody. Leases
    /// hold: an answer another tab is sending is not sent again.
    pub fn wake(&mut self, now_ms: u64) {
        for q in &mut self.queue {
            q.next_at = q.next_at.min(now_ms);
        }
    }

    fn bury(&mut self, q: Queued, reason: DeadReason, status: Option<u16>, at: u64) {
        self.dead.push(DeadLetter {
            user_id: q.user_id,
            answer: q.answer,
            reason,
            status,
            at,
        });
        keep_newest_dead(&mut self.dead);
    }

    /// When the earliest queued answer becomes due (ms since the epoch); `None`
    /// when the queue is empty. Set the retry timer for this.
    pub fn next_attempt_at(&self) -> Option<u64> {
        self.queue.iter().map(Queued::due_at).min()
    }

    /// Answers given up on, oldest first.
    pub fn dead_letter(&self) -> &[DeadLetter] {
        &self.dead
    }

    /// Empties the dead-letter list (e.g. after reporting it).
    pub fn clear_dead_letter(&mut self) {
        self.dead.clear();
    }

    /// The answers waiting for delivery, oldest first.
    pub fn queued(&self) -> &[Queued] {
        &self.queue
    }

    /// How many answers wait for delivery.
    pub fn queued_len(&self) -> usize {
        self.queue.len()
    }
}

/// Keeps the newest [`MAX_DEAD`] dead letters (the last ones). By `split_off`,
/// not `drain(..excess)`: the drain and its drop guard were code of their own
/// in the wasm for this alone.
fn keep_newest_dead(dead: &mut Vec<DeadLetter>) {
    let excess = dead.len().saturating_sub(MAX_DEAD);
    if excess > 0 {
        *dead = dead.split_off(excess);
    }
}
