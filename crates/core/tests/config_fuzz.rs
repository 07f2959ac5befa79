//! Arbitrary input never panics the parsers: random JSON trees and strings, and
//! the seed config with one random subtree replaced (to get past the first key
//! into the validation pass). Stored state parsers get the same treatment.

use proptest::prelude::*;
use serde_json::{Map, Value};
use trickle_core::answer::{check_envelope, Envelope};
use trickle_core::config::{Config, User};
use trickle_core::outbox::Outbox;
use trickle_core::rules::{explain, next_question, PromptState};

fn seed() -> Value {
    serde_json::from_str(include_str!("../fixtures/seed.config.json")).unwrap()
}

/// Keys that the config uses, so random objects often hit real fields.
const KEYS: &[&str] = &[
    "endpoint",
    "stages",
    "id",
    "questions",
    "kind",
    "field",
    "prompt",
    "options",
    "value",
    "label",
    "minLogins",
    "events",
    "user",
    "loginsCount",
    "profile",
    "cadence",
    "maxLength",
    "allowOther",
    "locale",
    "en",
    "de",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN/inf become null
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_string())),
        prop::sample::select(vec![
            "text",
            "choice",
            "multichoice",
            "https://a.b",
            "/x",
            "",
            "de-AT",
            "#fff"
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_string),
                        ".{0,6}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Every JSON pointer in a value (the root excluded).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

fn exercise(config: Value) {
    let text = config.to_string();
    let from_value = Config::from_value(config);
    let from_json = Config::from_json(&text);
    // Both entry points agree on where the problem is (messages may differ in
    // the last digit of a float echoed back, as text parsing rounds).
    assert_eq!(
        from_value.as_ref().err().map(|e| &e.path),
        from_json.as_ref().err().map(|e| &e.path)
    );
    if let Ok(config) = from_value {
        // A config that parses can be used: the rule runs on its user.
        let state = PromptState::new();
        let events = Default::default();
        if let Some(user) = &config.user {
            let _ = next_question(&config, user, &state, &events, false);
        }
        let _ = explain(&config, config.user.as_ref(), &state, &events, false);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_values_never_panic_the_config_parser(value in json_value()) {
        exercise(value.clone());
        let _ = User::from_value(value.clone());
        let _ = Envelope::from_json(&value.to_string());
    }

    #[test]
    fn arbitrary_strings_never_panic_the_parsers(text in ".{0,200}") {
        let _ = Config::from_json(&text);
        let _ = User::from_json(&text);
        let _ = Envelope::from_json(&text);
        let _ = PromptState::from_json(&text);
        let _ = Outbox::from_json(&text);
    }

    #[test]
    fn the_seed_with_one_subtree_replaced_never_panics(pick in any::<prop::sample::Index>(), replacement in json_value()) {
        let mut config = seed();
        let mut all = Vec::new();
        pointers(&config, String::new(), &mut all);
        let pointer = pick.get(&all).clone();
        *config.pointer_mut(&pointer).unwrap() = replacement;
        let errors_name_a_path = Config::from_value(config.clone()).err().map(|e| !e.path.is_empty() || e.message.contains("JSON"));
        prop_assert!(errors_name_a_path.unwrap_or(true), "an error inside the config must name its path");
        exercise(config);
    }

    #[test]
    fn the_example_envelope_with_one_subtree_replaced_never_panics(pick in any::<prop::sample::Index>(), replacement in json_value()) {
        let config = Config::from_value(seed()).unwrap();
        let mut env: Value = serde_json::from_str(include_str!("../fixtures/envelope.example.json")).unwrap();
        let mut all = Vec::new();
        pointers(&env, String::new(), &mut all);
        let pointer = pick.get(&all).clone();
        *env.pointer_mut(&pointer).unwrap() = replacement;
        if let Ok(env) = Envelope::from_json(&env.to_string()) {
            let _ = check_envelope(&config, &env);
        }
    }
}

#[test]
fn deeply_nested_json_is_refused_without_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Config::from_json(&deep).is_err());
    let deep_profile = format!(
        "{{\"endpoint\":\"/a\",\"user\":{{\"id\":\"u\",\"profile\":{}1{}}},\"stages\":[]}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    assert!(Config::from_json(&deep_profile).is_err());
}
