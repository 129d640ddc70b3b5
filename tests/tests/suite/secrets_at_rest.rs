//! Usable secrets rest only where they belong (issue #17, item 6): the
//! tokens of confirmation, reset and email-change links exist in the email
//! alone. The table holds only their hashes, and neither the outbox items,
//! the table's stream (what the relay forwards to the queue) nor any other
//! item carries the plain token.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::dynamodb::{scan_all, StreamReader};
use integration_tests::world::{World, PASSWORD};
use integration_tests::Backend;
use serde_json::json;

/// Every link token in the local mailbox.
fn mailed_tokens(world: &World) -> Vec<String> {
    world
        .app
        .mailbox
        .messages()
        .iter()
        .filter_map(|m| m.text.split("token=").nth(1))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn link_tokens_are_in_no_item_stream_record_or_queue_body() {
    let backend = Backend::dynamo().await;
    let store = backend.dynamo.clone().expect("a table");
    let mut stream = StreamReader::open(&store).await;
    let world = World::new(backend.clone());
    world.sign_up("rowan", "rowan@example.com").await;
    let tokens = world.log_in("rowan", PASSWORD).await;
    let change = world
        .call(
            "PATCH",
            "/users/me",
            Some(&json!({"email": "rowan.new@example.com", "current_password": PASSWORD})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(change.status, 200, "{}", change.body);
    for (path, email) in [
        ("/auth/password/reset", "rowan@example.com"),
        ("/auth/email/confirm/resend", "rowan@example.com"),
    ] {
        let reply = world
            .call("POST", path, Some(&json!({ "email": email })), None)
            .await;
        assert_eq!(reply.status, 202, "{}", reply.body);
    }
    world.app.settle().await;

    let mailed = mailed_tokens(&world);
    // A confirmation at sign-up, the email change, the reset, the resend.
    assert_eq!(mailed.len(), 4, "{mailed:?}");
    for prefix in ["ec_", "ce_", "pr_"] {
        assert!(mailed.iter().any(|t| t.starts_with(prefix)), "{mailed:?}");
    }

    let items = format!("{:?}", scan_all(&store).await);
    let records = stream.read().await;
    let outbox_events: Vec<&serde_json::Value> = records
        .iter()
        .filter_map(|r| r["dynamodb"]["NewImage"]["event"].get("S"))
        .collect();
    // The relay forwards these bodies to the notifications queue as they are.
    assert!(
        outbox_events.len() >= 6,
        "the stream carried the outbox events: {}",
        outbox_events.len()
    );
    let records = serde_json::to_string(&records).unwrap();
    for token in &mailed {
        // The random part: no encoding of the whole token hides it.
        let secret = &token[3..];
        assert!(!items.contains(secret), "a table item holds {token}");
        assert!(!records.contains(secret), "the stream carried {token}");
    }
    for event in outbox_events {
        let event: serde_json::Value =
            serde_json::from_str(event.as_str().unwrap()).expect("an event body");
        assert!(event["data"].get("token").is_none(), "{event}");
    }

    // And the links work: the tokens' hashes are in the table.
    let reset = mailed.iter().find(|t| t.starts_with("pr_")).unwrap();
    let reply = world
        .call(
            "POST",
            "/auth/password/reset/confirm",
            Some(&json!({
                "token": reset,
                "new_password": "Quiet-Heron-Meadow-73",
                "confirm_password": "Quiet-Heron-Meadow-73",
            })),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Issue #17 item 12: encrypted numbers are bound to their account. A
/// ciphertext copied from one account's item into another's (someone with
/// write access to the table, but not the keys) does not open there.
#[tokio::test]
async fn sealed_numbers_do_not_open_in_another_account() {
    let backend = Backend::dynamo().await;
    let store = backend.dynamo.clone().expect("a table");
    let world = World::new(backend.clone());
    let alice = world.sign_up("alina", "alina@example.com").await;
    let bob = world.sign_up("boris", "boris@example.com").await;
    let users = backend.stores.users();
    let id = |text: &str| shared::domain::UserId::parse(text).expect("an id");
    let (alice_id, bob_id) = (id(&alice), id(&bob));
    assert!(users.get(bob_id).await.unwrap().is_some());
    let key = |id: &str| {
        std::collections::HashMap::from([
            ("PK".to_owned(), AttributeValue::S(format!("USER#{id}"))),
            ("SK".to_owned(), AttributeValue::S("PROFILE".into())),
        ])
    };
    let alice_item = store
        .client()
        .get_item()
        .table_name(store.table())
        .set_key(Some(key(&alice)))
        .send()
        .await
        .unwrap()
        .item
        .expect("alice's item");
    store
        .client()
        .update_item()
        .table_name(store.table())
        .set_key(Some(key(&bob)))
        .update_expression("SET mobile_no = :copied")
        .expression_attribute_values(":copied", alice_item["mobile_no"].clone())
        .send()
        .await
        .unwrap();
    assert!(users.get(alice_id).await.unwrap().is_some());
    assert!(
        users.get(bob_id).await.is_err(),
        "a number copied from another account opened"
    );
}
