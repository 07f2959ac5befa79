//! The delivery state machine (contract section 3): every decision about sending
//! answers, as a reducer. The widget reports what the browser did as an [`Event`];
//! [`Delivery::on`] answers with the [`Effect`]s to carry out (write storage, send
//! a batch, hand batches to `sendBeacon`, arm the retry timer, say what happened).
//! Time, randomness and storage are inputs, so every policy is tested natively.
//!
//! Storage is the source of truth and is shared by every tab of the site: each
//! event is applied to the outbox as stored *now* (`stored`), never to a copy kept
//! in memory, and the machine writes it back ([`Effect::Store`]) only when it
//! changed. What one tab must remember between events is small and lives here:
//! - its own answers not yet settled, put back if another tab's concurrent write
//!   dropped them (two tabs that read, change and write the outbox at once);
//! - the request in flight (at most one per tab), whose answers are leased in
//!   storage for [`LEASE_MS`] so no tab sends them meanwhile;
//! - the answers of a batch refused as a whole, re-sent one per request so that
//!   only the bad one is given up on;
//! - what page-hide flushes handed to `sendBeacon`;
//! - the fields it saw delivered, so a later refusal of another answer for the
//!   same field leaves the field known.

use crate::answer::{Answer, Status};
use crate::json::{self, Parse};
use crate::outbox::{Batch, Enqueued, Outbox, Outcome, Queued};
use crate::sorted::Set;
use crate::text::{concat, decimal};

/// How long a sent batch is leased (kept from other sends, in this tab and
/// others). A page that dies mid-request leaves the lease in storage; its answers
/// become due when it runs out.
pub const LEASE_MS: u64 = 30_000;

/// A send not answered after this long is aborted and counts as a network error;
/// shorter than the lease, so no other tab sends the same answers meanwhile.
pub const SEND_TIMEOUT_MS: u64 = 20_000;

/// Within this long after a beacon, `pagehide` does not beacon the same answer
/// again (leaving a page fires `visibilitychange`, then `pagehide`).
pub const BEACON_REPEAT_MS: u64 = 5_000;

/// What the browser reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The user responded: queue the answer (stored before any send), then send.
    Queue {
        /// Whose answer.
        user_id: String,
        /// The user's `userHash`, sent along.
        user_hash: Option<String>,
        /// The answer.
        answer: Answer,
    },
    /// Send what is due, skipping backoff (not leases): a page load, or the
    /// browser came back online.
    Wake,
    /// The retry timer fired: send what is due.
    Timer,
    /// The request for `ids` ended.
    Sent {
        /// The answers it carried.
        ids: Vec<String>,
        /// How it ended.
        result: SendResult,
    },
    /// The page is being hidden; `unloading` on `pagehide`.
    Hidden {
        /// The page is going away (not merely to the background).
        unloading: bool,
    },
    /// The browser accepted these answers for a beacon (after [`Effect::Beacon`]).
    Beaconed {
        /// The answers handed over.
        ids: Vec<String>,
    },
}

/// How one POST ended, as the browser saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// A response with this status (a 3xx is seen only as [`SendResult::Redirect`]),
    /// and its `Retry-After` in milliseconds when readable.
    Status {
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, converted to milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The endpoint answered with a redirect (never followed).
    Redirect,
    /// No response: offline, DNS, CORS refusal, timeout, abort.
    Network,
    /// The browser would not make the request as configured (why): a config
    /// fault, never retried as if it were the network.
    Unsendable(String),
}

impl SendResult {
    /// Classifies a status and its `Retry-After` header value (seconds).
    pub fn from_status(status: u16, retry_after: Option<&str>) -> SendResult {
        let retry_after_ms = retry_after
            .and_then(|v| whole_number(v.trim()))
            .map(|secs| secs.saturating_mul(1000));
        SendResult::Status {
            status,
            retry_after_ms,
        }
    }

    /// What it means for the answers.
    pub fn outcome(&self) -> Outcome {
        match self {
            SendResult::Status {
                status,
                retry_after_ms,
            } => match Outcome::from_status(*status) {
                Outcome::Retry { status, .. } => Outcome::Retry {
                    status,
                    retry_after_ms: *retry_after_ms,
                },
                other => other,
            },
            SendResult::Redirect => Outcome::Redirected,
            SendResult::Network => Outcome::NetworkError,
            SendResult::Unsendable(_) => Outcome::Unsendable,
        }
    }
}

/// `text` as `str::parse::<u64>` reads it: an optional `+`, then ASCII digits
/// only, within `u64`. By hand: the standard parser's generic integer code is
/// needed for nothing else in the wasm.
fn whole_number(text: &str) -> Option<u64> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// `trickle:error` codes the machine reports.
pub mod code {
    /// The endpoint refused an answer for good (a 4xx other than 408/429, or a
    /// redirect); the answer is in the dead-letter list.
    pub const REJECTED: &str = "rejected";
    /// The outbox was full: the oldest (preferably a snooze) was dead-lettered.
    pub const OVERFLOW: &str = "overflow";
    /// Stored outbox entries this version cannot read were moved aside.
    pub const STORAGE: &str = "storage";
    /// The request could not be made as configured (e.g. a header value).
    pub const CONFIG: &str = "config";
}

/// What the widget must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write the outbox (its stored form) to storage.
    Store(String),
    /// Keep these stored outbox entries (JSON) aside before the outbox is
    /// overwritten: this version cannot read them (another version's, or corrupt).
    KeepAside(Vec<serde_json::Value>),
    /// POST this batch now; report how it ended as [`Event::Sent`] (abort it after
    /// [`SEND_TIMEOUT_MS`]).
    Send(Batch),
    /// Hand this batch to `sendBeacon` (the page is going); report acceptance as
    /// [`Event::Beaconed`].
    Beacon(Batch),
    /// Arm the one retry timer for this time (ms since the epoch), replacing any
    /// earlier one; `None`: disarm it.
    Schedule(Option<u64>),
    /// Say `trickle:delivered` for these answers.
    Delivered(Vec<String>),
    /// Say `trickle:error` (and one console error).
    Report {
        /// One of [`code`].
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// `field` of `user_id` is no longer known (contract section 2: known means
    /// delivered or still queued): its answer was given up on and no other answer
    /// for it is queued or was delivered from this page.
    Forget {
        /// Whose field.
        user_id: String,
        /// The field.
        field: String,
    },
    /// One debug line.
    Note(String),
}

/// One tab's delivery state (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    own: Vec<Queued>,
    // The request in flight: its answers and the lease it holds on them.
    in_flight: Option<(Vec<String>, u64)>,
    split: Vec<String>,
    beaconed: Vec<(String, u64)>,
    delivered_fields: Vec<(String, String)>,
    aside_reported: bool,
}

impl Delivery {
    /// A tab that has sent nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `event` at `now_ms` to the outbox as `stored` now, with `jitter` in
    /// 0..1 for the backoff; returns what to do, in order.
    pub fn on(
        &mut self,
        stored: Option<&str>,
        event: Event,
        now_ms: u64,
        jitter: f64,
    ) -> Vec<Effect> {
        self.on_with(json::parse, stored, event, now_ms, jitter)
    }

    /// [`Delivery::on`] with the stored text read by `parse` (the widget's is the
    /// browser's `JSON.parse`).
    pub fn on_with(
        &mut self,
        parse: Parse,
        stored: Option<&str>,
        event: Event,
        now_ms: u64,
        jitter: f64,
    ) -> Vec<Effect> {
        let mut fx = Vec::new();
        let doc = stored.map(|text| parse(text).unwrap_or_default());
        let mut outbox = self.load(doc, now_ms, &mut fx);
        match event {
            Event::Queue {
                user_id,
                user_hash,
                answer,
            } => {
                let queued = Queued {
                    user_id,
                    user_hash,
                    answer,
                    attempts: 0,
                    next_at: 0,
                    leased_until: 0,
                };
                let enqueued = outbox.enqueue(
                    &queued.user_id,
                    queued.user_hash.as_deref(),
                    queued.answer.clone(),
                );
                if enqueued != Enqueued::Duplicate
                    && !self.own.iter().any(|q| q.answer.id == queued.answer.id)
                {
                    self.own.push(queued);
                }
                if let Enqueued::AddedEvicting(evicted) = enqueued {
                    self.evicted(&evicted, &mut fx);
                }
                self.pump(stored, &mut outbox, false, now_ms, &mut fx);
            }
            Event::Wake => self.pump(stored, &mut outbox, true, now_ms, &mut fx),
            Event::Timer => self.pump(stored, &mut outbox, false, now_ms, &mut fx),
            Event::Sent { ids, result } => {
                self.sent(stored, &mut outbox, &ids, &result, now_ms, jitter, &mut fx);
            }
            Event::Hidden { unloading } => self.hidden(&outbox, unloading, now_ms, &mut fx),
            Event::Beaconed { ids } => {
                for id in ids {
                    match self.beaconed.iter_mut().find(|(known, _)| *known == id) {
                        Some((_, at)) => *at = now_ms,
                        None => self.beaconed.push((id, now_ms)),
                    }
                }
            }
        }
        store(stored, &outbox, &mut fx);
        fx
    }

    /// Whether a request of this tab is in flight.
    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Applies a finished send to `stored` when no tab state is left to apply it
    /// to (the widget was destroyed meanwhile): the new stored text, or `None`
    /// when nothing is to be written (an outbox with entries this version cannot
    /// read is not ours to overwrite).
    pub fn settle_orphan(
        stored: Option<&str>,
        ids: &[String],
        result: &SendResult,
        now_ms: u64,
        jitter: f64,
    ) -> Option<String> {
        Self::settle_orphan_with(json::parse, stored, ids, result, now_ms, jitter)
    }

    /// [`Delivery::settle_orphan`] with the stored text read by `parse`.
    pub fn settle_orphan_with(
        parse: Parse,
        stored: Option<&str>,
        ids: &[String],
        result: &SendResult,
        now_ms: u64,
        jitter: f64,
    ) -> Option<String> {
        let (mut outbox, aside) = stored
            .map(|text| Outbox::read_value(parse(text).unwrap_or_default()))
            .unwrap_or_default();
        if !aside.is_empty() {
            return None;
        }
        outbox.apply(ids, result.outcome(), now_ms, jitter);
        let text = outbox.to_json();
        (stored != Some(text.as_str())).then_some(text)
    }

    /// The stored outbox with this tab's unsettled answers put back (another
    /// tab's concurrent write may have dropped them; an answer that tab already
    /// delivered may so be sent twice, always under its one id, which the
    /// receiver treats as one answer), old dead letters pruned, and unreadable
    /// entries handed aside.
    fn load(
        &mut self,
        stored: Option<serde_json::Value>,
        now_ms: u64,
        fx: &mut Vec<Effect>,
    ) -> Outbox {
        let (mut outbox, aside) = stored.map(Outbox::read_value).unwrap_or_default();
        if !aside.is_empty() {
            fx.push(Effect::KeepAside(aside));
            if !self.aside_reported {
                self.aside_reported = true;
                fx.push(Effect::Report {
                    code: code::STORAGE,
                    message: "stored answers this version cannot read were moved aside".into(),
                });
            }
        }
        outbox.prune(now_ms);
        let mut evicted = Vec::new();
        for q in &self.own {
            // A no-op for an id still queued or dead-lettered.
            if let Enqueued::AddedEvicting(id) =
                outbox.enqueue(&q.user_id, q.user_hash.as_deref(), q.answer.clone())
            {
                evicted.push(id);
            }
        }
        for id in evicted {
            self.evicted(&id, fx);
        }
        outbox
    }

    /// The full outbox dropped answer `id` to the dead-letter list.
    fn evicted(&mut self, id: &str, fx: &mut Vec<Effect>) {
        // Settled like a delivered or refused answer (it is dead-lettered now):
        // one `retain` less in the wasm than a retain of `own` by this id.
        self.settled(&[id.to_owned()]);
        fx.push(Effect::Report {
            code: code::OVERFLOW,
            message: concat(&[
                "the outbox is full; answer ",
                id,
                " was dropped to the dead-letter list",
            ]),
        });
    }

    /// Sends the next due batch unless a send is in flight; with nothing due,
    /// arms the timer for the next one. `wake`: skip backoff first.
    fn pump(
        &mut self,
        stored: Option<&str>,
        outbox: &mut Outbox,
        wake: bool,
        now_ms: u64,
        fx: &mut Vec<Effect>,
    ) {
        if wake {
            outbox.wake(now_ms);
        }
        if self.in_flight.is_some() {
            return;
        }
        let batch = self
            .solo_batch(outbox, now_ms)
            .or_else(|| outbox.due_batch(now_ms));
        let Some(batch) = batch else {
            fx.push(Effect::Schedule(outbox.next_attempt_at()));
            return;
        };
        let lease = now_ms.saturating_add(LEASE_MS);
        outbox.lease(&batch.ids, lease);
        self.in_flight = Some((batch.ids.clone(), lease));
        // The answers and their lease are stored before the send: no tab takes
        // them meanwhile, and an answer is in storage before its first send.
        store(stored, outbox, fx);
        fx.push(Effect::Schedule(None));
        fx.push(Effect::Note(concat(&[
            "sending ",
            &decimal(batch.ids.len() as u64),
            " answer(s)",
        ])));
        fx.push(Effect::Send(batch));
    }

    /// The first due answer of a refused batch, alone; forgets split answers no
    /// longer queued.
    fn solo_batch(&mut self, outbox: &Outbox, now_ms: u64) -> Option<Batch> {
        self.split
            .retain(|id| outbox.queued().iter().any(|q| &q.answer.id == id));
        let q = outbox
            .queued()
            .iter()
            .find(|q| q.due_at() <= now_ms && self.split.contains(&q.answer.id))?;
        Some(Batch {
            user_id: q.user_id.clone(),
            user_hash: q.user_hash.clone(),
            answers: vec![q.answer.clone()],
            ids: vec![q.answer.id.clone()],
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn sent(
        &mut self,
        stored: Option<&str>,
        outbox: &mut Outbox,
        ids: &[String],
        result: &SendResult,
        now_ms: u64,
        jitter: f64,
        fx: &mut Vec<Effect>,
    ) {
        let lease = match &self.in_flight {
            Some((sent, lease)) if sent == ids => {
                let lease = *lease;
                self.in_flight = None;
                Some(lease)
            }
            _ => None,
        };
        let outcome = result.outcome();
        if matches!(outcome, Outcome::Rejected { .. }) && ids.len() > 1 {
            // The endpoint refuses a whole batch for one bad answer (a 422 names
            // its path): send each alone before giving any up. Due at once.
            outbox.release(ids, now_ms, lease);
            for id in ids {
                if !self.split.contains(id) {
                    self.split.push(id.clone());
                }
            }
            fx.push(Effect::Note(concat(&[
                "a batch of ",
                &decimal(ids.len() as u64),
                " was refused; sending each answer alone",
            ])));
            self.pump(stored, outbox, false, now_ms, fx);
            return;
        }
        outbox.apply_leased(ids, outcome, now_ms, jitter, lease);
        match outcome {
            Outcome::Delivered => {
                for q in self.own.iter().filter(|q| ids.contains(&q.answer.id)) {
                    if q.answer.status != Status::Snoozed {
                        let held = (q.user_id.clone(), q.answer.field.clone());
                        if !self.delivered_fields.contains(&held) {
                            self.delivered_fields.push(held);
                        }
                    }
                }
                self.settled(ids);
                fx.push(Effect::Note(concat(&[
                    "delivered ",
                    &decimal(ids.len() as u64),
                    " answer(s)",
                ])));
                fx.push(Effect::Delivered(ids.to_vec()));
            }
            Outcome::Rejected { .. } | Outcome::Redirected | Outcome::Unsendable => {
                self.settled(ids);
                self.forget_rejected(outbox, ids, fx);
                for id in ids {
                    let (code, message) = match (&outcome, result) {
                        (Outcome::Rejected { status }, _) => (
                            code::REJECTED,
                            concat(&[
                                "the endpoint refused answer ",
                                id,
                                " with status ",
                                &decimal(u64::from(*status)),
                            ]),
                        ),
                        (Outcome::Redirected, _) => (
                            code::REJECTED,
                            concat(&[
                                "the endpoint answered answer ",
                                id,
                                " with a redirect, which is never followed",
                            ]),
                        ),
                        (_, SendResult::Unsendable(why)) => (
                            code::CONFIG,
                            concat(&["answer ", id, " cannot be sent as configured: ", why]),
                        ),
                        _ => (
                            code::CONFIG,
                            concat(&["answer ", id, " cannot be sent as configured"]),
                        ),
                    };
                    fx.push(Effect::Report { code, message });
                }
            }
            Outcome::NetworkError | Outcome::Retry { .. } => {
                let why = match result {
                    SendResult::Status { status, .. } => decimal(u64::from(*status)),
                    _ => "network error".to_owned(),
                };
                fx.push(Effect::Note(concat(&[
                    "send failed (",
                    &why,
                    "); will retry",
                ])));
            }
        }
        self.pump(stored, outbox, false, now_ms, fx);
    }

    /// `ids` were delivered or given up on: none is this tab's to put back or to
    /// send alone any more.
    // One function for both outcomes: each `retain` closure is code of its own.
    fn settled(&mut self, ids: &[String]) {
        self.split.retain(|id| !ids.contains(id));
        self.own.retain(|q| !ids.contains(&q.answer.id));
    }

    /// For each answer of `ids` now dead-lettered (snoozes aside): its field is
    /// forgotten unless another answer for it is queued or was delivered here.
    fn forget_rejected(&self, outbox: &Outbox, ids: &[String], fx: &mut Vec<Effect>) {
        for d in outbox.dead_letter() {
            if !ids.contains(&d.answer.id) || d.answer.status == Status::Snoozed {
                continue;
            }
            let held = outbox.queued().iter().any(|q| {
                q.user_id == d.user_id
                    && q.answer.field == d.answer.field
                    && q.answer.status != Status::Snoozed
            }) || self
                .delivered_fields
                .iter()
                .any(|(u, f)| *u == d.user_id && *f == d.answer.field);
            // Each (user, field) once. Compared here rather than with
            // `fx.contains`, whose `Effect: PartialEq` would compare every variant.
            let said = fx.iter().any(|e| {
                matches!(e, Effect::Forget { user_id, field }
                    if *user_id == d.user_id && *field == d.answer.field)
            });
            if !held && !said {
                fx.push(Effect::Forget {
                    user_id: d.user_id.clone(),
                    field: d.answer.field.clone(),
                });
            }
        }
    }

    /// Page hide: every queued answer to `sendBeacon`, one user at a time (they
    /// stay queued until a 2xx is seen, so the next load sends them again under
    /// the same ids). A mere hide sends only answers this page never beaconed;
    /// `pagehide` all but those beaconed in the last [`BEACON_REPEAT_MS`].
    fn hidden(&mut self, outbox: &Outbox, unloading: bool, now_ms: u64, fx: &mut Vec<Effect>) {
        // Delivered or dead-lettered meanwhile: nothing left to remember.
        self.beaconed
            .retain(|(id, _)| outbox.queued().iter().any(|q| &q.answer.id == id));
        let mut skip: Vec<String> = Vec::new();
        for (id, at) in &self.beaconed {
            if !unloading || now_ms.saturating_sub(*at) < BEACON_REPEAT_MS {
                skip.push(id.clone());
            }
        }
        // Each user once, in sorted order: a set of strings, whose code the
        // prompt state already brings (a sort call would be the wasm's only
        // quicksort, a sorted `Vec<&str>` its own search and insert code).
        let mut users = Set::new();
        for q in outbox.queued() {
            users.insert(q.user_id.clone());
        }
        for user in &users {
            for batch in outbox.all_queued_except(user, &skip) {
                fx.push(Effect::Beacon(batch));
            }
        }
    }
}

/// Writes `outbox` unless storage already holds exactly that.
fn store(stored: Option<&str>, outbox: &Outbox, fx: &mut Vec<Effect>) {
    let text = outbox.to_json();
    let current = fx
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::Store(t) => Some(t.as_str()),
            _ => None,
        })
        .or(stored);
    if current != Some(text.as_str()) {
        fx.push(Effect::Store(text));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::whole_number;

    fn agrees(text: &str) {
        assert_eq!(whole_number(text), text.parse::<u64>().ok(), "{text:?}");
    }

    #[test]
    fn whole_number_reads_what_the_standard_parser_reads() {
        for text in [
            "",
            "0",
            "7",
            "+7",
            "-7",
            "++7",
            "+",
            "-",
            "007",
            "1.5",
            "1e3",
            " 7",
            "7 ",
            "٣",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
        ] {
            agrees(text);
        }
    }

    proptest! {
        #[test]
        fn whole_number_agrees_with_the_standard_parser(text in "[+-]?[0-9a ]{0,22}") {
            agrees(&text);
        }
    }
}
