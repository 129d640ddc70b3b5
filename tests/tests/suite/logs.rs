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

/// Logins, refreshes, authenticated calls and password changes: neither
/// passwords nor access or refresh tokens appear in any log line.
#[tokio::test]
async fn no_token_or_password_reaches_the_logs() {
    use integration_tests::world::{tokens, World, PASSWORD};
    let logs = capture();
    for backend in Backend::both().await {
        let world = World::new(backend);
        world.sign_up("tokenlog", "tokenlog@example.com").await;
        let first = world.log_in("tokenlog", PASSWORD).await;
        let reply = world.refresh(&first.refresh).await;
        let second = tokens(&reply.body);
        world.me(&second.access).await;
        world.clock.advance(time::Duration::seconds(11));
        assert_eq!(world.refresh(&first.refresh).await.status, 401, "reuse");
        let third = world.log_in("tokenlog", PASSWORD).await;
        let new_password = "Quiet-Falcon-Meadow-93";
        let change = json!({"current_password": PASSWORD, "new_password": new_password, "confirm_password": new_password});
        assert_eq!(
            world
                .call(
                    "POST",
                    "/auth/password/change",
                    Some(&change),
                    Some(&third.access)
                )
                .await
                .status,
            200
        );
        world
            .log_in_with(json!({"login": "tokenlog", "password": "Wrong-Guess-Password-1"}))
            .await;
        world
            .call("POST", "/auth/logout", None, Some(&third.access))
            .await;
        let text = logs.text();
        assert!(text.contains("logged in"), "the capture works");
        for secret in [
            PASSWORD,
            new_password,
            "Wrong-Guess-Password-1",
            &first.access,
            &first.refresh,
            &second.access,
            &second.refresh,
            &third.access,
            &third.refresh,
        ] {
            assert!(
                !text.contains(secret),
                "a secret reached the logs: {:.12}…",
                secret
            );
        }
        // Not even the signature part of a token.
        for token in [&first.access, &second.access, &third.access] {
            let signature = token.rsplit('.').next().unwrap();
            assert!(!text.contains(signature));
        }
    }
}

/// The mailed links are secrets too: no confirmation or reset token, and
/// no new password, reaches the logs on any path through those flows.
#[tokio::test]
async fn no_mailed_token_reaches_the_logs() {
    let logs = capture();
    let new_password = "Unl1kely-Reset-Phrase-5518";
    for backend in Backend::both().await {
        let world = integration_tests::world::World::new(backend);
        world.sign_up("tokenlog", "tokenlog@example.com").await;
        let post = |path: &'static str, body: serde_json::Value| {
            let world = &world;
            async move { world.call("POST", path, Some(&body), None).await }
        };
        post(
            "/auth/password/reset",
            json!({"email": "tokenlog@example.com"}),
        )
        .await;
        world.app.settle().await;
        let messages = world.app.mailbox.messages();
        let confirm =
            integration_tests::mail::last_token(&messages, "email.confirmation_requested")
                .expect("confirmation link");
        let reset = integration_tests::mail::last_token(&messages, "password.reset_requested")
            .expect("reset link");
        post("/auth/email/confirm", json!({ "token": confirm })).await;
        post("/auth/email/confirm", json!({ "token": confirm })).await;
        post(
            "/auth/password/reset/confirm",
            json!({"token": reset, "new_password": new_password, "confirm_password": "x"}),
        )
        .await;
        post(
            "/auth/password/reset/confirm",
            json!({"token": reset, "new_password": new_password, "confirm_password": new_password}),
        )
        .await;
        world.app.settle().await;
        let text = logs.text();
        for secret in [confirm.as_str(), reset.as_str(), new_password] {
            assert!(!text.contains(secret), "{secret} found in logs");
        }
    }
}
