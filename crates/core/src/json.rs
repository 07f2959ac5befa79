//! JSON text written by hand, for what the widget writes: event details,
//! the stored outbox and prompt state, the posted envelope, `explain()`.
//!
//! Why not `json!` and serde's derived `Serialize`: `json!` unwraps a `Result` for
//! every member (which keeps `serde_json::Error`'s `Debug` and the panic text
//! around it in the wasm), and every derived serializer is compiled for
//! `serde_json::Serializer` on its own. These few non-generic functions write the
//! same text for every type; tests (`tests/writers.rs`) hold each writer to the
//! derived `Serialize`, which native code (the collector) keeps using. Event
//! details are written as text too, and become JS objects through `JSON.parse`.

use serde_json::Value;

/// Parses JSON text: the value, or `None` when the text is not JSON.
///
/// Stored text reaches the core's readers already parsed, or through a parser the
/// caller hands in: native code passes [`parse`]; the widget passes the browser's
/// `JSON.parse`, so its wasm carries no JSON text parser of its own.
pub type Parse = fn(&str) -> Option<Value>;

/// serde_json's [`Parse`], what native code reads stored text with.
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// `value` as JSON text, as `serde_json::to_string` writes it.
pub fn to_text(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// Writes `value` as JSON text.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // The number's own text: the serializer's, digit for digit.
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut object = Object::new(out);
            for (key, value) in map {
                write_str(object.next(), key);
                object.out.push(':');
                write_value(object.out, value);
            }
            object.end();
        }
    }
}

/// Writes `s` as a JSON string, escaped as serde_json escapes it: `"` and `\`,
/// control characters as `\n`-style escapes where JSON has one, `\u00XX` otherwise.
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a whole number in decimal.
pub fn write_u64(out: &mut String, n: u64) {
    // The leading digits first, by recursion (at most 20 deep): a digit buffer
    // filled from its end is indexed, and each index is a bounds check with a
    // panic location in the wasm.
    if n >= 10 {
        write_u64(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Writes `[...]` of `items`, each by `write`.
pub fn write_list<T>(out: &mut String, items: &[T], write: fn(&T, &mut String)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(item, out);
    }
    out.push(']');
}

/// Writes an array of strings.
pub fn write_strs(out: &mut String, items: &[String]) {
    write_list(out, items, |item, out| write_str(out, item));
}

/// Writes an object of whole numbers (a prompt state's counts and snoozes).
pub fn write_u32_map(out: &mut String, map: &crate::sorted::Map<u32>) {
    let mut object = Object::new(out);
    for (key, &n) in map {
        write_str(object.next(), key);
        object.out.push(':');
        write_u64(object.out, u64::from(n));
    }
    object.end();
}

/// An object being written: `{`, then members, each through one of the methods,
/// then `}` ([`Object::end`]). Keys are written as given (the callers' keys are
/// constants that need no escaping).
pub struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    /// Starts an object.
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        Object { out, empty: true }
    }

    // The separator before the next member; the text to write it to.
    fn next(&mut self) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.out
    }

    /// Writes `"key":` and returns the text, to write the member's value to.
    pub fn key(&mut self, key: &str) -> &mut String {
        let out = self.next();
        out.push('"');
        out.push_str(key);
        out.push_str("\":");
        out
    }

    /// A string member.
    pub fn str(&mut self, key: &str, value: &str) {
        write_str(self.key(key), value);
    }

    /// A string member, or none when `value` is `None`.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    /// A whole-number member.
    pub fn u64(&mut self, key: &str, value: u64) {
        write_u64(self.key(key), value);
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key).push_str(if value { "true" } else { "false" });
    }

    /// An array-of-strings member.
    pub fn strs(&mut self, key: &str, items: &[String]) {
        write_strs(self.key(key), items);
    }

    /// Ends the object.
    pub fn end(self) {
        self.out.push('}');
    }
}
