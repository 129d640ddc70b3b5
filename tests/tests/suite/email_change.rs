//! Changing the email of a username account (issue #17, item 1): an access
//! token alone cannot do it, the current password is checked and counted,
//! the address changes only when the link mailed to the new address is
//! used, and reset links issued before die with the change. On both stores.

use integration_tests::mail::{last_token, last_token_to};
use integration_tests::requests::codes;
use integration_tests::world::{Reply, World, PASSWORD};
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "Quiet-Heron-Meadow-73";

async fn patch(world: &World, access: &str, body: Value) -> Reply {
    world
        .call("PATCH", "/users/me", Some(&body), Some(access))
        .await
}

async fn post(world: &World, path: &str, body: Value) -> Reply {
    world.call("POST", path, Some(&body), None).await
}

async fn me(world: &World, access: &str) -> Value {
    let reply = world.me(access).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["user"].clone()
}

async fn reset_link(world: &World, email: &str) -> String {
    let reply = post(world, "/auth/password/reset", json!({ "email": email })).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    world.app.settle().await;
    last_token_to(
        &world.app.mailbox.messages(),
        "password.reset_requested",
        email,
    )
    .expect("a reset link")
}

async fn reset(world: &World, token: &str) -> Reply {
    post(
        world,
        "/auth/password/reset/confirm",
        json!({"token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}),
    )
    .await
}

async fn mail_to(world: &World, to: &str) -> Vec<shared::ports::notifications::EmailMessage> {
    world.app.settle().await;
    world
        .app
        .mailbox
        .messages()
        .into_iter()
        .filter(|m| m.to == to)
        .collect()
}

/// A stolen access token alone changes nothing: no `current_password`,
/// no change, no mail to the thief's address.
async fn an_access_token_alone_cannot_change_the_email(world: World) {
    world.sign_up("olga", "olga@example.com").await;
    let pair = world.log_in("olga", PASSWORD).await;
    let reply = patch(
        &world,
        &pair.access,
        json!({"email": "thief@example.com", "rank": "Major"}),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(codes(&reply.body, "current_password"), ["required"]);
    let user = me(&world, &pair.access).await;
    assert_eq!(user["email"], "olga@example.com");
    assert_eq!(user["pending_email"], Value::Null);
    assert!(mail_to(&world, "thief@example.com").await.is_empty());
    // The account is still found by its own address only.
    let users = world.backend.stores.users();
    assert!(users
        .find_by_email("thief@example.com")
        .await
        .unwrap()
        .is_none());
    // The same address in other case is no change: no password needed,
    // the other fields apply.
    let same = patch(
        &world,
        &pair.access,
        json!({"email": "OLGA@Example.com", "rank": "Major"}),
    )
    .await;
    assert_eq!(same.status, 200, "{}", same.body);
    let user = &same.body["data"]["user"];
    assert_eq!(user["email"], "olga@example.com");
    assert_eq!(user["rank"], "Major");
    assert_eq!(user["pending_email"], Value::Null);
    assert!(mail_to(&world, "olga@example.com")
        .await
        .iter()
        .all(|m| m.event_type != "email.change_notice"));
}

/// A wrong current password gets the password change's answer and counts
/// in the same lock: guessing through the email change locks both.
async fn a_wrong_current_password_is_refused_and_counted(world: World) {
    world.sign_up("pia", "pia@example.com").await;
    let pair = world.log_in("pia", PASSWORD).await;
    let body = |password: &str| json!({"email": "pia2@example.com", "current_password": password});
    let wrong = patch(&world, &pair.access, body("not-the-password")).await;
    assert_eq!(
        (wrong.status, codes(&wrong.body, "current_password")),
        (400, vec!["invalid_credentials".to_owned()]),
        "{}",
        wrong.body
    );
    for _ in 0..9 {
        patch(&world, &pair.access, body("not-the-password")).await;
    }
    let locked = patch(&world, &pair.access, body(PASSWORD)).await;
    assert_eq!(locked.status, 423, "{}", locked.body);
    assert!(locked.headers.contains_key("retry-after"));
    // One counter with the password change.
    let change = world
        .call(
            "POST",
            "/auth/password/change",
            Some(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})),
            Some(&pair.access),
        )
        .await;
    assert_eq!(change.status, 423, "{}", change.body);
    let user = me(&world, &pair.access).await;
    assert_eq!(user["pending_email"], Value::Null);
    assert!(mail_to(&world, "pia2@example.com").await.is_empty());
}

/// The whole flow: pending, link to the new address, notice without a
/// link to the old, confirmation moves the address, the link works once,
/// and reset links issued before the change no longer work.
async fn a_confirmed_change_moves_the_address(world: World) {
    world.sign_up("nora", "nora@example.com").await;
    let pair = world.log_in("nora", PASSWORD).await;
    let old_reset = reset_link(&world, "nora@example.com").await;
    let reply = patch(
        &world,
        &pair.access,
        json!({"email": "Nora.New@Example.com", "current_password": PASSWORD, "rank": "Major"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let user = &reply.body["data"]["user"];
    assert_eq!(user["email"], "nora@example.com");
    assert_eq!(user["pending_email"], "nora.new@example.com");
    assert_eq!(user["rank"], "Major");
    let user = me(&world, &pair.access).await;
    assert_eq!(user["email"], "nora@example.com");
    assert_eq!(user["pending_email"], "nora.new@example.com");

    // The link goes to the new address; the old one gets a notice with no
    // link in it.
    let to_new = mail_to(&world, "nora.new@example.com").await;
    assert_eq!(to_new.len(), 1);
    assert_eq!(to_new[0].event_type, "email.change_requested");
    let token = last_token(&to_new, "email.change_requested").expect("a link");
    assert!(token.starts_with("ce_"));
    let notices: Vec<_> = mail_to(&world, "nora@example.com")
        .await
        .into_iter()
        .filter(|m| m.event_type == "email.change_notice")
        .collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].text.contains("nora.new@example.com"));
    assert!(!notices[0].text.contains("token="));
    assert!(!notices[0].html.contains("href"));
    // Only the hash is stored.
    let tokens = world.backend.stores.one_time_tokens();
    assert!(tokens.find_token(&token).await.unwrap().is_none());
    let hash = shared::crypto::digest::sha256_hex(token.as_bytes());
    let stored = tokens.find_token(&hash).await.unwrap().expect("stored");
    assert_eq!(stored.email.as_str(), "nora.new@example.com");

    // Until confirmed, the old address is the account's.
    let users = world.backend.stores.users();
    assert!(users
        .find_by_email("nora.new@example.com")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        world
            .log_in_with(json!({"login": "nora.new@example.com", "password": PASSWORD}))
            .await
            .status,
        401
    );

    let confirmed = post(&world, "/auth/email/confirm", json!({ "token": token })).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let user = me(&world, &pair.access).await;
    assert_eq!(user["email"], "nora.new@example.com");
    assert_eq!(user["pending_email"], Value::Null);
    assert_eq!(user["email_verified"], true);
    assert!(users
        .find_by_email("nora@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(users
        .find_by_email("nora.new@example.com")
        .await
        .unwrap()
        .is_some());
    world.log_in("nora.new@example.com", PASSWORD).await;
    assert_eq!(
        world
            .log_in_with(json!({"login": "nora@example.com", "password": PASSWORD}))
            .await
            .status,
        401
    );

    // Single use.
    let again = post(&world, "/auth/email/confirm", json!({ "token": token })).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(codes(&again.body, "token"), ["token_invalid"]);

    // The reset link mailed to the old address before the change is dead.
    let dead = reset(&world, &old_reset).await;
    assert_eq!(dead.status, 400, "{}", dead.body);
    assert_eq!(codes(&dead.body, "token"), ["token_invalid"]);
    world.log_in("nora", PASSWORD).await;

    // The old address is told, again without a link.
    let changed: Vec<_> = mail_to(&world, "nora@example.com")
        .await
        .into_iter()
        .filter(|m| m.event_type == "email.changed")
        .collect();
    assert_eq!(changed.len(), 1);
    assert!(!changed[0].text.contains("token="));
    assert!(!changed[0].html.contains("href"));
}

/// Another account takes the new address before the link is used: 409
/// `email_conflict`, and nothing changes.
async fn a_new_address_taken_meanwhile_is_a_conflict(world: World) {
    world.sign_up("quinn", "quinn@example.com").await;
    let pair = world.log_in("quinn", PASSWORD).await;
    let reply = patch(
        &world,
        &pair.access,
        json!({"email": "wanted@example.com", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    world.app.settle().await;
    let token = last_token_to(
        &world.app.mailbox.messages(),
        "email.change_requested",
        "wanted@example.com",
    )
    .expect("a link");
    world.sign_up("rival", "wanted@example.com").await;
    let rival = world
        .backend
        .stores
        .users()
        .find_by_email("wanted@example.com")
        .await
        .unwrap();

    let confirmed = post(&world, "/auth/email/confirm", json!({ "token": token })).await;
    assert_eq!(confirmed.status, 409, "{}", confirmed.body);
    assert_eq!(codes(&confirmed.body, "email"), ["email_conflict"]);
    let user = me(&world, &pair.access).await;
    assert_eq!(user["email"], "quinn@example.com");
    let users = world.backend.stores.users();
    assert_eq!(
        users.find_by_email("wanted@example.com").await.unwrap(),
        rival
    );
    assert!(users
        .find_by_email("quinn@example.com")
        .await
        .unwrap()
        .is_some());
    world.log_in("quinn@example.com", PASSWORD).await;
    // Asking for a taken address is refused at once.
    let taken = patch(
        &world,
        &pair.access,
        json!({"email": "wanted@example.com", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(taken.status, 400, "{}", taken.body);
    assert_eq!(codes(&taken.body, "email"), ["email_conflict"]);
}

/// A password change kills the reset links mailed before it.
async fn a_password_change_kills_outstanding_reset_links(world: World) {
    world.sign_up("sami", "sami@example.com").await;
    let pair = world.log_in("sami", PASSWORD).await;
    let token = reset_link(&world, "sami@example.com").await;
    let change = world
        .call(
            "POST",
            "/auth/password/change",
            Some(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})),
            Some(&pair.access),
        )
        .await;
    assert_eq!(change.status, 200, "{}", change.body);
    let dead = reset(&world, &token).await;
    assert_eq!(dead.status, 400, "{}", dead.body);
    assert_eq!(codes(&dead.body, "token"), ["token_invalid"]);
    world.log_in("sami", NEW_PASSWORD).await;
    // A link asked for after the change works.
    let fresh = reset_link(&world, "sami@example.com").await;
    let reply = post(
        &world,
        "/auth/password/reset/confirm",
        json!({"token": fresh, "new_password": "Another-Quiet-Heron-9", "confirm_password": "Another-Quiet-Heron-9"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

integration_tests::on_both_backends!(
    an_access_token_alone_cannot_change_the_email,
    a_wrong_current_password_is_refused_and_counted,
    a_confirmed_change_moves_the_address,
    a_new_address_taken_meanwhile_is_a_conflict,
    a_password_change_kills_outstanding_reset_links,
);
