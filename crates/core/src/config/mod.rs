//! The widget config (contract section 1): typed, unknown keys rejected, then
//! validated. Every error names the path of the bad value.
//!
//! - this module: the config's types and lookups;
//! - `parse`: the hand-written reader of the config and the user, with serde's
//!   path-named errors;
//! - `validate`: the pass that checks what the types cannot (ids, options, ranges);
//! - `net`: endpoint URLs and request headers;
//! - `text`: user-facing [`Text`] and its translations;
//! - `error`: [`ConfigError`], [`UserError`] and the path-named serde errors.

use serde::{Deserialize, Serialize};

use crate::sorted::Map;

pub(crate) mod error;
mod net;
mod parse;
mod text;
mod validate;

pub(crate) use error::{json_value, parse_value};
pub use error::{ConfigError, UserError};
pub(crate) use net::host_of;
pub use net::is_sendable_header_value;
pub use text::Text;

/// A parsed and validated widget config.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Where answers are posted: an https URL, a path on the page's origin, or an
    /// http URL on localhost / 127.0.0.1.
    pub endpoint: String,
    /// Extra request headers sent with every post; values hold only characters a
    /// browser can send (no control characters but tab, nothing above U+00FF).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "std::collections::BTreeMap<String, String>")
    )]
    pub headers: Map<String>,
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
    /// (v2) What the user agreed to, as the host knows it; `marketing: false`
    /// closes every question with `purpose: "marketing"` (reason `no-consent`).
    // Not an `Option`: an absent `consent` and an empty one mean the same (not
    // asked), and one optional struct fewer to read is fewer bytes of wasm.
    #[serde(default, skip_serializing_if = "Consent::is_empty")]
    pub consent: Consent,
}

impl User {
    /// The user's `consent.marketing`: `None` when not given.
    pub fn marketing_consent(&self) -> Option<bool> {
        self.consent.marketing
    }

    /// The user said no to marketing (`consent.marketing: false`). Not having been
    /// asked (no `consent`, or no `marketing` in it) is not a no.
    pub fn refused_marketing(&self) -> bool {
        self.marketing_consent() == Some(false)
    }
}

/// What the user agreed to (contract sections 1 and 3, v2). Posted back in the
/// envelope's `context.consent`, so a receiver can keep such answers from its
/// marketing tools.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    /// Marketing use of their answers; `false`: no marketing question is asked and
    /// no marketing sink gets their answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<bool>,
}

impl Consent {
    /// Nothing was given (left out when written back).
    pub fn is_empty(&self) -> bool {
        self.marketing.is_none()
    }
}

// Written by hand (a map with one known key) when the wasm still read configs
// through serde, where the derived struct deserializer, which also reads a struct
// written as an array, measured about 1 KB; now the envelope's `context.consent`
// and the tests of `parse` use it, and its words are kept. Unknown keys are refused as the derived one would (`consent.x: unknown key`), and a bad
// value is reported at its own path (`consent.marketing: invalid type ...`).
impl<'de> Deserialize<'de> for Consent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConsentVisitor;

        impl<'de> serde::de::Visitor<'de> for ConsentVisitor {
            type Value = Consent;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object like { \"marketing\": false }")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Consent, A::Error> {
                let mut consent = Consent::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key != "marketing" {
                        return Err(serde::de::Error::unknown_field(&key, &["marketing"]));
                    }
                    consent.marketing = map.next_value()?;
                }
                Ok(consent)
            }
        }

        deserializer.deserialize_map(ConsentVisitor)
    }
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
    /// (v2) What the answer is for: `marketing` questions are not asked without
    /// the user's consent or under Global Privacy Control.
    #[serde(default, skip_serializing_if = "Purpose::is_profile")]
    pub purpose: Purpose,
    /// (v2) Kind text only: offer a guess to confirm instead of asking to type.
    // Not an `Option`: one more optional type to read measured about 0.4 KB of
    // the wasm.
    #[serde(default, skip_serializing_if = "Suggest::is_off")]
    pub suggest: Suggest,
}

/// What a question's answer is used for (contract section 1, v2).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Completing the profile (the default).
    #[default]
    Profile,
    /// Marketing: asked only with the user's consent and without Global Privacy
    /// Control (contract section 2).
    Marketing,
}

impl Purpose {
    /// The default purpose (left out when the config is written back).
    pub fn is_profile(&self) -> bool {
        *self == Purpose::Profile
    }
}

/// Whether and from where a question offers a suggested answer (contract
/// section 5, v2).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Suggest {
    /// No suggestion: the question is asked (the default; not a config value).
    #[default]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Off,
    /// The company of the user's work email: `grace@northwind.example` suggests
    /// "Northwind" (see [`crate::suggest`]).
    EmailDomain,
}

impl Suggest {
    /// No suggestion (left out when the config is written back).
    pub fn is_off(&self) -> bool {
        *self == Suggest::Off
    }
}

// Purpose and Suggest are deserialized by hand, from a string, through one visitor
// (written when the wasm still read configs through serde: the two derived enum
// deserializers measured about 1 KB for three names; `parse` keeps the words). The error is serde's own ("unknown variant `x`, expected `profile` or
// `marketing`"), raised inside the visitor so the path-naming deserializer places
// it at the key.
struct Named(&'static [&'static str]);

impl serde::de::Visitor<'_> for Named {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|name| *name == v)
            .ok_or_else(|| E::unknown_variant(v, self.0))
    }
}

impl<'de> Deserialize<'de> for Purpose {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_str(Named(&["profile", "marketing"]))? {
            0 => Purpose::Profile,
            _ => Purpose::Marketing,
        })
    }
}

impl<'de> Deserialize<'de> for Suggest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Named(&["emailDomain"]))?;
        Ok(Suggest::EmailDomain)
    }
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
    /// Every question with its stage, in config order.
    ///
    /// (The crate's own walks over the questions are nested loops instead: each
    /// use of this `flat_map` compiled its own iterator code into the wasm.)
    pub fn questions(&self) -> impl Iterator<Item = (&Stage, &Question)> {
        self.stages
            .iter()
            .flat_map(|s| s.questions.iter().map(move |q| (s, q)))
    }

    /// The question with this id, with its stage.
    pub fn question(&self, id: &str) -> Option<(&Stage, &Question)> {
        self.first_question(&|q| q.id == id)
    }

    /// The question that fills this profile field, with its stage.
    pub fn question_for_field(&self, field: &str) -> Option<(&Stage, &Question)> {
        self.first_question(&|q| q.field == field)
    }

    /// The first question, in config order, that `test` accepts, with its stage.
    pub(crate) fn first_question(
        &self,
        test: &dyn Fn(&Question) -> bool,
    ) -> Option<(&Stage, &Question)> {
        for stage in &self.stages {
            for q in &stage.questions {
                if test(q) {
                    return Some((stage, q));
                }
            }
        }
        None
    }

    /// The stage with this id.
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }
}

impl Kind {
    /// Every kind, in the order the config's error messages list their names.
    pub(crate) const ALL: [Kind; 8] = [
        Kind::Text,
        Kind::Email,
        Kind::Tel,
        Kind::Url,
        Kind::Number,
        Kind::Date,
        Kind::Choice,
        Kind::Multichoice,
    ];

    /// The names of [`Kind::ALL`], in its order (what the config's reader accepts).
    pub(crate) const NAMES: [&'static str; 8] = {
        let mut names = [""; 8];
        let mut i = 0;
        while i < names.len() {
            names[i] = Kind::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The kind's name in the config (`"multichoice"`).
    pub const fn name(self) -> &'static str {
        match self {
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
}
