//! Reading the config and posted envelopes, with errors that name the path of the
//! bad value. The rules themselves live in `trickle-core`, so the collector and the
//! widget accept exactly the same answers.

use trickle_core::answer::{normalize_envelope, Envelope, Status};
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
    Config::from_json(text).map_err(invalid)
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
                Err(core) => Err(BodyError::Shape(invalid(core))),
                // Cannot happen (same type, same input); refuse rather than guess.
                Ok(_) => Err(BodyError::Shape(Invalid {
                    path: ".".into(),
                    message: e.to_string(),
                })),
            }
        }
    }
}

fn invalid(e: ConfigError) -> Invalid {
    let path = if e.path.is_empty() {
        ".".to_owned()
    } else {
        e.path
    };
    Invalid {
        path,
        message: e.message,
    }
}

/// Checks every answer of `env` against `config` with `trickle-core` (unknown
/// question, stage, field or option, a value of the wrong kind, a bad timestamp)
/// and returns the answers ready to store: values normalised as the widget
/// normalises them, `answeredAt` in canonical UTC so it orders as text.
pub fn check_answers(config: &Config, env: &Envelope) -> Result<Vec<StoredAnswer>, Invalid> {
    let normalised = normalize_envelope(config, env).map_err(invalid)?;
    let mut out = Vec::with_capacity(normalised.answers.len());
    for (index, answer) in normalised.answers.into_iter().enumerate() {
        let answered_at = canonical_utc(&answer.answered_at).ok_or_else(|| Invalid {
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

/// An RFC 3339 timestamp (already checked by the core's `is_timestamp`) as UTC
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, so that text order is time order whatever offset
/// the client used.
pub fn canonical_utc(ts: &str) -> Option<String> {
    let b = ts.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> { ts.get(from..from + len)?.parse().ok() };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        // Milliseconds: the first three digits, right-padded ("5" is 500 ms).
        let digits = &ts[start..i];
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse().ok()?;
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let minutes = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    // An offset can push a year-0001 or year-9999 instant out of that range.
    let range = days_from_civil(1, 1, 1) * 86_400..days_from_civil(10_000, 1, 1) * 86_400;
    range
        .contains(&secs)
        .then(|| crate::store::format_rfc3339(secs, millis as u32))
}

// Howard Hinnant's days_from_civil: days since 1970-01-01.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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

    #[test]
    fn timestamps_become_canonical_utc_with_milliseconds() {
        assert_eq!(
            canonical_utc("2026-11-30T15:00:00.000Z").as_deref(),
            Some("2026-11-30T15:00:00.000Z")
        );
        assert_eq!(
            canonical_utc("2026-11-30T15:00:00Z").as_deref(),
            Some("2026-11-30T15:00:00.000Z")
        );
        assert_eq!(
            canonical_utc("2026-11-30T15:00:00.5Z").as_deref(),
            Some("2026-11-30T15:00:00.500Z")
        );
        assert_eq!(
            canonical_utc("2026-11-30T15:00:00.123456Z").as_deref(),
            Some("2026-11-30T15:00:00.123Z")
        );
        assert_eq!(
            canonical_utc("2026-12-01T01:30:00+02:00").as_deref(),
            Some("2026-11-30T23:30:00.000Z")
        );
        assert_eq!(
            canonical_utc("2024-02-28T23:00:00-01:00").as_deref(),
            Some("2024-02-29T00:00:00.000Z")
        );
        assert_eq!(canonical_utc("0001-01-01T00:00:00+01:00"), None);
        assert_eq!(canonical_utc("garbage"), None);
    }
}
