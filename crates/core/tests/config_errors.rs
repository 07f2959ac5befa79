//! One test per config error of contract section 1: each names the path of the bad
//! value. The seed config (fixtures/seed.config.json) is the valid baseline that
//! each test breaks in one place.

use serde_json::{json, Value};
use trickle_core::config::{Config, ConfigError, Kind, Placement, Text};

fn seed() -> Value {
    serde_json::from_str(include_str!("../fixtures/seed.config.json")).unwrap()
}

/// Sets the value at a JSON pointer (creating the last key) and parses.
fn with(pointer: &str, value: Value) -> Result<Config, ConfigError> {
    let mut config = seed();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = config.pointer_mut(parent).unwrap();
    match target {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{parent} is not a container"),
    }
    Config::from_value(config)
}

fn without(pointer: &str) -> Result<Config, ConfigError> {
    let mut config = seed();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    config
        .pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    Config::from_value(config)
}

#[track_caller]
fn assert_error(result: Result<Config, ConfigError>, path: &str, message_part: &str) {
    let err = result.expect_err("config should be rejected");
    assert_eq!(err.path, path, "wrong path for error: {err}");
    assert!(
        err.message.contains(message_part),
        "message {:?} lacks {:?}",
        err.message,
        message_part
    );
}

#[test]
fn seed_config_is_valid() {
    let config = Config::from_json(include_str!("../fixtures/seed.config.json")).unwrap();
    assert_eq!(config.stages.len(), 3);
    assert_eq!(config.stages[2].questions[1].kind, Kind::Choice);
    assert_eq!(config.placement, Placement::BottomRight);
}

#[test]
fn error_displays_as_path_colon_message() {
    let err = with("/stages/2/questions/1/options", json!([])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stages[2].questions[1].options: must not be empty"
    );
}

#[test]
fn missing_endpoint_is_required() {
    assert_error(without("/endpoint"), "endpoint", "is required");
}

#[test]
fn empty_endpoint_is_rejected() {
    assert_error(
        with("/endpoint", json!("")),
        "endpoint",
        "must not be empty",
    );
}

#[test]
fn endpoint_with_another_scheme_is_rejected() {
    assert_error(
        with("/endpoint", json!("ftp://example.com/x")),
        "endpoint",
        "https://",
    );
    assert_error(
        with("/endpoint", json!("v1/answers")),
        "endpoint",
        "path starting with /",
    );
}

#[test]
fn http_endpoint_on_a_remote_host_is_rejected() {
    assert_error(
        with("/endpoint", json!("http://api.example.com/v1/answers")),
        "endpoint",
        "only allowed for localhost",
    );
}

#[test]
fn http_endpoint_on_localhost_is_accepted() {
    for ok in [
        "http://localhost:8080/v1/answers",
        "http://127.0.0.1/v1",
        "HTTP://LOCALHOST/x",
        "http://[::1]:3000/a",
    ] {
        assert!(
            with("/endpoint", json!(ok)).is_ok(),
            "{ok} should be accepted"
        );
    }
}

#[test]
fn https_and_same_origin_path_endpoints_are_accepted() {
    for ok in [
        "https://api.example.com/v1/answers",
        "https://example.com:8443",
        "/v1/answers?x=1",
    ] {
        assert!(
            with("/endpoint", json!(ok)).is_ok(),
            "{ok} should be accepted"
        );
    }
}

#[test]
fn protocol_relative_endpoint_is_rejected() {
    assert_error(
        with("/endpoint", json!("//evil.example/x")),
        "endpoint",
        "https://",
    );
}

#[test]
fn endpoint_without_a_valid_host_is_rejected() {
    assert_error(
        with("/endpoint", json!("https:///v1")),
        "endpoint",
        "no valid host",
    );
    assert_error(
        with("/endpoint", json!("https://exa mple.com")),
        "endpoint",
        "spaces",
    );
    assert_error(
        with("/endpoint", json!("https://example.com:99x/")),
        "endpoint",
        "no valid host",
    );
}

#[test]
fn endpoint_with_credentials_is_rejected() {
    assert_error(
        with("/endpoint", json!("https://user:pw@example.com/")),
        "endpoint",
        "credentials",
    );
}

#[test]
fn endpoint_of_the_wrong_type_is_rejected() {
    assert_error(with("/endpoint", json!(42)), "endpoint", "invalid type");
}

#[test]
fn wrong_types_are_named_as_json_names_them() {
    assert_error(
        with("/endpoint", json!(1.5)),
        "endpoint",
        "invalid type: floating point `1.5`, expected a string",
    );
    assert_error(
        with("/endpoint", json!(null)),
        "endpoint",
        "invalid type: null, expected a string",
    );
}

#[test]
fn empty_stages_are_rejected() {
    assert_error(with("/stages", json!([])), "stages", "must not be empty");
}

#[test]
fn missing_stages_are_required() {
    assert_error(without("/stages"), "stages", "is required");
}

#[test]
fn duplicate_stage_ids_are_rejected() {
    assert_error(
        with("/stages/2/id", json!("basics")),
        "stages[2].id",
        "duplicate stage id \"basics\" (also stages[0].id)",
    );
}

#[test]
fn empty_stage_id_is_rejected() {
    assert_error(
        with("/stages/1/id", json!(" ")),
        "stages[1].id",
        "must not be empty",
    );
}

#[test]
fn stage_without_questions_is_rejected() {
    assert_error(
        with("/stages/1/questions", json!([])),
        "stages[1].questions",
        "must not be empty",
    );
}

#[test]
fn empty_or_duplicate_stage_events_are_rejected() {
    assert_error(
        with("/stages/1/events", json!(["purchase", ""])),
        "stages[1].events[1]",
        "must not be empty",
    );
    assert_error(
        with("/stages/1/events", json!(["purchase", "purchase"])),
        "stages[1].events[1]",
        "duplicate event",
    );
}

#[test]
fn duplicate_question_ids_across_stages_are_rejected() {
    assert_error(
        with("/stages/2/questions/0/id", json!("email")),
        "stages[2].questions[0].id",
        "duplicate question id \"email\" (also stages[0].questions[1].id)",
    );
}

#[test]
fn duplicate_question_ids_within_a_stage_name_the_first() {
    assert_error(
        with("/stages/2/questions/3/id", json!("company-size")),
        "stages[2].questions[3].id",
        "duplicate question id \"company-size\" (also stages[2].questions[1].id)",
    );
}

#[test]
fn empty_question_id_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/id", json!("")),
        "stages[0].questions[0].id",
        "must not be empty",
    );
}

#[test]
fn duplicate_fields_are_rejected() {
    assert_error(
        with("/stages/1/questions/0/field", json!("name")),
        "stages[1].questions[0].field",
        "duplicate field \"name\" (also stages[0].questions[0].field)",
    );
}

#[test]
fn a_field_inside_another_field_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/field", json!("company")),
        "stages[2].questions[0].field",
        "one contains the other",
    );
}

#[test]
fn a_field_clashing_with_several_names_the_one_that_sorts_first() {
    // company.name, company.size and company.industry come first in the
    // document; company.industry sorts first.
    assert_error(
        with("/stages/2/questions/3/field", json!("company")),
        "stages[2].questions[3].field",
        "\"company\" and \"company.industry\" (stages[2].questions[2].field) cannot both \
         be profile fields: one contains the other",
    );
}

#[test]
fn malformed_field_paths_are_rejected() {
    assert_error(
        with("/stages/0/questions/0/field", json!("a..b")),
        "stages[0].questions[0].field",
        "empty segment",
    );
    assert_error(
        with("/stages/0/questions/0/field", json!("")),
        "stages[0].questions[0].field",
        "must not be empty",
    );
    assert_error(
        with("/stages/0/questions/0/field", json!("first name")),
        "stages[0].questions[0].field",
        "spaces",
    );
}

#[test]
fn duplicate_option_values_are_rejected() {
    assert_error(
        with("/stages/2/questions/3/options/1/value", json!("junior")),
        "stages[2].questions[3].options[1].value",
        "duplicate option value \"junior\" (also options[0])",
    );
}

#[test]
fn empty_option_value_or_label_is_rejected() {
    assert_error(
        with("/stages/2/questions/3/options/1/value", json!("")),
        "stages[2].questions[3].options[1].value",
        "must not be empty",
    );
    assert_error(
        with("/stages/2/questions/3/options/1/label", json!("")),
        "stages[2].questions[3].options[1].label",
        "must not be empty",
    );
}

#[test]
fn choice_without_options_is_rejected() {
    assert_error(
        without("/stages/2/questions/1/options"),
        "stages[2].questions[1].options",
        "must not be empty",
    );
}

#[test]
fn multichoice_without_options_is_rejected() {
    let mut config = seed();
    config["stages"][2]["questions"][1]["kind"] = json!("multichoice");
    config["stages"][2]["questions"][1]["options"] = json!([]);
    assert_error(
        Config::from_value(config),
        "stages[2].questions[1].options",
        "must not be empty",
    );
}

#[test]
fn options_on_a_non_choice_kind_are_rejected() {
    assert_error(
        with(
            "/stages/0/questions/0/options",
            json!([{ "value": "a", "label": "A" }]),
        ),
        "stages[0].questions[0].options",
        "only choice and multichoice questions have options, this is text",
    );
}

#[test]
fn allow_other_on_a_non_choice_kind_is_rejected() {
    assert_error(
        with("/stages/0/questions/1/allowOther", json!(true)),
        "stages[0].questions[1].allowOther",
        "this is email",
    );
}

#[test]
fn unknown_kind_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/kind", json!("slider")),
        "stages[0].questions[0].kind",
        "unknown variant `slider`",
    );
}

#[test]
fn kind_written_as_an_object_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/kind", json!({ "text": null })),
        "stages[0].questions[0].kind",
        "invalid type: map",
    );
}

#[test]
fn stage_written_as_an_array_of_its_fields_is_rejected() {
    assert_error(
        with("/stages/0", json!(["profile", 0, []])),
        "stages[0]",
        "invalid type: sequence, expected",
    );
}

#[test]
fn missing_kind_is_required() {
    assert_error(
        without("/stages/0/questions/0/kind"),
        "stages[0].questions[0].kind",
        "is required",
    );
}

#[test]
fn negative_logins_count_is_rejected() {
    assert_error(
        with("/user/loginsCount", json!(-1)),
        "user.loginsCount",
        "must be a whole number >= 0, got -1",
    );
}

#[test]
fn non_integer_logins_count_is_rejected() {
    assert_error(
        with("/user/loginsCount", json!(1.5)),
        "user.loginsCount",
        "must be a whole number >= 0, got 1.5",
    );
}

#[test]
fn negative_or_fractional_min_logins_is_rejected() {
    assert_error(
        with("/stages/1/minLogins", json!(-2)),
        "stages[1].minLogins",
        "whole number",
    );
    assert_error(
        with("/stages/1/minLogins", json!(2.5)),
        "stages[1].minLogins",
        "whole number",
    );
}

#[test]
fn negative_or_fractional_cadence_numbers_are_rejected() {
    assert_error(
        with("/cadence/maxAsks", json!(-3)),
        "cadence.maxAsks",
        "whole number",
    );
    assert_error(
        with("/cadence/snoozeLogins", json!(0.5)),
        "cadence.snoozeLogins",
        "whole number",
    );
    assert_error(
        with("/cadence/maxQuestionsPerLogin", json!("3")),
        "cadence.maxQuestionsPerLogin",
        "got string \"3\"",
    );
}

#[test]
fn zero_questions_per_login_or_zero_asks_are_rejected() {
    assert_error(
        with("/cadence/maxQuestionsPerLogin", json!(0)),
        "cadence.maxQuestionsPerLogin",
        "at least 1",
    );
    assert_error(
        with("/cadence/maxAsks", json!(0)),
        "cadence.maxAsks",
        "at least 1",
    );
}

#[test]
fn max_length_out_of_range_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/maxLength", json!(0)),
        "stages[0].questions[0].maxLength",
        "between 1 and 2000",
    );
    assert_error(
        with("/stages/0/questions/0/maxLength", json!(2001)),
        "stages[0].questions[0].maxLength",
        "got 2001",
    );
    assert_error(
        with("/stages/0/questions/0/maxLength", json!(-5)),
        "stages[0].questions[0].maxLength",
        "whole number",
    );
    assert!(with("/stages/0/questions/0/maxLength", json!(2000)).is_ok());
}

#[test]
fn max_length_on_a_kind_without_typing_is_rejected() {
    // birthday is a date; company-size a choice without "Other".
    assert_error(
        with("/stages/1/questions/1/maxLength", json!(10)),
        "stages[1].questions[1].maxLength",
        "this is date",
    );
    assert_error(
        with("/stages/2/questions/1/maxLength", json!(10)),
        "stages[2].questions[1].maxLength",
        "this is choice",
    );
    assert!(
        with("/stages/2/questions/2/maxLength", json!(10)).is_ok(),
        "choice with allowOther takes maxLength"
    );
}

#[test]
fn bad_locale_is_rejected() {
    assert_error(
        with("/locale", json!("english")),
        "locale",
        "not a BCP 47 language tag",
    );
    assert_error(with("/locale", json!("")), "locale", "not a BCP 47");
    assert_error(with("/locale", json!("de_DE")), "locale", "not a BCP 47");
    assert!(with("/locale", json!("zh-Hant-TW")).is_ok());
}

#[test]
fn bad_placement_is_rejected() {
    assert_error(
        with("/placement", json!("middle")),
        "placement",
        "unknown variant `middle`",
    );
}

#[test]
fn bad_color_scheme_is_rejected() {
    assert_error(
        with("/theme/colorScheme", json!("sepia")),
        "theme.colorScheme",
        "unknown variant",
    );
}

#[test]
fn bad_accent_colour_is_rejected() {
    assert_error(
        with("/theme/accent", json!("red; background: url(x)")),
        "theme.accent",
        "colour",
    );
}

#[test]
fn translation_that_is_not_a_string_is_rejected() {
    assert_error(
        with(
            "/stages/0/questions/0/prompt",
            json!({ "en": "Name?", "de": 5 }),
        ),
        "stages[0].questions[0].prompt.de",
        "invalid type: integer `5`, expected a string",
    );
}

#[test]
fn empty_translations_object_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/prompt", json!({})),
        "stages[0].questions[0].prompt",
        "at least one translation",
    );
}

#[test]
fn translation_with_a_bad_locale_key_is_rejected() {
    assert_error(
        with(
            "/stages/0/questions/0/prompt",
            json!({ "en": "Name?", "german": "Name?" }),
        ),
        "stages[0].questions[0].prompt.german",
        "not a BCP 47",
    );
}

#[test]
fn empty_translation_is_rejected() {
    assert_error(
        with("/stages/1/questions/1/why", json!({ "en": "  " })),
        "stages[1].questions[1].why.en",
        "must not be empty",
    );
}

#[test]
fn prompt_of_the_wrong_type_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/prompt", json!(["a"])),
        "stages[0].questions[0].prompt",
        "a string or an object of translations",
    );
}

#[test]
fn empty_prompt_is_rejected() {
    assert_error(
        with("/stages/0/questions/0/prompt", json!("")),
        "stages[0].questions[0].prompt",
        "must not be empty",
    );
}

#[test]
fn unknown_top_level_key_is_rejected() {
    assert_error(with("/debugg", json!(true)), "debugg", "unknown key");
}

#[test]
fn unknown_nested_key_is_rejected() {
    assert_error(
        with("/stages/1/questions/0/declineable", json!(true)),
        "stages[1].questions[0].declineable",
        "unknown key",
    );
    assert_error(
        with("/cadence/maxQuestions", json!(1)),
        "cadence.maxQuestions",
        "unknown key",
    );
}

#[test]
fn empty_user_id_is_rejected() {
    assert_error(with("/user/id", json!("")), "user.id", "must not be empty");
}

#[test]
fn missing_user_id_is_required() {
    assert_error(without("/user/id"), "user.id", "is required");
}

#[test]
fn profile_that_is_not_an_object_is_rejected() {
    assert_error(
        with("/user/profile", json!(["name"])),
        "user.profile",
        "must be an object",
    );
}

#[test]
fn user_hash_that_is_not_hex_is_rejected() {
    assert_error(
        with("/user/userHash", json!("not hex!")),
        "user.userHash",
        "hex",
    );
}

#[test]
fn bad_header_name_or_value_is_rejected() {
    assert_error(
        with("/headers", json!({ "X Api": "a" })),
        "headers.X Api",
        "header name",
    );
    assert_error(
        with("/headers", json!({ "X-Api-Key": "a\r\nSet-Cookie: x" })),
        "headers.X-Api-Key",
        "line breaks",
    );
    assert_error(
        with("/headers", json!({ "X-Api-Key": 5 })),
        "headers.X-Api-Key",
        "invalid type",
    );
}

/// What the header-value error says (contract v2 section 1).
const UNSENDABLE: &str =
    "must contain only characters a browser can send (no line breaks or other control characters, nothing above U+00FF)";

#[track_caller]
fn assert_unsendable_header(value: &str) {
    let err = with("/headers", json!({ "X-Api-Key": value })).expect_err(value);
    assert_eq!(err.path, "headers.X-Api-Key", "{value:?}");
    assert_eq!(err.message, UNSENDABLE, "{value:?}");
}

#[test]
fn a_header_value_with_a_nul_is_rejected() {
    assert_unsendable_header("pk_\0live");
}

#[test]
fn a_header_value_with_a_carriage_return_is_rejected() {
    assert_unsendable_header("pk_live\r");
}

#[test]
fn a_header_value_with_a_line_feed_is_rejected() {
    assert_unsendable_header("pk_live\nX-Other: 1");
}

#[test]
fn a_header_value_with_another_control_character_is_rejected() {
    assert_unsendable_header("pk_\u{1}live");
    assert_unsendable_header("pk_live\u{7f}");
    assert_unsendable_header("pk_live\u{85}");
}

#[test]
fn a_header_value_above_u_00ff_is_rejected() {
    // Headers.set throws a TypeError on these: a header value is a byte string.
    assert_unsendable_header("pk_live_\u{20ac}");
    assert_unsendable_header("\u{100}");
    assert_unsendable_header("key \u{1f511}");
}

#[test]
fn header_values_a_browser_can_send_are_accepted() {
    // A tab is allowed by Fetch and RFC 9110; Latin-1 letters are single bytes.
    for value in ["pk_live_abc", "a\tb", "caf\u{e9}", "\u{ff}", "", " spaced "] {
        let config = with("/headers", json!({ "X-Api-Key": value }));
        assert!(config.is_ok(), "{value:?}: {config:?}");
    }
    assert!(trickle_core::config::is_sendable_header_value(
        "Bearer x.y.z"
    ));
}

#[test]
fn invalid_json_is_rejected_without_a_path() {
    let err = Config::from_json("{\"endpoint\": ").unwrap_err();
    assert_eq!(err.path, "");
    assert!(err.message.starts_with("invalid JSON"), "{err}");
}

#[test]
fn a_config_that_is_not_an_object_is_rejected() {
    for bad in ["[]", "null", "\"/v1\"", "3"] {
        let err = Config::from_json(bad).unwrap_err();
        assert_eq!(err.message, "the config must be a JSON object", "{bad}");
    }
}

#[test]
fn defaults_apply_when_optional_parts_are_missing() {
    let config = Config::from_json(
        r#"{ "endpoint": "/a", "stages": [{ "id": "s", "questions": [{ "id": "q", "field": "f", "kind": "text", "prompt": "Q?" }] }] }"#,
    )
    .unwrap();
    assert_eq!(config.cadence.max_questions_per_login, 3);
    assert_eq!(config.cadence.snooze_logins, 1);
    assert_eq!(config.cadence.max_asks, 3);
    assert_eq!(config.locale, "en");
    assert_eq!(config.placement, Placement::BottomRight);
    assert_eq!(config.stages[0].questions[0].max_chars(), 200);
    assert!(config.user.is_none());
}

#[test]
fn question_lookup_finds_by_id_and_by_field() {
    let config = Config::from_value(seed()).unwrap();
    let (stage, q) = config.question("role").unwrap();
    assert_eq!(
        (stage.id.as_str(), q.field.as_str()),
        ("company", "company.role")
    );
    let (stage, q) = config.question_for_field("birthday").unwrap();
    assert_eq!((stage.id.as_str(), q.id.as_str()), ("contact", "birthday"));
    assert!(config.question("nope").is_none());
    assert!(config.question_for_field("company").is_none());
    assert_eq!(config.questions().count(), 9);
    assert_eq!(config.stage("contact").unwrap().min_logins, 2);
}

#[test]
fn text_resolves_exact_then_language_then_english_then_first() {
    let text: Text =
        serde_json::from_value(json!({ "en": "Hello", "de": "Hallo", "pt-BR": "Olá" })).unwrap();
    assert_eq!(text.resolve("de"), "Hallo");
    assert_eq!(text.resolve("de-AT"), "Hallo");
    assert_eq!(text.resolve("DE_ch"), "Hallo");
    assert_eq!(text.resolve("pt"), "Olá", "any tag of the same language");
    assert_eq!(text.resolve("pt-PT"), "Olá");
    assert_eq!(text.resolve("fr"), "Hello");
    assert_eq!(text.resolve(""), "Hello");
    let no_english: Text =
        serde_json::from_value(json!({ "fr": "Bonjour", "it": "Ciao" })).unwrap();
    assert_eq!(no_english.resolve("ja"), "Bonjour", "first translation");
    assert_eq!(Text::Plain("Hi".into()).resolve("ar"), "Hi");
}

#[test]
fn user_parses_alone_with_relative_paths() {
    let user = trickle_core::config::User::from_json(
        r#"{ "id": "u1", "loginsCount": 2, "profile": { "a": 1 } }"#,
    )
    .unwrap();
    assert_eq!(user.logins_count, 2);
    let err =
        trickle_core::config::User::from_json(r#"{ "id": "u1", "loginsCount": -2 }"#).unwrap_err();
    assert_eq!(err.path, "loginsCount");
    let err =
        trickle_core::config::User::from_json(r#"{ "id": "", "loginsCount": 2 }"#).unwrap_err();
    assert_eq!(err.to_string(), "id: must not be empty");
}

#[test]
fn profile_url_follows_the_endpoint_rules() {
    for ok in [
        "/v1/profiles/{userId}",
        "https://collector.example.com/v1/profiles/{userId}",
        "http://127.0.0.1:8787/v1/profiles/{userId}",
        "/me/profile",
    ] {
        let config = with("/profileUrl", json!(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(config.profile_url.as_deref(), Some(ok));
    }
    assert_eq!(without("/profileUrl").unwrap().profile_url, None);
}

#[test]
fn empty_profile_url_is_rejected() {
    assert_error(
        with("/profileUrl", json!("")),
        "profileUrl",
        "must not be empty",
    );
}

#[test]
fn profile_url_over_plain_http_on_a_remote_host_is_rejected() {
    assert_error(
        with(
            "/profileUrl",
            json!("http://api.example.com/v1/profiles/{userId}"),
        ),
        "profileUrl",
        "only allowed for localhost",
    );
}

#[test]
fn profile_url_that_is_neither_https_nor_a_path_is_rejected() {
    for bad in [
        "v1/profiles/{userId}",
        "//evil.example/p",
        "ftp://example.com/p",
    ] {
        assert_error(with("/profileUrl", json!(bad)), "profileUrl", "https://");
    }
}

#[test]
fn profile_url_with_credentials_or_spaces_is_rejected() {
    assert_error(
        with(
            "/profileUrl",
            json!("https://user:pw@example.com/p/{userId}"),
        ),
        "profileUrl",
        "credentials",
    );
    assert_error(
        with("/profileUrl", json!("/v1/profiles/ {userId}")),
        "profileUrl",
        "spaces",
    );
}

#[test]
fn profile_url_that_is_not_a_string_is_rejected() {
    assert_error(with("/profileUrl", json!(42)), "profileUrl", "");
}

#[test]
fn user_errors_have_their_own_type_and_read_as_user_paths_inside_a_config() {
    let err: trickle_core::config::UserError =
        trickle_core::config::User::from_json("[1]").unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.to_string()),
        ("", "the user must be a JSON object".to_owned())
    );
    assert_error(
        with("/user/userHash", json!("not hex")),
        "user.userHash",
        "must be a hex string",
    );
}
