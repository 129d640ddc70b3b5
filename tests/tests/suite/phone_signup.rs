//! `POST /auth/phone/signup` on both stores: the docs/API.md examples, errors,
//! conflicts, IP blocks, concurrency, devices, and what reaches the table
//! and the logs.

use futures::future::join_all;
use integration_tests::dynamodb::scan_all;
use integration_tests::logs::capture;
use integration_tests::on_both_backends;
use integration_tests::requests::codes;
use integration_tests::world::World;
use serde_json::{json, Value};
use shared::domain::ip_block::IpBlock;
use shared::domain::{AuditAction, AuditOutcome};

const PATH: &str = "/auth/phone/signup";
const NUMBER: &str = "+919876543210";
const LOCAL_NUMBER: &str = "9876543210";

fn full_request() -> Value {
    json!({
        "name": "Asha Menon",
        "phone_number": NUMBER,
        "state": "Kerala",
        "district": "Ernakulam",
        "city_village": "Kochi",
        "device_id": "pixel-8-f00d42",
        "device_info": {
            "platform": "android", "model": "Pixel 8", "os_version": "14",
            "app_version": "2.3.1", "language_code": "ml", "timezone": "Asia/Kolkata"
        }
    })
}

async fn block(world: &World, network: &str) {
    let block = IpBlock::new(
        network,
        "abuse",
        Some("ops"),
        time::OffsetDateTime::now_utc(),
    )
    .expect("valid block");
    world
        .backend
        .stores
        .ip_blocks()
        .add(&block)
        .await
        .expect("add block");
}

async fn full_request_creates_everything(world: World) {
    let reply = world.call("POST", PATH, Some(&full_request()), None).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let body = &reply.body;
    assert_eq!(body["success"], true);
    assert!(body.get("data").is_none(), "top-level fields: {body}");
    let user = &body["user"];
    assert_eq!(user["phone_number"], NUMBER);
    assert_eq!(user["name"], "Asha Menon");
    assert_eq!(user["country_code"], "+91");
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["needs_profile"], false);
    assert_eq!(body["is_new_account"], true);
    assert_eq!(body["is_new_device"], true);
    assert_eq!(body["active_devices_count"], 1);
    let location_id = body["location_id"].as_str().expect("location id");

    // The location is stored under the id returned.
    let user_id = shared::domain::UserId::from_uuid(user["id"].as_str().unwrap().parse().unwrap());
    let location_id = shared::domain::LocationId::from_uuid(location_id.parse().unwrap());
    let location = world
        .backend
        .stores
        .phone_users()
        .location(user_id, location_id)
        .await
        .unwrap()
        .expect("location stored");
    assert_eq!(location.city_village.unwrap().as_str(), "Kochi");

    // The tokens are a session like a login's.
    let access = body["access_token"].as_str().unwrap();
    let me = world.me(access).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["user"]["phone_number"], NUMBER);
    assert_eq!(me.body["data"]["user"]["location_id"], body["location_id"]);
    let devices = world
        .call("GET", "/users/me/devices", None, Some(access))
        .await;
    assert_eq!(devices.status, 200, "{}", devices.body);
    assert!(devices.body.to_string().contains("pixel-8-f00d42"));
    let refreshed = world.refresh(body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);

    // What only username accounts have is refused, not half-done.
    let change = world
        .call(
            "POST",
            "/auth/password/change",
            Some(&json!({"current_password": "x", "new_password": "Tr1cky-Vole-Lantern-2", "confirm_password": "Tr1cky-Vole-Lantern-2"})),
            Some(access),
        )
        .await;
    assert_eq!(change.status, 403, "{}", change.body);
    assert_eq!(codes(&change.body, "non_field_errors"), ["forbidden"]);
}

async fn name_and_phone_only(world: World) {
    let reply = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "Ravi", "phone_number": NUMBER})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["location_id"], Value::Null);
    assert_eq!(reply.body["needs_profile"], true);
    assert_eq!(reply.body["is_new_device"], false);
    assert_eq!(reply.body["active_devices_count"], 0);

    // A partial location is stored, but the profile still needs the rest.
    let reply = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "Mira", "phone_number": "+919812345678", "state": "Goa"})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.body["location_id"].is_string());
    assert_eq!(reply.body["needs_profile"], true);
}

async fn ten_digits_become_plus_91(world: World) {
    let reply = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "Ravi", "phone_number": LOCAL_NUMBER})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["user"]["phone_number"], NUMBER);
    assert_eq!(reply.body["user"]["country_code"], "+91");
    // Another country, written with its code.
    let reply = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "Sam", "phone_number": "+1 415 555 2671"})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["user"]["phone_number"], "+14155552671");
    assert_eq!(reply.body["user"]["country_code"], "+1");
}

async fn missing_and_invalid_fields(world: World) {
    let reply = world
        .call("POST", PATH, Some(&json!({"phone_number": NUMBER})), None)
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.body["message"], "Validation failed");
    assert_eq!(
        reply.body["errors"]["name"],
        json!([{"message": "name is required", "code": "required"}])
    );
    assert!(reply.body["request_id"].is_string());

    for bad in [
        "98765",
        "98765abcde",
        "+999 98765 43210",
        "+91 12345 6789",
        "+9198765432101234",
    ] {
        let reply = world
            .call(
                "POST",
                PATH,
                Some(&json!({"name": "A", "phone_number": bad})),
                None,
            )
            .await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert_eq!(codes(&reply.body, "phone_number"), ["invalid"], "{bad}");
    }
    let reply = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": 5, "phone_number": 9876543210u64, "district": "x".repeat(101)})),
            None,
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(codes(&reply.body, "name"), ["invalid"]);
    assert_eq!(codes(&reply.body, "phone_number"), ["invalid"]);
    assert_eq!(codes(&reply.body, "district"), ["too_long"]);
    // Nothing was created by any of them.
    let reply = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "A", "phone_number": NUMBER})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

async fn one_number_one_account(world: World) {
    let first = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "A", "phone_number": NUMBER})),
            None,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    for spelling in [NUMBER, LOCAL_NUMBER, "+91 98765-43210", "(987) 654-3210"] {
        let reply = world
            .call(
                "POST",
                PATH,
                Some(&json!({"name": "B", "phone_number": spelling})),
                None,
            )
            .await;
        assert_eq!(reply.status, 409, "{spelling}: {}", reply.body);
        assert_eq!(reply.body["success"], false);
        assert_eq!(reply.body["user_exists"], true);
        assert_eq!(
            reply.body["message"],
            "User with this phone number already exists. Please sign in instead."
        );
        assert_eq!(codes(&reply.body, "phone_number"), ["phone_conflict"]);
        assert!(reply.body["request_id"].is_string());
    }
}

async fn blocked_addresses_get_403(world: World) {
    block(&world, "203.0.113.7").await;
    block(&world, "2001:db8:dead::/48").await;
    block(&world, "192.0.2.0/24").await;
    for ip in [
        "203.0.113.7",
        "2001:db8:dead:beef::1",
        "192.0.2.200",
        "::ffff:192.0.2.9",
    ] {
        let reply = world
            .call_from(ip, "POST", PATH, Some(&full_request()), None)
            .await;
        assert_eq!(reply.status, 403, "{ip}: {}", reply.body);
        assert_eq!(reply.body["message"], "Access denied from this location.");
        assert_eq!(codes(&reply.body, "non_field_errors"), ["ip_blocked"]);
        assert!(reply.body["request_id"].is_string());
    }
    // Neighbours are not blocked, and the blocked attempts wrote nothing.
    let reply = world
        .call_from("203.0.113.8", "POST", PATH, Some(&full_request()), None)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let reply = world
        .call_from(
            "2001:db8:beef::1",
            "POST",
            PATH,
            Some(&json!({"name": "B", "phone_number": "+919812345678"})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// The address comes from API Gateway's request context: a client's
/// `X-Forwarded-For` neither blocks nor unblocks.
async fn forwarded_headers_are_ignored(world: World) {
    block(&world, "192.0.2.0/24").await;
    let mut request = integration_tests::requests::request_from(
        "198.51.100.20",
        "POST",
        PATH,
        Some("application/json"),
        lambda_http::Body::from(json!({"name": "A", "phone_number": NUMBER}).to_string()),
    );
    request
        .headers_mut()
        .insert("x-forwarded-for", "192.0.2.1".parse().unwrap());
    let (status, body) = integration_tests::requests::read(&world.app.dispatch(request).await);
    assert_eq!(status, 201, "{body}");
    let mut request = integration_tests::requests::request_from(
        "192.0.2.1",
        "POST",
        PATH,
        Some("application/json"),
        lambda_http::Body::from(json!({"name": "A", "phone_number": "+919812345678"}).to_string()),
    );
    request
        .headers_mut()
        .insert("x-forwarded-for", "198.51.100.20".parse().unwrap());
    let (status, _) = integration_tests::requests::read(&world.app.dispatch(request).await);
    assert_eq!(status, 403);
}

/// Twenty sign-ups of one number at once, in several spellings and from
/// several addresses: exactly one account.
async fn concurrent_sign_ups_make_one_account(world: World) {
    let spellings = [NUMBER, LOCAL_NUMBER, "+91 98765 43210", "098765 43210"];
    let calls = (0..20).map(|i| {
        let body = json!({"name": format!("User {i}"), "phone_number": spellings[i % 3], "device_id": format!("dev-{i}")});
        let world = &world;
        async move {
            world
                .call_from(&format!("198.51.100.{}", 100 + i), "POST", PATH, Some(&body), None)
                .await
        }
    });
    let replies = join_all(calls).await;
    let created: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        created.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(conflicts, 19);
    let winner = created[0].body["user"]["id"].as_str().unwrap();
    let phone = shared::domain::PhoneNumber::parse(NUMBER, Default::default()).unwrap();
    let owner = world
        .backend
        .stores
        .phone_users()
        .find_by_phone(&phone)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(owner.to_string(), winner);
    if let Some(store) = &world.backend.dynamo {
        let items = scan_all(store).await;
        let count = |prefix: &str| {
            items
                .iter()
                .filter(|item| item["PK"].as_s().unwrap().starts_with(prefix))
                .count()
        };
        assert_eq!(count("PHONE#"), 1);
        // One account: its profile, session and device; the losers left
        // nothing behind.
        let profiles = items
            .iter()
            .filter(|item| item["SK"].as_s().unwrap() == "PROFILE")
            .count();
        assert_eq!(profiles, 1);
        assert_eq!(count("REFRESH#"), 1);
        // No global record of device ids (issue #17 item 12).
        assert_eq!(count("DEVICEID#"), 0);
    }
}

/// `is_new_device` is about this account (issue #17 item 12): a device
/// another account used is still new to a new account, so the answer
/// tells nothing about other accounts.
async fn devices_are_new_to_each_account(world: World) {
    let first = world.call("POST", PATH, Some(&full_request()), None).await;
    assert_eq!(first.body["is_new_device"], true);
    let mut again = full_request();
    again["phone_number"] = json!("+919812345678");
    let second = world.call("POST", PATH, Some(&again), None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.body["is_new_device"], true);
    assert_eq!(second.body["active_devices_count"], 1);
    // A device another account logged in with is new here too.
    world.sign_up("alice", "alice@example.com").await;
    let login = world
        .log_in_with(json!({"login": "alice", "password": integration_tests::world::PASSWORD, "device_id": "tablet-77"}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let mut third = full_request();
    third["phone_number"] = json!("+919811111111");
    third["device_id"] = json!("tablet-77");
    let third = world.call("POST", PATH, Some(&third), None).await;
    assert_eq!(third.status, 201, "{}", third.body);
    assert_eq!(third.body["is_new_device"], true);
}

/// Every attempt is audited with outcome, address and device, never the
/// number.
async fn every_attempt_is_audited(world: World) {
    let first_day = shared::ports::Clock::now(world.clock.as_ref()).date();
    block(&world, "192.0.2.0/24").await;
    world.clock.advance(time::Duration::seconds(1));
    world.call("POST", PATH, Some(&full_request()), None).await;
    world.clock.advance(time::Duration::seconds(1));
    world.call("POST", PATH, Some(&full_request()), None).await;
    world.clock.advance(time::Duration::seconds(1));
    world
        .call(
            "POST",
            PATH,
            Some(&json!({"phone_number": "12", "device_id": "d-1"})),
            None,
        )
        .await;
    world.clock.advance(time::Duration::seconds(1));
    world
        .call_from("192.0.2.5", "POST", PATH, Some(&full_request()), None)
        .await;
    world.clock.advance(time::Duration::seconds(1));
    // The clock moved a few seconds: the records may span midnight.
    let last_day = shared::ports::Clock::now(world.clock.as_ref()).date();
    let mut all = world
        .backend
        .stores
        .audit()
        .list_day(first_day)
        .await
        .unwrap();
    if last_day != first_day {
        all.extend(
            world
                .backend
                .stores
                .audit()
                .list_day(last_day)
                .await
                .unwrap(),
        );
    }
    let records: Vec<_> = all
        .into_iter()
        .filter(|r| r.action == AuditAction::PhoneSignUp)
        .collect();
    let summary: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.outcome,
                r.reasons.clone(),
                r.device_id.clone(),
                r.source_ip.clone(),
            )
        })
        .collect();
    let device = Some("pixel-8-f00d42".to_owned());
    assert_eq!(
        summary,
        [
            (
                AuditOutcome::Success,
                vec![],
                device.clone(),
                Some("198.51.100.7".into())
            ),
            (
                AuditOutcome::Rejected,
                vec!["phone_number:phone_conflict".into()],
                device.clone(),
                Some("198.51.100.7".into())
            ),
            (
                AuditOutcome::Rejected,
                vec!["name:required".into(), "phone_number:invalid".into()],
                Some("d-1".into()),
                Some("198.51.100.7".into())
            ),
            (
                AuditOutcome::Rejected,
                vec!["non_field_errors:ip_blocked".into()],
                device,
                Some("192.0.2.5".into())
            ),
        ]
    );
    assert!(records[0].user_id.is_some());
    let text = format!("{records:?}");
    assert!(!text.contains("9876543210"), "{text}");
}

/// Issue #17 item 7: the sign-up quota is charged before the number is
/// looked up, so a taken number is revealed only within the quota: an
/// address that used it up gets 429, not 409.
async fn a_taken_number_is_revealed_only_within_the_quota(world: World) {
    let limit = integration_tests::default_config()
        .signup_ip_quota
        .expect("a default sign-up quota")
        .max;
    let created = world
        .call_from("198.51.100.1", "POST", PATH, Some(&full_request()), None)
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let probe = json!({"name": "Probe", "phone_number": NUMBER});
    for i in 0..limit {
        let reply = world
            .call_from("203.0.113.77", "POST", PATH, Some(&probe), None)
            .await;
        assert_eq!(
            (reply.status, codes(&reply.body, "phone_number")),
            (409, vec!["phone_conflict".to_owned()]),
            "probe {i}: {}",
            reply.body
        );
    }
    let refused = world
        .call_from("203.0.113.77", "POST", PATH, Some(&probe), None)
        .await;
    assert_eq!(
        (refused.status, codes(&refused.body, "non_field_errors")),
        (429, vec!["rate_limited".to_owned()]),
        "{}",
        refused.body
    );
    assert!(refused.headers.contains_key("retry-after"));
    assert!(
        refused.body.get("user_exists").is_none(),
        "{}",
        refused.body
    );
}

/// The quota refuses the whole account: nothing of it is left behind.
async fn a_refused_creation_leaves_nothing(world: World) {
    let mut config = integration_tests::default_config();
    config.signup_ip_quota = Some(shared::domain::Quota {
        max: 1,
        window: time::Duration::hours(1),
    });
    let resources = shared::serve::Resources::new(&config, &world.backend.stores)
        .with_signing_keys(world.app.resources.signing_keys().expect("keys"));
    let state = <phone_signup::State as shared::serve::Endpoint>::build(&resources).expect("state");
    let send = |number: &str| {
        let body =
            json!({"name": "A", "phone_number": number, "state": "Goa", "device_id": "dev-q"});
        integration_tests::requests::json_request("POST", PATH, &body)
    };
    let (status, _) =
        integration_tests::requests::read(&phone_signup::handle(&state, send(NUMBER)).await);
    assert_eq!(status, 201);
    let response = phone_signup::handle(&state, send("+919812345678")).await;
    let (status, body) = integration_tests::requests::read(&response);
    assert_eq!(status, 429, "{body}");
    assert!(response.headers().contains_key("retry-after"));
    let phone = shared::domain::PhoneNumber::parse("+919812345678", Default::default()).unwrap();
    assert!(world
        .backend
        .stores
        .phone_users()
        .find_by_phone(&phone)
        .await
        .unwrap()
        .is_none());
    if let Some(store) = &world.backend.dynamo {
        let items = scan_all(store).await;
        let profiles = items
            .iter()
            .filter(|i| i["SK"].as_s().unwrap() == "PROFILE")
            .count();
        let locations = items
            .iter()
            .filter(|i| i["SK"].as_s().unwrap().starts_with("LOCATION#"))
            .count();
        assert_eq!((profiles, locations), (1, 1));
    }
}

/// A phone account completes its profile with `PATCH /users/me`: name and
/// location, `needs_profile` recomputed, nothing else touched.
async fn phone_accounts_complete_their_profile(world: World) {
    let reply = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "Ravi", "phone_number": NUMBER, "state": "Goa"})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["needs_profile"], true);
    let access = reply.body["access_token"].as_str().unwrap().to_owned();
    let location_id = reply.body["location_id"].clone();

    let bad = world
        .call(
            "PATCH",
            "/users/me",
            Some(&json!({"name": "", "district": 7, "city_village": "x".repeat(151)})),
            Some(&access),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(codes(&bad.body, "name"), ["required"]);
    assert_eq!(codes(&bad.body, "district"), ["invalid"]);
    assert_eq!(codes(&bad.body, "city_village"), ["too_long"]);

    let done = world
        .call(
            "PATCH",
            "/users/me",
            Some(&json!({"name": "Ravi Kumar", "district": "North Goa", "city_village": "Panaji"})),
            Some(&access),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let user = &done.body["data"]["user"];
    assert_eq!(user["name"], "Ravi Kumar");
    assert_eq!(user["needs_profile"], false);
    assert_eq!(user["phone_number"], NUMBER);
    assert_eq!(
        user["location_id"], location_id,
        "the location is kept, not replaced"
    );
    assert_eq!(done.body["data"]["location"]["state"], "Goa");
    assert_eq!(done.body["data"]["location"]["city_village"], "Panaji");
    let me = world.me(&access).await;
    assert_eq!(me.body["data"]["user"]["needs_profile"], false);
    assert_eq!(me.body["data"]["user"]["name"], "Ravi Kumar");

    // Clearing a part makes the profile incomplete again.
    let cleared = world
        .call(
            "PATCH",
            "/users/me",
            Some(&json!({"district": null})),
            Some(&access),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["data"]["user"]["needs_profile"], true);
    assert_eq!(cleared.body["data"]["location"]["district"], Value::Null);

    // An account without a location gets one.
    let second = world
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "Mira", "phone_number": "+919812345678"})),
            None,
        )
        .await;
    let access = second.body["access_token"].as_str().unwrap();
    let located = world
        .call(
            "PATCH",
            "/users/me",
            Some(&json!({"state": "Kerala", "district": "Idukki", "city_village": "Munnar"})),
            Some(access),
        )
        .await;
    assert_eq!(located.status, 200, "{}", located.body);
    assert!(located.body["data"]["user"]["location_id"].is_string());
    assert_eq!(located.body["data"]["user"]["needs_profile"], false);
}

on_both_backends!(
    a_taken_number_is_revealed_only_within_the_quota,
    full_request_creates_everything,
    name_and_phone_only,
    ten_digits_become_plus_91,
    missing_and_invalid_fields,
    one_number_one_account,
    blocked_addresses_get_403,
    forwarded_headers_are_ignored,
    concurrent_sign_ups_make_one_account,
    devices_are_new_to_each_account,
    every_attempt_is_audited,
    a_refused_creation_leaves_nothing,
    phone_accounts_complete_their_profile,
);

/// The raw table holds phone and contact numbers only as ciphertext: no
/// item, attribute or key spells a number, in any of its forms.
#[tokio::test]
async fn the_table_never_holds_a_plain_number() {
    let world = World::new(integration_tests::Backend::dynamo().await);
    let reply = world.call("POST", PATH, Some(&full_request()), None).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    world.sign_up("alice", "alice@example.com").await;
    let items = scan_all(world.backend.dynamo.as_ref().unwrap()).await;
    let dump = format!("{items:?}");
    for digits in ["9876543210", "9876543211", "9876543212", "98765"] {
        assert!(!dump.contains(digits), "{digits} in the table");
    }
    let phone_user = items
        .iter()
        .find(|item| {
            item.get("entity")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("phone_user")
        })
        .expect("phone user item");
    let sealed = phone_user["phone"].as_m().expect("encrypted phone");
    assert!(sealed.contains_key("kid") && sealed.contains_key("ciphertext"));
    assert!(items
        .iter()
        .any(|item| item["PK"].as_s().unwrap().starts_with("PHONE#")));
    // And yet both accounts read back whole.
    let me = world.me(reply.body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.body["data"]["user"]["phone_number"], NUMBER);
    let tokens = world
        .log_in("alice", integration_tests::world::PASSWORD)
        .await;
    let me = world.me(&tokens.access).await;
    assert_eq!(me.body["data"]["user"]["mobileNo"], "+919876543210");
}

/// No phone number (in any spelling the client sent) reaches a log line.
#[tokio::test]
async fn logs_never_show_a_number() {
    let logs = capture();
    for backend in integration_tests::Backend::both().await {
        let world = World::new(backend);
        block(&world, "192.0.2.0/24").await;
        let numbers = ["+919811122233", "9811122244"];
        world
            .call(
                "POST",
                PATH,
                Some(&json!({"name": "A", "phone_number": numbers[0], "device_id": "d1"})),
                None,
            )
            .await;
        world
            .call(
                "POST",
                PATH,
                Some(&json!({"name": "A", "phone_number": numbers[0]})),
                None,
            )
            .await;
        world
            .call(
                "POST",
                PATH,
                Some(&json!({"phone_number": numbers[1]})),
                None,
            )
            .await;
        world
            .call(
                "POST",
                PATH,
                Some(&json!({"name": "A", "phone_number": "98111222"})),
                None,
            )
            .await;
        world
            .call_from(
                "192.0.2.1",
                "POST",
                PATH,
                Some(&json!({"name": "A", "phone_number": numbers[1]})),
                None,
            )
            .await;
        let text = logs.text();
        assert!(text.contains("phone user signed up"), "capture works");
        for digits in ["9811122233", "9811122244", "98111222"] {
            assert!(!text.contains(digits), "{digits} in the logs");
        }
    }
}

mod store {
    use integration_tests::contract_on_both_backends;
    use integration_tests::Backend;
    use shared::domain::{
        AuditAction, AuditOutcome, PhoneNumber, PhoneUser, ProfileText, UserId, UserStatus,
    };
    use shared::ports::phone_users::{CreatePhoneUserError, NewPhoneAccount};
    use shared::usecases::session_tokens::NewSessionParts;
    use shared::usecases::Origin;
    use time::OffsetDateTime;

    fn account(number: &str) -> NewPhoneAccount {
        let now = OffsetDateTime::now_utc();
        let id = UserId::new_random();
        let parts =
            NewSessionParts::begin(id, None, None, Default::default(), now).expect("session");
        let origin = Origin {
            request_id: "contract".into(),
            client_request_id: None,
            source_ip: None,
        };
        NewPhoneAccount {
            user: PhoneUser {
                id,
                phone: PhoneNumber::parse(number, Default::default()).expect("number"),
                name: ProfileText::parse("Asha", 100).expect("name"),
                status: UserStatus::Active,
                location_id: None,
                needs_profile: true,
                created_at: now,
                updated_at: now,
                last_login: None,
            },
            location: None,
            device: None,
            session: parts.session,
            refresh: parts.record,
            audit: origin.audit(AuditAction::PhoneSignUp, AuditOutcome::Success, now),
            events: Vec::new(),
            quota: None,
            credits: None,
        }
    }

    /// The claim decides, not the lookup before it: a second account with
    /// the number is refused whole, and the first one reads back intact.
    async fn a_taken_number_is_refused_whole(backend: &Backend) {
        let store = backend.stores.phone_users();
        let first = account("+919876543210");
        store.create_phone_user(&first).await.expect("first");
        let second = account("9876543210");
        assert!(matches!(
            store.create_phone_user(&second).await,
            Err(CreatePhoneUserError::PhoneTaken)
        ));
        assert!(store
            .get_phone_user(second.user.id)
            .await
            .unwrap()
            .is_none());
        let (account, session) = backend
            .stores
            .sessions()
            .user_and_session(second.user.id, second.session.id)
            .await
            .unwrap();
        assert!(account.is_none() && session.is_none());
        let read = store
            .get_phone_user(first.user.id)
            .await
            .unwrap()
            .expect("first");
        assert_eq!(read, first.user);
        assert_eq!(
            store.find_by_phone(&first.user.phone).await.unwrap(),
            Some(first.user.id)
        );
        // A phone account is not a username account.
        assert!(backend
            .stores
            .users()
            .get(first.user.id)
            .await
            .unwrap()
            .is_none());
    }

    contract_on_both_backends!(a_taken_number_is_refused_whole);
}

/// Phone keys from Secrets Manager (moto): a rotation adds a key that new
/// writes use at once, and an instance still holding the old set reads
/// those values by loading the secret again.
#[tokio::test]
async fn phone_keys_rotate_without_losing_data() {
    use integration_tests::moto::{create_secret, put_secret, secrets_client};
    use shared::adapters::secretsmanager::SecretsManagerSource;
    use shared::app::Stores;
    use shared::crypto::phone_crypto::{PhoneKeyRing, PhoneKeys};
    use shared::session_tokens::ExposeSecret;
    use std::sync::Arc;

    let client = secrets_client();
    let keys = PhoneKeys::generate(time::OffsetDateTime::now_utc());
    let secret = create_secret(&client, "phone", keys.to_secret_json().expose_secret()).await;
    let table = integration_tests::dynamodb::fresh_table().await;
    // Two instances of the service: one signing key ring, phone keys each.
    let signing = Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
    ));
    let instance = |table: &shared::adapters::dynamo::DynamoStore| {
        let source = Arc::new(SecretsManagerSource::new(client.clone()));
        let ring = Arc::new(PhoneKeyRing::from_secret(source, secret.clone()));
        World::with_ring(
            integration_tests::Backend {
                name: "dynamodb",
                stores: Stores::dynamo(table.clone().with_phone_keys(ring)),
                dynamo: Some(table.clone()),
            },
            signing.clone(),
        )
    };
    let old = instance(&table);
    let before = old
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "A", "phone_number": NUMBER})),
            None,
        )
        .await;
    assert_eq!(before.status, 201, "{}", before.body);

    let rotated = keys.rotate(time::OffsetDateTime::now_utc() + time::Duration::minutes(1));
    put_secret(&client, &secret, rotated.to_secret_json().expose_secret()).await;
    let new = instance(&table);
    let after = new
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "B", "phone_number": "+919812345678"})),
            None,
        )
        .await;
    assert_eq!(after.status, 201, "{}", after.body);
    let items = scan_all(&table).await;
    let kids: std::collections::BTreeSet<String> = items
        .iter()
        .filter_map(|item| item.get("phone").and_then(|p| p.as_m().ok()))
        .map(|phone| phone["kid"].as_s().unwrap().clone())
        .collect();
    assert_eq!(kids.len(), 2, "one value under each key: {kids:?}");

    // The old instance meets the new kid and reads the secret again; the
    // new instance reads values under the old key.
    let me = old.me(after.body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["user"]["phone_number"], "+919812345678");
    let me = new.me(before.body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.body["data"]["user"]["phone_number"], NUMBER);
    // Uniqueness holds across the rotation: the lookup key did not change.
    let again = new
        .call(
            "POST",
            PATH,
            Some(&json!({"name": "C", "phone_number": LOCAL_NUMBER})),
            None,
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
}
