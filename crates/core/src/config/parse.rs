//! The config and the user read by hand from a `serde_json::Value`, with the
//! path-named errors that serde's derived `Deserialize` gave, word for word.
//!
//! Why not the derived `Deserialize` through `crate::de` (which read them before):
//! every type compiled its own visitor, field matcher and error plumbing, generic
//! over the deserializer; in the wasm that was the largest block of code, and most
//! of the functions compiled at init. Here a few non-generic helpers do the work
//! for every type. The derives stay for the collector's envelope, `Serialize` and
//! the schema; the tests below hold these readers to them.
//!
//! The wording follows serde's as `crate::de` and `ConfigError::from_serde`
//! rewrote it: `invalid type: integer `5`, expected a string`, `unknown variant
//! `x`, expected one of `a`, `b``, `unknown key (expected `a` or `b`)`, `is
//! required` (at the missing key), `must be a whole number >= 0, got -1`. The first
//! error in document order wins, then the first missing key in declaration order.

use serde_json::Value;

use super::{
    Cadence, Choice, ColorScheme, Config, ConfigError, Consent, Kind, Placement, Purpose, Question,
    Stage, Suggest, Text, Theme, User,
};
use crate::sorted::Map;

/// What the readers and the validation pass return: the error boxed, so every
/// `Result` passed up them is one pointer wide (measured 0.76 KB brotli less
/// than the unboxed error).
pub(super) type Read<T> = Result<T, Box<ConfigError>>;

/// Where a value sits in the document; its path is written only for an error.
pub(super) enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    /// The dot/bracket path (`stages[1].questions[0].kind`).
    pub(super) fn path(&self) -> String {
        let mut path = String::new();
        self.write(&mut path);
        path
    }

    fn write(&self, path: &mut String) {
        match self {
            At::Root => {}
            At::Key(up, key) => {
                up.write(path);
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            At::Index(up, index) => {
                up.write(path);
                path.push('[');
                crate::json::write_u64(path, *index as u64);
                path.push(']');
            }
        }
    }

    /// An error at this path. Takes the `String` itself, not `impl Into<String>`:
    /// one copy of this in the wasm, not one per message type (fixed messages
    /// go through `fail`).
    pub(super) fn error(&self, message: String) -> Box<ConfigError> {
        Box::new(ConfigError {
            path: self.path(),
            message,
        })
    }
}

/// A JSON value as serde names an unexpected one: `null`, `boolean `true``,
/// `integer `5``, `floating point `1.5`` (serde_json's digits), `string "x"`,
/// `sequence`, `map`.
///
/// A string is quoted as JSON quotes it, where serde used Rust's `Debug`: the same
/// text for every string but those with control characters or characters `Debug`
/// escapes (combining marks, unassigned code points). `Debug` brought Unicode's
/// printable and grapheme tables into the wasm (-385 B brotli without them).
fn shown(value: &Value, out: &mut String) {
    // Pushed piece by piece, not `write!`: each call site was its own argument
    // table and formatter call in the wasm.
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            out.push_str("boolean `");
            out.push_str(if *b { "true" } else { "false" });
            out.push('`');
        }
        Value::Number(n) => {
            out.push_str(if n.is_f64() {
                "floating point `"
            } else {
                "integer `"
            });
            out.push_str(&n.to_string());
            out.push('`');
        }
        Value::String(s) => {
            out.push_str("string ");
            crate::json::write_str(out, s);
        }
        Value::Array(_) => out.push_str("sequence"),
        Value::Object(_) => out.push_str("map"),
    }
}

/// `invalid type: <shown>, expected <expected>`.
fn wrong_type(value: &Value, at: &At, expected: &str) -> Box<ConfigError> {
    let mut message = String::from("invalid type: ");
    shown(value, &mut message);
    message.push_str(", expected ");
    message.push_str(expected);
    at.error(message)
}

/// Appends serde's list of names: `` `a` ``, `` `a` or `b` ``, or
/// `` one of `a`, `b`, `c` ``.
fn one_of(names: &[&str], out: &mut String) {
    if names.len() > 2 {
        out.push_str("one of ");
    }
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(if names.len() == 2 { " or " } else { ", " });
        }
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
}

fn string(value: &Value, at: &At) -> Read<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(wrong_type(value, at, "a string")),
    }
}

fn boolean(value: &Value, at: &At) -> Read<bool> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(value, at, "a boolean"))
}

/// A whole number that fits `u32`; anything else is `must be a whole number >=
/// 0, got <it>` (a number or boolean bare, other values as [`shown`]).
fn whole(value: &Value, at: &At) -> Read<u32> {
    if let Some(n) = value.as_u64().and_then(|n| u32::try_from(n).ok()) {
        return Ok(n);
    }
    let mut message = String::from("must be a whole number >= 0, got ");
    match value {
        Value::Number(n) => message.push_str(&n.to_string()),
        Value::Bool(b) => message.push_str(if *b { "true" } else { "false" }),
        _ => shown(value, &mut message),
    }
    Err(at.error(message))
}

/// The index in `names` of the string `value`; `expected` names the enum for a
/// value that is not a string. Callers map the index to their enum with `get`,
/// not an index: it is always in bounds, and an index would be a bounds check
/// with a panic location in the wasm.
fn variant(value: &Value, at: &At, expected: &str, names: &[&str]) -> Read<usize> {
    let Some(name) = value.as_str() else {
        return Err(wrong_type(value, at, expected));
    };
    names.iter().position(|n| *n == name).ok_or_else(|| {
        let mut message = crate::text::concat(&["unknown variant `", name, "`, expected "]);
        one_of(names, &mut message);
        at.error(message)
    })
}

/// Calls `member` with the index in `keys` of each member of the object `value`,
/// in document order. An unknown key is an error at that key; then the first of
/// the `required` keys (bit i for `keys[i]`) that is missing.
fn object(
    value: &Value,
    at: &At,
    expected: &str,
    keys: &[&str],
    required: u32,
    member: &mut dyn FnMut(usize, &Value, &At) -> Read<()>,
) -> Read<()> {
    let Some(map) = value.as_object() else {
        return Err(wrong_type(value, at, expected));
    };
    let mut seen = 0u32;
    for (key, value) in map {
        let here = At::Key(at, key);
        let Some(index) = keys.iter().position(|k| k == key) else {
            let mut message = String::from("unknown key (expected ");
            one_of(keys, &mut message);
            message.push(')');
            return Err(here.error(message));
        };
        seen |= 1 << index;
        member(index, value, &here)?;
    }
    let missing = required & !seen;
    if missing != 0 {
        // `get`, not an index: a bit of `required` always names a key, and an
        // index would be a bounds check with a panic location in the wasm.
        let key = keys
            .get(missing.trailing_zeros() as usize)
            .copied()
            .unwrap_or_default();
        return Err(At::Key(at, key).fail("is required"));
    }
    Ok(())
}

/// Calls `item` with each item of the array `value`.
fn array(value: &Value, at: &At, item: &mut dyn FnMut(&Value, &At) -> Read<()>) -> Read<()> {
    let Some(items) = value.as_array() else {
        return Err(wrong_type(value, at, "a sequence"));
    };
    for (index, value) in items.iter().enumerate() {
        item(value, &At::Index(at, index))?;
    }
    Ok(())
}

/// An object of strings (`headers`, a translated text).
fn strings(value: &Value, at: &At, expected: &str) -> Read<Map<String>> {
    let Some(map) = value.as_object() else {
        return Err(wrong_type(value, at, expected));
    };
    let mut out = Map::new();
    for (key, value) in map {
        out.insert(key.clone(), string(value, &At::Key(at, key))?);
    }
    Ok(out)
}

fn text(value: &Value, at: &At) -> Read<Text> {
    match value {
        Value::String(s) => Ok(Text::Plain(s.clone())),
        _ => strings(
            value,
            at,
            "a string or an object of translations keyed by locale",
        )
        .map(Text::Translated),
    }
}

/// Moves the `profile` member of the user document `doc` into `user`, where the
/// reader left the default (an empty object) for it.
fn take_profile(user: &mut User, doc: Option<&mut Value>) {
    if let Some(profile) = doc.and_then(|doc| doc.get_mut("profile")) {
        user.profile = profile.take();
    }
}

/// The config, unvalidated; the user's profile is moved out of `value`.
pub(super) fn config(value: &mut Value) -> Read<Config> {
    let mut c = read_config(value)?;
    if let Some(user) = c.user.as_mut() {
        take_profile(user, value.get_mut("user"));
    }
    Ok(c)
}

fn read_config(value: &Value) -> Read<Config> {
    let mut c = Config {
        endpoint: String::new(),
        headers: Map::new(),
        user: None,
        profile_url: None,
        stages: Vec::new(),
        cadence: Cadence::default(),
        placement: Placement::default(),
        locale: "en".to_owned(),
        theme: Theme::default(),
        debug: false,
    };
    const KEYS: &[&str] = &[
        "endpoint",
        "headers",
        "user",
        "profileUrl",
        "stages",
        "cadence",
        "placement",
        "locale",
        "theme",
        "debug",
    ];
    object(
        value,
        &At::Root,
        "struct Config",
        KEYS,
        0b1_0001, // required: endpoint, stages
        &mut |i, v, at| {
            match i {
                0 => c.endpoint = string(v, at)?,
                1 => c.headers = strings(v, at, "a map")?,
                2 => {
                    c.user = if v.is_null() {
                        None
                    } else {
                        Some(user(v, at)?)
                    }
                }
                3 => {
                    c.profile_url = if v.is_null() {
                        None
                    } else {
                        Some(string(v, at)?)
                    }
                }
                4 => array(v, at, &mut |v, at| {
                    c.stages.push(stage(v, at)?);
                    Ok(())
                })?,
                5 => c.cadence = cadence(v, at)?,
                6 => {
                    const PLACEMENTS: [Placement; 4] = [
                        Placement::BottomRight,
                        Placement::BottomLeft,
                        Placement::TopRight,
                        Placement::TopLeft,
                    ];
                    const NAMES: &[&str] =
                        &["bottom-right", "bottom-left", "top-right", "top-left"];
                    let i = variant(v, at, "enum Placement", NAMES)?;
                    c.placement = PLACEMENTS.get(i).copied().unwrap_or_default();
                }
                7 => c.locale = string(v, at)?,
                8 => c.theme = theme(v, at)?,
                _ => c.debug = boolean(v, at)?,
            }
            Ok(())
        },
    )?;
    Ok(c)
}

/// A user, unvalidated; `at` is the root for `identify`, `user` in a config.
fn user(value: &Value, at: &At) -> Read<User> {
    let mut u = User {
        id: String::new(),
        logins_count: 0,
        profile: Value::Object(serde_json::Map::new()),
        user_hash: None,
        consent: Consent::default(),
    };
    const KEYS: &[&str] = &["id", "loginsCount", "profile", "userHash", "consent"];
    // Required: id.
    object(value, at, "struct User", KEYS, 1, &mut |i, v, at| {
        match i {
            0 => u.id = string(v, at)?,
            1 => u.logins_count = whole(v, at)?,
            // Moved in by the caller afterwards (`take_profile`): cloning it would
            // bring `Value::clone` into the wasm for this alone (1.3 KB).
            2 => {}
            3 => {
                u.user_hash = if v.is_null() {
                    None
                } else {
                    Some(string(v, at)?)
                }
            }
            _ => {
                let expected = "an object like { \"marketing\": false }";
                object(v, at, expected, &["marketing"], 0, &mut |_, v, at| {
                    u.consent.marketing = if v.is_null() {
                        None
                    } else {
                        Some(boolean(v, at)?)
                    };
                    Ok(())
                })?
            }
        }
        Ok(())
    })?;
    Ok(u)
}

/// A user (`identify`), unvalidated, with paths relative to it; its profile is
/// moved out of `value`.
pub(super) fn user_at_root(value: &mut Value) -> Read<User> {
    let mut u = user(value, &At::Root)?;
    take_profile(&mut u, Some(value));
    Ok(u)
}

fn stage(value: &Value, at: &At) -> Read<Stage> {
    let mut s = Stage {
        id: String::new(),
        min_logins: 0,
        events: Vec::new(),
        questions: Vec::new(),
    };
    const KEYS: &[&str] = &["id", "minLogins", "events", "questions"];
    // Required: id, questions.
    object(value, at, "struct Stage", KEYS, 0b1001, &mut |i, v, at| {
        match i {
            0 => s.id = string(v, at)?,
            1 => s.min_logins = whole(v, at)?,
            2 => array(v, at, &mut |v, at| {
                s.events.push(string(v, at)?);
                Ok(())
            })?,
            _ => array(v, at, &mut |v, at| {
                s.questions.push(question(v, at)?);
                Ok(())
            })?,
        }
        Ok(())
    })?;
    Ok(s)
}

fn question(value: &Value, at: &At) -> Read<Question> {
    let mut q = Question {
        id: String::new(),
        field: String::new(),
        kind: Kind::Text,
        prompt: Text::Plain(String::new()),
        options: Vec::new(),
        allow_other: false,
        declinable: false,
        why: None,
        max_length: None,
        purpose: Purpose::Profile,
        suggest: Suggest::Off,
    };
    const KEYS: &[&str] = &[
        "id",
        "field",
        "kind",
        "prompt",
        "options",
        "allowOther",
        "declinable",
        "why",
        "maxLength",
        "purpose",
        "suggest",
    ];
    object(
        value,
        at,
        "struct Question",
        KEYS,
        0b1111, // required: id, field, kind, prompt
        &mut |i, v, at| {
            match i {
                0 => q.id = string(v, at)?,
                1 => q.field = string(v, at)?,
                2 => {
                    let i = variant(v, at, "enum Kind", &Kind::NAMES)?;
                    q.kind = Kind::ALL.get(i).copied().unwrap_or(Kind::Text);
                }
                3 => q.prompt = text(v, at)?,
                4 => array(v, at, &mut |v, at| {
                    q.options.push(choice(v, at)?);
                    Ok(())
                })?,
                5 => q.allow_other = boolean(v, at)?,
                6 => q.declinable = boolean(v, at)?,
                7 => {
                    q.why = if v.is_null() {
                        None
                    } else {
                        Some(text(v, at)?)
                    }
                }
                8 => {
                    q.max_length = if v.is_null() {
                        None
                    } else {
                        Some(whole(v, at)?)
                    }
                }
                9 => {
                    const NAMES: &[&str] = &["profile", "marketing"];
                    let i = variant(v, at, "a string", NAMES)?;
                    q.purpose = [Purpose::Profile, Purpose::Marketing]
                        .get(i)
                        .copied()
                        .unwrap_or_default();
                }
                _ => {
                    variant(v, at, "a string", &["emailDomain"])?;
                    q.suggest = Suggest::EmailDomain;
                }
            }
            Ok(())
        },
    )?;
    Ok(q)
}

fn choice(value: &Value, at: &At) -> Read<Choice> {
    let mut c = Choice {
        value: String::new(),
        label: Text::Plain(String::new()),
    };
    object(
        value,
        at,
        "struct Choice",
        &["value", "label"],
        0b11, // required: both
        &mut |i, v, at| {
            match i {
                0 => c.value = string(v, at)?,
                _ => c.label = text(v, at)?,
            }
            Ok(())
        },
    )?;
    Ok(c)
}

fn cadence(value: &Value, at: &At) -> Read<Cadence> {
    let mut c = Cadence::default();
    const KEYS: &[&str] = &["maxQuestionsPerLogin", "snoozeLogins", "maxAsks"];
    object(value, at, "struct Cadence", KEYS, 0, &mut |i, v, at| {
        let n = whole(v, at)?;
        match i {
            0 => c.max_questions_per_login = n,
            1 => c.snooze_logins = n,
            _ => c.max_asks = n,
        }
        Ok(())
    })?;
    Ok(c)
}

fn theme(value: &Value, at: &At) -> Read<Theme> {
    let mut t = Theme::default();
    object(
        value,
        at,
        "struct Theme",
        &["accent", "colorScheme"],
        0,
        &mut |i, v, at| {
            match i {
                0 => t.accent = string(v, at)?,
                _ => {
                    const SCHEMES: [ColorScheme; 3] =
                        [ColorScheme::Auto, ColorScheme::Light, ColorScheme::Dark];
                    const NAMES: &[&str] = &["auto", "light", "dark"];
                    let i = variant(v, at, "enum ColorScheme", NAMES)?;
                    t.color_scheme = SCHEMES.get(i).copied().unwrap_or_default();
                }
            }
            Ok(())
        },
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::super::parse_value;
    use super::*;

    fn seed() -> Value {
        serde_json::from_str(include_str!("../../fixtures/seed.config.json")).unwrap()
    }

    /// Known and deliberate differences from the derived readers, left out of the
    /// comparison. serde's words were rewritten by matching text, so a key holding
    /// a backtick (`unknown field `a`b``) was cut at it, and any message holding
    /// "expected u32" (a string value echoed back) was taken for a number error;
    /// and an unknown key of `consent` whose name ends its path (`""`, `t`) was
    /// reported at `consent` itself. These readers name such keys and values whole.
    fn comparable(doc: &Value, user: Option<&Value>, consent_at: &str) -> bool {
        let text = doc.to_string();
        let consent_keys = user
            .and_then(|user| user.get("consent"))
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|consent| consent.keys());
        !text.contains('`')
            && !text.contains("expected u")
            && !consent_keys
                .filter(|key| *key != "marketing")
                .any(|key| consent_at.ends_with(key.as_str()))
    }

    /// The hand reader and the derived `Deserialize` (through `crate::de` and
    /// `ConfigError::from_serde`) agree: the same config, or the same error.
    ///
    /// A wrong-typed string is quoted as JSON here and with `Debug` by serde (see
    /// [`shown`]): both quotings are cut out before comparing, and
    /// `a_wrong_typed_string_is_quoted_as_json` checks ours.
    #[track_caller]
    fn agrees(doc: &Value) {
        if comparable(doc, doc.get("user"), "user.consent") {
            let by_serde = parse_value::<Config>(doc.clone());
            assert_eq!(
                unquoted(config(&mut doc.clone()).map_err(|e| *e)),
                unquoted(by_serde),
                "{doc}"
            );
        }
        if let Some(user) = doc
            .get("user")
            .filter(|user| comparable(user, Some(user), "consent"))
        {
            let by_serde = parse_value::<User>(user.clone());
            assert_eq!(
                unquoted(user_at_root(&mut user.clone()).map_err(|e| *e)),
                unquoted(by_serde),
                "{user}"
            );
        }
    }

    /// The result with the quoted string of a wrong-typed string's message
    /// (`invalid type: string "...", expected ...` or `must be a whole number >=
    /// 0, got string "..."`) replaced by `<string>`.
    fn unquoted<T>(result: Result<T, ConfigError>) -> Result<T, ConfigError> {
        result.map_err(|mut e| {
            if let Some(rest) = e.message.strip_prefix("invalid type: string ") {
                if let Some(at) = rest.rfind(", expected ") {
                    e.message = format!("invalid type: string <string>{}", &rest[at..]);
                }
            } else if let Some(at) = e.message.find("got string \"") {
                e.message.replace_range(at.., "got string <string>");
            }
            e
        })
    }

    #[test]
    fn a_wrong_typed_string_is_quoted_as_json() {
        let mut doc = seed();
        doc["debug"] = Value::String("a\"b\\c\nd\u{1}é\u{301}".to_owned());
        assert_eq!(
            config(&mut doc.clone()).map_err(|e| e.to_string()).err().as_deref(),
            Some("debug: invalid type: string \"a\\\"b\\\\c\\nd\\u0001é\u{301}\", expected a boolean")
        );
    }

    /// Every JSON pointer in a value (the root excluded).
    fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
        let children: Vec<(String, &Value)> = match v {
            Value::Object(m) => m.iter().map(|(k, c)| (k.clone(), c)).collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, c)| (i.to_string(), c))
                .collect(),
            _ => Vec::new(),
        };
        for (key, child) in children {
            let p = format!("{at}/{key}");
            out.push(p.clone());
            pointers(child, p, out);
        }
    }

    /// The seed and its complete user and consent, each member replaced by values of
    /// every JSON type (and out-of-range numbers), removed, and every object given
    /// an unknown key.
    fn table() -> Vec<Value> {
        let mut base = seed();
        base["user"]["userHash"] = json!("ab12");
        base["user"]["consent"] = json!({ "marketing": false });
        base["headers"] = json!({ "X-Api-Key": "k" });
        base["profileUrl"] = json!("/p/{userId}");
        base["debug"] = json!(true);
        let q = &mut base["stages"][0]["questions"][0];
        q["maxLength"] = json!(100);
        q["purpose"] = json!("marketing");
        q["suggest"] = json!("emailDomain");
        q["why"] = json!({ "en": "Why" });
        q["declinable"] = json!(false);
        let mut all = Vec::new();
        pointers(&base, String::new(), &mut all);
        let replacements = [
            Value::Null,
            json!(true),
            json!(-1),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(0),
            json!(4_294_967_296_u64),
            json!(u64::MAX),
            json!(i64::MIN),
            json!("x"),
            json!(""),
            json!("profile"),
            json!("multichoice"),
            json!("top-left"),
            json!("dark"),
            json!("say \"hi\"\n\u{1}"),
            json!(["a", 1]),
            json!([]),
            json!({}),
            json!({ "id": "x" }),
            json!({ "en": "x", "de": 5 }),
        ];
        let mut docs = vec![base.clone()];
        for pointer in &all {
            for replacement in &replacements {
                let mut doc = base.clone();
                *doc.pointer_mut(pointer).unwrap() = replacement.clone();
                docs.push(doc);
            }
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let mut doc = base.clone();
            if let Some(map) = doc.pointer_mut(parent).unwrap().as_object_mut() {
                map.remove(key);
                docs.push(doc);
            }
            let mut doc = base.clone();
            if let Some(map) = doc.pointer_mut(pointer).unwrap().as_object_mut() {
                map.insert("extra".into(), json!(1));
                map.insert(String::new(), json!(1));
                docs.push(doc);
            }
        }
        docs
    }

    #[test]
    fn the_config_reader_agrees_with_serde_on_every_member_replaced_or_removed() {
        let docs = table();
        assert!(docs.len() > 2000, "{}", docs.len());
        for doc in &docs {
            agrees(doc);
        }
    }

    #[test]
    fn the_readers_report_serde_s_words_at_the_bad_value() {
        let mut doc = seed();
        doc["stages"][1]["questions"][0]["kind"] = json!("slider");
        assert_eq!(
            config(&mut doc.clone()).unwrap_err().to_string(),
            "stages[1].questions[0].kind: unknown variant `slider`, expected one of `text`, \
             `email`, `tel`, `url`, `number`, `date`, `choice`, `multichoice`"
        );
        let user = json!({ "id": "u", "loginsCount": "3", "x": 1 });
        assert_eq!(
            user_at_root(&mut user.clone()).unwrap_err().to_string(),
            "loginsCount: must be a whole number >= 0, got string \"3\""
        );
        let user = json!({ "loginsCount": 3, "consent": { "marketing": false, "sms": true } });
        assert_eq!(
            user_at_root(&mut user.clone()).unwrap_err().to_string(),
            "consent.sms: unknown key (expected `marketing`)"
        );
        assert_eq!(
            user_at_root(&mut json!({ "loginsCount": 3 }))
                .unwrap_err()
                .to_string(),
            "id: is required"
        );
    }

    #[test]
    fn keys_and_values_with_backticks_are_named_whole() {
        let mut doc = seed();
        doc["theme"]["a`b"] = json!(1);
        assert_eq!(
            config(&mut doc.clone()).unwrap_err().to_string(),
            "theme.a`b: unknown key (expected `accent` or `colorScheme`)"
        );
        doc = seed();
        doc["cadence"]["maxAsks"] = json!("1`2");
        assert_eq!(
            config(&mut doc.clone()).unwrap_err().to_string(),
            "cadence.maxAsks: must be a whole number >= 0, got string \"1`2\""
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
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
            "consent",
            "marketing",
            "purpose",
            "suggest",
            "why",
            "theme",
            "colorScheme",
            "en",
            "x",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (0u64..5000).prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_owned())),
            prop::sample::select(&["text", "choice", "emailDomain", "marketing", "dark"][..])
                .prop_map(|s| Value::String(s.to_owned())),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![prop::sample::select(KEYS).prop_map(str::to_owned), ".{0,6}"],
                        inner
                    ),
                    0..5
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        #[test]
        fn the_readers_agree_with_serde_on_the_seed_with_one_subtree_replaced(
            pick in any::<prop::sample::Index>(),
            replacement in json_value(),
        ) {
            let mut doc = seed();
            let mut all = Vec::new();
            pointers(&doc, String::new(), &mut all);
            let pointer: &String = pick.get(&all);
            *doc.pointer_mut(pointer).unwrap() = replacement;
            agrees(&doc);
        }

        #[test]
        fn the_readers_agree_with_serde_on_arbitrary_objects(doc in json_value()) {
            if doc.is_object() {
                agrees(&doc);
                if comparable(&doc, Some(&doc), "consent") {
                    prop_assert_eq!(
                        unquoted(user_at_root(&mut doc.clone()).map_err(|e| *e)),
                        unquoted(parse_value::<User>(doc.clone()))
                    );
                }
            }
        }
    }
}
