//! Table tests of the stage rule (contract section 2) on the seed config's three
//! stages, and of the prompt state's storage rules.

use trickle_core::sorted::Set;

use serde_json::{json, Value};
use trickle_core::config::{Config, User};
use trickle_core::rules::{
    explain, is_present, known_fields, next_question, profile_value, Due, PromptState, Reason,
    STATE_VERSION,
};

fn seed() -> Config {
    Config::from_json(include_str!("../fixtures/seed.config.json")).unwrap()
}

fn seed_with_cadence(cadence: Value) -> Config {
    let mut v: Value = serde_json::from_str(include_str!("../fixtures/seed.config.json")).unwrap();
    v["cadence"] = cadence;
    Config::from_value(v).unwrap()
}

fn user(logins: u32, profile: Value) -> User {
    User {
        id: "u1".into(),
        logins_count: logins,
        profile,
        user_hash: None,
    }
}

fn none() -> Set {
    Set::new()
}

fn events(names: &[&str]) -> Set {
    names.iter().map(|s| s.to_string()).collect()
}

/// Plays one login in which the user answers every question shown; returns the
/// question ids in the order shown.
fn answer_all(config: &Config, user: &User, state: &mut PromptState, ev: &Set) -> Vec<String> {
    state.begin_login(user.logins_count);
    let mut shown = Vec::new();
    while let Some(due) = next_question(config, user, state, ev) {
        assert!(shown.len() < 20, "runaway loop");
        state.record_shown(&due.question_id);
        state.record_answered(&due.field);
        shown.push(due.question_id);
    }
    shown
}

fn reason_of(
    config: &Config,
    user: &User,
    state: &PromptState,
    ev: &Set,
    q: &str,
) -> Option<Reason> {
    explain(config, Some(user), state, ev)
        .into_iter()
        .find(|e| e.question_id == q)
        .unwrap()
        .reason
}

#[test]
fn login_1_with_empty_profile_asks_the_basics_stage() {
    let config = seed();
    let mut state = PromptState::new();
    let shown = answer_all(&config, &user(1, json!({})), &mut state, &none());
    assert_eq!(shown, ["name", "email"]);
}

#[test]
fn login_1_shows_progress_over_the_basics() {
    let config = seed();
    let u = user(1, json!({}));
    let mut state = PromptState::new();
    state.begin_login(1);
    let due = next_question(&config, &u, &state, &none()).unwrap();
    assert_eq!(
        due,
        Due {
            stage: "basics".into(),
            question_id: "name".into(),
            field: "name".into(),
            position: 1,
            total: 2
        }
    );
    state.record_shown("name");
    state.record_answered("name");
    let due = next_question(&config, &u, &state, &none()).unwrap();
    assert_eq!(
        (due.question_id.as_str(), due.position, due.total),
        ("email", 2, 2)
    );
}

#[test]
fn login_1_with_basics_known_shows_nothing() {
    let config = seed();
    let u = user(1, json!({ "name": "Ada", "email": "ada@example.com" }));
    let mut state = PromptState::new();
    state.begin_login(1);
    assert_eq!(next_question(&config, &u, &state, &none()), None);
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "name"),
        Some(Reason::Known)
    );
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "address"),
        Some(Reason::StageNotReached)
    );
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "role"),
        Some(Reason::StageNotReached)
    );
}

#[test]
fn login_2_with_empty_profile_asks_basics_first_then_stops_at_the_cap() {
    let config = seed();
    let u = user(2, json!({}));
    let mut state = PromptState::new();
    assert_eq!(
        answer_all(&config, &u, &mut state, &none()),
        ["name", "email", "address"]
    );
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "birthday"),
        Some(Reason::CapReached)
    );
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "company-name"),
        Some(Reason::StageNotReached)
    );
}

#[test]
fn login_2_with_basics_known_asks_the_contact_stage() {
    let config = seed();
    let u = user(2, json!({ "name": "Ada", "email": "ada@example.com" }));
    assert_eq!(
        answer_all(&config, &u, &mut PromptState::new(), &none()),
        ["address", "birthday", "phone"]
    );
}

#[test]
fn login_3_with_an_empty_profile_asks_the_earlier_stage_first() {
    let config = seed();
    let u = user(3, json!({}));
    assert_eq!(
        answer_all(&config, &u, &mut PromptState::new(), &none()),
        ["name", "email", "address"]
    );
}

#[test]
fn login_3_with_a_partial_profile_moves_on_to_the_company_stage() {
    let config = seed();
    let u = user(
        3,
        json!({ "name": "Ada", "email": "a@b.co", "address": "1 Main St", "birthday": "1990-01-01", "phone": "+4930123456" }),
    );
    assert_eq!(
        answer_all(&config, &u, &mut PromptState::new(), &none()),
        ["company-name", "company-size", "industry"]
    );
}

#[test]
fn successive_logins_walk_through_all_three_stages() {
    let config = seed();
    let mut state = PromptState::new();
    let mut profile = json!({});
    let mut asked = Vec::new();
    for login in 1..=5 {
        let u = user(login, profile.clone());
        let shown = answer_all(&config, &u, &mut state, &none());
        // The host's profile catches up with what was answered.
        for q in &shown {
            let field = &config.question(q).unwrap().1.field;
            let mut node = &mut profile;
            let parts: Vec<&str> = field.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                node = node
                    .as_object_mut()
                    .unwrap()
                    .entry(p.to_string())
                    .or_insert(json!({}));
            }
            node[parts[parts.len() - 1]] = json!("x");
        }
        asked.push(shown);
    }
    let expected: Vec<Vec<&str>> = vec![
        vec!["name", "email"],
        vec!["address", "birthday", "phone"],
        vec!["company-name", "company-size", "industry"],
        vec!["role"],
        vec![],
    ];
    assert_eq!(asked, expected);
}

#[test]
fn nested_profile_values_are_found_by_dot_path() {
    let config = seed();
    let u = user(
        3,
        json!({ "name": "Ada", "email": "a@b.co", "address": "x", "birthday": "1990-01-01", "phone": "12345",
                "company": { "name": "Acme", "size": "11-50" } }),
    );
    let mut state = PromptState::new();
    state.begin_login(3);
    assert_eq!(
        next_question(&config, &u, &state, &none())
            .unwrap()
            .question_id,
        "industry"
    );
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "company-name"),
        Some(Reason::Known)
    );
}

#[test]
fn empty_string_null_and_empty_array_count_as_missing() {
    let config = seed();
    let u = user(1, json!({ "name": "", "email": null }));
    let mut state = PromptState::new();
    state.begin_login(1);
    assert_eq!(
        next_question(&config, &u, &state, &none())
            .unwrap()
            .question_id,
        "name"
    );
    let u = user(1, json!({ "name": [], "email": "  " }));
    assert_eq!(
        next_question(&config, &u, &state, &none())
            .unwrap()
            .question_id,
        "name"
    );
    assert!(!is_present(&json!([])));
    assert!(!is_present(&json!(null)));
    assert!(!is_present(&json!("")));
    assert!(is_present(&json!(0)));
    assert!(is_present(&json!(false)));
    assert!(is_present(&json!(["a"])));
}

#[test]
fn dot_path_lookup_stops_at_non_objects() {
    let profile = json!({ "company": "Acme", "a": { "b": { "c": 1 } } });
    assert_eq!(profile_value(&profile, "a.b.c"), Some(&json!(1)));
    assert_eq!(profile_value(&profile, "company.name"), None);
    assert_eq!(profile_value(&profile, "a.x"), None);
}

#[test]
fn purchase_event_reaches_the_contact_stage_before_login_2() {
    let config = seed();
    let u = user(1, json!({ "name": "Ada", "email": "a@b.co" }));
    let mut state = PromptState::new();
    state.begin_login(1);
    assert_eq!(next_question(&config, &u, &state, &none()), None);
    assert_eq!(
        next_question(&config, &u, &state, &events(&["purchase"]))
            .unwrap()
            .question_id,
        "address"
    );
    assert_eq!(
        next_question(&config, &u, &state, &events(&["signup"])),
        None,
        "other events do not count"
    );
}

#[test]
fn purchase_event_recorded_in_state_survives_a_reload() {
    let config = seed();
    let u = user(1, json!({ "name": "Ada", "email": "a@b.co" }));
    let mut state = PromptState::new();
    state.begin_login(1);
    state.record_event("purchase");
    let reloaded = PromptState::from_json(&state.to_json());
    assert_eq!(
        next_question(&config, &u, &reloaded, &none())
            .unwrap()
            .question_id,
        "address"
    );
}

#[test]
fn purchase_event_still_asks_the_earlier_stage_first() {
    let config = seed();
    let u = user(1, json!({}));
    assert_eq!(
        answer_all(&config, &u, &mut PromptState::new(), &events(&["purchase"])),
        ["name", "email", "address"]
    );
}

#[test]
fn a_declined_field_is_never_asked_again() {
    let config = seed();
    let u = user(2, json!({ "name": "Ada", "email": "a@b.co" }));
    let mut state = PromptState::new();
    state.begin_login(2);
    state.record_shown("address");
    state.record_declined("address");
    let due = next_question(&config, &u, &state, &none()).unwrap();
    assert_eq!(
        (due.question_id.as_str(), due.position, due.total),
        ("birthday", 2, 3)
    );
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "address"),
        Some(Reason::Declined)
    );
    let later = user(9, u.profile.clone());
    state.begin_login(9);
    assert_eq!(
        reason_of(&config, &later, &state, &none(), "address"),
        Some(Reason::Declined)
    );
    assert!(known_fields(&config, &later, &state).contains("address"));
}

#[test]
fn not_now_ends_this_login_and_snoozes_the_stage_for_snooze_logins() {
    let config = seed_with_cadence(json!({ "snoozeLogins": 2 }));
    let profile = json!({ "name": "Ada", "email": "a@b.co" });
    let mut state = PromptState::new();
    state.begin_login(2);
    state.record_shown("address");
    state.record_snoozed("contact", 2);
    let u2 = user(2, profile.clone());
    assert_eq!(
        next_question(&config, &u2, &state, &none()),
        None,
        "Not now ends this login"
    );
    assert_eq!(
        reason_of(&config, &u2, &state, &none(), "address"),
        Some(Reason::Snoozed)
    );
    // Login 3: contact still snoozed (2 + 2 > 3); the company stage goes on.
    state.begin_login(3);
    let u3 = user(3, profile.clone());
    assert_eq!(
        next_question(&config, &u3, &state, &none())
            .unwrap()
            .question_id,
        "company-name"
    );
    assert_eq!(
        reason_of(&config, &u3, &state, &none(), "birthday"),
        Some(Reason::Snoozed)
    );
    // Login 4: the snooze is over and the earlier stage comes first again.
    state.begin_login(4);
    assert_eq!(
        next_question(&config, &user(4, profile), &state, &none())
            .unwrap()
            .question_id,
        "address"
    );
}

#[test]
fn not_now_with_default_cadence_returns_the_stage_at_the_next_login() {
    let config = seed();
    let profile = json!({ "name": "Ada", "email": "a@b.co" });
    let mut state = PromptState::new();
    state.begin_login(2);
    state.record_shown("address");
    state.record_snoozed("contact", 2);
    state.begin_login(3);
    assert_eq!(
        next_question(&config, &user(3, profile), &state, &none())
            .unwrap()
            .question_id,
        "address"
    );
}

#[test]
fn not_now_in_one_stage_ends_the_login_for_the_other_stages_too() {
    let config = seed();
    let u = user(3, json!({ "name": "Ada", "email": "a@b.co" }));
    let mut state = PromptState::new();
    state.begin_login(3);
    state.record_shown("address");
    state.record_snoozed("contact", 3);
    assert_eq!(next_question(&config, &u, &state, &none()), None);
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "company-name"),
        Some(Reason::Snoozed)
    );
}

#[test]
fn a_question_shown_max_asks_times_unanswered_is_not_asked_again() {
    let config = seed_with_cadence(json!({ "maxAsks": 2, "snoozeLogins": 0 }));
    let u = |n| user(n, json!({}));
    let mut state = PromptState::new();
    for login in 1..=2 {
        state.begin_login(login);
        assert_eq!(
            next_question(&config, &u(login), &state, &none())
                .unwrap()
                .question_id,
            "name"
        );
        state.record_shown("name");
        state.record_snoozed("basics", login);
    }
    state.begin_login(3);
    assert_eq!(
        reason_of(&config, &u(3), &state, &none(), "name"),
        Some(Reason::MaxAsks)
    );
    assert_eq!(
        next_question(&config, &u(3), &state, &none())
            .unwrap()
            .question_id,
        "email"
    );
}

#[test]
fn the_cap_and_shown_counts_hold_across_a_reload() {
    let config = seed();
    let u = user(2, json!({}));
    let mut state = PromptState::new();
    answer_all(&config, &u, &mut state, &none());
    // Reload: same loginsCount, state read back from storage.
    let mut reloaded = PromptState::from_json(&state.to_json());
    assert!(
        !reloaded.begin_login(2),
        "the same loginsCount is the same login"
    );
    assert_eq!(reloaded, state);
    assert_eq!(next_question(&config, &u, &reloaded, &none()), None);
    // A new login lifts the cap.
    assert!(reloaded.begin_login(3));
    assert_eq!(
        next_question(&config, &user(3, json!({})), &reloaded, &none())
            .unwrap()
            .question_id,
        "birthday"
    );
}

#[test]
fn a_question_left_unanswered_by_a_reload_is_shown_again_and_counted_once() {
    let config = seed();
    let u = user(1, json!({}));
    let mut state = PromptState::new();
    state.begin_login(1);
    state.record_shown("name");
    let mut reloaded = PromptState::from_json(&state.to_json());
    reloaded.begin_login(1);
    let due = next_question(&config, &u, &reloaded, &none()).unwrap();
    assert_eq!(
        (due.question_id.as_str(), due.position, due.total),
        ("name", 1, 2)
    );
    reloaded.record_shown("name");
    assert_eq!(reloaded.shown.get("name").copied().unwrap_or(0), 1);
    assert_eq!(reloaded.shown_this_login, ["name"]);
}

#[test]
fn a_stale_login_in_state_reads_as_a_fresh_login() {
    let config = seed();
    let mut state = PromptState::new();
    answer_all(&config, &user(2, json!({})), &mut state, &none());
    // begin_login(3) not called yet: the rule still treats loginsCount 3 as new.
    let due = next_question(&config, &user(3, json!({})), &state, &none()).unwrap();
    assert_eq!((due.question_id.as_str(), due.position), ("birthday", 1));
}

#[test]
fn cap_of_one_shows_a_single_question_per_login() {
    let config = seed_with_cadence(json!({ "maxQuestionsPerLogin": 1 }));
    let u = user(2, json!({}));
    assert_eq!(
        answer_all(&config, &u, &mut PromptState::new(), &none()),
        ["name"]
    );
}

#[test]
fn answered_fields_count_as_known_before_the_profile_has_them() {
    let config = seed();
    let u = user(1, json!({}));
    let mut state = PromptState::new();
    state.begin_login(1);
    state.record_answered("name");
    assert_eq!(
        reason_of(&config, &u, &state, &none(), "name"),
        Some(Reason::Known)
    );
    assert_eq!(
        known_fields(&config, &u, &state),
        ["name".to_string()].into_iter().collect()
    );
}

#[test]
fn explain_without_a_user_reports_no_user_for_every_question() {
    let config = seed();
    let all = explain(&config, None, &PromptState::new(), &none());
    assert_eq!(all.len(), 9);
    assert!(all
        .iter()
        .all(|e| !e.open && e.reason == Some(Reason::NoUser)));
}

#[test]
fn explain_lists_every_question_in_config_order_with_open_flags() {
    let config = seed();
    let u = user(2, json!({ "name": "Ada" }));
    let mut state = PromptState::new();
    state.begin_login(2);
    let all = explain(&config, Some(&u), &state, &none());
    let summary: Vec<(&str, bool, Option<&str>)> = all
        .iter()
        .map(|e| (e.question_id.as_str(), e.open, e.reason.map(Reason::as_str)))
        .collect();
    assert_eq!(
        summary,
        [
            ("name", false, Some("known")),
            ("email", true, None),
            ("address", true, None),
            ("birthday", true, None),
            ("phone", true, None),
            ("company-name", false, Some("stage-not-reached")),
            ("company-size", false, Some("stage-not-reached")),
            ("industry", false, Some("stage-not-reached")),
            ("role", false, Some("stage-not-reached")),
        ]
    );
}

#[test]
fn explanation_serializes_with_contract_names() {
    let config = seed();
    let all = explain(
        &config,
        Some(&user(1, json!({ "name": "Ada" }))),
        &PromptState::new(),
        &none(),
    );
    assert_eq!(
        serde_json::to_value(&all[0]).unwrap(),
        json!({ "questionId": "name", "stage": "basics", "field": "name", "open": false, "reason": "known" })
    );
    assert_eq!(
        serde_json::to_value(&all[1]).unwrap()["reason"],
        Value::Null
    );
    assert_eq!(
        serde_json::to_value(Reason::StageNotReached).unwrap(),
        json!("stage-not-reached")
    );
    assert_eq!(
        serde_json::to_value(Reason::CapReached).unwrap(),
        json!("cap-reached")
    );
    assert_eq!(
        serde_json::to_value(Reason::MaxAsks).unwrap(),
        json!("max-asks")
    );
    assert_eq!(
        serde_json::to_value(Reason::NoUser).unwrap(),
        json!("no-user")
    );
}

#[test]
fn prompt_state_round_trips_through_its_stored_form() {
    let mut state = PromptState::new();
    state.seen_at = 1_700_000_000_000;
    state.merge_server(&trickle_core::rules::Remote {
        known: ["company.name".to_string()].into_iter().collect(),
        declined: ["phone".to_string()].into_iter().collect(),
        snoozed: [("contact".to_string(), 6)].into_iter().collect(),
    });
    state.begin_login(4);
    state.record_shown("name");
    state.record_answered("name");
    state.record_declined("phone");
    state.record_snoozed("contact", 4);
    state.record_event("purchase");
    let json = state.to_json();
    assert_eq!(PromptState::from_json(&json), state);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["version"], json!(STATE_VERSION));
    assert_eq!(v["login"], json!(4));
}

#[test]
fn corrupt_or_foreign_prompt_state_gives_a_clean_start() {
    let clean = PromptState::new();
    for stored in [
        "",
        "garbage",
        "null",
        "[]",
        "{}",
        "{\"version\":2,\"login\":3}",
        "{\"version\":1,\"login\":-1}",
        "{\"version\":1,\"shown\":[1,2]}",
        "{\"version\":1,\"other\":true}",
        "{\"version\":1,\"answered\":[\"a\",3]}",
        "{\"version\":1,\"shown\":{\"q\":-1}}",
        "{\"version\":1,\"serverSnoozed\":{\"s\":4294967296}}",
        "{\"version\":1,\"seenAt\":\"x\"}",
        "{\"version\":1,\"endedThisLogin\":1}",
        "{\"queue\":[]}",
        "{\"version\":1,\"login\":3",
        "\u{0}\u{ffff}",
    ] {
        assert_eq!(PromptState::from_json(stored), clean, "{stored:?}");
    }
}

#[test]
fn a_minimal_stored_state_of_this_version_is_accepted() {
    let state = PromptState::from_json("{\"version\":1,\"login\":2,\"declined\":[\"phone\"]}");
    assert_eq!(state.login, Some(2));
    assert!(state.declined.contains("phone"));
}

#[test]
fn a_lower_login_count_does_not_start_a_new_login() {
    let mut state = PromptState::new();
    assert!(state.begin_login(4));
    state.record_shown("name");
    assert!(!state.begin_login(3), "an older tab does not reset the cap");
    assert_eq!(state.login, Some(4));
    assert_eq!(state.shown_this_login, vec!["name".to_string()]);
    assert!(state.begin_login(5));
    assert!(state.shown_this_login.is_empty());
}

#[test]
fn two_tabs_on_different_login_counts_share_one_cap() {
    let config = seed_with_cadence(json!({ "maxQuestionsPerLogin": 2 }));
    let (old, new) = (user(3, json!({})), user(4, json!({})));
    let mut state = PromptState::new();
    let mut shown = Vec::new();
    // The tabs take turns, each re-reading the shared state first.
    for tab in [&old, &new, &old, &new, &old, &new] {
        state = PromptState::from_json(&state.to_json());
        state.begin_login(tab.logins_count);
        if let Some(due) = next_question(&config, tab, &state, &none()) {
            state.record_shown(&due.question_id);
            state.record_answered(&due.field);
            shown.push(due.question_id);
        }
    }
    // One in login 3 before the other tab counted login 4, then two in login 4
    // between both tabs; before the fix each tab reset the other's login.
    assert_eq!(shown, ["name", "email", "address"]);
    assert_eq!(
        reason_of(&config, &old, &state, &none(), "birthday"),
        Some(Reason::CapReached)
    );
    assert_eq!(
        reason_of(&config, &new, &state, &none(), "birthday"),
        Some(Reason::CapReached)
    );
}

#[test]
fn not_now_in_a_tab_on_an_older_login_ends_the_newest_login_too() {
    let config = seed();
    let mut state = PromptState::new();
    state.begin_login(4);
    state.record_snoozed("basics", 3);
    assert!(state.ended_this_login);
    assert_eq!(
        reason_of(&config, &user(4, json!({})), &state, &none(), "address"),
        Some(Reason::Snoozed)
    );
}

#[test]
fn a_state_unused_for_90_days_is_stale_and_one_of_unknown_age_is_not() {
    let day = 24 * 60 * 60_000;
    let mut state = PromptState::new();
    assert!(!state.is_stale(1_000 * day), "unknown age");
    state.seen_at = 10 * day;
    assert!(!state.is_stale(100 * day));
    assert!(state.is_stale(100 * day + 1));
    let stored = PromptState::from_json(&state.to_json());
    assert_eq!(stored.seen_at, 10 * day);
}

#[test]
fn only_events_a_stage_lists_are_worth_keeping() {
    let config = seed();
    assert!(trickle_core::rules::lists_event(&config, "purchase"));
    assert!(!trickle_core::rules::lists_event(&config, "page-view"));
}
