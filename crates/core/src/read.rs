//! Typed values out of stored JSON, by hand, for the browser-stored documents
//! (prompt state, outbox entries) that are read lossily: anything malformed
//! gives `None` and the caller falls back to a clean value.
//!
//! Why not serde's derived `Deserialize` (which read these before): each derived
//! type compiles its own visitor, field matcher and error text into the wasm; these
//! few non-generic functions do the same work for every type (measured: the
//! prompt state alone cost about 1.4 KB brotli through serde, the outbox's
//! entries about 3.9 KB). The types keep their derived `Deserialize` for native
//! code (the collector reads envelopes with it), and tests hold these readers to
//! it; in the wasm the derived code is never called, so it is not compiled in.

use serde_json::{Map as JsonMap, Value};

use crate::answer::{Answer, Status, Value as AnswerValue};
use crate::outbox::{DeadLetter, DeadReason, Queued};
use crate::sorted::{Map, Set};

/// A string.
fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// What `read` makes of `value`, or `Some(None)` for null (as serde reads an
/// `Option`); `None` when `read` refuses it.
pub(crate) fn nullable<T>(
    value: &Value,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Option<Option<T>> {
    if value.is_null() {
        return Some(None);
    }
    read(value).map(Some)
}

/// A whole number that fits `u32`.
pub(crate) fn u32_of(value: &Value) -> Option<u32> {
    value.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// An array of strings.
pub(crate) fn strings(value: &Value) -> Option<Vec<String>> {
    // Loops, not iterator chains collected into an `Option`: each such chain is
    // its own generic code in the wasm.
    let mut out = Vec::new();
    for item in value.as_array()? {
        out.push(item.as_str()?.to_owned());
    }
    Some(out)
}

/// An array of strings, as a set.
pub(crate) fn set(value: &Value) -> Option<Set> {
    let mut set = Set::new();
    for item in value.as_array()? {
        set.insert(item.as_str()?.to_owned());
    }
    Some(set)
}

/// An object of whole numbers.
pub(crate) fn u32_map(value: &Value) -> Option<Map<u32>> {
    let mut map = Map::new();
    for (key, n) in value.as_object()? {
        map.insert(key.clone(), u32_of(n)?);
    }
    Some(map)
}

/// Calls `field` with each member of `value`, which must be an object; `None` as
/// soon as `field` refuses one (an unknown key or a bad value), or when any of
/// `required` is missing.
pub(crate) fn members(
    value: &Value,
    required: &[&str],
    mut field: impl FnMut(&str, &Value) -> Option<()>,
) -> Option<()> {
    let object: &JsonMap<String, Value> = value.as_object()?;
    // The required keys counted as the members go by (an object's keys are
    // distinct), not each looked up in the map first.
    let mut present = 0;
    for (key, value) in object {
        present += usize::from(required.contains(&key.as_str()));
        field(key, value)?;
    }
    (present == required.len()).then_some(())
}

/// A stored answer, as `Answer`'s `Serialize` writes it.
pub(crate) fn answer(value: &Value) -> Option<Answer> {
    let mut a = Answer {
        id: String::new(),
        question_id: String::new(),
        stage: String::new(),
        field: String::new(),
        status: Status::Answered,
        value: None,
        other: false,
        suggested: false,
        answered_at: String::new(),
        logins_count: 0,
    };
    let required = [
        "id",
        "questionId",
        "stage",
        "field",
        "status",
        "answeredAt",
        "loginsCount",
    ];
    members(value, &required, |key, v| {
        match key {
            "id" => a.id = string(v)?,
            "questionId" => a.question_id = string(v)?,
            "stage" => a.stage = string(v)?,
            "field" => a.field = string(v)?,
            "status" => {
                a.status = match v.as_str()? {
                    "answered" => Status::Answered,
                    "declined" => Status::Declined,
                    "snoozed" => Status::Snoozed,
                    _ => return None,
                }
            }
            "value" => a.value = nullable(v, answer_value)?,
            "other" => a.other = v.as_bool()?,
            "suggested" => a.suggested = v.as_bool()?,
            "answeredAt" => a.answered_at = string(v)?,
            "loginsCount" => a.logins_count = u32_of(v)?,
            _ => return None,
        }
        Some(())
    })?;
    Some(a)
}

/// An answer's value: a string, a number or an array of strings.
fn answer_value(value: &Value) -> Option<AnswerValue> {
    Some(match value {
        Value::String(s) => AnswerValue::Text(s.clone()),
        Value::Number(n) => AnswerValue::Number(n.as_f64()?),
        Value::Array(_) => AnswerValue::Many(strings(value)?),
        _ => return None,
    })
}

/// A stored outbox entry.
pub(crate) fn queued(value: &Value) -> Option<Queued> {
    let (mut user_id, mut user_hash, mut answer_read) = (String::new(), None, None);
    let (mut attempts, mut next_at, mut leased_until) = (0, 0, 0);
    members(value, &["userId", "answer"], |key, v| {
        match key {
            "userId" => user_id = string(v)?,
            "userHash" => user_hash = nullable(v, string)?,
            "answer" => answer_read = Some(answer(v)?),
            "attempts" => attempts = u32_of(v)?,
            "nextAt" => next_at = v.as_u64()?,
            "leasedUntil" => leased_until = v.as_u64()?,
            _ => return None,
        }
        Some(())
    })?;
    Some(Queued {
        user_id,
        user_hash,
        answer: answer_read?,
        attempts,
        next_at,
        leased_until,
    })
}

/// A stored dead letter.
pub(crate) fn dead_letter(value: &Value) -> Option<DeadLetter> {
    let (mut user_id, mut answer_read, mut reason) = (String::new(), None, None);
    let (mut status, mut at) = (None, 0);
    members(value, &["userId", "answer", "reason", "at"], |key, v| {
        match key {
            "userId" => user_id = string(v)?,
            "answer" => answer_read = Some(answer(v)?),
            "reason" => {
                reason = Some(match v.as_str()? {
                    "rejected" => DeadReason::Rejected,
                    "overflow" => DeadReason::Overflow,
                    "redirected" => DeadReason::Redirected,
                    "unsendable" => DeadReason::Unsendable,
                    _ => return None,
                })
            }
            "status" => status = nullable(v, |n| n.as_u64().and_then(|n| u16::try_from(n).ok()))?,
            "at" => at = v.as_u64()?,
            _ => return None,
        }
        Some(())
    })?;
    Some(DeadLetter {
        user_id,
        answer: answer_read?,
        reason: reason?,
        status,
        at,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer_json() -> Value {
        json!({ "id": "a1", "questionId": "role", "stage": "basics", "field": "role",
            "status": "answered", "value": "dev", "answeredAt": "2026-12-01T10:00:00.000Z",
            "loginsCount": 2 })
    }

    /// Variations of a document: each member removed, set to null, to a wrong type,
    /// and one unknown member added.
    fn variations(base: &Value) -> Vec<Value> {
        let mut out = vec![base.clone()];
        for key in base.as_object().unwrap().keys() {
            for replacement in [
                None,
                Some(Value::Null),
                Some(json!(true)),
                Some(json!(-1)),
                Some(json!(1.5)),
                Some(json!(70000)),
                Some(json!("x")),
                Some(json!(["a", "b"])),
                Some(json!({})),
            ] {
                let mut doc = base.clone();
                let map = doc.as_object_mut().unwrap();
                match replacement {
                    None => map.remove(key),
                    Some(v) => map.insert(key.clone(), v),
                };
                out.push(doc);
            }
        }
        let mut extra = base.clone();
        extra
            .as_object_mut()
            .unwrap()
            .insert("extra".into(), json!(1));
        out.push(extra);
        out.push(json!([]));
        out.push(Value::Null);
        out
    }

    // The readers accept exactly what the derived `Deserialize` accepts, and read
    // the same values.
    fn agrees<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
        base: Value,
        read: fn(&Value) -> Option<T>,
    ) {
        for doc in variations(&base) {
            let by_serde = crate::de::from_value::<T>(doc.clone()).ok();
            assert_eq!(read(&doc), by_serde, "{doc}");
        }
    }

    #[test]
    fn the_answer_reader_agrees_with_serde() {
        agrees(answer_json(), answer);
        let mut full = answer_json();
        full["value"] = json!(["a", "b"]);
        full["other"] = json!(true);
        full["suggested"] = json!(true);
        agrees(full, answer);
        let mut number = answer_json();
        number["value"] = json!(42.5);
        agrees(number, answer);
    }

    #[test]
    fn the_queued_reader_agrees_with_serde() {
        let base = json!({ "userId": "u1", "userHash": "ab", "answer": answer_json(),
            "attempts": 2, "nextAt": 1000, "leasedUntil": 2000 });
        agrees(base, queued);
        agrees(json!({ "userId": "u1", "answer": answer_json() }), queued);
    }

    #[test]
    fn the_dead_letter_reader_agrees_with_serde() {
        let base = json!({ "userId": "u1", "answer": answer_json(), "reason": "rejected",
            "status": 422, "at": 1000 });
        agrees(base, dead_letter);
        for reason in ["overflow", "redirected", "unsendable", "lost"] {
            agrees(
                json!({ "userId": "u1", "answer": answer_json(), "reason": reason, "at": 1 }),
                dead_letter,
            );
        }
    }
}
