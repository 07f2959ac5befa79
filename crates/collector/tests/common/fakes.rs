//! Fake sinks on 127.0.0.1 for the forwarding tests: one axum server that plays a
//! webhook receiver, Auth0 (token endpoint and Management API) and Segment, records
//! every request, and answers as the test's plan says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::Router;
use serde_json::{json, Value};

/// What the fake answers to one attempt.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status, with these headers.
    Status(u16, Vec<(&'static str, String)>),
    /// Wait this long, then 200 (a slow receiver that still accepts).
    SlowOk(Duration),
    /// Wait this long (longer than the collector's timeout: a hang), then 504;
    /// recorded as status 0 (the collector gave up on it).
    Hang(Duration),
}

/// The fake's plan: (route, the request's key, attempt number from 1) -> reply.
pub type Plan = Arc<dyn Fn(&str, &str, usize) -> Reply + Send + Sync>;

/// One request the fake saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `webhook`, `token`, `auth0`, `segment`.
    pub route: String,
    /// The webhook-id, the Segment messageId, the Auth0 user id.
    pub key: String,
    /// Request headers (lowercase names).
    pub headers: HashMap<String, String>,
    /// The body as text.
    pub body: String,
    /// What the fake answered (0: it hung and the client went away first).
    pub status: u16,
    /// Unix ms when the request arrived.
    pub at_ms: i64,
}

/// Shared state of the fake.
#[derive(Clone)]
pub struct Fake {
    /// Every request, in arrival order.
    pub seen: Arc<Mutex<Vec<Seen>>>,
    attempts: Arc<Mutex<HashMap<String, usize>>>,
    /// The plan (replaceable mid-test).
    pub plan: Arc<Mutex<Plan>>,
    /// Auth0 tokens issued; those in `revoked` get 401.
    pub tokens: Arc<Mutex<Vec<String>>>,
    /// Revoked Auth0 tokens.
    pub revoked: Arc<Mutex<Vec<String>>>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

impl Fake {
    /// Starts the fake; every request gets 200 until the plan says otherwise.
    pub async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fake = Fake {
            seen: Arc::default(),
            attempts: Arc::default(),
            plan: Arc::new(Mutex::new(Arc::new(|_: &str, _: &str, _: usize| {
                Reply::Status(200, vec![])
            }))),
            tokens: Arc::default(),
            revoked: Arc::default(),
            base,
        };
        let app = Router::new()
            .route("/hook", post(webhook))
            .route("/hook2", post(webhook))
            .route("/oauth/token", post(token))
            .route("/api/v2/users/{id}", patch(auth0_user))
            .route("/v1/identify", post(segment))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Replaces the plan.
    pub fn set_plan(&self, plan: impl Fn(&str, &str, usize) -> Reply + Send + Sync + 'static) {
        *self.plan.lock().unwrap() = Arc::new(plan);
    }

    /// Requests seen on `route`.
    pub fn seen(&self, route: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.route == route)
            .cloned()
            .collect()
    }

    /// Requests on `route` that got a 2xx.
    pub fn accepted(&self, route: &str) -> Vec<Seen> {
        self.seen(route)
            .into_iter()
            .filter(|s| (200..300).contains(&s.status))
            .collect()
    }

    /// Waits (bounded) until `done` holds.
    pub async fn wait_until(&self, what: &str, mut done: impl FnMut(&Fake) -> bool) {
        for _ in 0..3000 {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "timed out waiting for {what}; seen {} requests",
            self.seen.lock().unwrap().len()
        );
    }

    async fn answer(
        &self,
        route: &str,
        key: String,
        headers: &HeaderMap,
        body: String,
    ) -> Response {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(format!("{route}:{key}")).or_insert(0);
            *n += 1;
            *n
        };
        let reply = (self.plan.lock().unwrap().clone())(route, &key, attempt);
        let headers: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let index = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(Seen {
                route: route.into(),
                key,
                headers,
                body,
                status: 0,
                at_ms: now_ms(),
            });
            seen.len() - 1
        };
        let (status, extra) = match reply {
            Reply::Status(status, extra) => (status, extra),
            Reply::SlowOk(wait) => {
                tokio::time::sleep(wait).await;
                (200, vec![])
            }
            Reply::Hang(wait) => {
                tokio::time::sleep(wait).await;
                return StatusCode::GATEWAY_TIMEOUT.into_response();
            }
        };
        self.seen.lock().unwrap()[index].status = status;
        let mut response = StatusCode::from_u16(status).unwrap().into_response();
        for (name, value) in extra {
            response.headers_mut().insert(name, value.parse().unwrap());
        }
        response
    }
}

async fn webhook(State(fake): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    fake.answer(
        "webhook",
        key,
        &headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
    .await
}

async fn segment(State(fake): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let key = json["messageId"].as_str().unwrap_or("").to_owned();
    fake.answer(
        "segment",
        key,
        &headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
    .await
}

async fn token(State(fake): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    let response = fake
        .answer(
            "token",
            "token".into(),
            &headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
        .await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let token = {
        let mut tokens = fake.tokens.lock().unwrap();
        let token = format!("tok-{}", tokens.len() + 1);
        tokens.push(token.clone());
        token
    };
    axum::Json(json!({ "access_token": token, "expires_in": 86400, "token_type": "Bearer" }))
        .into_response()
}

async fn auth0_user(
    State(fake): State<Fake>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    let valid = fake.tokens.lock().unwrap().contains(&bearer)
        && !fake.revoked.lock().unwrap().contains(&bearer);
    if !valid {
        let headers_map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        fake.seen.lock().unwrap().push(Seen {
            route: "auth0".into(),
            key: id,
            headers: headers_map,
            body: String::from_utf8_lossy(&body).into_owned(),
            status: 401,
            at_ms: now_ms(),
        });
        return StatusCode::UNAUTHORIZED.into_response();
    }
    fake.answer(
        "auth0",
        id,
        &headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
    .await
}

/// The `webhook-id` the collector uses for (user, answer id).
pub fn webhook_key(user: &str, answer_id: &str) -> String {
    trickle_collector::forward::webhook_id(user, answer_id)
}
