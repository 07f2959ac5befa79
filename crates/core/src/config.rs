//! The widget config (contract section 1): typed, unknown keys rejected, then
//! validated. Every error names the path of the bad value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A parsed and validated widget config.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Where answers are posted: an https URL, a path on the page's origin, or an
    /// http URL on localhost / 127.0.0.1.
    pub endpoint: String,
    /// Extra request headers sent with every post.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The signed-in user, if known at init time (may arrive later via identify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Where the server-kept profile and prompt state are read after `init` and
    /// `identify` (contract section 2, "one user, many devices"): the same URL rules
    /// as `endpoint`; `{userId}` is replaced by the URL-encoded user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    /// The question stages, asked in this order.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub stages: Vec<Stage>,
    /// How often questions may be shown.
    #[serde(default)]
    pub cadence: Cadence,
    /// Which corner the popup sits in.
    #[serde(default)]
    pub placement: Placement,
    /// BCP 47 language tag; picks translations and the text direction.
    #[serde(default = "default_locale")]
    pub locale: String,
    /// Accent colour and colour scheme.
    #[serde(default)]
    pub theme: Theme,
    /// Log one prefixed console line per decision.
    #[serde(default)]
    pub debug: bool,
}

fn default_locale() -> String {
    "en".to_owned()
}

/// The signed-in user as the host site knows them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    /// The host's stable user id (e.g. `auth0|5f7c8ec7`).
    pub id: String,
    /// How many times this user has logged in (Auth0's `logins_count`).
    #[serde(default)]
    pub logins_count: u32,
    /// Fields already known about the user; nested objects for dot paths.
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "schema", schemars(extend("type" = "object")))]
    pub profile: serde_json::Value,
    /// Hex HMAC-SHA256(secret, id), computed by the host's server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A group of questions that becomes due at a login count or on an event.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stage {
    /// Unique stage id.
    pub id: String,
    /// The stage is reached when `loginsCount >= minLogins`.
    #[serde(default)]
    pub min_logins: u32,
    /// Tracked events that also reach the stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// The stage's questions, asked in this order.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub questions: Vec<Question>,
}

/// One profile question.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Question {
    /// Unique across the whole config.
    pub id: String,
    /// Dot path into the profile; unique across the config.
    pub field: String,
    /// What kind of answer is expected.
    pub kind: Kind,
    /// The question text, plain or per locale.
    pub prompt: Text,
    /// Preset answers (choice and multichoice only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Adds a free-text "Other" answer (choice and multichoice only).
    #[serde(default)]
    pub allow_other: bool,
    /// Offers "Prefer not to say".
    #[serde(default)]
    pub declinable: bool,
    /// Why we ask; shown on request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<Text>,
    /// Longest accepted typed answer, in characters (default 200, at most 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 2000)))]
    pub max_length: Option<u32>,
}

/// The kinds of question of contract section 1.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Free text.
    Text,
    /// An email address.
    Email,
    /// A phone number.
    Tel,
    /// A web address.
    Url,
    /// A number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the options.
    Choice,
    /// Any subset of the options.
    Multichoice,
}

/// A preset answer.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Choice {
    /// What is stored; unique within the question.
    pub value: String,
    /// What the user sees.
    pub label: Text,
}

// Deserialized by hand (not `#[serde(untagged)]`) so that a malformed translation
// is reported at its own path (`prompt.de: invalid type: ...`) instead of as
// "data did not match any variant".
/// User-facing text: one string, or one per locale (`{ "en": "...", "de": "..." }`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Text {
    /// The same text for every locale.
    Plain(String),
    /// Text per BCP 47 locale.
    Translated(BTreeMap<String, String>),
}

/// How often questions may be shown (contract section 2).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cadence {
    /// How many questions one login may show in total.
    #[serde(default = "default_max_questions")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub max_questions_per_login: u32,
    /// "Not now" hides the stage until loginsCount grows by this much.
    #[serde(default = "default_snooze")]
    pub snooze_logins: u32,
    /// A question shown this often without an answer is not asked again.
    #[serde(default = "default_max_asks")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub max_asks: u32,
}

fn default_max_questions() -> u32 {
    3
}
fn default_snooze() -> u32 {
    1
}
fn default_max_asks() -> u32 {
    3
}

impl Default for Cadence {
    fn default() -> Self {
        Self {
            max_questions_per_login: default_max_questions(),
            snooze_logins: default_snooze(),
            max_asks: default_max_asks(),
        }
    }
}

/// The corner the popup sits in.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Bottom right (the default).
    #[default]
    BottomRight,
    /// Bottom left.
    BottomLeft,
    /// Top right.
    TopRight,
    /// Top left.
    TopLeft,
}

/// Look and feel.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Theme {
    /// Accent colour, `#rgb` or `#rrggbb`.
    #[serde(default = "default_accent")]
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"))
    )]
    pub accent: String,
    /// Light, dark, or following the user's system.
    #[serde(default)]
    pub color_scheme: ColorScheme,
}

fn default_accent() -> String {
    "#2A5383".to_owned()
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            accent: default_accent(),
            color_scheme: ColorScheme::default(),
        }
    }
}

/// The popup's colour scheme.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorScheme {
    /// Follow `prefers-color-scheme`.
    #[default]
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> serde::de::Visitor<'de> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an object of translations keyed by locale")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Plain(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::Plain(v))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    // next_value goes through the path-tracking wrapper, so a
                    // non-string translation is reported as `prompt.de: ...`.
                    let value: String = map.next_value()?;
                    if out.insert(key.clone(), value).is_some() {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate translation `{key}`"
                        )));
                    }
                }
                Ok(Text::Translated(out))
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

impl Text {
    /// The text for `locale`: the exact locale (case and `_`/`-` insensitive), then
    /// ever shorter prefixes of it (`de-CH-1901` -> `de-CH` -> `de`), then any
    /// translation of the same language, then `en`, then the first translation.
    pub fn resolve(&self, locale: &str) -> &str {
        match self {
            Text::Plain(s) => s,
            Text::Translated(map) => {
                let key = crate::i18n::pick(locale, map.keys().map(String::as_str));
                key.and_then(|k| map.get(k))
                    .map(String::as_str)
                    .unwrap_or("")
            }
        }
    }
}

/// A config (or envelope) error: the path of the bad value and what is wrong.
///
/// Displays as `path: message`, e.g. `stages[2].questions[0].options: must not be
/// empty`; an error about the document as a whole (bad JSON) has an empty path and
/// displays as the message alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_error(.path, .message))]
pub struct ConfigError {
    /// Dot/bracket path of the bad value (`stages[1].questions[0].kind`); empty for
    /// the whole document.
    pub path: String,
    /// What is wrong, in English.
    pub message: String,
}

fn display_error(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_owned()
    } else {
        format!("{path}: {message}")
    }
}

impl ConfigError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Converts a serde error found at `path` (as `crate::de` names it) into a
    /// `ConfigError` with a friendlier message.
    pub(crate) fn from_serde(mut path: String, err: &serde_json::Error) -> Self {
        let mut message = err.to_string();
        // serde_json appends a position to data errors; the path says more and the
        // position is meaningless for from_value.
        if !matches!(
            err.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ) {
            if let Some(i) = message.rfind(" at line ") {
                message.truncate(i);
            }
        }
        // `missing field `x`` is reported at the parent; name the field itself.
        if let Some(rest) = message.strip_prefix("missing field `") {
            if let Some(field) = rest.strip_suffix('`') {
                path = join(&path, field);
                message = "is required".to_owned();
            }
        } else if let Some(rest) = message.strip_prefix("unknown field `") {
            if let Some((field, expected)) = rest.split_once('`') {
                let expected = expected.trim_start_matches(", ");
                if !path.ends_with(field) {
                    path = join(&path, field);
                }
                message = format!("unknown key ({expected})");
            }
        } else if message.contains("expected u32") || message.contains("expected u64") {
            message = number_message(&message);
        }
        Self { path, message }
    }
}

/// Rewrites serde's `invalid value: integer `-1`, expected u32` into plain words.
fn number_message(serde_message: &str) -> String {
    let found = serde_message
        .split_once(": ")
        .map(|(_, rest)| rest.split(", expected").next().unwrap_or(rest))
        .unwrap_or("");
    let got = match found.split('`').nth(1) {
        Some(number) => number,
        None => found,
    };
    if got.is_empty() {
        "must be a whole number >= 0".to_owned()
    } else {
        format!("must be a whole number >= 0, got {got}")
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Deserializes `T` from a JSON value with path-named errors.
pub(crate) fn parse_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ConfigError> {
    crate::de::from_value(value).map_err(|(path, e)| ConfigError::from_serde(path, &e))
}

/// Parses JSON text into a value; only syntax errors happen here.
pub(crate) fn json_value(json: &str) -> Result<serde_json::Value, ConfigError> {
    serde_json::from_str(json).map_err(|e| ConfigError::new("", format!("invalid JSON: {e}")))
}

/// Default `maxLength` of typed answers, in characters.
pub const DEFAULT_MAX_LENGTH: u32 = 200;
/// The JSON Schema of the config, generated from these types (the committed
/// `crates/core/config.schema.json` is this, pretty-printed). The validation pass
/// checks more than a schema can say (uniqueness, URLs, cross-field rules).
#[cfg(feature = "schema")]
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
}

/// Largest allowed `maxLength`, in characters.
pub const MAX_MAX_LENGTH: u32 = 2000;

impl Config {
    /// Parses and validates a config from JSON text.
    pub fn from_json(json: &str) -> Result<Config, ConfigError> {
        Config::from_value(json_value(json)?)
    }

    /// Parses and validates a config from a JSON value (e.g. one converted from a
    /// JavaScript object).
    pub fn from_value(value: serde_json::Value) -> Result<Config, ConfigError> {
        // serde would also accept a struct written as an array; a config never is.
        if !value.is_object() {
            return Err(ConfigError::new("", "the config must be a JSON object"));
        }
        let config: Config = parse_value(value)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks everything the types cannot: ids, options, URLs, ranges. Returns the
    /// first problem in document order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_endpoint(&self.endpoint).map_err(|m| ConfigError::new("endpoint", m))?;
        for (name, value) in &self.headers {
            let path = format!("headers.{name}");
            if !is_header_name(name) {
                return Err(ConfigError::new(path, "not a valid header name"));
            }
            if value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
                return Err(ConfigError::new(path, "must not contain line breaks"));
            }
        }
        if let Some(user) = &self.user {
            user.validate_at("user")?;
        }
        if let Some(url) = &self.profile_url {
            validate_endpoint(url).map_err(|m| ConfigError::new("profileUrl", m))?;
        }
        if self.stages.is_empty() {
            return Err(ConfigError::new("stages", "must not be empty"));
        }
        // Vecs, not BTreeMaps keyed by &str: configs are small, and each map type
        // was its own copy of the B-tree code in the wasm. `fields` stays sorted
        // by field, so a conflict is looked for in the same order as before.
        let mut question_ids: Vec<(&str, String)> = Vec::new();
        let mut fields: Vec<(&str, String)> = Vec::new();
        for (si, stage) in self.stages.iter().enumerate() {
            let sp = format!("stages[{si}]");
            if stage.id.trim().is_empty() {
                return Err(ConfigError::new(format!("{sp}.id"), "must not be empty"));
            }
            if let Some(first) = self.stages[..si].iter().position(|s| s.id == stage.id) {
                return Err(ConfigError::new(
                    format!("{sp}.id"),
                    format!(
                        "duplicate stage id \"{}\" (also stages[{first}].id)",
                        stage.id
                    ),
                ));
            }
            for (ei, event) in stage.events.iter().enumerate() {
                let ep = format!("{sp}.events[{ei}]");
                if event.trim().is_empty() {
                    return Err(ConfigError::new(ep, "must not be empty"));
                }
                if stage.events[..ei].contains(event) {
                    return Err(ConfigError::new(ep, format!("duplicate event \"{event}\"")));
                }
            }
            if stage.questions.is_empty() {
                return Err(ConfigError::new(
                    format!("{sp}.questions"),
                    "must not be empty",
                ));
            }
            for (qi, q) in stage.questions.iter().enumerate() {
                let qp = format!("{sp}.questions[{qi}]");
                if q.id.trim().is_empty() {
                    return Err(ConfigError::new(format!("{qp}.id"), "must not be empty"));
                }
                if let Some((_, first)) = question_ids.iter().find(|(id, _)| *id == q.id) {
                    return Err(ConfigError::new(
                        format!("{qp}.id"),
                        format!("duplicate question id \"{}\" (also {first})", q.id),
                    ));
                }
                validate_field_path(&q.field)
                    .map_err(|m| ConfigError::new(format!("{qp}.field"), m))?;
                for (other, other_path) in &fields {
                    if *other == q.field {
                        return Err(ConfigError::new(
                            format!("{qp}.field"),
                            format!("duplicate field \"{}\" (also {other_path})", q.field),
                        ));
                    }
                    if is_path_prefix(other, &q.field) || is_path_prefix(&q.field, other) {
                        return Err(ConfigError::new(
                            format!("{qp}.field"),
                            format!("\"{}\" and \"{other}\" ({other_path}) cannot both be profile fields: one contains the other", q.field),
                        ));
                    }
                }
                question_ids.push((&q.id, format!("{qp}.id")));
                let at = fields.partition_point(|(f, _)| *f < q.field.as_str());
                fields.insert(at, (&q.field, format!("{qp}.field")));
                q.validate_at(&qp)?;
            }
        }
        let c = &self.cadence;
        if c.max_questions_per_login == 0 {
            return Err(ConfigError::new(
                "cadence.maxQuestionsPerLogin",
                "must be at least 1",
            ));
        }
        if c.max_asks == 0 {
            return Err(ConfigError::new("cadence.maxAsks", "must be at least 1"));
        }
        if !crate::i18n::is_valid_tag(&self.locale) {
            return Err(ConfigError::new(
                "locale",
                format!("\"{}\" is not a BCP 47 language tag", self.locale),
            ));
        }
        if !is_hex_colour(&self.theme.accent) {
            return Err(ConfigError::new(
                "theme.accent",
                "must be a colour like #2A5383 or #25A",
            ));
        }
        Ok(())
    }

    /// Every question with its stage, in config order.
    pub fn questions(&self) -> impl Iterator<Item = (&Stage, &Question)> {
        self.stages
            .iter()
            .flat_map(|s| s.questions.iter().map(move |q| (s, q)))
    }

    /// The question with this id, with its stage.
    pub fn question(&self, id: &str) -> Option<(&Stage, &Question)> {
        self.questions().find(|(_, q)| q.id == id)
    }

    /// The question that fills this profile field, with its stage.
    pub fn question_for_field(&self, field: &str) -> Option<(&Stage, &Question)> {
        self.questions().find(|(_, q)| q.field == field)
    }

    /// The stage with this id.
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }
}

impl User {
    /// Parses and validates a user (as passed to `identify`) from JSON text; error
    /// paths are relative to the user object (`loginsCount: ...`).
    pub fn from_json(json: &str) -> Result<User, ConfigError> {
        User::from_value(json_value(json)?)
    }

    /// Parses and validates a user from a JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<User, ConfigError> {
        if !value.is_object() {
            return Err(ConfigError::new("", "the user must be a JSON object"));
        }
        let user: User = parse_value(value)?;
        user.validate_at("")?;
        Ok(user)
    }

    fn validate_at(&self, at: &str) -> Result<(), ConfigError> {
        if self.id.trim().is_empty() {
            return Err(ConfigError::new(join(at, "id"), "must not be empty"));
        }
        if !self.profile.is_object() {
            return Err(ConfigError::new(join(at, "profile"), "must be an object"));
        }
        if let Some(hash) = &self.user_hash {
            if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError::new(
                    join(at, "userHash"),
                    "must be a hex string",
                ));
            }
        }
        Ok(())
    }
}

impl Kind {
    /// Kinds answered by picking options.
    pub fn is_choice(self) -> bool {
        matches!(self, Kind::Choice | Kind::Multichoice)
    }

    /// Kinds answered by typing free text (where `maxLength` applies).
    pub fn is_text(self) -> bool {
        matches!(self, Kind::Text | Kind::Email | Kind::Tel | Kind::Url)
    }
}

impl Question {
    /// The longest accepted typed answer (or "Other" text), in characters.
    pub fn max_chars(&self) -> u32 {
        self.max_length.unwrap_or(DEFAULT_MAX_LENGTH)
    }

    /// The option with this value.
    pub fn option(&self, value: &str) -> Option<&Choice> {
        self.options.iter().find(|o| o.value == value)
    }

    fn validate_at(&self, qp: &str) -> Result<(), ConfigError> {
        validate_text(&self.prompt, &format!("{qp}.prompt"))?;
        if let Some(why) = &self.why {
            validate_text(why, &format!("{qp}.why"))?;
        }
        if self.kind.is_choice() {
            if self.options.is_empty() {
                return Err(ConfigError::new(
                    format!("{qp}.options"),
                    "must not be empty",
                ));
            }
            for (oi, opt) in self.options.iter().enumerate() {
                let op = format!("{qp}.options[{oi}]");
                if opt.value.trim().is_empty() {
                    return Err(ConfigError::new(format!("{op}.value"), "must not be empty"));
                }
                if let Some(first) = self.options[..oi].iter().position(|o| o.value == opt.value) {
                    return Err(ConfigError::new(
                        format!("{op}.value"),
                        format!(
                            "duplicate option value \"{}\" (also options[{first}])",
                            opt.value
                        ),
                    ));
                }
                validate_text(&opt.label, &format!("{op}.label"))?;
            }
        } else {
            let kind = kind_name(self.kind);
            if !self.options.is_empty() {
                return Err(ConfigError::new(
                    format!("{qp}.options"),
                    format!("only choice and multichoice questions have options, this is {kind}"),
                ));
            }
            if self.allow_other {
                return Err(ConfigError::new(
                    format!("{qp}.allowOther"),
                    format!(
                        "only choice and multichoice questions allow \"Other\", this is {kind}"
                    ),
                ));
            }
        }
        if let Some(max) = self.max_length {
            let mp = format!("{qp}.maxLength");
            // maxLength limits typed text: text kinds, and the "Other" box of choices.
            if !(self.kind.is_text() || (self.kind.is_choice() && self.allow_other)) {
                return Err(ConfigError::new(
                    mp,
                    format!(
                        "only text kinds and choices with allowOther take maxLength, this is {}",
                        kind_name(self.kind)
                    ),
                ));
            }
            if !(1..=MAX_MAX_LENGTH).contains(&max) {
                return Err(ConfigError::new(
                    mp,
                    format!("must be between 1 and {MAX_MAX_LENGTH}, got {max}"),
                ));
            }
        }
        Ok(())
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "text",
        Kind::Email => "email",
        Kind::Tel => "tel",
        Kind::Url => "url",
        Kind::Number => "number",
        Kind::Date => "date",
        Kind::Choice => "choice",
        Kind::Multichoice => "multichoice",
    }
}

fn validate_text(text: &Text, path: &str) -> Result<(), ConfigError> {
    match text {
        Text::Plain(s) => {
            if s.trim().is_empty() {
                return Err(ConfigError::new(path, "must not be empty"));
            }
        }
        Text::Translated(map) => {
            if map.is_empty() {
                return Err(ConfigError::new(path, "needs at least one translation"));
            }
            for (locale, s) in map {
                let p = format!("{path}.{locale}");
                if !crate::i18n::is_valid_tag(locale) {
                    return Err(ConfigError::new(
                        p,
                        format!("\"{locale}\" is not a BCP 47 language tag"),
                    ));
                }
                if s.trim().is_empty() {
                    return Err(ConfigError::new(p, "must not be empty"));
                }
            }
        }
    }
    Ok(())
}

/// `a` is a strict dot-path prefix of `b` (`company` of `company.name`).
fn is_path_prefix(a: &str, b: &str) -> bool {
    b.len() > a.len() && b.starts_with(a) && b.as_bytes()[a.len()] == b'.'
}

fn validate_field_path(field: &str) -> Result<(), String> {
    if field.is_empty() {
        return Err("must not be empty".into());
    }
    for seg in field.split('.') {
        if seg.is_empty() {
            return Err(format!("\"{field}\" is not a dot path (empty segment)"));
        }
        if seg.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("\"{field}\" must not contain spaces"));
        }
    }
    Ok(())
}

// Hand-rolled instead of the `url` crate: that crate (with idna) adds tens of KB
// to the wasm, and the rule here is only "https, a path, or local http".
fn validate_endpoint(endpoint: &str) -> Result<(), String> {
    if endpoint.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must not contain spaces".into());
    }
    if endpoint.starts_with("//") {
        return Err("must be an https:// URL or a path starting with /".into());
    }
    if endpoint.starts_with('/') {
        return Ok(());
    }
    let lower = endpoint.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("must be an https:// URL or a path starting with /".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("must not contain credentials".into());
    }
    let host = host_of(authority).ok_or_else(|| "has no valid host".to_owned())?;
    if !secure && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Err("http:// is only allowed for localhost and 127.0.0.1; use https://".into());
    }
    Ok(())
}

/// The host of `host[:port]`, if both parts are well formed.
pub(crate) fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (h, rest) = authority.split_at(end + 1);
        if !h[1..h.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        (h, rest.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    if host.is_empty() {
        return None;
    }
    if !host.starts_with('[') {
        let ok_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !host.split('.').all(ok_label) {
            return None;
        }
    }
    Some(host)
}

/// RFC 9110 token characters.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

// The accent ends up in a CSS custom property inside the shadow root; allowing
// only hex colours means a config can never smuggle other CSS through it.
fn is_hex_colour(s: &str) -> bool {
    s.strip_prefix('#')
        .is_some_and(|h| (h.len() == 3 || h.len() == 6) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}
