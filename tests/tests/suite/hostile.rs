//! Malformed, oversized and hostile input: always the documented 4xx
//! envelope, never a 500.

use integration_tests::requests::{codes, json_request, read, request, signup_body};
use integration_tests::{signup_state, Backend};
use lambda_http::Body;
use serde_json::{json, Value};

async fn send(state: &signup::State, content_type: Option<&str>, body: Body) -> (u16, Value) {
    read(&signup::handle(state, request("POST", "/auth/signup/", content_type, body)).await)
}

fn assert_envelope(status: u16, body: &Value) {
    assert!((400..500).contains(&status), "{status}: {body}");
    assert_eq!(body["success"], false, "{body}");
    assert!(
        body["message"].is_string() && body["errors"].is_object() && body["request_id"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_json_and_wrong_media_types() {
    let state = signup_state(&Backend::memory());
    let json = Some("application/json");
    for bad in [
        "{",
        "{\"username\": }",
        "nul",
        "{\"a\":1}}",
        "\u{feff}{}",
        "{'single': 'quotes'}",
        "{\"a\": \"\\ud800\"}",
    ] {
        let (status, body) = send(&state, json, Body::from(bad)).await;
        assert_envelope(status, &body);
        assert_eq!(
            (status, codes(&body, "non_field_errors")),
            (400, vec!["invalid_json".to_owned()]),
            "{bad}"
        );
    }
    let (status, body) = send(&state, json, Body::Binary(vec![0xff, 0xfe, 0x00, 0x7b])).await;
    assert_eq!(
        (status, codes(&body, "non_field_errors")),
        (400, vec!["invalid_json".to_owned()])
    );
    for not_object in ["[]", "\"text\"", "42", "null", "true"] {
        let (status, body) = send(&state, json, Body::from(not_object)).await;
        assert_envelope(status, &body);
        assert_eq!(
            codes(&body, "non_field_errors"),
            ["invalid"],
            "{not_object}"
        );
    }
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
        Some("multipart/form-data; boundary=x"),
    ] {
        let (status, body) = send(&state, content_type, Body::from("{}")).await;
        assert_envelope(status, &body);
        assert_eq!(
            (status, codes(&body, "non_field_errors")),
            (415, vec!["unsupported_media_type".to_owned()])
        );
    }
}

#[tokio::test]
async fn oversized_bodies() {
    let state = signup_state(&Backend::memory());
    let megabyte = signup_body(
        "big",
        "big@example.com",
        json!({"rank": "r".repeat(1024 * 1024)}),
    );
    let (status, body) =
        read(&signup::handle(&state, json_request("POST", "/auth/signup", &megabyte)).await);
    assert_envelope(status, &body);
    assert_eq!(
        (status, codes(&body, "non_field_errors")),
        (413, vec!["payload_too_large".to_owned()])
    );
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, body) = send(&state, Some("application/json"), Body::from(deep)).await;
    assert_envelope(status, &body);
}

#[tokio::test]
async fn wrong_types_are_invalid_per_field() {
    let state = signup_state(&Backend::memory());
    let body = json!({
        "username": 123, "email": ["a@example.com"], "password": {"p": 1}, "confirm_password": true,
        "rank": 1.5, "unitname": null, "designation": [], "mobileNo": 9876543210_u64, "personalNo": {},
        "phoneNo": false, "status": "maybe"
    });
    let (status, response) =
        read(&signup::handle(&state, json_request("POST", "/auth/signup", &body)).await);
    assert_envelope(status, &response);
    for field in [
        "username",
        "email",
        "password",
        "confirm_password",
        "rank",
        "designation",
        "mobileNo",
        "personalNo",
        "phoneNo",
        "status",
    ] {
        assert_eq!(codes(&response, field), ["invalid"], "{field}: {response}");
    }
    assert_eq!(codes(&response, "unitname"), ["required"]);
}

#[tokio::test]
async fn unicode_and_injection_strings() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        let hostile_usernames = [
            "robert'); DROP TABLE users;--",
            "<script>alert(1)</script>",
            "admin\u{202e}nimda",
            "zero\u{200b}width",
            "null\u{0}byte",
            "${jndi:ldap://x}",
            "../../etc/passwd",
            "e\u{301}\u{301}\u{301}",
        ];
        for (i, username) in hostile_usernames.iter().enumerate() {
            let body = signup_body(username, &format!("h{i}@example.com"), json!({}));
            let (status, response) =
                read(&signup::handle(&state, json_request("POST", "/auth/signup", &body)).await);
            assert_envelope(status, &response);
            assert_eq!(
                codes(&response, "username"),
                ["invalid"],
                "{username:?}: {response}"
            );
        }
        // Free text keeps markup and SQL as inert text, escaped in JSON.
        let body = signup_body(
            "textual",
            "textual@example.com",
            json!({"rank": "<img src=x onerror=alert(1)>", "unitname": "'; DELETE FROM t; --", "designation": "Ingénieur 工程师 🚀"}),
        );
        let (status, response) =
            read(&signup::handle(&state, json_request("POST", "/auth/signup", &body)).await);
        assert_eq!(status, 201, "{}: {response}", backend.name);
        assert_eq!(
            response["data"]["user"]["rank"],
            "<img src=x onerror=alert(1)>"
        );
        assert_eq!(
            response["data"]["user"]["designation"],
            "Ingénieur 工程师 🚀"
        );
        // Unicode usernames are letters too, and NFKC-normalised.
        let body = signup_body("Ｊｏｓé", "jose@example.com", json!({}));
        let (status, response) =
            read(&signup::handle(&state, json_request("POST", "/auth/signup", &body)).await);
        assert_eq!(
            (status, response["data"]["user"]["username"].as_str()),
            (201, Some("José")),
            "{response}"
        );
        let body = signup_body("JOSÉ", "jose2@example.com", json!({}));
        let (status, response) =
            read(&signup::handle(&state, json_request("POST", "/auth/signup", &body)).await);
        assert_eq!(
            (status, codes(&response, "username")),
            (400, vec!["username_conflict".to_owned()])
        );
    }
}

/// Every route that takes a body, signed in where it must be: malformed,
/// oversized, mistyped and non-object bodies get the documented 4xx
/// envelope, never a 5xx.
#[tokio::test]
async fn every_body_route_refuses_hostile_bodies() {
    use integration_tests::requests::request_from;
    use integration_tests::world::{World, PASSWORD};
    use shared::http::routes::ROUTES;
    let world = World::new(Backend::memory());
    let user_id = world.sign_up("hostile", "hostile@example.com").await;
    let pair = world.log_in("hostile", PASSWORD).await;
    let admin_token = world.app.admin_token.expose().to_owned();
    let bodies: Vec<(Option<&str>, Vec<u8>, u16)> = vec![
        (Some("application/json"), b"{\"a\":".to_vec(), 400),
        (Some("application/json"), b"[1,2,3]".to_vec(), 400),
        (Some("application/json"), vec![b' '; 1024 * 1024], 413),
        (Some("text/plain"), b"{}".to_vec(), 415),
        (Some("application/json"), br#"{"login":{"$ne":null},"password":{"$gt":""},"refresh_token":[1],"all":"maybe","username":"<script>","current_password":7}"#.to_vec(), 400),
    ];
    for route in ROUTES
        .iter()
        .filter(|r| matches!(r.method, "POST" | "PATCH"))
    {
        for (content_type, body, expected) in &bodies {
            // The operators' routes take the admin token and a real
            // account, so that the body is what they refuse.
            let (path, bearer) = if route.path.starts_with("/admin/") {
                (route.path.replace("{id}", &user_id), &admin_token)
            } else {
                (route.path.replace("{id}", "x"), &pair.access)
            };
            let mut request = request_from(
                "192.0.2.99",
                route.method,
                &path,
                *content_type,
                Body::from(body.clone()),
            );
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {bearer}").parse().unwrap());
            let (status, response) = read(&world.app.dispatch(request).await);
            assert_envelope(status, &response);
            // Bodies that are not JSON objects never reach the use case;
            // the mistyped object may be refused per field (400) or, for
            // logout, by its one field.
            assert_eq!(status, *expected, "{} {path}: {response}", route.method);
        }
    }
    assert_eq!(world.me(&pair.access).await.status, 200, "still signed in");
}
