//! The controller: holds the config, the user, the tracked events and the user's
//! prompt state; decides through `trickle-core`, renders through [`crate::ui`].
//! Delivery is `trickle_core::delivery`'s state machine: this module only turns
//! browser callbacks into its events and carries out its effects (storage, fetch,
//! beacons, the retry timer, `trickle:*` events); every sending policy (batching,
//! leases, backoff, what is final, what to beacon) is decided and tested there.
//!
//! Storage is the source of truth: the outbox and the prompt state are re-read
//! before every change and written back at once, so two tabs of one site share one
//! queue.
//!
//! Storage keys (localStorage, or memory when the browser refuses it):
//! - `trickle:v1:outbox`: the queue and the dead-letter list, all users.
//! - `trickle:v1:outbox:unreadable`: stored outbox entries this version could not
//!   read (e.g. written by a newer widget in another tab), kept as a JSON array
//!   (the newest 50) before the outbox is overwritten; reported as a `storage` error.
//! - `trickle:v1:state:<userId>`: one user's prompt state (shown counts, snoozes,
//!   declines, answered fields, tracked events, the login last counted).

pub mod host;

use std::collections::BTreeSet;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use serde_json::{json, Value as Json};
use trickle_core::answer::{self, Answer, Context, Status, Value};
use trickle_core::config::{Config, User};
use trickle_core::delivery::{
    Delivery, Effect, Event as DeliveryEvent, SendResult, SEND_TIMEOUT_MS,
};
use trickle_core::outbox::{Batch, Outbox};
use trickle_core::rules::{self, Due, PromptState};

use crate::platform::storage::{state_key, OUTBOX_BACKUP_KEY, OUTBOX_KEY, STATE_PREFIX};
use crate::platform::transport;
use crate::platform::{clock, ids, lifecycle::Lifecycle, Log, Store};
use crate::ui::{Look, Popup, QuestionView, Screen, UiEvent};

/// The most unreadable outbox entries kept aside.
const ASIDE_MAX: usize = 50;

/// How long the first decision after `init`/`identify` waits for the profile read
/// (contract section 2): past this the widget decides from this browser's state and
/// merges the read when it arrives.
const PROFILE_WAIT_MS: u32 = 1_500;

/// A profile read still unanswered after this long is given up (aborted).
const PROFILE_TIMEOUT_MS: u32 = 20_000;

/// `context.widget` of every envelope.
pub const WIDGET: &str = concat!("trickle/", env!("CARGO_PKG_VERSION"));

/// `trickle:error` codes (those of delivery are `trickle_core::delivery::code`'s).
pub mod code {
    pub use trickle_core::delivery::code::{CONFIG, OVERFLOW, REJECTED, STORAGE};
    /// The popup could not be shown.
    pub const UI: &str = "ui";
    /// An internal error (a panic) stopped the widget for the page's life.
    pub const INTERNAL: &str = "internal";
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
    // Every sending decision (trickle_core::delivery).
    delivery: Delivery,
    current: Option<Due>,
    popup: Option<Popup>,
    // The request in flight: its abort handle and its deadline. `destroy()` aborts it
    // (its answers stay leased in storage, due again when the lease runs out).
    request: Option<(web_sys::AbortController, Timeout)>,
    // The retry timer.
    timer: Option<Timeout>,
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
        let mut early_events = early_events;
        early_events.retain(|e| rules::lists_event(&config, e));
        let generation = host::next_generation();
        let log = Log::new(config.debug);
        let store = host::store(log);
        let user = config.user.clone().or(early_user);
        let on_online: Rc<dyn Fn()> = Rc::new(move || {
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.log.debug(&["online: sending the queue"]);
                    rt.deliver(DeliveryEvent::Wake);
                }
            });
        });
        let on_hide: Rc<dyn Fn(bool)> = Rc::new(move |unloading| {
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.deliver(DeliveryEvent::Hidden { unloading });
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
            delivery: Delivery::new(),
            current: None,
            popup: None,
            request: None,
            timer: None,
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
        self.prune_states();
        self.deliver(DeliveryEvent::Wake);
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
        // Only events a stage lists can reach one; storing others would let
        // storage grow with every event name a host tracks.
        if !rules::lists_event(&self.config, &name) {
            self.log
                .debug(&["tracked ", &name, ": no stage lists it; ignored"]);
            return;
        }
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
        let outbox = self
            .store
            .get(OUTBOX_KEY)
            .map(|text| Outbox::from_json(&text))
            .unwrap_or_default();
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
        state.seen_at = clock::now_ms();
        // A config that no longer lists an event does not keep it either.
        let config = &self.config;
        state.events.retain(|e| rules::lists_event(config, e));
        // Events tracked before anyone signed in count for the user who signs in.
        for event in std::mem::take(&mut self.events) {
            state.record_event(&event);
        }
        self.store.set(&key, &state.to_json());
        self.state = state;
        self.user = Some(user);
    }

    /// Removes the prompt state of users no page view has used for 90 days
    /// (`rules::STATE_MAX_IDLE_MS`), so the widget's storage stays bounded; a
    /// state of unknown age is dated now instead.
    fn prune_states(&self) {
        let now = clock::now_ms();
        for key in self.store.keys(STATE_PREFIX) {
            let Some(text) = self.store.get(&key) else {
                continue;
            };
            let mut state = PromptState::from_json(&text);
            if state.is_stale(now) {
                self.store.remove(&key);
            } else if state.seen_at == 0 && state != PromptState::new() {
                // (A state this version cannot read parses as new: left alone.)
                state.seen_at = now;
                self.store.set(&key, &state.to_json());
            }
        }
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
        let url = rules::profile_read_url(template, &encoded);
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
    fn profile_arrived(&mut self, seq: u32, user_id: &str, result: Result<String, SendResult>) {
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
            Err(failed) => {
                let status = match &failed {
                    SendResult::Status { status, .. } => status.to_string(),
                    _ => "network error".to_owned(),
                };
                if failed.outcome().is_final() {
                    let mut message = String::from("the profile read was refused with status ");
                    message.push_str(&status);
                    message.push_str("; deciding from this browser's state");
                    self.report(code::PROFILE, message);
                } else {
                    self.log.debug(&["the profile read failed (", &status, ")"]);
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
        // Stored before anything is sent (contract section 3), then sent.
        self.deliver(DeliveryEvent::Queue {
            user_id: user.id.clone(),
            user_hash: user.user_hash.clone(),
            answer: answer.clone(),
        });
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
        if status == Status::Snoozed {
            self.show(Screen::Hidden);
        } else {
            self.advance(true);
        }
    }

    // --- delivery: the shell of trickle_core::delivery ---------------------------

    /// Hands `event` to the delivery machine with the outbox as stored now, and
    /// carries out what it answers.
    fn deliver(&mut self, event: DeliveryEvent) {
        let stored = self.store.get(OUTBOX_KEY);
        let effects = self
            .delivery
            .on(stored.as_deref(), event, clock::now_ms(), clock::jitter());
        let mut beaconed = Vec::new();
        for effect in effects {
            match effect {
                Effect::Store(text) => self.store.set(OUTBOX_KEY, &text),
                Effect::KeepAside(entries) => self.keep_aside(entries),
                Effect::Send(batch) => self.send(batch),
                Effect::Beacon(batch) => {
                    if self.beacon(&batch) {
                        beaconed.extend(batch.ids);
                    }
                }
                Effect::Schedule(at) => self.schedule(at),
                Effect::Delivered(ids) => host::emit("trickle:delivered", json!({ "ids": ids })),
                Effect::Report { code, message } => self.report(code, message),
                Effect::Forget { user_id, field } => self.forget(&user_id, &field),
                Effect::Note(line) => self.log.debug(&[&line]),
            }
        }
        if !beaconed.is_empty() {
            self.deliver(DeliveryEvent::Beaconed { ids: beaconed });
        }
    }

    /// POSTs a batch, aborted after [`SEND_TIMEOUT_MS`] (or by `destroy()`), and
    /// reports how it ended to the machine. A response that arrives after this
    /// runtime is gone still settles the stored outbox.
    fn send(&mut self, batch: Batch) {
        let ids = batch.ids.clone();
        let body = match serde_json::to_string(&batch.envelope(self.context())) {
            Ok(body) => body,
            Err(_) => {
                let result = SendResult::Unsendable("the answers could not be serialized".into());
                return self.deliver(DeliveryEvent::Sent { ids, result });
            }
        };
        let generation = self.generation;
        let endpoint = self.config.endpoint.clone();
        let headers = self.config.headers.clone();
        let store = self.store.clone();
        let signal = web_sys::AbortController::new().ok().map(|controller| {
            let signal = controller.signal();
            let abort = controller.clone();
            let deadline = Timeout::new(SEND_TIMEOUT_MS as u32, move || abort.abort());
            self.request = Some((controller, deadline));
            signal
        });
        wasm_bindgen_futures::spawn_local(async move {
            let result = transport::send(&endpoint, &headers, body, signal.as_ref()).await;
            let handled = host::with_runtime(|rt| {
                if rt.generation != generation {
                    return false;
                }
                rt.request = None;
                let result = result.clone();
                rt.deliver(DeliveryEvent::Sent {
                    ids: ids.clone(),
                    result,
                });
                true
            });
            // Aborted by `destroy()`: the lease in storage covers the retry.
            let aborted = signal.as_ref().is_some_and(|s| s.aborted());
            if handled != Some(true) && !aborted {
                // Destroyed (or replaced) meanwhile: keep storage honest, say nothing.
                let stored = store.get(OUTBOX_KEY);
                let now = clock::now_ms();
                if let Some(text) =
                    Delivery::settle_orphan(stored.as_deref(), &ids, &result, now, clock::jitter())
                {
                    store.set(OUTBOX_KEY, &text);
                }
            }
        });
    }

    /// Hands a batch to `sendBeacon` (or a keepalive fetch); whether the browser
    /// took it.
    fn beacon(&self, batch: &Batch) -> bool {
        let Ok(body) = serde_json::to_string(&batch.envelope(self.context())) else {
            return false;
        };
        let handed = transport::beacon(&self.config.endpoint, &self.config.headers, &body);
        if !handed {
            self.log
                .debug(&["page hidden: the browser refused the beacon"]);
        }
        handed
    }

    /// Keeps stored outbox entries this version cannot read under
    /// [`OUTBOX_BACKUP_KEY`] (a JSON array, the newest [`ASIDE_MAX`]), so a newer
    /// widget or a person can still recover them.
    fn keep_aside(&self, entries: Vec<Json>) {
        let mut kept = self
            .store
            .get(OUTBOX_BACKUP_KEY)
            .and_then(|text| match serde_json::from_str::<Json>(&text) {
                Ok(Json::Array(kept)) => Some(kept),
                _ => None,
            })
            .unwrap_or_default();
        for entry in entries {
            if !kept.contains(&entry) {
                kept.push(entry);
            }
        }
        let excess = kept.len().saturating_sub(ASIDE_MAX);
        kept.drain(..excess);
        self.store
            .set(OUTBOX_BACKUP_KEY, &Json::Array(kept).to_string());
    }

    /// `field` of `user_id` is no longer known (its answer was given up on): it
    /// leaves that user's stored `answered`/`declined` sets.
    fn forget(&mut self, user_id: &str, field: &str) {
        let key = state_key(user_id);
        let Some(stored) = self.store.get(&key) else {
            return;
        };
        let mut state = PromptState::from_json(&stored);
        if state.answered.remove(field) | state.declined.remove(field) {
            self.store.set(&key, &state.to_json());
            if self.user.as_ref().is_some_and(|u| u.id == user_id) {
                self.state = state;
            }
        }
    }

    /// One console error and one `trickle:error` event.
    fn report(&self, code: &'static str, message: String) {
        self.log.error(&[&message]);
        host::emit("trickle:error", json!({ "code": code, "message": message }));
    }

    /// Arms the one retry timer for `at` (ms since the epoch), or disarms it.
    fn schedule(&mut self, at: Option<u64>) {
        self.timer = None;
        let Some(at) = at else {
            return;
        };
        // setTimeout takes an i32 of milliseconds.
        let wait = at.saturating_sub(clock::now_ms()).min(i32::MAX as u64) as u32;
        let generation = self.generation;
        self.log.debug(&["next send in ", &wait.to_string(), " ms"]);
        self.timer = Some(Timeout::new(wait, move || {
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.timer = None;
                    rt.deliver(DeliveryEvent::Timer);
                }
            });
        }));
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
