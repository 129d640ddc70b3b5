//! Captured logs never hold a password, in any path through sign-up.

use integration_tests::logs::capture;
use integration_tests::requests::{json_request, read, signup_body};
use integration_tests::{signup_state, Backend};
use serde_json::json;

#[tokio::test]
async fn no_password_reaches_the_logs() {
    let logs = capture();
    let password = "Unl1kely-Secret-Phrase-7731";
    let mismatch = "Unl1kely-Other-Phrase-9924";
    for backend in Backend::both().await {
        let state = signup_state(&backend);
        let bodies = [
            signup_body(
                "logcheck",
                "logcheck@example.com",
                json!({"password": password, "confirm_password": password}),
            ),
            signup_body(
                "logcheck",
                "logcheck2@example.com",
                json!({"password": password, "confirm_password": password}),
            ),
            signup_body(
                "logcheck3",
                "bad",
                json!({"password": password, "confirm_password": mismatch}),
            ),
            json!({"password": password}),
        ];
        let mut request_ids = Vec::new();
        for body in bodies {
            let response =
                signup::handle(&state, json_request("POST", "/auth/signup", &body)).await;
            let id = response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let (status, _) = read(&response);
            assert!(status == 201 || status == 400);
            request_ids.push(id);
        }
        let text = logs.text();
        // The capture works: each request logged its completion line.
        for id in &request_ids {
            assert!(
                text.lines()
                    .any(|line| line.contains(id) && line.contains("request completed")),
                "no log line for {id}"
            );
        }
        for secret in [password, mismatch, "argon2id"] {
            assert!(!text.contains(secret), "{secret} found in logs");
        }
        for line in text.lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "not JSON: {line}"
            );
        }
    }
}
