//! The HTTP routes of contract section 6.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value as JsonValue};
use trickle_core::config::Cadence;

use crate::error::ApiError;
use crate::profile::Snooze;
use crate::store::{ListedAnswer, NewAnswers, Recorded, StoreError, UserRecord};
use crate::suggest;
use crate::validate::{self, BodyError};
use crate::AppState;

/// The header a profile read carries the user's hash in.
pub const USER_HASH_HEADER: &str = "x-trickle-user-hash";

/// `POST /v1/answers`: validate, authenticate, store, then answer
/// `200 { "stored": n, "duplicates": m }`.
pub async fn post_answers(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Recorded>, ApiError> {
    check_content_type(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                rejection.body_text(),
            )
        }
    })?;
    let envelope = validate::parse_envelope(&body).map_err(|e| match e {
        BodyError::Syntax(message) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", message)
        }
        BodyError::Shape(invalid) => {
            ApiError::invalid("invalid_envelope", invalid.path, invalid.message)
        }
    })?;
    let max = state.settings.max_answers_per_request;
    if envelope.answers.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_answers",
            format!(
                "answers: at most {max} answers per request, got {}",
                envelope.answers.len()
            ),
        )
        .at("answers"));
    }
    // Authenticate before validating, so an unsigned caller learns nothing about
    // the config from 422 messages.
    if let Some(secret) = &state.settings.secret {
        if !secret.verify(&envelope.user_id, envelope.user_hash.as_deref()) {
            tracing::warn!(user_id = %envelope.user_id, "userHash refused");
            return Err(bad_hash("userHash"));
        }
    }
    let answers = validate::check_answers(&state.settings.config, &envelope)
        .map_err(|invalid| ApiError::invalid("invalid_answer", invalid.path, invalid.message))?;
    let context = serde_json::to_string(&envelope.context).unwrap_or_else(|_| "{}".into());
    // Which sinks get these answers: a marketing sink never gets answers sent
    // under Global Privacy Control or without marketing consent.
    let forward_to = match &state.settings.forward {
        Some(forwarder) => forwarder.sinks_for(&envelope.context),
        None => Vec::new(),
    };
    let recorded = state
        .store
        .record(NewAnswers {
            user_id: envelope.user_id,
            answers,
            context,
            forward_to,
        })
        .await
        .map_err(|e| match e {
            StoreError::IdConflict { index } => id_conflict(index),
            e => store_unavailable(e),
        })?;
    if recorded.stored > 0 {
        if let Some(forwarder) = &state.settings.forward {
            forwarder.wake();
        }
    }
    tracing::debug!(
        stored = recorded.stored,
        duplicates = recorded.duplicates,
        "answers recorded"
    );
    Ok(Json(recorded))
}

/// The body of `GET /v1/profiles/{userId}` (contract section 6). A user with
/// nothing stored gets the same shape, empty: `profile: {}`, no declines or
/// snoozes, no answers, `updatedAt: null`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileResponse {
    /// The user.
    pub user_id: String,
    /// The merged profile, nested objects for dot paths.
    pub profile: Map<String, JsonValue>,
    /// Declines and snoozes, as the widget merges them (contract section 2).
    pub prompt_state: PromptStateView,
    /// Stored answers, oldest `answeredAt` first.
    pub answers: Vec<ListedAnswer>,
    /// When the profile last changed; `null` when nothing is stored.
    pub updated_at: Option<String>,
    /// (v2) Field -> a guessed value the widget may offer to confirm (contract
    /// section 5); left out when there is none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub suggestions: BTreeMap<String, String>,
}

/// Declined fields and snoozed stages.
#[derive(Debug, Serialize)]
pub struct PromptStateView {
    /// Fields the user chose "Prefer not to say" for (and has not answered since),
    /// as dot paths.
    pub declined: Vec<String>,
    /// The latest snooze per stage, in stage id order.
    pub snoozed: Vec<SnoozeView>,
}

/// A snoozed stage as the widget reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnoozeView {
    /// The stage.
    pub stage: String,
    /// The stage stays snoozed while the user's loginsCount is below this: the
    /// loginsCount of the snooze plus the config's `cadence.snoozeLogins`.
    pub until_logins: u32,
}

impl SnoozeView {
    /// The view of a stored snooze under `cadence`.
    pub fn new(snooze: &Snooze, cadence: &Cadence) -> Self {
        Self {
            stage: snooze.stage.clone(),
            until_logins: snooze.logins_count.saturating_add(cadence.snooze_logins),
        }
    }
}

impl ProfileResponse {
    /// The response for `user_id` from what the store holds (`None`: nothing).
    pub fn new(user_id: String, record: Option<UserRecord>, cadence: &Cadence) -> Self {
        let Some(record) = record else {
            return Self {
                user_id,
                profile: Map::new(),
                prompt_state: PromptStateView {
                    declined: Vec::new(),
                    snoozed: Vec::new(),
                },
                answers: Vec::new(),
                updated_at: None,
                suggestions: BTreeMap::new(),
            };
        };
        Self {
            user_id,
            prompt_state: PromptStateView {
                declined: record.doc.declined.keys().cloned().collect(),
                snoozed: record
                    .doc
                    .snoozed
                    .values()
                    .map(|snooze| SnoozeView::new(snooze, cadence))
                    .collect(),
            },
            profile: record.doc.profile,
            answers: record.answers,
            updated_at: Some(record.updated_at),
            suggestions: BTreeMap::new(),
        }
    }
}

/// `GET /v1/profiles/{userId}`; with a secret set, the hash travels in
/// `X-Trickle-User-Hash` and without a valid one the answer is 401 with nothing
/// about the user in it. A user with nothing stored gets 200 with an empty
/// profile (see [`ProfileResponse`]).
pub async fn get_profile(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<ProfileResponse>, ApiError> {
    let domain_hint = email_domain_hint(query.as_deref())?;
    if let Some(secret) = &state.settings.secret {
        let hash = headers.get(USER_HASH_HEADER).and_then(|v| v.to_str().ok());
        if !secret.verify(&user_id, hash) {
            return Err(bad_hash("X-Trickle-User-Hash"));
        }
    }
    let record = state
        .store
        .user(&user_id)
        .await
        .map_err(store_unavailable)?;
    let config = &state.settings.config;
    let mut response = ProfileResponse::new(user_id, record, &config.cadence);
    response.suggestions = suggest::suggestions(config, &response.profile, domain_hint.as_deref());
    Ok(Json(response))
}

/// The profile read's optional `emailDomain` query parameter (contract section 6):
/// the domain of an email the host knows, for `suggestions` when no email is
/// stored. Lower-cased; refused (400 `invalid_email_domain`) unless it looks like
/// a domain name: at most 253 characters with a dot, no spaces, controls or URL
/// delimiters, and no `@` (the address itself must not be sent).
fn email_domain_hint(query: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(key, _)| key == "emailDomain")
            .map(|(_, value)| value.to_lowercase())
    }) else {
        return Ok(None);
    };
    let looks_like_a_domain = value.len() <= 253
        && value.contains('.')
        && !value.starts_with('.')
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@/\\?#:%[]".contains(c));
    if !looks_like_a_domain {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email_domain",
            "emailDomain must be the domain of an email address, like northwind.example",
        )
        .at("emailDomain"));
    }
    Ok(Some(value))
}

/// `GET /v1/export.csv`: `Authorization: Bearer <admin token>`.
pub async fn export_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = &state.settings.admin_token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "export_disabled",
            "the export is disabled: no admin token is configured",
        ));
    };
    let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !token.verify_header(given) {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_admin_token",
            "Authorization: Bearer <admin token> required",
        )
        .into_response();
        response
            .headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Bearer"));
        return Ok(response);
    }
    let rows = state.store.export().await.map_err(store_unavailable)?;
    let fields = state.fields.clone();
    let csv = crate::export::to_csv(&fields, &rows).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "export_failed",
            e.to_string(),
        )
    })?;
    tracing::info!(rows = rows.len(), "export served");
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"trickle-profiles.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// `GET /healthz`: 200 `{ "status": "ok" }` when the store answers, else 503.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<JsonValue>, ApiError> {
    state.store.ping().await.map_err(store_unavailable)?;
    Ok(Json(json!({ "status": "ok" })))
}

/// Any other path: a JSON 404.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// A known path with the wrong method: a JSON 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// Ends a request that takes longer than the configured timeout with a JSON 408
/// (which the widget retries; the answer id keeps a retry from counting twice).
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request timed out");
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the request took too long",
            )
            .into_response()
        }
    }
}

/// Gives a 429 or 503 that lacks a `Retry-After` (whichever layer produced it)
/// one of [`STORE_RETRY_AFTER_SECS`], so every such response tells the widget
/// when to try again.
pub async fn ensure_retry_after(mut response: Response) -> Response {
    let status = response.status();
    if (status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE)
        && !response.headers().contains_key(RETRY_AFTER)
    {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(STORE_RETRY_AFTER_SECS));
    }
    response
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // text/plain: navigator.sendBeacon posts a string with that type.
    match essence.as_str() {
        "application/json" | "text/plain" => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send JSON as application/json or text/plain",
        )),
    }
}

/// The 413 for a body over the limit.
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is over {} bytes", crate::MAX_BODY_BYTES),
    )
}

fn bad_hash(where_: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_user_hash",
        format!("{where_} must be hex HMAC-SHA256(secret, userId)"),
    )
}

/// The `Retry-After` of a 503 `store_unavailable`, in seconds.
pub const STORE_RETRY_AFTER_SECS: u32 = 5;

fn store_unavailable(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store error");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        "the store is unavailable; retry later",
    )
    .retry_after(STORE_RETRY_AFTER_SECS)
}

/// The 409 for an answer id already stored for this user with other content.
/// Final for the widget (a 4xx): retrying the same answer cannot succeed.
fn id_conflict(index: usize) -> ApiError {
    let path = format!("answers[{index}].id");
    tracing::warn!(%path, "answer id conflict");
    ApiError::new(
        StatusCode::CONFLICT,
        "id_conflict",
        format!(
            "{path}: this id is already stored for this user with different content; nothing of this post was stored"
        ),
    )
    .at(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_429_and_503_gets_a_retry_after_and_an_explicit_one_is_kept() {
        for status in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            let response = ensure_retry_after(status.into_response()).await;
            assert_eq!(response.headers()[RETRY_AFTER], "5", "{status}");
            let mut explicit = status.into_response();
            explicit
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("30"));
            let response = ensure_retry_after(explicit).await;
            assert_eq!(response.headers()[RETRY_AFTER], "30", "{status}");
        }
        for status in [
            StatusCode::OK,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::CONFLICT,
        ] {
            let response = ensure_retry_after(status.into_response()).await;
            assert!(!response.headers().contains_key(RETRY_AFTER), "{status}");
        }
    }
}
