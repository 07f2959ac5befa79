//! Reading the config and posted envelopes, with errors that name the path of the
//! bad value. The rules themselves live in `trickle-core`, so the collector and the
//! widget accept exactly the same answers.

use serde::de::DeserializeOwned;
use trickle_core::answer::{Envelope, Status};
use trickle_core::config::Config;

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
    Config::from_json(text).map_err(|e| Invalid { path: e.path, message: e.message })
}

/// Parses a posted body into an envelope, naming the path of a misshapen value.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, BodyError> {
    parse_json(body)
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => Invalid { path, message: strip_position(&inner) }.into(),
            _ => BodyError::Syntax(inner.to_string()),
        }
    })?;
    // Trailing garbage after the document is a syntax error too.
    de.end().map_err(|e| BodyError::Syntax(e.to_string()))?;
    Ok(value)
}

impl From<Invalid> for BodyError {
    fn from(invalid: Invalid) -> Self {
        BodyError::Shape(invalid)
    }
}

// serde_json appends " at line 1 column 57"; the path already says where.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Checks every answer of `env` against `config` (unknown question, field, stage or
/// option, a value of the wrong kind) and returns the answers ready to store, with
/// values normalised the way the widget normalises them.
pub fn check_answers(config: &Config, env: &Envelope) -> Result<Vec<StoredAnswer>, Invalid> {
    crate::compat::check_envelope(config, env).map_err(|e| Invalid { path: e.path, message: e.message })?;
    let mut out = Vec::with_capacity(env.answers.len());
    for (index, answer) in env.answers.iter().enumerate() {
        let value = match (answer.status, &answer.value) {
            (Status::Answered, Some(value)) => {
                let Some((_, question)) = config.question(&answer.question_id) else {
                    return Err(Invalid {
                        path: format!("answers[{index}].questionId"),
                        message: format!("unknown question {:?}", answer.question_id),
                    });
                };
                let normalised = crate::compat::check_value(question, value, answer.other).map_err(|e| Invalid {
                    path: format!("answers[{index}].value"),
                    message: e,
                })?;
                Some(value_to_json(&normalised))
            }
            _ => None,
        };
        out.push(StoredAnswer {
            id: answer.id.clone(),
            question_id: answer.question_id.clone(),
            stage: answer.stage.clone(),
            field: answer.field.clone(),
            status: answer.status,
            value,
            other: answer.other,
            answered_at: answer.answered_at.clone(),
            logins_count: answer.logins_count,
        });
    }
    Ok(out)
}

/// Every configured field, in config order (the export's columns).
pub fn fields(config: &Config) -> Vec<String> {
    config.stages.iter().flat_map(|stage| stage.questions.iter().map(|q| q.field.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_json_is_a_syntax_error_and_a_wrong_shape_names_its_path() {
        assert!(matches!(parse_envelope(b"{\"userId\": "), Err(BodyError::Syntax(_))));
        assert!(matches!(parse_envelope(b"not json"), Err(BodyError::Syntax(_))));
        let valid = br#"{"userId":"u","answers":[],"context":{"url":"https://x","locale":"en","widget":"t"}}"#;
        assert!(parse_envelope(valid).is_ok());
        let mut trailing = valid.to_vec();
        trailing.extend_from_slice(b" {}");
        assert!(matches!(parse_envelope(&trailing), Err(BodyError::Syntax(_))));
        let body = br#"{"userId":"u","answers":[{"id":"a","questionId":"q","stage":"s","field":"f",
            "status":"maybe","answeredAt":"2026-11-30T15:00:00.000Z","loginsCount":1}],
            "context":{"url":"https://x","locale":"en","widget":"trickle/0.1.0"}}"#;
        let Err(BodyError::Shape(invalid)) = parse_envelope(body) else {
            panic!("expected a shape error");
        };
        assert_eq!(invalid.path, "answers[0].status");
        assert!(!invalid.message.contains(" at line "), "{}", invalid.message);
    }
}
