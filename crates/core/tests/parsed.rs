//! The value-taking entry points: stored text parsed by the caller (the widget
//! parses with the browser's `JSON.parse`) reads exactly as the text does, and the
//! session and the delivery machine parse only through what they are handed.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{json, Value as Json};
use trickle_core::answer::{Answer, Status, Value};
use trickle_core::config::{Config, User};
use trickle_core::delivery::{Delivery, Effect, Event, SendResult};
use trickle_core::json::parse;
use trickle_core::outbox::Outbox;
use trickle_core::rules::{PromptState, Reason};
use trickle_core::session::{state_key, Input, Session, Storage};
use trickle_core::sorted::Set;

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

/// The stored text of an outbox holding answer `a` of user `u`.
fn outbox_text() -> String {
    let mut outbox = Outbox::new();
    outbox.enqueue("u", None, answer("a"));
    outbox.to_json()
}

/// What the widget hands the core for `text`: its value, `null` when it is not JSON.
fn parsed(text: &str) -> Json {
    parse(text).unwrap_or_default()
}

#[test]
fn an_outbox_read_from_its_parsed_text_is_the_one_read_from_the_text() {
    let entry = json!({ "userId": "u", "answer": { "id": "b" } });
    let documents = [
        outbox_text(),
        // One entry this version cannot read: kept apart, the others survive.
        outbox_text().replacen(r#""queue":["#, &format!(r#""queue":[{entry},"#), 1),
        // Another version with queued entries: the whole document is kept apart.
        r#"{"version":2,"queue":[{"whatever":1}],"z":true}"#.to_owned(),
        r#"{"version":2,"queue":[]}"#.to_owned(),
        "[1,2]".to_owned(),
        "null".to_owned(),
        r#"{"version":1,"queue":"#.to_owned(),
        "not JSON".to_owned(),
    ];
    for text in &documents {
        let from_text = Outbox::read(text);
        assert_eq!(Outbox::read_value(parsed(text)), from_text, "{text}");
        assert_eq!(Outbox::from_value(parsed(text)), from_text.0, "{text}");
    }
    assert_eq!(Outbox::read_value(parsed(&documents[0])).0.queued_len(), 1);
    assert_eq!(Outbox::read_value(parsed(&documents[1])).1, vec![entry]);
    assert_eq!(
        Outbox::read_value(parsed(&documents[2])).1,
        vec![parsed(&documents[2])]
    );
}

#[test]
fn a_prompt_state_read_from_its_parsed_text_is_the_one_read_from_the_text() {
    let mut state = PromptState::new();
    state.begin_login(3);
    state.record_declined("name");
    state.record_answered("email");
    state.seen_at = 7;
    let documents = [
        state.to_json(),
        state
            .to_json()
            .replacen(r#""version":"#, r#""other":1,"version":"#, 1),
        state
            .to_json()
            .replacen(r#""version":1"#, r#""version":99"#, 1),
        "{}".to_owned(),
        "null".to_owned(),
        "{".to_owned(),
    ];
    for text in &documents {
        assert_eq!(
            PromptState::from_value(parsed(text)),
            PromptState::from_json(text),
            "{text}"
        );
    }
    assert_eq!(PromptState::from_value(parsed(&documents[0])), state);
    // An unknown member and another version each refuse the whole state.
    assert_eq!(
        PromptState::from_value(parsed(&documents[1])),
        PromptState::new()
    );
    assert_eq!(
        PromptState::from_value(parsed(&documents[2])),
        PromptState::new()
    );
    assert_eq!(PromptState::from_value(Json::Null), PromptState::new());
}

/// Storage that holds parsed JSON, as the widget's store hands it over; its text
/// reader refuses to be called, so a test passes only if the session never parses
/// stored text itself.
#[derive(Default)]
struct Parsed(RefCell<BTreeMap<String, Json>>);

impl Storage for Parsed {
    fn get(&self, key: &str) -> Option<String> {
        panic!("the session read the text of {key}: it must read through get_json");
    }
    fn get_json(&self, key: &str) -> Option<Json> {
        self.0.borrow().get(key).cloned()
    }
    fn set(&self, key: &str, value: &str) {
        self.0.borrow_mut().insert(key.to_owned(), parsed(value));
    }
}

fn seed() -> Config {
    Config::from_json(include_str!("../fixtures/seed.config.json")).unwrap()
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        logins_count: 1,
        profile: json!({}),
        user_hash: None,
        consent: Default::default(),
    }
}

fn reason(session: &mut Session, store: &Parsed, question: &str) -> Option<Reason> {
    session
        .explain(store)
        .into_iter()
        .find(|e| e.question_id == question)
        .unwrap()
        .reason
}

#[test]
fn the_session_reads_stored_prompt_state_through_get_json_only() {
    let store = Parsed::default();
    let mut declined = PromptState::new();
    declined.record_declined("name");
    store.set(&state_key("u"), &declined.to_json());
    let mut session = Session::new(seed(), Some(user("u")), Set::new());
    session.on(&store, Input::Start, 1_000);
    assert_eq!(reason(&mut session, &store, "name"), Some(Reason::Declined));
    session.on(&store, Input::Identify(user("v")), 2_000);
    assert_eq!(reason(&mut session, &store, "name"), None);
}

#[test]
fn stored_prompt_state_that_is_not_json_reloads_as_a_clean_state_and_a_missing_one_is_kept() {
    let store = Parsed::default();
    let mut declined = PromptState::new();
    declined.record_declined("name");
    store.set(&state_key("u"), &declined.to_json());
    let mut session = Session::new(seed(), Some(user("u")), Set::new());
    session.on(&store, Input::Start, 1_000);
    // Gone from storage (cleared by another tab): this tab keeps what it read.
    store.0.borrow_mut().remove(&state_key("u"));
    session.on(&store, Input::StorageChanged, 2_000);
    assert_eq!(reason(&mut session, &store, "name"), Some(Reason::Declined));
    // Unreadable (what the widget's get_json gives for text that is not JSON):
    // a clean state, as the text reader gives.
    store.0.borrow_mut().insert(state_key("u"), Json::Null);
    session.on(&store, Input::StorageChanged, 3_000);
    assert_eq!(reason(&mut session, &store, "name"), None);
}

/// A parser of JSON text behind a `parsed:` prefix: text serde_json refuses, so
/// only a machine that parses with what it was handed reads it.
fn prefixed(text: &str) -> Option<Json> {
    parse(text.strip_prefix("parsed:")?)
}

#[test]
fn the_delivery_machine_reads_the_stored_outbox_with_the_parser_it_is_handed() {
    let stored = format!("parsed:{}", outbox_text());
    let fx = Delivery::new().on_with(prefixed, Some(&stored), Event::Wake, 1_000, 0.5);
    let sent: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Send(batch) => Some(batch.ids.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [vec!["a".to_owned()]]);
    // serde_json's reader finds no outbox in that text, and so nothing to send.
    let fx = Delivery::new().on(Some(&stored), Event::Wake, 1_000, 0.5);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Send(_))));

    let settled = Delivery::settle_orphan_with(
        prefixed,
        Some(&stored),
        &["a".to_owned()],
        &SendResult::Network,
        1_000,
        0.5,
    )
    .unwrap();
    assert_eq!(Outbox::from_json(&settled).queued()[0].attempts, 1);
}
