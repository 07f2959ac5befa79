//! Posting envelopes: `fetch` while the page lives, `sendBeacon` (or a keepalive
//! `fetch`) while it unloads.

use trickle_core::delivery::SendResult;
use trickle_core::sorted::Map;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// POSTs `body` (envelope JSON) to `endpoint` with `Content-Type: application/json`
/// and the configured headers, under a caller-owned `signal` (the caller sets the
/// deadline and can abort; the runtime does on `destroy()`). Redirects are not
/// followed (contract section 3: a 3xx is final, so a login page's 200 cannot
/// count as delivered). Never fails: an aborted request, a thrown `fetch` or no
/// response is [`SendResult::Network`]; a header the browser refuses is
/// [`SendResult::Unsendable`], never retried as if it were the network.
pub async fn send(
    endpoint: &str,
    headers: &Map<String>,
    body: String,
    signal: Option<&web_sys::AbortSignal>,
) -> SendResult {
    let Some(window) = web_sys::window() else {
        return SendResult::Network;
    };
    let init = match request_init(headers, &body) {
        Ok(init) => init,
        Err(why) => return SendResult::Unsendable(why),
    };
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if signal.is_some() {
        init.set_signal(signal);
    }
    let Some(promise) = fetch(&window, endpoint, &init) else {
        return SendResult::Network;
    };
    let Ok(response) = JsFuture::from(promise).await else {
        return SendResult::Network;
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return SendResult::Network;
    };
    if response.type_() == web_sys::ResponseType::Opaqueredirect {
        return SendResult::Redirect;
    }
    let retry_after = response.headers().get("Retry-After").ok().flatten();
    SendResult::from_status(response.status(), retry_after.as_deref())
}

/// GETs `url` (a profile read, contract section 2) with the configured headers and
/// `extra` ones, under a caller-owned `signal`. The body text on a 2xx; otherwise how
/// it failed.
pub async fn read(
    url: &str,
    headers: &Map<String>,
    extra: &[(&str, &str)],
    signal: Option<&web_sys::AbortSignal>,
) -> Result<String, SendResult> {
    let window = web_sys::window().ok_or(SendResult::Network)?;
    let init = request("GET", &[], headers, extra, None).map_err(SendResult::Unsendable)?;
    if signal.is_some() {
        init.set_signal(signal);
    }
    let promise = fetch(&window, url, &init).ok_or(SendResult::Network)?;
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or(SendResult::Network)?;
    if !(200..300).contains(&response.status()) {
        return Err(SendResult::from_status(response.status(), None));
    }
    let text = response.text().map_err(|_| SendResult::Network)?;
    JsFuture::from(text)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or(SendResult::Network)
}

fn header_refused(name: &str) -> String {
    let mut why = String::from("the browser refuses the value of header ");
    why.push_str(name);
    why
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

// A POST with the JSON content type and the configured headers; why not, when
// the browser refuses a header.
fn request_init(headers: &Map<String>, body: &str) -> Result<web_sys::RequestInit, String> {
    request(
        "POST",
        &[("Content-Type", "application/json")],
        headers,
        &[],
        Some(body),
    )
}

// A request with the `leading` headers, then the configured ones, then `trailing`
// ones (a later one of the same name wins), and `body` if any; why not, when the
// browser refuses a header.
fn request(
    method: &str,
    leading: &[(&str, &str)],
    headers: &Map<String>,
    trailing: &[(&str, &str)],
    body: Option<&str>,
) -> Result<web_sys::RequestInit, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let h = web_sys::Headers::new().map_err(|_| String::from("no Headers"))?;
    // Three plain loops, not one over chained iterators: the chain's adapters
    // compiled into the wasm for this one use.
    let set = |name: &str, value: &str| h.set(name, value).map_err(|_| header_refused(name));
    for &(name, value) in leading {
        set(name, value)?;
    }
    for (name, value) in headers {
        set(name, value)?;
    }
    for &(name, value) in trailing {
        set(name, value)?;
    }
    init.set_headers(&h);
    Ok(init)
}

/// Sends `body` while the page unloads, fire and forget. Without custom headers it
/// uses `navigator.sendBeacon` with a string body, which the browser sends as
/// `text/plain` (a CORS-safelisted type, so no preflight the unloading page could not
/// wait for). A beacon cannot carry headers, so with custom headers it uses `fetch`
/// with `keepalive: true`, which outlives the page. Returns whether the browser
/// accepted the request for sending.
pub fn beacon(endpoint: &str, headers: &Map<String>, body: &str) -> bool {
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
    headers: &Map<String>,
    body: &str,
) -> bool {
    let Ok(init) = request_init(headers, body) else {
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
