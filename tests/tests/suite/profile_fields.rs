//! `PROFILE_FIELDS`: sign-up, the user object, login and the served
//! OpenAPI document under the default, an email-only deployment with names
//! and one where everything is optional, on both adapters.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use integration_tests::requests::signup_body;
use integration_tests::world::{World, PASSWORD};
use integration_tests::{on_both_backends, Backend};
use serde_json::{json, Value};
use shared::config::Config;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::keyset::KeySet;

const EMAIL_ONLY_WITH_NAMES: &str = "username:off,rank:off,unitname:off,designation:off,\
    mobileNo:off,personalNo:off,phoneNo:off,first_name:required,last_name:required,\
    birth_date:optional";
const EVERYTHING_OPTIONAL: &str = "username:optional,rank:optional,unitname:optional,\
    designation:optional,mobileNo:optional,personalNo:optional,phoneNo:optional,\
    first_name:optional,last_name:optional,birth_date:optional";

fn config(profile_fields: &str) -> Config {
    let vars = HashMap::from([("PROFILE_FIELDS".to_owned(), profile_fields.to_owned())]);
    Config::from_lookup(|name| vars.get(name).cloned()).expect("valid configuration")
}

fn world(backend: Backend, profile_fields: &str) -> World {
    let ring = Arc::new(KeyRing::fixed(KeySet::generate(
        time::OffsetDateTime::now_utc(),
    )));
    World::with_config(backend, ring, config(profile_fields))
}

async fn sign_up(world: &World, body: &Value) -> integration_tests::world::Reply {
    world.call("POST", "/auth/signup/", Some(body), None).await
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().expect("object").keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The sign-up request schema of the document `world` serves.
async fn served_sign_up_schema(world: &World) -> Value {
    let reply = world.call("GET", "/openapi.json", None, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["components"]["schemas"]["SignUpRequest"].clone()
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .expect("required list")
        .iter()
        .map(|v| v.as_str().expect("name").to_owned())
        .collect()
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

async fn the_default_is_todays_sign_up(world: World) {
    // The original client's exact request and answer.
    let reply = sign_up(&world, &signup_body("olga", "olga@example.com", json!({}))).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["message"], "User created successfully");
    let user = &reply.body["data"]["user"];
    assert_eq!(
        keys(user),
        set(&[
            "userId",
            "username",
            "email",
            "rank",
            "unitname",
            "mobileNo",
            "personalNo",
            "designation",
            "phoneNo",
            "status",
            "message"
        ])
    );
    assert_eq!(user["username"], "olga");
    assert_eq!(user["phoneNo"], "+919876543212");

    // The newer fields are off: ignored like any unknown field.
    let reply = sign_up(
        &world,
        &signup_body(
            "olga2",
            "olga2@example.com",
            json!({"first_name": "Olga", "birth_date": "not a date"}),
        ),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.body["data"]["user"].get("first_name").is_none());

    // Every required field is still required.
    let reply = sign_up(
        &world,
        &json!({"email": "x@example.com", "password": PASSWORD, "confirm_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 400);
    for field in [
        "username",
        "rank",
        "unitname",
        "designation",
        "mobileNo",
        "personalNo",
        "phoneNo",
    ] {
        assert_eq!(codes(&reply.body, field), ["required"], "{field}");
    }

    let schema = served_sign_up_schema(&world).await;
    assert_eq!(
        required(&schema),
        set(&[
            "username",
            "email",
            "password",
            "rank",
            "unitname",
            "designation",
            "mobileNo",
            "personalNo",
            "phoneNo"
        ])
    );
    assert!(schema["properties"].get("first_name").is_none());
    assert!(schema["properties"].get("password_confirm").is_some());
}

async fn password_confirm_is_the_other_name(world: World) {
    let body = signup_body(
        "pia",
        "pia@example.com",
        json!({"confirm_password": null, "password_confirm": PASSWORD}),
    );
    let reply = sign_up(&world, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);

    // A mismatch is reported under the name the client sent.
    let body = signup_body(
        "pia2",
        "pia2@example.com",
        json!({"confirm_password": null, "password_confirm": "Other-Vole-Lantern9"}),
    );
    let reply = sign_up(&world, &body).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        codes(&reply.body, "password_confirm"),
        ["password_mismatch"]
    );
    assert!(reply.body["errors"].get("confirm_password").is_none());

    // Neither: `confirm_password` is required, as before.
    let reply = sign_up(
        &world,
        &signup_body(
            "pia3",
            "pia3@example.com",
            json!({"confirm_password": null}),
        ),
    )
    .await;
    assert_eq!(codes(&reply.body, "confirm_password"), ["required"]);

    // The password change takes either name too.
    let tokens = world.log_in("pia", PASSWORD).await;
    let reply = world
        .call(
            "POST",
            "/auth/password/change",
            Some(&json!({
                "current_password": PASSWORD,
                "new_password": "Brand-New-Lantern7",
                "password_confirm": "Brand-New-Lanter",
            })),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(
        codes(&reply.body, "password_confirm"),
        ["password_mismatch"]
    );
}

async fn an_email_only_app_registers_and_logs_in_by_email(backend: Backend) {
    let world = world(backend, EMAIL_ONLY_WITH_NAMES);
    let reply = sign_up(
        &world,
        &json!({
            "email": "Nia@Example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "first_name": "Nia",
            "last_name": "Okafor",
        }),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let user = &reply.body["data"]["user"];
    assert_eq!(
        keys(user),
        set(&[
            "userId",
            "username",
            "email",
            "first_name",
            "last_name",
            "birth_date",
            "status",
            "message"
        ])
    );
    assert_eq!(user["username"], Value::Null);
    assert_eq!(
        (&user["first_name"], &user["last_name"], &user["birth_date"]),
        (&json!("Nia"), &json!("Okafor"), &Value::Null)
    );

    // The same address again: a conflict, not a 500 (no username claim
    // moves the transaction's indexes).
    let reply = sign_up(
        &world,
        &json!({
            "email": "nia@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "first_name": "Nia",
            "last_name": "Okafor",
            "username": "ignored-here",
        }),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(codes(&reply.body, "email"), ["email_conflict"]);
    assert!(reply.body["errors"].get("username").is_none());

    // Names are required here; dates are checked.
    let reply = sign_up(
        &world,
        &json!({
            "email": "omar@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "last_name": "Haddad",
            "birth_date": "2999-01-01",
        }),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(codes(&reply.body, "first_name"), ["required"]);
    assert_eq!(codes(&reply.body, "birth_date"), ["invalid"]);
    let reply = sign_up(
        &world,
        &json!({
            "email": "omar@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "first_name": "Omar",
            "last_name": "Haddad",
            "birth_date": "1988-07-14",
        }),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["birth_date"], "1988-07-14");

    // Login is by email (either field).
    let tokens = world.log_in("nia@example.com", PASSWORD).await;
    let reply = world
        .log_in_with(json!({"email": "NIA@example.com", "password": PASSWORD}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let me = world.me(&tokens.access).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["data"]["user"]["username"], Value::Null);
    assert_eq!(me.body["data"]["user"]["first_name"], "Nia");
    assert!(me.body["data"]["user"].get("rank").is_none());
    assert!(me.body["data"]["user"]["last_login"].is_string());

    // The operators see the same user object, and find it by email.
    let admin = world.app.admin_token.expose().to_owned();
    let found = world
        .call(
            "GET",
            "/admin/users?query=nia@example.com",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let listed = &found.body["data"]["users"][0];
    assert_eq!(listed["username"], Value::Null, "{}", found.body);
    assert_eq!(listed["first_name"], "Nia");
    assert!(listed.get("rank").is_none());

    let schema = served_sign_up_schema(&world).await;
    assert_eq!(
        required(&schema),
        set(&["email", "password", "first_name", "last_name"])
    );
    for off in ["username", "rank", "mobileNo"] {
        assert!(schema["properties"].get(off).is_none(), "{off}");
    }
    assert!(schema["properties"].get("birth_date").is_some());
}

async fn everything_optional(backend: Backend) {
    let world = world(backend, EVERYTHING_OPTIONAL);
    let reply = sign_up(
        &world,
        &json!({"email": "quinn@example.com", "password": PASSWORD, "confirm_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let user = &reply.body["data"]["user"];
    for field in [
        "username",
        "rank",
        "unitname",
        "designation",
        "mobileNo",
        "personalNo",
        "phoneNo",
        "first_name",
        "last_name",
        "birth_date",
    ] {
        assert_eq!(user[field], Value::Null, "{field}: {user}");
    }

    // A username, when sent, is still unique.
    let with_name = |email: &str| {
        json!({
            "email": email,
            "username": "Quill",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "rank": "",
            "mobileNo": "12",
        })
    };
    let reply = sign_up(&world, &with_name("quill@example.com")).await;
    assert_eq!(
        codes(&reply.body, "mobileNo"),
        ["invalid"],
        "{}",
        reply.body
    );
    let mut body = with_name("quill@example.com");
    body["mobileNo"] = Value::Null;
    let reply = sign_up(&world, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.body["data"]["user"]["rank"],
        Value::Null,
        "blank is none"
    );
    body["email"] = json!("quill2@example.com");
    let reply = sign_up(&world, &body).await;
    assert_eq!(codes(&reply.body, "username"), ["username_conflict"]);

    // PATCH clears an optional field with null and sets one.
    let tokens = world.log_in("quill", PASSWORD).await;
    let reply = world
        .call(
            "PATCH",
            "/users/me",
            Some(&json!({"first_name": "Quill", "username": null})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["first_name"], "Quill");
    assert_eq!(reply.body["data"]["user"]["username"], Value::Null);
    // Its username is free again.
    body["email"] = json!("quill3@example.com");
    let reply = sign_up(&world, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);

    let schema = served_sign_up_schema(&world).await;
    assert_eq!(required(&schema), set(&["email", "password"]));
    assert_eq!(
        schema["properties"]["rank"]["type"],
        json!(["string", "null"])
    );
}

async fn last_login_is_the_last_successful_login(world: World) {
    world.sign_up("lena", "lena@example.com").await;
    let first = world
        .log_in_with(json!({"login": "lena", "password": PASSWORD}))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let at_first = first.body["data"]["user"]["last_login"].clone();
    assert!(at_first.is_string(), "{}", first.body);

    world.clock.advance(time::Duration::minutes(5));
    let wrong = world
        .log_in_with(json!({"login": "lena", "password": "Wrong-Password-99"}))
        .await;
    assert_eq!(wrong.status, 401);
    let tokens = integration_tests::world::tokens(&first.body);
    let me = world.me(&tokens.access).await;
    assert_eq!(
        me.body["data"]["user"]["last_login"], at_first,
        "a failure is no login"
    );

    world.clock.advance(time::Duration::minutes(5));
    let second = world.log_in("lena", PASSWORD).await;
    let me = world.me(&second.access).await;
    let at_second = &me.body["data"]["user"]["last_login"];
    assert!(
        at_second.is_string() && *at_second != at_first,
        "{}",
        me.body
    );
    // The profile's own version did not move.
    assert_eq!(
        me.body["data"]["user"]["updated_at"],
        first.body["data"]["user"]["updated_at"]
    );
}

on_both_backends!(
    the_default_is_todays_sign_up,
    password_confirm_is_the_other_name,
    last_login_is_the_last_successful_login,
);

mod configured {
    macro_rules! on_both {
        ($($case:ident),*) => {
            $(
                mod $case {
                    #[tokio::test]
                    async fn memory() {
                        super::super::$case(super::super::Backend::memory()).await;
                    }
                    #[tokio::test]
                    async fn dynamodb() {
                        super::super::$case(super::super::Backend::dynamo().await).await;
                    }
                }
            )*
        };
    }

    on_both!(
        an_email_only_app_registers_and_logs_in_by_email,
        everything_optional
    );
}

#[test]
fn bad_profile_fields_stop_the_start() {
    for bad in [
        "username:maybe",
        "nickname:required",
        "rank",
        "rank:off,rank:optional",
    ] {
        let vars = HashMap::from([("PROFILE_FIELDS".to_owned(), bad.to_owned())]);
        let error = Config::from_lookup(|name| vars.get(name).cloned())
            .expect_err("a bad PROFILE_FIELDS is refused");
        assert_eq!(error.variable, "PROFILE_FIELDS", "{bad}");
        assert!(
            error
                .to_string()
                .starts_with("invalid configuration: PROFILE_FIELDS: "),
            "{error}"
        );
    }
}
