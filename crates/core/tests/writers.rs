//! The hand-written JSON writers (`trickle_core::json` and the `to_json` /
//! `write_json` of the stored and posted types) write exactly what serde's
//! derived `Serialize` writes: the stored outbox and prompt state stay readable
//! by every version, and the posted body stays the contract's.

use serde_json::{json, Value as Json};
use trickle_core::answer::{Answer, Consent, Context, Envelope, Status, Value};
use trickle_core::json;
use trickle_core::outbox::{Batch, DeadLetter, DeadReason, Outbox, Outcome};
use trickle_core::rules::{Explanation, PromptState, Reason, Remote};
use trickle_core::sorted::{Map, Set};

// Every ASCII character (control characters included), quotes, backslashes, and
// characters outside ASCII of each UTF-8 length.
fn awkward_text() -> String {
    let mut s: String = (0u8..0x80).map(char::from).collect();
    s.push_str("\"\\/ Zoë ميم 漢字 🦀 \u{7f}\u{2028}");
    s
}

fn answer(id: &str, status: Status, value: Option<Value>) -> Answer {
    Answer {
        id: id.to_owned(),
        question_id: "role".into(),
        stage: "company".into(),
        field: "company.role".into(),
        status,
        value,
        other: false,
        suggested: false,
        answered_at: "2026-11-30T15:00:00.000Z".into(),
        logins_count: 3,
    }
}

fn answers() -> Vec<Answer> {
    let mut list = vec![
        answer("a1", Status::Answered, Some(Value::Text(awkward_text()))),
        answer("a2", Status::Answered, Some(Value::Number(42.0))),
        answer("a3", Status::Answered, Some(Value::Number(-7.0))),
        answer("a4", Status::Answered, Some(Value::Number(0.1 + 0.2))),
        answer("a5", Status::Answered, Some(Value::Number(-1.5e300))),
        answer("a6", Status::Answered, Some(Value::Number(1e16))),
        answer("a7", Status::Answered, Some(Value::Number(f64::NAN))),
        answer(
            "a8",
            Status::Answered,
            Some(Value::Many(vec!["x".into(), "y\n".into()])),
        ),
        answer("a9", Status::Answered, Some(Value::Many(Vec::new()))),
        answer("d1", Status::Declined, None),
        answer("s1", Status::Snoozed, None),
    ];
    list[0].other = true;
    list[1].suggested = true;
    list[2].logins_count = u32::MAX;
    list
}

#[test]
fn an_answer_is_written_as_serde_writes_it() {
    for answer in answers() {
        let mut text = String::new();
        answer.write_json(&mut text);
        assert_eq!(text, serde_json::to_string(&answer).unwrap());
    }
}

#[test]
fn the_envelope_is_written_as_serde_writes_it() {
    let consents = [
        None,
        Some(Consent::default()),
        Some(Consent {
            marketing: Some(false),
        }),
        Some(Consent {
            marketing: Some(true),
        }),
    ];
    for (i, consent) in consents.into_iter().enumerate() {
        let envelope = Envelope {
            user_id: "auth0|\"5f7c\"".into(),
            user_hash: (i % 2 == 0).then(|| "9f2c".to_owned()),
            answers: answers(),
            context: Context {
                url: "https://app.example.com/p".into(),
                locale: "de".into(),
                widget: "trickle/0.1.0".into(),
                gpc: i > 1,
                consent,
            },
        };
        assert_eq!(
            envelope.to_json(),
            serde_json::to_string(&envelope).unwrap()
        );
        // A batch's body is the same text, written without an envelope.
        let batch = Batch {
            user_id: envelope.user_id.clone(),
            user_hash: envelope.user_hash.clone(),
            ids: envelope.answers.iter().map(|a| a.id.clone()).collect(),
            answers: envelope.answers.clone(),
        };
        assert_eq!(batch.body(&envelope.context), envelope.to_json());
    }
}

#[test]
fn the_outbox_is_written_as_serde_writes_it() {
    let mut outbox = Outbox::new();
    assert_eq!(outbox.to_json(), serde_json::to_string(&outbox).unwrap());
    for (i, answer) in answers().into_iter().enumerate() {
        let hash = (i % 3 == 0).then_some("ab12");
        outbox.enqueue(&format!("user-{}", i % 2), hash, answer);
    }
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    outbox.lease(&ids(&["a1", "a2"]), 30_000);
    outbox.apply(&ids(&["a3"]), Outcome::NetworkError, 1_000, 0.5);
    outbox.apply(&ids(&["a4"]), Outcome::Rejected { status: 422 }, 2_000, 0.5);
    outbox.apply(&ids(&["a5"]), Outcome::Redirected, 3_000, 0.5);
    outbox.apply(&ids(&["a6"]), Outcome::Unsendable, 4_000, 0.5);
    assert_eq!(outbox.dead_letter().len(), 3);
    assert_eq!(outbox.to_json(), serde_json::to_string(&outbox).unwrap());

    let mut dead = String::new();
    trickle_core::outbox::write_dead_letters(&mut dead, outbox.dead_letter());
    assert_eq!(dead, serde_json::to_string(outbox.dead_letter()).unwrap());
    let overflow = DeadLetter {
        user_id: "u".into(),
        answer: answers().remove(9),
        reason: DeadReason::Overflow,
        status: None,
        at: 0,
    };
    let mut text = String::new();
    overflow.write_json(&mut text);
    assert_eq!(text, serde_json::to_string(&overflow).unwrap());
}

#[test]
fn the_prompt_state_is_written_as_serde_writes_it() {
    let mut state = PromptState::new();
    assert_eq!(state.to_json(), serde_json::to_string(&state).unwrap());
    state.begin_login(4);
    state.record_shown("role");
    state.record_shown(&awkward_text());
    state.record_answered("company.name");
    state.record_declined("phone");
    state.record_snoozed("company", 4);
    state.record_event("purchase");
    state.seen_at = 1_764_500_000_000;
    assert_eq!(state.to_json(), serde_json::to_string(&state).unwrap());
    state.merge_server(&Remote {
        known: Set::from_iter(["email".to_owned()]),
        declined: Set::from_iter(["city".to_owned()]),
        snoozed: Map::from_iter([("basics".to_owned(), u32::MAX)]),
    });
    assert_eq!(state.to_json(), serde_json::to_string(&state).unwrap());
}

#[test]
fn explanations_are_written_as_serde_writes_them() {
    let reasons = [
        None,
        Some(Reason::Known),
        Some(Reason::Declined),
        Some(Reason::Snoozed),
        Some(Reason::StageNotReached),
        Some(Reason::MaxAsks),
        Some(Reason::CapReached),
        Some(Reason::NoUser),
        Some(Reason::NoConsent),
        Some(Reason::PrivacySignal),
    ];
    for reason in reasons {
        let explanation = Explanation {
            question_id: "role".into(),
            stage: "company".into(),
            field: "company.role".into(),
            open: reason.is_none(),
            reason,
        };
        let mut text = String::new();
        explanation.write_json(&mut text);
        assert_eq!(text, serde_json::to_string(&explanation).unwrap());
    }
}

#[test]
fn json_values_are_written_as_serde_writes_them() {
    let values: Vec<Json> = vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(2.5),
        json!(-1e-7),
        json!(awkward_text()),
        json!([]),
        json!({}),
        json!({ "a": [1, "b", { "c": null }], "z\"": { "": [[]] }, "é": 1.0 }),
    ];
    for value in values {
        assert_eq!(
            json::to_text(&value),
            serde_json::to_string(&value).unwrap()
        );
    }
}
