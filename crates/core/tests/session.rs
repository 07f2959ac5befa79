//! The prompt flow (contract sections 2 and 5) as a reducer: scripted inputs, the
//! outputs the widget must carry out, and the prompt state in a simulated storage.

use std::cell::RefCell;
use std::collections::BTreeMap;

use trickle_core::sorted::Set;

use serde_json::{json, Value as Json};
use trickle_core::answer::{Status, Value};
use trickle_core::config::{Config, User};
use trickle_core::rules::{PromptState, Reason};
use trickle_core::session::{
    encode_uri_component, state_key, Input, Output, ReadFailure, Response, Screen, Session,
    Storage, PROFILE_WAIT_MS,
};

#[derive(Default)]
struct Mem(RefCell<BTreeMap<String, String>>);

impl Storage for Mem {
    fn get(&self, key: &str) -> Option<String> {
        self.0.borrow().get(key).cloned()
    }
    fn set(&self, key: &str, value: &str) {
        self.0.borrow_mut().insert(key.to_owned(), value.to_owned());
    }
}

fn config(patch: impl FnOnce(&mut Json)) -> Config {
    let mut v: Json = serde_json::from_str(include_str!("../fixtures/seed.config.json")).unwrap();
    v.as_object_mut().unwrap().remove("user");
    patch(&mut v);
    Config::from_value(v).unwrap()
}

fn user(id: &str, logins: u32) -> User {
    User {
        id: id.into(),
        logins_count: logins,
        profile: json!({}),
        user_hash: Some("ab12".into()),
        consent: Default::default(),
    }
}

/// A session and its storage; `step` carries out `Displayed` like the widget does.
struct Widget {
    session: Session,
    store: Mem,
    now: u64,
    ids: u32,
}

impl Widget {
    fn new(config: Config, user: Option<User>) -> Self {
        Widget {
            session: Session::new(config, user, Set::new()),
            store: Mem::default(),
            now: 1_000,
            ids: 0,
        }
    }

    /// Applies `input`; a question shown is reported as mounted.
    fn step(&mut self, input: Input) -> Vec<Output> {
        let mut out = self.session.on(&self.store, input, self.now);
        if out
            .iter()
            .any(|o| matches!(o, Output::Show(Screen::Question(_))))
        {
            out.extend(
                self.session
                    .on(&self.store, Input::Displayed(true), self.now),
            );
        }
        out
    }

    fn respond(&mut self, response: Response) -> Vec<Output> {
        self.ids += 1;
        let id = format!("id-{}", self.ids);
        self.step(Input::Respond {
            response,
            id,
            at: "2026-12-01T10:00:00.000Z".into(),
        })
    }

    fn state(&self, user: &str) -> PromptState {
        PromptState::from_json(&self.store.get(&state_key(user)).unwrap())
    }

    fn reason(&mut self, question: &str) -> Option<Reason> {
        self.session
            .explain(&self.store)
            .into_iter()
            .find(|e| e.question_id == question)
            .unwrap()
            .reason
    }
}

fn shown(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Emit("trickle:shown", d) => {
                let d: serde_json::Value = serde_json::from_str(d).unwrap();
                Some(d["questionId"].as_str().unwrap().to_owned())
            }
            _ => None,
        })
        .collect()
}

fn emitted(out: &[Output]) -> Vec<&'static str> {
    out.iter()
        .filter_map(|o| match o {
            Output::Emit(name, _) => Some(*name),
            _ => None,
        })
        .collect()
}

fn queued(out: &[Output]) -> Vec<trickle_core::answer::Answer> {
    out.iter()
        .filter_map(|o| match o {
            Output::Queue { answer, .. } => Some(answer.clone()),
            _ => None,
        })
        .collect()
}

fn text(s: &str) -> Response {
    Response::Answer {
        value: Value::Text(s.into()),
        other: false,
    }
}

#[test]
fn start_shows_the_due_question_once_it_is_mounted() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    let out = w.session.on(&w.store, Input::Start, w.now);
    assert!(
        matches!(&out[..], [Output::Show(Screen::Question(due))] if due.question_id == "name"),
        "{out:?}"
    );
    assert!(
        w.state("u").shown.is_empty(),
        "not counted before it is mounted"
    );
    let out = w.session.on(&w.store, Input::Displayed(true), w.now);
    assert_eq!(shown(&out), ["name"]);
    assert_eq!(w.state("u").shown.get("name").copied().unwrap_or(0), 1);
    assert_eq!(w.state("u").seen_at, 1_000);
}

#[test]
fn a_popup_that_cannot_mount_uses_up_nothing() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.session.on(&w.store, Input::Start, w.now);
    let out = w.session.on(&w.store, Input::Displayed(false), w.now);
    assert!(out.is_empty(), "{out:?}");
    assert!(w.state("u").shown.is_empty());
    assert_eq!(w.reason("name"), None);
}

#[test]
fn an_answer_is_queued_recorded_announced_and_the_next_question_shown() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.step(Input::Start);
    let out = w.respond(text("Ada"));
    let answers = queued(&out);
    assert_eq!(answers.len(), 1);
    let a = &answers[0];
    assert_eq!(
        (a.id.as_str(), a.field.as_str(), a.status),
        ("id-1", "name", Status::Answered)
    );
    assert_eq!(a.answered_at, "2026-12-01T10:00:00.000Z");
    assert_eq!(a.logins_count, 1);
    assert!(
        matches!(&out[0], Output::Queue { user_id, user_hash: Some(h), .. } if user_id == "u" && h == "ab12")
    );
    assert_eq!(emitted(&out), ["trickle:answered", "trickle:shown"]);
    assert_eq!(shown(&out), ["email"]);
    assert!(w.state("u").answered.contains("name"));
}

fn details(out: &[Output]) -> Vec<(&'static str, Json)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Emit(name, d) => Some((*name, serde_json::from_str(d).unwrap())),
            _ => None,
        })
        .collect()
}

#[test]
fn event_details_name_the_question_and_an_answer_carries_its_value() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    let out = w.step(Input::Start);
    assert_eq!(
        details(&out),
        [(
            "trickle:shown",
            json!({ "questionId": "name", "stage": "basics", "field": "name" })
        )]
    );
    let out = w.respond(text("Ada \"the\" Countess"));
    assert_eq!(
        details(&out)[0],
        (
            "trickle:answered",
            json!({ "id": "id-1", "questionId": "name", "stage": "basics", "field": "name",
                "value": "Ada \"the\" Countess" })
        )
    );
    let out = w.respond(Response::Snooze);
    assert_eq!(
        details(&out),
        [(
            "trickle:snoozed",
            json!({ "id": "id-2", "questionId": "email", "stage": "basics", "field": "email" })
        )]
    );
}

#[test]
fn after_the_last_question_of_a_login_the_thank_you_shows() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.step(Input::Start);
    w.respond(text("Ada"));
    let out = w.respond(text("ada@example.com"));
    assert!(out.contains(&Output::Show(Screen::Thanks)), "{out:?}");
    let out = w.respond(Response::Dismissed);
    assert_eq!(out, vec![Output::Show(Screen::Hidden)]);
}

#[test]
fn not_now_queues_a_snooze_hides_the_popup_and_ends_the_login() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.step(Input::Start);
    let out = w.respond(Response::Snooze);
    assert_eq!(queued(&out)[0].status, Status::Snoozed);
    assert_eq!(out.last(), Some(&Output::Show(Screen::Hidden)));
    assert_eq!(w.reason("email"), Some(Reason::Snoozed));
    assert!(shown(&w.step(Input::Track("purchase".into()))).is_empty());
}

#[test]
fn a_decline_is_queued_and_never_asked_again() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 2)));
    w.step(Input::Start);
    w.respond(text("Ada"));
    w.respond(text("a@b.example"));
    let out = w.respond(Response::Decline);
    assert_eq!(queued(&out)[0].status, Status::Declined);
    assert_eq!(queued(&out)[0].value, None);
    assert_eq!(w.reason("address"), Some(Reason::Declined));
}

#[test]
fn a_response_with_nothing_on_screen_does_nothing() {
    let mut w = Widget::new(config(|_| {}), None);
    w.step(Input::Start);
    assert!(w.respond(text("x")).is_empty());
}

#[test]
fn identify_replaces_the_user_and_closes_the_old_users_question() {
    let mut w = Widget::new(config(|_| {}), Some(user("a", 1)));
    w.step(Input::Start);
    let out = w.step(Input::Identify(user("b", 1)));
    assert_eq!(out[0], Output::Show(Screen::Hidden));
    assert_eq!(shown(&out), ["name"]);
    // The same user again (a new login count) keeps the question on screen.
    let out = w.step(Input::Identify(user("b", 2)));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn sign_out_hides_the_popup_and_nothing_is_asked_until_the_next_user() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.step(Input::Start);
    let out = w.step(Input::SignOut);
    assert!(out.contains(&Output::Show(Screen::Hidden)));
    assert_eq!(w.reason("name"), Some(Reason::NoUser));
    assert!(w.respond(text("x")).is_empty());
    assert!(shown(&w.step(Input::Track("purchase".into()))).is_empty());
    assert_eq!(shown(&w.step(Input::Identify(user("u", 1)))), ["name"]);
}

#[test]
fn only_listed_events_are_kept_and_one_tracked_before_a_user_counts_for_them() {
    let mut w = Widget::new(config(|_| {}), None);
    w.step(Input::Start);
    w.step(Input::Track("purchase".into()));
    w.step(Input::Track("page-view".into()));
    w.step(Input::Identify(user("u", 1)));
    assert_eq!(
        w.state("u").events,
        Set::from_iter(["purchase".to_string()])
    );
    // Events passed to `new` (tracked before init) are filtered the same way.
    let s = Session::new(
        config(|_| {}),
        None,
        Set::from_iter(["x".into(), "purchase".into()]),
    );
    let store = Mem::default();
    let mut s = s;
    s.on(&store, Input::Identify(user("v", 1)), 0);
    let state = PromptState::from_json(&store.get(&state_key("v")).unwrap());
    assert_eq!(state.events, Set::from_iter(["purchase".to_string()]));
}

#[test]
fn a_tracked_event_can_make_a_stage_due_at_once() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.step(Input::Start);
    w.respond(text("Ada"));
    w.respond(text("a@b.example"));
    w.respond(Response::Dismissed);
    assert_eq!(shown(&w.step(Input::Track("purchase".into()))), ["address"]);
}

#[test]
fn a_question_settled_in_another_tab_goes_away_here() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.step(Input::Start);
    assert!(w
        .step(Input::StorageChanged)
        .iter()
        .all(|o| matches!(o, Output::Note(_))));
    let mut state = w.state("u");
    state.record_answered("name");
    w.store.set(&state_key("u"), &state.to_json());
    let out = w.step(Input::StorageChanged);
    assert_eq!(out[0], Output::Show(Screen::Hidden));
}

// --- the profile read ---------------------------------------------------------

fn with_profile_url() -> Config {
    config(|v| v["profileUrl"] = json!("/v1/profiles/{userId}"))
}

fn read_seq(out: &[Output]) -> u32 {
    out.iter()
        .find_map(|o| match o {
            Output::ReadProfile { seq, .. } => Some(*seq),
            _ => None,
        })
        .expect("a profile read")
}

#[test]
fn the_profile_is_read_and_the_first_decision_waits_for_it() {
    let mut w = Widget::new(with_profile_url(), Some(user("auth0|7", 1)));
    let out = w.step(Input::Start);
    assert_eq!(
        out,
        vec![
            Output::ReadProfile {
                seq: 1,
                url: "/v1/profiles/auth0%7C7".into(),
                user_hash: Some("ab12".into())
            },
            Output::WaitFor {
                seq: 1,
                ms: PROFILE_WAIT_MS
            },
        ]
    );
    let body =
        json!({ "profile": { "name": "Ada" }, "promptState": { "declined": [], "snoozed": [] } });
    let out = w.step(Input::ProfileArrived {
        seq: 1,
        body: Ok(body),
    });
    assert_eq!(shown(&out), ["email"], "name is known on the server");
    // The wait's timer firing later changes nothing.
    assert!(shown(&w.step(Input::ProfileWaitOver { seq: 1 })).is_empty());
}

#[test]
fn a_slow_read_lets_the_wait_decide_and_closes_a_question_it_settles() {
    let mut w = Widget::new(with_profile_url(), Some(user("u", 1)));
    w.step(Input::Start);
    assert_eq!(shown(&w.step(Input::ProfileWaitOver { seq: 1 })), ["name"]);
    let body = json!({ "profile": { "name": "Ada" } });
    let out = w.step(Input::ProfileArrived {
        seq: 1,
        body: Ok(body),
    });
    assert_eq!(
        out.iter().find(|o| matches!(o, Output::Show(_))),
        Some(&Output::Show(Screen::Hidden))
    );
    assert_eq!(shown(&out), ["email"]);
    assert!(
        queued(&out).is_empty(),
        "nothing is posted for the closed question"
    );
}

#[test]
fn a_read_that_settles_nothing_on_screen_leaves_the_question_alone() {
    let mut w = Widget::new(with_profile_url(), Some(user("u", 1)));
    w.step(Input::Start);
    w.step(Input::ProfileWaitOver { seq: 1 });
    let out = w.step(Input::ProfileArrived {
        seq: 1,
        body: Ok(json!({ "profile": { "phone": "+1" } })),
    });
    assert!(!out.iter().any(|o| matches!(o, Output::Show(_))), "{out:?}");
}

#[test]
fn a_refused_read_is_reported_and_a_failed_one_is_not() {
    let mut w = Widget::new(with_profile_url(), Some(user("u", 1)));
    w.step(Input::Start);
    let out = w.step(Input::ProfileArrived {
        seq: 1,
        body: Err(ReadFailure::Status(401)),
    });
    assert!(
        matches!(&out[0], Output::Report { code: "profile", message } if message.contains("401")),
        "{out:?}"
    );
    assert_eq!(shown(&out), ["name"]);
    for failure in [ReadFailure::Network, ReadFailure::Status(503)] {
        let mut w = Widget::new(with_profile_url(), Some(user("u", 1)));
        w.step(Input::Start);
        let out = w.step(Input::ProfileArrived {
            seq: 1,
            body: Err(failure),
        });
        assert!(!out.iter().any(|o| matches!(o, Output::Report { .. })));
        assert_eq!(shown(&out), ["name"]);
    }
}

#[test]
fn a_newer_identify_supersedes_the_read_in_flight() {
    let mut w = Widget::new(with_profile_url(), Some(user("a", 1)));
    w.step(Input::Start);
    let out = w.step(Input::Identify(user("b", 1)));
    assert!(out.contains(&Output::CancelRead));
    assert_eq!(read_seq(&out), 2);
    let stale = json!({ "profile": { "name": "A" } });
    assert!(w
        .step(Input::ProfileArrived {
            seq: 1,
            body: Ok(stale)
        })
        .is_empty());
    assert!(w.step(Input::ProfileWaitOver { seq: 1 }).is_empty());
    assert_eq!(
        shown(&w.step(Input::ProfileArrived {
            seq: 2,
            body: Ok(json!({}))
        })),
        ["name"]
    );
}

#[test]
fn sign_out_cancels_the_read() {
    let mut w = Widget::new(with_profile_url(), Some(user("a", 1)));
    w.step(Input::Start);
    assert!(w.step(Input::SignOut).contains(&Output::CancelRead));
    assert!(w
        .step(Input::ProfileArrived {
            seq: 1,
            body: Ok(json!({}))
        })
        .is_empty());
}

#[test]
fn without_a_profile_url_or_a_user_nothing_is_read() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    assert!(!w
        .step(Input::Start)
        .iter()
        .any(|o| matches!(o, Output::ReadProfile { .. })));
    let mut w = Widget::new(with_profile_url(), None);
    assert!(w.step(Input::Start).is_empty());
}

#[test]
fn user_ids_are_encoded_like_encode_uri_component() {
    assert_eq!(encode_uri_component("auth0|5f7c"), "auth0%7C5f7c");
    assert_eq!(encode_uri_component("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
    assert_eq!(encode_uri_component("A-z_0.9!~*'()"), "A-z_0.9!~*'()");
}

// --- the idle hint (contract section 4) -----------------------------------------

#[test]
fn the_idle_hint_exists_only_when_nothing_is_or_will_be_shown() {
    let mut w = Widget::new(config(|_| {}), Some(user("u", 1)));
    w.session.on(&w.store, Input::Start, w.now);
    assert_eq!(
        w.session.idle_hint(&w.store),
        None,
        "a question is about to show"
    );
    w.session.on(&w.store, Input::Displayed(true), w.now);
    assert_eq!(
        w.session.idle_hint(&w.store),
        None,
        "a question is on screen"
    );
    w.respond(Response::Snooze);
    let hint = w.session.idle_hint(&w.store).unwrap();
    assert_eq!(hint.user.as_deref(), Some("u"));
    assert_eq!(hint.logins, 1);
    assert_eq!(
        hint.events,
        ["purchase"],
        "tracking it could reach the contact stage"
    );
    w.step(Input::Track("purchase".into()));
    assert!(w.session.idle_hint(&w.store).unwrap().events.is_empty());
}

#[test]
fn nobody_signed_in_is_idle_and_an_awaited_profile_read_is_not() {
    let mut w = Widget::new(config(|_| {}), None);
    w.step(Input::Start);
    assert_eq!(w.session.idle_hint(&w.store).unwrap().user, None);
    let mut w = Widget::new(with_profile_url(), Some(user("u", 0)));
    w.step(Input::Start);
    assert_eq!(
        w.session.idle_hint(&w.store),
        None,
        "the read may change the decision"
    );
    w.step(Input::ProfileArrived {
        seq: 1,
        body: Ok(json!({})),
    });
    assert!(
        w.session.idle_hint(&w.store).is_some(),
        "login 0 reaches no stage"
    );
}
