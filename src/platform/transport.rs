//! Posting envelopes: `fetch` while the page lives, `sendBeacon` (or a keepalive
//! `fetch`) while it unloads.

use std::collections::BTreeMap;

use wasm_bindgen::JsValue;

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
    let mut builder =
        gloo_net::http::Request::post(endpoint).header("Content-Type", "application/json");
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let controller = web_sys::AbortController::new().ok();
    let signal = controller.as_ref().map(|c| c.signal());
    let request = match builder.abort_signal(signal.as_ref()).body(body) {
        Ok(r) => r,
        Err(_) => return Delivery::Network,
    };
    // Dropped (and so cancelled) when the response arrives first.
    let _deadline =
        controller.map(|c| gloo_timers::callback::Timeout::new(timeout_ms, move || c.abort()));
    match request.send().await {
        Ok(response) => {
            let retry_after = response.headers().get("Retry-After");
            Delivery::from_status(response.status(), retry_after.as_deref())
        }
        Err(_) => Delivery::Network,
    }
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
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let Ok(h) = web_sys::Headers::new() else {
        return false;
    };
    if h.set("Content-Type", "application/json").is_err() {
        return false;
    }
    for (name, value) in headers {
        if h.set(name, value).is_err() {
            return false;
        }
    }
    init.set_headers(&h);
    // web-sys has no setter for `keepalive`; the dictionary is a plain object.
    if js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE).is_err() {
        return false;
    }
    // Nobody is left to read the response; awaiting it only keeps a rejection from
    // being reported as unhandled.
    let promise = window.fetch_with_str_and_init(endpoint, &init);
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    });
    true
}
