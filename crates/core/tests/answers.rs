//! Answer value validation per kind (shared by popup and collector) and the posted
//! envelope of contract section 3.

use serde_json::json;
use trickle_core::answer::{
    check_envelope, check_value, is_timestamp, normalize_envelope, Envelope, Status, Value,
    ValueError,
};
use trickle_core::config::{Config, Question};
use trickle_core::i18n::strings;

fn config() -> Config {
    Config::from_json(include_str!("../fixtures/seed.config.json")).unwrap()
}

fn question(kind: &str, extra: serde_json::Value) -> Question {
    let mut q = json!({ "id": "q", "field": "f", "kind": kind, "prompt": "Q?" });
    q.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    serde_json::from_value(q).unwrap()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn many(items: &[&str]) -> Value {
    Value::Many(items.iter().map(|s| s.to_string()).collect())
}

fn choice_q(allow_other: bool) -> Question {
    question(
        "choice",
        json!({ "allowOther": allow_other, "options": [{ "value": "a", "label": "A" }, { "value": "b", "label": "B" }] }),
    )
}

fn multi_q(allow_other: bool) -> Question {
    question(
        "multichoice",
        json!({ "allowOther": allow_other, "maxLength": 5,
                "options": [{ "value": "a", "label": "A" }, { "value": "b", "label": "B" }, { "value": "c", "label": "C" }] }),
    )
}

#[test]
fn text_is_trimmed_and_required() {
    let q = question("text", json!({}));
    assert_eq!(check_value(&q, &text("  Ada "), false), Ok(text("Ada")));
    assert_eq!(
        check_value(&q, &text("   "), false),
        Err(ValueError::Required)
    );
    assert_eq!(check_value(&q, &text(""), false), Err(ValueError::Required));
}

#[test]
fn max_length_counts_characters_not_bytes() {
    let q = question("text", json!({ "maxLength": 3 }));
    assert_eq!(
        check_value(&q, &text("Zoë"), false),
        Ok(text("Zoë")),
        "4 bytes, 3 characters"
    );
    assert_eq!(check_value(&q, &text("日本語"), false), Ok(text("日本語")));
    assert_eq!(
        check_value(&q, &text("Zoës"), false),
        Err(ValueError::TooLong { max: 3 })
    );
}

#[test]
fn default_max_length_is_200_characters() {
    let q = question("text", json!({}));
    assert!(check_value(&q, &text(&"é".repeat(200)), false).is_ok());
    assert_eq!(
        check_value(&q, &text(&"é".repeat(201)), false),
        Err(ValueError::TooLong { max: 200 })
    );
}

#[test]
fn email_accepts_common_addresses() {
    let q = question("email", json!({}));
    for ok in [
        "ada@example.com",
        "a.b+tag@sub.example.co.uk",
        "x_y-z@ex-ample.io",
        "zoë@exämple.de",
        " ada@example.com ",
        // Letters and digits of any script, as IDNA allows them.
        "иван@пример.рф",
        "李@例子.中国",
    ] {
        assert!(check_value(&q, &text(ok), false).is_ok(), "{ok}");
    }
}

#[test]
fn email_refuses_malformed_addresses() {
    let q = question("email", json!({}));
    for bad in [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "a da@example.com",
        "ada@exa_mple.com",
        ".ada@example.com",
        "ad..a@example.com",
        "ada@-example.com",
        "ada@example.c",
        "ada@example.123",
        "ada@example..com",
        // Whitespace and control characters beyond ASCII are not part of a name.
        "ada@exam\u{a0}ple.com",
        "ad\u{2003}a@example.com",
        "ada@exam\u{85}ple.com",
    ] {
        assert_eq!(
            check_value(&q, &text(bad), false),
            Err(ValueError::InvalidEmail),
            "{bad}"
        );
    }
}

#[test]
fn tel_accepts_typed_phone_numbers() {
    let q = question("tel", json!({}));
    for ok in [
        "+49 30 1234567",
        "(030) 123-4567",
        "030/1234567",
        "+1.415.555.0100",
        "12345",
    ] {
        assert!(check_value(&q, &text(ok), false).is_ok(), "{ok}");
    }
}

#[test]
fn tel_refuses_letters_short_and_long_numbers() {
    let q = question("tel", json!({}));
    for bad in [
        "call me",
        "1234",
        "+1234567890123456",
        "12+345678",
        "0800-FLOWERS",
        // Characters outside ASCII whose low byte is a separator's (U+0120 and
        // ' ', U+202D and '-'): a separator is the ASCII character, not a byte of it.
        "030\u{120}1234567",
        "030\u{202d}1234567",
    ] {
        assert_eq!(
            check_value(&q, &text(bad), false),
            Err(ValueError::InvalidTel),
            "{bad}"
        );
    }
}

#[test]
fn url_gets_https_when_typed_without_scheme() {
    let q = question("url", json!({}));
    assert_eq!(
        check_value(&q, &text("acme.com"), false),
        Ok(text("https://acme.com"))
    );
    assert_eq!(
        check_value(&q, &text("http://acme.com/x?y#z"), false),
        Ok(text("http://acme.com/x?y#z"))
    );
    assert_eq!(
        check_value(&q, &text("https://localhost:8080"), false),
        Ok(text("https://localhost:8080"))
    );
}

#[test]
fn url_refuses_other_schemes_and_bad_hosts() {
    let q = question("url", json!({}));
    for bad in [
        "javascript:alert(1)",
        "ftp://acme.com",
        "acme",
        "https://",
        "https://ac me.com",
        "https://user@acme.com",
        "http://-x.com",
    ] {
        assert_eq!(
            check_value(&q, &text(bad), false),
            Err(ValueError::InvalidUrl),
            "{bad}"
        );
    }
}

#[test]
fn number_accepts_numbers_and_numeric_text() {
    let q = question("number", json!({}));
    assert_eq!(
        check_value(&q, &Value::Number(42.0), false),
        Ok(Value::Number(42.0))
    );
    assert_eq!(
        check_value(&q, &text(" -3.5 "), false),
        Ok(Value::Number(-3.5))
    );
    assert_eq!(
        check_value(&q, &text("1e3"), false),
        Ok(Value::Number(1000.0))
    );
}

#[test]
fn number_refuses_words_infinity_and_nan() {
    let q = question("number", json!({}));
    for bad in ["twelve", "inf", "NaN", "0x10", "1,5", "--1"] {
        assert_eq!(
            check_value(&q, &text(bad), false),
            Err(ValueError::InvalidNumber),
            "{bad}"
        );
    }
    assert_eq!(
        check_value(&q, &Value::Number(f64::INFINITY), false),
        Err(ValueError::InvalidNumber)
    );
    assert_eq!(
        check_value(&q, &Value::Number(f64::NAN), false),
        Err(ValueError::InvalidNumber)
    );
    assert_eq!(check_value(&q, &text(""), false), Err(ValueError::Required));
}

#[test]
fn date_accepts_calendar_valid_days_including_leap_days() {
    let q = question("date", json!({}));
    for ok in [
        "2024-02-29",
        "2000-02-29",
        "1999-12-31",
        "0001-01-01",
        " 2026-11-30 ",
    ] {
        assert!(check_value(&q, &text(ok), false).is_ok(), "{ok}");
    }
}

#[test]
fn date_refuses_impossible_days_and_other_formats() {
    let q = question("date", json!({}));
    for bad in [
        "2023-02-29",
        "1900-02-29",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "0000-01-01",
        "26-11-30",
        "2026/11/30",
        "30.11.2026",
        "2026-1-30",
        "2026-11-30T00:00:00Z",
        "２０２６-11-30",
    ] {
        assert_eq!(
            check_value(&q, &text(bad), false),
            Err(ValueError::InvalidDate),
            "{bad}"
        );
    }
}

#[test]
fn choice_accepts_only_option_values() {
    let q = choice_q(false);
    assert_eq!(check_value(&q, &text("a"), false), Ok(text("a")));
    assert_eq!(
        check_value(&q, &text("z"), false),
        Err(ValueError::NotAnOption { value: "z".into() })
    );
    assert_eq!(check_value(&q, &text(""), false), Err(ValueError::Required));
    assert!(matches!(
        check_value(&q, &many(&["a"]), false),
        Err(ValueError::WrongType { .. })
    ));
}

#[test]
fn choice_other_text_needs_allow_other_and_is_trimmed() {
    assert!(matches!(
        check_value(&choice_q(false), &text("Plumbing"), true),
        Err(ValueError::Other(_))
    ));
    let q = choice_q(true);
    assert_eq!(
        check_value(&q, &text(" Plumbing "), true),
        Ok(text("Plumbing"))
    );
    assert_eq!(check_value(&q, &text(" "), true), Err(ValueError::Required));
    assert_eq!(
        check_value(&q, &text(&"x".repeat(201)), true),
        Err(ValueError::TooLong { max: 200 })
    );
}

#[test]
fn multichoice_accepts_a_subset_and_drops_repeats() {
    let q = multi_q(false);
    assert_eq!(
        check_value(&q, &many(&["c", "a", "c"]), false),
        Ok(many(&["c", "a"]))
    );
    assert_eq!(
        check_value(&q, &many(&[]), false),
        Err(ValueError::Required)
    );
    assert_eq!(
        check_value(&q, &many(&["a", "z"]), false),
        Err(ValueError::NotAnOption { value: "z".into() })
    );
    assert!(matches!(
        check_value(&q, &text("a"), false),
        Err(ValueError::WrongType { .. })
    ));
}

#[test]
fn multichoice_other_allows_exactly_one_free_text_value() {
    let q = multi_q(true);
    assert_eq!(
        check_value(&q, &many(&["a", " xyz "]), true),
        Ok(many(&["a", "xyz"]))
    );
    assert!(matches!(
        check_value(&q, &many(&["a"]), true),
        Err(ValueError::Other(_))
    ));
    assert!(matches!(
        check_value(&q, &many(&["x", "y"]), true),
        Err(ValueError::Other(_))
    ));
    assert_eq!(
        check_value(&q, &many(&["a", "toolong"]), true),
        Err(ValueError::TooLong { max: 5 })
    );
    assert!(matches!(
        check_value(&multi_q(false), &many(&["a", "x"]), true),
        Err(ValueError::Other(_))
    ));
}

#[test]
fn other_on_a_text_kind_is_refused() {
    assert!(matches!(
        check_value(&question("text", json!({})), &text("x"), true),
        Err(ValueError::Other(_))
    ));
}

#[test]
fn wrong_value_shapes_are_refused() {
    assert!(matches!(
        check_value(&question("text", json!({})), &Value::Number(1.0), false),
        Err(ValueError::WrongType { .. })
    ));
    assert!(matches!(
        check_value(&question("date", json!({})), &many(&["2024-01-01"]), false),
        Err(ValueError::WrongType { .. })
    ));
    assert!(matches!(
        check_value(&question("number", json!({})), &many(&["1"]), false),
        Err(ValueError::WrongType { .. })
    ));
}

#[test]
fn every_value_error_has_a_ui_message_in_each_language() {
    let errors = [
        ValueError::Required,
        ValueError::InvalidEmail,
        ValueError::InvalidTel,
        ValueError::InvalidUrl,
        ValueError::InvalidNumber,
        ValueError::InvalidDate,
        ValueError::TooLong { max: 3 },
        ValueError::NotAnOption { value: "x".into() },
        ValueError::Other("x"),
        ValueError::WrongType {
            expected: "a string",
        },
    ];
    assert_eq!(
        ValueError::InvalidEmail.message(strings("en")),
        "Please enter a valid email address."
    );
    assert_eq!(ValueError::InvalidEmail.message_key(), "invalid_email");
    assert_eq!(ValueError::TooLong { max: 3 }.message_key(), "too_long");
    for e in &errors {
        for lang in ["en", "de", "ar"] {
            assert!(!e.message(strings(lang)).is_empty());
        }
    }
    assert_ne!(
        ValueError::InvalidDate.message(strings("de")),
        ValueError::InvalidDate.message(strings("en"))
    );
}

#[test]
fn contract_example_envelope_round_trips_through_serde() {
    let raw = include_str!("../fixtures/envelope.example.json");
    let env: Envelope = serde_json::from_str(raw).unwrap();
    assert_eq!(env.user_id, "auth0|5f7c8ec7");
    assert_eq!(env.answers[0].status, Status::Answered);
    assert_eq!(env.answers[0].value, Some(text("senior")));
    assert_eq!(env.answers[0].logins_count, 3);
    assert_eq!(env.context.widget, "trickle/0.1.0");
    let back = serde_json::to_value(&env).unwrap();
    let original: serde_json::Value = serde_json::from_str(raw).unwrap();
    assert_eq!(
        back, original,
        "serialization must reproduce the contract's example exactly"
    );
}

#[test]
fn contract_example_envelope_passes_the_seed_config() {
    let env = Envelope::from_json(include_str!("../fixtures/envelope.example.json")).unwrap();
    assert_eq!(check_envelope(&config(), &env), Ok(()));
}

#[test]
fn values_serialize_as_contract_shapes() {
    assert_eq!(
        serde_json::to_value(Value::Number(42.0)).unwrap(),
        json!(42)
    );
    assert_eq!(
        serde_json::to_value(Value::Number(-1.5)).unwrap(),
        json!(-1.5)
    );
    assert_eq!(
        serde_json::to_value(many(&["a", "b"])).unwrap(),
        json!(["a", "b"])
    );
    for v in [json!("x"), json!(7), json!(2.5), json!(["a"]), json!([])] {
        let parsed: Value = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), v);
    }
}

#[test]
fn declined_and_snoozed_answers_omit_value_when_serialized() {
    let mut env = Envelope::from_json(include_str!("../fixtures/envelope.example.json")).unwrap();
    env.answers[0].status = Status::Declined;
    env.answers[0].value = None;
    let json = serde_json::to_value(&env).unwrap();
    assert_eq!(json["answers"][0]["status"], "declined");
    assert!(json["answers"][0].get("value").is_none());
    assert_eq!(
        check_envelope(&config(), &env),
        Ok(()),
        "role is declinable"
    );
}

fn example() -> serde_json::Value {
    serde_json::from_str(include_str!("../fixtures/envelope.example.json")).unwrap()
}

#[track_caller]
fn envelope_error(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v = example();
    edit(&mut v);
    match Envelope::from_json(&v.to_string()) {
        Err(e) => e.to_string(),
        Ok(env) => check_envelope(&config(), &env)
            .expect_err("envelope should be rejected")
            .to_string(),
    }
}

#[test]
fn envelope_with_an_unknown_question_names_the_path() {
    assert_eq!(
        envelope_error(|v| v["answers"][0]["questionId"] = json!("shoe-size")),
        "answers[0].questionId: unknown question \"shoe-size\""
    );
}

#[test]
fn envelope_with_a_field_not_matching_the_question_is_rejected() {
    let msg = envelope_error(|v| {
        let a = v["answers"][0].clone();
        v["answers"].as_array_mut().unwrap().push(a);
        v["answers"][1]["field"] = json!("company.title");
    });
    assert_eq!(
        msg,
        "answers[1].field: question \"role\" fills \"company.role\", not \"company.title\""
    );
}

#[test]
fn envelope_with_a_wrong_stage_is_rejected() {
    assert!(
        envelope_error(|v| v["answers"][0]["stage"] = json!("basics"))
            .starts_with("answers[0].stage: ")
    );
}

#[test]
fn envelope_with_a_value_not_in_the_options_is_rejected() {
    assert_eq!(
        envelope_error(|v| v["answers"][0]["value"] = json!("ceo")),
        "answers[0].value: \"ceo\" is not one of the options"
    );
}

#[test]
fn envelope_with_other_text_on_an_allow_other_question_passes_normalized() {
    let mut v = example();
    v["answers"][0]["value"] = json!("  Founder ");
    v["answers"][0]["other"] = json!(true);
    let env = Envelope::from_json(&v.to_string()).unwrap();
    let normalized = normalize_envelope(&config(), &env).unwrap();
    assert_eq!(normalized.answers[0].value, Some(text("Founder")));
}

#[test]
fn envelope_answered_without_value_is_rejected() {
    assert_eq!(
        envelope_error(|v| {
            v["answers"][0].as_object_mut().unwrap().remove("value");
        }),
        "answers[0].value: is required when status is answered"
    );
}

#[test]
fn envelope_declining_a_non_declinable_question_is_rejected() {
    let msg = envelope_error(|v| {
        let a = &mut v["answers"][0];
        a["questionId"] = json!("company-name");
        a["field"] = json!("company.name");
        a["status"] = json!("declined");
        a.as_object_mut().unwrap().remove("value");
    });
    assert_eq!(
        msg,
        "answers[0].status: question \"company-name\" is not declinable"
    );
}

#[test]
fn envelope_snooze_with_a_value_is_rejected() {
    assert_eq!(
        envelope_error(|v| v["answers"][0]["status"] = json!("snoozed")),
        "answers[0].value: only answered answers carry a value"
    );
}

#[test]
fn envelope_with_bad_timestamp_or_id_is_rejected() {
    assert!(
        envelope_error(|v| v["answers"][0]["answeredAt"] = json!("yesterday"))
            .starts_with("answers[0].answeredAt: ")
    );
    assert!(envelope_error(|v| v["answers"][0]["id"] = json!("")).starts_with("answers[0].id: "));
}

#[test]
fn envelope_without_answers_or_user_is_rejected() {
    assert_eq!(
        envelope_error(|v| v["answers"] = json!([])),
        "answers: must not be empty"
    );
    assert_eq!(
        envelope_error(|v| v["userId"] = json!(" ")),
        "userId: must not be empty"
    );
}

#[test]
fn envelope_with_unknown_keys_or_bad_types_names_the_path() {
    assert!(envelope_error(|v| v["answers"][0]["extra"] = json!(1))
        .starts_with("answers[0].extra: unknown key"));
    assert!(
        envelope_error(|v| v["answers"][0]["status"] = json!("maybe"))
            .starts_with("answers[0].status: unknown variant")
    );
    assert!(
        envelope_error(|v| v["answers"][0]["loginsCount"] = json!(-1))
            .starts_with("answers[0].loginsCount: must be a whole number")
    );
    assert!(
        envelope_error(|v| v["answers"][0]["value"] = json!({ "a": 1 }))
            .starts_with("answers[0].value: invalid type: map")
    );
    assert!(envelope_error(|v| v
        .as_object_mut()
        .unwrap()
        .remove("context")
        .map(drop)
        .unwrap_or(()))
    .starts_with("context: is required"));
}

#[test]
fn timestamps_follow_rfc_3339() {
    for ok in [
        "2026-11-30T15:00:00.000Z",
        "2026-11-30T15:00:00Z",
        "2026-11-30t15:00:00+01:00",
        // Leap seconds where one can occur: 23:59:60 UTC on a month's last day.
        "2024-02-29T23:59:60.5Z",
        "2024-03-01T05:29:60+05:30",
    ] {
        assert!(is_timestamp(ok), "{ok}");
    }
    for bad in [
        "2026-11-30",
        "2026-11-30 15:00:00Z",
        "2026-11-30T24:00:00Z",
        "2026-11-30T15:00:00",
        "2026-02-30T15:00:00Z",
        "2026-11-30T15:00:00.Z",
        "2026-11-30T15:00:00+0100",
        "2026-11-30T15:00:00Zjunk",
        // A leap second anywhere else (here 05:29:60 UTC) is not a time.
        "2024-02-29T23:59:60.5-05:30",
        "2026-11-30T15:00:60Z",
    ] {
        assert!(!is_timestamp(bad), "{bad}");
    }
}

#[test]
fn envelope_errors_have_their_own_type_with_path_and_message() {
    let err: trickle_core::answer::EnvelopeError = Envelope::from_json("[]").unwrap_err();
    assert_eq!(err.path, "");
    assert_eq!(err.to_string(), "the body must be a JSON object");
    let mut v = example();
    v["answers"][0]["status"] = json!("maybe");
    let err = Envelope::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.path, "answers[0].status");
    assert_eq!(
        err.to_string(),
        format!("answers[0].status: {}", err.message)
    );
}
