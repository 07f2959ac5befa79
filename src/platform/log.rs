//! The one logger: `[trickle]`-prefixed console lines, debug lines gated by
//! `config.debug`, errors always.

use wasm_bindgen::JsValue;

const PREFIX: &str = "[trickle] ";

/// Writes prefixed console lines. Copy it freely; it holds only the debug flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Log {
    /// Whether decision lines are written (`config.debug`).
    pub debug: bool,
}

impl Log {
    /// A logger that writes decision lines only when `debug` is true.
    pub fn new(debug: bool) -> Self {
        Self { debug }
    }

    /// One decision line (`console.log`), only when debugging.
    pub fn debug(&self, parts: &[&str]) {
        if self.debug {
            web_sys::console::log_1(&JsValue::from_str(&line(parts)));
        }
    }

    /// One error line (`console.error`), always: the host must see why nothing shows.
    pub fn error(&self, parts: &[&str]) {
        web_sys::console::error_1(&JsValue::from_str(&line(parts)));
    }
}

// Joins without `format!`: the formatting machinery costs size in every caller.
fn line(parts: &[&str]) -> String {
    let mut s = String::from(PREFIX);
    for p in parts {
        s.push_str(p);
    }
    s
}
