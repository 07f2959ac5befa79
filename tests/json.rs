//! JSON text read by the browser's `JSON.parse` (`trickle::platform::json`): what
//! it gives is what `serde_json::from_str` gives (held to it over a table of
//! documents), but for the differences the module documents (whole numbers, key
//! order), which these tests pin down too.

use serde_json::{json, Value as Json};
use trickle::platform::dom::from_js;
use trickle::platform::json::{parse, MAX_DEPTH};
use trickle_core::config::Config;
use trickle_core::outbox::Outbox;
use trickle_core::rules::{PromptState, Remote};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SEED: &str = include_str!("../crates/core/fixtures/seed.config.json");
const ENVELOPE: &str = include_str!("../crates/core/fixtures/envelope.example.json");

fn serde(text: &str) -> Option<Json> {
    serde_json::from_str(text).ok()
}

/// Asserts that `parse` and serde_json read every text in `texts` alike.
fn agree(texts: &[&str]) {
    for text in texts {
        assert_eq!(parse(text), serde(text), "{text}");
    }
}

/// The keys of the object `value`, in its order.
fn keys(value: &Json) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// `depth` arrays nested in one another around `1`.
fn arrays(depth: u32) -> String {
    let depth = depth as usize;
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// `depth` objects nested in one another around `1`: `{"a":{"a":1}}`.
fn objects(depth: u32) -> String {
    let depth = depth as usize;
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

/// A JS value made by a JavaScript expression.
fn js(expression: &str) -> JsValue {
    js_sys::Function::new_no_args(&format!("return {expression}"))
        .call0(&JsValue::UNDEFINED)
        .unwrap()
}

#[wasm_bindgen_test]
fn every_json_type_reads_as_its_value() {
    assert_eq!(parse("null"), Some(Json::Null));
    assert_eq!(parse("true"), Some(json!(true)));
    assert_eq!(parse("false"), Some(json!(false)));
    assert_eq!(parse(r#""text""#), Some(json!("text")));
    assert_eq!(parse("2"), Some(json!(2)));
    assert_eq!(parse("[]"), Some(json!([])));
    assert_eq!(parse("{}"), Some(json!({})));
    assert_eq!(
        parse(r#" [ null, true, "a", 1, 2.5, [], {} ] "#),
        Some(json!([null, true, "a", 1, 2.5, [], {}]))
    );
}

#[wasm_bindgen_test]
fn nested_objects_and_arrays_keep_their_shape_and_order() {
    let text = r#"{"z":[1,{"y":[[],[{"x":null}]]}],"a":{"b":{"c":"d"}},"m":[[["deep"]]]}"#;
    let value = parse(text).unwrap();
    assert_eq!(
        value,
        json!({ "z": [1, { "y": [[], [{ "x": null }]] }], "a": { "b": { "c": "d" } }, "m": [[["deep"]]] })
    );
    assert_eq!(keys(&value), ["z", "a", "m"]);
    assert_eq!(keys(&serde(text).unwrap()), ["z", "a", "m"]);
}

#[wasm_bindgen_test]
fn safe_whole_numbers_read_as_integers_and_others_as_floats() {
    let n = |text: &str| parse(text).unwrap();
    assert!(n("1").is_u64() && n("1") == json!(1));
    assert!(n("-7").is_i64() && n("-7") == json!(-7));
    assert!(n("9007199254740991").is_u64());
    assert_eq!(
        n("-9007199254740991").as_i64(),
        Some(-9_007_199_254_740_991)
    );
    // -0 stays a float, as serde_json reads it.
    assert!(n("-0").is_f64() && n("-0").as_f64().unwrap().is_sign_negative());
    for text in [
        "1.5",
        "-2.25",
        "1e21",
        "5e-324",
        "0.1",
        "1e-7",
        "123456789.123",
    ] {
        assert!(n(text).is_f64(), "{text}");
        assert_eq!(Some(n(text)), serde(text), "{text}");
    }
    // What a double cannot tell apart. 2^53 + 1 arrives as 2^53, beyond the safe
    // integers: a float, where serde_json keeps the exact integer.
    assert_eq!(n("9007199254740993"), json!(9_007_199_254_740_992.0));
    assert_eq!(
        serde("9007199254740993"),
        Some(json!(9_007_199_254_740_993u64))
    );
    // 1.0 and 1e2 are whole numbers to JavaScript: integers, where serde_json
    // reads floats. Beyond the safe integers, doubles, where serde_json keeps
    // 64-bit integers exact.
    assert_eq!(n("1.0"), json!(1));
    assert_eq!(serde("1.0"), Some(json!(1.0)));
    assert_eq!(n("1E+2"), json!(100));
    assert_eq!(serde("1E+2"), Some(json!(100.0)));
    assert_eq!(
        n("18446744073709551615"),
        json!(18_446_744_073_709_551_615.0)
    );
    assert_eq!(
        n("-9223372036854775808"),
        json!(-9_223_372_036_854_775_808.0)
    );
    // Out of the double range: refused, as serde_json refuses it.
    agree(&["1e400", "-1e400"]);
    assert_eq!(parse("1e400"), None);
}

#[wasm_bindgen_test]
fn strings_read_unicode_and_escapes_as_serde_json_does() {
    agree(&[
        r#""quote \" backslash \\ slash \/ \b \f \n \r \t""#,
        r#""\u00e9\u4e2D\ud83d\ude00 \u0000 \u001f""#,
        "\"é 中 😀 \u{2028} \u{7f}\"",
        r#"{"\u0041\n": "key with escapes", "é": "ключ"}"#,
        // U+FFFD itself is text like any other.
        "\"\u{fffd}\"",
        r#""\ufffd""#,
    ]);
    assert_eq!(parse(r#""\u00e9\ud83d\ude00""#), Some(json!("é😀")));
    // A lone surrogate: refused by both, in a value or a key.
    for text in [
        r#""\ud800""#,
        r#""a\udc00b""#,
        r#"{"\ud83d": 1}"#,
        r#"["\ufffd", "\ude00"]"#,
    ] {
        assert_eq!(parse(text), None, "{text}");
        assert_eq!(serde(text), None, "{text}");
    }
}

#[wasm_bindgen_test]
fn a_repeated_key_keeps_its_last_value_in_its_first_place() {
    let text = r#"{"a":1,"b":2,"a":{"c":3}}"#;
    let value = parse(text).unwrap();
    assert_eq!(value, json!({ "a": { "c": 3 }, "b": 2 }));
    assert_eq!(keys(&value), ["a", "b"]);
    assert_eq!(Some(value), serde(text));
}

#[wasm_bindgen_test]
fn text_that_is_not_json_reads_as_none() {
    for text in [
        "",
        " ",
        "{",
        "[1,]",
        "{'a':1}",
        "{\"a\":1,}",
        "NaN",
        "Infinity",
        "undefined",
        "01",
        "1 2",
        "{\"a\":1}x",
        "\"raw\ttab\"",
        "\"unterminated",
        "[1 2]",
        "tru",
        "+1",
        ".5",
    ] {
        assert_eq!(parse(text), None, "{text:?}");
        assert_eq!(serde(text), None, "{text:?}");
    }
}

#[wasm_bindgen_test]
fn nesting_to_serde_jsons_limit_reads_and_one_level_deeper_is_refused() {
    assert_eq!(MAX_DEPTH, 127);
    for text in [arrays(MAX_DEPTH), objects(MAX_DEPTH)] {
        assert!(parse(&text).is_some());
        assert!(serde(&text).is_some());
    }
    for text in [arrays(MAX_DEPTH + 1), objects(MAX_DEPTH + 1)] {
        assert_eq!(parse(&text), None);
        assert_eq!(serde(&text), None);
    }
    // Far deeper: refused too, with no stack overflow.
    assert_eq!(parse(&arrays(100_000)), None);
}

#[wasm_bindgen_test]
fn parse_agrees_with_serde_json_over_a_table_of_documents() {
    let mut state = PromptState::new();
    state.begin_login(4);
    state.record_declined("company.role");
    state.record_event("purchase");
    let mut outbox = Outbox::new();
    let answer = trickle_core::answer::Envelope::from_json(ENVELOPE)
        .unwrap()
        .answers[0]
        .clone();
    outbox.enqueue("auth0|5f7c8ec7", Some("9f2c"), answer);
    let state = state.to_json();
    let outbox = outbox.to_json();
    agree(&[
        SEED,
        ENVELOPE,
        &state,
        &outbox,
        r#"{"profile":{"name":"Ada","company":{"name":"Acme","size":12}},"promptState":{"declined":["phone"],"snoozed":[{"stage":"contact","untilLogins":4}]},"suggestions":["Northwind"]}"#,
        r#"[0, -1, 4294967296, -9007199254740991, 3.141592653589793, 1.25E+1, -0.0, 2.5e-3]"#,
        r#"{"": "", " ": [null], "nested": {"": {"": {}}}, "unicode": "\u2028\u2029\ud7ff\ue000"}"#,
        "\t\n\r {\"ws\" :\n[ 1 ,\t2 ] }\n",
        &arrays(50),
        &objects(100),
    ]);
}

#[wasm_bindgen_test]
fn integer_like_keys_come_first_and_change_only_which_config_error_is_reported() {
    // JavaScript lists an object's integer-like keys first, ascending.
    let text = r#"{"b":1,"10":2,"a":3,"2":4}"#;
    assert_eq!(keys(&parse(text).unwrap()), ["2", "10", "b", "a"]);
    assert_eq!(keys(&serde(text).unwrap()), ["b", "10", "a", "2"]);
    assert_eq!(parse(text), serde(text));

    // What is read from such objects does not depend on their order: the config
    // (headers, a profile), a stored prompt state keyed by question
    // ids, an outbox kept aside whole, a profile read.
    let mut config: Json = serde(SEED).unwrap();
    config["headers"] = json!({ "X-B": "1", "7": "2" });
    config["user"]["profile"] = json!({ "z": 1, "3": { "2": "x", "1": "y" } });
    let config_text = config.to_string();
    let config = Config::from_value(parse(&config_text).unwrap()).unwrap();
    assert_eq!(
        config,
        Config::from_value(serde(&config_text).unwrap()).unwrap()
    );
    let state =
        r#"{"version":1,"shown":{"q":1,"20":2,"3":3},"snoozed":{"9":4},"answered":["5","a"]}"#;
    assert_eq!(
        PromptState::from_value(parse(state).unwrap()),
        PromptState::from_json(state)
    );
    assert_ne!(PromptState::from_json(state), PromptState::new());
    let outbox = r#"{"version":9,"queue":[{"b":1,"0":2}],"1":true}"#;
    assert_eq!(
        Outbox::read_value(parse(outbox).unwrap()),
        Outbox::read(outbox)
    );
    assert_eq!(Outbox::read(outbox).1.len(), 1);
    let body = r#"{"profile":{"name":"Ada","1":{"0":"x"}},"promptState":{"declined":["email"],"snoozed":[{"untilLogins":9,"stage":"contact"}]}}"#;
    let remote = Remote::from_profile_read(&config, &parse(body).unwrap());
    assert_eq!(
        remote,
        Remote::from_profile_read(&config, &serde(body).unwrap())
    );
    assert!(!remote.unwrap().is_empty());

    // Two unknown keys: each reader reports the first in its order.
    let mut two = serde(SEED).unwrap();
    two["x"] = json!(1);
    two["1"] = json!(2);
    let two = two.to_string();
    let by_js = Config::from_value(parse(&two).unwrap()).unwrap_err();
    let by_serde = Config::from_value(serde(&two).unwrap()).unwrap_err();
    assert_eq!((by_js.path.as_str(), by_serde.path.as_str()), ("1", "x"));
    assert_eq!(by_js.message, by_serde.message);
}

#[wasm_bindgen_test]
fn from_js_reads_a_value_as_json_stringify_writes_it() {
    assert_eq!(
        from_js(&js(
            r#"{ a: undefined, b: NaN, c: new Date(0), d: [undefined, () => 1], e: 1.0 }"#
        )),
        Some(json!({ "b": null, "c": "1970-01-01T00:00:00.000Z", "d": [null, null], "e": 1 }))
    );
    // A string is JSON text.
    assert_eq!(
        from_js(&JsValue::from_str(r#"{"a":[1]}"#)),
        Some(json!({ "a": [1] }))
    );
    assert_eq!(from_js(&JsValue::from_str("{")), None);
    // What JSON cannot carry at all.
    assert_eq!(from_js(&JsValue::UNDEFINED), None);
    assert_eq!(
        from_js(&js("(() => { const o = {}; o.self = o; return o; })()")),
        None
    );
    assert_eq!(from_js(&js("10n")), None);
}
