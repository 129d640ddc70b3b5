//! The local server over real HTTP on loopback.

use integration_tests::requests::signup_body;
use integration_tests::{start_local_server, Backend};
use serde_json::{json, Value};

#[tokio::test]
async fn sign_up_over_http_with_security_headers() {
    let url = start_local_server(&Backend::memory()).await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{url}/auth/signup/"))
        .json(&signup_body("http", "http@example.com", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let headers = response.headers().clone();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("content-type", "application/json"),
    ] {
        assert_eq!(headers[name], value, "{name}");
    }
    assert!(headers["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    assert!(!headers["x-request-id"].is_empty());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["user"]["username"], "http");

    let health: Value = client
        .get(format!("{url}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["data"]["status"], "ok");
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_huge_bodies() {
    let url = start_local_server(&Backend::memory()).await;
    let client = reqwest::Client::new();

    let response = client
        .get(format!("{url}/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"]["non_field_errors"][0]["code"], "not_found");

    let response = client
        .delete(format!("{url}/auth/signup"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"]["non_field_errors"][0]["code"],
        "method_not_allowed"
    );

    let response = client
        .post(format!("{url}/auth/signup"))
        .header("content-type", "application/json")
        .header("x-request-id", "client-chosen-id")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // The service's own id answers, never the client's (issue #17 item 12):
    // the client's is only recorded beside it.
    let service_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(service_id, "client-chosen-id");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"]["non_field_errors"][0]["code"],
        "payload_too_large"
    );
    assert_eq!(body["request_id"], service_id.as_str());
}
