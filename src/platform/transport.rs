//! Posting envelopes: `fetch` while the page lives, `sendBeacon` (or a keepalive
//! `fetch`) while it unloads.

use std::collections::BTreeMap;

use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How one POST ended, before the core decides what that means for the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A 2xx response.
    Ok(u16),
    /// Any other HTTP status, with the server's `Retry-After` (in seconds; readable
    /// cross-origin only when the endpoint exposes the header) in milliseconds.
    Status {
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, converted to milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// No response: offline, DNS, CORS refusal, a thrown `fetch`.
    Network,
}

impl Delivery {
    /// Classifies an HTTP status code and its `Retry-After` header value.
    pub fn from_status(status: u16, retry_after: Option<&str>) -> Self {
        if (200..300).contains(&status) {
            Delivery::Ok(status)
        } else {
            let retry_after_ms = retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|secs| secs.saturating_mul(1000));
            Delivery::Status {
                status,
                retry_after_ms,
            }
        }
    }

    /// The HTTP status, if a response arrived.
    pub fn status(self) -> Option<u16> {
        match self {
            Delivery::Ok(status) | Delivery::Status { status, .. } => Some(status),
            Delivery::Network => None,
        }
    }
}

/// POSTs `body` (envelope JSON) to `endpoint` with `Content-Type: application/json`
/// and the configured headers, giving up after `timeout_ms` (a request that hangs
/// would otherwise hold the queue until the browser's own, minutes-long timeout).
/// Never fails: errors and timeouts become [`Delivery::Network`].
pub async fn post(
    endpoint: &str,
    headers: &BTreeMap<String, String>,
    body: String,
    timeout_ms: u32,
) -> Delivery {
    let controller = web_sys::AbortController::new().ok();
    // Dropped (and so cancelled) when the response arrives first.
    let _deadline = controller
        .clone()
        .map(|c| Timeout::new(timeout_ms, move || c.abort()));
    send(
        endpoint,
        headers,
        body,
        controller.map(|c| c.signal()).as_ref(),
    )
    .await
}

/// POSTs `body` like [`post`], under a caller-owned `signal`: the caller sets the
/// deadline and can abort the request (the runtime does on `destroy()`). An aborted
/// request is a [`Delivery::Network`].
pub async fn send(
    endpoint: &str,
    headers: &BTreeMap<String, String>,
    body: String,
    signal: Option<&web_sys::AbortSignal>,
) -> Delivery {
    let Some(window) = web_sys::window() else {
        return Delivery::Network;
    };
    let Some(init) = request_init(headers, &body) else {
        return Delivery::Network;
    };
    if signal.is_some() {
        init.set_signal(signal);
    }
    let Some(promise) = fetch(&window, endpoint, &init) else {
        return Delivery::Network;
    };
    let Ok(response) = JsFuture::from(promise).await else {
        return Delivery::Network;
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return Delivery::Network;
    };
    let retry_after = response.headers().get("Retry-After").ok().flatten();
    Delivery::from_status(response.status(), retry_after.as_deref())
}

// Calls `window.fetch` so that a throwing one (a host's wrapper, say) is caught
// here instead of unwinding through the widget; a thenable it returns is adopted.
fn fetch(
    window: &web_sys::Window,
    url: &str,
    init: &web_sys::RequestInit,
) -> Option<js_sys::Promise> {
    let fetch: js_sys::Function = js_sys::Reflect::get(window, &JsValue::from_str("fetch"))
        .ok()?
        .dyn_into()
        .ok()?;
    let result = fetch.call2(window, &JsValue::from_str(url), init).ok()?;
    Some(js_sys::Promise::resolve(&result))
}

// A POST with the JSON content type and the configured headers; `None` when the
// browser refuses a header.
fn request_init(headers: &BTreeMap<String, String>, body: &str) -> Option<web_sys::RequestInit> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let h = web_sys::Headers::new().ok()?;
    h.set("Content-Type", "application/json").ok()?;
    for (name, value) in headers {
        h.set(name, value).ok()?;
    }
    init.set_headers(&h);
    Some(init)
}

/// GETs `url` (a profile read, contract section 2) with the configured headers and
/// `extra` ones, under a caller-owned `signal`. The body text on a 2xx; otherwise how
/// it failed (an aborted or refused request is a [`Delivery::Network`]).
pub async fn read(
    url: &str,
    headers: &BTreeMap<String, String>,
    extra: &[(&str, &str)],
    signal: Option<&web_sys::AbortSignal>,
) -> Result<String, Delivery> {
    let window = web_sys::window().ok_or(Delivery::Network)?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    let h = web_sys::Headers::new().map_err(|_| Delivery::Network)?;
    for (name, value) in headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .chain(extra.iter().copied())
    {
        h.set(name, value).map_err(|_| Delivery::Network)?;
    }
    init.set_headers(&h);
    if signal.is_some() {
        init.set_signal(signal);
    }
    let promise = fetch(&window, url, &init).ok_or(Delivery::Network)?;
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or(Delivery::Network)?;
    let delivery = Delivery::from_status(response.status(), None);
    if !matches!(delivery, Delivery::Ok(_)) {
        return Err(delivery);
    }
    let text = response.text().map_err(|_| Delivery::Network)?;
    JsFuture::from(text)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or(Delivery::Network)
}

/// Sends `body` while the page unloads, fire and forget. Without custom headers it
/// uses `navigator.sendBeacon` with a string body, which the browser sends as
/// `text/plain` (a CORS-safelisted type, so no preflight the unloading page could not
/// wait for). A beacon cannot carry headers, so with custom headers it uses `fetch`
/// with `keepalive: true`, which outlives the page. Returns whether the browser
/// accepted the request for sending.
pub fn beacon(endpoint: &str, headers: &BTreeMap<String, String>, body: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    if headers.is_empty() {
        return window
            .navigator()
            .send_beacon_with_opt_str(endpoint, Some(body))
            .unwrap_or(false);
    }
    keepalive_fetch(&window, endpoint, headers, body)
}

fn keepalive_fetch(
    window: &web_sys::Window,
    endpoint: &str,
    headers: &BTreeMap<String, String>,
    body: &str,
) -> bool {
    let Some(init) = request_init(headers, body) else {
        return false;
    };
    // web-sys has no setter for `keepalive`; the dictionary is a plain object.
    if js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE).is_err() {
        return false;
    }
    // Nobody is left to read the response; awaiting it only keeps a rejection from
    // being reported as unhandled.
    let Some(promise) = fetch(window, endpoint, &init) else {
        return false;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
    true
}
