//! The server-kept profile (contract section 2, "one user, many devices"): how a
//! profile read is understood, and the merge rule's laws. Merging is a join: in
//! any order, any number of times, the same state; nothing known on either side
//! becomes open.

use trickle_core::sorted::{Map, Set};

use proptest::prelude::*;
use serde_json::json;
use trickle_core::config::{Config, User};
use trickle_core::rules::{explain, next_question, profile_read_url, PromptState, Reason, Remote};

fn seed() -> Config {
    Config::from_json(include_str!("../fixtures/seed.config.json")).unwrap()
}

fn user(logins: u32) -> User {
    User {
        id: "u1".into(),
        logins_count: logins,
        profile: json!({}),
        user_hash: None,
        consent: Default::default(),
    }
}

fn reason(config: &Config, user: &User, state: &PromptState, question: &str) -> Option<Reason> {
    explain(config, Some(user), state, &Set::new(), false)
        .into_iter()
        .find(|e| e.question_id == question)
        .unwrap()
        .reason
}

fn fields(names: &[&str]) -> Set {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_profile_read_gives_known_fields_declines_and_snoozes_of_the_config_only() {
    let body = json!({
        "userId": "u1",
        "profile": { "name": "Ada", "email": "", "company": { "name": "Acme", "unlisted": "x" }, "shoe": 42 },
        "promptState": {
            "declined": ["phone", "not-a-field"],
            "snoozed": [{ "stage": "contact", "untilLogins": 4 }, { "stage": "gone", "untilLogins": 9 }]
        },
        "answers": [],
        "updatedAt": null,
        "suggestions": { "company.name": "Acme" }
    });
    let remote = Remote::from_profile_read(&seed(), &body).unwrap();
    assert_eq!(
        remote.known,
        fields(&["name", "company.name"]),
        "an empty string is not known"
    );
    assert_eq!(remote.declined, fields(&["phone"]));
    assert_eq!(remote.snoozed, Map::from_iter([("contact".to_string(), 4)]));
}

#[test]
fn an_empty_profile_read_knows_nothing_and_a_non_object_is_refused() {
    let empty = json!({ "userId": "u1", "profile": {}, "promptState": { "declined": [], "snoozed": [] },
                        "answers": [], "updatedAt": null });
    assert!(Remote::from_profile_read(&seed(), &empty)
        .unwrap()
        .is_empty());
    assert!(Remote::from_profile_read(&seed(), &json!({}))
        .unwrap()
        .is_empty());
    assert_eq!(Remote::from_profile_read(&seed(), &json!([1, 2])), None);
    assert_eq!(Remote::from_profile_read(&seed(), &json!("profile")), None);
}

#[test]
fn malformed_members_of_a_profile_read_are_skipped_not_fatal() {
    let body = json!({
        "profile": "not an object",
        "promptState": { "declined": "phone", "snoozed": [{ "stage": "contact" }, { "untilLogins": 3 },
                         { "stage": "basics", "untilLogins": -1 }, "x"] }
    });
    assert!(Remote::from_profile_read(&seed(), &body)
        .unwrap()
        .is_empty());
}

#[test]
fn a_field_known_on_another_device_is_known_here() {
    let config = seed();
    let mut state = PromptState::new();
    state.begin_login(1);
    assert_eq!(reason(&config, &user(1), &state, "name"), None);
    state.merge_server(&Remote {
        known: fields(&["name"]),
        ..Remote::default()
    });
    assert_eq!(
        reason(&config, &user(1), &state, "name"),
        Some(Reason::Known)
    );
    assert_eq!(
        next_question(&config, &user(1), &state, &Set::new(), false)
            .unwrap()
            .question_id,
        "email"
    );
}

#[test]
fn a_decline_on_another_device_is_a_decline_here() {
    let config = seed();
    let mut state = PromptState::new();
    state.begin_login(2);
    state.merge_server(&Remote {
        declined: fields(&["address"]),
        ..Remote::default()
    });
    assert_eq!(
        reason(&config, &user(2), &state, "address"),
        Some(Reason::Declined)
    );
    assert!(state.is_declined("address"));
    assert!(
        !state.declined.contains("address"),
        "kept apart from local declines"
    );
}

#[test]
fn a_snooze_on_another_device_holds_until_its_login() {
    let config = seed();
    let mut state = PromptState::new();
    let remote = Remote {
        snoozed: Map::from_iter([("contact".into(), 4)]),
        ..Remote::default()
    };
    state.merge_server(&remote);
    state.begin_login(3);
    assert_eq!(
        reason(&config, &user(3), &state, "address"),
        Some(Reason::Snoozed)
    );
    state.begin_login(4);
    assert_eq!(reason(&config, &user(4), &state, "address"), None);
}

#[test]
fn merging_reports_a_change_only_when_something_was_new() {
    let mut state = PromptState::new();
    let remote = Remote {
        known: fields(&["name"]),
        ..Remote::default()
    };
    assert!(state.merge_server(&remote));
    assert!(!state.merge_server(&remote));
    assert!(!state.merge_server(&Remote::default()));
}

#[test]
fn merging_a_snooze_is_a_change_only_when_it_is_new_or_later() {
    let snooze = |until| Remote {
        snoozed: Map::from_iter([("contact".into(), until)]),
        ..Remote::default()
    };
    let mut state = PromptState::new();
    assert!(state.merge_server(&snooze(4)));
    assert!(!state.merge_server(&snooze(4)));
    assert!(
        !state.merge_server(&snooze(3)),
        "an earlier snooze adds nothing"
    );
    assert_eq!(state.server_snoozed.get("contact"), Some(&4));
    assert!(state.merge_server(&snooze(5)));
    assert_eq!(state.server_snoozed.get("contact"), Some(&5));
    let declined = Remote {
        declined: fields(&["address"]),
        ..Remote::default()
    };
    assert!(state.merge_server(&declined));
    assert!(!state.merge_server(&declined));
}

#[test]
fn the_merged_state_survives_storage_and_an_empty_one_is_stored_as_before() {
    let mut state = PromptState::new();
    state.begin_login(2);
    let plain = state.to_json();
    assert!(!plain.contains("server"), "{plain}");
    let old = r#"{"version":1,"login":2,"shownThisLogin":[],"endedThisLogin":false,"shown":{},"snoozed":{},"answered":[],"declined":[],"events":[]}"#;
    assert_eq!(
        PromptState::from_json(old),
        state,
        "a state stored before v2 reads the same"
    );
    state.merge_server(&Remote {
        known: fields(&["name"]),
        declined: fields(&["phone"]),
        snoozed: Map::from_iter([("contact".into(), 3)]),
    });
    assert_eq!(PromptState::from_json(&state.to_json()), state);
}

fn remote() -> impl Strategy<Value = Remote> {
    let field = proptest::sample::select(vec![
        "name",
        "email",
        "address",
        "birthday",
        "phone",
        "company.name",
        "company.size",
    ]);
    let stage = proptest::sample::select(vec!["basics", "contact", "company"]);
    (
        proptest::collection::btree_set(field.clone(), 0..4),
        proptest::collection::btree_set(field, 0..4),
        proptest::collection::btree_map(stage, 0u32..6, 0..3),
    )
        .prop_map(|(known, declined, snoozed)| Remote {
            known: known.into_iter().map(String::from).collect(),
            declined: declined.into_iter().map(String::from).collect(),
            snoozed: snoozed
                .into_iter()
                .map(|(s, n)| (s.to_string(), n))
                .collect(),
        })
}

fn joined(a: &Remote, b: &Remote) -> Remote {
    let mut out = a.clone();
    out.join(b);
    out
}

/// A local state after some history: answers, declines and snoozes here.
fn local(answered: &Remote, logins: u32, shown: &[&str]) -> PromptState {
    let mut state = PromptState::new();
    for (stage, &at) in &answered.snoozed {
        state.record_snoozed(stage, at);
    }
    state.begin_login(logins);
    for f in &answered.known {
        state.record_answered(f);
    }
    for f in &answered.declined {
        state.record_declined(f);
    }
    for q in shown {
        state.record_shown(q);
    }
    state
}

/// A profile read's body saying what `remote` says, with each of `later`'s
/// snoozes listed again after it (a stage twice) and a stage the config lacks.
fn body_of(remote: &Remote, later: &Remote) -> serde_json::Value {
    let mut profile = json!({});
    for field in remote.known.iter() {
        match field.split_once('.') {
            Some((outer, inner)) => {
                profile[outer][inner] = json!("x");
            }
            None => profile[field.as_str()] = json!("x"),
        }
    }
    let snoozes = remote
        .snoozed
        .iter()
        .chain(later.snoozed.iter())
        .map(|(stage, until)| json!({ "stage": stage, "untilLogins": until }))
        .chain([json!({ "stage": "gone", "untilLogins": 3 })])
        .collect::<Vec<_>>();
    json!({
        "profile": profile,
        "promptState": { "declined": remote.declined.iter().collect::<Vec<_>>(), "snoozed": snoozes },
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn merging_a_profile_read_in_place_is_merging_its_remote(
        read in remote(),
        later in remote(),
        here in remote(),
        logins in 0u32..5,
    ) {
        let config = seed();
        let body = body_of(&read, &later);
        let mut by_remote = local(&here, logins, &[]);
        by_remote.merge_server(&joined(&here, &here));
        let mut in_place = by_remote.clone();
        let changed = by_remote.merge_server(&Remote::from_profile_read(&config, &body).unwrap());
        prop_assert_eq!(in_place.merge_profile_read(&config, body.as_object().unwrap()), changed);
        prop_assert_eq!(in_place, by_remote);
    }

    #[test]
    fn join_is_commutative_associative_and_idempotent(a in remote(), b in remote(), c in remote()) {
        prop_assert_eq!(joined(&a, &b), joined(&b, &a));
        prop_assert_eq!(joined(&joined(&a, &b), &c), joined(&a, &joined(&b, &c)));
        prop_assert_eq!(joined(&a, &a), a.clone());
        prop_assert_eq!(joined(&joined(&a, &b), &b), joined(&a, &b));
    }

    #[test]
    fn merging_reads_in_any_order_or_twice_gives_the_same_state(a in remote(), b in remote(), here in remote(), logins in 0u32..5) {
        let base = local(&here, logins, &[]);
        let mut ab = base.clone();
        ab.merge_server(&a);
        ab.merge_server(&b);
        let mut ba = base.clone();
        ba.merge_server(&b);
        ba.merge_server(&a);
        ba.merge_server(&a);
        prop_assert_eq!(&ab, &ba);
        let mut once = base;
        once.merge_server(&joined(&a, &b));
        prop_assert_eq!(ab, once);
    }

    #[test]
    fn nothing_known_on_either_side_becomes_open(
        here in remote(),
        there in remote(),
        logins in 0u32..6,
        shown in proptest::sample::subsequence(vec!["name", "email", "address", "phone"], 0..=4),
    ) {
        let config = seed();
        let user = user(logins);
        let before = local(&here, logins, &shown);
        let mut after = before.clone();
        after.merge_server(&there);
        let none = Set::new();
        let was = explain(&config, Some(&user), &before, &none, false);
        let now = explain(&config, Some(&user), &after, &none, false);
        for (w, n) in was.iter().zip(&now) {
            prop_assert!(!n.open || w.open, "{} was closed ({:?}) and opened", w.question_id, w.reason);
            let closed_there = there.known.contains(&n.field)
                || there.declined.contains(&n.field)
                || there.snoozed.get(&n.stage).is_some_and(|&until| logins < until);
            prop_assert!(!(closed_there && n.open), "{} is closed on the server but open here", n.question_id);
        }
        if let Some(due) = next_question(&config, &user, &after, &none, false) {
            prop_assert!(!there.known.contains(&due.field) && !there.declined.contains(&due.field));
        }
    }
}

#[test]
fn the_profile_read_url_fills_every_user_id_placeholder() {
    assert_eq!(
        profile_read_url("/v1/profiles/{userId}", "auth0%7C1"),
        "/v1/profiles/auth0%7C1"
    );
    assert_eq!(
        profile_read_url("https://c.example/{userId}/p?u={userId}", "a"),
        "https://c.example/a/p?u=a"
    );
    assert_eq!(profile_read_url("/me/profile", "a"), "/me/profile");
    assert_eq!(profile_read_url("/p/ü/{userId}{", "x"), "/p/ü/x{");
    assert_eq!(profile_read_url("{userI", "x"), "{userI");
}
