//! `PUT /users/me` replaces the profile, `PATCH` merges it: the same
//! sign-up rules of `PROFILE_FIELDS`, the username's claim moved in the
//! profile's transaction, the email change's rules for a new address.

use std::collections::HashMap;
use std::sync::Arc;

use integration_tests::requests::signup_body;
use integration_tests::world::{Reply, World, PASSWORD};
use integration_tests::Backend;
use serde_json::{json, Value};
use shared::config::Config;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::keyset::KeySet;

fn world(backend: Backend, profile_fields: &str) -> World {
    let vars = HashMap::from([("PROFILE_FIELDS".to_owned(), profile_fields.to_owned())]);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("valid");
    let ring = Arc::new(KeyRing::fixed(KeySet::generate(
        time::OffsetDateTime::now_utc(),
    )));
    World::with_config(backend, ring, config)
}

async fn send(world: &World, method: &str, access: &str, body: Value) -> Reply {
    world
        .call(method, "/users/me", Some(&body), Some(access))
        .await
}

fn codes(body: &Value, field: &str) -> Vec<String> {
    body["errors"][field]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The whole default profile of `username`, as a `PUT` sends it.
fn full_profile(username: &str, email: &str) -> Value {
    let mut body = signup_body(username, email, json!({}));
    let map = body.as_object_mut().expect("object");
    map.remove("password");
    map.remove("confirm_password");
    body
}

async fn put_replaces_and_patch_merges(backend: Backend) {
    let world = world(backend, "");
    world.sign_up("rosa", "rosa@example.com").await;
    world.sign_up("taken", "taken@example.com").await;
    let tokens = world.log_in("rosa", PASSWORD).await;

    // PATCH: only what is sent.
    let reply = send(&world, "PATCH", &tokens.access, json!({"rank": "Major"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["unitname"], "Signals Regiment");

    // PUT: the whole profile, so every required field must be there.
    let reply = send(&world, "PUT", &tokens.access, json!({"rank": "Colonel"})).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    for field in ["username", "email", "unitname", "designation", "mobileNo"] {
        assert_eq!(codes(&reply.body, field), ["required"], "{field}");
    }
    assert_eq!(
        world.me(&tokens.access).await.body["data"]["user"]["rank"],
        "Major"
    );

    // A taken username: nothing changes.
    let reply = send(
        &world,
        "PUT",
        &tokens.access,
        full_profile("Taken", "rosa@example.com"),
    )
    .await;
    assert_eq!(codes(&reply.body, "username"), ["username_conflict"]);

    // A new username: its claim moves with the profile.
    let mut body = full_profile("rosa2", "ROSA@example.com");
    body["rank"] = json!("Colonel");
    let reply = send(&world, "PUT", &tokens.access, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let user = &reply.body["data"]["user"];
    assert_eq!(
        (&user["username"], &user["rank"]),
        (&json!("rosa2"), &json!("Colonel"))
    );
    assert_eq!(
        user["pending_email"],
        Value::Null,
        "the same address is no change"
    );
    world.log_in("rosa2", PASSWORD).await;
    let old = world
        .log_in_with(json!({"login": "rosa", "password": PASSWORD}))
        .await;
    assert_eq!(old.status, 401);
    world.sign_up("rosa", "rosa.again@example.com").await;

    // A new address: the email change's rules, as for PATCH.
    let reply = send(
        &world,
        "PUT",
        &tokens.access,
        full_profile("rosa2", "rosa.new@example.com"),
    )
    .await;
    assert_eq!(codes(&reply.body, "current_password"), ["required"]);
    let mut body = full_profile("rosa2", "rosa.new@example.com");
    body["current_password"] = json!(PASSWORD);
    let reply = send(&world, "PUT", &tokens.access, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let user = &reply.body["data"]["user"];
    assert_eq!(
        (&user["email"], &user["pending_email"]),
        (&json!("rosa@example.com"), &json!("rosa.new@example.com"))
    );
}

async fn put_clears_what_is_left_out(backend: Backend) {
    let world = world(
        backend,
        "username:optional,rank:optional,unitname:off,designation:off,mobileNo:off,\
         personalNo:off,phoneNo:off,first_name:optional,last_name:optional",
    );
    let reply = world
        .call(
            "POST",
            "/auth/signup",
            Some(&json!({
                "email": "sami@example.com", "username": "sami", "rank": "Major",
                "first_name": "Sami", "last_name": "Laine",
                "password": PASSWORD, "password_confirm": PASSWORD,
            })),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let tokens = world.log_in("sami", PASSWORD).await;

    let reply = send(
        &world,
        "PATCH",
        &tokens.access,
        json!({"first_name": "Samu"}),
    )
    .await;
    let user = &reply.body["data"]["user"];
    assert_eq!(
        (&user["first_name"], &user["rank"]),
        (&json!("Samu"), &json!("Major"))
    );

    let reply = send(
        &world,
        "PUT",
        &tokens.access,
        json!({"email": "sami@example.com", "last_name": "Laine", "unitname": "ignored"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let user = &reply.body["data"]["user"];
    for cleared in ["username", "rank", "first_name"] {
        assert_eq!(user[cleared], Value::Null, "{cleared}: {user}");
    }
    assert_eq!(user["last_name"], "Laine");
    assert!(user.get("unitname").is_none(), "off: not shown");
    // The username's claim went with it: the account logs in by email,
    // and the name is free for another.
    world.log_in("sami@example.com", PASSWORD).await;
    let reply = world
        .call(
            "POST",
            "/auth/signup",
            Some(&json!({
                "email": "other@example.com", "username": "Sami",
                "password": PASSWORD, "password_confirm": PASSWORD,
            })),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

macro_rules! on_both {
    ($($case:ident),*) => {
        $(
            mod $case {
                #[tokio::test]
                async fn memory() {
                    super::$case(integration_tests::Backend::memory()).await;
                }
                #[tokio::test]
                async fn dynamodb() {
                    super::$case(integration_tests::Backend::dynamo().await).await;
                }
            }
        )*
    };
}

on_both!(put_replaces_and_patch_merges, put_clears_what_is_left_out);
