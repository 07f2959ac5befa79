//! The envelope posted to the endpoint and its check against a config.

use serde::{Deserialize, Serialize};

use super::{check_value, is_timestamp, Value, ValueError};
use crate::config::error::display_error;
use crate::config::{json_value, parse_value, Config, ConfigError};
use crate::json::{write_list, Object};

/// What `POST {endpoint}` carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// The host's user id.
    pub user_id: String,
    /// Hex HMAC-SHA256(secret, userId), when the host provides one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
    /// One or more answers of this user.
    pub answers: Vec<Answer>,
    /// Where and by what the answers were given.
    pub context: Context,
}

/// One answer, decline or snooze. `id` is the idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Answer {
    /// A random UUID made when the user answered; never changes across retries.
    pub id: String,
    /// The question answered.
    pub question_id: String,
    /// The stage the question belongs to.
    pub stage: String,
    /// The profile field (dot path) the answer fills.
    pub field: String,
    /// Answered, declined or snoozed.
    pub status: Status,
    /// The value; present only when answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The value is free text typed under "Other".
    #[serde(default)]
    pub other: bool,
    /// (v2) The user confirmed a value the widget suggested (contract section 5)
    /// instead of typing it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suggested: bool,
    /// When the user answered, RFC 3339 UTC (`2026-11-30T15:00:00.000Z`).
    pub answered_at: String,
    /// The user's loginsCount when they answered.
    pub logins_count: u32,
}

impl Envelope {
    /// The request body: JSON text, as `Serialize` writes it.
    pub fn to_json(&self) -> String {
        envelope_json(
            &self.user_id,
            self.user_hash.as_deref(),
            &self.answers,
            &self.context,
        )
    }
}

/// The JSON text of an envelope with these members, for [`Envelope::to_json`]
/// and for a batch's body written straight from the batch
/// ([`crate::outbox::Batch::body`]), without an `Envelope` of copies.
pub(crate) fn envelope_json(
    user_id: &str,
    user_hash: Option<&str>,
    answers: &[Answer],
    context: &Context,
) -> String {
    let mut out = String::new();
    let mut o = Object::new(&mut out);
    o.str("userId", user_id);
    o.opt_str("userHash", user_hash);
    write_list(o.key("answers"), answers, Answer::write_json);
    context.write_json(o.key("context"));
    o.end();
    out
}

impl Answer {
    /// Writes the answer as JSON text, as its `Serialize` does.
    pub fn write_json(&self, out: &mut String) {
        let mut o = Object::new(out);
        o.str("id", &self.id);
        o.str("questionId", &self.question_id);
        o.str("stage", &self.stage);
        o.str("field", &self.field);
        o.str("status", self.status.as_str());
        if let Some(value) = &self.value {
            value.write_json(o.key("value"));
        }
        o.bool("other", self.other);
        if self.suggested {
            o.bool("suggested", true);
        }
        o.str("answeredAt", &self.answered_at);
        o.u64("loginsCount", u64::from(self.logins_count));
        o.end();
    }
}

/// What the user did with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Gave a value.
    Answered,
    /// Chose "Prefer not to say"; the field is never asked again.
    Declined,
    /// Chose "Not now" (or Close / Escape).
    Snoozed,
}

impl Status {
    /// The stored and posted name (`"answered"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Answered => "answered",
            Status::Declined => "declined",
            Status::Snoozed => "snoozed",
        }
    }
}

/// Where and by what an envelope was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Context {
    /// The page URL.
    pub url: String,
    /// The widget's locale.
    pub locale: String,
    /// `trickle/<version>`.
    pub widget: String,
    /// (v2) The browser sent Global Privacy Control (`navigator.globalPrivacyControl`):
    /// sinks marked `marketing` never get these answers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gpc: bool,
    /// (v2) The user's consent, as the host passed it with the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
}

impl Context {
    /// Writes the context as JSON text, as its `Serialize` does.
    pub fn write_json(&self, out: &mut String) {
        let mut o = Object::new(out);
        o.str("url", &self.url);
        o.str("locale", &self.locale);
        o.str("widget", &self.widget);
        if self.gpc {
            o.bool("gpc", true);
        }
        if let Some(consent) = &self.consent {
            let mut c = Object::new(o.key("consent"));
            if let Some(marketing) = consent.marketing {
                c.bool("marketing", marketing);
            }
            c.end();
        }
        o.end();
    }
}

/// The user's consent, as given with the user (`user.consent`).
pub use crate::config::Consent;

/// Why a posted envelope was refused: the path of the bad value (`answers[1].field`)
/// and what is wrong, for the collector's 422.
///
/// Displays as `path: message`, or the message alone for the whole body
/// (`the body must be a JSON object`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_error(.path, .message))]
pub struct EnvelopeError {
    /// Dot/bracket path of the bad value (`answers[0].status`); empty for the
    /// whole body.
    pub path: String,
    /// What is wrong, in English.
    pub message: String,
}

impl EnvelopeError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    // The envelope is parsed with the config's path-naming serde wrapper, so its
    // parse errors arrive as config errors and keep their wording.
    fn from_config(e: ConfigError) -> Self {
        let (path, message) = e.into_parts();
        Self::new(path, message)
    }
}

/// Most answers one envelope may carry (the widget sends far fewer per batch).
pub const MAX_ANSWERS_PER_ENVELOPE: usize = 100;

impl Envelope {
    /// Parses an envelope from JSON text; errors name the path (`answers[0].status`).
    /// Does not check it against a config: see [`check_envelope`].
    pub fn from_json(json: &str) -> Result<Envelope, EnvelopeError> {
        let value = json_value(json).map_err(EnvelopeError::from_config)?;
        if !value.is_object() {
            return Err(EnvelopeError::new("", "the body must be a JSON object"));
        }
        parse_value(value).map_err(EnvelopeError::from_config)
    }
}

/// Checks a posted envelope against the config: the questions exist, stage and
/// field match, statuses fit, every answered value passes [`check_value`]. Errors
/// name the path (`answers[1].field: ...`), for the collector's 422.
pub fn check_envelope(config: &Config, env: &Envelope) -> Result<(), EnvelopeError> {
    normalize_envelope(config, env).map(|_| ())
}

/// [`check_envelope`], returning the envelope with every value normalized as
/// [`check_value`] does (what a receiver should store).
pub fn normalize_envelope(config: &Config, env: &Envelope) -> Result<Envelope, EnvelopeError> {
    if env.user_id.trim().is_empty() {
        return Err(EnvelopeError::new("userId", "must not be empty"));
    }
    // userHash is not checked here: a receiver with a secret verifies it as an
    // HMAC (401), one without ignores it.
    if env.answers.is_empty() {
        return Err(EnvelopeError::new("answers", "must not be empty"));
    }
    if env.answers.len() > MAX_ANSWERS_PER_ENVELOPE {
        return Err(EnvelopeError::new(
            "answers",
            format!("at most {MAX_ANSWERS_PER_ENVELOPE} answers per request"),
        ));
    }
    let mut out = env.clone();
    for (i, answer) in out.answers.iter_mut().enumerate() {
        let at = |key: &str| format!("answers[{i}].{key}");
        if answer.id.is_empty()
            || answer.id.len() > 100
            || answer
                .id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(EnvelopeError::new(
                at("id"),
                "must be a non-empty id without spaces, at most 100 characters",
            ));
        }
        let Some((stage, question)) = config.question(&answer.question_id) else {
            return Err(EnvelopeError::new(
                at("questionId"),
                format!("unknown question \"{}\"", answer.question_id),
            ));
        };
        if answer.stage != stage.id {
            return Err(EnvelopeError::new(
                at("stage"),
                format!(
                    "question \"{}\" is in stage \"{}\", not \"{}\"",
                    question.id, stage.id, answer.stage
                ),
            ));
        }
        if answer.field != question.field {
            return Err(EnvelopeError::new(
                at("field"),
                format!(
                    "question \"{}\" fills \"{}\", not \"{}\"",
                    question.id, question.field, answer.field
                ),
            ));
        }
        if !is_timestamp(&answer.answered_at) {
            return Err(EnvelopeError::new(
                at("answeredAt"),
                "must be an RFC 3339 timestamp like 2026-11-30T15:00:00.000Z",
            ));
        }
        match answer.status {
            Status::Answered => {
                let Some(value) = &answer.value else {
                    return Err(EnvelopeError::new(
                        at("value"),
                        "is required when status is answered",
                    ));
                };
                let checked = check_value(question, value, answer.other).map_err(|e| {
                    let key = if matches!(e, ValueError::Other(_)) {
                        "other"
                    } else {
                        "value"
                    };
                    EnvelopeError::new(at(key), e.to_string())
                })?;
                answer.value = Some(checked);
            }
            status => {
                if answer.value.is_some() {
                    return Err(EnvelopeError::new(
                        at("value"),
                        "only answered answers carry a value",
                    ));
                }
                if answer.other {
                    return Err(EnvelopeError::new(
                        at("other"),
                        "only answered answers can be \"Other\" text",
                    ));
                }
                if answer.suggested {
                    return Err(EnvelopeError::new(
                        at("suggested"),
                        "only answered answers can be suggested",
                    ));
                }
                if status == Status::Declined && !question.declinable {
                    return Err(EnvelopeError::new(
                        at("status"),
                        format!("question \"{}\" is not declinable", question.id),
                    ));
                }
            }
        }
    }
    Ok(out)
}
