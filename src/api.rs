//! The JavaScript API of contract section 4: `init`, `identify`, `track`,
//! `explain`, `destroy`. The same exports serve `window.Trickle` (the embed script
//! calls them) and the npm package.
//!
//! Nothing here throws into the host page: every error becomes one `[trickle]`
//! console error and a `trickle:error` event; `init` also rejects its promise.
//! After an internal error (a panic) the widget is stopped for the page's life:
//! every export returns at once and `init` rejects.

use std::sync::atomic::{AtomicBool, Ordering};

use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use gloo_timers::callback::Timeout;
use trickle_core::config::{Config, User};
use trickle_core::text;
use wasm_bindgen::prelude::*;

use crate::platform::dom;
use crate::platform::Log;
use crate::runtime::{code, host, Runtime};

// Set once a panic was reported: the wasm's state can no longer be trusted (a
// `RefCell` may be left borrowed, a half-made change half-stored).
static DEAD: AtomicBool = AtomicBool::new(false);

/// The message `init` rejects with once the widget has stopped.
pub const STOPPED: &str = "trickle stopped after an internal error";

/// Whether an internal error stopped the widget (and was reported). Exported as
/// `stopped` for the JS guard (`src/embed/api.js`): when an export call traps after
/// a panic, the panic hook has already reported it, and the guard must not again.
#[wasm_bindgen(js_name = stopped)]
pub fn is_stopped() -> bool {
    DEAD.load(Ordering::Relaxed)
}

/// What the panic hook does, once per page: stops the widget (every export returns
/// early from now on), writes one `[trickle] internal error: <message>` console
/// error and dispatches `trickle:error` `{ code: "internal" }` directly (the event
/// queue waits for a runtime borrow that the panic will never end).
pub fn stop_after_internal_error(message: &str) {
    if DEAD.swap(true, Ordering::Relaxed) {
        return;
    }
    Log::default().error(&["internal error: ", message]);
    dom::emit(
        "trickle:error",
        &crate::runtime::error_detail(code::INTERNAL, message),
    );
    // A popup whose buttons no longer do anything must not stay on the host page.
    // Removed straight from the DOM: the runtime (and Yew's app) may be mid-borrow.
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        // One host per widget; bounded in case a host page keeps re-adding one.
        for _ in 0..4 {
            match document.query_selector("[data-trickle-host]") {
                Ok(Some(host)) => host.remove(),
                _ => break,
            }
        }
    }
}

// Whether the panic hook is in place (installed by the first `init`).
static HOOKED: AtomicBool = AtomicBool::new(false);

// Routes a panic to [`stop_after_internal_error`] with the panic's message, and
// keeps the trap that follows out of the host page ([`contain_traps`]). Yew's
// own default hook (installed at the first render unless one is set through
// yew) would write an unprefixed console error instead. The previous hook still
// runs after ours: in a release build it is std's, which writes to a stderr that
// wasm32 does not have; test harnesses keep theirs.
fn install_panic_hook() {
    if HOOKED.swap(true, Ordering::Relaxed) {
        return;
    }
    let previous = std::panic::take_hook();
    yew::set_custom_panic_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("panic");
        stop_after_internal_error(message);
        contain_traps();
        previous(info);
    }));
}

// Whether the listeners of [`contain_traps`] are in place.
static CONTAINED: AtomicBool = AtomicBool::new(false);

// On wasm32 a panic always ends in a trap (`RuntimeError: unreachable`) that leaves
// the wasm through whatever called into it. During an export call that is the JS
// guard of `src/embed/api.js`, which catches it. From a callback the browser runs
// (a timer, an event listener, a promise reaction) nothing does: the browser would
// report it as an uncaught error of the host page, to the host's error handlers and
// its console. The hook has already reported the panic, so from now on a trap from
// this wasm that reaches `window` is marked handled there (the browser then does not
// report it as uncaught) and stopped for listeners added after ours. A host listener
// added before the first panic still sees it: at the target, listeners run in the
// order they were added (the capture flag does not put ours first; Chromium 156).
// They stay for the page's life, as the stopped wasm may trap again (a `RefCell`
// left borrowed); traps of other wasm modules on the page pass through.
fn contain_traps() {
    if CONTAINED.swap(true, Ordering::Relaxed) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let here = wasm_location();
    for (name, field) in [("error", "error"), ("unhandledrejection", "reason")] {
        let here = here.clone();
        let options = EventListenerOptions {
            phase: EventListenerPhase::Capture,
            passive: false,
        };
        EventListener::new_with_options(&window, name, options, move |event| {
            let error = js_sys::Reflect::get(event, &field.into()).unwrap_or_default();
            if !error.is_instance_of::<js_sys::WebAssembly::RuntimeError>() {
                return;
            }
            // Without a location (a browser that does not name wasm frames, or
            // `Error.stackTraceLimit = 0`) every trap counts as ours.
            let ours = here.as_deref().is_none_or(|here| {
                js_sys::Reflect::get(&error, &"stack".into())
                    .ok()
                    .and_then(|s| s.as_string())
                    .is_some_and(|s| text::find(&s, here).is_some())
            });
            if ours {
                event.prevent_default();
                event.stop_immediate_propagation();
            }
        })
        .forget();
    }
}

// How this wasm's frames are named in a JS stack trace, read from a stack captured
// here, inside the wasm (see [`frame_location`]).
fn wasm_location() -> Option<String> {
    let stack = js_sys::Reflect::get(&js_sys::Error::new(""), &"stack".into())
        .ok()?
        .as_string()?;
    frame_location(&stack).map(str::to_owned)
}

/// The location of the first wasm frame in a JS stack trace, up to and including
/// `:wasm-function[` (Chromium: `at http://…/trickle.wasm:wasm-function[12]:0x34`
/// or `wasm://wasm/1a2b3c4d:…`; Firefox: `name@http://…/trickle.wasm:wasm-function[12]:0x34`):
/// every frame of the same module carries it.
fn frame_location(stack: &str) -> Option<&str> {
    const FRAME: &str = ":wasm-function[";
    let end = text::find(stack, FRAME)?;
    // Back to the separator before the location (bytes: a char-set search costs
    // more code).
    let bytes = stack.as_bytes();
    let mut start = end;
    while start > 0 && !matches!(bytes[start - 1], b' ' | b'(' | b'@' | b'\n') {
        start -= 1;
    }
    stack.get(start..end + FRAME.len())
}

/// Tests only: undoes [`stop_after_internal_error`] (all browser tests share one page).
#[doc(hidden)]
pub fn restart_after_internal_error_for_tests() {
    DEAD.store(false, Ordering::Relaxed);
}

thread_local! {
    /// A config read ahead of its `init` by [`read_ahead`]: its JSON text and what
    /// that text parsed to (`None`: not JSON).
    static AHEAD: std::cell::Cell<Option<(String, Option<serde_json::Value>)>> =
        const { std::cell::Cell::new(None) };
}

/// Reads `config` as `init` would (its JSON text, walked into a JSON value) and
/// keeps the result for the next `init`, which uses it if it gets a config with the
/// same JSON text. Not part of the public API: the glue calls it in a task before
/// it replays a queued `init`, so that on a slow phone reading the config and
/// checking it are two tasks instead of one long one (reading is most of the
/// validation: the JS object crosses into the wasm member by member).
#[wasm_bindgen(js_name = readAhead)]
pub fn read_ahead(config: JsValue) {
    if is_stopped() {
        return;
    }
    let read = dom::json_text(&config).map(|text| {
        let value = crate::platform::json::parse(&text);
        (text, value)
    });
    AHEAD.with(|ahead| ahead.set(read));
}

/// `config` as a JSON value: the one [`read_ahead`] read, when its text is the same
/// (comparing texts is cheap; the host may have changed the object since),
/// otherwise read now.
fn read_config(config: &JsValue) -> Option<serde_json::Value> {
    let ahead = AHEAD.with(|ahead| ahead.take());
    let text = dom::json_text(config)?;
    match ahead {
        Some((read, value)) if read == text => value,
        _ => crate::platform::json::parse(&text),
    }
}

/// Validates `config` (a plain object, or its JSON text) and starts the widget.
/// Resolves once started; rejects with an `Error` whose message names the bad
/// value's path, e.g. `stages[0].questions: must not be empty`. Calling it again
/// replaces the running widget.
#[wasm_bindgen]
pub fn init(config: JsValue) -> js_sys::Promise {
    if is_stopped() {
        return js_sys::Promise::reject(&js_sys::Error::new(STOPPED));
    }
    install_panic_hook();
    let config_value = config.clone();
    // Only the validation runs in this call: its error must reject the promise.
    let parsed = match read_config(&config) {
        Some(value) => Config::from_value(value).map_err(|e| e.to_string()),
        None => Err(String::from("the config must be a JSON object")),
    };
    let config = match parsed {
        Ok(c) => c,
        Err(message) => {
            report(code::CONFIG, "invalid config: ", &message);
            return js_sys::Promise::reject(&js_sys::Error::new(&message));
        }
    };
    // The runtime this replaces, built or still waiting to be: calls deferred for it
    // go with it.
    let waiting = host::cancel_build();
    let old = host::take();
    if waiting || old.is_some() {
        if let Some(old) = old {
            old.destroy();
        }
        host::discard_events();
        host::discard_deferred();
    }
    let (early_user, early_events) =
        host::with_early(|e| (e.user.take(), std::mem::take(&mut e.events))).unwrap_or_default();
    let generation = host::next_generation();
    // The start runs in four tasks of its own after this one, which validated
    // the config (much of it the browser compiling wasm functions on their first
    // call): building the runtime (listeners, storage); the outbox and storage
    // upkeep (`prepare`); the decision (`decide`); then carrying it out, with the
    // popup's mount (`start`). On a slow
    // phone one task doing all of that is a long task that blocks the page; each
    // task more delays the question (the next task may be the page's). Calls made
    // meanwhile act as if the runtime existed and waited for its start
    // (host::with_runtime_or_later; `explain()` builds and starts it at once).
    // Resolves once started, or at once when a `destroy()` or a newer `init` came
    // first.
    host::defer_build(Box::new(move || {
        let fingerprint = dom::fingerprint(&config_value);
        Runtime::new(generation, config, early_user, early_events, fingerprint)
    }));
    js_sys::Promise::new(&mut |resolve, _reject| {
        Timeout::new(0, move || {
            host::build_pending();
            start_in_tasks(
                generation,
                &[Runtime::prepare, Runtime::decide, Runtime::start],
                resolve,
            );
        })
        .forget();
    })
}

/// Runs `steps` a task apart, each on the runtime of `generation` while it has not
/// started (a `destroy()`, a newer `init` or `explain()` may have come first), and
/// resolves `init`'s Promise after the last.
fn start_in_tasks(generation: u32, steps: &'static [fn(&mut Runtime)], resolve: js_sys::Function) {
    Timeout::new(0, move || {
        let Some((step, rest)) = steps.split_first() else {
            return;
        };
        host::with_runtime(|rt| {
            if rt.generation() == generation && !rt.is_started() {
                step(rt);
            }
        });
        if rest.is_empty() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        } else {
            start_in_tasks(generation, rest, resolve);
        }
    })
    .forget();
}

/// Sets or replaces the signed-in user (`{ id, loginsCount, profile, userHash }`).
/// Before `init` the user is kept and used when `init` runs. `null` (or nothing)
/// signs the user out: the popup goes, nothing is asked until the next user, and
/// queued answers are still delivered.
#[wasm_bindgen]
pub fn identify(user: JsValue) {
    if is_stopped() {
        return;
    }
    if user.is_null() || user.is_undefined() {
        if host::is_running() {
            host::with_runtime_or_later(|rt| rt.sign_out());
        } else {
            host::with_early(|e| e.user = None);
        }
        return;
    }
    let parsed = match dom::from_js(&user) {
        Some(value) => User::from_value(value).map_err(|e| {
            // Name the path from the API's point of view: `user.loginsCount: ...`.
            if e.path.is_empty() {
                e.message
            } else {
                let mut m = String::from("user.");
                m.push_str(&e.to_string());
                m
            }
        }),
        None => Err(String::from("the user must be a JSON object")),
    };
    let user = match parsed {
        Ok(u) => u,
        Err(message) => {
            report(code::CONFIG, "invalid user: ", &message);
            return;
        }
    };
    if host::is_running() {
        // Deferred, not dropped, when the runtime is busy (a host listener called
        // from inside it).
        host::with_runtime_or_later(move |rt| rt.identify(user));
    } else {
        host::with_early(|e| e.user = Some(user));
    }
}

/// Marks an event for the current user; stages listing it become reached. Before
/// `init` (or `identify`) the event is kept for the user identified next. An empty
/// name is reported, not thrown.
#[wasm_bindgen]
pub fn track(name: String) {
    if is_stopped() {
        return;
    }
    if name.is_empty() {
        report(
            code::CONFIG,
            "invalid event: ",
            "track() needs a non-empty event name",
        );
        return;
    }
    #[cfg(feature = "test-panic")]
    if test_panic(&name) {
        return;
    }
    if host::is_running() {
        host::with_runtime_or_later(move |rt| rt.track(name));
    } else {
        host::with_early(|e| e.events.insert(name));
    }
}

// Tests only (`--features test-panic`; the shipped bundle has none of it): a real
// panic while the runtime is borrowed, as a bug in the runtime would be, either in
// this export call or in a timer the widget set. Returns whether `name` was one of
// the two magic names.
#[cfg(feature = "test-panic")]
fn test_panic(name: &str) -> bool {
    match name {
        "trickle:test-panic" => {
            host::with_runtime(|_| panic!("test panic in track()"));
        }
        "trickle:test-panic-later" => {
            gloo_timers::callback::Timeout::new(0, || {
                host::with_runtime(|_| panic!("test panic in a timer"));
            })
            .forget();
        }
        _ => return false,
    }
    true
}

/// `{ questions: [{ questionId, stage, field, open, reason }], queued, deadLetter }`:
/// why each question is or is not open (`reason` is null when open), how many
/// answers wait to be sent and which were refused for good. Before `init`,
/// or after an internal error, `questions` is empty and the queue is read from
/// storage.
#[wasm_bindgen]
pub fn explain() -> JsValue {
    // Stopped: as before `init` (the runtime is not touched again).
    let live = if is_stopped() {
        None
    } else {
        // Asked between `init` and its start task: build (if that task has not
        // run either) and start now, and apply the calls that waited for the start
        // (as `with_runtime` does when it returns), so the answer describes the
        // widget as the host set it up. The tasks then find it built and started.
        host::build_pending();
        host::with_runtime(|rt| {
            if !rt.is_started() {
                rt.start();
            }
        });
        host::with_runtime(|rt| rt.explain())
    };
    let text =
        live.unwrap_or_else(|| crate::runtime::explain_json(&[], &host::store(Log::default())));
    js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
}

/// Removes every node, listener and timer the widget added. Queued answers stay in
/// storage and are sent by the next `init`.
#[wasm_bindgen]
pub fn destroy() {
    if is_stopped() {
        return;
    }
    host::cancel_build();
    if let Some(rt) = host::take() {
        rt.destroy();
    }
    host::discard_events();
    host::discard_deferred();
    // A user or events given before `init` belong to the widget being removed.
    host::with_early(|e| *e = host::Early::default());
}

// One console error and one `trickle:error` event.
fn report(code: &'static str, prefix: &str, message: &str) {
    Log::default().error(&[prefix, message]);
    host::emit("trickle:error", crate::runtime::error_detail(code, message));
    host::flush_events();
}

#[cfg(test)]
mod tests {
    // Run natively (`cargo test -p trickle --lib`) and in wasm.
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::frame_location;

    #[wasm_bindgen_test(unsupported = test)]
    fn the_wasm_module_is_found_in_chromium_and_firefox_stacks() {
        let chromium = "Error\n    at imports.wbg.__wbg_new_8a6f (http://h/trickle.js:1:200)\n    \
            at http://h/trickle/trickle.wasm:wasm-function[210]:0x1b3f\n    \
            at http://h/trickle/trickle.wasm:wasm-function[12]:0x34";
        assert_eq!(
            frame_location(chromium),
            Some("http://h/trickle/trickle.wasm:wasm-function[")
        );
        let named = "RuntimeError: unreachable\n    at t.wasm.__rust_abort (wasm://wasm/1a2b3c4d:wasm-function[9]:0x10)";
        assert_eq!(
            frame_location(named),
            Some("wasm://wasm/1a2b3c4d:wasm-function[")
        );
        let firefox = "Error@http://h/trickle.js:1:200\n\
            __rust_abort@http://h/trickle/trickle.wasm:wasm-function[210]:0x1b3f\n";
        assert_eq!(
            frame_location(firefox),
            Some("http://h/trickle/trickle.wasm:wasm-function[")
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_stack_without_wasm_frames_has_no_location() {
        assert_eq!(
            frame_location("Error\n    at f (http://h/app.js:1:2)"),
            None
        );
        assert_eq!(frame_location(""), None);
        // A location at the very start (no separator before it) is still one.
        assert_eq!(
            frame_location("m.wasm:wasm-function[1]:0x1"),
            Some("m.wasm:wasm-function[")
        );
    }
}
