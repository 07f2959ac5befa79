//! Reading the config and posted envelopes, with errors that name the path of the
//! bad value. The rules themselves live in `trickle-core`, so the collector and the
//! widget accept exactly the same answers.

use trickle_core::answer::{normalize_envelope, Envelope, EnvelopeError, Status};
use trickle_core::config::{Config, ConfigError};

use crate::profile::{value_to_json, StoredAnswer};

/// A value that is not acceptable, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Path of the bad value, e.g. `answers[1].field` (`.` for the whole document).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a posted body was refused before its answers were looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON at all (400).
    Syntax(String),
    /// JSON, but not an envelope (422).
    Shape(Invalid),
}

/// Parses and validates the config file's text with the widget's own rules.
pub fn load_config(text: &str) -> Result<Config, Invalid> {
    Config::from_json(text).map_err(|ConfigError { path, message }| invalid(path, message))
}

/// Parses a posted body into an envelope. Not JSON at all is a syntax error; JSON
/// that is not an envelope is refused by `trickle-core` with the path named.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, BodyError> {
    // Fast path: one pass straight into the core's type (same Deserialize impl the
    // core uses). Only a refused body pays for the core's path-tracking parse,
    // which words the 422 (`answers[0].status: ...`).
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => Ok(envelope),
        Err(e) if !e.is_data() => Err(BodyError::Syntax(format!("invalid JSON: {e}"))),
        Err(e) => {
            let text = std::str::from_utf8(body)
                .map_err(|u| BodyError::Syntax(format!("invalid UTF-8: {u}")))?;
            match Envelope::from_json(text) {
                Err(EnvelopeError { path, message }) => {
                    Err(BodyError::Shape(invalid(path, message)))
                }
                // Cannot happen (same type, same input); refuse rather than guess.
                Ok(_) => Err(BodyError::Shape(Invalid {
                    path: ".".into(),
                    message: e.to_string(),
                })),
            }
        }
    }
}

/// A core error's path and message; the whole document is `.`.
fn invalid(path: String, message: String) -> Invalid {
    let path = if path.is_empty() {
        ".".to_owned()
    } else {
        path
    };
    Invalid { path, message }
}

/// Checks every answer of `env` against `config` with `trickle-core` (unknown
/// question, stage, field or option, a value of the wrong kind, a bad timestamp)
/// and returns the answers ready to store: values normalised as the widget
/// normalises them, `answeredAt` in canonical UTC so it orders as text.
pub fn check_answers(config: &Config, env: &Envelope) -> Result<Vec<StoredAnswer>, Invalid> {
    let normalised = normalize_envelope(config, env)
        .map_err(|EnvelopeError { path, message }| invalid(path, message))?;
    let mut out = Vec::with_capacity(normalised.answers.len());
    for (index, answer) in normalised.answers.into_iter().enumerate() {
        let answered_at =
            crate::timestamp::canonical_utc(&answer.answered_at).ok_or_else(|| Invalid {
                path: format!("answers[{index}].answeredAt"),
                message: "must be an RFC 3339 timestamp between years 0001 and 9999".into(),
            })?;
        out.push(StoredAnswer {
            value: match answer.status {
                Status::Answered => answer.value.as_ref().map(value_to_json),
                _ => None,
            },
            id: answer.id,
            question_id: answer.question_id,
            stage: answer.stage,
            field: answer.field,
            status: answer.status,
            other: answer.other,
            answered_at,
            logins_count: answer.logins_count,
        });
    }
    Ok(out)
}

/// Every configured field, in config order (the export's columns).
pub fn fields(config: &Config) -> Vec<String> {
    config.questions().map(|(_, q)| q.field.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_json_is_a_syntax_error_and_a_wrong_shape_names_its_path() {
        assert!(matches!(
            parse_envelope(b"{\"userId\": "),
            Err(BodyError::Syntax(_))
        ));
        assert!(matches!(
            parse_envelope(b"not json"),
            Err(BodyError::Syntax(_))
        ));
        let valid = br#"{"userId":"u","answers":[],"context":{"url":"https://x","locale":"en","widget":"t"}}"#;
        assert!(parse_envelope(valid).is_ok());
        let mut trailing = valid.to_vec();
        trailing.extend_from_slice(b" {}");
        assert!(matches!(
            parse_envelope(&trailing),
            Err(BodyError::Syntax(_))
        ));
        let body = br#"{"userId":"u","answers":[{"id":"a","questionId":"q","stage":"s","field":"f",
            "status":"maybe","answeredAt":"2026-11-30T15:00:00.000Z","loginsCount":1}],
            "context":{"url":"https://x","locale":"en","widget":"trickle/0.1.0"}}"#;
        let Err(BodyError::Shape(invalid)) = parse_envelope(body) else {
            panic!("expected a shape error");
        };
        assert_eq!(invalid.path, "answers[0].status");
        assert!(
            !invalid.message.contains(" at line "),
            "{}",
            invalid.message
        );
    }
}
