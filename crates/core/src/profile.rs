//! The enriched profile of one user, as a receiver of answers keeps it, and how
//! a received answer changes it: the server side of "which fields are known",
//! beside the stage rule ([`crate::rules`]) that reads the same dot paths.
//!
//! Answers can arrive out of order (the widget retries with backoff, a beacon may
//! overtake a fetch), so every field remembers when the value it holds was given
//! and an older answer never overwrites a newer one. "When it was given" is the
//! answer's `answeredAt` clamped to the time the receiver got it ([`clamp`]): a
//! client clock in the future cannot pin a value (contract section 6).
//!
//! Timestamps here are canonical UTC text ([`crate::time::canonical_utc`]), so the
//! earlier of two is the smaller string.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::answer::{Status, Value};

/// When an answer counts as given, for ordering it against others: its
/// `answeredAt`, but never later than when it was received, so a client clock in
/// the future cannot pin a value (contract section 6). Both arguments are
/// canonical UTC, so the earlier one is the smaller string.
pub fn clamp<'a>(answered_at: &'a str, received_at: &'a str) -> &'a str {
    if answered_at <= received_at {
        answered_at
    } else {
        received_at
    }
}

/// One answer as a receiver keeps it (already validated and normalised).
///
/// Not [`crate::answer::Answer`]: a store hands values back exactly as JSON (the
/// profile, an export, a profile read), and keeps `answeredAt` in the canonical
/// UTC form, so the value is plain JSON here ([`value_to_json`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAnswer {
    /// The idempotency key.
    pub id: String,
    /// The question answered.
    pub question_id: String,
    /// The question's stage.
    pub stage: String,
    /// The profile field (dot path).
    pub field: String,
    /// Answered, declined or snoozed.
    pub status: Status,
    /// The value, when answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    /// The value is free text typed under "Other".
    pub other: bool,
    /// When the user answered, as the widget sent it, in canonical UTC
    /// (`2026-11-30T15:00:00.000Z`, see [`crate::time::canonical_utc`]).
    pub answered_at: String,
    /// The user's loginsCount when they answered.
    pub logins_count: u32,
}

/// A stage the user chose "Not now" for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snooze {
    /// The snoozed stage.
    pub stage: String,
    /// The loginsCount at which the user snoozed it.
    pub logins_count: u32,
    /// When, clamped to when it was received (canonical UTC).
    pub at: String,
}

/// What the store keeps per user besides the raw answers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDoc {
    /// The merged profile: nested objects for dot paths (`company.role`).
    pub profile: Map<String, Json>,
    /// Per field, when the value in `profile` was given (`answeredAt`, clamped
    /// to when it was received).
    pub field_times: BTreeMap<String, String>,
    /// Per declined field, when it was declined (clamped the same way).
    pub declined: BTreeMap<String, String>,
    /// Per stage, the latest snooze.
    pub snoozed: BTreeMap<String, Snooze>,
}

impl ProfileDoc {
    /// Applies one newly stored answer that was received at
    /// `received_at` (canonical UTC). Answers are ordered by their `answeredAt`
    /// clamped to `received_at` ([`clamp`]): an answer whose client clock runs in
    /// the future counts as given when it arrived, so it cannot pin a field, a
    /// decline or a snooze against answers given after it. On a tie the answer
    /// applied last wins.
    pub fn apply(&mut self, answer: &StoredAnswer, received_at: &str) {
        let at = clamp(&answer.answered_at, received_at);
        match answer.status {
            Status::Answered => {
                let Some(value) = &answer.value else {
                    return;
                };
                if self
                    .field_times
                    .get(&answer.field)
                    .is_some_and(|held| held.as_str() > at)
                {
                    return;
                }
                set_path(&mut self.profile, &answer.field, value.clone());
                self.field_times.insert(answer.field.clone(), at.to_owned());
                // A later answer lifts an earlier "Prefer not to say".
                if self
                    .declined
                    .get(&answer.field)
                    .is_some_and(|declined| declined.as_str() <= at)
                {
                    self.declined.remove(&answer.field);
                }
            }
            Status::Declined => {
                // An answer given after this decline already stands; keep it.
                if self
                    .field_times
                    .get(&answer.field)
                    .is_some_and(|held| held.as_str() > at)
                {
                    return;
                }
                let entry = self.declined.entry(answer.field.clone()).or_default();
                if entry.as_str() < at {
                    *entry = at.to_owned();
                }
            }
            Status::Snoozed => {
                let newer = self
                    .snoozed
                    .get(&answer.stage)
                    .is_none_or(|held| held.at.as_str() <= at);
                if newer {
                    self.snoozed.insert(
                        answer.stage.clone(),
                        Snooze {
                            stage: answer.stage.clone(),
                            logins_count: answer.logins_count,
                            at: at.to_owned(),
                        },
                    );
                }
            }
        }
    }

    /// The value at a dot path of the merged profile (read with the stage rule's
    /// own walker, [`crate::rules::profile_value`]).
    pub fn get(&self, field: &str) -> Option<&Json> {
        let (first, rest) = match field.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (field, None),
        };
        let top = self.profile.get(first)?;
        match rest {
            Some(rest) => crate::rules::profile_value(top, rest),
            None => Some(top),
        }
    }
}

/// Writes `value` at a dot path, creating (or replacing non-object) parents.
fn set_path(root: &mut Map<String, Json>, field: &str, value: Json) {
    let mut parts: Vec<&str> = field.split('.').collect();
    let Some(last) = parts.pop() else {
        return;
    };
    let mut map = root;
    for part in parts {
        let slot = map
            .entry(part.to_owned())
            .or_insert_with(|| Json::Object(Map::new()));
        if !slot.is_object() {
            *slot = Json::Object(Map::new());
        }
        map = match slot {
            Json::Object(inner) => inner,
            _ => unreachable!("unreachable: slot was just made an object"),
        };
    }
    map.insert(last.to_owned(), value);
}

/// The JSON stored for an answered value: [`Value`]'s own serialization (the one
/// the widget posts), so a whole number stays an integer (`42`, not `42.0`) over
/// the same range in both.
pub fn value_to_json(value: &Value) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// When the collector received the answers of these tests: after all of them.
    const RECEIVED: &str = "2026-12-01T00:00:00.000Z";

    fn apply(doc: &mut ProfileDoc, answer: StoredAnswer) {
        doc.apply(&answer, RECEIVED);
    }

    fn answer(
        id: &str,
        field: &str,
        status: Status,
        value: Option<Json>,
        at: &str,
    ) -> StoredAnswer {
        StoredAnswer {
            id: id.into(),
            question_id: field.replace('.', "_"),
            stage: "basics".into(),
            field: field.into(),
            status,
            value,
            other: false,
            answered_at: at.into(),
            logins_count: 2,
        }
    }

    #[test]
    fn answered_values_land_at_nested_dot_paths() {
        let mut doc = ProfileDoc::default();
        apply(
            &mut doc,
            answer(
                "a",
                "company.role",
                Status::Answered,
                Some(json!("senior")),
                "2026-11-30T15:00:00.000Z",
            ),
        );
        apply(
            &mut doc,
            answer(
                "b",
                "name",
                Status::Answered,
                Some(json!("Ada")),
                "2026-11-30T15:00:01.000Z",
            ),
        );
        apply(
            &mut doc,
            answer(
                "c",
                "company.size",
                Status::Answered,
                Some(json!(50)),
                "2026-11-30T15:00:02.000Z",
            ),
        );
        assert_eq!(
            Json::Object(doc.profile.clone()),
            json!({ "name": "Ada", "company": { "role": "senior", "size": 50 } })
        );
        assert_eq!(doc.get("company.size"), Some(&json!(50)));
        assert_eq!(doc.get("company.missing"), None);
        assert_eq!(doc.get("name.deeper"), None);
    }

    #[test]
    fn an_older_answer_never_overwrites_a_newer_one() {
        let mut doc = ProfileDoc::default();
        apply(
            &mut doc,
            answer(
                "new",
                "name",
                Status::Answered,
                Some(json!("New")),
                "2026-11-30T15:00:05.000Z",
            ),
        );
        apply(
            &mut doc,
            answer(
                "old",
                "name",
                Status::Answered,
                Some(json!("Old")),
                "2026-11-30T15:00:01.000Z",
            ),
        );
        assert_eq!(doc.get("name"), Some(&json!("New")));
        apply(
            &mut doc,
            answer(
                "newer",
                "name",
                Status::Answered,
                Some(json!("Newer")),
                "2026-11-30T15:00:09.000Z",
            ),
        );
        assert_eq!(doc.get("name"), Some(&json!("Newer")));
    }

    #[test]
    fn declines_and_snoozes_leave_the_profile_alone() {
        let mut doc = ProfileDoc::default();
        apply(
            &mut doc,
            answer(
                "d",
                "phone",
                Status::Declined,
                None,
                "2026-11-30T15:00:00.000Z",
            ),
        );
        apply(
            &mut doc,
            answer(
                "s",
                "email",
                Status::Snoozed,
                None,
                "2026-11-30T15:00:01.000Z",
            ),
        );
        assert!(doc.profile.is_empty());
        assert_eq!(doc.declined.keys().collect::<Vec<_>>(), ["phone"]);
        assert_eq!(doc.snoozed["basics"].logins_count, 2);
    }

    #[test]
    fn a_later_answer_lifts_a_decline_but_an_earlier_one_does_not() {
        let mut doc = ProfileDoc::default();
        apply(
            &mut doc,
            answer(
                "d",
                "phone",
                Status::Declined,
                None,
                "2026-11-30T15:00:05.000Z",
            ),
        );
        apply(
            &mut doc,
            answer(
                "a1",
                "phone",
                Status::Answered,
                Some(json!("+1")),
                "2026-11-30T15:00:01.000Z",
            ),
        );
        assert!(
            doc.declined.contains_key("phone"),
            "an answer older than the decline keeps it"
        );
        apply(
            &mut doc,
            answer(
                "a2",
                "phone",
                Status::Answered,
                Some(json!("+2")),
                "2026-11-30T15:00:09.000Z",
            ),
        );
        assert!(!doc.declined.contains_key("phone"));
        assert_eq!(doc.get("phone"), Some(&json!("+2")));
        apply(
            &mut doc,
            answer(
                "d-old",
                "phone",
                Status::Declined,
                None,
                "2026-11-30T15:00:07.000Z",
            ),
        );
        assert!(
            !doc.declined.contains_key("phone"),
            "a decline older than the answer is moot"
        );
    }

    #[test]
    fn the_latest_snooze_per_stage_is_kept() {
        let mut doc = ProfileDoc::default();
        let mut late = answer(
            "s2",
            "email",
            Status::Snoozed,
            None,
            "2026-11-30T15:00:09.000Z",
        );
        late.logins_count = 5;
        apply(&mut doc, late);
        apply(
            &mut doc,
            answer(
                "s1",
                "email",
                Status::Snoozed,
                None,
                "2026-11-30T15:00:01.000Z",
            ),
        );
        assert_eq!(doc.snoozed["basics"].logins_count, 5);
    }

    #[test]
    fn a_scalar_in_the_way_of_a_nested_field_is_replaced_by_an_object() {
        let mut doc = ProfileDoc::default();
        doc.profile.insert("company".into(), json!("Acme"));
        apply(
            &mut doc,
            answer(
                "a",
                "company.role",
                Status::Answered,
                Some(json!("cto")),
                "2026-11-30T15:00:00.000Z",
            ),
        );
        assert_eq!(doc.get("company.role"), Some(&json!("cto")));
    }

    #[test]
    fn a_far_future_answer_counts_as_received_and_a_later_real_answer_wins() {
        let mut doc = ProfileDoc::default();
        doc.apply(
            &answer(
                "future",
                "name",
                Status::Answered,
                Some(json!("Pinned")),
                "9999-12-31T00:00:00.000Z",
            ),
            "2026-12-01T10:00:00.000Z",
        );
        assert_eq!(doc.field_times["name"], "2026-12-01T10:00:00.000Z");
        doc.apply(
            &answer(
                "real",
                "name",
                Status::Answered,
                Some(json!("Real")),
                "2026-12-01T10:05:00.000Z",
            ),
            "2026-12-01T10:05:01.000Z",
        );
        assert_eq!(doc.get("name"), Some(&json!("Real")));
    }

    #[test]
    fn an_answer_given_before_a_far_future_one_was_received_still_loses_to_it() {
        let mut doc = ProfileDoc::default();
        doc.apply(
            &answer(
                "future",
                "name",
                Status::Answered,
                Some(json!("Future")),
                "9999-12-31T00:00:00.000Z",
            ),
            "2026-12-01T10:00:00.000Z",
        );
        // Given before the future-dated one arrived, delivered after it.
        doc.apply(
            &answer(
                "late",
                "name",
                Status::Answered,
                Some(json!("Earlier")),
                "2026-12-01T09:00:00.000Z",
            ),
            "2026-12-01T11:00:00.000Z",
        );
        assert_eq!(doc.get("name"), Some(&json!("Future")));
    }

    #[test]
    fn a_far_future_decline_does_not_block_a_later_answer_from_lifting_it() {
        let mut doc = ProfileDoc::default();
        doc.apply(
            &answer(
                "d",
                "phone",
                Status::Declined,
                None,
                "9999-12-31T00:00:00.000Z",
            ),
            "2026-12-01T10:00:00.000Z",
        );
        assert_eq!(doc.declined["phone"], "2026-12-01T10:00:00.000Z");
        doc.apply(
            &answer(
                "a",
                "phone",
                Status::Answered,
                Some(json!("+1")),
                "2026-12-01T10:05:00.000Z",
            ),
            "2026-12-01T10:05:00.000Z",
        );
        assert!(!doc.declined.contains_key("phone"));
        assert_eq!(doc.get("phone"), Some(&json!("+1")));
    }

    #[test]
    fn a_far_future_answer_does_not_make_a_later_decline_moot() {
        let mut doc = ProfileDoc::default();
        doc.apply(
            &answer(
                "a",
                "phone",
                Status::Answered,
                Some(json!("+1")),
                "9999-12-31T00:00:00.000Z",
            ),
            "2026-12-01T10:00:00.000Z",
        );
        doc.apply(
            &answer(
                "d",
                "phone",
                Status::Declined,
                None,
                "2026-12-01T10:05:00.000Z",
            ),
            "2026-12-01T10:05:00.000Z",
        );
        assert!(doc.declined.contains_key("phone"));
    }

    #[test]
    fn a_far_future_snooze_is_replaced_by_a_later_real_one() {
        let mut doc = ProfileDoc::default();
        let mut future = answer(
            "s1",
            "email",
            Status::Snoozed,
            None,
            "9999-12-31T00:00:00.000Z",
        );
        future.logins_count = 2;
        doc.apply(&future, "2026-12-01T10:00:00.000Z");
        assert_eq!(doc.snoozed["basics"].at, "2026-12-01T10:00:00.000Z");
        let mut real = answer(
            "s2",
            "email",
            Status::Snoozed,
            None,
            "2026-12-01T10:05:00.000Z",
        );
        real.logins_count = 4;
        doc.apply(&real, "2026-12-01T10:05:00.000Z");
        assert_eq!(doc.snoozed["basics"].logins_count, 4);
    }

    #[test]
    fn an_answer_from_the_future_counts_as_given_when_it_was_received() {
        let received = "2026-12-01T10:00:00.000Z";
        assert_eq!(clamp("9999-12-31T00:00:00.000Z", received), received);
        assert_eq!(
            clamp("2026-11-30T15:00:00.000Z", received),
            "2026-11-30T15:00:00.000Z"
        );
        assert_eq!(clamp(received, received), received);
    }

    #[test]
    fn whole_numbers_are_stored_as_integers() {
        assert_eq!(value_to_json(&Value::Number(42.0)), json!(42));
        assert_eq!(value_to_json(&Value::Number(2.5)), json!(2.5));
        assert_eq!(
            value_to_json(&Value::Many(vec!["a".into(), "b".into()])),
            json!(["a", "b"])
        );
        assert_eq!(value_to_json(&Value::Text("x".into())), json!("x"));
    }

    #[test]
    fn whole_numbers_up_to_2_pow_53_are_stored_as_integers_like_the_widget_posts_them() {
        let n = Value::Number(9_007_199_254_740_991.0);
        assert_eq!(value_to_json(&n), json!(9_007_199_254_740_991_i64));
        assert_eq!(value_to_json(&n), serde_json::to_value(&n).unwrap());
    }
}
