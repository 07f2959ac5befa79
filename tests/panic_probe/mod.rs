//! Shared by the real-panic browser tests (`tests/panic_in_export.rs`,
//! `tests/panic_in_timer.rs`; each is its own test binary, so each panic happens
//! on a fresh page: after a real panic the wasm's state stays broken).
//!
//! The widget is driven through `src/embed/api.js`, the same JS wrapper the
//! script tag and the npm package use, over the wasm exports, so a panic travels
//! the way it does in a host page: export call -> JS guard, or browser timer ->
//! nothing. Needs `--features test-panic` (see Cargo.toml); without it these tests
//! are not compiled.

use std::time::Duration;

use gloo_timers::future::sleep;
use serde_json::{json, Value as Json};
use trickle::api;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/embed/api.js")]
extern "C" {
    #[wasm_bindgen(js_name = createApi)]
    fn create_api(load: &js_sys::Function, eager: bool) -> JsValue;
}

// What a host page would see: console errors, `trickle:error` events, and errors
// and rejections that reach `window` and are left unhandled (not default-prevented
// once dispatch is over): those the browser reports as the page's own uncaught
// errors (Playwright's `pageerror`). Registered before the widget starts, as a
// host's would be. (A window listener registered before the widget's own still
// hears a contained trap: `window` is the event's target, where listeners run in
// the order they were added.)
const RECORDERS: &str = r#"
  window.__lines = [];
  window.__errors = [];
  window.__uncaught = [];
  const error = console.error;
  console.error = function (...args) {
    window.__lines.push(args.map(String).join(' '));
    return error.apply(this, args);
  };
  document.addEventListener('trickle:error', (e) => window.__errors.push(e.detail));
  window.addEventListener('error', (e) => window.__uncaught.push(e));
  window.addEventListener('unhandledrejection', (e) => window.__uncaught.push(e));
  window.__unhandled = () => window.__uncaught
    .filter((e) => !e.defaultPrevented)
    .map((e) => e.type + ': ' + String(e.error || e.reason || e.message));
"#;

fn run_js(src: &str) -> JsValue {
    js_sys::Function::new_no_args(src)
        .call0(&JsValue::NULL)
        .unwrap()
}

fn read(name: &str) -> Json {
    let v = run_js(&format!("return JSON.stringify(window.{name});"));
    serde_json::from_str(&v.as_string().unwrap()).unwrap()
}

/// What the page saw so far.
#[derive(Debug, PartialEq)]
pub struct Seen {
    /// Console error lines that start with `[trickle]`.
    pub lines: Vec<String>,
    /// `trickle:error` details.
    pub errors: Vec<Json>,
    /// Errors and rejections that reached `window` uncaught.
    pub uncaught: Vec<String>,
}

/// Reads what the page saw so far.
pub fn seen() -> Seen {
    let lines = read("__lines")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .filter(|l| l.starts_with("[trickle]"))
        .map(str::to_owned)
        .collect();
    Seen {
        lines,
        errors: read("__errors").as_array().unwrap().clone(),
        uncaught: read("__unhandled()")
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
    }
}

/// `window.Trickle` as `src/embed/api.js` builds it over this wasm's exports.
pub struct Trickle(JsValue);

impl Trickle {
    /// Installs the recorders, builds the API and starts the widget with a valid
    /// config; nothing is reported by then.
    pub async fn start() -> Trickle {
        run_js(RECORDERS);
        let exports = js_sys::Object::new();
        let set = |name: &str, f: JsValue| {
            js_sys::Reflect::set(&exports, &name.into(), &f).unwrap();
        };
        set(
            "init",
            Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(api::init).into_js_value(),
        );
        set(
            "identify",
            Closure::<dyn FnMut(JsValue)>::new(api::identify).into_js_value(),
        );
        set(
            "track",
            Closure::<dyn FnMut(String)>::new(api::track).into_js_value(),
        );
        set(
            "explain",
            Closure::<dyn FnMut() -> JsValue>::new(api::explain).into_js_value(),
        );
        set(
            "destroy",
            Closure::<dyn FnMut()>::new(api::destroy).into_js_value(),
        );
        set(
            "stopped",
            Closure::<dyn FnMut() -> bool>::new(api::is_stopped).into_js_value(),
        );
        let exports: JsValue = exports.into();
        let load = Closure::<dyn FnMut() -> JsValue>::new(move || exports.clone()).into_js_value();
        let trickle = Trickle(create_api(load.unchecked_ref(), false));
        trickle
            .init(&config("panic-1"))
            .await
            .expect("init resolves");
        assert_eq!(
            seen(),
            Seen {
                lines: vec![],
                errors: vec![],
                uncaught: vec![]
            }
        );
        trickle
    }

    fn call(&self, name: &str, args: &[JsValue]) -> JsValue {
        let f: js_sys::Function = js_sys::Reflect::get(&self.0, &name.into())
            .unwrap()
            .unchecked_into();
        // `Err` here would be an exception thrown into the host's call.
        f.apply(&self.0, &args.iter().collect())
            .unwrap_or_else(|e| panic!("{name}() threw into the host: {e:?}"))
    }

    /// `Trickle.init(config)`, awaited: `Err` with the rejection's message.
    pub async fn init(&self, config: &Json) -> Result<(), String> {
        let promise: js_sys::Promise = self.call("init", &[to_js(config)]).unchecked_into();
        JsFuture::from(promise).await.map(drop).map_err(|e| {
            js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| format!("{e:?}"))
        })
    }

    /// `Trickle.identify(user)`.
    pub fn identify(&self, user: &Json) {
        self.call("identify", &[to_js(user)]);
    }

    /// `Trickle.track(name)`.
    pub fn track(&self, name: &str) {
        self.call("track", &[name.into()]);
    }

    /// `Trickle.explain()`.
    pub fn explain(&self) -> JsValue {
        self.call("explain", &[])
    }

    /// `Trickle.destroy()`.
    pub fn destroy(&self) {
        self.call("destroy", &[]);
    }
}

fn to_js(value: &Json) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

/// A config with one question for a first login.
pub fn config(user_id: &str) -> Json {
    json!({
        "endpoint": "/v1/answers",
        "user": { "id": user_id, "loginsCount": 1 },
        "stages": [{ "id": "basics", "minLogins": 1, "questions": [
            { "id": "city", "field": "city", "kind": "text", "prompt": "Your city?" }
        ]}]
    })
}

/// Lets timers, promise reactions and the browser's error reporting run.
pub async fn settle() {
    sleep(Duration::from_millis(100)).await;
}

/// Whether the widget's popup host element is in the document.
pub fn popup_on_page() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("[data-trickle-host]").ok().flatten())
        .is_some()
}

/// The checks after the panic: exactly one `[trickle]` line naming it, exactly one
/// `trickle:error` `{ code: "internal" }`, nothing uncaught; then every call returns
/// early (nothing more is logged or emitted, nothing throws) and `init`
/// rejects. The dead popup is gone from the page.
pub async fn assert_reported_once_then_stopped(trickle: &Trickle, message: &str) {
    settle().await;
    let line = format!("[trickle] internal error: {message}");
    let expected = Seen {
        lines: vec![line],
        errors: vec![json!({ "code": "internal", "message": message })],
        uncaught: vec![],
    };
    assert_eq!(seen(), expected);
    assert!(
        !popup_on_page(),
        "a popup whose buttons are dead was left on the page"
    );

    trickle.identify(&json!({ "id": "panic-2", "loginsCount": 1 }));
    trickle.track("purchase");
    trickle.track("trickle:test-panic");
    trickle.track("trickle:test-panic-later");
    let explained = trickle.explain();
    assert!(
        explained.is_null() || js_sys::Reflect::get(&explained, &"questions".into()).is_ok(),
        "{explained:?}"
    );
    trickle.destroy();
    let rejected = trickle.init(&config("panic-3")).await;
    assert!(rejected.is_err(), "init resolved after the panic");
    settle().await;
    assert_eq!(
        seen(),
        expected,
        "something more was reported after the panic"
    );
}
