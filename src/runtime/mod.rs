//! The controller: the shell around `trickle-core`'s two state machines. The
//! prompt flow (`trickle_core::session`: who is signed in, which question is on
//! screen, what a response does, the profile read's wait) and delivery
//! (`trickle_core::delivery`: batching, leases, backoff, what is final, what to
//! beacon) decide everything and are tested natively; this module only turns
//! browser callbacks into their inputs and carries out their outputs: the popup
//! ([`crate::ui`]), storage, `fetch` and beacons ([`crate::platform`]), timers and
//! `trickle:*` events.
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
//!   declines, answered fields, tracked events, the login last counted); removed
//!   when no page view has used it for 90 days.

pub mod host;

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use serde_json::Value as Json;
use trickle_core::answer::Context;
use trickle_core::config::{Config, User};
use trickle_core::delivery::{
    Delivery, Effect, Event as DeliveryEvent, SendResult, SEND_TIMEOUT_MS,
};
use trickle_core::json;
use trickle_core::outbox::{Batch, Outbox};
use trickle_core::rules::PromptState;
use trickle_core::session::{self, Input, Output, ReadFailure, Session};
use trickle_core::sorted::Set;
use trickle_core::text;

use crate::platform::json::parse as parse_json;
use crate::platform::storage::{state_key, OUTBOX_BACKUP_KEY, OUTBOX_KEY, STATE_PREFIX};
use crate::platform::transport;
use crate::platform::{clock, dom, ids, lifecycle::Lifecycle, Log, Store};
use crate::ui::{Look, Popup, QuestionView, Screen, UiError, UiEvent};

/// Where the idle hint is kept (written by `Runtime::update_idle_hint`).
pub const IDLE_KEY: &str = "trickle:v1:idle";

/// The most unreadable outbox entries kept aside.
const ASIDE_MAX: usize = 50;

/// A profile read still unanswered after this long is given up (aborted).
const PROFILE_TIMEOUT_MS: u32 = 20_000;

/// `context.widget` of every envelope.
pub const WIDGET: &str = concat!("trickle/", env!("CARGO_PKG_VERSION"));

/// `trickle:error` codes (those of delivery and the session are core's).
pub mod code {
    pub use trickle_core::delivery::code::{CONFIG, OVERFLOW, REJECTED, STORAGE};
    pub use trickle_core::session::code::PROFILE;
    /// The popup could not be shown.
    pub const UI: &str = "ui";
    /// An internal error (a panic) stopped the widget for the page's life.
    pub const INTERNAL: &str = "internal";
}

/// One running widget (between `init` and `destroy`).
pub struct Runtime {
    generation: u32,
    log: Log,
    store: Rc<Store>,
    // Every prompt decision (trickle_core::session).
    session: Session,
    // Every sending decision (trickle_core::delivery).
    delivery: Delivery,
    popup: Option<Popup>,
    // The request in flight: its abort handle and its deadline. `destroy()` aborts it
    // (its answers stay leased in storage, due again when the lease runs out).
    request: Option<(web_sys::AbortController, Timeout)>,
    // The retry timer.
    timer: Option<Timeout>,
    // The profile read in flight (abort handle, deadline) and the session's wait.
    read: Option<(web_sys::AbortController, Timeout)>,
    wait: Option<Timeout>,
    // The config's fingerprint (`dom::fingerprint`), for the idle hint.
    fingerprint: String,
    // The popup's first screen while it waits for its render, with the timer of
    // the next step towards it (see `show`).
    first_render: Option<(Timeout, Screen)>,
    // Whether `prepare` ran (see there).
    prepared: bool,
    // The session's first decision, made by `decide` for `start` to carry out.
    decided: Option<Vec<Output>>,
    // Whether `start` ran. Until then `identify`/`track` wait (host.rs), so the
    // first decision is the start's, with every early call applied after it.
    started: bool,
    _lifecycle: Option<Lifecycle>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("generation", &self.generation)
            .finish()
    }
}

impl session::Storage for Store {
    fn get(&self, key: &str) -> Option<String> {
        Store::get(self, key)
    }
    fn get_json(&self, key: &str) -> Option<Json> {
        Store::get_json(self, key)
    }
    fn set(&self, key: &str, value: &str) {
        Store::set(self, key, value)
    }
}

impl Runtime {
    /// Starts a runtime for a validated config: opens storage, listens to the page
    /// lifecycle, takes the user (an earlier `identify` wins over `config.user` only
    /// when the config has none) and the early `track` calls. Nothing is shown yet:
    /// call [`Runtime::start`] once it is installed. `generation` comes from
    /// `host::next_generation` (taken by `init`, which builds the runtime a task
    /// after validating its config).
    pub fn new(
        generation: u32,
        mut config: Config,
        early_user: Option<User>,
        early_events: Set,
        fingerprint: String,
    ) -> Self {
        let log = Log::new(config.debug);
        let store = host::store(log);
        // Taken, not cloned: the session keeps the user apart from its config.
        let user = config.user.take().or(early_user);
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
        // Later when the runtime has not started: between `decide` and `start` the
        // session waits for its decision to be carried out.
        let on_storage: Rc<dyn Fn()> = Rc::new(move || {
            host::with_runtime_or_later(move |rt| {
                if rt.generation == generation {
                    rt.run(Input::StorageChanged);
                }
            });
        });
        Self {
            generation,
            log,
            store,
            session: Session::new(config, user, early_events)
                .with_privacy_signal(dom::privacy_signal()),
            delivery: Delivery::new(),
            popup: None,
            request: None,
            timer: None,
            read: None,
            wait: None,
            fingerprint,
            first_render: None,
            prepared: false,
            decided: None,
            started: false,
            _lifecycle: Some(Lifecycle::listen(on_online, on_hide, on_storage)),
        }
    }

    /// This runtime's id (see `host::next_generation`).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Whether [`Runtime::start`] ran.
    pub fn is_started(&self) -> bool {
        self.started
    }

    fn config(&self) -> &Config {
        self.session.config()
    }

    /// The first half of the start, which `init` runs in a task of its own before
    /// [`Runtime::start`]: forgets prompt states unused for 90 days and sends what
    /// earlier page loads left queued. Neither depends on the user or the decision,
    /// so calls made meanwhile still wait for `start`. Runs once.
    pub fn prepare(&mut self) {
        if self.prepared {
            return;
        }
        self.prepared = true;
        self.prune_states();
        self.deliver(DeliveryEvent::Wake);
    }

    /// The second part of the start, which `init` runs in a task of its own
    /// between [`Runtime::prepare`] (run first if it has not) and
    /// [`Runtime::start`]: the session's first decision (the prompt state read, the
    /// stage rule), which `start` then carries out, and the popup's mount (hidden,
    /// empty) when a question is due. Calls made meanwhile still wait for `start`.
    /// Runs once.
    pub fn decide(&mut self) {
        self.prepare();
        if self.started || self.decided.is_some() {
            return;
        }
        let outputs = self.session.on(&*self.store, Input::Start, clock::now_ms());
        // A question is due: the popup is mounted now, hidden and empty, a task
        // before `start` shows it. Mounting it (the shadow root, its stylesheet
        // parsed, the accent's contrast) was a third of the start's task. A failure
        // is `start`'s to report, when it mounts again.
        let due = |o: &Output| matches!(o, Output::Show(session::Screen::Question(_)));
        if outputs.iter().any(due) {
            let _ = self.mount_popup();
        }
        self.decided = Some(outputs);
    }

    /// The first moves after `init`: [`Runtime::decide`] if that has not run, then
    /// says `trickle:ready` and carries out the decision: reads the profile, shows
    /// the due question (mounting the popup), if any.
    pub fn start(&mut self) {
        self.decide();
        self.started = true;
        let who = self
            .session
            .user()
            .map(|u| u.id.clone())
            .unwrap_or_else(|| "nobody yet".into());
        self.log.debug(&["started for ", &who]);
        host::emit("trickle:ready", String::from("{}"));
        let outputs = self.decided.take().unwrap_or_default();
        self.carry_out(outputs);
        self.update_idle_hint();
    }

    /// `identify(user)`: sets or replaces the user and counts their login.
    pub fn identify(&mut self, user: User) {
        self.run(Input::Identify(user));
    }

    /// `identify(null)`: signs the user out. The popup goes away and nothing is
    /// asked until the next `identify(user)`; queued answers are still delivered
    /// (each carries its own user).
    pub fn sign_out(&mut self) {
        self.run(Input::SignOut);
    }

    /// `track(name)`: marks an event for the current user; a stage it reaches may
    /// become due at once.
    pub fn track(&mut self, name: String) {
        self.run(Input::Track(name));
    }

    /// `explain()`: every question with whether it is open and why not, the number
    /// of queued answers and the dead-letter list (contract section 4).
    pub fn explain(&mut self) -> String {
        let questions = self.session.explain(&*self.store);
        explain_json(&questions, &self.store)
    }

    /// Tears down every node, listener and timer. The queue stays in storage.
    pub fn destroy(mut self) {
        self.timer = None;
        self.wait = None;
        if let Some((controller, _deadline)) = self.request.take() {
            controller.abort();
        }
        if let Some((controller, _deadline)) = self.read.take() {
            controller.abort();
        }
        self._lifecycle = None;
        if let Some(popup) = self.popup.take() {
            popup.destroy();
        }
    }

    /// What the popup reports.
    pub fn on_ui(&mut self, event: UiEvent) {
        // The popup sends only values `check_value` accepted (see `UiEvent`).
        self.run(Input::Respond {
            response: event,
            id: ids::uuid(),
            at: clock::iso_now(),
        });
    }

    // --- the prompt flow: the shell of trickle_core::session ---------------------

    /// Hands `input` to the session and carries out what it answers.
    fn run(&mut self, input: Input) {
        self.run_one(input);
        self.update_idle_hint();
    }

    /// Leaves the idle hint for the next page view (contract section 4): when the
    /// session has decided that nothing can be shown and nothing is queued, the
    /// user, login count, config fingerprint and the events that could change that;
    /// otherwise no hint, so the next page view starts the wasm. Written only when
    /// it changes (every write wakes the site's other tabs).
    fn update_idle_hint(&mut self) {
        let queued = self
            .store
            .get_json(OUTBOX_KEY)
            .is_some_and(|doc| Outbox::from_value(doc).queued_len() > 0);
        let hint = if queued {
            None
        } else {
            self.session.idle_hint(&*self.store)
        };
        let text = hint.map(|h| {
            let mut text = String::new();
            let mut o = json::Object::new(&mut text);
            o.str("config", &self.fingerprint);
            match &h.user {
                Some(user) => o.str("user", user),
                None => o.key("user").push_str("null"),
            }
            o.u64("logins", u64::from(h.logins));
            o.strs("events", &h.events);
            o.end();
            text
        });
        if self.store.get(IDLE_KEY) != text {
            match text {
                Some(text) => self.store.set(IDLE_KEY, &text),
                None => self.store.remove(IDLE_KEY),
            }
        }
    }

    fn run_one(&mut self, input: Input) {
        let outputs = self.session.on(&*self.store, input, clock::now_ms());
        self.carry_out(outputs);
    }

    /// Does what the session answered.
    fn carry_out(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Show(session::Screen::Question(due)) => {
                    let question = self
                        .config()
                        .question(&due.question_id)
                        .map(|(_, q)| q.clone());
                    let mounted = question.is_some_and(|question| {
                        self.show(Screen::Question(QuestionView {
                            question,
                            stage: due.stage,
                            position: due.position,
                            total: due.total,
                            suggestion: due.suggestion,
                        }))
                    });
                    self.run_one(Input::Displayed(mounted));
                }
                Output::Show(session::Screen::Thanks) => {
                    self.show(Screen::Thanks);
                }
                Output::Show(session::Screen::Hidden) => {
                    self.show(Screen::Hidden);
                }
                Output::Emit(name, detail) => host::emit(name, detail),
                Output::Queue {
                    user_id,
                    user_hash,
                    answer,
                } => self.deliver(DeliveryEvent::Queue {
                    user_id,
                    user_hash,
                    answer,
                }),
                Output::ReadProfile {
                    seq,
                    url,
                    user_hash,
                } => self.read_profile(seq, url, user_hash),
                Output::CancelRead => {
                    self.wait = None;
                    if let Some((controller, _)) = self.read.take() {
                        controller.abort();
                    }
                }
                Output::WaitFor { seq, ms } => {
                    let generation = self.generation;
                    self.wait = Some(Timeout::new(ms as u32, move || {
                        host::with_runtime(|rt| {
                            if rt.generation == generation {
                                rt.wait = None;
                                rt.run(Input::ProfileWaitOver { seq });
                            }
                        });
                    }));
                }
                Output::Report { code, message } => self.report(code, message),
                Output::Note(line) => self.log.debug(&[&line]),
            }
        }
    }

    /// GETs the profile (aborted after [`PROFILE_TIMEOUT_MS`]) and reports how it
    /// ended to the session.
    fn read_profile(&mut self, seq: u32, url: String, user_hash: Option<String>) {
        let headers = self.config().headers.clone();
        let generation = self.generation;
        let controller = web_sys::AbortController::new().ok();
        let signal = controller.as_ref().map(|c| c.signal());
        if let Some(controller) = controller {
            let abort = controller.clone();
            self.read = Some((
                controller,
                Timeout::new(PROFILE_TIMEOUT_MS, move || abort.abort()),
            ));
        }
        wasm_bindgen_futures::spawn_local(async move {
            let mut extra: Vec<(&str, &str)> = Vec::new();
            if let Some(hash) = &user_hash {
                extra.push(("X-Trickle-User-Hash", hash));
            }
            let body = match transport::read(&url, &headers, &extra, signal.as_ref()).await {
                // Not JSON: the session says so and ignores it.
                Ok(text) => Ok(parse_json(&text).unwrap_or(Json::Null)),
                Err(SendResult::Status { status, .. }) => Err(ReadFailure::Status(status)),
                Err(_) => Err(ReadFailure::Network),
            };
            host::with_runtime(|rt| {
                if rt.generation == generation {
                    rt.read = None;
                    rt.run(Input::ProfileArrived { seq, body });
                }
            });
        });
    }

    /// Puts `screen` on the popup, mounting it first if needed; false when the
    /// popup could not be mounted (reported as a `ui` error).
    fn show(&mut self, screen: Screen) -> bool {
        // Nothing rendered yet (the popup may be mounted, see `decide`).
        if self.popup.as_ref().is_none_or(|popup| !popup.is_started()) {
            if matches!(screen, Screen::Hidden) {
                self.first_render = None;
                return true;
            }
            if let Err(e) = self.mount_popup() {
                let mut message = String::from("cannot show the popup: ");
                message.push_str(&e.to_string());
                self.report(code::UI, message);
                return false;
            }
            let generation = self.generation;
            // Yew's start, the popup's first render in two halves (the largest
            // pieces of the first question's work) and the browser's first layout
            // of the first half run in four tasks of their own rather than at the
            // end of this one: on a slow phone the start and the render together
            // were one long task, the render alone sometimes was, and so was the
            // frame laying out the whole popup for the first time. The popup is
            // mounted, so the question counts as shown now.
            self.first_render = Some((first_render_step(generation), screen));
            return true;
        }
        // A newer screen replaces the one still waiting for its first render.
        self.first_render = None;
        if let Some(popup) = &self.popup {
            popup.show(screen);
        }
        true
    }

    /// Mounts the popup (hidden, empty), unless it is mounted.
    fn mount_popup(&mut self) -> Result<(), UiError> {
        if self.popup.is_none() {
            let generation = self.generation;
            let on_event: Rc<dyn Fn(UiEvent)> =
                Rc::new(move |event| on_ui_event(generation, event));
            self.popup = Some(Popup::mount(Look::from_config(self.config()), on_event)?);
        }
        Ok(())
    }

    /// Removes the prompt state of users no page view has used for 90 days
    /// (`rules::STATE_MAX_IDLE_MS`), so the widget's storage stays bounded; a
    /// state of unknown age is dated now instead.
    fn prune_states(&self) {
        let now = clock::now_ms();
        for key in self.store.keys(STATE_PREFIX) {
            let Some(doc) = self.store.get_json(&key) else {
                continue;
            };
            let mut state = PromptState::from_value(doc);
            if state.is_stale(now) {
                self.store.remove(&key);
            } else if state.seen_at == 0 && state != PromptState::new() {
                // (A state this version cannot read parses as new: left alone.)
                state.seen_at = now;
                self.store.set(&key, &state.to_json());
            }
        }
    }

    // --- delivery: the shell of trickle_core::delivery ---------------------------

    /// Hands `event` to the delivery machine with the outbox as stored now, and
    /// carries out what it answers.
    fn deliver(&mut self, event: DeliveryEvent) {
        let stored = self.store.get(OUTBOX_KEY);
        let effects = self.delivery.on_with(
            parse_json,
            stored.as_deref(),
            event,
            clock::now_ms(),
            clock::jitter(),
        );
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
                Effect::Delivered(ids) => {
                    let mut detail = String::new();
                    let mut o = json::Object::new(&mut detail);
                    o.strs("ids", &ids);
                    o.end();
                    host::emit("trickle:delivered", detail);
                }
                Effect::Report { code, message } => self.report(code, message),
                Effect::Forget { user_id, field } => self.forget(&user_id, &field),
                Effect::Note(line) => self.log.debug(&[&line]),
            }
        }
        if !beaconed.is_empty() {
            self.deliver(DeliveryEvent::Beaconed { ids: beaconed });
        }
        self.update_idle_hint();
    }

    /// POSTs a batch, aborted after [`SEND_TIMEOUT_MS`] (or by `destroy()`), and
    /// reports how it ended to the machine. A response that arrives after this
    /// runtime is gone still settles the stored outbox.
    fn send(&mut self, batch: Batch) {
        let ids = batch.ids.clone();
        let body = batch.body(&self.context(&batch.user_id));
        let generation = self.generation;
        let endpoint = self.config().endpoint.clone();
        let headers = self.config().headers.clone();
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
                if let Some(text) = Delivery::settle_orphan_with(
                    parse_json,
                    stored.as_deref(),
                    &ids,
                    &result,
                    now,
                    clock::jitter(),
                ) {
                    store.set(OUTBOX_KEY, &text);
                }
            }
        });
    }

    /// Hands a batch to `sendBeacon` (or a keepalive fetch); whether the browser
    /// took it.
    fn beacon(&self, batch: &Batch) -> bool {
        let body = batch.body(&self.context(&batch.user_id));
        let handed = transport::beacon(&self.config().endpoint, &self.config().headers, &body);
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
            .get_json(OUTBOX_BACKUP_KEY)
            .and_then(|doc| match doc {
                Json::Array(kept) => Some(kept),
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
            .set(OUTBOX_BACKUP_KEY, &json::to_text(&Json::Array(kept)));
    }

    /// `field` of `user_id` is no longer known (its answer was given up on): it
    /// leaves that user's stored `answered`/`declined` sets.
    fn forget(&mut self, user_id: &str, field: &str) {
        let key = state_key(user_id);
        let Some(stored) = self.store.get_json(&key) else {
            return;
        };
        let mut state = PromptState::from_value(stored);
        if state.answered.remove(field) | state.declined.remove(field) {
            self.store.set(&key, &state.to_json());
        }
    }

    /// One console error and one `trickle:error` event.
    fn report(&self, code: &'static str, message: String) {
        self.log.error(&[&message]);
        host::emit("trickle:error", error_detail(code, &message));
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
        self.log
            .debug(&["next send in ", &text::decimal(u64::from(wait)), " ms"]);
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
    /// reach the endpoint. `gpc` and `consent` are those of `user_id`'s answers
    /// (`Session::privacy_for`).
    fn context(&self, user_id: &str) -> Context {
        let url = web_sys::window()
            .map(|w| {
                let location = w.location();
                let mut url = location.origin().unwrap_or_default();
                url.push_str(&location.pathname().unwrap_or_default());
                url
            })
            .unwrap_or_default();
        let (gpc, consent) = self.session.privacy_for(user_id);
        Context {
            url,
            locale: self.config().locale.clone(),
            widget: WIDGET.to_owned(),
            gpc,
            consent,
        }
    }
}

/// A task from now, the next step of the popup's first render (see
/// `Runtime::show`): Yew's start, then, a task later, the screen's draft (when it
/// is a question), then its first layout, then the whole screen. One function, so
/// that the steps share one timer closure.
fn first_render_step(generation: u32) -> Timeout {
    Timeout::new(0, move || {
        host::with_runtime(|rt| {
            if rt.generation != generation {
                return;
            }
            let Some((_, screen)) = rt.first_render.take() else {
                return;
            };
            if let Some(popup) = &rt.popup {
                if popup.start() || popup.draft(&screen) || popup.lay_out_draft() {
                    rt.first_render = Some((first_render_step(generation), screen));
                } else {
                    popup.show(screen);
                }
            }
        });
    })
}

/// `trickle:error`'s detail: `{ code, message }`, as JSON text.
pub fn error_detail(code: &str, message: &str) -> String {
    let mut detail = String::new();
    let mut o = json::Object::new(&mut detail);
    o.str("code", code);
    o.str("message", message);
    o.end();
    detail
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

/// `explain()`'s object as JSON text: `questions` and the stored outbox's count
/// and dead letters (with no runtime, `questions` is empty). Written straight to
/// text, not through a `serde_json::Value`, by the writers that store and post
/// the answers.
pub fn explain_json(questions: &[trickle_core::rules::Explanation], store: &Store) -> String {
    let outbox = store
        .get_json(OUTBOX_KEY)
        .map(Outbox::from_value)
        .unwrap_or_default();
    let mut text = String::new();
    let mut o = json::Object::new(&mut text);
    json::write_list(
        o.key("questions"),
        questions,
        trickle_core::rules::Explanation::write_json,
    );
    o.u64("queued", outbox.queued_len() as u64);
    trickle_core::outbox::write_dead_letters(o.key("deadLetter"), outbox.dead_letter());
    o.end();
    text
}
