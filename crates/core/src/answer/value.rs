//! One answer's value and the per-kind rules it must pass.

use serde::{Deserialize, Serialize};

use super::formats::{is_date, is_email, is_tel, normalize_url};
use super::number::parse_number;
use crate::config::{Kind, Question};
use crate::i18n::Strings;

/// An answered value: a string (text kinds, choice, ISO date), a number, or a list
/// of strings (multichoice).
///
/// Serialized by hand so that a whole number goes out as `42`, not `42.0`, and
/// deserialized by hand so that a wrong shape says what was expected.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text kinds, choice, and dates as `YYYY-MM-DD`.
    Text(String),
    /// Kind number.
    Number(f64),
    /// Kind multichoice.
    Many(Vec<String>),
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(s) => serializer.serialize_str(s),
            Value::Number(n) if is_whole(*n) => serializer.serialize_i64(*n as i64),
            Value::Number(n) => serializer.serialize_f64(*n),
            Value::Many(items) => items.serialize(serializer),
        }
    }
}

impl Value {
    /// Writes the value as JSON text, as its `Serialize` does.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Text(s) => crate::json::write_str(out, s),
            Value::Number(n) if is_whole(*n) => {
                if *n < 0.0 {
                    out.push('-');
                }
                crate::json::write_u64(out, (*n as i64).unsigned_abs());
            }
            // Not whole: the serializer's shortest round-trip text; `null` for what
            // is not finite (which no checked answer is).
            Value::Number(n) => match serde_json::Number::from_f64(*n) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str("null"),
            },
            Value::Many(items) => crate::json::write_strs(out, items),
        }
    }
}

/// Whether `n` goes out without a fraction: whole, and within f64's exact integer
/// range, so `42` round-trips as `42` for receivers that compare JSON.
pub(crate) fn is_whole(n: f64) -> bool {
    n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl<'de> serde::de::Visitor<'de> for ValueVisitor {
            type Value = Value;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, a number or an array of strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Text(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Text(v))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Number(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Number(v as f64))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Number(v as f64))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(Value::Many(items))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Why a value was refused. Each variant maps to one UI string
/// ([`ValueError::message`]); `Display` is an English sentence for logs and the
/// collector's 422 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Nothing was given (empty or only spaces, or no option picked).
    #[error("an answer is required")]
    Required,
    /// Not an email address.
    #[error("not a valid email address")]
    InvalidEmail,
    /// Not a phone number.
    #[error("not a valid phone number")]
    InvalidTel,
    /// Not an http(s) web address.
    #[error("not a valid web address")]
    InvalidUrl,
    /// Not a finite number.
    #[error("not a number")]
    InvalidNumber,
    /// Not a calendar-valid `YYYY-MM-DD` date.
    #[error("not a valid date (YYYY-MM-DD)")]
    InvalidDate,
    /// Longer than the question's `maxLength`, counted in characters.
    #[error("longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: u32,
    },
    /// Not one of the question's option values.
    #[error("\"{value}\" is not one of the options")]
    NotAnOption {
        /// The offending value.
        value: String,
    },
    /// `other: true` on a question without `allowOther`, or more than one free-text
    /// value in a multichoice answer, or none although `other` is set.
    #[error("{0}")]
    Other(&'static str),
    /// A value of the wrong shape for the kind (e.g. a list for a text question).
    #[error("expected {expected}")]
    WrongType {
        /// What the kind takes.
        expected: &'static str,
    },
}

impl ValueError {
    /// The name of the [`Strings`] field that explains this error to the user
    /// (`"invalid_email"`, `"too_long"`, ...).
    pub fn message_key(&self) -> &'static str {
        match self {
            ValueError::Required => "required",
            ValueError::InvalidEmail => "invalid_email",
            ValueError::InvalidTel => "invalid_tel",
            ValueError::InvalidUrl => "invalid_url",
            ValueError::InvalidNumber => "invalid_number",
            ValueError::InvalidDate => "invalid_date",
            ValueError::TooLong { .. } => "too_long",
            ValueError::NotAnOption { .. } => "invalid_choice",
            ValueError::Other(_) | ValueError::WrongType { .. } => "invalid_value",
        }
    }

    /// The user-facing message in the given language.
    pub fn message(&self, strings: &Strings) -> &'static str {
        match self {
            ValueError::Required => strings.required,
            ValueError::InvalidEmail => strings.invalid_email,
            ValueError::InvalidTel => strings.invalid_tel,
            ValueError::InvalidUrl => strings.invalid_url,
            ValueError::InvalidNumber => strings.invalid_number,
            ValueError::InvalidDate => strings.invalid_date,
            ValueError::TooLong { .. } => strings.too_long,
            ValueError::NotAnOption { .. } => strings.invalid_choice,
            ValueError::Other(_) | ValueError::WrongType { .. } => strings.invalid_value,
        }
    }
}

/// Checks an answer to `question` and returns it normalized (trimmed; a number
/// typed as text becomes a number; a URL without scheme gets `https://`;
/// repeated multichoice values are dropped). `other` says the value is free text
/// typed under "Other" (choice kinds with `allowOther` only).
///
/// Shared by the popup (refuses in place) and the collector (422), so both accept
/// exactly the same answers.
pub fn check_value(question: &Question, value: &Value, other: bool) -> Result<Value, ValueError> {
    if other && !(question.kind.is_choice() && question.allow_other) {
        return Err(ValueError::Other("this question has no \"Other\" answer"));
    }
    let max = question.max_chars();
    match question.kind {
        Kind::Text | Kind::Email | Kind::Tel | Kind::Url | Kind::Date => {
            let Value::Text(raw) = value else {
                return Err(ValueError::WrongType {
                    expected: "a string",
                });
            };
            let s = required_text(raw)?;
            match question.kind {
                Kind::Date => {
                    if !is_date(s) {
                        return Err(ValueError::InvalidDate);
                    }
                    Ok(Value::Text(s.to_owned()))
                }
                Kind::Url => {
                    let url = normalize_url(s).ok_or(ValueError::InvalidUrl)?;
                    check_len(&url, max)?;
                    Ok(Value::Text(url))
                }
                kind => {
                    check_len(s, max)?;
                    let ok = match kind {
                        Kind::Email => is_email(s),
                        Kind::Tel => is_tel(s),
                        _ => true,
                    };
                    match (ok, kind) {
                        (true, _) => Ok(Value::Text(s.to_owned())),
                        (false, Kind::Email) => Err(ValueError::InvalidEmail),
                        (false, _) => Err(ValueError::InvalidTel),
                    }
                }
            }
        }
        Kind::Number => match value {
            Value::Number(n) if n.is_finite() => Ok(Value::Number(*n)),
            Value::Number(_) => Err(ValueError::InvalidNumber),
            Value::Text(raw) => parse_number(required_text(raw)?)
                .map(Value::Number)
                .ok_or(ValueError::InvalidNumber),
            Value::Many(_) => Err(ValueError::WrongType {
                expected: "a number",
            }),
        },
        Kind::Choice => {
            let Value::Text(raw) = value else {
                return Err(ValueError::WrongType {
                    expected: "a string",
                });
            };
            if other {
                let s = required_text(raw)?;
                check_len(s, max)?;
                Ok(Value::Text(s.to_owned()))
            } else if question.option(raw).is_some() {
                Ok(Value::Text(raw.clone()))
            } else if raw.trim().is_empty() {
                Err(ValueError::Required)
            } else {
                Err(ValueError::NotAnOption { value: raw.clone() })
            }
        }
        Kind::Multichoice => {
            let Value::Many(items) = value else {
                return Err(ValueError::WrongType {
                    expected: "an array of strings",
                });
            };
            let mut out: Vec<String> = Vec::with_capacity(items.len());
            let mut free_text = 0;
            for item in items {
                let normalized = if question.option(item).is_some() {
                    item.clone()
                } else if other {
                    let s = required_text(item)?;
                    check_len(s, max)?;
                    free_text += 1;
                    s.to_owned()
                } else {
                    return Err(ValueError::NotAnOption {
                        value: item.clone(),
                    });
                };
                if !out.contains(&normalized) {
                    out.push(normalized);
                }
            }
            if out.is_empty() {
                return Err(ValueError::Required);
            }
            match (other, free_text) {
                (true, 0) => Err(ValueError::Other(
                    "\"other\" is set but no free-text value was given",
                )),
                (true, 2..) => Err(ValueError::Other("at most one free-text \"Other\" value")),
                _ => Ok(Value::Many(out)),
            }
        }
    }
}

fn required_text(raw: &str) -> Result<&str, ValueError> {
    let s = raw.trim();
    if s.is_empty() {
        Err(ValueError::Required)
    } else {
        Ok(s)
    }
}

/// maxLength counts characters (Unicode scalar values), not bytes: "Zoë" is 3.
fn check_len(s: &str, max: u32) -> Result<(), ValueError> {
    if s.chars().count() > max as usize {
        Err(ValueError::TooLong { max })
    } else {
        Ok(())
    }
}
