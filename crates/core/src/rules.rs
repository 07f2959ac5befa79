//! The stage rule of contract section 2: which question is due, and why every
//! other question is not. Also the per-user prompt state the rule reads, which
//! the widget keeps in storage.

use serde::{Deserialize, Serialize};

use crate::config::{Config, Purpose, Question, Stage, User};
use crate::sorted::{Map, Set};

/// The version written into stored prompt state; any other version is discarded.
pub const STATE_VERSION: u32 = 1;

/// A user's prompt state not used for this long is removed from the browser
/// (storage written by the widget stays bounded; contract section 3).
pub const STATE_MAX_IDLE_MS: u64 = 90 * 24 * 60 * 60_000;

/// What the widget remembers about one user between page loads: shown counts,
/// snoozes, declines, the login last counted and the questions shown in it.
///
/// Kept per user id in the browser's storage. Change it only through the
/// `record_*` / `begin_login` transitions; the rule functions tolerate any value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptState {
    /// Always [`STATE_VERSION`] for a state this code wrote.
    pub version: u32,
    /// The `loginsCount` last counted: a new value starts a new login.
    #[serde(default)]
    pub login: Option<u32>,
    /// Question ids shown in that login, in order (each once, however often the
    /// page reloads). Their number is what the per-login cap counts.
    #[serde(default)]
    pub shown_this_login: Vec<String>,
    /// "Not now" was chosen in that login: nothing more is asked until the next.
    #[serde(default)]
    pub ended_this_login: bool,
    /// Question id -> in how many logins it was shown (answered or not).
    #[serde(default)]
    pub shown: Map<u32>,
    /// Stage id -> the `loginsCount` at which the user chose "Not now" in it.
    #[serde(default)]
    pub snoozed: Map<u32>,
    /// Fields the user answered here (known even before the host's profile has them).
    #[serde(default)]
    pub answered: Set,
    /// Fields the user declined ("Prefer not to say"): never asked again.
    #[serde(default)]
    pub declined: Set,
    /// Events tracked for this user; they reach stages that list them. Only
    /// events the config lists are kept (see [`lists_event`]).
    #[serde(default)]
    pub events: Set,
    /// When a page view last used this state (ms since the epoch; 0: not known,
    /// a state stored before this field existed). See [`PromptState::is_stale`].
    #[serde(default)]
    pub seen_at: u64,
    /// What the server-kept profile said (every read joined, see
    /// [`PromptState::merge_server`]): fields known there. Kept apart from what
    /// happened here, so a rejected local answer cannot erase it. The three
    /// `server_*` sets are left out of the stored form while empty, so a state
    /// without them is stored as before. (Three plain fields rather than one
    /// nested struct: one more derived deserializer costs the wasm more bytes.)
    #[serde(default, skip_serializing_if = "Set::is_empty")]
    pub server_known: Set,
    /// Fields declined on any device, as the server-kept prompt state says.
    #[serde(default, skip_serializing_if = "Set::is_empty")]
    pub server_declined: Set,
    /// Stage id -> the `loginsCount` the server-kept prompt state snoozes it until.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub server_snoozed: Map<u32>,
}

/// What the server-kept profile says about one user (contract section 2, "one
/// user, many devices"): fields known there, declined there, and stages snoozed
/// there. Read from `GET {profileUrl}` (see [`Remote::from_profile_read`]).
///
/// A join semilattice: [`Remote::join`] is commutative, associative and
/// idempotent, and only ever adds, so merging reads in any order, any number of
/// times, gives the same state, and nothing known on either side is forgotten.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remote {
    /// Configured fields with a value in the server-kept profile.
    pub known: Set,
    /// Configured fields the user declined on some device.
    pub declined: Set,
    /// Stage id -> the `loginsCount` the stage is snoozed until (exclusive).
    pub snoozed: Map<u32>,
}

impl Remote {
    /// Nothing known, declined or snoozed.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.declined.is_empty() && self.snoozed.is_empty()
    }

    /// Adds everything `other` knows: the union of fields and declines, and per
    /// stage the later of the two snoozes.
    pub fn join(&mut self, other: &Remote) {
        join_into(
            &mut self.known,
            &mut self.declined,
            &mut self.snoozed,
            other,
        );
    }

    /// Reads the body of a profile read (contract section 6, `GET
    /// /v1/profiles/{userId}`): `profile` (nested objects for dot paths),
    /// `promptState.declined` (field paths) and `promptState.snoozed`
    /// (`[{ stage, untilLogins }]`). Other members are ignored, and so is anything
    /// about a field or stage `config` does not have: what is kept stays bounded
    /// by the config. A body that is not an object gives `None`.
    pub fn from_profile_read(config: &Config, body: &serde_json::Value) -> Option<Remote> {
        let body = body.as_object()?;
        let mut remote = Remote::default();
        read_profile_into(
            config,
            body,
            &mut remote.known,
            &mut remote.declined,
            &mut remote.snoozed,
        );
        Some(remote)
    }
}

/// [`Remote::from_profile_read`] of the object `body`, joined into the three
/// parts of a [`Remote`] wherever they are kept (as [`join_into`] joins); returns
/// whether anything was added or a snooze grew. A stage listed twice keeps its
/// later snooze, as a join does.
fn read_profile_into(
    config: &Config,
    body: &serde_json::Map<String, serde_json::Value>,
    known: &mut Set,
    declined: &mut Set,
    snoozed: &mut Map<u32>,
) -> bool {
    let mut changed = false;
    let profile = body.get("profile").unwrap_or(&serde_json::Value::Null);
    let state = body.get("promptState");
    let declines = state
        .and_then(|s| s.get("declined"))
        .and_then(serde_json::Value::as_array);
    for stage in &config.stages {
        for q in &stage.questions {
            if profile_value(profile, &q.field).is_some_and(is_present) {
                changed |= known.insert(q.field.clone());
            }
            if declines.is_some_and(|d| d.iter().any(|f| f.as_str() == Some(&q.field))) {
                changed |= declined.insert(q.field.clone());
            }
        }
    }
    let snoozes = state
        .and_then(|s| s.get("snoozed"))
        .and_then(serde_json::Value::as_array);
    for snooze in snoozes.map_or(&[][..], Vec::as_slice) {
        let stage = snooze.get("stage").and_then(serde_json::Value::as_str);
        let until = snooze
            .get("untilLogins")
            .and_then(serde_json::Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        if let (Some(stage), Some(until)) = (stage, until) {
            if config.stages.iter().any(|s| s.id == stage)
                && snoozed.get(stage).is_none_or(|&held| held < until)
            {
                snoozed.insert(stage.to_owned(), until);
                changed = true;
            }
        }
    }
    changed
}

/// [`Remote::join`] of `other` into the three parts of a [`Remote`], wherever
/// they are kept (a `Remote`, or a [`PromptState`]'s `server_*` members);
/// returns whether anything was added or a snooze grew.
fn join_into(known: &mut Set, declined: &mut Set, snoozed: &mut Map<u32>, other: &Remote) -> bool {
    let mut changed = false;
    for field in &other.known {
        changed |= known.insert(field.clone());
    }
    for field in &other.declined {
        changed |= declined.insert(field.clone());
    }
    for (stage, &until) in &other.snoozed {
        if snoozed.get(stage).is_none_or(|&held| held < until) {
            snoozed.insert(stage.clone(), until);
            changed = true;
        }
    }
    changed
}

impl Default for PromptState {
    fn default() -> Self {
        Self::new()
    }
}

impl PromptState {
    /// A clean state: nothing shown, snoozed or declined.
    pub fn new() -> Self {
        Self {
            version: STATE_VERSION,
            login: None,
            shown_this_login: Vec::new(),
            ended_this_login: false,
            shown: Map::new(),
            snoozed: Map::new(),
            answered: Set::new(),
            declined: Set::new(),
            events: Set::new(),
            seen_at: 0,
            server_known: Set::new(),
            server_declined: Set::new(),
            server_snoozed: Map::new(),
        }
    }

    /// Reads a stored state. Anything corrupt, of another version or not written
    /// by this code gives a clean state: storage is not trusted, and losing prompt
    /// history only means a question may be asked again.
    pub fn from_json(json: &str) -> PromptState {
        PromptState::from_value(crate::json::parse(json).unwrap_or_default())
    }

    /// [`PromptState::from_json`] of the stored text already parsed (`null` for
    /// text that is not JSON).
    pub fn from_value(value: serde_json::Value) -> PromptState {
        PromptState::read(&value)
            .filter(|state| state.version == STATE_VERSION)
            .unwrap_or_default()
    }

    /// The stored form's members, as [`PromptState::to_json`] writes them (absent
    /// ones take their defaults, `version` is required, an unknown one refuses
    /// the whole state).
    fn read(value: &serde_json::Value) -> Option<PromptState> {
        use crate::read::{set, strings, u32_map, u32_of};
        let mut state = PromptState::new();
        crate::read::members(value, &["version"], |key, v| {
            match key {
                "version" => state.version = u32_of(v)?,
                "login" => state.login = crate::read::nullable(v, u32_of)?,
                "shownThisLogin" => state.shown_this_login = strings(v)?,
                "endedThisLogin" => state.ended_this_login = v.as_bool()?,
                "shown" => state.shown = u32_map(v)?,
                "snoozed" => state.snoozed = u32_map(v)?,
                "answered" => state.answered = set(v)?,
                "declined" => state.declined = set(v)?,
                "events" => state.events = set(v)?,
                "seenAt" => state.seen_at = v.as_u64()?,
                "serverKnown" => state.server_known = set(v)?,
                "serverDeclined" => state.server_declined = set(v)?,
                "serverSnoozed" => state.server_snoozed = u32_map(v)?,
                _ => return None,
            }
            Some(())
        })?;
        Some(state)
    }

    /// The stored form (read back with [`PromptState::from_json`]).
    pub fn to_json(&self) -> String {
        use crate::json::write_u32_map;
        let mut out = String::new();
        let mut o = crate::json::Object::new(&mut out);
        o.u64("version", u64::from(self.version));
        match self.login {
            Some(login) => o.u64("login", u64::from(login)),
            None => o.key("login").push_str("null"),
        }
        o.strs("shownThisLogin", &self.shown_this_login);
        o.bool("endedThisLogin", self.ended_this_login);
        write_u32_map(o.key("shown"), &self.shown);
        write_u32_map(o.key("snoozed"), &self.snoozed);
        o.strs("answered", self.answered.iter().as_slice());
        o.strs("declined", self.declined.iter().as_slice());
        o.strs("events", self.events.iter().as_slice());
        o.u64("seenAt", self.seen_at);
        if !self.server_known.is_empty() {
            o.strs("serverKnown", self.server_known.iter().as_slice());
        }
        if !self.server_declined.is_empty() {
            o.strs("serverDeclined", self.server_declined.iter().as_slice());
        }
        if !self.server_snoozed.is_empty() {
            write_u32_map(o.key("serverSnoozed"), &self.server_snoozed);
        }
        o.end();
        out
    }

    /// Counts the login `logins_count`. A value above the last counted starts a
    /// new login (per-login cap and "Not now" reset); the same value again (a
    /// reload) changes nothing, and so does a lower one: a tab still on an older
    /// login shares the newest login's cap instead of resetting it (two tabs on
    /// different login counts must not each show `maxQuestionsPerLogin`). Returns
    /// whether a new login started.
    pub fn begin_login(&mut self, logins_count: u32) -> bool {
        if self.login.is_some_and(|last| logins_count <= last) {
            return false;
        }
        self.login = Some(logins_count);
        self.shown_this_login.clear();
        self.ended_this_login = false;
        true
    }

    /// The popup showed `question_id`. Showing the same question again in the
    /// same login (after a reload) counts once, both for the cap and for maxAsks.
    pub fn record_shown(&mut self, question_id: &str) {
        if self.shown_this_login.iter().any(|q| q == question_id) {
            return;
        }
        self.shown_this_login.push(question_id.to_owned());
        *self.shown.get_or_insert(question_id, 0) += 1;
    }

    /// The user answered the question that fills `field`.
    pub fn record_answered(&mut self, field: &str) {
        self.answered.insert(field.to_owned());
    }

    /// The user chose "Prefer not to say" for `field`.
    pub fn record_declined(&mut self, field: &str) {
        self.declined.insert(field.to_owned());
    }

    /// The user chose "Not now" (or Close, or Escape) in `stage_id` at
    /// `logins_count`: this login asks nothing more, and the stage rests until
    /// `loginsCount` has grown by `snoozeLogins`.
    pub fn record_snoozed(&mut self, stage_id: &str, logins_count: u32) {
        self.snoozed.insert(stage_id.to_owned(), logins_count);
        if self.login.is_some_and(|last| logins_count <= last) {
            self.ended_this_login = true;
        }
    }

    /// The host tracked `event` for this user.
    pub fn record_event(&mut self, event: &str) {
        self.events.insert(event.to_owned());
    }

    /// Not used by any page view for [`STATE_MAX_IDLE_MS`] at `now_ms`: remove it.
    /// A state of unknown age (`seen_at` 0) is not stale; date it instead.
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.seen_at != 0 && now_ms.saturating_sub(self.seen_at) > STATE_MAX_IDLE_MS
    }

    /// `field` was answered or declined here (so it is known, delivered or not).
    pub fn is_settled(&self, field: &str) -> bool {
        self.answered.contains(field) || self.declined.contains(field)
    }

    /// Merges a read of the server-kept profile: a field known there is known
    /// here, a decline there is a decline here, a snooze there holds here. Never
    /// opens a question (see [`Remote::join`]). Returns whether anything changed.
    pub fn merge_server(&mut self, remote: &Remote) -> bool {
        // Joined in place: no copy of what was known to compare with.
        join_into(
            &mut self.server_known,
            &mut self.server_declined,
            &mut self.server_snoozed,
            remote,
        )
    }

    /// [`PromptState::merge_server`] of [`Remote::from_profile_read`] of the
    /// object `body`, read straight into this state: no `Remote` built to be
    /// joined and dropped. Returns whether anything changed.
    pub fn merge_profile_read(
        &mut self,
        config: &Config,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> bool {
        read_profile_into(
            config,
            body,
            &mut self.server_known,
            &mut self.server_declined,
            &mut self.server_snoozed,
        )
    }

    /// What every read of the server-kept profile said, joined.
    pub fn server(&self) -> Remote {
        Remote {
            known: self.server_known.clone(),
            declined: self.server_declined.clone(),
            snoozed: self.server_snoozed.clone(),
        }
    }

    /// `field` was declined here or on another device.
    pub fn is_declined(&self, field: &str) -> bool {
        self.declined.contains(field) || self.server_declined.contains(field)
    }
}

/// The URL of a profile read: `template` (the config's `profileUrl`) with every
/// `{userId}` replaced by `encoded_id` (the user id, already URL-encoded).
pub fn profile_read_url(template: &str, encoded_id: &str) -> String {
    crate::text::fill(template, &[("{userId}", encoded_id)])
}

/// Why a question is not open (contract section 2). Serializes kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The profile has a value, or the user answered here.
    Known,
    /// The user chose "Prefer not to say".
    Declined,
    /// The stage is snoozed, or "Not now" ended this login's questions.
    Snoozed,
    /// Neither the login count nor an event has reached the stage.
    StageNotReached,
    /// Shown `maxAsks` times without an answer.
    MaxAsks,
    /// This login already showed `maxQuestionsPerLogin` questions.
    CapReached,
    /// No user is identified.
    NoUser,
    /// (v2) A marketing question, and the user said no to marketing
    /// (`consent.marketing: false`).
    NoConsent,
    /// (v2) A marketing question, and the browser sends Global Privacy Control.
    PrivacySignal,
}

impl Reason {
    /// The contract's name (`"stage-not-reached"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Known => "known",
            Reason::Declined => "declined",
            Reason::Snoozed => "snoozed",
            Reason::StageNotReached => "stage-not-reached",
            Reason::MaxAsks => "max-asks",
            Reason::CapReached => "cap-reached",
            Reason::NoUser => "no-user",
            Reason::NoConsent => "no-consent",
            Reason::PrivacySignal => "privacy-signal",
        }
    }
}

/// One question's standing, as `explain()` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The question.
    pub question_id: String,
    /// Its stage.
    pub stage: String,
    /// Its profile field.
    pub field: String,
    /// It may be shown now.
    pub open: bool,
    /// Why not, when not open (`null` when open).
    pub reason: Option<Reason>,
}

impl Explanation {
    /// Writes the explanation as JSON text, as its `Serialize` does.
    pub fn write_json(&self, out: &mut String) {
        let mut o = crate::json::Object::new(out);
        o.str("questionId", &self.question_id);
        o.str("stage", &self.stage);
        o.str("field", &self.field);
        o.bool("open", self.open);
        match self.reason {
            Some(reason) => o.str("reason", reason.as_str()),
            None => o.key("reason").push_str("null"),
        }
        o.end();
    }
}

/// The question to show now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Due {
    /// Its stage.
    pub stage: String,
    /// The question.
    pub question_id: String,
    /// Its profile field.
    pub field: String,
    /// Progress hint: this is the `position`-th question of this login (1-based).
    pub position: u32,
    /// Progress hint: how many this login will show if the user keeps answering.
    pub total: u32,
    /// (v2) A value to offer for confirmation instead of asking (contract section
    /// 5). [`next_question`] leaves it empty; the session fills it in (see
    /// [`crate::suggest::offer`], from the profile read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// Whether some stage lists `event`: only such events can reach a stage, so only
/// they are stored.
pub fn lists_event(config: &Config, event: &str) -> bool {
    config
        .stages
        .iter()
        .any(|stage| stage.events.iter().any(|e| e == event))
}

/// The value at a dot path (`company.name`) in a nested profile.
pub fn profile_value<'a>(
    profile: &'a serde_json::Value,
    path: &str,
) -> Option<&'a serde_json::Value> {
    path.split('.')
        .try_fold(profile, |node, key| node.as_object()?.get(key))
}

/// Whether a profile value counts as known: not null, not an empty (or blank)
/// string, not an empty array or object.
pub fn is_present(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => true,
    }
}

/// `field` is known: the profile holds a value there or the user answered here.
/// (A decline is reported separately, as [`Reason::Declined`].)
pub fn is_known(user: &User, state: &PromptState, field: &str) -> bool {
    state.answered.contains(field)
        || state.server_known.contains(field)
        || profile_value(&user.profile, field).is_some_and(is_present)
}

/// The configured fields that are known or were declined: the closed loop of
/// contract section 2 (an answer counts at once, delivered or still queued).
pub fn known_fields(config: &Config, user: &User, state: &PromptState) -> Set {
    config
        .questions()
        .filter(|(_, q)| is_known(user, state, &q.field) || state.is_declined(&q.field))
        .map(|(_, q)| q.field.clone())
        .collect()
}

/// What the rule needs of the state for the user's current login. A state whose
/// last login is another value reads as a fresh login, so forgetting
/// `begin_login` cannot carry a cap over.
struct View<'a> {
    this_login: &'a [String],
    ended: bool,
    // The browser sends Global Privacy Control.
    gpc: bool,
}

fn view<'a>(user: &User, state: &'a PromptState, gpc: bool) -> View<'a> {
    // A login at or below the last counted shares that login's record (see
    // `PromptState::begin_login`).
    if state.login.is_some_and(|last| user.logins_count <= last) {
        View {
            this_login: &state.shown_this_login,
            ended: state.ended_this_login,
            gpc,
        }
    } else {
        View {
            this_login: &[],
            ended: false,
            gpc,
        }
    }
}

fn stage_reached(stage: &Stage, user: &User, state: &PromptState, events: &Set) -> bool {
    user.logins_count >= stage.min_logins
        || stage
            .events
            .iter()
            .any(|e| events.contains(e) || state.events.contains(e))
}

fn stage_snoozed(config: &Config, stage: &Stage, user: &User, state: &PromptState) -> bool {
    let here = state
        .snoozed
        .get(&stage.id)
        .is_some_and(|&at| user.logins_count < at.saturating_add(config.cadence.snooze_logins));
    let there = state
        .server_snoozed
        .get(&stage.id)
        .is_some_and(|&until| user.logins_count < until);
    here || there
}

fn reason_for(
    config: &Config,
    stage: &Stage,
    question: &Question,
    user: &User,
    state: &PromptState,
    events: &Set,
    view: &View,
) -> Option<Reason> {
    if is_known(user, state, &question.field) {
        return Some(Reason::Known);
    }
    if state.is_declined(&question.field) {
        return Some(Reason::Declined);
    }
    // Before the stage and cadence reasons: a marketing question closed by the
    // user's choice stays closed whatever happens to the stage.
    if question.purpose == Purpose::Marketing {
        if user.refused_marketing() {
            return Some(Reason::NoConsent);
        }
        if view.gpc {
            return Some(Reason::PrivacySignal);
        }
    }
    if !stage_reached(stage, user, state, events) {
        return Some(Reason::StageNotReached);
    }
    if stage_snoozed(config, stage, user, state) {
        return Some(Reason::Snoozed);
    }
    let shown_now = view.this_login.contains(&question.id);
    // A show in this login does not count against maxAsks yet: the question is
    // still on screen (or was, before a reload) and may be shown again.
    let asks = state
        .shown
        .get(&question.id)
        .copied()
        .unwrap_or(0)
        .saturating_sub(u32::from(shown_now));
    if asks >= config.cadence.max_asks {
        return Some(Reason::MaxAsks);
    }
    if view.ended {
        return Some(Reason::Snoozed);
    }
    if !shown_now && view.this_login.len() >= config.cadence.max_questions_per_login as usize {
        return Some(Reason::CapReached);
    }
    None
}

/// For every question in config order: whether it is open and, if not, why.
/// `user` is `None` before `identify`: every question is then `no-user`.
/// `events` are tracked events not (yet) recorded in `state`; `gpc`: the browser
/// sends Global Privacy Control (`navigator.globalPrivacyControl`).
pub fn explain(
    config: &Config,
    user: Option<&User>,
    state: &PromptState,
    events: &Set,
    gpc: bool,
) -> Vec<Explanation> {
    let view = user.map(|u| view(u, state, gpc));
    let mut out = Vec::new();
    for stage in &config.stages {
        for q in &stage.questions {
            let reason = match (user, &view) {
                (Some(user), Some(view)) => reason_for(config, stage, q, user, state, events, view),
                _ => Some(Reason::NoUser),
            };
            out.push(Explanation {
                question_id: q.id.clone(),
                stage: stage.id.clone(),
                field: q.field.clone(),
                open: reason.is_none(),
                reason,
            });
        }
    }
    out
}

/// The question to show now, or `None`. The first open question in config order
/// (so the earliest reached stage with an open question goes first), until
/// `maxQuestionsPerLogin` questions were shown in this login.
///
/// Call [`PromptState::begin_login`] with the user's `loginsCount` first, then
/// [`PromptState::record_shown`] when the question is actually shown. `events`
/// and `gpc` as for [`explain`].
pub fn next_question(
    config: &Config,
    user: &User,
    state: &PromptState,
    events: &Set,
    gpc: bool,
) -> Option<Due> {
    let view = view(user, state, gpc);
    let mut due: Option<(&Stage, &Question)> = None;
    let mut open_not_shown = 0usize;
    for stage in &config.stages {
        for q in &stage.questions {
            if reason_for(config, stage, q, user, state, events, &view).is_none() {
                if due.is_none() {
                    due = Some((stage, q));
                }
                if !view.this_login.contains(&q.id) {
                    open_not_shown += 1;
                }
            }
        }
    }
    let (stage, question) = due?;
    let shown = view.this_login.len();
    let position = view
        .this_login
        .iter()
        .position(|q| *q == question.id)
        .unwrap_or(shown)
        + 1;
    let cap = config.cadence.max_questions_per_login as usize;
    let total = (shown + open_not_shown).min(cap).max(position);
    Some(Due {
        stage: stage.id.clone(),
        question_id: question.id.clone(),
        field: question.field.clone(),
        position: u32::try_from(position).unwrap_or(u32::MAX),
        total: u32::try_from(total).unwrap_or(u32::MAX),
        suggestion: None,
    })
}
