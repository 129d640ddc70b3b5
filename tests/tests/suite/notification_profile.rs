//! The signed-in user's notification profile on both stores: preferences, push tokens
//! (pagination, ownership, moving between accounts, devices), export.

use integration_tests::world::{Tokens, World, PASSWORD};
use integration_tests::Backend;
use serde_json::{json, Value};

async fn member(world: &World, name: &str) -> Tokens {
    world.sign_up(name, &format!("{name}@example.com")).await;
    world.log_in(name, PASSWORD).await
}

async fn register(world: &World, tokens: &Tokens, body: Value) -> integration_tests::world::Reply {
    world
        .call(
            "POST",
            "/users/me/push-tokens",
            Some(&body),
            Some(&tokens.access),
        )
        .await
}

async fn preferences_have_defaults_and_validated_updates(backend: &Backend) {
    let world = World::new(backend.clone());
    let tokens = member(&world, "pia").await;
    let reply = world
        .call("GET", "/users/me/preferences", None, Some(&tokens.access))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let defaults = reply.body["data"].clone();
    assert_eq!(
        defaults["security"],
        json!({"email": true, "push": true, "sms": false})
    );
    assert_eq!(
        defaults["marketing"],
        json!({"email": false, "push": false, "sms": false})
    );

    let change = json!({"marketing": {"email": true}, "account": {"push": false}});
    let reply = world
        .call(
            "PUT",
            "/users/me/preferences/",
            Some(&change),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["marketing"]["email"], true);
    assert_eq!(reply.body["data"]["account"]["push"], false);
    assert_eq!(reply.body["data"]["account"]["email"], true);
    let reply = world
        .call("GET", "/users/me/preferences", None, Some(&tokens.access))
        .await;
    assert_eq!(reply.body["data"]["marketing"]["email"], true);

    for (body, field) in [
        (json!({"promotions": {"email": true}}), "promotions"),
        (json!({"account": {"fax": true}}), "account.fax"),
        (json!({"account": {"email": "yes"}}), "account.email"),
        (json!({"security": {"email": false}}), "security.email"),
        (json!({"reminders": []}), "reminders"),
    ] {
        let reply = world
            .call(
                "PUT",
                "/users/me/preferences",
                Some(&body),
                Some(&tokens.access),
            )
            .await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["errors"][field][0]["code"], "invalid", "{body}");
    }
    // Nothing was half-applied.
    let reply = world
        .call("GET", "/users/me/preferences", None, Some(&tokens.access))
        .await;
    assert_eq!(reply.body["data"]["security"]["email"], true);
    assert_eq!(
        world
            .call("GET", "/users/me/preferences", None, None)
            .await
            .status,
        401
    );
}

/// An account that turned account emails off gets none; security
/// notices still go.
async fn notification_worker_respects_preferences(backend: &Backend) {
    let world = World::new(backend.clone());
    let tokens = member(&world, "quinn").await;
    world.app.settle().await;
    let before = world.app.mailbox.messages().len();
    let off = json!({"account": {"email": false}});
    world
        .call(
            "PUT",
            "/users/me/preferences",
            Some(&off),
            Some(&tokens.access),
        )
        .await;
    let user = world.me(&tokens.access).await.body["data"]["user"]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = shared::domain::UserId::from_uuid(user.parse().unwrap());
    let now = time::OffsetDateTime::now_utc();
    let events = [
        shared::domain::NotificationEvent::new(
            shared::domain::EventType::UserRegistered,
            user,
            now,
            json!({"username": "quinn", "email": "quinn@example.com"}),
        ),
        shared::domain::NotificationEvent::new(
            shared::domain::EventType::PasswordChanged,
            user,
            now,
            json!({"email": "quinn@example.com"}),
        ),
    ];
    let bodies: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    world.app.queues.notifications.send(&bodies).await.unwrap();
    world.app.settle().await;
    let sent: Vec<String> = world.app.mailbox.messages()[before..]
        .iter()
        .map(|m| m.event_type.clone())
        .collect();
    assert_eq!(sent, vec!["password.changed".to_owned()]);
}

async fn push_tokens_page_by_page(backend: &Backend) {
    let world = World::new(backend.clone());
    let tokens = member(&world, "paige").await;
    for i in 0..45 {
        let reply = register(
            &world,
            &tokens,
            json!({"platform": "fcm", "token": format!("tok-{i:02}")}),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        world.clock.advance(time::Duration::seconds(1));
    }
    let page = |query: &'static str| {
        let world = &world;
        let access = tokens.access.clone();
        async move {
            world
                .call(
                    "GET",
                    &format!("/users/me/push-tokens{query}"),
                    None,
                    Some(&access),
                )
                .await
        }
    };
    let first = page("").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["data"]["items"].as_array().unwrap().len(), 20);
    assert_eq!(
        first.body["meta"],
        json!({"total": 45, "limit": 20, "page": 1, "total_pages": 3, "has_next": true, "has_previous": false})
    );
    assert_eq!(first.body["data"]["items"][0]["token"], "tok-00");
    let middle = page("?page=2&limit=20").await;
    assert_eq!(middle.body["data"]["items"][0]["token"], "tok-20");
    assert_eq!(
        (
            middle.body["meta"]["has_next"].clone(),
            middle.body["meta"]["has_previous"].clone()
        ),
        (json!(true), json!(true))
    );
    let last = page("?page=3").await;
    assert_eq!(last.body["data"]["items"].as_array().unwrap().len(), 5);
    assert_eq!(last.body["meta"]["has_next"], false);
    let all = page("?limit=100").await;
    assert_eq!(all.body["data"]["items"].as_array().unwrap().len(), 45);
    let beyond = page("?page=9").await;
    assert_eq!(beyond.status, 200);
    assert!(beyond.body["data"]["items"].as_array().unwrap().is_empty());
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=ten", "limit"),
        ("?page=0", "page"),
        ("?page=-1", "page"),
    ] {
        let reply = page(query).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.body["errors"][field][0]["code"], "invalid", "{query}");
    }
}

async fn push_tokens_belong_to_their_owner_and_move_with_the_device(backend: &Backend) {
    let world = World::new(backend.clone());
    let alice = member(&world, "alma").await;
    let bob = member(&world, "boris").await;
    let created = register(
        &world,
        &alice,
        json!({"platform": "apns", "token": "a1b2c3", "device_id": "iphone-7"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let token = &created.body["data"];
    assert_eq!(
        (
            token["platform"].clone(),
            token["active"].clone(),
            token["device_id"].clone()
        ),
        (json!("apns"), json!(true), json!("iphone-7"))
    );
    let id = token["id"].as_str().unwrap().to_owned();
    let path = format!("/users/me/push-tokens/{id}");
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"active": false}))),
        ("DELETE", None),
    ] {
        let reply = world
            .call(method, &path, body.as_ref(), Some(&bob.access))
            .await;
        assert_eq!(reply.status, 404, "{method}: {}", reply.body);
    }
    let reply = world
        .call(
            "PUT",
            &path,
            Some(&json!({"active": false, "device_id": null})),
            Some(&alice.access),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        (
            reply.body["data"]["active"].clone(),
            reply.body["data"]["device_id"].clone()
        ),
        (json!(false), Value::Null)
    );
    let reply = world
        .call(
            "PUT",
            &path,
            Some(&json!({"owner": "x"})),
            Some(&alice.access),
        )
        .await;
    assert_eq!(reply.status, 400);
    // The device changes hands: the token moves to the new account.
    let moved = register(&world, &bob, json!({"platform": "apns", "token": "a1b2c3"})).await;
    assert_eq!(moved.status, 201, "{}", moved.body);
    let list = |tokens: &Tokens| {
        let world = &world;
        let access = tokens.access.clone();
        async move {
            world
                .call("GET", "/users/me/push-tokens", None, Some(&access))
                .await
                .body["meta"]["total"]
                .clone()
        }
    };
    assert_eq!(list(&alice).await, 0);
    assert_eq!(list(&bob).await, 1);
    assert_eq!(
        world
            .call("GET", &path, None, Some(&alice.access))
            .await
            .status,
        404
    );
    // Registering again keeps the token's id.
    let again = register(&world, &bob, json!({"platform": "apns", "token": "a1b2c3"})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["data"]["id"], moved.body["data"]["id"]);
    let reply = world
        .call(
            "POST",
            "/users/me/push-tokens/deactivate-all",
            Some(&json!({})),
            Some(&bob.access),
        )
        .await;
    assert_eq!(reply.body["data"]["deactivated"], 1);
    for (body, field, code) in [
        (json!({"token": "x"}), "platform", "required"),
        (
            json!({"platform": "sms", "token": "x"}),
            "platform",
            "invalid",
        ),
        (json!({"platform": "web"}), "token", "required"),
        (
            json!({"platform": "web", "token": "has space"}),
            "token",
            "invalid",
        ),
    ] {
        let reply = register(&world, &bob, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.body["errors"][field][0]["code"], code, "{body}");
    }
}

/// Ending a device (its entry, or its session by logout) drops its push
/// tokens with its sessions.
async fn ending_a_device_drops_its_push_tokens(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("dora", "dora@example.com").await;
    let login = |device: &str| json!({"login": "dora", "password": PASSWORD, "device_id": device});
    let phone = integration_tests::world::tokens(&world.log_in_with(login("phone")).await.body);
    let tablet = integration_tests::world::tokens(&world.log_in_with(login("tablet")).await.body);
    for (device, tokens) in [("phone", &phone), ("tablet", &tablet)] {
        let reply = register(
            &world,
            tokens,
            json!({"platform": "fcm", "token": format!("{device}-token"), "device_id": device}),
        )
        .await;
        assert_eq!(reply.status, 201);
    }
    register(
        &world,
        &phone,
        json!({"platform": "web", "token": "browser-token"}),
    )
    .await;
    let devices = world
        .call("GET", "/users/me/devices", None, Some(&phone.access))
        .await;
    let tablet_entry = devices.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == "tablet")
        .cloned()
        .expect("tablet listed");
    assert_eq!(tablet_entry["push_tokens"][0]["platform"], "fcm");
    assert_eq!(tablet_entry["sessions"].as_array().unwrap().len(), 1);
    // Another account cannot end this device.
    world.sign_up("eve", "eve@example.com").await;
    let eve = world.log_in("eve", PASSWORD).await;
    let reply = world
        .call(
            "DELETE",
            "/users/me/devices/tablet",
            None,
            Some(&eve.access),
        )
        .await;
    assert_eq!(reply.status, 404);
    let reply = world
        .call(
            "DELETE",
            "/users/me/devices/tablet",
            None,
            Some(&phone.access),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(world.me(&tablet.access).await.status, 401);
    let listed = world
        .call("GET", "/users/me/push-tokens", None, Some(&phone.access))
        .await;
    let mut remaining: Vec<&str> = listed.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    remaining.sort();
    assert_eq!(remaining, vec!["browser-token", "phone-token"]);
    let reply = world
        .call(
            "POST",
            "/auth/logout",
            Some(&json!({})),
            Some(&phone.access),
        )
        .await;
    assert_eq!(reply.status, 200);
    let fresh = world.log_in("dora", PASSWORD).await;
    let listed = world
        .call("GET", "/users/me/push-tokens", None, Some(&fresh.access))
        .await;
    let remaining: Vec<&str> = listed.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(remaining, vec!["browser-token"]);
}

async fn unused_push_tokens_are_pruned_once(backend: &Backend) {
    let world = World::new(backend.clone());
    let tokens = member(&world, "pruney").await;
    register(
        &world,
        &tokens,
        json!({"platform": "fcm", "token": "old-token"}),
    )
    .await;
    world.clock.advance(time::Duration::days(60));
    let later = world.log_in("pruney", PASSWORD).await;
    let reply = register(
        &world,
        &later,
        json!({"platform": "fcm", "token": "fresh-token"}),
    )
    .await;
    assert_eq!(reply.status, 201);
    world.clock.advance(time::Duration::days(31));
    let stores = &world.backend.stores;
    let queue =
        shared::adapters::memory::queue::MemoryQueue::new(std::time::Duration::from_secs(30));
    // Unverified accounts stay: only the tokens are at stake here.
    let policy = shared::usecases::cleanup::CleanupPolicy {
        unverified_max_age: time::Duration::days(1000),
        ..Default::default()
    };
    let (one, two) = (
        integration_tests::cleanup(stores, &queue, policy),
        integration_tests::cleanup(stores, &queue, policy),
    );
    let (first, second) = tokio::join!(one.run(), two.run());
    assert_eq!(
        first.unwrap().push_tokens_pruned + second.unwrap().push_tokens_pruned,
        1
    );
    let fresh = world.log_in("pruney", PASSWORD).await;
    let listed = world
        .call("GET", "/users/me/push-tokens", None, Some(&fresh.access))
        .await;
    assert_eq!(listed.body["data"]["items"][0]["token"], "fresh-token");
    assert_eq!(listed.body["meta"]["total"], 1);
}

async fn export_gathers_the_account_data(backend: &Backend) {
    let world = World::new(backend.clone());
    let tokens = member(&world, "xena").await;
    register(
        &world,
        &tokens,
        json!({"platform": "web", "token": "xena-web"}),
    )
    .await;
    let reply = world
        .call(
            "POST",
            "/users/me/export",
            Some(&json!({})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let task = reply.body["data"]["task_id"].as_str().unwrap().to_owned();
    world.app.settle().await;
    let reply = world
        .call("GET", &format!("/tasks/{task}"), None, Some(&tokens.access))
        .await;
    assert_eq!(reply.body["data"]["status"], "SUCCESS", "{}", reply.body);
    let export = &reply.body["data"]["result"];
    assert_eq!(export["account"]["username"], "xena");
    assert_eq!(export["account"]["email"], "xena@example.com");
    assert_eq!(export["push_tokens"][0]["token"], "xena-web");
    assert_eq!(export["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(export["preferences"]["security"]["email"], true);
    let actions: Vec<&str> = export["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"sign_up") && actions.contains(&"login"),
        "{actions:?}"
    );
    let text = export.to_string();
    assert!(!text.contains("argon2") && !text.contains(PASSWORD));
    // Another user cannot read it.
    let other = member(&world, "yuri").await;
    assert_eq!(
        world
            .call("GET", &format!("/tasks/{task}"), None, Some(&other.access))
            .await
            .status,
        404
    );
}

integration_tests::contract_on_both_backends!(
    preferences_have_defaults_and_validated_updates,
    notification_worker_respects_preferences,
    push_tokens_page_by_page,
    push_tokens_belong_to_their_owner_and_move_with_the_device,
    ending_a_device_drops_its_push_tokens,
    unused_push_tokens_are_pruned_once,
    export_gathers_the_account_data,
);
