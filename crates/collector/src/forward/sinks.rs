//! The sinks and how each sends one delivery: a Standard Webhooks POST, an Auth0
//! Management API PATCH of `user_metadata`, a Segment `identify`.

use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};
use trickle_core::answer::Status;

use crate::store::{unix_ms, Delivery, ListedAnswer};

/// One configured destination.
pub struct Sink {
    /// Its key in the outbox: `webhook:URL`, `auth0:https://DOMAIN`, `segment`.
    pub key: String,
    /// Marketing sinks never get answers sent under GPC or without marketing consent.
    pub marketing: bool,
    /// What it is.
    pub kind: SinkKind,
}

/// The kinds of sink.
pub enum SinkKind {
    /// A Standard Webhooks receiver.
    Webhook {
        /// Where to POST.
        url: String,
        /// The signing key (the secret's base64 after `whsec_`, decoded).
        key: Vec<u8>,
    },
    /// Auth0's Management API.
    Auth0(Auth0),
    /// Segment's identify.
    Segment {
        /// The identify endpoint.
        url: String,
        /// The source's write key (HTTP Basic user name).
        write_key: String,
    },
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (2xx), or nothing to send to this sink.
    Done,
    /// Worth another try (network error, timeout, 408, 429, 5xx); `after`: the
    /// delay the sink asked for.
    Retry {
        /// What went wrong.
        error: String,
        /// `Retry-After` or `X-RateLimit-Reset`, if given.
        after: Option<Duration>,
    },
    /// Final (another 4xx, a 3xx): kept as failed.
    Fail(String),
}

impl Sink {
    /// Sends `delivery` (whose answer is `answer`) once.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        delivery: &Delivery,
        answer: &ListedAnswer,
    ) -> Outcome {
        match &self.kind {
            SinkKind::Webhook { url, key } => webhook(client, url, key, delivery, answer).await,
            SinkKind::Auth0(auth0) => auth0.send(client, delivery, answer).await,
            SinkKind::Segment { url, write_key } => {
                segment(client, url, write_key, delivery, answer).await
            }
        }
    }
}

/// The `webhook-id` of an answer: stable across retries and restarts, one per
/// (user, answer id), so a receiver can drop a repeat.
pub fn webhook_id(user_id: &str, answer_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(user_id.as_bytes());
    h.update([0]);
    h.update(answer_id.as_bytes());
    format!("msg_{}", &hex::encode(h.finalize())[..32])
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` (Standard Webhooks).
pub fn webhook_signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("unreachable: HMAC accepts keys of any length"),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("v1,{sig}")
}

async fn webhook(
    client: &reqwest::Client,
    url: &str,
    key: &[u8],
    delivery: &Delivery,
    answer: &ListedAnswer,
) -> Outcome {
    let body = json!({
        "type": "profile.updated",
        "userId": delivery.user_id,
        "answers": [answer],
        "profile": delivery.profile,
    })
    .to_string();
    let id = webhook_id(&delivery.user_id, &delivery.answer_id);
    // Standard Webhooks: the timestamp of this attempt, signed with the body.
    let timestamp = unix_ms() / 1000;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            webhook_signature(key, &id, timestamp, &body),
        )
        .body(body)
        .send()
        .await;
    classify(response).await
}

/// The top-level profile key an answer changed, with its whole merged value
/// (Auth0 merges only the top level of `user_metadata`: sending `company` must
/// carry every known `company.*` field). `None`: a decline or snooze, or a
/// value no longer in the profile: nothing to write.
pub fn top_level_update(
    answer: &ListedAnswer,
    profile: &Map<String, Json>,
) -> Option<Map<String, Json>> {
    if answer.answer.status != Status::Answered {
        return None;
    }
    let top = answer.answer.field.split('.').next()?;
    let value = profile.get(top)?;
    let mut out = Map::new();
    out.insert(top.to_owned(), value.clone());
    Some(out)
}

async fn segment(
    client: &reqwest::Client,
    url: &str,
    write_key: &str,
    delivery: &Delivery,
    answer: &ListedAnswer,
) -> Outcome {
    let Some(traits) = top_level_update(answer, &delivery.profile) else {
        return Outcome::Done;
    };
    let body = json!({
        "userId": delivery.user_id,
        "traits": traits,
        // Segment drops a repeated messageId: the answer id makes retries safe.
        "messageId": answer.answer.id,
        "timestamp": answer.answer.answered_at,
        "context": { "library": { "name": "trickle-collector", "version": env!("CARGO_PKG_VERSION") } },
    });
    let response = client
        .post(url)
        .basic_auth(write_key, Some(""))
        .json(&body)
        .send()
        .await;
    classify(response).await
}

/// A cached Management API token.
struct Token {
    value: String,
    until: Instant,
}

/// The Auth0 Management API sink, with its client-credentials token cached until
/// shortly before it expires.
pub struct Auth0 {
    base: String,
    client_id: String,
    client_secret: String,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl Auth0 {
    /// `base` is `https://DOMAIN` (or `http://127.0.0.1:PORT` in tests).
    pub fn new(base: String, client_id: String, client_secret: String) -> Self {
        Self {
            base,
            client_id,
            client_secret,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached token, or a new one when there is none, it expired, or it is
    /// `stale` (a 401 said so).
    async fn token(
        &self,
        client: &reqwest::Client,
        stale: Option<&str>,
    ) -> Result<String, Outcome> {
        // One fetch at a time: concurrent deliveries share one new token.
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            if Some(token.value.as_str()) != stale && token.until > Instant::now() {
                return Ok(token.value.clone());
            }
        }
        let response = client
            .post(format!("{}/oauth/token", self.base))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "audience": format!("{}/api/v2/", self.base),
            }))
            .send()
            .await;
        let response = match response {
            Ok(r) if r.status().is_success() => r,
            other => {
                return Err(match classify(other).await {
                    Outcome::Retry { error, after } => Outcome::Retry {
                        error: format!("token: {error}"),
                        after,
                    },
                    Outcome::Fail(error) => Outcome::Fail(format!("token: {error}")),
                    Outcome::Done => Outcome::Fail("token: unreachable".into()),
                })
            }
        };
        let body: Json = match response.json().await {
            Ok(body) => body,
            Err(e) => return Err(retry(format!("token: unreadable response: {e}"))),
        };
        let Some(value) = body.get("access_token").and_then(Json::as_str) else {
            return Err(Outcome::Fail(
                "token: no access_token in the response".into(),
            ));
        };
        let lifetime = body
            .get("expires_in")
            .and_then(Json::as_u64)
            .unwrap_or(3600);
        // Renew a little early so a token never expires in flight.
        let margin = (lifetime / 10).min(60);
        *cached = Some(Token {
            value: value.to_owned(),
            until: Instant::now() + Duration::from_secs(lifetime - margin),
        });
        tracing::info!(auth0 = %self.base, expires_in = lifetime, "Management API token fetched");
        Ok(value.to_owned())
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        delivery: &Delivery,
        answer: &ListedAnswer,
    ) -> Outcome {
        let Some(metadata) = top_level_update(answer, &delivery.profile) else {
            return Outcome::Done;
        };
        let mut url = match url::Url::parse(&format!("{}/api/v2/users/", self.base)) {
            Ok(url) => url,
            Err(e) => return Outcome::Fail(format!("bad Auth0 URL: {e}")),
        };
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(&delivery.user_id);
        }
        let body = json!({ "user_metadata": metadata });
        let mut token = match self.token(client, None).await {
            Ok(t) => t,
            Err(outcome) => return outcome,
        };
        let mut refreshed = false;
        loop {
            let response = client
                .patch(url.clone())
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            match response {
                Ok(r) if r.status() == StatusCode::UNAUTHORIZED && !refreshed => {
                    // Revoked or expired early: one new token, one more try.
                    refreshed = true;
                    token = match self.token(client, Some(&token)).await {
                        Ok(t) => t,
                        Err(outcome) => return outcome,
                    };
                }
                Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let after = rate_limit_reset(r.headers()).or_else(|| retry_after(r.headers()));
                    return Outcome::Retry {
                        error: "HTTP 429".into(),
                        after,
                    };
                }
                other => return classify(other).await,
            }
        }
    }
}

fn retry(error: String) -> Outcome {
    Outcome::Retry { error, after: None }
}

/// 2xx: done; network errors, 408, 429, 5xx: retry (honouring `Retry-After`);
/// anything else (another 4xx, a 3xx): final.
async fn classify(response: Result<reqwest::Response, reqwest::Error>) -> Outcome {
    let response = match response {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return retry(format!("timed out: {e}")),
        Err(e) => return retry(format!("network: {e}")),
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Done;
    }
    if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        return Outcome::Retry {
            error: format!("HTTP {}", status.as_u16()),
            after: retry_after(response.headers()),
        };
    }
    let text = response.text().await.unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Outcome::Fail(format!("HTTP {}: {text}", status.as_u16()))
}

/// `Retry-After` in seconds (an HTTP date is treated as absent: the backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// Auth0's `X-RateLimit-Reset`: the Unix second when the limit resets.
fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    let reset: i64 = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let wait_ms = reset.saturating_mul(1000).saturating_sub(unix_ms()).max(0);
    Some(Duration::from_millis(wait_ms as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks spec (and its libraries' tests).
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let sig = webhook_signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn webhook_ids_differ_per_user_and_stay_put() {
        assert_eq!(webhook_id("u", "a"), webhook_id("u", "a"));
        assert_ne!(webhook_id("u", "a"), webhook_id("v", "a"));
        assert_eq!(webhook_id("u", "a").len(), 36);
    }
}
