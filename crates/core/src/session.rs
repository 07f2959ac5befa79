//! The prompt flow (contract sections 2 and 5) as a reducer, like
//! [`crate::delivery`]: who is signed in, which question is on screen, what a
//! response does to the prompt state, when the profile read is waited for. The
//! widget reports what happened as an [`Input`]; [`Session::on`] answers with the
//! [`Output`]s to carry out (show a screen, say an event, queue an answer for
//! delivery, read the server-kept profile). Ids, clocks and storage are inputs, so
//! every decision is tested natively.
//!
//! The prompt state lives in storage, shared by the site's tabs: it is re-read
//! through [`Storage`] before every decision and written back at once.

use serde_json::Value as Json;

use crate::answer::{Answer, Consent, Status, Value};
use crate::config::{Config, User};
use crate::json::Object;
use crate::rules::{self, Due, Explanation, PromptState};
use crate::sorted::Set;
use crate::suggest;
use crate::text::{concat, decimal};

/// How long the first decision after `init`/`identify` waits for the profile read
/// (contract section 2); past this it decides from this browser's state and
/// merges the read when it arrives.
pub const PROFILE_WAIT_MS: u64 = 1_500;

/// What every user's prompt-state key starts with.
pub const STATE_PREFIX: &str = "trickle:v1:state:";

/// `trickle:error` codes the session reports.
pub mod code {
    /// The profile read was refused for good (a 4xx other than 408/429, e.g. a
    /// wrong `userHash`): decisions use this browser's state only.
    pub const PROFILE: &str = "profile";
}

/// The storage key of one user's prompt state.
pub fn state_key(user_id: &str) -> String {
    let mut key = String::from(STATE_PREFIX);
    key.push_str(user_id);
    key
}

/// The key-value storage the prompt state lives in (the browser's localStorage).
pub trait Storage {
    /// The value at `key`, if any.
    fn get(&self, key: &str) -> Option<String>;
    /// The value at `key` parsed as JSON, if any: `null` when its text is not JSON
    /// (which reads as no stored state, as `null` does). The session reads through
    /// this only; the widget overrides it with the browser's `JSON.parse`.
    fn get_json(&self, key: &str) -> Option<Json> {
        self.get(key)
            .map(|text| crate::json::parse(&text).unwrap_or_default())
    }
    /// Writes `value` at `key`.
    fn set(&self, key: &str, value: &str);
}

/// What the popup should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// This question (look it up in the config by `question_id`).
    Question(Due),
    /// The short thank-you after the last question of a login.
    Thanks,
    /// Nothing.
    Hidden,
}

/// How the user responded to the question on screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// An answer, already checked against the question by
    /// [`crate::answer::check_value`] (the popup refuses an invalid one in place).
    Answer {
        /// The checked, normalised value.
        value: Value,
        /// Typed under "Other".
        other: bool,
    },
    /// (v2) "Yes": the user confirmed the suggestion on screen
    /// ([`Due::suggestion`]); it is answered with `suggested: true`.
    Confirm,
    /// "Prefer not to say".
    Decline,
    /// "Not now", Close or Escape.
    Snooze,
    /// The thank-you was dismissed.
    Dismissed,
}

/// How a profile read ended, when it did not bring a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    /// No response (or an abort).
    Network,
    /// This HTTP status.
    Status(u16),
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The widget started: read the profile and decide.
    Start,
    /// `identify(user)`.
    Identify(User),
    /// `identify(null)`: sign out.
    SignOut,
    /// `track(name)`.
    Track(String),
    /// The widget tried to show the [`Screen::Question`] it was told to: whether
    /// the popup could be mounted.
    Displayed(bool),
    /// The user responded to the question on screen; `id` and `at` (RFC 3339) are
    /// the new answer's id and time.
    Respond {
        /// What the user did.
        response: Response,
        /// A fresh UUID for the answer.
        id: String,
        /// Now, as RFC 3339.
        at: String,
    },
    /// Another tab wrote storage.
    StorageChanged,
    /// Profile read `seq` (see [`Output::ReadProfile`]) ended with this body.
    ProfileArrived {
        /// Which read.
        seq: u32,
        /// The body (JSON), or why there is none.
        body: Result<Json, ReadFailure>,
    },
    /// The wait for profile read `seq` is over ([`Output::WaitFor`]).
    ProfileWaitOver {
        /// Which read.
        seq: u32,
    },
}

/// What the widget must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Put this on the popup. For a [`Screen::Question`], report whether it could
    /// be mounted as [`Input::Displayed`].
    Show(Screen),
    /// Dispatch this event (`trickle:shown`, ...) with this detail (the JSON text
    /// of an object).
    Emit(&'static str, String),
    /// Queue this answer for delivery (the delivery machine's `Event::Queue`).
    Queue {
        /// Whose answer.
        user_id: String,
        /// Their `userHash`.
        user_hash: Option<String>,
        /// The answer.
        answer: Answer,
    },
    /// GET `url` (with `X-Trickle-User-Hash: user_hash` when given, and the
    /// configured headers); report it as [`Input::ProfileArrived`] with `seq`.
    ReadProfile {
        /// Which read.
        seq: u32,
        /// The profile URL for the user.
        url: String,
        /// The user's `userHash`.
        user_hash: Option<String>,
    },
    /// Abort the profile read in flight, if any.
    CancelRead,
    /// Report [`Input::ProfileWaitOver`] with `seq` after `ms`.
    WaitFor {
        /// Which read.
        seq: u32,
        /// How long.
        ms: u64,
    },
    /// One console error and `trickle:error`.
    Report {
        /// The error code.
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// One debug line.
    Note(String),
}

/// What a page view that decided "nothing to show" leaves for the next one
/// (contract section 4, the idle gate): the loader skips the wasm on a later
/// page view with the same user, login count and config while nothing is queued,
/// until something that could change the decision happens (another user or login,
/// one of `events` tracked, `explain()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleHint {
    /// The signed-in user's id (`None`: nobody; nothing can be due).
    pub user: Option<String>,
    /// Their `loginsCount`.
    pub logins: u32,
    /// Listed events not yet tracked for the user: tracking one could reach a stage.
    pub events: Vec<String>,
}

/// The read in flight and whether the next decision waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading {
    seq: u32,
    waiting: bool,
}

/// One running widget's prompt flow (between `init` and `destroy`).
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    user: Option<User>,
    state: PromptState,
    // Events tracked while no user was identified: recorded for the next one.
    events: Set,
    // The question on screen, and one told to show but not yet displayed.
    current: Option<Due>,
    pending: Option<Due>,
    reading: Option<Reading>,
    reads: u32,
    // The browser sends Global Privacy Control (contract section 2, v2).
    gpc: bool,
    // The latest profile read's `suggestions` for the configured fields that take
    // one: (field, guess).
    suggestions: Vec<(String, String)>,
}

impl Session {
    /// A session for a validated config; `user` and `events` are what `init`
    /// found (the config's user, or one identified before `init`; events tracked
    /// before). Nothing happens until [`Input::Start`].
    pub fn new(config: Config, user: Option<User>, mut events: Set) -> Session {
        keep_listed(&mut events, &config);
        let mut session = Session {
            events,
            config,
            user: None,
            state: PromptState::new(),
            current: None,
            pending: None,
            reading: None,
            reads: 0,
            gpc: false,
            suggestions: Vec::new(),
        };
        session.user = user;
        session
    }

    /// The same session for a browser that sends Global Privacy Control
    /// (`navigator.globalPrivacyControl === true`) when `gpc`: no question with
    /// `purpose: "marketing"` is asked, and answers are queued with the flag.
    pub fn with_privacy_signal(mut self, gpc: bool) -> Session {
        self.gpc = gpc;
        self
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The signed-in user.
    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    /// The privacy flags of a request carrying answers of `user_id` (contract
    /// section 3, v2): `gpc` when the browser sends Global Privacy Control, and the
    /// user's `consent` when it was given. Taken when the request is sent, so a
    /// consent withdrawn meanwhile counts; for answers of a user who is no longer
    /// signed in (queued before a sign-out or a switch of user, or left from an
    /// earlier page view and sent before `identify`), whose consent this page does
    /// not know, `{ "marketing": false }`: in doubt, no marketing tool gets them.
    pub fn privacy_for(&self, user_id: &str) -> (bool, Option<Consent>) {
        let consent = match &self.user {
            Some(user) if user.id == user_id => {
                Some(user.consent.clone()).filter(|c| !c.is_empty())
            }
            _ => Some(Consent {
                marketing: Some(false),
            }),
        };
        (self.gpc, consent)
    }

    /// Every question with whether it is open and why not (contract section 2),
    /// from the prompt state as stored now.
    pub fn explain(&mut self, store: &dyn Storage) -> Vec<Explanation> {
        self.reload(store);
        rules::explain(
            &self.config,
            self.user.as_ref(),
            &self.state,
            &self.events,
            self.gpc,
        )
    }

    /// The idle hint, when the session has decided that nothing can be shown now:
    /// nothing on screen or about to be, no profile read awaited, no question due.
    pub fn idle_hint(&mut self, store: &dyn Storage) -> Option<IdleHint> {
        if self.current.is_some() || self.pending.is_some() || self.reading.is_some() {
            return None;
        }
        // (A `User` is never cloned here: its profile is a JSON value, whose clone
        // would bring the whole map-cloning code into the wasm.)
        if self.user.is_none() {
            return Some(IdleHint {
                user: None,
                logins: 0,
                events: Vec::new(),
            });
        }
        self.reload(store);
        let user = self.user.as_ref()?;
        if rules::next_question(&self.config, user, &self.state, &self.events, self.gpc).is_some() {
            return None;
        }
        let mut events: Vec<String> = Vec::new();
        for stage in &self.config.stages {
            for event in &stage.events {
                if !self.state.events.contains(event) && !events.contains(event) {
                    events.push(event.clone());
                }
            }
        }
        Some(IdleHint {
            user: Some(user.id.clone()),
            logins: user.logins_count,
            events,
        })
    }

    /// Applies `input` at `now_ms`; returns what to do, in order.
    pub fn on(&mut self, store: &dyn Storage, input: Input, now_ms: u64) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Start => {
                if let Some(user) = self.user.take() {
                    self.begin(store, user, now_ms);
                }
                self.read_profile(&mut out);
                self.advance(store, false, &mut out);
            }
            Input::Identify(user) => {
                let same = self.user.as_ref().is_some_and(|u| u.id == user.id);
                if !same {
                    self.close(&mut out);
                    self.suggestions.clear();
                }
                self.begin(store, user, now_ms);
                self.read_profile(&mut out);
                if self.current.is_none() {
                    self.advance(store, false, &mut out);
                }
            }
            Input::SignOut => {
                if self.reading.take().is_some() {
                    out.push(Output::CancelRead);
                }
                self.current = None;
                self.pending = None;
                self.suggestions.clear();
                out.push(Output::Show(Screen::Hidden));
                if self.user.take().is_some() {
                    out.push(Output::Note("signed out".into()));
                }
                self.state = PromptState::new();
            }
            Input::Track(name) => self.track(store, name, &mut out),
            Input::Displayed(mounted) => self.displayed(store, mounted, &mut out),
            Input::Respond { response, id, at } => {
                self.respond(store, response, id, at, &mut out);
            }
            Input::StorageChanged => {
                self.reload(store);
                if self.close_if_settled(&mut out) {
                    out.push(Output::Note("settled in another tab".into()));
                }
            }
            Input::ProfileArrived { seq, body } => self.profile_arrived(store, seq, body, &mut out),
            Input::ProfileWaitOver { seq } => {
                let Some(reading) = self.reading.as_mut().filter(|r| r.seq == seq) else {
                    return out;
                };
                reading.waiting = false;
                out.push(Output::Note(
                    "the profile read is slow; deciding from local state".into(),
                ));
                if self.current.is_none() {
                    self.advance(store, false, &mut out);
                }
            }
        }
        out
    }

    /// Takes `user` and counts their login: their stored prompt state, dated now,
    /// with the events tracked before anyone signed in.
    fn begin(&mut self, store: &dyn Storage, user: User, now_ms: u64) {
        let key = state_key(&user.id);
        let mut state = store
            .get_json(&key)
            .map(PromptState::from_value)
            .unwrap_or_default();
        state.begin_login(user.logins_count);
        state.seen_at = now_ms;
        // A config that no longer lists an event does not keep it either.
        keep_listed(&mut state.events, &self.config);
        for event in std::mem::take(&mut self.events) {
            state.record_event(&event);
        }
        store.set(&key, &state.to_json());
        self.state = state;
        self.user = Some(user);
    }

    /// Re-reads the user's prompt state: another tab may have shown, answered or
    /// snoozed since.
    fn reload(&mut self, store: &dyn Storage) {
        if let Some(user) = &self.user {
            if let Some(stored) = store.get_json(&state_key(&user.id)) {
                self.state = PromptState::from_value(stored);
            }
        }
    }

    fn save(&self, store: &dyn Storage) {
        if let Some(user) = &self.user {
            store.set(&state_key(&user.id), &self.state.to_json());
        }
    }

    fn track(&mut self, store: &dyn Storage, name: String, out: &mut Vec<Output>) {
        // Only events a stage lists can reach one; storing others would let
        // storage grow with every event name a host tracks.
        if !rules::lists_event(&self.config, &name) {
            out.push(Output::Note(concat(&[
                "tracked ",
                &name,
                ": no stage lists it; ignored",
            ])));
            return;
        }
        if self.user.is_none() {
            self.events.insert(name);
            return;
        }
        self.reload(store);
        if self.state.events.contains(&name) {
            return;
        }
        out.push(Output::Note(concat(&["tracked ", &name])));
        self.state.record_event(&name);
        self.save(store);
        if self.current.is_none() {
            self.advance(store, false, out);
        }
    }

    /// Shows the next due question; with none, the thank-you (after an answer) or
    /// nothing new. Waits while the profile read is awaited.
    fn advance(&mut self, store: &dyn Storage, after_answer: bool, out: &mut Vec<Output>) {
        if self.reading.is_some_and(|r| r.waiting) {
            // Decided when the profile read arrives or its wait runs out.
            return;
        }
        self.reload(store);
        let due = self.user.as_ref().and_then(|user| {
            let mut due =
                rules::next_question(&self.config, user, &self.state, &self.events, self.gpc)?;
            // Only what the profile read suggested (see `crate::suggest` for why).
            let (_, question) = self.config.question(&due.question_id)?;
            let server = self
                .suggestions
                .iter()
                .find(|(field, _)| *field == due.field)
                .map(|(_, guess)| guess.as_str());
            due.suggestion = server.and_then(|guess| suggest::offer(question, guess));
            Some(due)
        });
        match due {
            Some(due) => {
                // Mounted first (see `displayed`): a popup that cannot be shown must
                // not use up the login's cap or the question's asks.
                self.current = None;
                self.pending = Some(due.clone());
                out.push(Output::Show(Screen::Question(due)));
            }
            None => {
                self.current = None;
                if self.config.debug {
                    out.push(Output::Note(self.why_nothing_is_due()));
                }
                // Otherwise the popup is hidden already, or finishing a thank-you.
                if after_answer {
                    out.push(Output::Show(Screen::Thanks));
                }
            }
        }
    }

    /// The question told to show was mounted (or not): count it as shown and say
    /// so, or forget it.
    fn displayed(&mut self, store: &dyn Storage, mounted: bool, out: &mut Vec<Output>) {
        let Some(due) = self.pending.take() else {
            return;
        };
        if !mounted {
            return;
        }
        self.reload(store);
        self.state.record_shown(&due.question_id);
        self.save(store);
        out.push(Output::Note(concat(&[
            "show ",
            &due.question_id,
            " (stage ",
            &due.stage,
            ")",
        ])));
        let mut detail = String::new();
        let mut o = Object::new(&mut detail);
        o.str("questionId", &due.question_id);
        o.str("stage", &due.stage);
        o.str("field", &due.field);
        o.end();
        out.push(Output::Emit("trickle:shown", detail));
        self.current = Some(due);
    }

    /// The user's response to the question on screen: the answer is queued
    /// (stored before any send), the prompt state updated, the event said, and
    /// the next question shown (or, after "Not now", nothing).
    fn respond(
        &mut self,
        store: &dyn Storage,
        response: Response,
        id: String,
        at: String,
        out: &mut Vec<Output>,
    ) {
        if response == Response::Dismissed {
            out.push(Output::Show(Screen::Hidden));
            return;
        }
        let current = self.current.take();
        let user = self
            .user
            .as_ref()
            .map(|u| (u.id.clone(), u.user_hash.clone(), u.logins_count));
        let (Some(current), Some((user_id, user_hash, logins_count))) = (current, user) else {
            return;
        };
        let mut suggested = false;
        let (status, value, other) = match response {
            Response::Answer { value, other } => (Status::Answered, Some(value), other),
            Response::Confirm => {
                let Some(guess) = current.suggestion.clone() else {
                    // Nothing was suggested: a stray "Yes" answers nothing.
                    self.current = Some(current);
                    return;
                };
                suggested = true;
                (Status::Answered, Some(Value::Text(guess)), false)
            }
            Response::Decline => (Status::Declined, None, false),
            _ => (Status::Snoozed, None, false),
        };
        let answer = Answer {
            id,
            question_id: current.question_id,
            stage: current.stage,
            field: current.field,
            status,
            value,
            other,
            suggested,
            answered_at: at,
            logins_count,
        };
        out.push(Output::Queue {
            user_id,
            user_hash,
            answer: answer.clone(),
        });
        self.reload(store);
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
                self.state.record_snoozed(&answer.stage, logins_count);
                "trickle:snoozed"
            }
        };
        self.save(store);
        let verb = name.strip_prefix("trickle:").unwrap_or(name);
        out.push(Output::Note(concat(&[
            verb,
            " ",
            &answer.question_id,
            "; queued ",
            &answer.id,
        ])));
        let mut detail = String::new();
        let mut o = Object::new(&mut detail);
        o.str("id", &answer.id);
        o.str("questionId", &answer.question_id);
        o.str("stage", &answer.stage);
        o.str("field", &answer.field);
        if let Some(value) = &answer.value {
            value.write_json(o.key("value"));
        }
        o.end();
        out.push(Output::Emit(name, detail));
        if status == Status::Snoozed {
            out.push(Output::Show(Screen::Hidden));
        } else {
            self.advance(store, true, out);
        }
    }

    fn close(&mut self, out: &mut Vec<Output>) {
        self.pending = None;
        if self.current.take().is_some() {
            out.push(Output::Show(Screen::Hidden));
        }
    }

    /// Closes the question on screen if the prompt state (as it is now) no longer
    /// leaves it open. Returns whether it was closed.
    fn close_if_settled(&mut self, out: &mut Vec<Output>) -> bool {
        let Some(question_id) = self.current.as_ref().map(|c| c.question_id.clone()) else {
            return false;
        };
        let still_open = rules::explain(
            &self.config,
            self.user.as_ref(),
            &self.state,
            &self.events,
            self.gpc,
        )
        .iter()
        .any(|e| e.question_id == question_id && e.open);
        if !still_open {
            self.close(out);
        }
        !still_open
    }

    /// With `profileUrl` set and a user, reads the server-kept profile (replacing
    /// any read in flight); while nothing is on screen the next decision waits for
    /// it, at most [`PROFILE_WAIT_MS`].
    fn read_profile(&mut self, out: &mut Vec<Output>) {
        if self.reading.take().is_some() {
            out.push(Output::CancelRead);
        }
        let (Some(template), Some(user)) = (&self.config.profile_url, &self.user) else {
            return;
        };
        self.reads = self.reads.wrapping_add(1);
        let seq = self.reads;
        let waiting = self.current.is_none();
        self.reading = Some(Reading { seq, waiting });
        let mut url = rules::profile_read_url(template, &encode_uri_component(&user.id));
        if let Some(domain) = suggest::domain_hint(&self.config, user) {
            url.push(if url.as_bytes().contains(&b'?') {
                '&'
            } else {
                '?'
            });
            url.push_str("emailDomain=");
            url.push_str(&encode_uri_component(&domain));
        }
        out.push(Output::ReadProfile {
            seq,
            url,
            user_hash: user.user_hash.clone(),
        });
        if waiting {
            out.push(Output::WaitFor {
                seq,
                ms: PROFILE_WAIT_MS,
            });
        }
    }

    /// A profile read ended: merge what it says, then decide (if the decision was
    /// waiting) or close the question on screen if the merged state settles it
    /// (and show what is due instead).
    fn profile_arrived(
        &mut self,
        store: &dyn Storage,
        seq: u32,
        body: Result<Json, ReadFailure>,
        out: &mut Vec<Output>,
    ) {
        let Some(reading) = self.reading.filter(|r| r.seq == seq) else {
            return;
        };
        self.reading = None;
        match body {
            Ok(body) => match body.as_object() {
                Some(fields) => {
                    self.suggestions = suggest::from_profile_read(&self.config, &body);
                    self.reload(store);
                    if self.state.merge_profile_read(&self.config, fields) {
                        self.save(store);
                    }
                    out.push(Output::Note("profile read merged".into()));
                }
                None => out.push(Output::Note(
                    "the profile read is not a profile; ignored".into(),
                )),
            },
            Err(ReadFailure::Status(status))
                if crate::outbox::Outcome::from_status(status).is_final() =>
            {
                out.push(Output::Report {
                    code: code::PROFILE,
                    message: concat(&[
                        "the profile read was refused with status ",
                        &decimal(u64::from(status)),
                        "; deciding from this browser's state",
                    ]),
                });
            }
            Err(failure) => {
                let why = match failure {
                    ReadFailure::Status(status) => decimal(u64::from(status)),
                    ReadFailure::Network => "network error".into(),
                };
                out.push(Output::Note(concat(&[
                    "the profile read failed (",
                    &why,
                    ")",
                ])));
            }
        }
        let closed = self.close_if_settled(out);
        if (reading.waiting || closed) && self.current.is_none() {
            self.advance(store, false, out);
        }
    }

    // One debug line: every question's reason, e.g. `role: known, city: cap-reached`.
    fn why_nothing_is_due(&self) -> String {
        let mut line = String::from("no question due (");
        let reasons = rules::explain(
            &self.config,
            self.user.as_ref(),
            &self.state,
            &self.events,
            self.gpc,
        );
        for (i, e) in reasons.iter().enumerate() {
            if i > 0 {
                line.push_str(", ");
            }
            line.push_str(&e.question_id);
            line.push_str(": ");
            line.push_str(e.reason.map(|r| r.as_str()).unwrap_or("open"));
        }
        line.push(')');
        line
    }
}

/// Drops from `events` those no stage of `config` lists. One function for both
/// callers: each `retain` closure is code of its own in the wasm.
fn keep_listed(events: &mut Set, config: &Config) {
    events.retain(|e| rules::lists_event(config, e));
}

/// `encodeURIComponent`: every byte but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as `%XX`.
pub fn encode_uri_component(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}
