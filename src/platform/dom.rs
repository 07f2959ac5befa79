//! Events on `document` and JSON conversion at the JS boundary.

use wasm_bindgen::{JsCast, JsValue};

/// Converts a JSON value into a plain JS value (through `JSON.parse`: smaller than
/// a serde bridge, and serde_json is linked anyway). `null` if that ever fails.
pub fn to_js(value: &serde_json::Value) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|s| js_sys::JSON::parse(&s).ok())
        .unwrap_or(JsValue::NULL)
}

/// Converts a JS value into JSON (through `JSON.stringify`). A string is taken as
/// JSON text. `None` for what JSON cannot carry (undefined, a function, a cycle).
pub fn from_js(value: &JsValue) -> Option<serde_json::Value> {
    let text: String = match value.as_string() {
        Some(s) => s,
        None => js_sys::JSON::stringify(value).ok()?.as_string()?,
    };
    serde_json::from_str(&text).ok()
}

/// Dispatches `CustomEvent(name, { detail })` on `document`. A listener that
/// throws is reported by the browser, never rethrown here.
pub fn emit(name: &str, detail: &serde_json::Value) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&to_js(detail));
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = document.dispatch_event(event.unchecked_ref());
    }
}
