//! JSON text read by the browser's `JSON.parse`, walked into a `serde_json::Value`.
//!
//! Why not `serde_json::from_str`: its parser (number parsing with its power-of-ten
//! tables, string unescaping, error positions and messages, `Value`'s visitor) is
//! about 14 KB of the wasm, and the browser already ships a JSON parser. serde_json
//! stays for `Value` and for writing; native code keeps parsing with it.
//!
//! What [`parse`] gives is what `serde_json::from_str::<Value>` gives, but for:
//! - numbers: JavaScript has only doubles, so a whole number with at most 53 bits
//!   (a safe integer) becomes an integer and anything else a float. `1.0` therefore
//!   reads as the integer `1` where serde_json reads a float, and an integer beyond
//!   2^53 - 1 reads as the nearest double (serde_json keeps it exact up to u64).
//!   `-0` stays a float, as serde_json reads it.
//! - key order: a JS object lists integer-like keys (`"0"`, `"17"`) first, in
//!   ascending order, then the others in text order; serde_json (an index map in the
//!   wasm) keeps the text order. Every reader looks members up by name and
//!   `Value`'s equality ignores order, so all this changes is which of several
//!   errors in one object a config error reports first.

use js_sys::{Array, Object};
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

/// How many arrays and objects may nest: serde_json's recursion limit (it
/// accepts 127 levels and refuses the 128th). Deeper text is refused, never walked
/// into a stack overflow.
pub const MAX_DEPTH: u32 = 127;

/// JavaScript's largest safe integer, 2^53 - 1: every whole double up to it
/// stands for itself alone.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Parses JSON text: `None` when it is not JSON, nests deeper than
/// [`MAX_DEPTH`], or holds what serde_json refuses too (a number out of the
/// double range, a lone surrogate).
pub fn parse(text: &str) -> Option<Value> {
    let value = js_sys::JSON::parse(text).ok()?;
    walk(&value, MAX_DEPTH)
}

/// The JSON value of what `JSON.parse` returned; `depth` is how many more
/// arrays and objects may nest.
fn walk(value: &JsValue, depth: u32) -> Option<Value> {
    if let Some(n) = value.as_f64() {
        return number(n).map(Value::Number);
    }
    if let Some(text) = value.as_string() {
        return well_formed(text, value).map(Value::String);
    }
    if let Some(b) = value.as_bool() {
        return Some(Value::Bool(b));
    }
    if value.is_null() {
        return Some(Value::Null);
    }
    let depth = depth.checked_sub(1)?;
    if let Some(items) = value.dyn_ref::<Array>() {
        let mut list = Vec::new();
        for item in items.iter() {
            list.push(walk(&item, depth)?);
        }
        return Some(Value::Array(list));
    }
    let mut map = Map::new();
    for entry in Object::entries(value.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        // A repeated key was already settled by `JSON.parse`: the last one wins,
        // in the place of the first, as in serde_json's index map.
        let key = entry.get(0);
        map.insert(
            well_formed(key.as_string()?, &key)?,
            walk(&entry.get(1), depth)?,
        );
    }
    Some(Value::Object(map))
}

/// `text`, converted from the JS string `js`, unless `js` held a lone surrogate
/// (from a `\ud800` escape), which serde_json refuses and Rust text cannot hold.
fn well_formed(text: String, js: &JsValue) -> Option<String> {
    // The conversion writes U+FFFD for a lone surrogate; only then is the rare,
    // slower check of converting back needed. A byte search (`text::find`):
    // `str::contains` measured 146 B brotli more with a char, 236 B with a string
    // pattern.
    let replaced = trickle_core::text::find(&text, "\u{fffd}").is_some();
    if replaced && JsValue::from_str(&text) != *js {
        return None;
    }
    Some(text)
}

/// A JSON number from a double, as serde_json would have parsed its text.
fn number(n: f64) -> Option<Number> {
    if n.trunc() == n && n.abs() <= MAX_SAFE_INTEGER && !(n == 0.0 && n.is_sign_negative()) {
        return Some(if n >= 0.0 {
            Number::from(n as u64)
        } else {
            Number::from(n as i64)
        });
    }
    // `None` for ±Infinity (`1e400`), which serde_json refuses as out of range.
    Number::from_f64(n)
}
