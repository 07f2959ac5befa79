//! The config and user errors, and the path-named serde errors of the documents
//! still read through serde (the collector's envelope; the config and the user are
//! read by `super::parse`, in the same words).

/// A config error: the path of the bad value and what is wrong.
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

/// A user error (`identify(user)`, or `User::from_json`): the path of the bad
/// value, relative to the user object (`loginsCount`), and what is wrong.
///
/// Displays like [`ConfigError`]: `path: message`, or the message alone for the
/// whole user (`the user must be a JSON object`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_error(.path, .message))]
pub struct UserError {
    /// Dot path of the bad value (`userHash`); empty for the whole user.
    pub path: String,
    /// What is wrong, in English.
    pub message: String,
}

impl UserError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

// A user inside a config is reported at `user.<path>` as part of the config.
impl From<UserError> for ConfigError {
    fn from(e: UserError) -> Self {
        ConfigError::new(e.path, e.message)
    }
}

/// `path: message`, or the message alone for the whole document.
pub(crate) fn display_error(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_owned()
    } else {
        crate::text::concat(&[path, ": ", message])
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

    /// The path and message, for the error types of other documents (user,
    /// envelope) that share the parsing and its wording.
    pub(crate) fn into_parts(self) -> (String, String) {
        (self.path, self.message)
    }

    /// Converts a serde error found at `path` (as `crate::de` names it) into a
    /// `ConfigError` with a friendlier message.
    pub(crate) fn from_serde(mut path: String, err: &crate::de::Error) -> Self {
        let mut message = err.message().to_owned();
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

pub(super) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Deserializes `T` from a JSON value with path-named errors (the envelope; and
/// the derived readers that the tests hold `super::parse` to).
pub(crate) fn parse_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ConfigError> {
    crate::de::from_value(value).map_err(|(path, e)| ConfigError::from_serde(path, &e))
}

/// Parses JSON text into a value; only syntax errors happen here.
pub(crate) fn json_value(json: &str) -> Result<serde_json::Value, ConfigError> {
    serde_json::from_str(json).map_err(|e| ConfigError::new("", format!("invalid JSON: {e}")))
}
