//! The scheduled clean-up of unverified accounts, on both stores: old
//! unconfirmed accounts go with their claims, two runs at once remove each
//! once, confirmed and recent accounts stay.

use integration_tests::mail::last_token_to;
use integration_tests::world::{World, PASSWORD};
use integration_tests::Backend;
use serde_json::json;
use shared::adapters::memory::queue::MemoryQueue;
use shared::usecases::cleanup::CleanupPolicy;

async fn old_unverified_accounts_are_removed_once(backend: &Backend) {
    let world = World::new(backend.clone());
    let stale = world.sign_up("stale", "stale@example.com").await;
    let kept = world.sign_up("kept", "kept@example.com").await;
    let tokens = world.log_in("stale", PASSWORD).await;
    world.app.settle().await;
    let token = last_token_to(
        &world.app.mailbox.messages(),
        "email.confirmation_requested",
        "kept@example.com",
    )
    .expect("kept's link");
    let confirmed = world
        .call(
            "POST",
            "/auth/email/confirm",
            Some(&json!({ "token": token })),
            None,
        )
        .await;
    assert_eq!(confirmed.status, 200);
    world.clock.advance(time::Duration::days(8));
    let recent = world.sign_up("recent", "recent@example.com").await;

    // The world's stores: they run on its clock.
    let stores = &world.backend.stores;
    let queue = MemoryQueue::new(std::time::Duration::from_secs(30));
    let policy = CleanupPolicy {
        // Pages of one: the runs interleave item by item.
        page: 1,
        ..CleanupPolicy::default()
    };
    let cleanup = || integration_tests::cleanup(stores, &queue, policy);
    let (one, two) = (cleanup(), cleanup());
    let (first, second) = tokio::join!(one.run(), two.run());
    let removed =
        first.unwrap().unverified_accounts_removed + second.unwrap().unverified_accounts_removed;
    assert_eq!(removed, 1);
    assert_eq!(
        cleanup().run().await.unwrap().unverified_accounts_removed,
        0
    );

    let id = |text: &str| shared::domain::UserId::from_uuid(text.parse().unwrap());
    assert!(stores.users().get(id(&stale)).await.unwrap().is_none());
    assert!(stores.users().get(id(&kept)).await.unwrap().is_some());
    assert!(stores.users().get(id(&recent)).await.unwrap().is_some());
    // Its sessions went with it.
    assert_eq!(world.refresh(&tokens.refresh).await.status, 401);
    // Its username and email are free again.
    world.sign_up("stale", "stale@example.com").await;
    if let Some(store) = &backend.dynamo {
        let keys = integration_tests::dynamodb::partition_keys(store).await;
        assert!(
            !keys.iter().any(|k| k == &format!("USER#{stale}")),
            "items of the removed account remain: {keys:?}"
        );
    }
}

/// Accounts stored before the operators' listing existed (their profile
/// items lack the listing attributes) are listed by the clean-up, once,
/// resuming across runs; later runs cost one read.
#[tokio::test]
async fn older_accounts_join_the_listing() {
    let store = integration_tests::dynamodb::fresh_table().await;
    let world = World::new(Backend {
        name: "dynamodb",
        stores: shared::app::Stores::dynamo(store.clone()),
        dynamo: Some(store.clone()),
    });
    let mut older = Vec::new();
    for n in 0..3 {
        older.push(
            world
                .sign_up(&format!("older{n}"), &format!("older{n}@example.com"))
                .await,
        );
    }
    let phone = world
        .call_from(
            "192.0.2.140",
            "POST",
            "/auth/phone/signup",
            Some(&json!({"name": "Ravi", "phone_number": "9876501234"})),
            None,
        )
        .await;
    assert_eq!(phone.status, 201, "{}", phone.body);
    older.push(phone.body["user"]["id"].as_str().unwrap().to_owned());
    // As they were written before the listing: no listing attributes.
    for id in &older {
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key(
                "PK",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{id}")),
            )
            .key(
                "SK",
                aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()),
            )
            .update_expression("REMOVE listing_pk, listing_sk")
            .send()
            .await
            .unwrap();
    }
    let newer = world.sign_up("newer", "newer@example.com").await;
    let listed = || async {
        let page = world
            .backend
            .stores
            .directory()
            .list_accounts(None, None, 100)
            .await
            .unwrap();
        let mut ids: Vec<String> = page.accounts.iter().map(|a| a.id().to_string()).collect();
        ids.sort();
        ids
    };
    assert_eq!(listed().await, vec![newer.clone()]);

    let stores = &world.backend.stores;
    let queue = MemoryQueue::new(std::time::Duration::from_secs(30));
    let report = integration_tests::cleanup(stores, &queue, CleanupPolicy::default())
        .run()
        .await
        .unwrap();
    assert_eq!(report.accounts_listed, older.len());
    let mut everyone = older.clone();
    everyone.push(newer);
    everyone.sort();
    assert_eq!(listed().await, everyone);
    let again = integration_tests::cleanup(stores, &queue, CleanupPolicy::default())
        .run()
        .await
        .unwrap();
    assert_eq!(again.accounts_listed, 0);
}

integration_tests::contract_on_both_backends!(old_unverified_accounts_are_removed_once);

/// An email-only account (no username claim) is removed too, its address
/// freed.
async fn old_unverified_email_only_accounts_are_removed(backend: &Backend) {
    let vars = std::collections::HashMap::from([(
        "PROFILE_FIELDS".to_owned(),
        "username:off,rank:off,unitname:off,designation:off,mobileNo:off,personalNo:off,\
         phoneNo:off"
            .to_owned(),
    )]);
    let config =
        shared::config::Config::from_lookup(|name| vars.get(name).cloned()).expect("valid");
    let ring = std::sync::Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
    ));
    let world = World::with_config(backend.clone(), ring, config);
    let body =
        json!({"email": "eo@example.com", "password": PASSWORD, "password_confirm": PASSWORD});
    let reply = world.call("POST", "/auth/signup", Some(&body), None).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    world.clock.advance(time::Duration::days(8));
    let stores = &world.backend.stores;
    let queue = MemoryQueue::new(std::time::Duration::from_secs(30));
    let cleanup = integration_tests::cleanup(stores, &queue, CleanupPolicy::default());
    assert_eq!(cleanup.run().await.unwrap().unverified_accounts_removed, 1);
    let reply = world.call("POST", "/auth/signup", Some(&body), None).await;
    assert_eq!(reply.status, 201, "the address is free: {}", reply.body);
}

mod email_only {
    use super::*;
    integration_tests::contract_on_both_backends!(old_unverified_email_only_accounts_are_removed);
}
