//! Events on `document` and JSON conversion at the JS boundary.

use wasm_bindgen::{JsCast, JsValue};

/// Converts a JS value into JSON (through `JSON.stringify`, which normalises what
/// JSON cannot carry as JSON does: `NaN` to `null`, a `Date` to its string, an
/// undefined member away). A string is taken as JSON text. `None` for what JSON
/// cannot carry at all (undefined, a function, a cycle) and for text that is not
/// JSON (see [`super::json::parse`]).
pub fn from_js(value: &JsValue) -> Option<serde_json::Value> {
    super::json::parse(&json_text(value)?)
}

/// The JSON text [`from_js`] parses: a string as it is, anything else through
/// `JSON.stringify`; `None` for what JSON cannot carry at all.
pub fn json_text(value: &JsValue) -> Option<String> {
    match value.as_string() {
        Some(s) => Some(s),
        None => js_sys::JSON::stringify(value).ok()?.as_string(),
    }
}

/// Dispatches `CustomEvent(name, { detail })` on `document`, `detail` given as
/// JSON text (made a plain JS object by `JSON.parse`: smaller than a serde bridge;
/// `null` if that ever fails). A listener that throws is reported by the browser,
/// never rethrown here.
pub fn emit(name: &str, detail: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&js_sys::JSON::parse(detail).unwrap_or(JsValue::NULL));
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = document.dispatch_event(event.unchecked_ref());
    }
}

/// The fingerprint of a config as `init` received it (an object, or JSON text):
/// FNV-1a (32 bits) over the UTF-16 code units of its `JSON.stringify` text, as
/// 8 hex digits. `src/embed/api.js` computes the same in JavaScript, so the idle
/// gate can tell a page view with the same config without starting the wasm.
pub fn fingerprint(config: &JsValue) -> String {
    let text = json_text(config).unwrap_or_default();
    let mut hash: u32 = 0x811c_9dc5;
    for unit in text.encode_utf16() {
        hash ^= u32::from(unit);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    let mut hex = String::with_capacity(8);
    for shift in (0..8).rev() {
        let digit = (hash >> (shift * 4)) & 0xf;
        hex.push(char::from_digit(digit, 16).unwrap_or('0'));
    }
    hex
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    // web-sys has no binding for it; one getter import is smaller than a
    // `Reflect.get` with its property name built at run time.
    type GpcNavigator;
    #[wasm_bindgen(method, getter, js_name = globalPrivacyControl)]
    fn global_privacy_control(this: &GpcNavigator) -> JsValue;
}

/// Whether the browser sends Global Privacy Control: `navigator.globalPrivacyControl
/// === true` (contract section 2, v2). A browser without it leaves it undefined:
/// no signal.
pub fn privacy_signal() -> bool {
    web_sys::window().is_some_and(|w| {
        let navigator: GpcNavigator = w.navigator().unchecked_into();
        navigator.global_privacy_control() == JsValue::TRUE
    })
}
