//! The widget config (contract section 1): typed, unknown keys rejected, then
//! validated. Every error names the path of the bad value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A parsed and validated widget config.
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
    /// The question stages, asked in this order.
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
    pub profile: serde_json::Value,
    /// Hex HMAC-SHA256(secret, id), computed by the host's server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A group of questions that becomes due at a login count or on an event.
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
    pub questions: Vec<Question>,
}

/// One profile question.
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
    pub max_length: Option<u32>,
}

/// The kinds of question of contract section 1.
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Choice {
    /// What is stored; unique within the question.
    pub value: String,
    /// What the user sees.
    pub label: Text,
}

/// User-facing text: one string, or one per locale (`{ "en": "...", "de": "..." }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    /// The same text for every locale.
    Plain(String),
    /// Text per BCP 47 locale.
    Translated(BTreeMap<String, String>),
}

/// How often questions may be shown (contract section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cadence {
    /// How many questions one login may show in total.
    #[serde(default = "default_max_questions")]
    pub max_questions_per_login: u32,
    /// "Not now" hides the stage until loginsCount grows by this much.
    #[serde(default = "default_snooze")]
    pub snooze_logins: u32,
    /// A question shown this often without an answer is not asked again.
    #[serde(default = "default_max_asks")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Theme {
    /// Accent colour, `#rgb` or `#rrggbb`.
    #[serde(default = "default_accent")]
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
        Self { accent: default_accent(), color_scheme: ColorScheme::default() }
    }
}

/// The popup's colour scheme.
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
