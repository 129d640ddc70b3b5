//! Self-service account deletion, on both stores: the account stops
//! working at once, a background task erases every item of it (a full
//! scan on DynamoDB Local proves it), its username and email are free
//! again, and an interrupted deletion is resumed.

use integration_tests::world::{Tokens, World, PASSWORD};
use integration_tests::Backend;
use serde_json::json;
use shared::ports::Clock;

async fn member(world: &World, name: &str) -> (String, Tokens) {
    let id = world.sign_up(name, &format!("{name}@example.com")).await;
    let body = json!({"login": name, "password": PASSWORD, "device_id": format!("{name}-phone")});
    let tokens = integration_tests::world::tokens(&world.log_in_with(body).await.body);
    (id, tokens)
}

/// Every item that names the user: keyed by it, owned by it, or holding
/// its id, username or email anywhere (outbox events aside: they are
/// relayed and removed).
async fn traces_of(backend: &Backend, id: &str, name: &str) -> Vec<String> {
    let Some(store) = &backend.dynamo else {
        return Vec::new();
    };
    integration_tests::dynamodb::scan_all(store)
        .await
        .into_iter()
        .map(|item| format!("{item:?}"))
        .filter(|text| !text.contains("OUTBOX#"))
        .filter(|text| text.contains(id) || text.contains(name))
        .collect()
}

async fn deletion_ends_access_at_once_and_erases_everything(backend: &Backend) {
    let world = World::new(backend.clone());
    let (id, tokens) = member(&world, "della").await;
    let other = member(&world, "otto").await;
    world
        .call(
            "POST",
            "/users/me/push-tokens",
            Some(&json!({"platform": "fcm", "token": "della-fcm", "device_id": "della-phone"})),
            Some(&tokens.access),
        )
        .await;
    world
        .call(
            "PUT",
            "/users/me/preferences",
            Some(&json!({"marketing": {"sms": true}})),
            Some(&tokens.access),
        )
        .await;
    world
        .call(
            "POST",
            "/tasks",
            Some(&json!({"type": "add", "x": 1, "y": 2})),
            Some(&tokens.access),
        )
        .await;
    world.app.settle().await;

    let wrong = world
        .call(
            "DELETE",
            "/users/me",
            Some(&json!({"password": "not-it-at-all"})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(
        wrong.body["errors"]["password"][0]["code"],
        "invalid_credentials"
    );
    let missing = world
        .call(
            "DELETE",
            "/users/me",
            Some(&json!({})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(missing.body["errors"]["password"][0]["code"], "required");

    let reply = world
        .call(
            "DELETE",
            "/users/me/",
            Some(&json!({"password": PASSWORD})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["data"]["status"], "PENDING");
    // At once: the token, the refresh token and the password stop working.
    assert_eq!(world.me(&tokens.access).await.status, 401);
    assert_eq!(world.refresh(&tokens.refresh).await.status, 401);
    let login = world
        .log_in_with(json!({"login": "della", "password": PASSWORD}))
        .await;
    assert_ne!(login.status, 200, "{}", login.body);

    world.app.settle().await;
    assert!(backend
        .stores
        .users()
        .get(shared::domain::UserId::from_uuid(id.parse().unwrap()))
        .await
        .unwrap()
        .is_none());
    let traces = traces_of(backend, &id, "della").await;
    assert!(
        traces.is_empty(),
        "items of the deleted account remain: {traces:#?}"
    );
    // The goodbye went to the old address.
    assert!(world
        .app
        .mailbox
        .messages()
        .iter()
        .any(|m| m.event_type == "user.deleted" && m.to == "della@example.com"));
    // Username and email are free again; the other account is untouched.
    world.sign_up("della", "della@example.com").await;
    assert_eq!(world.me(&other.1.access).await.status, 200);
}

async fn phone_accounts_confirm_with_their_number(backend: &Backend) {
    let world = World::new(backend.clone());
    let reply = world
        .call(
            "POST",
            "/auth/phone/signup",
            Some(&json!({"name": "Ravi", "phone_number": "9876501234"})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let access = reply.body["access_token"].as_str().unwrap().to_owned();
    let wrong = world
        .call(
            "DELETE",
            "/users/me",
            Some(&json!({"phone_number": "9876501235"})),
            Some(&access),
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.body["errors"]["phone_number"][0]["code"],
        "invalid_credentials"
    );
    let reply = world
        .call(
            "DELETE",
            "/users/me",
            Some(&json!({"phone_number": "+919876501234"})),
            Some(&access),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    world.app.settle().await;
    // The number can sign up again.
    let again = world
        .call(
            "POST",
            "/auth/phone/signup",
            Some(&json!({"name": "Ravi", "phone_number": "9876501234"})),
            None,
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
}

/// The task message is lost and nothing runs: the clean-up job finds the
/// stalled deletion and queues it again.
async fn lost_deletion_is_resumed_by_the_cleanup(backend: &Backend) {
    let world = World::new(backend.clone());
    let (id, tokens) = member(&world, "lotte").await;
    let reply = world
        .call(
            "DELETE",
            "/users/me",
            Some(&json!({"password": PASSWORD})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 202);
    let lost = world
        .app
        .queues
        .account_tasks
        .receive(10, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(lost.len(), 1);
    world
        .app
        .queues
        .account_tasks
        .delete(&lost[0])
        .await
        .unwrap();
    world.clock.advance(time::Duration::minutes(30));
    let stores = &world.backend.stores;
    let report = integration_tests::cleanup(
        stores,
        world.app.queues.account_tasks.as_ref(),
        Default::default(),
    )
    .run()
    .await
    .unwrap();
    assert_eq!(report.deletions_resumed, 1);
    world.app.settle().await;
    let user = shared::domain::UserId::from_uuid(id.parse().unwrap());
    assert!(stores.users().get(user).await.unwrap().is_none());
    assert!(stores
        .account_data()
        .unfinished_deletions(world.clock.now(), 10)
        .await
        .unwrap()
        .is_empty());
    let traces = traces_of(backend, &id, "lotte").await;
    assert!(traces.is_empty(), "{traces:#?}");
}

integration_tests::contract_on_both_backends!(
    deletion_ends_access_at_once_and_erases_everything,
    phone_accounts_confirm_with_their_number,
    lost_deletion_is_resumed_by_the_cleanup,
);

/// A worker that died halfway (some items gone, the account item, marker
/// and task still there, the task STARTED past its deadline): the next
/// delivery takes the task over and finishes the erasure.
#[tokio::test]
async fn deletion_interrupted_halfway_is_finished() {
    let backend = Backend::dynamo().await;
    let store = backend.dynamo.clone().unwrap();
    let world = World::new(backend.clone());
    let (id, tokens) = member(&world, "hal").await;
    world
        .call(
            "DELETE",
            "/users/me",
            Some(&json!({"password": PASSWORD})),
            Some(&tokens.access),
        )
        .await;
    // Halfway: the sessions and the username claim are gone already.
    let items = integration_tests::dynamodb::scan_all(&store).await;
    let mut removed = 0;
    for item in &items {
        let pk = item["PK"].as_s().unwrap();
        let sk = item["SK"].as_s().unwrap();
        if (pk == &format!("USER#{id}") && sk.starts_with("SESSION#")) || pk == "USERNAME#hal" {
            store
                .client()
                .delete_item()
                .table_name(store.table())
                .key("PK", item["PK"].clone())
                .key("SK", item["SK"].clone())
                .send()
                .await
                .unwrap();
            removed += 1;
        }
    }
    assert!(removed >= 2);
    // Its worker started it and died: the task is STARTED, past its deadline.
    let message = world
        .app
        .queues
        .account_tasks
        .receive(1, std::time::Duration::ZERO)
        .await
        .unwrap();
    let task_id: shared::usecases::tasks::TaskMessage =
        serde_json::from_str(&message[0].body).unwrap();
    let stores = &world.backend.stores;
    let task = stores
        .tasks()
        .get_task(task_id.task_id)
        .await
        .unwrap()
        .unwrap();
    let now = world.clock.now();
    let started = shared::domain::Task {
        deadline: Some(now - time::Duration::seconds(1)),
        ..task.next(now, |t| {
            t.status = shared::domain::TaskStatus::Started;
            t.attempts = 1;
        })
    };
    stores.tasks().update_task(&task, &started).await.unwrap();
    world
        .app
        .queues
        .account_tasks
        .release(&message[0])
        .await
        .unwrap();
    world.app.settle().await;
    let traces = traces_of(&backend, &id, "hal").await;
    assert!(traces.is_empty(), "{traces:#?}");
    world.sign_up("hal", "hal@example.com").await;
}
