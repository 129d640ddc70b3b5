//! Export results (#17 item 10), on both stores: the result holds the
//! account's contact and phone numbers decrypted, so at rest it is sealed
//! (a raw scan of DynamoDB Local finds no plain number, and not the rest
//! of the document either), it is handed out by the first download only,
//! and not at all after a day.

use futures::future::join_all;
use integration_tests::requests::signup_body;
use integration_tests::world::{World, PASSWORD};
use integration_tests::Backend;
use serde_json::{json, Value};
use shared::ports::Clock;

const MOBILE: &str = "9811122201";
const PERSONAL: &str = "9811122202";
const PHONE: &str = "9811122203";
const PHONE_ACCOUNT: &str = "9811122209";

/// Every item of the table that holds `needle`, as text.
async fn items_holding(backend: &Backend, needle: &str) -> Vec<String> {
    let Some(store) = &backend.dynamo else {
        return Vec::new();
    };
    integration_tests::dynamodb::scan_all(store)
        .await
        .into_iter()
        .map(|item| format!("{item:?}"))
        .filter(|text| text.contains(needle))
        .collect()
}

/// The raw task item on DynamoDB Local.
async fn task_item(backend: &Backend, id: &str) -> Option<String> {
    let store = backend.dynamo.as_ref()?;
    integration_tests::dynamodb::scan_all(store)
        .await
        .into_iter()
        .find(|item| item["PK"].as_s().ok().map(String::as_str) == Some(&format!("TASK#{id}")))
        .map(|item| format!("{item:?}"))
}

async fn member_token(world: &World) -> String {
    let body = signup_body(
        "exporter",
        "exporter@example.com",
        json!({
            "mobileNo": format!("+91{MOBILE}"),
            "personalNo": format!("+91{PERSONAL}"),
            "phoneNo": format!("+91{PHONE}"),
        }),
    );
    let reply = world.call("POST", "/auth/signup/", Some(&body), None).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    world.log_in("exporter", PASSWORD).await.access
}

async fn phone_token(world: &World) -> String {
    let reply = world
        .call(
            "POST",
            "/auth/phone/signup",
            Some(&json!({"name": "Ravi", "phone_number": PHONE_ACCOUNT})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

async fn finished_export(world: &World, access: &str) -> String {
    let reply = world
        .call("POST", "/users/me/export", None, Some(access))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let id = reply.body["data"]["task_id"].as_str().unwrap().to_owned();
    world.app.settle().await;
    id
}

async fn download(world: &World, access: &str, id: &str) -> Value {
    let reply = world
        .call("GET", &format!("/tasks/{id}"), None, Some(access))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["status"], "SUCCESS", "{}", reply.body);
    reply.body["data"].clone()
}

async fn export_is_sealed_at_rest_and_downloaded_once(backend: &Backend) {
    let world = World::new(backend.clone());
    let member = member_token(&world).await;
    let phone = phone_token(&world).await;
    let member_export = finished_export(&world, &member).await;
    let phone_export = finished_export(&world, &phone).await;

    // At rest: no plain number anywhere in the table, and the task items
    // hold the result sealed, not even the username in clear.
    for number in [MOBILE, PERSONAL, PHONE, PHONE_ACCOUNT] {
        let found = items_holding(backend, number).await;
        assert!(found.is_empty(), "{number} rests in clear: {found:#?}");
    }
    for id in [&member_export, &phone_export] {
        if let Some(item) = task_item(backend, id).await {
            assert!(item.contains("sealed_result"), "{item}");
            assert!(!item.contains("\"result\""), "{item}");
            assert!(!item.contains("exporter"), "{item}");
            // Removed by TTL a day after it finished, not thirty.
            let expires: i64 = item
                .split("\"expires_at\": N(\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|n| n.parse().ok())
                .expect("expires_at");
            let in_two_days = (world.clock.now() + time::Duration::days(2)).unix_timestamp();
            assert!(expires < in_two_days, "{item}");
        }
    }

    // The first download has the numbers; the second has no result.
    let data = download(&world, &member, &member_export).await;
    let account = &data["result"]["account"];
    assert_eq!(account["username"], "exporter", "{data}");
    for (field, number) in [
        ("mobileNo", MOBILE),
        ("personalNo", PERSONAL),
        ("phoneNo", PHONE),
    ] {
        assert!(account[field].as_str().unwrap().ends_with(number), "{data}");
    }
    let data = download(&world, &phone, &phone_export).await;
    assert!(data["result"]["account"]["phone_number"]
        .as_str()
        .unwrap()
        .ends_with(PHONE_ACCOUNT));
    for (access, id) in [(&member, &member_export), (&phone, &phone_export)] {
        let again = download(&world, access, id).await;
        assert!(again.get("result").is_none(), "{again}");
        if let Some(item) = task_item(backend, id).await {
            assert!(!item.contains("sealed_result"), "{item}");
        }
    }
}

/// Downloads at once: exactly one gets the result.
async fn parallel_downloads_hand_out_the_result_once(backend: &Backend) {
    let world = World::new(backend.clone());
    let member = member_token(&world).await;
    let id = finished_export(&world, &member).await;
    let downloads = join_all((0..8).map(|_| download(&world, &member, &id))).await;
    let with_result = downloads
        .iter()
        .filter(|data| data.get("result").is_some())
        .count();
    assert_eq!(with_result, 1, "{downloads:#?}");
}

/// A result nobody downloaded within a day is not handed out any more
/// (and is dropped), whether or not TTL has removed the item yet.
async fn undownloaded_export_expires_after_a_day(backend: &Backend) {
    let world = World::new(backend.clone());
    let member = member_token(&world).await;
    let id = finished_export(&world, &member).await;
    world.clock.advance(time::Duration::hours(25));
    // A fresh token: the first one has expired with the clock.
    let member = world.log_in("exporter", PASSWORD).await.access;
    let data = download(&world, &member, &id).await;
    assert!(data.get("result").is_none(), "{data}");
    if let Some(item) = task_item(backend, &id).await {
        assert!(!item.contains("sealed_result"), "{item}");
    }
}

integration_tests::contract_on_both_backends!(
    export_is_sealed_at_rest_and_downloaded_once,
    parallel_downloads_hand_out_the_result_once,
    undownloaded_export_expires_after_a_day,
);
