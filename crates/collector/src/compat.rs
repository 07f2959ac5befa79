//! Local stand-in for `trickle_core::answer::{check_envelope, check_value}` until
//! the core lands them; removed once it does (the collector must validate with the
//! widget's own code).

use trickle_core::answer::{Envelope, Status, Value};
use trickle_core::config::{Config, ConfigError, Kind, Question};

/// Unknown question, stage, field or option, or a value of the wrong kind.
pub fn check_envelope(config: &Config, env: &Envelope) -> Result<(), ConfigError> {
    if env.user_id.trim().is_empty() {
        return Err(ConfigError::new("userId", "must not be empty"));
    }
    if env.answers.is_empty() {
        return Err(ConfigError::new("answers", "must not be empty"));
    }
    for (i, answer) in env.answers.iter().enumerate() {
        let at = |key: &str| format!("answers[{i}].{key}");
        let Some((stage, question)) = config.question(&answer.question_id) else {
            return Err(ConfigError::new(at("questionId"), format!("unknown question \"{}\"", answer.question_id)));
        };
        if stage.id != answer.stage {
            return Err(ConfigError::new(at("stage"), format!("question is in stage \"{}\"", stage.id)));
        }
        if question.field != answer.field {
            return Err(ConfigError::new(at("field"), format!("question fills field \"{}\"", question.field)));
        }
        match (answer.status, &answer.value) {
            (Status::Answered, None) => return Err(ConfigError::new(at("value"), "is required when answered")),
            (Status::Answered, Some(value)) => {
                check_value(question, value, answer.other).map_err(|m| ConfigError::new(at("value"), m))?;
            }
            (_, Some(_)) => return Err(ConfigError::new(at("value"), "only allowed when answered")),
            (Status::Declined, None) if !question.declinable => {
                return Err(ConfigError::new(at("status"), "question is not declinable"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The value normalised (trimmed), or why it does not fit the question.
pub fn check_value(question: &Question, value: &Value, other: bool) -> Result<Value, String> {
    let max = question.max_chars() as usize;
    match (question.kind, value) {
        (Kind::Choice, Value::Text(v)) => {
            if other {
                return other_text(question, v, max);
            }
            question.option(v).map(|_| value.clone()).ok_or_else(|| format!("unknown option \"{v}\""))
        }
        (Kind::Multichoice, Value::Many(values)) => {
            if values.is_empty() {
                return Err("must not be empty".into());
            }
            for v in values {
                if question.option(v).is_none() && !(other && question.allow_other) {
                    return Err(format!("unknown option \"{v}\""));
                }
            }
            Ok(value.clone())
        }
        (Kind::Number, Value::Number(n)) if n.is_finite() => Ok(value.clone()),
        (Kind::Date, Value::Text(v)) => {
            let b = v.as_bytes();
            let shape = b.len() == 10
                && b[4] == b'-'
                && b[7] == b'-'
                && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
            if shape {
                Ok(value.clone())
            } else {
                Err("must be a date YYYY-MM-DD".into())
            }
        }
        (kind, Value::Text(v)) if kind.is_text() => {
            let t = v.trim();
            if t.is_empty() {
                return Err("must not be empty".into());
            }
            if t.chars().count() > max {
                return Err(format!("longer than {max} characters"));
            }
            if kind == Kind::Email && !(t.contains('@') && !t.starts_with('@') && !t.ends_with('@')) {
                return Err("must be an email address".into());
            }
            Ok(Value::Text(t.to_owned()))
        }
        _ => Err(format!("wrong kind of value for a {:?} question", question.kind).to_lowercase()),
    }
}

fn other_text(question: &Question, v: &str, max: usize) -> Result<Value, String> {
    if !question.allow_other {
        return Err("\"Other\" is not allowed for this question".into());
    }
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    Ok(Value::Text(t.to_owned()))
}
