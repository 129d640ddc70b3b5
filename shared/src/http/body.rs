//! JSON request bodies: size, media type and syntax, each with its own code.

use http::header::CONTENT_TYPE;
use http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors, NON_FIELD_ERRORS};
use crate::domain::request::RequestBody;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn body_bytes(request: &Request) -> &[u8] {
    match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        // `Body` is non-exhaustive upstream.
        #[allow(unreachable_patterns)]
        _ => &[],
    }
}

/// The body as a JSON object. An empty body is an empty object, so that
/// every required field is reported as missing.
pub fn json_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes = body_bytes(request);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if !is_json_media_type(request) {
        return Err(ApiError::general(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Unsupported media type",
            "Send the body as application/json.",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "Malformed JSON",
            FieldErrors::single(
                NON_FIELD_ERRORS,
                FieldError::new(ErrorCode::InvalidJson, format!("JSON parse error: {error}")),
            ),
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::validation(FieldErrors::single(
            NON_FIELD_ERRORS,
            FieldError::invalid("Invalid data. Expected a JSON object."),
        ))),
    }
}

/// The body as the request `T` declares it: the body's errors as
/// [`json_object`] gives them, then every refused field at once (400
/// `Validation failed`).
pub fn json_request<T: RequestBody>(request: &Request) -> Result<T, ApiError> {
    T::from_fields(&json_object(request)?).map_err(ApiError::validation)
}

/// The body of an action that takes no fields: empty, or an empty JSON
/// object; any field is refused rather than silently ignored.
pub fn no_fields(request: &Request) -> Result<(), ApiError> {
    let fields = json_object(request)?;
    if fields.is_empty() {
        return Ok(());
    }
    let mut errors = FieldErrors::new();
    for name in fields.keys() {
        errors.add(name, FieldError::invalid("This request takes no fields."));
    }
    Err(ApiError::validation(errors))
}

/// `application/json` or any `application/*+json`, parameters ignored.
pub fn is_json_media_type(request: &Request) -> bool {
    let Some(value) = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A path parameter parsed into its domain type; a missing or unparsable
/// one names nothing, so it is a 404 like an unknown id.
pub fn path_parameter<T>(
    request: &Request,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, ApiError> {
    use lambda_http::RequestExt;
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .and_then(parse)
        .ok_or_else(ApiError::not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/auth/signup");
        if let Some(ct) = content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    fn code(result: Result<Map<String, Value>, ApiError>) -> (StatusCode, ErrorCode) {
        let error = result.unwrap_err();
        let code = error.errors.codes(NON_FIELD_ERRORS)[0];
        (error.status, code)
    }

    #[test]
    fn accepts_json_objects() {
        assert_eq!(
            json_object(&request(
                Some("application/json; charset=utf-8"),
                r#"{"a":1}"#
            ))
            .unwrap()
            .len(),
            1
        );
        assert_eq!(
            json_object(&request(Some("application/vnd.api+json"), "{}"))
                .unwrap()
                .len(),
            0
        );
        assert!(json_object(&request(None, "")).unwrap().is_empty());
    }

    #[test]
    fn rejects_what_is_not_a_json_object() {
        assert_eq!(
            code(json_object(&request(Some("text/plain"), "{}"))),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType
            )
        );
        assert_eq!(
            code(json_object(&request(None, "{}"))),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType
            )
        );
        assert_eq!(
            code(json_object(&request(Some("application/json"), "{bad"))),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidJson)
        );
        assert_eq!(
            code(json_object(&request(Some("application/json"), "[1,2]"))),
            (StatusCode::BAD_REQUEST, ErrorCode::Invalid)
        );
        let deep = "[".repeat(10_000);
        assert_eq!(
            code(json_object(&request(Some("application/json"), &deep))),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidJson)
        );
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(
            code(json_object(&request(Some("application/json"), &big))),
            (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
        );
    }
}
