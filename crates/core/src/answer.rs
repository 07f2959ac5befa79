//! Answers and the envelope posted to the endpoint (contract section 3).

use serde::{Deserialize, Serialize};

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
    /// When the user answered, RFC 3339 UTC (`2026-11-30T15:00:00.000Z`).
    pub answered_at: String,
    /// The user's loginsCount when they answered.
    pub logins_count: u32,
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

/// An answered value: a string (text kinds, choice, ISO date), a number, or a list
/// of strings (multichoice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Text kinds, choice, and dates as `YYYY-MM-DD`.
    Text(String),
    /// Kind number.
    Number(f64),
    /// Kind multichoice.
    Many(Vec<String>),
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
}
