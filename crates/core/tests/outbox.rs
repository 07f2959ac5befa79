//! The outbox state machine and retry policy (contract section 3's delivery rule).

use std::collections::BTreeSet;

use proptest::prelude::*;
use trickle_core::answer::{Answer, Context, Status, Value};
use trickle_core::outbox::{
    DeadReason, Enqueued, Outbox, Outcome, MAX_BATCH_ANSWERS, MAX_DEAD, MAX_QUEUED, OUTBOX_VERSION,
};
use trickle_core::retry::{is_retryable, RetryPolicy};

fn answer(id: &str) -> Answer {
    Answer {
        id: id.to_owned(),
        question_id: "name".into(),
        stage: "basics".into(),
        field: "name".into(),
        status: Status::Answered,
        value: Some(Value::Text("Ada".into())),
        other: false,
        suggested: false,
        answered_at: "2026-11-30T15:00:00.000Z".into(),
        logins_count: 1,
    }
}

fn snooze(id: &str) -> Answer {
    Answer {
        status: Status::Snoozed,
        value: None,
        ..answer(id)
    }
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_enqueued_answer_is_stored_and_due_at_once() {
    let mut outbox = Outbox::new();
    assert_eq!(
        outbox.enqueue("u1", Some("ab12"), answer("a")),
        Enqueued::Added
    );
    // Written to storage before the first send: the stored form holds it.
    let stored = Outbox::from_json(&outbox.to_json());
    assert_eq!(stored.queued_len(), 1);
    let batch = stored.due_batch(0).unwrap();
    assert_eq!(batch.user_id, "u1");
    assert_eq!(batch.user_hash.as_deref(), Some("ab12"));
    assert_eq!(batch.ids, ids(&["a"]));
    assert_eq!(batch.answers, vec![answer("a")]);
}

#[test]
fn batch_builds_the_contract_envelope() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    let context = Context {
        url: "https://x.test/".into(),
        locale: "en".into(),
        widget: "trickle/0.1.0".into(),
        gpc: false,
        consent: None,
    };
    let env = outbox.due_batch(0).unwrap().envelope(context.clone());
    assert_eq!(env.user_id, "u1");
    assert_eq!(env.user_hash, None);
    assert_eq!(env.answers.len(), 1);
    assert_eq!(env.context, context);
    // gpc and consent are left out until the widget sends them (contract v2).
    let json = serde_json::to_value(&env).unwrap();
    assert_eq!(
        json["context"],
        serde_json::json!({ "url": "https://x.test/", "locale": "en", "widget": "trickle/0.1.0" })
    );
}

#[test]
fn an_envelope_context_may_carry_gpc_and_consent() {
    use trickle_core::answer::Envelope;
    let body = r#"{"userId":"u","answers":[],"context":{"url":"https://x.test/","locale":"en","widget":"trickle/0.2.0","gpc":true,"consent":{"marketing":false}}}"#;
    let env = Envelope::from_json(body).unwrap();
    assert!(env.context.gpc);
    assert_eq!(env.context.consent.unwrap().marketing, Some(false));
    let bad = body.replace("\"marketing\":false", "\"marketting\":false");
    assert!(
        Envelope::from_json(&bad).is_err(),
        "a typo in consent is refused"
    );
}

#[test]
fn enqueueing_the_same_answer_id_twice_keeps_one() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    assert_eq!(outbox.enqueue("u1", None, answer("a")), Enqueued::Duplicate);
    assert_eq!(outbox.queued_len(), 1);
}

#[test]
fn a_dead_lettered_id_is_not_queued_again() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    outbox.apply(&ids(&["a"]), Outcome::Rejected { status: 422 }, 5, 0.5);
    assert_eq!(outbox.enqueue("u1", None, answer("a")), Enqueued::Duplicate);
    assert_eq!(outbox.queued_len(), 0);
}

#[test]
fn a_2xx_removes_the_delivered_answers_only() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    outbox.enqueue("u1", None, answer("b"));
    outbox.apply(&ids(&["a"]), Outcome::from_status(204), 10, 0.5);
    assert_eq!(
        outbox
            .queued()
            .iter()
            .map(|q| q.answer.id.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    assert!(outbox.dead_letter().is_empty());
}

#[test]
fn network_error_retries_after_a_backoff() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    outbox.apply(&ids(&["a"]), Outcome::NetworkError, 1_000, 1.0);
    assert_eq!(
        outbox.next_attempt_at(),
        Some(3_000),
        "2 s first step at full jitter"
    );
    assert_eq!(outbox.due_batch(2_999), None);
    assert_eq!(outbox.due_batch(3_000).unwrap().ids, ids(&["a"]));
    assert_eq!(outbox.queued()[0].attempts, 1);
}

#[test]
fn retryable_statuses_keep_the_answer_queued() {
    for status in [408, 429, 500, 502, 503, 504] {
        let mut outbox = Outbox::new();
        outbox.enqueue("u1", None, answer("a"));
        let outcome = Outcome::from_status(status);
        assert_eq!(
            outcome,
            Outcome::Retry {
                status,
                retry_after_ms: None
            }
        );
        outbox.apply(&ids(&["a"]), outcome, 0, 0.0);
        assert_eq!(outbox.queued_len(), 1, "{status}");
        assert!(outbox.dead_letter().is_empty(), "{status}");
    }
}

#[test]
fn other_4xx_move_the_answer_to_the_dead_letter_list() {
    for status in [400, 401, 403, 404, 409, 413, 422] {
        let mut outbox = Outbox::new();
        outbox.enqueue("u1", None, answer("a"));
        outbox.enqueue("u1", None, answer("b"));
        outbox.apply(&ids(&["a"]), Outcome::from_status(status), 77, 0.3);
        assert_eq!(outbox.queued_len(), 1, "{status}");
        let dead = &outbox.dead_letter()[0];
        assert_eq!(
            (dead.answer.id.as_str(), dead.reason, dead.status, dead.at),
            ("a", DeadReason::Rejected, Some(status), 77)
        );
    }
}

#[test]
fn statuses_are_classified_per_the_contract() {
    assert_eq!(Outcome::from_status(200), Outcome::Delivered);
    assert_eq!(Outcome::from_status(299), Outcome::Delivered);
    assert_eq!(Outcome::from_status(0), Outcome::NetworkError);
    assert_eq!(Outcome::from_status(404), Outcome::Rejected { status: 404 });
    assert_eq!(
        Outcome::from_status(302),
        Outcome::Redirected,
        "a redirect is final, never followed"
    );
    assert!(Outcome::from_status(301).is_final() && !is_retryable(307));
    assert!(is_retryable(429) && is_retryable(599) && !is_retryable(400) && !is_retryable(201));
}

#[test]
fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
    let p = RetryPolicy::default();
    assert_eq!(p.delay_ms(1, 1.0), 2_000);
    assert_eq!(p.delay_ms(2, 1.0), 4_000);
    assert_eq!(p.delay_ms(3, 1.0), 8_000);
    assert_eq!(
        p.delay_ms(3, 0.0),
        4_000,
        "jitter never goes below half the step"
    );
    assert_eq!(p.delay_ms(3, 0.5), 6_000);
    assert_eq!(p.delay_ms(30, 1.0), 300_000, "capped at 5 minutes");
    assert_eq!(p.delay_ms(u32::MAX, 1.0), 300_000);
    assert_eq!(p.delay_ms(2, f64::NAN), 4_000);
    assert_eq!(p.delay_ms(2, 7.0), 4_000);
    assert_eq!(p.delay_ms(2, -1.0), 2_000);
}

#[test]
fn repeated_failures_grow_the_delay() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    let mut now = 0;
    let mut delays = Vec::new();
    for _ in 0..10 {
        outbox.apply(&ids(&["a"]), Outcome::from_status(503), now, 1.0);
        let next = outbox.next_attempt_at().unwrap();
        delays.push(next - now);
        now = next;
    }
    assert_eq!(
        delays,
        [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]
    );
}

#[test]
fn retry_after_is_honoured_when_longer_than_the_backoff() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    outbox.apply(
        &ids(&["a"]),
        Outcome::Retry {
            status: 429,
            retry_after_ms: Some(30_000),
        },
        100,
        1.0,
    );
    assert_eq!(outbox.next_attempt_at(), Some(30_100));
}

#[test]
fn a_batch_holds_one_user_in_queue_order() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    outbox.enqueue("u2", None, answer("b"));
    outbox.enqueue("u1", None, answer("c"));
    let batch = outbox.due_batch(0).unwrap();
    assert_eq!(
        (batch.user_id.as_str(), batch.ids.clone()),
        ("u1", ids(&["a", "c"]))
    );
    outbox.apply(&batch.ids, Outcome::Delivered, 0, 0.5);
    let batch = outbox.due_batch(0).unwrap();
    assert_eq!((batch.user_id.as_str(), batch.ids), ("u2", ids(&["b"])));
}

#[test]
fn a_batch_skips_answers_still_waiting_for_their_retry() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    outbox.apply(&ids(&["a"]), Outcome::NetworkError, 0, 1.0);
    outbox.enqueue("u1", None, answer("b"));
    assert_eq!(outbox.due_batch(10).unwrap().ids, ids(&["b"]));
}

#[test]
fn a_batch_is_capped_in_count() {
    let mut outbox = Outbox::new();
    for i in 0..(MAX_BATCH_ANSWERS + 5) {
        outbox.enqueue("u1", None, answer(&format!("id{i}")));
    }
    assert_eq!(outbox.due_batch(0).unwrap().ids.len(), MAX_BATCH_ANSWERS);
}

#[test]
fn a_batch_is_capped_in_bytes() {
    let mut outbox = Outbox::new();
    for i in 0..10 {
        let mut a = answer(&format!("id{i}"));
        a.value = Some(Value::Text("x".repeat(10_000)));
        outbox.enqueue("u1", None, a);
    }
    let batch = outbox.due_batch(0).unwrap();
    assert_eq!(batch.ids.len(), 3, "3 x ~10 KB fit in 32 KiB, 4 do not");
}

#[test]
fn a_full_outbox_evicts_the_oldest_snooze_first() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("first"));
    outbox.enqueue("u1", None, snooze("s"));
    for i in 2..MAX_QUEUED {
        outbox.enqueue("u1", None, answer(&format!("id{i}")));
    }
    assert_eq!(outbox.queued_len(), MAX_QUEUED);
    assert_eq!(
        outbox.enqueue("u1", None, answer("new")),
        Enqueued::AddedEvicting("s".into())
    );
    assert_eq!(outbox.queued_len(), MAX_QUEUED);
    assert_eq!(outbox.dead_letter()[0].reason, DeadReason::Overflow);
    assert_eq!(outbox.queued()[0].answer.id, "first");
}

#[test]
fn a_full_outbox_without_snoozes_evicts_the_oldest_answer() {
    let mut outbox = Outbox::new();
    for i in 0..MAX_QUEUED {
        outbox.enqueue("u1", None, answer(&format!("id{i}")));
    }
    assert_eq!(
        outbox.enqueue("u1", None, answer("new")),
        Enqueued::AddedEvicting("id0".into())
    );
    assert_eq!(outbox.queued().last().unwrap().answer.id, "new");
    assert_eq!(outbox.dead_letter()[0].answer.id, "id0");
}

#[test]
fn the_dead_letter_list_keeps_the_newest_entries() {
    let mut outbox = Outbox::new();
    for i in 0..(MAX_DEAD + 10) {
        let id = format!("id{i}");
        outbox.enqueue("u1", None, answer(&id));
        outbox.apply(&[id], Outcome::from_status(400), i as u64, 0.5);
    }
    assert_eq!(outbox.dead_letter().len(), MAX_DEAD);
    assert_eq!(outbox.dead_letter()[0].answer.id, "id10");
    outbox.clear_dead_letter();
    assert!(outbox.dead_letter().is_empty());
}

#[test]
fn wake_makes_waiting_answers_due_now() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    outbox.apply(&ids(&["a"]), Outcome::NetworkError, 0, 1.0);
    assert_eq!(outbox.due_batch(100), None);
    outbox.wake(100);
    assert_eq!(outbox.due_batch(100).unwrap().ids, ids(&["a"]));
}

#[test]
fn a_leased_batch_is_not_picked_again_until_the_lease_ends() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    let batch = outbox.due_batch(0).unwrap();
    outbox.lease(&batch.ids, 30_000);
    assert_eq!(outbox.due_batch(10), None);
    // The page died mid-request: after the lease the answer is due again.
    let reloaded = Outbox::from_json(&outbox.to_json());
    assert_eq!(reloaded.due_batch(30_000).unwrap().ids, ids(&["a"]));
}

#[test]
fn all_queued_returns_every_answer_of_the_user_for_a_beacon() {
    let mut outbox = Outbox::new();
    for i in 0..(MAX_BATCH_ANSWERS + 3) {
        outbox.enqueue("u1", None, answer(&format!("id{i}")));
    }
    outbox.enqueue("u2", None, answer("other-user"));
    outbox.apply(&ids(&["id0"]), Outcome::NetworkError, 0, 1.0);
    let batches = outbox.all_queued("u1");
    assert_eq!(batches.len(), 2);
    assert_eq!(
        batches.iter().map(|b| b.ids.len()).sum::<usize>(),
        MAX_BATCH_ANSWERS + 3,
        "not-yet-due ones too"
    );
    assert!(batches.iter().all(|b| b.user_id == "u1"));
    assert_eq!(
        outbox.queued_len(),
        MAX_BATCH_ANSWERS + 4,
        "a beacon does not remove anything"
    );
    assert!(outbox.all_queued("nobody").is_empty());
}

#[test]
fn the_outbox_round_trips_through_its_stored_form() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", Some("ff00"), answer("a"));
    outbox.enqueue("u1", None, snooze("b"));
    outbox.apply(&ids(&["a"]), Outcome::NetworkError, 5, 0.25);
    outbox.apply(&ids(&["b"]), Outcome::Rejected { status: 422 }, 6, 0.25);
    let json = outbox.to_json();
    assert_eq!(Outbox::from_json(&json), outbox);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["version"], OUTBOX_VERSION);
}

#[test]
fn a_corrupt_or_foreign_stored_outbox_gives_an_empty_one() {
    for stored in [
        "",
        "oops",
        "null",
        "[]",
        "{}",
        "{\"version\":9,\"queue\":[]}",
        "{\"version\":1,\"queue\":[{\"userId\":1}]}",
        "{\"version\":1,\"queue\":{}}",
        "{\"version\":1,\"extra\":0}",
        "{\"version\":1,\"queue\":[",
    ] {
        let outbox = Outbox::from_json(stored);
        assert_eq!(outbox, Outbox::new(), "{stored:?}");
    }
}

#[test]
fn a_stored_outbox_with_repeated_ids_is_deduplicated_on_load() {
    let mut outbox = Outbox::new();
    outbox.enqueue("u1", None, answer("a"));
    let mut v: serde_json::Value = serde_json::from_str(&outbox.to_json()).unwrap();
    let item = v["queue"][0].clone();
    v["queue"].as_array_mut().unwrap().push(item);
    assert_eq!(Outbox::from_json(&v.to_string()).queued_len(), 1);
}

#[derive(Debug, Clone)]
enum Op {
    Enqueue { user: u8, id: u8, snooze: bool },
    Send { status: u16, jitter: f64 },
    Advance(u64),
    Wake,
    Reload,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, 0u8..60, any::<bool>()).prop_map(|(user, id, snooze)| Op::Enqueue { user, id, snooze }),
        4 => (prop::sample::select(vec![0u16, 200, 204, 400, 404, 408, 422, 429, 500, 503]), 0.0f64..=1.0)
            .prop_map(|(status, jitter)| Op::Send { status, jitter }),
        2 => (0u64..400_000).prop_map(Op::Advance),
        1 => Just(Op::Wake),
        1 => Just(Op::Reload),
    ]
}

proptest! {
    /// No answer is lost silently: every enqueued id is queued, delivered or dead
    /// (never two of these), ids stay unique, and the bounds hold.
    #[test]
    fn every_answer_is_queued_delivered_or_dead_exactly_once(ops in proptest::collection::vec(op(), 0..120)) {
        let mut outbox = Outbox::new();
        let mut now = 0u64;
        let mut enqueued = BTreeSet::new();
        let mut delivered = BTreeSet::new();
        for op in ops {
            match op {
                Op::Enqueue { user, id, snooze: s } => {
                    let id = format!("id{id}");
                    let a = if s { snooze(&id) } else { answer(&id) };
                    let known = outbox.queued().iter().any(|q| q.answer.id == id)
                        || outbox.dead_letter().iter().any(|d| d.answer.id == id);
                    let result = outbox.enqueue(&format!("u{user}"), None, a);
                    prop_assert_eq!(result == Enqueued::Duplicate, known);
                    enqueued.insert(id.clone());
                    delivered.remove(&id);
                }
                Op::Send { status, jitter } => {
                    if let Some(batch) = outbox.due_batch(now) {
                        prop_assert!(!batch.ids.is_empty() && batch.ids.len() <= MAX_BATCH_ANSWERS);
                        let users: BTreeSet<_> = outbox.queued().iter().filter(|q| batch.ids.contains(&q.answer.id)).map(|q| q.user_id.clone()).collect();
                        prop_assert_eq!(users.len(), 1);
                        outbox.apply(&batch.ids, Outcome::from_status(status), now, jitter);
                        if (200..300).contains(&status) {
                            delivered.extend(batch.ids);
                        } else if is_retryable(status) || status == 0 {
                            for q in outbox.queued().iter().filter(|q| batch.ids.contains(&q.answer.id)) {
                                prop_assert!(q.next_at > now, "a retried answer must wait");
                            }
                            prop_assert_eq!(outbox.queued().iter().filter(|q| batch.ids.contains(&q.answer.id)).count(), batch.ids.len());
                        } else {
                            prop_assert!(batch.ids.iter().all(|id| outbox.dead_letter().iter().any(|d| &d.answer.id == id)));
                        }
                    }
                }
                Op::Advance(ms) => now += ms,
                Op::Wake => outbox.wake(now),
                Op::Reload => {
                    let json = outbox.to_json();
                    let reloaded = Outbox::from_json(&json);
                    prop_assert_eq!(&reloaded, &outbox);
                    outbox = reloaded;
                }
            }
            let queued: Vec<String> = outbox.queued().iter().map(|q| q.answer.id.clone()).collect();
            let dead: Vec<String> = outbox.dead_letter().iter().map(|d| d.answer.id.clone()).collect();
            let queued_set: BTreeSet<_> = queued.iter().cloned().collect();
            prop_assert_eq!(queued_set.len(), queued.len(), "duplicate ids queued");
            prop_assert!(queued.len() <= MAX_QUEUED && dead.len() <= MAX_DEAD);
            for id in &queued {
                prop_assert!(!delivered.contains(id) && !dead.contains(id));
            }
            for id in &enqueued {
                // Dead letters beyond MAX_DEAD are dropped by policy; with at most
                // 60 ids and MAX_DEAD = 50 that may happen, so only check the
                // ids that must still be somewhere.
                let somewhere = queued_set.contains(id) || delivered.contains(id) || dead.contains(id);
                prop_assert!(somewhere || outbox.dead_letter().len() == MAX_DEAD, "lost {}", id);
            }
        }
    }
}
