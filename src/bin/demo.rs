//! The demo (`trunk serve`): a believable product page, Clipwise (video hosting for
//! business teams), with the Trickle widget in the corner, a simulator panel that plays
//! the host's part (logins, purchases, users), and, live beside it, what the collector
//! now holds for the user, so a visitor sees the loop close. `scripts/demo.sh` also
//! runs a webhook receiver standing in for a CRM (the collector forwards to it) and
//! the page shows what it received, signature checked.
//!
//! It embeds the widget the way a Rust host would: through the same API functions that
//! `window.Trickle` and the npm package expose.

use gloo_events::EventListener;
use gloo_net::http::Request;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

/// Where the simulator keeps its own state, so a reload stays on the same login.
const SIM_KEY: &str = "clipwise-demo:sim";

/// The demo's people: (id stem, display name, role line).
const PEOPLE: [(&str, &str, &str); 3] = [
    ("ada", "Ada Byron", "New to Clipwise"),
    (
        "grace",
        "Grace Hopper",
        "Team admin, grace@northwind.example",
    ),
    ("linus", "Linus T.", "Video editor"),
];

/// Who signed up with a work email: the collector learns it before the widget
/// starts (see `seed_work_email`), so the company question asks "Do you work at
/// Northwind?" instead of asking to type.
const WORK_EMAILS: [(&str, &str); 1] = [("grace", "grace@northwind.example")];

/// What the simulator remembers: who is signed in, how often they logged in, and a
/// generation that "Reset" bumps so the collector sees a brand-new user.
#[derive(Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Sim {
    person: usize,
    logins: u32,
    generation: u32,
    /// The simulated browser sends Global Privacy Control.
    #[serde(default)]
    gpc: bool,
}

impl Default for Sim {
    fn default() -> Self {
        Self {
            person: 0,
            logins: 1,
            generation: 1,
            gpc: false,
        }
    }
}

impl Sim {
    fn load() -> Self {
        local_storage()
            .and_then(|s| s.get_item(SIM_KEY).ok().flatten())
            .and_then(|raw| serde_json::from_str::<Sim>(&raw).ok())
            .filter(|s| s.person < PEOPLE.len())
            .unwrap_or_default()
    }

    fn save(&self) {
        if let (Some(store), Ok(raw)) = (local_storage(), serde_json::to_string(self)) {
            let _ = store.set_item(SIM_KEY, &raw);
        }
    }

    fn user_id(&self) -> String {
        format!("demo|{}-{}", PEOPLE[self.person].0, self.generation)
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn to_js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

fn from_js(value: &JsValue) -> Value {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

/// What the collector holds for one user (`GET /v1/profiles/{userId}`); `Null` when
/// it holds nothing yet or cannot be reached.
async fn fetch_profile(user_id: &str) -> Value {
    let url = format!("/v1/profiles/{}", js_sys::encode_uri_component(user_id));
    match Request::get(&url).send().await {
        Ok(r) if r.ok() => r.json::<Value>().await.unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// What the CRM stand-in received (`GET /crm/received`, the collector's crate's
/// `webhook-receiver` example behind the page's proxy); `None` when it cannot be
/// reached (a page served without `scripts/demo.sh`).
async fn fetch_received() -> Option<Value> {
    match Request::get("/crm/received").send().await {
        Ok(r) if r.ok() => r.json::<Value>().await.ok(),
        _ => None,
    }
}

/// Makes the page's `navigator.globalPrivacyControl` what a browser with (or
/// without) Global Privacy Control reports. The widget reads it when it starts.
fn simulate_gpc(on: bool) {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return;
    };
    let descriptor = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&descriptor, &"value".into(), &JsValue::from_bool(on));
    let _ = js_sys::Reflect::set(&descriptor, &"configurable".into(), &JsValue::TRUE);
    let navigator: &js_sys::Object = navigator.unchecked_ref();
    js_sys::Object::define_property(navigator, &"globalPrivacyControl".into(), &descriptor);
}

/// For a person who signed up with a work email, stores that email in the
/// collector (as the product's sign-up form would have) unless it holds one: the
/// collector makes the company guess from it for the profile read.
async fn seed_work_email(sim: Sim) {
    let stem = PEOPLE[sim.person].0;
    let Some((_, email)) = WORK_EMAILS.iter().find(|(who, _)| *who == stem) else {
        return;
    };
    let user_id = sim.user_id();
    if fetch_profile(&user_id)
        .await
        .pointer("/profile/email")
        .is_some()
    {
        return;
    }
    let at = js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default();
    let body = json!({
        "userId": user_id,
        "answers": [{
            "id": format!("signup-{user_id}"), "questionId": "email", "stage": "basics",
            "field": "email", "status": "answered", "value": email, "answeredAt": at,
            "loginsCount": 0
        }],
        "context": { "url": "https://clipwise.example/signup", "locale": "en", "widget": "demo-signup" }
    });
    if let Ok(request) = Request::post("/v1/answers").json(&body) {
        let _ = request.send().await;
    }
}

/// Tell the widget who is signed in. The host passes only what its identity provider
/// knows (nothing, here): the widget reads what the collector holds itself, through
/// the config's `profileUrl`, so a second device is not asked again.
async fn identify(sim: Sim) -> Value {
    seed_work_email(sim).await;
    trickle::api::identify(to_js(&json!({
        "id": sim.user_id(),
        "loginsCount": sim.logins,
    })));
    fetch_profile(&sim.user_id()).await
}

/// Forgets the widget's prompt state for every user (what a second device has not
/// seen), keeping the outbox so no answer is lost.
fn forget_prompt_state() {
    let Some(store) = local_storage() else { return };
    let len = store.length().unwrap_or(0);
    let keys: Vec<String> = (0..len)
        .filter_map(|i| store.key(i).ok().flatten())
        .filter(|k| k.starts_with("trickle:v1:state:"))
        .collect();
    for key in keys {
        let _ = store.remove_item(&key);
    }
}

/// Starts (or restarts) the widget with the demo config and the simulator's user.
async fn start_widget(config: &Value, sim: Sim) -> Result<(), String> {
    simulate_gpc(sim.gpc);
    seed_work_email(sim).await;
    let mut config = config.clone();
    config["user"] = json!({ "id": sim.user_id(), "loginsCount": sim.logins });
    let result = JsFuture::from(trickle::api::init(to_js(&config))).await;
    result.map(|_| ()).map_err(|e| {
        from_js(&e).as_str().map(str::to_owned).unwrap_or_else(|| {
            js_sys::Error::from(e)
                .message()
                .as_string()
                .unwrap_or_default()
        })
    })
}

#[component]
fn App() -> Html {
    let sim = use_state(Sim::load);
    let held = use_state(|| Value::Null);
    // `_eq`: the once-a-second refresh below re-renders only on a change.
    let explained = use_state_eq(|| Value::Null);
    let started = use_state(|| None::<Result<(), String>>);
    // `Some` once the CRM stand-in answered; `_eq` as for `explained`.
    let crm = use_state_eq(|| None::<Value>);

    // Start the widget once: load the config the collector also reads, add the user.
    let config = use_mut_ref(|| Value::Null);
    let device = use_state(|| 1u32);
    {
        let (sim, held, started, explained, config) = (
            sim.clone(),
            held.clone(),
            started.clone(),
            explained.clone(),
            config.clone(),
        );
        use_effect_with((), move |_| {
            spawn_local(async move {
                let loaded = match Request::get("demo.config.json").send().await {
                    Ok(r) => r.json::<Value>().await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                let loaded = match loaded {
                    Ok(c) => c,
                    Err(e) => return started.set(Some(Err(e))),
                };
                *config.borrow_mut() = loaded.clone();
                started.set(Some(start_widget(&loaded, *sim).await));
                held.set(fetch_profile(&sim.user_id()).await);
                explained.set(from_js(&trickle::api::explain()));
            });
        });
    }

    // The rule's view also changes without an event (a profile read merged after a
    // device switch, another tab): look again every second.
    {
        let explained = explained.clone();
        use_effect_with((), move |_| {
            let timer = gloo_timers::callback::Interval::new(1_000, move || {
                explained.set(from_js(&trickle::api::explain()));
            });
            move || drop(timer)
        });
    }

    // The collector forwards in the background, a moment after the widget's
    // delivery: look at the CRM after every delivery and once a second.
    {
        let crm = crm.clone();
        use_effect_with((), move |_| {
            let refresh = move || {
                let crm = crm.clone();
                spawn_local(async move { crm.set(fetch_received().await) });
            };
            refresh();
            let timer = gloo_timers::callback::Interval::new(1_000, refresh.clone());
            let delivered = web_sys::window()
                .and_then(|w| w.document())
                .map(|doc| EventListener::new(&doc, "trickle:delivered", move |_| refresh()));
            move || drop((timer, delivered))
        });
    }

    // Follow the widget's events: refresh what the collector holds after a delivery,
    // and the stage rule's view after every decision.
    {
        let (held, explained) = (held.clone(), explained.clone());
        use_effect_with(*sim, move |current| {
            let current = *current;
            let listeners: Vec<EventListener> = [
                "trickle:delivered",
                "trickle:shown",
                "trickle:answered",
                "trickle:declined",
                "trickle:snoozed",
            ]
            .into_iter()
            .filter_map(|name| {
                let doc = web_sys::window()?.document()?;
                let (held, explained) = (held.clone(), explained.clone());
                Some(EventListener::new(&doc, name, move |_| {
                    explained.set(from_js(&trickle::api::explain()));
                    let held = held.clone();
                    spawn_local(async move { held.set(fetch_profile(&current.user_id()).await) });
                }))
            })
            .collect();
            move || drop(listeners)
        });
    }

    let change = {
        let (sim, held, explained) = (sim.clone(), held.clone(), explained.clone());
        move |next: Sim| {
            next.save();
            sim.set(next);
            let (held, explained) = (held.clone(), explained.clone());
            spawn_local(async move {
                held.set(identify(next).await);
                explained.set(from_js(&trickle::api::explain()));
            });
        }
    };
    let login_again = {
        let change = change.clone();
        let s = *sim;
        Callback::from(move |_| {
            change(Sim {
                logins: s.logins + 1,
                ..s
            })
        })
    };
    let purchase = {
        let explained = explained.clone();
        Callback::from(move |_| {
            trickle::api::track("purchase".to_owned());
            explained.set(from_js(&trickle::api::explain()));
        })
    };
    let switch_user = {
        let change = change.clone();
        Callback::from(move |e: Event| {
            let Some(select) = e.target_dyn_into::<web_sys::HtmlSelectElement>() else {
                return;
            };
            let person = select.selected_index().max(0) as usize % PEOPLE.len();
            change(Sim {
                person,
                logins: 1,
                generation: Sim::load().generation,
                gpc: Sim::load().gpc,
            })
        })
    };
    let reset = {
        let change = change.clone();
        let s = *sim;
        Callback::from(move |_| {
            // Forget the widget's browser state too, then continue as a brand-new user.
            if let Some(store) = local_storage() {
                let len = store.length().unwrap_or(0);
                let keys: Vec<String> = (0..len)
                    .filter_map(|i| store.key(i).ok().flatten())
                    .collect();
                for key in keys.iter().filter(|k| k.starts_with("trickle:")) {
                    let _ = store.remove_item(key);
                }
            }
            change(Sim {
                logins: 1,
                generation: s.generation + 1,
                ..s
            })
        })
    };

    let switch_device = {
        let (sim, started, explained, config, device) = (
            sim.clone(),
            started.clone(),
            explained.clone(),
            config.clone(),
            device.clone(),
        );
        Callback::from(move |_| {
            // A second device of the same user: a fresh page load with none of this
            // browser's prompt state. What the user answered, declined or put off on
            // the first one comes back from the collector.
            trickle::api::destroy();
            forget_prompt_state();
            device.set(*device % 2 + 1);
            let (sim, started, explained) = (*sim, started.clone(), explained.clone());
            let config = config.borrow().clone();
            spawn_local(async move {
                started.set(Some(start_widget(&config, sim).await));
                explained.set(from_js(&trickle::api::explain()));
            });
        })
    };

    let toggle_gpc = {
        let (sim, started, explained, config) = (
            sim.clone(),
            started.clone(),
            explained.clone(),
            config.clone(),
        );
        Callback::from(move |_: Event| {
            // The same browser, now sending (or no longer sending) the signal: the
            // widget reads it when it starts, so start it again; the prompt state
            // stays (unlike "Switch device").
            let next = Sim {
                gpc: !sim.gpc,
                ..*sim
            };
            next.save();
            sim.set(next);
            trickle::api::destroy();
            let (started, explained) = (started.clone(), explained.clone());
            let config = config.borrow().clone();
            spawn_local(async move {
                started.set(Some(start_widget(&config, next).await));
                explained.set(from_js(&trickle::api::explain()));
            });
        })
    };

    let (_, name, role) = PEOPLE[sim.person];
    html! {
        <div class="app">
            <header class="topbar">
                <span class="logo" aria-hidden="true">{"▶"}</span>
                <span class="brand">{"Clipwise"}</span>
                <nav aria-label="Main">
                    <a href="#" aria-current="page">{"Library"}</a>
                    <a href="#">{"Analytics"}</a>
                    <a href="#">{"Settings"}</a>
                </nav>
                <span class="who">{name}<small>{role}</small></span>
            </header>
            <main class="content">
                <section aria-labelledby="library-title">
                    <h1 id="library-title">{"Your library"}</h1>
                    <p class="lead">{"Upload, review and share videos with your team."}</p>
                    <ul class="grid">
                        { for VIDEOS.iter().enumerate().map(|(i, (title, length, views))| html! {
                            <li class={classes!("card", format!("tone{}", i % 4))}>
                                <div class="thumb" aria-hidden="true"><span>{length}</span></div>
                                <h2>{title}</h2>
                                <p>{views}</p>
                            </li>
                        }) }
                    </ul>
                </section>
                <aside class="side" aria-label="Demo controls">
                    <section class="panel" aria-labelledby="sim-title">
                        <h2 id="sim-title">{"Simulator"}</h2>
                        <p class="hint">{"Play the host site: every action below is what a real product would do."}</p>
                        <label for="person">{"Signed-in user"}</label>
                        <select id="person" onchange={switch_user}>
                            { for PEOPLE.iter().enumerate().map(|(i, (_, n, _))| html! {
                                <option selected={i == sim.person}>{*n}</option>
                            }) }
                        </select>
                        <dl class="facts">
                            <dt>{"User id"}</dt><dd><code>{sim.user_id()}</code></dd>
                            <dt>{"loginsCount"}</dt><dd>{sim.logins}</dd>
                            <dt>{"Device"}</dt><dd>{format!("Device {}", *device)}</dd>
                        </dl>
                        <div class="buttons">
                            <button onclick={login_again}>{"Log in again"}</button>
                            <button onclick={purchase}>{"Make a purchase"}</button>
                            <button onclick={switch_device}>{"Switch device"}</button>
                            <button class="quiet" onclick={reset}>{"Reset"}</button>
                        </div>
                        <p class="hint">{"Switch device forgets this browser's prompt state; the widget reads it back from the collector (profileUrl)."}</p>
                        <label class="toggle">
                            <input type="checkbox" checked={sim.gpc} onchange={toggle_gpc} />
                            {" Global Privacy Control"}
                        </label>
                        <p class="hint">{"What a browser with GPC sends: the marketing question (the newsletter) is not asked, and answers go out marked so the collector keeps them from marketing tools."}</p>
                        <p class="hint">{"Grace signed up with her work email: when the company questions come (third login), the first asks \"Do you work at Northwind?\" (the collector's guess)."}</p>
                        { match &*started {
                            Some(Err(e)) => html! { <p class="error" role="alert">{format!("Widget did not start: {e}")}</p> },
                            _ => html! {},
                        } }
                    </section>
                    <section class="panel" aria-labelledby="held-title" aria-live="polite">
                        <h2 id="held-title">{"What the collector holds"}</h2>
                        <HeldView held={(*held).clone()} />
                    </section>
                    <section class="panel" aria-labelledby="crm-title">
                        <h2 id="crm-title">{"What the CRM received"}</h2>
                        <CrmView received={(*crm).clone()} />
                    </section>
                    <section class="panel" aria-labelledby="rule-title">
                        <h2 id="rule-title">{"Why this question (explain())"}</h2>
                        <ExplainView explained={(*explained).clone()} />
                    </section>
                </aside>
            </main>
        </div>
    }
}

const VIDEOS: [(&str, &str, &str); 6] = [
    ("Q3 all-hands recap", "12:04", "148 views"),
    ("Onboarding: your first upload", "3:41", "1,203 views"),
    ("Product demo for Acme", "8:19", "56 views"),
    ("Design review: player controls", "21:50", "33 views"),
    ("Customer story: Northwind", "5:12", "412 views"),
    ("Release notes, November", "2:58", "97 views"),
];

#[derive(Properties, PartialEq)]
struct HeldProps {
    held: Value,
}

/// The collector's profile and stored answers for the signed-in user.
#[component]
fn HeldView(props: &HeldProps) -> Html {
    let profile = props
        .held
        .get("profile")
        .filter(|p| p.as_object().is_some_and(|o| !o.is_empty()));
    let answers = props
        .held
        .get("answers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        <>
            { match profile {
                Some(p) => html! {
                    <pre class="json">{serde_json::to_string_pretty(p).unwrap_or_default()}</pre>
                },
                None => html! { <p class="hint">{"Nothing yet. Answer a question in the corner popup."}</p> },
            } }
            if !answers.is_empty() {
                <table>
                    <caption>{format!("{} stored answers", answers.len())}</caption>
                    <thead><tr><th scope="col">{"Field"}</th><th scope="col">{"Status"}</th><th scope="col">{"Value"}</th></tr></thead>
                    <tbody>
                        { for answers.iter().rev().take(8).map(|a| html! {
                            <tr>
                                <td>{a.get("field").and_then(Value::as_str).unwrap_or("")}</td>
                                <td>{a.get("status").and_then(Value::as_str).unwrap_or("")}</td>
                                <td>{a.get("value").map(|v| match v { Value::String(s) => s.clone(), v => v.to_string() }).unwrap_or_default()}</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct CrmProps {
    received: Option<Value>,
}

/// Shown deliveries (the receiver keeps more).
const CRM_SHOWN: usize = 5;

/// A value as the panels show it: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

/// The webhooks the CRM stand-in received, newest first: each one's `webhook-id`,
/// whether its Standard Webhooks signature verified, the user and what it carried.
#[component]
fn CrmView(props: &CrmProps) -> Html {
    let Some(received) = &props.received else {
        return html! {
            <p class="hint">{"No webhook receiver here. scripts/demo.sh starts one and forwards answers to it."}</p>
        };
    };
    let deliveries = received
        .get("deliveries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let total = received.get("total").and_then(Value::as_u64).unwrap_or(0);
    html! {
        <>
            <p class="hint">{"A local webhook receiver stands in for a CRM: the collector forwards every stored answer to it, signed as Standard Webhooks."}</p>
            if deliveries.is_empty() {
                <p class="hint">{"Nothing received yet."}</p>
            } else {
                <ul class="deliveries" aria-label={format!("{total} webhooks received")}>
                    { for deliveries.iter().take(CRM_SHOWN).map(|d| {
                        let verified = d.get("verified").and_then(Value::as_bool).unwrap_or(false);
                        let repeat = d.get("repeat").and_then(Value::as_bool).unwrap_or(false);
                        let error = d.get("error").and_then(Value::as_str).unwrap_or("");
                        let answers = d.get("answers").and_then(Value::as_array).cloned().unwrap_or_default();
                        html! {
                            <li>
                                <code class="hook-id">{d.get("webhookId").and_then(Value::as_str).unwrap_or("(no webhook-id)")}</code>
                                <span class={classes!("badge", if verified { "ok" } else { "bad" })}>
                                    { if verified { "✓ signature verified".to_owned() } else { format!("✗ not verified: {error}") } }
                                </span>
                                if repeat { <span class="badge">{"repeat, dropped"}</span> }
                                <span class="hook-user">{"user "}<code>{d.get("userId").map(plain).unwrap_or_default()}</code></span>
                                { for answers.iter().map(|a| html! {
                                    <span class="hook-answer">
                                        <code>{a.get("field").map(plain).unwrap_or_default()}</code>
                                        {" "}
                                        { match a.get("status").and_then(Value::as_str) {
                                            Some("answered") => a.get("value").map(plain).unwrap_or_default(),
                                            Some(other) => format!("({other})"),
                                            None => String::new(),
                                        } }
                                    </span>
                                }) }
                            </li>
                        }
                    }) }
                </ul>
                <p class="hint">{format!("{total} received, newest first")}</p>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ExplainProps {
    explained: Value,
}

/// The stage rule's view of every question, from `explain()`.
#[component]
fn ExplainView(props: &ExplainProps) -> Html {
    let questions = props
        .explained
        .get("questions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let queued = props
        .explained
        .get("queued")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    html! {
        <>
            <ul class="explain">
                { for questions.iter().map(|q| {
                    let open = q.get("open").and_then(Value::as_bool).unwrap_or(false);
                    let reason = q.get("reason").and_then(Value::as_str).unwrap_or("open");
                    html! {
                        <li class={classes!(open.then_some("open"))}>
                            <code>{q.get("field").and_then(Value::as_str).unwrap_or("")}</code>
                            <span>{q.get("stage").and_then(Value::as_str).unwrap_or("")}</span>
                            <span class="reason">{if open { "open" } else { reason }}</span>
                        </li>
                    }
                }) }
            </ul>
            <p class="hint">{format!("{queued} answers waiting in the outbox")}</p>
        </>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
