//! The JSON error body every refusal carries:
//! `{ "error": "<code>", "message": "<what is wrong>", "path": "<where>" }`
//! (`path` only when one value is to blame). A refusal the client should retry
//! later (429, 503) also carries `Retry-After` in seconds.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// A refusal: status, a stable machine code, a human message, maybe a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable snake_case code clients can branch on.
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
    /// The path of the bad value (422s, 409s).
    pub path: Option<String>,
    /// Seconds to send in `Retry-After` (429s and 503s).
    pub retry_after: Option<u32>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

impl ApiError {
    /// An error without a path.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            path: None,
            retry_after: None,
        }
    }

    /// The same error naming the value to blame.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The same error telling the client to retry after `seconds`.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A 422 naming the bad value.
    pub fn invalid(code: &'static str, path: String, message: String) -> Self {
        let message = if path.is_empty() || path == "." {
            message
        } else {
            format!("{path}: {message}")
        };
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message,
            path: Some(path),
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code,
            message: &self.message,
            path: self.path.as_deref(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
