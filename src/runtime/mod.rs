//! The controller: holds the config, the user, the tracked events, the user's
//! prompt state and the outbox; decides through `trickle-core`, renders through
//! [`crate::ui`], delivers through [`crate::platform`].
//!
//! Storage is the source of truth: the outbox and the prompt state are re-read
//! before every change and written back at once, so two tabs of one site share one
//! queue (see `Runtime::load_outbox` for how neither loses the other's answers).
//!
//! Storage keys (localStorage, or memory when the browser refuses it):
//! - `trickle:v1:outbox`: the queue and the dead-letter list, all users.
//! - `trickle:v1:outbox:unreadable`: a stored outbox this version could not read
//!   although it holds queued answers (e.g. written by a newer widget in another
//!   tab), copied once before it is overwritten; reported as a `storage` error.
//! - `trickle:v1:state:<userId>`: one user's prompt state (shown counts, snoozes,
//!   declines, answered fields, tracked events, the login last counted).
//!
//! Delivery: an answer is stored, then sent at once (one request per user, batched
//! by the core). While a request is in flight its answers are leased for 30 s (no
//! other send, here or in another tab, takes them); a request is aborted after
//! 20 s. 2xx: removed, `trickle:delivered`. Network error, timeout, 408, 429, 5xx:
//! retried by one timer at the core's jittered backoff (2 s, 4 s, 8 s ... 5 min,
//! each between half and all of its step; `Retry-After` in seconds is honoured when
//! the endpoint exposes it), at once on `online`, and at the next `init`. Other
//! 4xx: a batch of several is re-sent one answer per request first (one bad answer
//! must not sink the rest); a single answer is dead-lettered, one `trickle:error`
//! per answer, never retried, and the field
//! is no longer known (unless another answer for it is queued or delivered). On
//! `pagehide` the whole queue is handed to `sendBeacon` (a keepalive `fetch` when
//! custom headers are configured), on `visibilitychange` to hidden only answers not
//! beaconed before from this page; either way they stay queued until a 2xx is seen.

pub mod host;

use std::collections::BTreeSet;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use serde_json::{json, Value as Json};
use trickle_core::answer::{self, Answer, Context, Status, Value};
use trickle_core::config::{Config, User};
use trickle_core::outbox::{Batch, Enqueued, Outbox, Outcome};
use trickle_core::rules::{self, Due, PromptState};

use crate::platform::storage::{state_key, OUTBOX_BACKUP_KEY, OUTBOX_KEY};
use crate::platform::transport::{self, Delivery};
use crate::platform::{clock, ids, lifecycle::Lifecycle, Log, Store};
use crate::ui::{Look, Popup, QuestionView, Screen, UiEvent};

/// How long a sent batch is leased (kept from other sends, here and in other tabs)
/// while its request is in flight. A page that dies mid-request leaves the lease
/// in storage; the answers become due again when it runs out or at the next load.
const LEASE_MS: u64 = 30_000;

/// A send that has not been answered after this long counts as a network error
/// (and is retried); shorter than the lease, so no other tab sends meanwhile.
const SEND_TIMEOUT_MS: u32 = 20_000;

/// Within this long after a beacon, `pagehide` does not beacon the same answer again
/// (leaving a page fires `visibilitychange` and then `pagehide`).
const BEACON_REPEAT_MS: u64 = 5_000;

/// How long the first decision after `init`/`identify` waits for the profile read
/// (contract section 2): past this the widget decides from this browser's state and
/// merges the read when it arrives.
const PROFILE_WAIT_MS: u32 = 1_500;

/// A profile read still unanswered after this long is given up (aborted).
const PROFILE_TIMEOUT_MS: u32 = 20_000;

/// `context.widget` of every envelope.
pub const WIDGET: &str = concat!("trickle/", env!("CARGO_PKG_VERSION"));

/// `trickle:error` codes.
pub mod code {
    /// The config (or a user passed to `identify`) is invalid.
    pub const CONFIG: &str = "config";
    /// The endpoint refused an answer for good (a 4xx other than 408/429); the answer
    /// is in the dead-letter list.
    pub const REJECTED: &str = "rejected";
    /// The outbox was full: the oldest (preferably a snooze) moved to the
    /// dead-letter list.
    pub const OVERFLOW: &str = "overflow";
    /// The popup could not be shown.
    pub const UI: &str = "ui";
    /// An internal error (a panic) stopped the widget for the page's life.
    pub const INTERNAL: &str = "internal";
    /// The stored outbox held answers this version cannot read; it was copied to
    /// `trickle:v1:outbox:unreadable` before being replaced.
    pub const STORAGE: &str = "storage";
    /// The profile read (`profileUrl`) was refused for good (a 4xx other than
    /// 408/429, e.g. a wrong `userHash`): decisions use this browser's state only.
    pub const PROFILE: &str = "profile";
}

/// The profile read in progress for the current user.
struct Reading {
    // Which read this is: a newer `identify` supersedes an older read.
    seq: u32,
    // Aborts the request on `destroy()`, sign-out or a newer read; its timeout.
    request: Option<(web_sys::AbortController, Timeout)>,
    // Set while the first decision waits for this read; the timer ends the wait.
    wait: Option<Timeout>,
}

/// One running widget (between `init` and `destroy`).
pub struct Runtime {
    generation: u32,
    config: Rc<Config>,
    log: Log,
    store: Rc<Store>,
    user: Option<User>,
    state: PromptState,
    // Events tracked while no user was identified: recorded for the next one.
    events: BTreeSet<String>,
    // Answers this tab queued and has not yet seen delivered or dead-lettered: put
    // back if another tab's concurrent write dropped them from storage.
    own: Vec<(String, Option<String>, Answer)>,
    // (user id, field) of answers and declines this page saw delivered: a later
    // rejection of another answer for the field leaves it known. A Vec, as is
    // `beaconed`: few entries, and each new B-tree type is one more copy of the
    // B-tree code in the wasm (2.4 KB brotli for these two).
    delivered_fields: Vec<(String, String)>,
    current: Option<Due>,
    popup: Option<Popup>,
    in_flight: bool,
    // The request in flight: its abort handle and its deadline. `destroy()` aborts it
    // (its answers stay leased in storage, due again at the next `init`).
    request: Option<(web_sys::AbortController, Timeout)>,
    timer: Option<Timeout>,
    // Answer id -> when a page-hide flush last handed it to the browser. A tab
    // switch (`visibilitychange`) beacons only answers never beaconed from this
    // page, so an unreachable endpoint does not get the whole queue on every
    // switch; `pagehide` beacons all but those beaconed in the last moments.
    beaconed: Vec<(String, u64)>,
    // Answers of a batch refused as a whole with a final 4xx: each is re-sent in a
    // request of its own, so only the bad one is dead-lettered.
    split: BTreeSet<String>,
    // An unreadable stored outbox was reported (once per runtime).
    unreadable_reported: bool,
    // The profile read in flight, if any (see `read_profile`), and the last read's
    // number.
    reading: Option<Reading>,
    reads: u32,
    _lifecycle: Option<Lifecycle>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("generation", &self.generation)
            .finish()
    }
}

impl Runtime {
    /// Starts a runtime for a validated config: opens storage, listens to the page
    /// lifecycle, takes the user (an earlier `identify` wins over `config.user` only
    /// when the config has none) and the early `track` calls. Nothing is shown yet:
    /// call [`Runtime::start`] once it is installed.
    pub fn new(config: Config, early_user: Option<User>, early_events: BTreeSet<String>) -> Self {
        let generation = host::next_generation();
        let log = Log::new(config.debug);
        let store = host::store(log);
        let user = config.user.clone().or(early_user);
        let on_online: Rc<dyn Fn()> = Rc::new(move || {
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.log.debug(&["online: sending the queue"]);
                    rt.pump(true);
                }
            });
        });
        let on_hide: Rc<dyn Fn(bool)> = Rc::new(move |unloading| {
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.flush_on_hide(unloading);
                }
            });
        });
        let on_storage: Rc<dyn Fn()> = Rc::new(move || {
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.other_tab_changed();
                }
            });
        });
        let mut rt = Self {
            generation,
            config: Rc::new(config),
            log,
            store,
            user: None,
            state: PromptState::default(),
            events: early_events,
            own: Vec::new(),
            delivered_fields: Vec::new(),
            current: None,
            popup: None,
            in_flight: false,
            request: None,
            timer: None,
            beaconed: Vec::new(),
            split: BTreeSet::new(),
            unreadable_reported: false,
            reading: None,
            reads: 0,
            _lifecycle: Some(Lifecycle::listen(on_online, on_hide, on_storage)),
        };
        if let Some(user) = user {
            rt.set_user(user);
        }
        rt
    }

    /// The first moves after `init`: says `trickle:ready`, sends what earlier page
    /// loads left queued, and shows the due question, if any.
    pub fn start(&mut self) {
        let who = self
            .user
            .as_ref()
            .map(|u| u.id.as_str())
            .unwrap_or("nobody yet");
        self.log.debug(&["started for ", who]);
        host::emit("trickle:ready", json!({}));
        self.pump(true);
        self.read_profile();
        self.advance(false);
    }

    /// `identify(user)`: sets or replaces the user and counts their login. A
    /// different user closes the old user's question; then, unless a question is on
    /// screen, what is due now is shown.
    pub fn identify(&mut self, user: User) {
        let same_user = self.user.as_ref().map(|u| u.id == user.id).unwrap_or(false);
        if !same_user {
            self.close_current();
        }
        self.set_user(user);
        self.read_profile();
        if self.current.is_none() {
            self.advance(false);
        }
    }

    /// `identify(null)`: signs the user out. The popup goes away and nothing is
    /// asked until the next `identify(user)`; queued answers are still delivered
    /// (each carries its own user).
    pub fn sign_out(&mut self) {
        self.cancel_read();
        self.current = None;
        self.show(Screen::Hidden);
        if self.user.take().is_some() {
            self.log.debug(&["signed out"]);
        }
        self.state = PromptState::default();
    }

    /// `track(name)`: marks an event for the current user; a stage it reaches may
    /// become due at once.
    pub fn track(&mut self, name: String) {
        if self.user.is_none() {
            self.events.insert(name);
            return;
        }
        self.reload_state();
        if self.state.events.contains(&name) {
            return;
        }
        self.log.debug(&["tracked ", &name]);
        self.state.record_event(&name);
        self.save_state();
        if self.current.is_none() {
            self.advance(false);
        }
    }

    /// `explain()`: every question with whether it is open and why not, the number
    /// of queued answers and the dead-letter list (contract section 4).
    pub fn explain(&mut self) -> Json {
        self.reload_state();
        let questions = rules::explain(&self.config, self.user.as_ref(), &self.state, &self.events);
        let outbox = self.load_outbox();
        json!({
            "questions": questions,
            "queued": outbox.queued_len(),
            "deadLetter": outbox.dead_letter(),
        })
    }

    /// Tears down every node, listener and timer. The queue stays in storage.
    pub fn destroy(mut self) {
        self.timer = None;
        self.cancel_read();
        if let Some((controller, _deadline)) = self.request.take() {
            controller.abort();
        }
        self._lifecycle = None;
        if let Some(popup) = self.popup.take() {
            popup.destroy();
        }
    }

    // --- users and questions ---------------------------------------------------

    fn set_user(&mut self, user: User) {
        let key = state_key(&user.id);
        let mut state = self
            .store
            .get(&key)
            .map(|s| PromptState::from_json(&s))
            .unwrap_or_default();
        state.begin_login(user.logins_count);
        // Events tracked before anyone signed in count for the user who signs in.
        for event in std::mem::take(&mut self.events) {
            state.record_event(&event);
        }
        self.store.set(&key, &state.to_json());
        self.state = state;
        self.user = Some(user);
    }

    /// Re-reads the user's prompt state: another tab of the site may have shown,
    /// answered or snoozed since (the same storage-first rule as the outbox).
    fn reload_state(&mut self) {
        if let Some(user) = &self.user {
            if let Some(stored) = self.store.get(&state_key(&user.id)) {
                self.state = PromptState::from_json(&stored);
            }
        }
    }

    fn save_state(&self) {
        if let Some(user) = &self.user {
            self.store.set(&state_key(&user.id), &self.state.to_json());
        }
    }

    /// Shows the next due question; with none, the thank-you (after an answer) or
    /// nothing new.
    fn advance(&mut self, after_answer: bool) {
        if self.reading.as_ref().is_some_and(|r| r.wait.is_some()) {
            // Decided when the profile read arrives or its wait runs out.
            return;
        }
        self.reload_state();
        let due = self
            .user
            .as_ref()
            .and_then(|u| rules::next_question(&self.config, u, &self.state, &self.events));
        let Some(due) = due else {
            self.current = None;
            if self.log.debug {
                self.log_why_nothing_is_due();
            }
            // Otherwise the popup is hidden already, or finishing a thank-you.
            if after_answer {
                self.show(Screen::Thanks);
            }
            return;
        };
        let Some((_, question)) = self.config.question(&due.question_id) else {
            return;
        };
        let question = question.clone();
        let field = question.field.clone();
        // Mounted first: a popup that cannot be shown must not use up the login's
        // cap or the question's asks, nor be announced as shown.
        let shown = self.show(Screen::Question(QuestionView {
            question,
            stage: due.stage.clone(),
            position: due.position,
            total: due.total,
        }));
        if !shown {
            self.current = None;
            return;
        }
        self.state.record_shown(&due.question_id);
        self.save_state();
        self.log
            .debug(&["show ", &due.question_id, " (stage ", &due.stage, ")"]);
        host::emit(
            "trickle:shown",
            json!({ "questionId": due.question_id, "stage": due.stage, "field": field }),
        );
        self.current = Some(due);
    }

    // One debug line: every question's reason, e.g. `role: known, city: cap-reached`.
    fn log_why_nothing_is_due(&self) {
        let mut line = String::from("no question due (");
        let reasons = rules::explain(&self.config, self.user.as_ref(), &self.state, &self.events);
        for (i, e) in reasons.iter().enumerate() {
            if i > 0 {
                line.push_str(", ");
            }
            line.push_str(&e.question_id);
            line.push_str(": ");
            line.push_str(e.reason.map(|r| r.as_str()).unwrap_or("open"));
        }
        line.push(')');
        self.log.debug(&[&line]);
    }

    /// Another tab wrote storage: if the user answered, declined or snoozed the
    /// question on screen there, it goes away here too.
    fn other_tab_changed(&mut self) {
        self.reload_state();
        if self.close_if_settled() {
            self.log.debug(&["settled in another tab"]);
        }
    }

    /// Closes the question on screen if the prompt state (as it is now) no longer
    /// leaves it open. A question on screen stays open by the rule until something
    /// settles it. Returns whether it was closed.
    fn close_if_settled(&mut self) -> bool {
        let Some(question_id) = self.current.as_ref().map(|c| c.question_id.clone()) else {
            return false;
        };
        let still_open =
            rules::explain(&self.config, self.user.as_ref(), &self.state, &self.events)
                .iter()
                .any(|e| e.question_id == question_id && e.open);
        if !still_open {
            self.close_current();
        }
        !still_open
    }

    // --- the server-kept profile (contract section 2) ----------------------------

    /// With `profileUrl` set and a user identified, reads the server-kept profile
    /// and prompt state (replacing any read in flight). While nothing is on screen
    /// the next decision waits for it, at most [`PROFILE_WAIT_MS`].
    fn read_profile(&mut self) {
        self.cancel_read();
        let (Some(template), Some(user)) = (&self.config.profile_url, &self.user) else {
            return;
        };
        let encoded: String = js_sys::encode_uri_component(&user.id).into();
        let url = template.replace("{userId}", &encoded);
        let user_id = user.id.clone();
        let hash = user.user_hash.clone();
        let headers = self.config.headers.clone();
        self.reads = self.reads.wrapping_add(1);
        let seq = self.reads;
        let generation = self.generation;
        let request = web_sys::AbortController::new().ok().map(|controller| {
            let abort = controller.clone();
            (
                controller,
                Timeout::new(PROFILE_TIMEOUT_MS, move || abort.abort()),
            )
        });
        let signal = request.as_ref().map(|(c, _)| c.signal());
        let wait = self.current.is_none().then(|| {
            Timeout::new(PROFILE_WAIT_MS, move || {
                host::with_runtime(|rt| {
                    if rt.generation == generation {
                        rt.profile_wait_over(seq);
                    }
                });
            })
        });
        self.reading = Some(Reading { seq, request, wait });
        self.log.debug(&["reading the profile of ", &user_id]);
        wasm_bindgen_futures::spawn_local(async move {
            let extra: Vec<(&str, &str)> = hash
                .as_deref()
                .map(|h| ("X-Trickle-User-Hash", h))
                .into_iter()
                .collect();
            let result = transport::read(&url, &headers, &extra, signal.as_ref()).await;
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.profile_arrived(seq, &user_id, result);
                }
            });
        });
    }

    fn cancel_read(&mut self) {
        if let Some(Reading {
            request: Some((controller, _)),
            ..
        }) = self.reading.take()
        {
            controller.abort();
        }
    }

    /// The profile read is slow: decide from this browser's state now; the read is
    /// merged when it arrives.
    fn profile_wait_over(&mut self, seq: u32) {
        let Some(reading) = self.reading.as_mut().filter(|r| r.seq == seq) else {
            return;
        };
        reading.wait = None;
        self.log
            .debug(&["the profile read is slow; deciding from local state"]);
        if self.current.is_none() {
            self.advance(false);
        }
    }

    /// A profile read ended: merge what it says into the user's prompt state, then
    /// decide (if the decision was waiting for it) or close the question on screen
    /// if the merged state settles it (and show what is due instead).
    fn profile_arrived(&mut self, seq: u32, user_id: &str, result: Result<String, Delivery>) {
        let Some(reading) = self.reading.take() else {
            return;
        };
        if reading.seq != seq {
            self.reading = Some(reading);
            return;
        }
        let waited = reading.wait.is_some();
        let same_user = self.user.as_ref().is_some_and(|u| u.id == user_id);
        match result {
            Ok(text) if same_user => {
                let remote = serde_json::from_str::<Json>(&text)
                    .ok()
                    .and_then(|body| rules::Remote::from_profile_read(&self.config, &body));
                match remote {
                    Some(remote) => {
                        self.reload_state();
                        if self.state.merge_server(&remote) {
                            self.save_state();
                        }
                        self.log.debug(&["profile read merged"]);
                    }
                    None => self
                        .log
                        .debug(&["the profile read is not a profile; ignored"]),
                }
            }
            Ok(_) => {}
            Err(delivery) => {
                let status = delivery.status();
                let text = status.map(|s| s.to_string());
                let status_text = text.as_deref().unwrap_or("network error");
                if matches!(outcome(delivery), Outcome::Rejected { .. }) {
                    let mut message = String::from("the profile read was refused with status ");
                    message.push_str(status_text);
                    message.push_str("; deciding from this browser's state");
                    self.report(code::PROFILE, message);
                } else {
                    self.log
                        .debug(&["the profile read failed (", status_text, ")"]);
                }
            }
        }
        if waited || self.close_if_settled() {
            if self.current.is_none() {
                self.advance(false);
            }
        }
    }

    fn close_current(&mut self) {
        if self.current.take().is_some() {
            self.show(Screen::Hidden);
        }
    }

    /// Puts `screen` on the popup, mounting it first if needed; false when the
    /// popup could not be mounted (reported as a `ui` error).
    fn show(&mut self, screen: Screen) -> bool {
        if self.popup.is_none() {
            if matches!(screen, Screen::Hidden) {
                return true;
            }
            let generation = self.generation;
            let on_event: Rc<dyn Fn(UiEvent)> =
                Rc::new(move |event| on_ui_event(generation, event));
            let look = Look::from_config(&self.config);
            match Popup::mount(look, on_event) {
                Ok(popup) => self.popup = Some(popup),
                Err(e) => {
                    let mut message = String::from("cannot show the popup: ");
                    message.push_str(&e.to_string());
                    self.report(code::UI, message);
                    return false;
                }
            }
        }
        if let Some(popup) = &self.popup {
            popup.show(screen);
        }
        true
    }

    /// What the popup reports.
    pub fn on_ui(&mut self, event: UiEvent) {
        match event {
            UiEvent::Dismissed => {
                self.show(Screen::Hidden);
            }
            UiEvent::Answer { value, other } => self.answered(value, other),
            UiEvent::Decline => self.respond(Status::Declined, None, false),
            UiEvent::Snooze => self.respond(Status::Snoozed, None, false),
        }
    }

    fn answered(&mut self, value: Value, other: bool) {
        let Some(current) = &self.current else { return };
        let Some((_, question)) = self.config.question(&current.question_id) else {
            return;
        };
        match answer::check_value(question, &value, other) {
            Ok(value) => self.respond(Status::Answered, Some(value), other),
            // The popup refuses invalid input in place; this only guards the contract.
            Err(_) => self.log.debug(&["refused an invalid value"]),
        }
    }

    /// Records the user's response to the current question: queues and stores the
    /// answer before any send, updates the prompt state, says so, sends, moves on.
    fn respond(&mut self, status: Status, value: Option<Value>, other: bool) {
        let (Some(current), Some(user)) = (self.current.take(), self.user.clone()) else {
            return;
        };
        self.reload_state();
        let answer = Answer {
            id: ids::uuid(),
            question_id: current.question_id.clone(),
            stage: current.stage.clone(),
            field: current.field.clone(),
            status,
            value,
            other,
            answered_at: clock::iso_now(),
            logins_count: user.logins_count,
        };
        let mut outbox = self.load_outbox();
        let enqueued = outbox.enqueue(&user.id, user.user_hash.as_deref(), answer.clone());
        // Stored before anything is sent (contract section 3).
        self.save_outbox(&outbox);
        self.own
            .push((user.id.clone(), user.user_hash.clone(), answer.clone()));
        if let Enqueued::AddedEvicting(evicted) = enqueued {
            self.evicted(&evicted);
        }

        let name = match status {
            Status::Answered => {
                self.state.record_answered(&answer.field);
                "trickle:answered"
            }
            Status::Declined => {
                self.state.record_declined(&answer.field);
                "trickle:declined"
            }
            Status::Snoozed => {
                self.state.record_snoozed(&answer.stage, user.logins_count);
                "trickle:snoozed"
            }
        };
        self.save_state();
        let verb = name.strip_prefix("trickle:").unwrap_or(name);
        self.log
            .debug(&[verb, " ", &answer.question_id, "; queued ", &answer.id]);
        let mut detail = json!({
            "id": answer.id,
            "questionId": answer.question_id,
            "stage": answer.stage,
            "field": answer.field,
        });
        if let (Some(value), Some(map)) = (&answer.value, detail.as_object_mut()) {
            map.insert("value".to_owned(), json!(value));
        }
        host::emit(name, detail);
        self.pump(false);
        if status == Status::Snoozed {
            self.show(Screen::Hidden);
        } else {
            self.advance(true);
        }
    }

    // --- delivery ----------------------------------------------------------------

    /// Reads the outbox from storage (another tab may have changed it) and puts back
    /// this tab's own answers that a concurrent write of the other tab dropped. An
    /// answer the other tab already delivered may so be sent twice, always under its
    /// one id, which the collector treats as one answer.
    ///
    /// Putting one back into a full outbox evicts another answer, reported like an
    /// eviction in `respond`; the outbox is then stored at once, so the eviction
    /// happens (and is reported) once.
    fn load_outbox(&mut self) -> Outbox {
        let stored = self.store.get(OUTBOX_KEY);
        let mut outbox = stored.as_deref().map(Outbox::from_json).unwrap_or_default();
        if let Some(text) = stored.filter(|t| holds_unreadable_entries(t, &outbox)) {
            self.keep_unreadable(&text);
        }
        let mut evicted = Vec::new();
        for (user_id, user_hash, answer) in &self.own {
            // A no-op for an id still queued or dead-lettered.
            if let Enqueued::AddedEvicting(id) =
                outbox.enqueue(user_id, user_hash.as_deref(), answer.clone())
            {
                evicted.push(id);
            }
        }
        if !evicted.is_empty() {
            self.save_outbox(&outbox);
            for id in evicted {
                self.evicted(&id);
            }
        }
        outbox
    }

    /// The stored outbox held queued answers this version cannot read (the core
    /// reads it as empty, and the next write would lose them): copy it to
    /// [`OUTBOX_BACKUP_KEY`] unless a copy is there already, and say so once.
    fn keep_unreadable(&mut self, text: &str) {
        if self.store.get(OUTBOX_BACKUP_KEY).is_none() {
            self.store.set(OUTBOX_BACKUP_KEY, text);
        }
        if !self.unreadable_reported {
            self.unreadable_reported = true;
            let mut message = String::from("the stored outbox could not be read; kept as ");
            message.push_str(OUTBOX_BACKUP_KEY);
            self.report(code::STORAGE, message);
        }
    }

    /// The full outbox dropped answer `id` to the dead-letter list: one
    /// `overflow` error.
    fn evicted(&mut self, id: &str) {
        self.own.retain(|(_, _, a)| a.id != id);
        let mut message = String::from("the outbox is full; answer ");
        message.push_str(id);
        message.push_str(" was dropped to the dead-letter list");
        self.report(code::OVERFLOW, message);
    }

    fn save_outbox(&self, outbox: &Outbox) {
        self.store.set(OUTBOX_KEY, &outbox.to_json());
    }

    /// Sends the next due batch unless a send is in flight; otherwise arms the
    /// retry timer. `wake`: ignore backoff and leases first (page load, `online`).
    fn pump(&mut self, wake: bool) {
        if self.in_flight {
            return;
        }
        let now = clock::now_ms();
        let mut outbox = self.load_outbox();
        if wake {
            outbox.wake(now);
        }
        let Some(batch) = self
            .solo_batch(&outbox, now)
            .or_else(|| outbox.due_batch(now))
        else {
            self.save_outbox(&outbox);
            self.schedule(&outbox, now);
            return;
        };
        outbox.lease(&batch.ids, now.saturating_add(LEASE_MS));
        self.save_outbox(&outbox);
        let Ok(body) = serde_json::to_string(&batch.envelope(self.context())) else {
            return;
        };
        self.in_flight = true;
        self.timer = None;
        self.log
            .debug(&["sending ", &batch.ids.len().to_string(), " answer(s)"]);
        let generation = self.generation;
        let ids = batch.ids;
        let endpoint = self.config.endpoint.clone();
        let headers = self.config.headers.clone();
        let store = self.store.clone();
        let signal = web_sys::AbortController::new().ok().map(|controller| {
            let signal = controller.signal();
            let abort = controller.clone();
            let deadline = Timeout::new(SEND_TIMEOUT_MS, move || abort.abort());
            self.request = Some((controller, deadline));
            signal
        });
        wasm_bindgen_futures::spawn_local(async move {
            let delivery = transport::send(&endpoint, &headers, body, signal.as_ref()).await;
            let handled = host::with_runtime(|rt| {
                if rt.generation != generation {
                    return false;
                }
                rt.in_flight = false;
                rt.request = None;
                rt.delivered(&ids, delivery);
                true
            });
            // Aborted by `destroy()`: the lease in storage covers the retry.
            let aborted =
                delivery == Delivery::Network && signal.as_ref().is_some_and(|s| s.aborted());
            if handled != Some(true) && !aborted {
                // Destroyed (or replaced) meanwhile: keep storage honest, say nothing.
                let stored = store.get(OUTBOX_KEY);
                let mut outbox = stored.as_deref().map(Outbox::from_json).unwrap_or_default();
                if stored.is_some_and(|t| holds_unreadable_entries(&t, &outbox)) {
                    // Not ours to overwrite: the next runtime backs it up first.
                    return;
                }
                outbox.apply(&ids, outcome(delivery), clock::now_ms(), clock::jitter());
                store.set(OUTBOX_KEY, &outbox.to_json());
            }
        });
    }

    /// Applies a finished send: a 2xx removes the answers (`trickle:delivered`), a
    /// final 4xx dead-letters them (one `trickle:error` each, never retried),
    /// anything else schedules a jittered retry. Then sends what else is due.
    fn delivered(&mut self, ids: &[String], delivery: Delivery) {
        let now = clock::now_ms();
        let mut outbox = self.load_outbox();
        let result = outcome(delivery);
        if matches!(result, Outcome::Rejected { .. }) && ids.len() > 1 {
            // The endpoint refuses a whole batch for one bad answer (a 422 names
            // its path): send each alone before giving any up. Due at once.
            outbox.lease(ids, now);
            self.save_outbox(&outbox);
            self.split.extend(ids.iter().cloned());
            self.log.debug(&[
                "a batch of ",
                &ids.len().to_string(),
                " was refused; sending each answer alone",
            ]);
            self.pump(false);
            return;
        }
        outbox.apply(ids, result, now, clock::jitter());
        self.save_outbox(&outbox);
        if !matches!(result, Outcome::NetworkError | Outcome::Retry { .. }) {
            self.split.retain(|id| !ids.contains(id));
        }
        match result {
            Outcome::Delivered => {
                for (user_id, _, a) in &self.own {
                    if ids.contains(&a.id) && a.status != Status::Snoozed {
                        let held = (user_id.clone(), a.field.clone());
                        if !self.delivered_fields.contains(&held) {
                            self.delivered_fields.push(held);
                        }
                    }
                }
                self.own.retain(|(_, _, a)| !ids.contains(&a.id));
                self.log
                    .debug(&["delivered ", &ids.len().to_string(), " answer(s)"]);
                host::emit("trickle:delivered", json!({ "ids": ids }));
            }
            Outcome::Rejected { status } => {
                self.own.retain(|(_, _, a)| !ids.contains(&a.id));
                self.forget_rejected(&outbox, ids);
                let status = status.to_string();
                for id in ids {
                    let mut message = String::from("the endpoint refused answer ");
                    message.push_str(id);
                    message.push_str(" with status ");
                    message.push_str(&status);
                    self.report(code::REJECTED, message);
                }
            }
            Outcome::NetworkError | Outcome::Retry { .. } => {
                let status = delivery.status().map(|s| s.to_string());
                self.log.debug(&[
                    "send failed (",
                    status.as_deref().unwrap_or("network error"),
                    "); will retry",
                ]);
            }
        }
        self.pump(false);
    }

    /// A dead-lettered answer no longer makes its field known (contract section 2:
    /// known means delivered or still queued): its field leaves the owner's
    /// `answered`/`declined` sets, unless another answer for the same field is
    /// still queued or was delivered from this page.
    fn forget_rejected(&mut self, outbox: &Outbox, ids: &[String]) {
        let rejected: Vec<(String, String)> = outbox
            .dead_letter()
            .iter()
            .filter(|d| ids.contains(&d.answer.id) && d.answer.status != Status::Snoozed)
            .map(|d| (d.user_id.clone(), d.answer.field.clone()))
            .collect();
        let current = self.user.as_ref().map(|u| u.id.clone());
        for (user_id, field) in rejected {
            let still_held = outbox.queued().iter().any(|q| {
                q.user_id == user_id
                    && q.answer.field == field
                    && q.answer.status != Status::Snoozed
            }) || self
                .delivered_fields
                .contains(&(user_id.clone(), field.clone()));
            if still_held {
                continue;
            }
            let key = state_key(&user_id);
            let Some(stored) = self.store.get(&key) else {
                continue;
            };
            let mut state = PromptState::from_json(&stored);
            let changed = state.answered.remove(&field) | state.declined.remove(&field);
            if changed {
                self.store.set(&key, &state.to_json());
                if current.as_deref() == Some(user_id.as_str()) {
                    self.state = state;
                }
            }
        }
    }

    /// The first due answer of a refused batch, as a request of its own (see
    /// `split`); forgets split answers no longer queued.
    fn solo_batch(&mut self, outbox: &Outbox, now: u64) -> Option<Batch> {
        if self.split.is_empty() {
            return None;
        }
        self.split
            .retain(|id| outbox.queued().iter().any(|q| &q.answer.id == id));
        let q = outbox
            .queued()
            .iter()
            .find(|q| q.next_at <= now && self.split.contains(&q.answer.id))?;
        Some(Batch {
            user_id: q.user_id.clone(),
            user_hash: q.user_hash.clone(),
            answers: vec![q.answer.clone()],
            ids: vec![q.answer.id.clone()],
        })
    }

    /// One console error and one `trickle:error` event.
    fn report(&self, code: &'static str, message: String) {
        self.log.error(&[&message]);
        host::emit("trickle:error", json!({ "code": code, "message": message }));
    }

    /// Arms one timer for the outbox's next retry (replacing any earlier one).
    fn schedule(&mut self, outbox: &Outbox, now: u64) {
        self.timer = None;
        let Some(at) = outbox.next_attempt_at() else {
            return;
        };
        // setTimeout takes an i32 of milliseconds.
        let wait = at.saturating_sub(now).min(i32::MAX as u64) as u32;
        let generation = self.generation;
        self.log.debug(&["next send in ", &wait.to_string(), " ms"]);
        self.timer = Some(Timeout::new(wait, move || {
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.timer = None;
                    rt.pump(false);
                }
            });
        }));
    }

    /// The page is being hidden (`unloading`: by `pagehide`): hand queued answers
    /// to the browser as beacons (or keepalive fetches). They stay queued until a
    /// 2xx is seen, so the next page load sends them again under the same ids.
    /// A mere hide sends only answers this page never beaconed; `pagehide` sends
    /// every answer not beaconed within [`BEACON_REPEAT_MS`].
    fn flush_on_hide(&mut self, unloading: bool) {
        let now = clock::now_ms();
        let mut outbox = self.load_outbox();
        // Delivered or dead-lettered meanwhile: nothing left to remember.
        self.beaconed
            .retain(|(id, _)| outbox.queued().iter().any(|q| &q.answer.id == id));
        let skip: Vec<String> = self
            .beaconed
            .iter()
            .filter(|(_, at)| !unloading || now.saturating_sub(*at) < BEACON_REPEAT_MS)
            .map(|(id, _)| id.clone())
            .collect();
        // A local copy only (never saved): `Delivered` is how the core drops ids.
        outbox.apply(&skip, Outcome::Delivered, now, 0.0);
        // Each user once, in sorted order. Kept sorted while collecting: a
        // `sort_unstable` here was the wasm's only quicksort (2.4 KB).
        let mut users: Vec<&str> = Vec::new();
        for q in outbox.queued() {
            if let Err(at) = users.binary_search(&q.user_id.as_str()) {
                users.insert(at, &q.user_id);
            }
        }
        let context = self.context();
        let mut handed = Vec::new();
        for user_id in users {
            for batch in outbox.all_queued(user_id) {
                let Ok(body) = serde_json::to_string(&batch.envelope(context.clone())) else {
                    continue;
                };
                if transport::beacon(&self.config.endpoint, &self.config.headers, &body) {
                    self.log.debug(&[
                        "page hidden: ",
                        &batch.ids.len().to_string(),
                        " answer(s) handed to the browser",
                    ]);
                    handed.extend(batch.ids);
                } else {
                    self.log
                        .debug(&["page hidden: the browser refused the beacon"]);
                }
            }
        }
        for id in handed {
            match self.beaconed.iter_mut().find(|(known, _)| *known == id) {
                Some((_, at)) => *at = now,
                None => self.beaconed.push((id, now)),
            }
        }
    }

    /// The envelope's context. `url` is the page's origin and path only: a query or
    /// fragment may carry tokens, OAuth codes or e-mail addresses that must not
    /// reach the endpoint.
    fn context(&self) -> Context {
        let url = web_sys::window()
            .map(|w| {
                let location = w.location();
                let mut url = location.origin().unwrap_or_default();
                url.push_str(&location.pathname().unwrap_or_default());
                url
            })
            .unwrap_or_default();
        Context {
            url,
            locale: self.config.locale.clone(),
            widget: WIDGET.to_owned(),
        }
    }
}

/// The popup's callback. Handled on the next microtask, outside the popup's own
/// event handler: a host listener of the events it causes may call `destroy()`,
/// which tears down the Yew app whose handler would otherwise still be running.
fn on_ui_event(generation: u32, event: UiEvent) {
    wasm_bindgen_futures::spawn_local(async move {
        host::with_runtime(|rt| {
            if rt.generation == generation {
                rt.on_ui(event);
            }
        });
    });
}

/// Whether stored outbox `text` holds queued answers although the core read it as
/// `parsed`, an empty outbox: valid JSON this version cannot read (another version,
/// another shape). Corrupt text, or a truly empty outbox, is not worth keeping.
fn holds_unreadable_entries(text: &str, parsed: &Outbox) -> bool {
    if text.is_empty() || parsed.queued_len() > 0 || !parsed.dead_letter().is_empty() {
        return false;
    }
    serde_json::from_str::<Json>(text)
        .ok()
        .and_then(|v| {
            v.get("queue")
                .and_then(Json::as_array)
                .map(|q| !q.is_empty())
        })
        .unwrap_or(false)
}

fn outcome(delivery: Delivery) -> Outcome {
    match delivery {
        Delivery::Ok(s) => Outcome::from_status(s),
        Delivery::Status {
            status,
            retry_after_ms,
        } => match Outcome::from_status(status) {
            Outcome::Retry { status, .. } => Outcome::Retry {
                status,
                retry_after_ms,
            },
            other => other,
        },
        Delivery::Network => Outcome::NetworkError,
    }
}
