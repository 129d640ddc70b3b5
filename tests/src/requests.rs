//! Building API Gateway requests the way the Lambda runtime hands them over.

use http::header::CONTENT_TYPE;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

pub const SOURCE_IP: &str = "198.51.100.7";

pub fn request(method: &str, path: &str, content_type: Option<&str>, body: Body) -> Request {
    request_from(SOURCE_IP, method, path, content_type, body)
}

/// A request as API Gateway hands it over, from `source_ip`.
pub fn request_from(
    source_ip: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Body,
) -> Request {
    let mut builder = http::Request::builder().method(method).uri(path);
    if let Some(content_type) = content_type {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    let mut request = builder.body(body).expect("valid request");
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.http.source_ip = Some(source_ip.to_owned());
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(context));
    request
}

pub fn json_request(method: &str, path: &str, body: &Value) -> Request {
    request(
        method,
        path,
        Some("application/json"),
        Body::from(body.to_string()),
    )
}

/// A complete, valid sign-up body; `overrides` replace or add fields
/// (`null` removes one).
pub fn signup_body(username: &str, email: &str, overrides: Value) -> Value {
    let mut body = json!({
        "username": username,
        "email": email,
        "password": "Tr1cky-Vole-Lantern",
        "confirm_password": "Tr1cky-Vole-Lantern",
        "rank": "Captain",
        "unitname": "Signals Regiment",
        "designation": "Officer",
        "mobileNo": "+919876543210",
        "personalNo": "+919876543211",
        "phoneNo": "+919876543212",
    });
    let map = body.as_object_mut().expect("object");
    for (key, value) in overrides.as_object().cloned().unwrap_or_default() {
        if value.is_null() {
            map.remove(&key);
        } else {
            map.insert(key, value);
        }
    }
    body
}

/// Status and parsed JSON body of a response.
pub fn read(response: &Response<Body>) -> (u16, Value) {
    let bytes: &[u8] = match response.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        #[allow(unreachable_patterns)]
        _ => b"",
    };
    let value = serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("response is not JSON ({e}): {bytes:?}"));
    (response.status().as_u16(), value)
}

/// Status and JSON body, or `Null` for a body of another content type (the
/// docs page and its files).
pub fn read_any(response: &Response<Body>) -> (u16, Value) {
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if json {
        read(response)
    } else {
        (response.status().as_u16(), Value::Null)
    }
}

/// The error codes of one field of an error envelope.
pub fn codes(body: &Value, field: &str) -> Vec<String> {
    body["errors"][field]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// An audit record for changes a test makes directly in a store.
pub fn audit_record(user_id: shared::domain::UserId) -> shared::domain::AuditRecord {
    let origin = shared::usecases::Origin {
        request_id: "test".into(),
        client_request_id: None,
        source_ip: None,
    };
    let mut record = origin.audit(
        shared::domain::AuditAction::ProfileUpdate,
        shared::domain::AuditOutcome::Success,
        time::OffsetDateTime::now_utc(),
    );
    record.user_id = Some(user_id);
    record
}
