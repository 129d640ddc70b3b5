//! Error responses in the common envelope.

use std::borrow::Cow;

use http::header::{HeaderName, HeaderValue};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::errors::{ErrorCode, FieldError, FieldErrors, NON_FIELD_ERRORS, SYSTEM_ERRORS};
use crate::ports::BoxError;

/// An error on its way to the client: status, message, field errors and
/// extra headers (`Retry-After`, `WWW-Authenticate`). `cause` is logged,
/// never sent.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
    pub errors: FieldErrors,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Top-level fields some routes add (e.g. `user_exists`).
    pub extra: Map<String, Value>,
    pub cause: Option<BoxError>,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    success: bool,
    message: &'a str,
    /// One line for clients that read a single string: the first named
    /// field's message, else `message`.
    error: &'a str,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
    errors: &'a FieldErrors,
    request_id: &'a str,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        message: impl Into<Cow<'static, str>>,
        errors: FieldErrors,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            errors,
            headers: Vec::new(),
            extra: Map::new(),
            cause: None,
        }
    }

    /// An error not tied to a field.
    pub fn general(
        status: StatusCode,
        code: ErrorCode,
        message: &'static str,
        detail: &'static str,
    ) -> Self {
        Self::new(
            status,
            message,
            FieldErrors::single(NON_FIELD_ERRORS, FieldError::new(code, detail)),
        )
    }

    pub fn validation(errors: FieldErrors) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Validation failed", errors)
    }

    pub fn not_found() -> Self {
        Self::general(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "Not found",
            "The requested resource was not found.",
        )
    }

    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let mut error = Self::general(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "Method not allowed",
            "This method is not allowed on this resource.",
        );
        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
            error.headers.push((http::header::ALLOW, value));
        }
        error
    }

    pub fn payload_too_large() -> Self {
        Self::general(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "Payload too large",
            "The request body is larger than 64 KiB.",
        )
    }

    /// A server fault: the client learns nothing of the cause.
    pub fn internal(cause: BoxError) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
            FieldErrors::single(
                SYSTEM_ERRORS,
                FieldError::new(ErrorCode::ServerError, "Internal server error occurred"),
            ),
        );
        error.cause = Some(cause);
        error
    }

    /// A dependency is down or throttling: worth retrying shortly.
    pub fn unavailable(cause: BoxError) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service temporarily unavailable",
            FieldErrors::single(
                SYSTEM_ERRORS,
                FieldError::new(
                    ErrorCode::Unavailable,
                    "A dependency is unavailable; retry shortly.",
                ),
            ),
        );
        error
            .headers
            .push((http::header::RETRY_AFTER, HeaderValue::from_static("1")));
        error.cause = Some(cause);
        error
    }

    /// 429 with `Retry-After` in whole seconds (at least one).
    pub fn rate_limited(retry_after: time::Duration) -> Self {
        let seconds = retry_after.whole_seconds().max(1);
        Self::general(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "Too many requests",
            "Too many attempts; retry later.",
        )
        .with_header(http::header::RETRY_AFTER, HeaderValue::from(seconds))
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn body(&self, request_id: &str) -> Vec<u8> {
        let envelope = ErrorEnvelope {
            success: false,
            message: &self.message,
            error: self.errors.first_field_message().unwrap_or(&self.message),
            extra: &self.extra,
            errors: &self.errors,
            request_id,
        };
        serde_json::to_vec(&envelope).unwrap_or_else(|_| {
            br#"{"success":false,"message":"Internal server error","error":"Internal server error","errors":{"system":[{"message":"Internal server error occurred","code":"server_error"}]}}"#.to_vec()
        })
    }
}
