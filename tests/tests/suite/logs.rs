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

/// Every route, driven with secrets in its body and its Authorization
/// header, plus an event and a span that name secrets as fields: none of
/// the values appears anywhere in the captured output, because the
/// subscriber's redaction step rewrites such fields whatever the code logs.
#[tokio::test]
async fn no_secret_reaches_the_logs_on_any_route() {
    use integration_tests::world::{World, PASSWORD};
    use shared::http::routes::ROUTES;
    use shared::session_tokens::refresh::RefreshToken;

    let logs = capture();
    let world = World::new(integration_tests::Backend::memory());
    world.sign_up("redactlog", "redactlog@example.com").await;
    let wrong_password = "Unl1kely-Wrong-Phrase-4410";
    let new_password = "Unl1kely-New-Phrase-8852";
    let mismatch = "Unl1kely-Mismatch-Phrase-3307";
    let phone = "+919812377441";
    let mailed_token = "ec_Q2xlYXJseU5vdEFSZWFsVG9rZW5CdXRTZWNyZXQxMjM0";
    let push_token = "fcm-Unl1kelyPushTokenValue-5521";
    let stray_refresh =
        RefreshToken::generate(uuid::Uuid::new_v4(), uuid::Uuid::new_v4()).expect("randomness");
    let mut secrets = vec![
        PASSWORD.to_owned(),
        wrong_password.to_owned(),
        new_password.to_owned(),
        mismatch.to_owned(),
        phone.to_owned(),
        phone.trim_start_matches("+91").to_owned(),
        mailed_token.to_owned(),
        push_token.to_owned(),
        stray_refresh.expose().to_owned(),
    ];
    let mut request_ids = Vec::new();
    for route in ROUTES {
        // A live session for each call: an earlier route may have ended it.
        let session = world.log_in("redactlog", PASSWORD).await;
        secrets.push(session.access.clone());
        secrets.push(session.refresh.clone());
        let path = route
            .path
            .replace("{id}", &uuid::Uuid::new_v4().to_string());
        // The account's password only where it cannot change or delete it.
        let current = match route.path {
            "/auth/login" | "/auth/password/change" => PASSWORD,
            _ => wrong_password,
        };
        let body = json!({
            // The account's own names: a profile update must leave it reachable.
            "login": "redactlog", "username": "redactlog", "email": "redactlog@example.com",
            "password": current, "current_password": current,
            "new_password": new_password, "confirm_password": mismatch,
            "refresh_token": session.refresh, "token": mailed_token,
            "name": "Redact Log", "phone_number": phone,
            "mobileNo": phone, "personalNo": phone, "phoneNo": phone,
            "rank": "Captain", "unitname": "Signals", "designation": "Officer",
            "platform": "fcm", "type": "add", "x": 1, "y": 2,
        });
        let body = match route.path {
            "/users/me/push-tokens" => json!({"platform": "fcm", "token": push_token}),
            _ => body,
        };
        let reply = world
            .call(route.method, &path, Some(&body), Some(&session.access))
            .await;
        assert!(
            reply.status < 500,
            "{} {}: {} {}",
            route.method,
            route.path,
            reply.status,
            reply.body
        );
        let id = reply.headers["x-request-id"].to_str().unwrap().to_owned();
        request_ids.push(id);
    }
    world.app.settle().await;
    {
        let span = tracing::info_span!(
            "redaction_probe",
            authorization = %format!("Bearer {}", secrets[secrets.len() - 2]),
            session_cookie = "sid=Unl1kely-Cookie-7713",
        );
        let _entered = span.enter();
        tracing::info!(
            password = PASSWORD,
            refresh_token = %secrets[secrets.len() - 1],
            client_secret = "Unl1kely-Client-Secret-6604",
            phone_number = phone,
            otp = 918_273_645_501u64,
            "redaction probe"
        );
    }
    secrets.extend(
        [
            "sid=Unl1kely-Cookie-7713",
            "Unl1kely-Client-Secret-6604",
            "918273645501",
        ]
        .map(String::from),
    );
    let text = logs.text();
    for id in &request_ids {
        assert!(
            text.lines()
                .any(|line| line.contains(id.as_str()) && line.contains("request completed")),
            "no log line for {id}"
        );
    }
    let probe = text
        .lines()
        .find(|line| line.contains("redaction probe"))
        .expect("the probe event was captured");
    assert!(probe.contains(r#""password":"[redacted]""#), "{probe}");
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret reached the logs: {:.12}…",
            secret
        );
    }
}
