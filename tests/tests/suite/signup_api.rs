//! `POST /auth/signup/` through its Lambda handler, on both adapters.

use integration_tests::requests::{codes, json_request, read, signup_body};
use integration_tests::{signup_state, Backend};
use serde_json::{json, Value};
use shared::domain::AuditOutcome;
use time::OffsetDateTime;

async fn sign_up(state: &signup::State, body: &Value) -> (u16, Value) {
    let response = signup::handle(state, json_request("POST", "/auth/signup/", body)).await;
    read(&response)
}

#[tokio::test]
async fn success_returns_the_user_and_never_the_password() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        let (status, body) = sign_up(
            &state,
            &signup_body("Alice", "Alice@Example.com", json!({})),
        )
        .await;
        assert_eq!(status, 201, "{}: {body}", backend.name);
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], "User created successfully");
        let user = &body["data"]["user"];
        assert!(uuid::Uuid::parse_str(user["userId"].as_str().unwrap()).is_ok());
        assert_eq!(user["username"], "Alice");
        assert_eq!(user["email"], "alice@example.com", "stored lower-cased");
        assert_eq!(user["status"], "ACTIVE");
        assert_eq!(user["message"], "User created successfully.");
        for field in [
            "rank",
            "unitname",
            "designation",
            "mobileNo",
            "personalNo",
            "phoneNo",
        ] {
            assert!(user[field].is_string(), "{field}");
        }
        let text = body.to_string();
        assert!(
            !text.contains("Tr1cky-Vole-Lantern") && !text.contains("argon2"),
            "{text}"
        );
        assert!(body.get("errors").is_none());
    }
}

#[tokio::test]
async fn status_false_creates_an_inactive_user() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        let (status, body) = sign_up(
            &state,
            &signup_body("ivan", "ivan@example.com", json!({"status": false})),
        )
        .await;
        assert_eq!(
            (status, body["data"]["user"]["status"].as_str()),
            (201, Some("INACTIVE")),
            "{body}"
        );
        let (status, body) = sign_up(
            &state,
            &signup_body("ivan2", "ivan2@example.com", json!({"status": "perhaps"})),
        )
        .await;
        assert_eq!(
            (status, codes(&body, "status")),
            (400, vec!["invalid".to_owned()])
        );
    }
}

#[tokio::test]
async fn duplicate_username_email_or_both() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        assert_eq!(
            sign_up(&state, &signup_body("bob", "bob@example.com", json!({})))
                .await
                .0,
            201
        );

        let (status, body) =
            sign_up(&state, &signup_body("BOB", "bobby@example.com", json!({}))).await;
        assert_eq!(status, 400, "{}", backend.name);
        assert_eq!(body["message"], "Validation failed");
        assert_eq!(codes(&body, "username"), ["username_conflict"]);
        assert!(codes(&body, "email").is_empty());

        let (status, body) =
            sign_up(&state, &signup_body("robert", "BOB@example.COM", json!({}))).await;
        assert_eq!(
            (status, codes(&body, "email")),
            (400, vec!["email_conflict".to_owned()])
        );
        assert_eq!(
            body["errors"]["email"][0]["message"],
            "Email already registered"
        );

        let (status, body) =
            sign_up(&state, &signup_body("Bob", "bob@EXAMPLE.com", json!({}))).await;
        assert_eq!(status, 400);
        assert_eq!(codes(&body, "username"), ["username_conflict"]);
        assert_eq!(codes(&body, "email"), ["email_conflict"]);
        assert!(body["request_id"].is_string());
    }
}

/// Issue #17 item 7: conflicts are reported only for forms that are
/// otherwise valid, so an invalid form (which can never sign up) cannot
/// probe which usernames and emails exist.
#[tokio::test]
async fn conflicts_are_reported_only_for_otherwise_valid_forms() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        assert_eq!(
            sign_up(&state, &signup_body("judy", "judy@example.com", json!({})))
                .await
                .0,
            201
        );
        let (status, body) = sign_up(
            &state,
            &signup_body("judy", "judy@example.com", json!({"mobileNo": "12"})),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(codes(&body, "mobileNo"), ["invalid"]);
        assert!(codes(&body, "username").is_empty(), "{body}");
        assert!(codes(&body, "email").is_empty(), "{body}");
        let (status, body) =
            sign_up(&state, &signup_body("judy", "judy@example.com", json!({}))).await;
        assert_eq!(status, 400);
        assert_eq!(codes(&body, "username"), ["username_conflict"]);
        assert_eq!(codes(&body, "email"), ["email_conflict"]);
    }
}

/// Issue #17 item 7: the address's sign-up quota is charged first. Every
/// valid attempt counts (conflicts too, so probing is bounded), a
/// rate-limited address gets 429 before any conflict, and a rate-limited
/// request costs no Argon2 run.
#[tokio::test]
async fn the_quota_comes_before_conflicts_and_hashing() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        let limit = state.quota.expect("a default sign-up quota").max;
        let (status, _) =
            sign_up(&state, &signup_body("kate", "kate@example.com", json!({}))).await;
        assert_eq!(status, 201, "{}", backend.name);
        for i in 1..limit {
            let (status, body) = sign_up(
                &state,
                &signup_body("kate", &format!("probe{i}@example.com"), json!({})),
            )
            .await;
            assert_eq!(
                (status, codes(&body, "username")),
                (400, vec!["username_conflict".to_owned()]),
                "{}: {body}",
                backend.name
            );
        }
        let hashes = state.hasher.evaluations();
        for (username, email) in [
            ("kate", "probe@example.com"),
            ("fresh", "fresh@example.com"),
        ] {
            let (status, body) = sign_up(&state, &signup_body(username, email, json!({}))).await;
            assert_eq!(
                (status, codes(&body, "non_field_errors")),
                (429, vec!["rate_limited".to_owned()]),
                "{}: {body}",
                backend.name
            );
            assert!(codes(&body, "username").is_empty(), "{body}");
        }
        assert_eq!(
            state.hasher.evaluations(),
            hashes,
            "{}: rate-limited requests cost no Argon2 run",
            backend.name
        );
    }
}

#[tokio::test]
async fn each_field_rule_has_its_code() {
    let backend = Backend::memory();
    let state = signup_state(&backend);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"confirm_password": "Tr1cky-Vole-Lantern!"}),
            "confirm_password",
            "password_mismatch",
        ),
        (json!({"email": "not-an-email"}), "email", "invalid"),
        (
            json!({"email": format!("{}@example.com", "a".repeat(250))}),
            "email",
            "too_long",
        ),
        (json!({"username": "has space"}), "username", "invalid"),
        (json!({"username": "a".repeat(151)}), "username", "too_long"),
        (json!({"username": ""}), "username", "required"),
        (json!({"mobileNo": "12345"}), "mobileNo", "invalid"),
        (
            json!({"personalNo": "+91-98765-43210"}),
            "personalNo",
            "invalid",
        ),
        (json!({"phoneNo": "phone"}), "phoneNo", "invalid"),
        (json!({"rank": "r".repeat(101)}), "rank", "too_long"),
        (json!({"unitname": "u".repeat(201)}), "unitname", "too_long"),
        (
            json!({"designation": "d".repeat(201)}),
            "designation",
            "too_long",
        ),
        (
            json!({"password": "Sh0rt!", "confirm_password": "Sh0rt!"}),
            "password",
            "password_too_short",
        ),
        (
            json!({"password": "x".repeat(129), "confirm_password": "x".repeat(129)}),
            "password",
            "too_long",
        ),
        (
            json!({"password": "password123", "confirm_password": "password123"}),
            "password",
            "password_too_common",
        ),
        (
            json!({"password": "83749261058", "confirm_password": "83749261058"}),
            "password",
            "password_entirely_numeric",
        ),
        (
            json!({"username": "maximilian.k", "password": "Maximilian.k7", "confirm_password": "Maximilian.k7"}),
            "password",
            "password_too_similar",
        ),
        (
            json!({"email": "zanzibar.q@example.com", "password": "zanzibar.q@ex", "confirm_password": "zanzibar.q@ex"}),
            "password",
            "password_too_similar",
        ),
    ];
    for (index, (overrides, field, code)) in cases.into_iter().enumerate() {
        let body = signup_body(
            &format!("user{index}"),
            &format!("user{index}@example.com"),
            overrides.clone(),
        );
        let (status, response) = sign_up(&state, &body).await;
        assert_eq!(status, 400, "{overrides}: {response}");
        assert!(
            codes(&response, field).contains(&code.to_owned()),
            "{overrides} → {response}"
        );
    }
}

#[tokio::test]
async fn missing_fields_are_all_reported_at_once() {
    let backend = Backend::memory();
    let state = signup_state(&backend);
    let (status, body) = sign_up(&state, &json!({})).await;
    assert_eq!(status, 400);
    let fields: Vec<&String> = body["errors"].as_object().unwrap().keys().collect();
    let expected = [
        "confirm_password",
        "designation",
        "email",
        "mobileNo",
        "password",
        "personalNo",
        "phoneNo",
        "rank",
        "unitname",
        "username",
    ];
    assert_eq!(fields, expected);
    for field in expected {
        assert_eq!(codes(&body, field), ["required"], "{field}");
    }
}

#[tokio::test]
async fn every_attempt_is_audited_without_the_password() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        let today = OffsetDateTime::now_utc().date();
        assert_eq!(
            sign_up(&state, &signup_body("kate", "kate@example.com", json!({})))
                .await
                .0,
            201
        );
        assert_eq!(
            sign_up(&state, &signup_body("kate", "kate2@example.com", json!({})))
                .await
                .0,
            400
        );
        assert_eq!(
            sign_up(&state, &signup_body("kate3", "bad", json!({})))
                .await
                .0,
            400
        );
        let records = backend.stores.audit().list_day(today).await.unwrap();
        let outcomes: Vec<AuditOutcome> = records.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                AuditOutcome::Success,
                AuditOutcome::Rejected,
                AuditOutcome::Rejected
            ],
            "{}",
            backend.name
        );
        assert!(records
            .iter()
            .all(|r| r.source_ip.as_deref() == Some(integration_tests::requests::SOURCE_IP)));
        assert_eq!(records[1].reasons, ["username:username_conflict"]);
        assert_eq!(records[2].reasons, ["email:invalid"]);
        assert!(!format!("{records:?}").contains("Tr1cky"));
    }
}

/// Issue #17 item 12: a client's `x-request-id` is kept beside the
/// gateway's request id, never instead of it, in the answer and the audit.
#[tokio::test]
async fn a_client_request_id_is_recorded_beside_the_gateways() {
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        let today = OffsetDateTime::now_utc().date();
        let mut request = json_request(
            "POST",
            "/auth/signup",
            &signup_body("ivo", "ivo@example.com", json!({})),
        );
        request
            .headers_mut()
            .insert("x-request-id", "client-chosen-id".parse().unwrap());
        let gateway_id = match request.extensions().get() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
                context.request_id.clone().unwrap()
            }
            _ => panic!("a gateway request"),
        };
        let response = signup::handle(&state, request).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["x-request-id"], gateway_id.as_str());
        let records = backend.stores.audit().list_day(today).await.unwrap();
        let record = records.last().expect("an audit record");
        assert_eq!(record.request_id, gateway_id, "{}", backend.name);
        assert_eq!(
            record.client_request_id.as_deref(),
            Some("client-chosen-id"),
            "{}",
            backend.name
        );
    }
}

/// The same request against both adapters gives the same bytes, apart
/// from the generated id.
#[tokio::test]
async fn memory_and_dynamodb_answer_byte_for_byte_alike() {
    let [memory, dynamo] = Backend::both().await;
    let requests = [
        signup_body("liam", "liam@example.com", json!({})),
        signup_body("LIAM", "liam@example.com", json!({})),
        signup_body("new", "x", json!({"mobileNo": 7, "password": "password"})),
        json!({}),
    ];
    let (memory_state, dynamo_state) = (signup_state(&memory), signup_state(&dynamo));
    for body in requests {
        let call = |state| {
            let mut request = json_request("POST", "/auth/signup", &body);
            // The gateway's id is the request's id: fixed, so both bodies match.
            if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) =
                request.extensions_mut().get_mut()
            {
                context.request_id = Some("fixed-id".into());
            }
            async move { signup::handle(state, request).await }
        };
        let a = call(&memory_state).await;
        let b = call(&dynamo_state).await;
        assert_eq!(a.status(), b.status());
        let normalise = |response: &lambda_http::Response<lambda_http::Body>| {
            let (_, mut value) = read(response);
            if let Some(user) = value["data"]["user"].as_object_mut() {
                user.insert("userId".into(), json!("<id>"));
            }
            serde_json::to_vec(&value).unwrap()
        };
        assert_eq!(normalise(&a), normalise(&b), "{body}");
        // And the raw bytes differ only where the id is.
        let raw = |r: &lambda_http::Response<lambda_http::Body>| match r.body() {
            lambda_http::Body::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        };
        let (ra, rb) = (raw(&a), raw(&b));
        assert_eq!(ra.len(), rb.len());
        let (ua, ub) = (
            read(&a).1["data"]["user"]["userId"].clone(),
            read(&b).1["data"]["user"]["userId"].clone(),
        );
        let strip = |s: String, id: &Value| match id.as_str() {
            Some(id) => s.replace(id, "<id>"),
            None => s,
        };
        assert_eq!(strip(ra, &ua), strip(rb, &ub));
    }
}
