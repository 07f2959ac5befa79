//! Browser tests of the runtime: platform fallbacks, the JS API, events and
//! delivery (headless Chromium through wasm-bindgen-test-runner).
//!
//! All tests share one page, so each starts from [`reset`]: no runtime, empty
//! storage, a scripted `fetch` and `sendBeacon` that record what they were given.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::future::TimeoutFuture;
use serde_json::{json, Value as Json};
use trickle::api;
use trickle::platform::storage::{state_key, OUTBOX_KEY};
use trickle::platform::{ids, Log, Store};
use trickle::runtime::host;
use trickle::ui::UiEvent;
use trickle_core::answer::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// Replaces fetch and sendBeacon with recorders. `window.__status` is the status the
// fake endpoint answers (0: a network error). Each call records the url, the body,
// the outbox as stored at the moment of the call, and whether it was a keepalive
// fetch or a beacon.
const FAKES: &str = r#"
  if (!window.__realFetch) { window.__realFetch = window.fetch; window.__realBeacon = navigator.sendBeacon; window.__realSetItem = Storage.prototype.setItem; }
  Storage.prototype.setItem = window.__realSetItem;
  window.__status = 200;
  // When set, a function of the request body that returns the status instead.
  window.__statusFor = null;
  window.__retryAfter = null;
  window.__calls = [];
  // Profile reads (GET): the body answered (JSON), after a delay, with a status.
  window.__profile = null;
  window.__profileDelay = 0;
  window.__profileStatus = 200;
  // A request of an earlier test that settles late must not land in this one's list.
  window.__epoch = (window.__epoch || 0) + 1;
  window.fetch = function (input, init) {
    const epoch = window.__epoch;
    const stored = localStorage.getItem('trickle:v1:outbox');
    const isReq = typeof input !== 'string';
    const url = isReq ? input.url : input;
    const keepalive = isReq ? input.keepalive : !!(init && init.keepalive);
    const method = isReq ? input.method : ((init && init.method) || 'GET');
    if (method === 'GET') {
      const headers = isReq ? input.headers : new Headers(init && init.headers);
      window.__calls.push({ kind: 'get', url: url, hash: headers.get('X-Trickle-User-Hash'), stored: null });
      const signal = isReq ? input.signal : init && init.signal;
      return new Promise(function (ok, fail) {
        const t = setTimeout(ok, window.__profileDelay);
        if (signal) signal.addEventListener('abort', function () { clearTimeout(t); fail(new DOMException('aborted', 'AbortError')); });
      }).then(function () {
        if (epoch !== window.__epoch) throw new TypeError('stale');
        if (window.__profileStatus === 0) throw new TypeError('Failed to fetch');
        return new Response(JSON.stringify(window.__profile || {}), { status: window.__profileStatus });
      });
    }
    const body = isReq ? input.clone().text() : Promise.resolve(init && init.body);
    return body.then(function (b) {
      if (epoch !== window.__epoch) throw new TypeError('stale');
      window.__calls.push({ kind: keepalive ? 'keepalive' : 'fetch', url: url, body: b, stored: stored });
      const status = window.__statusFor ? window.__statusFor(b) : window.__status;
      if (status === 0) throw new TypeError('Failed to fetch');
      const headers = window.__retryAfter ? { 'Retry-After': window.__retryAfter } : {};
      return new Response(null, { status: status, headers: headers });
    });
  };
  navigator.sendBeacon = function (url, body) {
    window.__calls.push({ kind: 'beacon', url: url, body: String(body), stored: null });
    return true;
  };
  localStorage.clear();
"#;

fn run_js(src: &str) -> JsValue {
    js_sys::Function::new_no_args(src)
        .call0(&JsValue::NULL)
        .unwrap()
}

async fn reset() {
    api::destroy();
    host::forget_store();
    // Let requests of the previous test settle before the fakes are replaced.
    TimeoutFuture::new(30).await;
    run_js(FAKES);
}

fn set_status(status: u16) {
    run_js(&format!("window.__status = {status};"));
}

fn calls() -> Vec<Json> {
    let v = run_js("return JSON.stringify(window.__calls);");
    serde_json::from_str(&v.as_string().unwrap()).unwrap()
}

fn explain() -> Json {
    let v = api::explain();
    serde_json::from_str(&js_sys::JSON::stringify(&v).unwrap().as_string().unwrap()).unwrap()
}

fn config(user_id: &str) -> Json {
    json!({
        "endpoint": "/v1/answers",
        "user": { "id": user_id, "loginsCount": 1, "profile": { "name": "Ada" } },
        "stages": [
            { "id": "basics", "minLogins": 1, "questions": [
                { "id": "role", "field": "role", "kind": "choice", "prompt": "Your role?",
                  "options": [ { "value": "dev", "label": "Developer" }, { "value": "ops", "label": "Operator" } ],
                  "declinable": true },
                { "id": "city", "field": "city", "kind": "text", "prompt": "Your city?" }
            ]},
            { "id": "company", "minLogins": 5, "questions": [
                { "id": "size", "field": "company.size", "kind": "number", "prompt": "How many people?" }
            ]}
        ]
    })
}

fn to_js(v: &Json) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

/// `init`, then the four tasks after its start, where Yew starts and the popup's
/// first render runs in two halves, with the first laid out between them.
async fn start(config: &Json) {
    JsFuture::from(api::init(to_js(config))).await.unwrap();
    for _ in 0..4 {
        TimeoutFuture::new(0).await;
    }
}

/// Records every `trickle:*` event as (name, detail).
struct Events {
    seen: Rc<RefCell<Vec<(String, Json)>>>,
    _listeners: Vec<EventListener>,
}

impl Events {
    fn listen() -> Self {
        let document = web_sys::window().unwrap().document().unwrap();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let names = [
            "trickle:ready",
            "trickle:shown",
            "trickle:answered",
            "trickle:declined",
            "trickle:snoozed",
            "trickle:delivered",
            "trickle:error",
        ];
        let listeners = names
            .iter()
            .map(|name| {
                let seen = seen.clone();
                EventListener::new(&document, *name, move |e| {
                    let e = e.dyn_ref::<web_sys::CustomEvent>().unwrap();
                    let detail = js_sys::JSON::stringify(&e.detail())
                        .unwrap()
                        .as_string()
                        .unwrap();
                    seen.borrow_mut()
                        .push((e.type_(), serde_json::from_str(&detail).unwrap()));
                })
            })
            .collect();
        Self {
            seen,
            _listeners: listeners,
        }
    }

    fn named(&self, name: &str) -> Vec<Json> {
        self.seen
            .borrow()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.seen.borrow().iter().map(|(n, _)| n.clone()).collect()
    }
}

async fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        TimeoutFuture::new(10).await;
    }
    done()
}

fn answer(value: Value) {
    host::with_runtime(|rt| {
        rt.on_ui(UiEvent::Answer {
            value,
            other: false,
        })
    })
    .unwrap();
}

fn body_count() -> u32 {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .body()
        .unwrap()
        .child_element_count()
}

#[wasm_bindgen_test]
async fn storage_falls_back_to_memory_when_local_storage_throws() {
    reset().await;
    run_js("Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };");
    let store = Store::open(Log::new(true));
    assert!(store.is_persistent());
    store.set("trickle:test", "kept");
    assert!(
        !store.is_persistent(),
        "a throwing setItem switches to memory"
    );
    assert_eq!(store.get("trickle:test").as_deref(), Some("kept"));
    run_js("Storage.prototype.setItem = window.__realSetItem;");
}

#[wasm_bindgen_test]
async fn storage_without_local_storage_keeps_values_in_memory() {
    reset().await;
    let store = Store::with(None, Log::default());
    store.set("k", "v");
    assert_eq!(store.get("k").as_deref(), Some("v"));
    store.remove("k");
    assert_eq!(store.get("k"), None);
}

#[wasm_bindgen_test]
async fn storage_reads_what_another_tab_wrote() {
    reset().await;
    let store = Store::open(Log::default());
    store.set("k", "mine");
    run_js("localStorage.setItem('k', 'theirs');");
    assert_eq!(store.get("k").as_deref(), Some("theirs"));
}

#[wasm_bindgen_test]
async fn ids_are_v4_uuids_with_and_without_random_uuid() {
    let is_v4 = |s: &str| {
        let b = s.as_bytes();
        s.len() == 36
            && b[8] == b'-'
            && b[13] == b'-'
            && b[14] == b'4'
            && b[18] == b'-'
            && matches!(b[19], b'8' | b'9' | b'a' | b'b')
            && b[23] == b'-'
    };
    let a = ids::uuid();
    assert!(is_v4(&a), "{a}");
    assert_ne!(a, ids::uuid());
    assert_eq!(
        ids::uuid_from_bytes([0xff; 16]),
        "ffffffff-ffff-4fff-bfff-ffffffffffff"
    );
    // Insecure contexts have no crypto.randomUUID: the getRandomValues path.
    run_js("window.__realRandomUUID = crypto.randomUUID; crypto.randomUUID = undefined;");
    let b = ids::uuid();
    run_js("crypto.randomUUID = window.__realRandomUUID;");
    assert!(is_v4(&b), "{b}");
}

#[wasm_bindgen_test]
async fn init_rejects_a_bad_config_with_the_path_named_message() {
    reset().await;
    let events = Events::listen();
    let bad = json!({ "endpoint": "/v1/answers", "stages": [ { "id": "a", "questions": [] } ] });
    let err = JsFuture::from(api::init(to_js(&bad))).await.unwrap_err();
    let err: js_sys::Error = err.dyn_into().unwrap();
    assert_eq!(
        String::from(err.message()),
        "stages[0].questions: must not be empty"
    );
    let errors = events.named("trickle:error");
    assert_eq!(
        errors,
        vec![json!({ "code": "config", "message": "stages[0].questions: must not be empty" })]
    );
    assert_eq!(explain()["questions"], json!([]), "nothing started");
}

#[wasm_bindgen_test]
async fn init_checks_the_config_it_gets_not_an_older_one_read_ahead() {
    reset().await;
    let bad = json!({ "endpoint": "/v1/answers", "stages": [ { "id": "a", "questions": [] } ] });
    // Read ahead, then changed by the host before init runs: init checks it as it is.
    let changing = to_js(&config("u-ahead"));
    api::read_ahead(changing.clone());
    js_sys::Reflect::set(&js_sys::global(), &"__ahead".into(), &changing).unwrap();
    run_js("window.__ahead.stages[0].questions = []");
    let err = JsFuture::from(api::init(changing)).await.unwrap_err();
    let err: js_sys::Error = err.dyn_into().unwrap();
    assert_eq!(
        String::from(err.message()),
        "stages[0].questions: must not be empty"
    );
    // A bad config read ahead does not stand in for the good one init gets.
    api::read_ahead(to_js(&bad));
    let events = Events::listen();
    start(&config("u-ahead")).await;
    assert_eq!(events.names(), vec!["trickle:ready", "trickle:shown"]);
    api::destroy();
    // The same text read ahead: init starts with it.
    reset().await;
    let events = Events::listen();
    api::read_ahead(to_js(&config("u-ahead-2")));
    start(&config("u-ahead-2")).await;
    assert_eq!(events.names(), vec!["trickle:ready", "trickle:shown"]);
    api::destroy();
    // ...and refuses the same bad text with the same path-named message.
    reset().await;
    api::read_ahead(to_js(&bad));
    let err = JsFuture::from(api::init(to_js(&bad))).await.unwrap_err();
    let err: js_sys::Error = err.dyn_into().unwrap();
    assert_eq!(
        String::from(err.message()),
        "stages[0].questions: must not be empty"
    );
}

#[wasm_bindgen_test]
async fn init_shows_the_due_question_and_says_so() {
    reset().await;
    let events = Events::listen();
    start(&config("u-shown")).await;
    assert_eq!(events.names(), vec!["trickle:ready", "trickle:shown"]);
    assert_eq!(
        events.named("trickle:shown"),
        vec![json!({ "questionId": "role", "stage": "basics", "field": "role" })]
    );
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_question_whose_popup_cannot_mount_is_not_counted_as_shown() {
    reset().await;
    let events = Events::listen();
    run_js(
        "window.__realAttachShadow = Element.prototype.attachShadow;
         Element.prototype.attachShadow = function () { throw new DOMException('refused', 'NotSupportedError'); };",
    );
    start(&config("u-no-mount")).await;
    run_js("Element.prototype.attachShadow = window.__realAttachShadow;");
    assert!(
        events.named("trickle:shown").is_empty(),
        "{:?}",
        events.names()
    );
    assert_eq!(events.named("trickle:error")[0]["code"], "ui");
    let stored = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let state: Json =
        serde_json::from_str(&stored.get_item(&state_key("u-no-mount")).unwrap().unwrap()).unwrap();
    assert_eq!(state["shown"], json!({}), "{state}");
    assert_eq!(state["shownThisLogin"], json!([]), "{state}");
    api::destroy();
}

#[wasm_bindgen_test]
async fn explain_lists_every_question_with_its_reason() {
    reset().await;
    start(&config("u-explain")).await;
    let e = explain();
    let questions = e["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 3);
    for q in questions {
        // The set of keys; their order is not part of the interface.
        let mut keys: Vec<&String> = q.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, vec!["field", "open", "questionId", "reason", "stage"]);
    }
    assert_eq!(questions[0]["questionId"], "role");
    assert_eq!(questions[0]["open"], true);
    assert_eq!(questions[0]["reason"], Json::Null);
    assert_eq!(questions[2]["open"], false);
    assert_eq!(questions[2]["reason"], "stage-not-reached");
    assert_eq!(e["queued"], 0);
    assert_eq!(e["deadLetter"], json!([]));
    api::destroy();
}

#[wasm_bindgen_test]
async fn an_answer_is_stored_before_it_is_sent_and_delivered_after_a_2xx() {
    reset().await;
    let events = Events::listen();
    start(&config("u-answer")).await;
    answer(Value::Text("dev".into()));
    let answered = events.named("trickle:answered");
    assert_eq!(answered.len(), 1, "answered is said at once");
    let id = answered[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(answered[0]["value"], "dev");
    assert_eq!(answered[0]["field"], "role");
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    let calls = calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0]["stored"].as_str().unwrap().contains(&id),
        "stored before the send"
    );
    let body: Json = serde_json::from_str(calls[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["userId"], "u-answer");
    assert_eq!(body["answers"][0]["id"], id.as_str());
    assert_eq!(body["answers"][0]["status"], "answered");
    assert_eq!(body["answers"][0]["loginsCount"], 1);
    assert!(body["context"]["widget"]
        .as_str()
        .unwrap()
        .starts_with("trickle/"));
    assert_eq!(
        events.named("trickle:delivered"),
        vec![json!({ "ids": [id] })]
    );
    assert_eq!(explain()["queued"], 0);
    // The next question follows; the answered field is known locally.
    assert_eq!(events.named("trickle:shown").len(), 2);
    assert_eq!(explain()["questions"][0]["reason"], "known");
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_final_4xx_dead_letters_the_answer_with_one_error_and_no_retry() {
    reset().await;
    set_status(422);
    let events = Events::listen();
    start(&config("u-422")).await;
    answer(Value::Text("ops".into()));
    assert!(wait_until(|| !events.named("trickle:error").is_empty()).await);
    TimeoutFuture::new(300).await;
    assert_eq!(calls().len(), 1, "never retried");
    let errors = events.named("trickle:error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["code"], "rejected");
    let e = explain();
    assert_eq!(e["queued"], 0);
    assert_eq!(e["deadLetter"].as_array().unwrap().len(), 1);
    api::destroy();
}

#[wasm_bindgen_test]
async fn context_url_is_origin_and_path_without_query_or_fragment() {
    reset().await;
    let events = Events::listen();
    let page = run_js("return location.href;").as_string().unwrap();
    run_js("history.replaceState(null, '', location.pathname + '?token=secret&email=a%40b.c#code=xyz');");
    start(&config("u-url")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    let expected = run_js("return location.origin + location.pathname;")
        .as_string()
        .unwrap();
    run_js(&format!("history.replaceState(null, '', {});", json!(page)));
    let body: Json = serde_json::from_str(calls()[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["context"]["url"], expected.as_str());
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_dead_lettered_answer_leaves_its_field_unknown_again() {
    reset().await;
    set_status(422);
    let events = Events::listen();
    start(&config("u-422-unknown")).await;
    answer(Value::Text("ops".into()));
    assert_eq!(
        explain()["questions"][0]["reason"],
        "known",
        "known while queued"
    );
    assert!(wait_until(|| !events.named("trickle:error").is_empty()).await);
    let role = &explain()["questions"][0];
    assert_eq!(role["open"], true, "{role}");
    assert_eq!(role["reason"], Json::Null);
    let stored = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let state: Json = serde_json::from_str(
        &stored
            .get_item(&state_key("u-422-unknown"))
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(state["answered"], json!([]), "{state}");
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_batch_refused_with_a_4xx_is_resent_one_by_one_and_only_the_bad_answer_is_dead_lettered()
{
    reset().await;
    set_status(0);
    let events = Events::listen();
    start(&config("u-split")).await;
    answer(Value::Text("dev".into()));
    answer(Value::Text("Oslo".into()));
    assert!(wait_until(|| calls().len() == 2).await);
    TimeoutFuture::new(50).await;
    assert_eq!(explain()["queued"], 2);
    // The endpoint refuses any request that holds the city answer.
    run_js("window.__statusFor = function (b) { return b.indexOf('Oslo') >= 0 ? 422 : 200; };");
    run_js("window.dispatchEvent(new Event('online'));");
    assert!(wait_until(|| explain()["queued"] == 0).await);
    let sizes: Vec<usize> = calls()
        .iter()
        .skip(2)
        .map(|c| {
            let body: Json = serde_json::from_str(c["body"].as_str().unwrap()).unwrap();
            body["answers"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(sizes, vec![2, 1, 1], "the batch, then each alone");
    let dead = explain()["deadLetter"].clone();
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["answer"]["questionId"], "city");
    assert_eq!(events.named("trickle:delivered").len(), 1);
    let errors = events.named("trickle:error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "rejected");
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_5xx_keeps_the_answer_queued_and_the_next_init_sends_it() {
    reset().await;
    set_status(503);
    let events = Events::listen();
    start(&config("u-503")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    assert_eq!(explain()["queued"], 1);
    assert!(events.named("trickle:error").is_empty());
    api::destroy();
    // The next page load: the queue is still in storage and goes out at init.
    set_status(200);
    start(&config("u-503")).await;
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    assert_eq!(explain()["queued"], 0);
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_network_error_is_retried_when_the_browser_comes_online() {
    reset().await;
    set_status(0);
    let events = Events::listen();
    start(&config("u-offline")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    set_status(200);
    run_js("window.dispatchEvent(new Event('online'));");
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    assert_eq!(calls().len(), 2);
    api::destroy();
}

#[wasm_bindgen_test]
async fn another_tabs_queued_answer_survives_this_tabs_delivery() {
    reset().await;
    set_status(503);
    start(&config("u-tab")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    // Another tab overwrites the stored outbox with its own answer only.
    let mut theirs = trickle_core::outbox::Outbox::default();
    let other = trickle_core::answer::Answer {
        id: "00000000-0000-4000-8000-000000000001".into(),
        question_id: "city".into(),
        stage: "basics".into(),
        field: "city".into(),
        status: trickle_core::answer::Status::Answered,
        value: Some(Value::Text("Oslo".into())),
        other: false,
        suggested: false,
        answered_at: "2026-11-30T15:00:00.000Z".into(),
        logins_count: 1,
    };
    theirs.enqueue("u-tab", None, other);
    run_js(&format!(
        "localStorage.setItem('{OUTBOX_KEY}', {});",
        serde_json::to_string(&theirs.to_json()).unwrap()
    ));
    set_status(200);
    run_js("window.dispatchEvent(new Event('online'));");
    assert!(wait_until(|| explain()["queued"] == 0).await);
    let sent: Vec<String> = calls()
        .iter()
        .skip(1)
        .flat_map(|c| {
            let body: Json = serde_json::from_str(c["body"].as_str().unwrap()).unwrap();
            body["answers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(sent.len(), 2, "both tabs' answers went out: {sent:?}");
    api::destroy();
}

#[wasm_bindgen_test]
async fn an_answer_put_back_into_a_full_outbox_reports_the_one_it_evicts() {
    reset().await;
    set_status(503);
    let events = Events::listen();
    start(&config("u-full")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    // Another tab filled the outbox, dropping this tab's answer in its write.
    let mut theirs = trickle_core::outbox::Outbox::default();
    for i in 0..trickle_core::outbox::MAX_QUEUED {
        theirs.enqueue(
            "u-other",
            None,
            trickle_core::answer::Answer {
                id: format!("00000000-0000-4000-8000-{i:012}"),
                question_id: "city".into(),
                stage: "basics".into(),
                field: "city".into(),
                status: trickle_core::answer::Status::Answered,
                value: Some(Value::Text("Oslo".into())),
                other: false,
                suggested: false,
                answered_at: "2026-11-30T15:00:00.000Z".into(),
                logins_count: 1,
            },
        );
    }
    run_js(&format!(
        "localStorage.setItem('{OUTBOX_KEY}', {});",
        serde_json::to_string(&theirs.to_json()).unwrap()
    ));
    // The next two delivery events (coming online) put this tab's answer back.
    for _ in 0..2 {
        run_js("window.dispatchEvent(new Event('online'));");
        TimeoutFuture::new(20).await;
    }
    let errors = events.named("trickle:error");
    assert_eq!(errors.len(), 1, "reported once: {errors:?}");
    assert_eq!(errors[0]["code"], "overflow");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("00000000-0000-4000-8000-000000000000"));
    assert_eq!(explain()["deadLetter"].as_array().unwrap().len(), 1);
    api::destroy();
}

#[wasm_bindgen_test]
async fn an_unreadable_stored_outbox_with_answers_is_backed_up_once_and_reported() {
    reset().await;
    let events = Events::listen();
    let theirs =
        r#"{"version":2,"queue":[{"userId":"u-newer","answer":{"id":"a1","shape":"new"}}]}"#;
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item(OUTBOX_KEY, theirs).unwrap();
    start(&config("u-unreadable")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    let kept: Json = serde_json::from_str(
        &storage
            .get_item("trickle:v1:outbox:unreadable")
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    // Another version's outbox is kept aside whole, as one entry.
    assert_eq!(kept.as_array().unwrap().len(), 1, "{kept}");
    assert_eq!(kept[0]["version"], 2);
    assert_eq!(kept[0]["queue"][0]["answer"]["id"], "a1");
    let errors = events.named("trickle:error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "storage");
    api::destroy();
}

#[wasm_bindgen_test]
async fn page_hide_hands_the_queue_to_a_beacon() {
    reset().await;
    set_status(503);
    start(&config("u-hide")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    // Leaving a page fires visibilitychange and pagehide; one beacon is enough.
    run_js(
        "window.dispatchEvent(new Event('pagehide')); window.dispatchEvent(new Event('pagehide'));",
    );
    let calls = calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1]["kind"], "beacon");
    assert_eq!(calls[1]["url"], "/v1/answers");
    let body: Json = serde_json::from_str(calls[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["userId"], "u-hide");
    assert_eq!(explain()["queued"], 1, "kept until a 2xx is seen");
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_tab_switch_beacons_only_answers_not_beaconed_before() {
    reset().await;
    set_status(503);
    start(&config("u-tab-switch")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    let hide = "Object.defineProperty(document, 'hidden', { configurable: true, get: function () { return true; } });
                document.dispatchEvent(new Event('visibilitychange'));
                delete document.hidden;";
    run_js(hide);
    let beacons = |calls: &[Json]| -> Vec<Vec<String>> {
        calls
            .iter()
            .filter(|c| c["kind"] == "beacon")
            .map(|c| {
                let body: Json = serde_json::from_str(c["body"].as_str().unwrap()).unwrap();
                body["answers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["questionId"].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    };
    assert_eq!(beacons(&calls()), vec![vec!["role".to_owned()]]);
    // A second answer while the endpoint is still down, then another tab switch.
    answer(Value::Text("Oslo".into()));
    TimeoutFuture::new(50).await;
    run_js(hide);
    assert_eq!(
        beacons(&calls()),
        vec![vec!["role".to_owned()], vec!["city".to_owned()]],
        "the earlier answer is not sent again"
    );
    api::destroy();
}

#[wasm_bindgen_test]
async fn page_hide_with_custom_headers_uses_a_keepalive_fetch() {
    reset().await;
    set_status(503);
    let mut cfg = config("u-hide-headers");
    cfg["headers"] = json!({ "X-Api-Key": "pk_test" });
    start(&cfg).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    run_js("window.dispatchEvent(new Event('pagehide'));");
    assert!(wait_until(|| calls().len() == 2).await);
    assert_eq!(calls()[1]["kind"], "keepalive");
    api::destroy();
}

#[wasm_bindgen_test]
async fn snooze_posts_a_snoozed_answer_and_ends_the_login() {
    reset().await;
    let events = Events::listen();
    start(&config("u-snooze")).await;
    host::with_runtime(|rt| rt.on_ui(UiEvent::Snooze)).unwrap();
    assert_eq!(events.named("trickle:snoozed").len(), 1);
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    let body: Json = serde_json::from_str(calls()[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["answers"][0]["status"], "snoozed");
    assert_eq!(
        events.named("trickle:shown").len(),
        1,
        "nothing more this login"
    );
    assert_eq!(explain()["questions"][0]["reason"], "snoozed");
    assert!(web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item(&state_key("u-snooze"))
        .unwrap()
        .is_some());
    api::destroy();
}

#[wasm_bindgen_test]
async fn identify_before_init_is_used_by_init() {
    reset().await;
    let events = Events::listen();
    api::identify(to_js(&json!({ "id": "u-early", "loginsCount": 1 })));
    let mut cfg = config("ignored");
    cfg.as_object_mut().unwrap().remove("user");
    start(&cfg).await;
    assert_eq!(events.named("trickle:shown").len(), 1);
    api::destroy();
}

#[wasm_bindgen_test]
async fn identify_with_a_bad_user_reports_the_path_and_does_not_throw() {
    reset().await;
    let events = Events::listen();
    start(&config("u-bad-user")).await;
    api::identify(to_js(&json!({ "id": "" })));
    assert_eq!(
        events.named("trickle:error"),
        vec![json!({ "code": "config", "message": "user.id: must not be empty" })]
    );
    api::destroy();
}

#[wasm_bindgen_test]
async fn track_reaches_a_stage_listing_the_event() {
    reset().await;
    let events = Events::listen();
    let mut cfg = config("u-track");
    cfg["stages"][1]["events"] = json!(["purchase"]);
    cfg["user"]["profile"] = json!({ "role": "dev", "city": "Oslo" });
    start(&cfg).await;
    assert!(events.named("trickle:shown").is_empty());
    api::track("purchase".into());
    assert_eq!(events.named("trickle:shown")[0]["questionId"], "size");
    api::destroy();
}

#[wasm_bindgen_test]
async fn identify_and_track_called_while_the_runtime_is_busy_are_applied_when_it_is_free() {
    reset().await;
    let events = Events::listen();
    let mut cfg = config("u-busy");
    cfg["stages"][1]["events"] = json!(["purchase"]);
    cfg["user"]["profile"] = json!({ "role": "dev", "city": "Oslo" });
    start(&cfg).await;
    assert!(events.named("trickle:shown").is_empty());
    // As if a host listener ran synchronously inside the runtime (a focus change).
    host::with_runtime(|_| {
        api::track("purchase".into());
        api::identify(to_js(&json!({ "id": "u-busy-2", "loginsCount": 1 })));
    })
    .unwrap();
    let shown = events.named("trickle:shown");
    assert_eq!(
        shown[0]["questionId"], "size",
        "the track was applied: {shown:?}"
    );
    assert_eq!(
        shown[1]["questionId"], "role",
        "then the identify: {shown:?}"
    );
    api::destroy();
}

#[wasm_bindgen_test]
async fn init_starts_a_task_later_and_calls_made_meanwhile_follow_the_start() {
    reset().await;
    let events = Events::listen();
    let mut cfg = config("u-later");
    cfg["user"]["profile"] = json!({ "role": "dev", "city": "Oslo" });
    let started = JsFuture::from(api::init(to_js(&cfg)));
    // Validated and installed, but not started: nothing decided or shown yet.
    assert!(events.named("trickle:ready").is_empty());
    api::identify(to_js(&json!({ "id": "u-later-2", "loginsCount": 1 })));
    assert!(events.named("trickle:shown").is_empty(), "identify waited");
    started.await.unwrap();
    assert_eq!(events.named("trickle:ready").len(), 1);
    // The config's user has nothing due; the identified one, applied after the
    // start, is asked.
    let shown = events.named("trickle:shown");
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0]["questionId"], "role", "{shown:?}");
    api::destroy();
}

#[wasm_bindgen_test]
async fn explain_between_init_and_its_start_starts_the_widget_first() {
    reset().await;
    let events = Events::listen();
    let mut cfg = config("u-explain-early");
    cfg["user"] = Json::Null;
    let started = JsFuture::from(api::init(to_js(&cfg)));
    api::identify(to_js(&json!({ "id": "u-explain-early", "loginsCount": 1 })));
    let e = explain();
    assert_eq!(e["questions"][0]["questionId"], "role");
    assert_eq!(
        e["questions"][0]["reason"],
        Json::Null,
        "identify was applied: {e}"
    );
    assert_eq!(
        events.named("trickle:ready").len(),
        1,
        "started once, by explain"
    );
    started.await.unwrap();
    assert_eq!(events.named("trickle:ready").len(), 1, "not started twice");
    api::destroy();
}

#[wasm_bindgen_test]
async fn init_resolves_when_destroy_comes_before_its_start() {
    reset().await;
    let events = Events::listen();
    let started = JsFuture::from(api::init(to_js(&config("u-gone-early"))));
    api::destroy();
    started.await.unwrap();
    assert!(
        events.named("trickle:ready").is_empty(),
        "a destroyed widget never starts"
    );
    assert!(events.named("trickle:shown").is_empty());
}

// --- between `init` and the build of its runtime (a task later) -----------------

/// Whether a runtime is installed (`Some`), and whether it has started.
fn built() -> Option<bool> {
    host::with_runtime(|rt| rt.is_started())
}

#[wasm_bindgen_test]
async fn init_builds_the_runtime_in_a_task_after_validating_the_config() {
    reset().await;
    let started = JsFuture::from(api::init(to_js(&config("u-build"))));
    assert_eq!(built(), None, "init's own call only validates");
    // Queued after init's first task: runs right after it.
    TimeoutFuture::new(0).await;
    assert_eq!(built(), Some(false), "built a task later, not started yet");
    started.await.unwrap();
    assert_eq!(built(), Some(true));
    api::destroy();
}

#[wasm_bindgen_test]
async fn track_then_identify_before_the_build_apply_in_that_order() {
    reset().await;
    let events = Events::listen();
    let mut cfg = config("u-order-a");
    cfg["stages"][1]["events"] = json!(["purchase"]);
    cfg["user"]["profile"] = json!({ "role": "dev", "city": "Oslo" });
    let started = JsFuture::from(api::init(to_js(&cfg)));
    // For the config's user (whose stage "company" it reaches), then another user.
    api::track("purchase".into());
    api::identify(to_js(&json!({ "id": "u-order-b", "loginsCount": 1 })));
    assert!(events.named("trickle:shown").is_empty(), "both waited");
    started.await.unwrap();
    assert_eq!(shown_ids(&events), vec!["size", "role"]);
    assert_eq!(events.named("trickle:ready").len(), 1);
    api::destroy();
}

#[wasm_bindgen_test]
async fn identify_then_track_before_the_build_mark_the_event_for_the_new_user() {
    reset().await;
    let mut cfg = config("u-order-c");
    cfg["stages"][1]["events"] = json!(["purchase"]);
    let started = JsFuture::from(api::init(to_js(&cfg)));
    api::identify(to_js(&json!({ "id": "u-order-d", "loginsCount": 1 })));
    api::track("purchase".into());
    started.await.unwrap();
    let tracked = |user: &str| stored_state(user).map(|s| s["events"].clone());
    assert_eq!(tracked("u-order-d"), Some(json!(["purchase"])));
    assert_ne!(tracked("u-order-c"), Some(json!(["purchase"])));
    api::destroy();
}

#[wasm_bindgen_test]
async fn identify_null_before_the_build_signs_the_configs_user_out_after_the_start() {
    reset().await;
    let events = Events::listen();
    let started = JsFuture::from(api::init(to_js(&config("u-out-early"))));
    api::identify(JsValue::NULL);
    started.await.unwrap();
    // Past the tasks where the first render would have run.
    TimeoutFuture::new(20).await;
    yew::scheduler::flush().await;
    assert_eq!(
        shown_ids(&events),
        vec!["role"],
        "decided for the config's user"
    );
    assert!(dialog_on_screen().is_none(), "then signed out");
    assert_eq!(explain()["questions"][0]["reason"], "no-user");
    api::destroy();
}

#[wasm_bindgen_test]
async fn the_decision_runs_a_task_before_the_start_carries_it_out_and_identify_meanwhile_follows() {
    reset().await;
    let events = Events::listen();
    let started = JsFuture::from(api::init(to_js(&config("u-dec-a"))));
    // The build's, the upkeep's and the decision's tasks.
    for _ in 0..3 {
        TimeoutFuture::new(0).await;
    }
    assert_eq!(built(), Some(false), "decided, not started");
    assert!(
        stored_state("u-dec-a").is_some(),
        "the decision read and saved the prompt state"
    );
    assert!(events.names().is_empty(), "{:?}", events.names());
    let document = web_sys::window().unwrap().document().unwrap();
    assert!(
        document
            .query_selector("[data-trickle-host]")
            .unwrap()
            .is_some(),
        "the popup is mounted for the due question"
    );
    assert!(dialog_on_screen().is_none(), "nothing rendered in it");
    api::identify(to_js(&json!({ "id": "u-dec-b", "loginsCount": 1 })));
    assert_eq!(stored_state("u-dec-b"), None, "waits for the start");
    started.await.unwrap();
    assert_eq!(events.names()[0], "trickle:ready");
    assert_eq!(
        events.named("trickle:shown")[0]["questionId"],
        "role",
        "the decision carried out"
    );
    assert!(stored_state("u-dec-b").is_some(), "then identified");
    api::destroy();
}

#[wasm_bindgen_test]
async fn the_upkeep_runs_a_task_after_the_build_and_identify_meanwhile_applies_after_the_start() {
    reset().await;
    let events = Events::listen();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let long_ago = js_sys::Date::now() as u64 - 91 * 24 * 60 * 60_000;
    let stale = format!(r#"{{"version":1,"login":1,"declined":["role"],"seenAt":{long_ago}}}"#);
    storage.set_item(&state_key("u-mid-gone"), &stale).unwrap();
    let started = JsFuture::from(api::init(to_js(&config("u-mid-a"))));
    TimeoutFuture::new(0).await;
    assert_eq!(
        built(),
        Some(false),
        "built; the upkeep and the start to come"
    );
    assert!(
        stored_state("u-mid-gone").is_some(),
        "no upkeep in the build's task"
    );
    api::identify(to_js(&json!({ "id": "u-mid-b", "loginsCount": 1 })));
    assert!(events.names().is_empty(), "{:?}", events.names());
    assert_eq!(stored_state("u-mid-b"), None, "waits for the start");
    started.await.unwrap();
    assert_eq!(events.named("trickle:ready").len(), 1);
    assert!(
        stored_state("u-mid-a").is_some(),
        "started for the config's user"
    );
    assert!(stored_state("u-mid-b").is_some(), "then identified");
    assert!(stored_state("u-mid-gone").is_none(), "the upkeep ran");
    api::destroy();
}

#[wasm_bindgen_test]
async fn explain_before_the_build_builds_and_starts_the_widget() {
    reset().await;
    let events = Events::listen();
    let started = JsFuture::from(api::init(to_js(&config("u-explain-build"))));
    assert_eq!(built(), None);
    let e = explain();
    assert_eq!(e["questions"].as_array().unwrap().len(), 3, "{e}");
    assert_eq!(built(), Some(true));
    started.await.unwrap();
    assert_eq!(events.named("trickle:ready").len(), 1, "started once");
    assert_eq!(shown_ids(&events), vec!["role"], "shown once");
    api::destroy();
}

#[wasm_bindgen_test]
async fn destroy_before_the_build_means_it_never_happens() {
    reset().await;
    let events = Events::listen();
    let before = body_count();
    let started = JsFuture::from(api::init(to_js(&config("u-never-built"))));
    api::identify(to_js(&json!({ "id": "u-never-built-2", "loginsCount": 1 })));
    api::destroy();
    started.await.unwrap();
    TimeoutFuture::new(30).await;
    assert_eq!(built(), None);
    assert!(events.names().is_empty(), "{:?}", events.names());
    assert_eq!(body_count(), before);
    assert_eq!(
        stored_state("u-never-built-2"),
        None,
        "the identify went too"
    );
}

#[wasm_bindgen_test]
async fn a_second_init_before_the_build_replaces_the_first_which_never_starts() {
    reset().await;
    let events = Events::listen();
    let before = body_count();
    let first = JsFuture::from(api::init(to_js(&config("u-first-init"))));
    api::track("meanwhile".into());
    let second = JsFuture::from(api::init(to_js(&config("u-second-init"))));
    first.await.unwrap();
    second.await.unwrap();
    TimeoutFuture::new(20).await;
    yew::scheduler::flush().await;
    assert_eq!(events.named("trickle:ready").len(), 1);
    assert_eq!(shown_ids(&events), vec!["role"]);
    assert_eq!(stored_state("u-first-init"), None, "never started");
    assert!(stored_state("u-second-init").is_some());
    assert_eq!(body_count(), before + 1);
    api::destroy();
}

#[wasm_bindgen_test]
async fn destroy_leaves_no_node_behind() {
    reset().await;
    let before = body_count();
    start(&config("u-destroy")).await;
    yew::scheduler::flush().await;
    assert_eq!(body_count(), before + 1, "one host element while shown");
    api::destroy();
    assert_eq!(body_count(), before);
}

#[wasm_bindgen_test]
async fn a_listener_calling_the_api_from_an_event_does_not_break_the_runtime() {
    reset().await;
    let document = web_sys::window().unwrap().document().unwrap();
    let explained = Rc::new(RefCell::new(None));
    let sink = explained.clone();
    let _l = EventListener::new(&document, "trickle:shown", move |_| {
        *sink.borrow_mut() = Some(explain());
    });
    start(&config("u-reentrant")).await;
    let e = explained.borrow().clone().unwrap();
    assert_eq!(e["questions"].as_array().unwrap().len(), 3);
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_failed_send_is_retried_by_timer_after_the_jittered_backoff() {
    reset().await;
    set_status(500);
    let events = Events::listen();
    start(&config("u-backoff")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    let stored = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let outbox: Json =
        serde_json::from_str(&stored.get_item(OUTBOX_KEY).unwrap().unwrap()).unwrap();
    let queued = &outbox["queue"][0];
    assert_eq!(queued["attempts"], 1);
    // The first retry waits between half and all of the 2 s base step.
    let wait = queued["nextAt"].as_u64().unwrap() as f64 - js_sys::Date::now();
    assert!((900.0..=2000.0).contains(&wait), "waits {wait} ms");
    set_status(200);
    TimeoutFuture::new(2100).await;
    assert_eq!(calls().len(), 2, "the timer sent it again");
    assert_eq!(events.named("trickle:delivered").len(), 1);
    api::destroy();
}

#[wasm_bindgen_test]
async fn track_with_an_empty_name_is_reported_not_thrown() {
    reset().await;
    let events = Events::listen();
    start(&config("u-track-bad")).await;
    api::track(String::new());
    assert_eq!(events.named("trickle:error")[0]["code"], "config");
    api::destroy();
}

#[wasm_bindgen_test]
async fn init_twice_replaces_the_widget_without_a_second_host_element() {
    reset().await;
    let before = body_count();
    start(&config("u-twice")).await;
    start(&config("u-twice")).await;
    yew::scheduler::flush().await;
    assert_eq!(body_count(), before + 1);
    api::destroy();
    assert_eq!(body_count(), before);
}

#[wasm_bindgen_test]
async fn destroy_removes_the_listeners_and_timers() {
    reset().await;
    set_status(0);
    start(&config("u-destroy-listeners")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    api::destroy();
    run_js(
        "window.dispatchEvent(new Event('online')); window.dispatchEvent(new Event('pagehide'));",
    );
    TimeoutFuture::new(100).await;
    assert_eq!(calls().len(), 1, "no listener is left to send");
    assert_eq!(explain()["queued"], 1, "the queue stays in storage");
}

#[wasm_bindgen_test]
async fn destroy_aborts_the_request_in_flight_and_keeps_its_answer_queued() {
    reset().await;
    start(&config("u-destroy-abort")).await;
    // An endpoint that accepts and never answers; the request ends only on abort.
    run_js(
        "window.__aborted = false;
         window.fetch = function (input, init) { return new Promise(function (_, reject) {
           init.signal.addEventListener('abort', function () { window.__aborted = true; reject(new DOMException('aborted', 'AbortError')); });
         }); };",
    );
    answer(Value::Text("dev".into()));
    TimeoutFuture::new(30).await;
    api::destroy();
    assert!(wait_until(|| run_js("return window.__aborted;") == JsValue::TRUE).await);
    TimeoutFuture::new(30).await;
    let stored = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let outbox: Json =
        serde_json::from_str(&stored.get_item(OUTBOX_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(outbox["queue"].as_array().unwrap().len(), 1, "{outbox}");
    assert_eq!(
        outbox["queue"][0]["attempts"], 0,
        "the lease covers it: {outbox}"
    );
}

#[wasm_bindgen_test]
async fn destroy_forgets_a_user_identified_before_init() {
    reset().await;
    let events = Events::listen();
    api::identify(to_js(&json!({ "id": "u-early-gone", "loginsCount": 1 })));
    api::destroy();
    let mut cfg = config("ignored");
    cfg.as_object_mut().unwrap().remove("user");
    start(&cfg).await;
    assert!(
        events.named("trickle:shown").is_empty(),
        "no user after destroy"
    );
    api::destroy();
}

fn click_in_popup(label: &str) {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document
        .query_selector("[data-trickle-host]")
        .unwrap()
        .expect("popup host");
    let shadow = host.shadow_root().expect("open shadow root");
    let buttons = shadow.query_selector_all("button").unwrap();
    for i in 0..buttons.length() {
        let button: web_sys::HtmlElement = buttons.item(i).unwrap().dyn_into().unwrap();
        if button.text_content().unwrap_or_default().trim() == label {
            button.click();
            return;
        }
    }
    panic!("no button {label}");
}

#[wasm_bindgen_test]
async fn a_click_in_the_popup_is_answered_and_a_listener_may_destroy_from_it() {
    reset().await;
    let before = body_count();
    let events = Events::listen();
    let _destroyer = EventListener::new(
        &web_sys::window().unwrap().document().unwrap(),
        "trickle:answered",
        |_| api::destroy(),
    );
    start(&config("u-click")).await;
    yew::scheduler::flush().await;
    click_in_popup("Developer");
    assert!(wait_until(|| !events.named("trickle:answered").is_empty()).await);
    yew::scheduler::flush().await;
    assert_eq!(events.named("trickle:answered")[0]["value"], "dev");
    assert_eq!(body_count(), before, "destroyed from the listener");
    // The widget still works afterwards.
    start(&config("u-click-2")).await;
    assert_eq!(events.named("trickle:shown").len(), 2);
    api::destroy();
}

fn capture_console() {
    run_js(
        "window.__logs = []; if (!window.__realLog) { window.__realLog = console.log; window.__realError = console.error; }
         console.log = function (m) { window.__logs.push(['log', String(m)]); };
         console.error = function (m) { window.__logs.push(['error', String(m)]); };",
    );
}

fn release_console() -> Vec<(String, String)> {
    let v = run_js(
        "console.log = window.__realLog; console.error = window.__realError; return JSON.stringify(window.__logs);",
    );
    serde_json::from_str(&v.as_string().unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn debug_writes_one_prefixed_line_per_decision_and_is_silent_otherwise() {
    reset().await;
    capture_console();
    start(&config("u-quiet")).await;
    api::destroy();
    let quiet = release_console();
    assert_eq!(quiet, vec![], "no lines without debug");

    reset().await;
    capture_console();
    let mut cfg = config("u-debug");
    cfg["debug"] = json!(true);
    start(&cfg).await;
    host::with_runtime(|rt| rt.on_ui(UiEvent::Snooze)).unwrap();
    // A reload of the same login: nothing more is asked, and the line says why.
    api::identify(to_js(&cfg["user"]));
    api::destroy();
    let lines = release_console();
    assert!(
        lines
            .iter()
            .all(|(kind, line)| kind == "log" && line.starts_with("[trickle] ")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(_, l)| l == "[trickle] show role (stage basics)"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.starts_with("[trickle] snoozed role; queued ")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.starts_with("[trickle] no question due (role: snoozed")),
        "{lines:?}"
    );
}

#[wasm_bindgen_test]
async fn a_bad_config_logs_one_prefixed_console_error() {
    reset().await;
    capture_console();
    let _ = JsFuture::from(api::init(to_js(
        &json!({ "endpoint": "ftp://x", "stages": [] }),
    )))
    .await;
    let lines = release_console();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].0, "error");
    assert!(
        lines[0]
            .1
            .starts_with("[trickle] invalid config: endpoint: "),
        "{lines:?}"
    );
}

#[wasm_bindgen_test]
async fn after_an_internal_error_every_call_returns_early_and_init_rejects() {
    reset().await;
    start(&config("u-internal")).await;
    let events = Events::listen();
    capture_console();
    api::stop_after_internal_error("boom");
    api::stop_after_internal_error("again");
    api::identify(to_js(&json!({ "id": "u-internal-2", "loginsCount": 1 })));
    api::track("purchase".into());
    let err = JsFuture::from(api::init(to_js(&config("u-internal-3"))))
        .await
        .unwrap_err();
    let err: js_sys::Error = err.dyn_into().unwrap();
    let lines = release_console();
    api::restart_after_internal_error_for_tests();
    assert_eq!(
        String::from(err.message()),
        "trickle stopped after an internal error"
    );
    assert_eq!(
        lines,
        vec![(
            "error".to_owned(),
            "[trickle] internal error: boom".to_owned()
        )]
    );
    assert_eq!(
        events.named("trickle:error"),
        vec![json!({ "code": "internal", "message": "boom" })]
    );
    assert!(
        events.named("trickle:shown").is_empty(),
        "{:?}",
        events.names()
    );
    api::destroy();
}

#[wasm_bindgen_test]
async fn with_storage_refused_the_queue_lives_in_memory_across_destroy_and_init() {
    reset().await;
    run_js("Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };");
    set_status(503);
    start(&config("u-memory")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    api::destroy();
    set_status(200);
    let events = Events::listen();
    start(&config("u-memory")).await;
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    assert_eq!(explain()["queued"], 0);
    api::destroy();
    run_js("Storage.prototype.setItem = window.__realSetItem;");
}

#[wasm_bindgen_test]
async fn a_request_that_hangs_is_aborted_after_20_s_and_retried_later() {
    reset().await;
    // An endpoint that accepts and never answers: the fetch settles only when its
    // signal aborts.
    run_js(
        "window.__aborted = null; window.fetch = function (input, init) {
           return new Promise(function (_, reject) {
             init.signal.addEventListener('abort', function () {
               window.__aborted = Date.now(); reject(new DOMException('aborted', 'AbortError'));
             });
           }); };",
    );
    start(&config("u-hang")).await;
    let sent = js_sys::Date::now();
    answer(Value::Text("dev".into()));
    TimeoutFuture::new(19_000).await;
    assert!(
        run_js("return window.__aborted;").is_null(),
        "not aborted before 20 s"
    );
    for _ in 0..40 {
        if !run_js("return window.__aborted;").is_null() {
            break;
        }
        TimeoutFuture::new(100).await;
    }
    let aborted = run_js("return window.__aborted;")
        .as_f64()
        .expect("aborted");
    let after = aborted - sent;
    assert!(
        (19_900.0..=21_500.0).contains(&after),
        "aborted after {after} ms"
    );
    TimeoutFuture::new(20).await;
    // A network error: still queued, one attempt counted, its lease ended.
    let stored = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let outbox: Json =
        serde_json::from_str(&stored.get_item(OUTBOX_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(outbox["queue"][0]["attempts"], 1);
    assert!(outbox["queue"][0].get("leasedUntil").is_none(), "{outbox}");
    api::destroy();
}

#[wasm_bindgen_test]
async fn posts_never_follow_a_redirect_and_a_3xx_is_final() {
    reset().await;
    run_js("window.__inits = []; const inner = window.fetch; window.fetch = function (input, init) { window.__inits.push(init && init.redirect); return inner(input, init); };");
    set_status(302);
    let events = Events::listen();
    start(&config("u-redirect")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| !events.named("trickle:error").is_empty()).await);
    assert_eq!(
        run_js("return window.__inits[0];").as_string().as_deref(),
        Some("manual")
    );
    let errors = events.named("trickle:error");
    assert_eq!(errors[0]["code"], "rejected");
    assert!(errors[0]["message"].as_str().unwrap().contains("redirect"));
    assert!(events.named("trickle:delivered").is_empty());
    let dead = &explain()["deadLetter"];
    assert_eq!(dead[0]["reason"], "redirected", "{dead}");
    assert_eq!(explain()["queued"], 0);
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_throwing_fetch_is_a_network_error_and_the_answer_stays_queued() {
    reset().await;
    let events = Events::listen();
    start(&config("u-throwing-fetch")).await;
    run_js("window.__fakeFetch = window.fetch; window.fetch = function () { throw new TypeError('host wrapper broke'); };");
    answer(Value::Text("dev".into()));
    TimeoutFuture::new(50).await;
    assert_eq!(explain()["queued"], 1);
    assert!(events.named("trickle:error").is_empty());
    // The failure was handled like any network error: the next chance delivers.
    run_js("window.fetch = window.__fakeFetch; window.dispatchEvent(new Event('online'));");
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_retry_after_header_sets_the_earliest_retry() {
    reset().await;
    set_status(429);
    run_js("window.__retryAfter = '7';");
    start(&config("u-retry-after")).await;
    answer(Value::Text("dev".into()));
    assert!(wait_until(|| calls().len() == 1).await);
    TimeoutFuture::new(50).await;
    let stored = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let outbox: Json =
        serde_json::from_str(&stored.get_item(OUTBOX_KEY).unwrap().unwrap()).unwrap();
    let wait = outbox["queue"][0]["nextAt"].as_u64().unwrap() as f64 - js_sys::Date::now();
    assert!((6500.0..=7000.0).contains(&wait), "waits {wait} ms");
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_question_answered_in_another_tab_goes_away_here() {
    reset().await;
    let before = body_count();
    start(&config("u-other-tab")).await;
    yew::scheduler::flush().await;
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let key = state_key("u-other-tab");
    // A storage write unrelated to the question changes nothing.
    run_js("window.dispatchEvent(new StorageEvent('storage', { key: 'unrelated' }));");
    assert!(
        host::with_runtime(
            |rt| serde_json::from_str::<Json>(&rt.explain()).unwrap()["questions"][0]["open"]
                == true
        )
        .unwrap()
    );
    assert!(shown_question().is_some());
    // The other tab answered `role`: its state says so, and it fires `storage` here.
    let mut state: Json = serde_json::from_str(&storage.get_item(&key).unwrap().unwrap()).unwrap();
    state["answered"] = json!(["role"]);
    storage.set_item(&key, &state.to_string()).unwrap();
    run_js("window.dispatchEvent(new StorageEvent('storage', { key: 'x' }));");
    yew::scheduler::flush().await;
    assert!(shown_question().is_none(), "the popup went away");
    api::destroy();
    assert_eq!(body_count(), before);
}

// The prompt of the dialog on screen, if any.
fn shown_question() -> Option<String> {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.query_selector("[data-trickle-host]").unwrap()?;
    let dialog = host
        .shadow_root()?
        .query_selector("[role=dialog]")
        .unwrap()?;
    Some(dialog.text_content().unwrap_or_default())
}

// --- the server-kept profile (contract section 2) and signing out ---------------

fn with_profile_url(user_id: &str) -> Json {
    let mut cfg = config(user_id);
    cfg["profileUrl"] = json!("/v1/profiles/{userId}");
    cfg["user"]["userHash"] = json!("abc123");
    cfg
}

/// The prompt of the dialog on screen, if one is.
fn dialog_on_screen() -> Option<String> {
    let document = web_sys::window()?.document()?;
    let host = document.query_selector("[data-trickle-host]").ok()??;
    let dialog = host.shadow_root()?.query_selector("[role=dialog]").ok()??;
    Some(dialog.text_content().unwrap_or_default())
}

fn shown_ids(events: &Events) -> Vec<String> {
    events
        .named("trickle:shown")
        .iter()
        .map(|d| d["questionId"].as_str().unwrap().to_owned())
        .collect()
}

#[wasm_bindgen_test]
async fn the_profile_read_is_merged_before_the_first_question_is_chosen() {
    reset().await;
    run_js(
        r#"window.__profile = { userId: "u|read", profile: { role: "dev" },
            promptState: { declined: [], snoozed: [] }, answers: [], updatedAt: null };
           window.__profileDelay = 200;"#,
    );
    let events = Events::listen();
    start(&with_profile_url("u|read")).await;
    assert!(
        events.named("trickle:shown").is_empty(),
        "waits for the read"
    );
    assert!(wait_until(|| !events.named("trickle:shown").is_empty()).await);
    assert_eq!(shown_ids(&events), ["city"], "role is known on the server");
    let get = calls().into_iter().find(|c| c["kind"] == "get").unwrap();
    assert_eq!(get["url"], "/v1/profiles/u%7Cread", "the id is URL-encoded");
    assert_eq!(
        get["hash"], "abc123",
        "the user's hash travels in X-Trickle-User-Hash"
    );
    assert_eq!(explain()["questions"][0]["reason"], "known");
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_decline_and_a_snooze_kept_by_the_server_hold_in_this_browser() {
    reset().await;
    run_js(
        r#"window.__profile = { profile: {}, promptState: { declined: ["role"],
            snoozed: [{ stage: "basics", untilLogins: 2 }] } };"#,
    );
    let events = Events::listen();
    start(&with_profile_url("u-declined")).await;
    assert!(wait_until(|| explain()["questions"][0]["reason"] == "declined").await);
    TimeoutFuture::new(50).await;
    assert!(
        events.named("trickle:shown").is_empty(),
        "{:?}",
        events.names()
    );
    assert_eq!(explain()["questions"][1]["reason"], "snoozed");
    assert!(dialog_on_screen().is_none());
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_slow_profile_read_does_not_hold_the_popup_and_closes_a_question_it_settles() {
    reset().await;
    run_js(
        r#"window.__profile = { profile: { role: "ops" }, promptState: { declined: [], snoozed: [] } };
           window.__profileDelay = 2500;"#,
    );
    let events = Events::listen();
    start(&with_profile_url("u-slow")).await;
    // Decided from local state once the 1.5 s wait is over.
    for _ in 0..30 {
        if !events.named("trickle:shown").is_empty() {
            break;
        }
        TimeoutFuture::new(100).await;
    }
    assert_eq!(shown_ids(&events), ["role"]);
    // The read arrives: role is known there, so the popup moves on to city.
    for _ in 0..30 {
        if shown_ids(&events).len() == 2 {
            break;
        }
        TimeoutFuture::new(100).await;
    }
    assert_eq!(shown_ids(&events), ["role", "city"]);
    assert_eq!(explain()["questions"][0]["reason"], "known");
    assert!(
        events.named("trickle:answered").is_empty(),
        "nothing was posted for role"
    );
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_refused_profile_read_is_reported_once_and_the_question_is_asked() {
    reset().await;
    run_js("window.__profileStatus = 401;");
    let events = Events::listen();
    start(&with_profile_url("u-refused")).await;
    assert!(wait_until(|| !events.named("trickle:shown").is_empty()).await);
    let errors = events.named("trickle:error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "profile");
    assert!(errors[0]["message"].as_str().unwrap().contains("401"));
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_profile_read_that_fails_on_the_network_is_not_an_error_and_the_question_is_asked() {
    reset().await;
    run_js("window.__profileStatus = 0;");
    let events = Events::listen();
    start(&with_profile_url("u-offline-read")).await;
    assert!(wait_until(|| !events.named("trickle:shown").is_empty()).await);
    assert!(events.named("trickle:error").is_empty());
    api::destroy();
}

#[wasm_bindgen_test]
async fn without_a_profile_url_nothing_is_read() {
    reset().await;
    start(&config("u-no-read")).await;
    TimeoutFuture::new(50).await;
    assert!(calls().iter().all(|c| c["kind"] != "get"));
    api::destroy();
}

#[wasm_bindgen_test]
async fn the_first_question_renders_two_tasks_after_the_decision() {
    reset().await;
    let events = Events::listen();
    JsFuture::from(api::init(to_js(&config("u-first-render"))))
        .await
        .unwrap();
    yew::scheduler::flush().await;
    assert_eq!(shown_ids(&events), vec!["role"], "decided and mounted");
    assert!(
        dialog_on_screen().is_none(),
        "not rendered in the start's task"
    );
    TimeoutFuture::new(0).await;
    yew::scheduler::flush().await;
    assert!(
        dialog_on_screen().is_none(),
        "Yew started, nothing rendered"
    );
    TimeoutFuture::new(0).await;
    yew::scheduler::flush().await;
    assert!(dialog_on_screen().is_some(), "rendered in the task after");
    api::destroy();
}

#[wasm_bindgen_test]
async fn identify_null_signs_out_hides_the_popup_and_still_delivers_the_queue() {
    reset().await;
    set_status(0);
    let events = Events::listen();
    start(&config("u-signout")).await;
    yew::scheduler::flush().await;
    answer(Value::Text("dev".into()));
    yew::scheduler::flush().await;
    assert!(
        dialog_on_screen().is_some(),
        "the next question is on screen"
    );
    api::identify(JsValue::NULL);
    yew::scheduler::flush().await;
    assert!(dialog_on_screen().is_none(), "the popup went with the user");
    let explained = explain();
    assert!(explained["questions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["reason"] == "no-user"));
    assert_eq!(explained["queued"], 1);
    // Still delivered while nobody is signed in.
    set_status(200);
    web_sys::window()
        .unwrap()
        .dispatch_event(&web_sys::Event::new("online").unwrap())
        .unwrap();
    assert!(wait_until(|| !events.named("trickle:delivered").is_empty()).await);
    let shown = events.named("trickle:shown").len();
    TimeoutFuture::new(50).await;
    assert_eq!(
        events.named("trickle:shown").len(),
        shown,
        "nothing asked while signed out"
    );
    // The next identify asks again.
    api::identify(to_js(&json!({ "id": "u-signout", "loginsCount": 1 })));
    assert!(wait_until(|| events.named("trickle:shown").len() > shown).await);
    api::destroy();
}

#[wasm_bindgen_test]
async fn identify_undefined_before_init_forgets_the_early_user() {
    reset().await;
    let events = Events::listen();
    api::identify(to_js(&json!({ "id": "u-early-out", "loginsCount": 1 })));
    api::identify(JsValue::UNDEFINED);
    let mut cfg = config("ignored");
    cfg.as_object_mut().unwrap().remove("user");
    start(&cfg).await;
    assert!(events.named("trickle:shown").is_empty());
    assert_eq!(explain()["questions"][0]["reason"], "no-user");
    api::destroy();
}

// --- bounded storage (contract section 3, v2) ------------------------------------

fn stored_state(user_id: &str) -> Option<Json> {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage
        .get_item(&state_key(user_id))
        .unwrap()
        .map(|t| serde_json::from_str(&t).unwrap())
}

#[wasm_bindgen_test]
async fn only_events_a_stage_lists_are_stored() {
    reset().await;
    let mut cfg = config("u-events");
    cfg["stages"][1]["events"] = json!(["purchase"]);
    api::track("before-init-unlisted".into());
    api::track("purchase".into());
    start(&cfg).await;
    for name in ["page-view", "clicked-a-button", "scrolled"] {
        api::track(name.into());
    }
    let state = stored_state("u-events").unwrap();
    assert_eq!(state["events"], json!(["purchase"]), "{state}");
    api::destroy();
}

#[wasm_bindgen_test]
async fn a_prompt_state_unused_for_90_days_is_removed_at_the_next_start() {
    reset().await;
    let day = 24.0 * 60.0 * 60_000.0;
    let now = js_sys::Date::now();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let state = |seen: f64| {
        format!(
            r#"{{"version":1,"login":1,"declined":["role"],"seenAt":{}}}"#,
            seen as u64
        )
    };
    storage
        .set_item(&state_key("gone"), &state(now - 91.0 * day))
        .unwrap();
    storage
        .set_item(&state_key("recent"), &state(now - 89.0 * day))
        .unwrap();
    storage
        .set_item(
            &state_key("undated"),
            r#"{"version":1,"login":1,"declined":["role"]}"#,
        )
        .unwrap();
    storage
        .set_item(&state_key("unreadable"), "{\"version\":7}")
        .unwrap();
    start(&config("u-prune")).await;
    assert!(stored_state("gone").is_none(), "not seen for 91 days");
    assert!(stored_state("recent").is_some());
    let undated = stored_state("undated").unwrap();
    assert!(
        undated["seenAt"].as_f64().unwrap() >= now,
        "dated now: {undated}"
    );
    assert_eq!(
        storage
            .get_item(&state_key("unreadable"))
            .unwrap()
            .as_deref(),
        Some("{\"version\":7}"),
        "another version's state is left alone"
    );
    assert!(stored_state("u-prune").unwrap()["seenAt"].as_f64().unwrap() >= now);
    api::destroy();
}

#[wasm_bindgen_test]
fn the_config_fingerprint_matches_the_loaders() {
    use trickle::platform::dom::fingerprint;
    // The same values as `fingerprint` in src/embed/api.js gives (checked with node).
    assert_eq!(
        fingerprint(&to_js(&json!({ "a": 1, "b": "é" }))),
        "eb638026"
    );
    assert_eq!(fingerprint(&JsValue::from_str("{\"x\":1}")), "e028e096");
}

#[wasm_bindgen_test]
async fn the_idle_hint_is_left_only_while_nothing_can_be_shown_and_nothing_is_queued() {
    reset().await;
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let hint = || -> Option<Json> {
        storage
            .get_item("trickle:v1:idle")
            .unwrap()
            .map(|t| serde_json::from_str(&t).unwrap())
    };
    let mut cfg = config("u-idle");
    cfg["stages"][1]["events"] = json!(["purchase"]);
    cfg["user"]["loginsCount"] = json!(0);
    start(&cfg).await;
    let left = hint().expect("login 0 reaches no stage: idle");
    assert_eq!(left["user"], "u-idle");
    assert_eq!(left["logins"], 0);
    assert_eq!(left["events"], json!(["purchase"]));
    assert_eq!(
        left["config"],
        trickle::platform::dom::fingerprint(&to_js(&cfg))
    );
    // A question on screen: no hint.
    api::identify(to_js(&json!({ "id": "u-idle", "loginsCount": 1 })));
    assert!(hint().is_none());
    // Answered and snoozed: idle again, but with the answer queued (a 503): no hint.
    set_status(503);
    host::with_runtime(|rt| rt.on_ui(UiEvent::Snooze)).unwrap();
    assert!(wait_until(|| calls().len() == 1).await);
    assert!(hint().is_none(), "an answer is queued");
    set_status(200);
    run_js("window.dispatchEvent(new Event('online'));");
    assert!(wait_until(|| hint().is_some()).await, "delivered: idle");
    api::destroy();
}
