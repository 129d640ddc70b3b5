//! Email confirmation, password reset and pre-registration through the
//! API, the outbox and the notification worker, on both stores.

use integration_tests::mail::last_token;
use integration_tests::world::{World, PASSWORD};
use integration_tests::{default_config, Backend};
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "Quiet-Heron-Meadow-73";

async fn mailed(world: &World, event_type: &str) -> String {
    world.app.settle().await;
    last_token(&world.app.mailbox.messages(), event_type).expect("a mailed link")
}

async fn post(world: &World, path: &str, body: Value) -> integration_tests::world::Reply {
    world.call("POST", path, Some(&body), None).await
}

async fn email_verified(world: &World, access: &str) -> Value {
    world.me(access).await.body["data"]["user"]["email_verified"].clone()
}

async fn confirmation_is_single_use(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("cora", "cora@example.com").await;
    let tokens = world.log_in("cora", PASSWORD).await;
    assert_eq!(email_verified(&world, &tokens.access).await, false);
    let token = mailed(&world, "email.confirmation_requested").await;
    let reply = post(&world, "/auth/email/confirm", json!({ "token": token })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["email_verified"], true);
    assert_eq!(email_verified(&world, &tokens.access).await, true);
    let again = post(&world, "/auth/email/confirm/", json!({ "token": token })).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["errors"]["token"][0]["code"], "token_invalid");
    // Verified accounts get no new link.
    let reply = post(
        &world,
        "/auth/email/confirm/resend",
        json!({"email": "cora@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 202);
    world.app.settle().await;
    let links = world
        .app
        .mailbox
        .messages()
        .iter()
        .filter(|m| m.event_type == "email.confirmation_requested")
        .count();
    assert_eq!(links, 1);
}

async fn confirmation_expires_after_a_day(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("erin", "erin@example.com").await;
    let token = mailed(&world, "email.confirmation_requested").await;
    world.clock.advance(time::Duration::hours(24));
    let reply = post(&world, "/auth/email/confirm", json!({ "token": token })).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["errors"]["token"][0]["code"], "token_expired");
    // A new link works.
    let reply = post(
        &world,
        "/auth/email/confirm/resend",
        json!({"email": "ERIN@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let fresh = mailed(&world, "email.confirmation_requested").await;
    assert_ne!(fresh, token);
    let reply = post(&world, "/auth/email/confirm", json!({ "token": fresh })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn malformed_tokens_are_refused(backend: &Backend) {
    let world = World::new(backend.clone());
    for (path, body, field, code) in [
        ("/auth/email/confirm", json!({}), "token", "required"),
        (
            "/auth/email/confirm",
            json!({"token": 5}),
            "token",
            "invalid",
        ),
        (
            "/auth/email/confirm",
            json!({"token": "ec_short"}),
            "token",
            "token_invalid",
        ),
        (
            "/auth/email/confirm",
            json!({"token": format!("pr_{}", "A".repeat(43))}),
            "token",
            "token_invalid",
        ),
        ("/auth/password/reset", json!({}), "email", "required"),
        (
            "/auth/password/reset",
            json!({"email": "nope"}),
            "email",
            "invalid",
        ),
        (
            "/auth/password/reset/confirm",
            json!({}),
            "token",
            "required",
        ),
        (
            "/auth/password/reset/confirm",
            json!({}),
            "new_password",
            "required",
        ),
        (
            "/auth/pre-register",
            json!({"email": ["a"]}),
            "email",
            "invalid",
        ),
    ] {
        let reply = post(&world, path, body.clone()).await;
        assert_eq!(reply.status, 400, "{path} {body}: {}", reply.body);
        assert_eq!(
            reply.body["errors"][field][0]["code"], code,
            "{path} {body}: {}",
            reply.body
        );
    }
    // A well-formed token nobody issued.
    let reply = post(
        &world,
        "/auth/password/reset/confirm",
        json!({"token": format!("pr_{}", "A".repeat(43)), "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["errors"]["token"][0]["code"], "token_invalid");
}

async fn reset_sets_the_password_and_ends_every_session(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("rosa", "rosa@example.com").await;
    let first = world.log_in("rosa", PASSWORD).await;
    let second = world.log_in("rosa@example.com", PASSWORD).await;
    let reply = post(
        &world,
        "/auth/password/reset",
        json!({"email": "Rosa@Example.com"}),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let token = mailed(&world, "password.reset_requested").await;
    // The sign-up rules apply, every failing field at once.
    let reply = post(
        &world,
        "/auth/password/reset/confirm",
        json!({"token": token, "new_password": "rosa@example.com", "confirm_password": "other"}),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body["errors"]["new_password"].is_array());
    assert_eq!(
        reply.body["errors"]["confirm_password"][0]["code"],
        "password_mismatch"
    );
    let reply = post(
        &world,
        "/auth/password/reset/confirm",
        json!({"token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    for session in [&first, &second] {
        assert_eq!(world.me(&session.access).await.status, 401);
        assert_eq!(world.refresh(&session.refresh).await.status, 401);
    }
    assert_eq!(
        world
            .log_in_with(json!({"login": "rosa", "password": PASSWORD}))
            .await
            .status,
        401
    );
    world.log_in("rosa", NEW_PASSWORD).await;
    // Single use.
    let again = post(
        &world,
        "/auth/password/reset/confirm",
        json!({"token": token, "new_password": "Another-Quiet-Heron-9", "confirm_password": "Another-Quiet-Heron-9"}),
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["errors"]["token"][0]["code"], "token_invalid");
    // The account is told.
    world.app.settle().await;
    assert!(world
        .app
        .mailbox
        .messages()
        .iter()
        .any(|m| m.event_type == "password.changed" && m.to == "rosa@example.com"));
}

async fn reset_link_expires_after_an_hour(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("hugo", "hugo@example.com").await;
    post(
        &world,
        "/auth/password/reset",
        json!({"email": "hugo@example.com"}),
    )
    .await;
    let token = mailed(&world, "password.reset_requested").await;
    world.clock.advance(time::Duration::minutes(61));
    let reply = post(
        &world,
        "/auth/password/reset/confirm",
        json!({"token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["errors"]["token"][0]["code"], "token_expired");
    world.log_in("hugo", PASSWORD).await;
}

/// Known and unknown addresses get the same status, body and headers (the
/// request id aside); no mail goes to an unknown one.
async fn reset_reveals_no_accounts(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("kim", "kim@example.com").await;
    let known = post(
        &world,
        "/auth/password/reset",
        json!({"email": "kim@example.com"}),
    )
    .await;
    let unknown = post(
        &world,
        "/auth/password/reset",
        json!({"email": "ghost@example.com"}),
    )
    .await;
    assert_eq!(known.status, 202);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    let names = |reply: &integration_tests::world::Reply| {
        let mut names: Vec<String> = reply.headers.keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(names(&known), names(&unknown));
    world.app.settle().await;
    let resets: Vec<String> = world
        .app
        .mailbox
        .messages()
        .into_iter()
        .filter(|m| m.event_type == "password.reset_requested")
        .map(|m| m.to)
        .collect();
    assert_eq!(resets, vec!["kim@example.com".to_owned()]);
}

async fn reset_requests_are_rate_limited_per_address(backend: &Backend) {
    let world = World::new(backend.clone());
    let limit = default_config().link_quotas.per_email.max;
    for _ in 0..limit {
        let reply = post(
            &world,
            "/auth/password/reset",
            json!({"email": "flood@example.com"}),
        )
        .await;
        assert_eq!(reply.status, 202);
    }
    let reply = post(
        &world,
        "/auth/password/reset",
        json!({"email": "flood@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert_eq!(
        reply.body["errors"]["non_field_errors"][0]["code"],
        "rate_limited"
    );
    assert!(reply.headers.contains_key("retry-after"));
    // Another address from the same source still works.
    let reply = post(
        &world,
        "/auth/password/reset",
        json!({"email": "calm@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 202);
    world.clock.advance(time::Duration::hours(1));
    let reply = post(
        &world,
        "/auth/password/reset",
        json!({"email": "flood@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 202);
}

async fn pre_registration_is_idempotent_and_converted_by_sign_up(backend: &Backend) {
    let world = World::new(backend.clone());
    for _ in 0..2 {
        let reply = post(
            &world,
            "/auth/pre-register",
            json!({"email": "Nina@Example.com"}),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["data"]["email"], "nina@example.com");
    }
    let email = shared::domain::Email::parse("nina@example.com").unwrap();
    let stored = backend
        .stores
        .pre_registrations()
        .pre_registration(&email)
        .await
        .unwrap()
        .expect("recorded");
    assert!(stored.converted.is_none());
    let id = world.sign_up("nina", "nina@example.com").await;
    world.app.settle().await;
    let stored = backend
        .stores
        .pre_registrations()
        .pre_registration(&email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.converted.map(|(user, _)| user.to_string()), Some(id));
}

async fn unverified_login_can_be_refused(backend: &Backend) {
    let mut config = default_config();
    config.allow_unverified_login = false;
    let world = World::with_background(
        backend.clone(),
        config,
        None,
        std::sync::Arc::new(shared::usecases::task_runner::StandardRunner::default()),
    );
    world.sign_up("uma", "uma@example.com").await;
    let reply = world
        .log_in_with(json!({"login": "uma", "password": PASSWORD}))
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(
        reply.body["errors"]["non_field_errors"][0]["code"],
        "forbidden"
    );
    let token = mailed(&world, "email.confirmation_requested").await;
    assert_eq!(
        post(&world, "/auth/email/confirm", json!({ "token": token }))
            .await
            .status,
        200
    );
    world.log_in("uma", PASSWORD).await;
}

/// A login from a device the account never used is mailed to its owner.
async fn login_from_a_new_device_is_notified(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("dina", "dina@example.com").await;
    let device = json!({"login": "dina", "password": PASSWORD, "device_id": "phone-1",
        "device_info": {"platform": "android", "model": "Pixel 9"}});
    for _ in 0..2 {
        assert_eq!(world.log_in_with(device.clone()).await.status, 200);
    }
    world.app.settle().await;
    let notices: Vec<_> = world
        .app
        .mailbox
        .messages()
        .into_iter()
        .filter(|m| m.event_type == "login.new_device")
        .collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].text.contains("android"));
}

integration_tests::contract_on_both_backends!(
    confirmation_is_single_use,
    confirmation_expires_after_a_day,
    malformed_tokens_are_refused,
    reset_sets_the_password_and_ends_every_session,
    reset_link_expires_after_an_hour,
    reset_reveals_no_accounts,
    reset_requests_are_rate_limited_per_address,
    pre_registration_is_idempotent_and_converted_by_sign_up,
    unverified_login_can_be_refused,
    login_from_a_new_device_is_notified,
);

/// The same DynamoDB requests for a known and an unknown address: the
/// work, and so the time, does not tell them apart.
#[tokio::test]
async fn reset_costs_the_same_for_unknown_addresses() {
    let counter = integration_tests::round_trips::RoundTrips::default();
    let store = integration_tests::dynamodb::counted_table(counter.clone()).await;
    let backend = Backend {
        name: "dynamodb",
        stores: shared::app::Stores::dynamo(store.clone()),
        dynamo: Some(store),
    };
    let world = World::new(backend);
    world.sign_up("tess", "tess@example.com").await;
    let mut costs = Vec::new();
    for email in ["tess@example.com", "nobody@example.com"] {
        counter.reset();
        let reply = post(&world, "/auth/password/reset", json!({ "email": email })).await;
        assert_eq!(reply.status, 202);
        costs.push(counter.operations());
    }
    assert_eq!(costs[0], costs[1]);
    assert_eq!(costs[0], vec!["GetItem", "GetItem", "TransactWriteItems"]);
}
