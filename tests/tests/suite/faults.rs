//! Injected DynamoDB faults (tests/src/faults.rs) on sign-up, login,
//! refresh rotation and password change, on DynamoDB Local. A fault that
//! clears within the retries is invisible to the client; one that lasts is
//! the documented 503 `unavailable` with `Retry-After`; either way the table
//! holds whole accounts and sessions or none, and an answer lost after the
//! write took effect is not mistaken for a conflict on the retry.

use integration_tests::dynamodb::partition_keys;
use integration_tests::faults::{faulty_backend, Fault, Faults};
use integration_tests::world::{tokens, Reply, World, PASSWORD};
use serde_json::json;

const TRANSACT: &str = "TransactWriteItems";
const NEW_PASSWORD: &str = "Other-Vole-Lantern-42";

/// Every fault DynamoDB may answer with.
const ALL: [Fault; 5] = [
    Fault::TransactionConflict,
    Fault::ProvisionedThroughputExceeded,
    Fault::Throttling,
    Fault::InternalServerError,
    Fault::Stall,
];

async fn world_with_faults() -> (World, Faults) {
    let (backend, faults) = faulty_backend().await;
    (World::new(backend), faults)
}

fn assert_unavailable(reply: &Reply, fault: Fault) {
    assert_eq!(reply.status, 503, "{fault:?}: {}", reply.body);
    assert_eq!(
        reply.body["errors"]["system"][0]["code"], "unavailable",
        "{fault:?}: {}",
        reply.body
    );
    assert_eq!(reply.headers["retry-after"], "1", "{fault:?}");
}

/// How many distinct partitions of each account kind the table holds:
/// (users, username claims, email claims, refresh tokens).
async fn account_partitions(world: &World) -> [usize; 4] {
    let store = world.backend.dynamo.as_ref().expect("a table");
    let mut keys = partition_keys(store).await;
    keys.sort();
    keys.dedup();
    let count = |prefix: &str| keys.iter().filter(|k| k.starts_with(prefix)).count();
    [
        count("USER#"),
        count("USERNAME#"),
        count("EMAIL#"),
        count("REFRESH#"),
    ]
}

async fn sign_up_reply(world: &World, name: &str) -> Reply {
    world
        .call(
            "POST",
            "/auth/signup/",
            Some(&integration_tests::requests::signup_body(
                name,
                &format!("{name}@example.com"),
                json!({}),
            )),
            None,
        )
        .await
}

async fn change_password(world: &World, access: &str) -> Reply {
    world
        .call(
            "POST",
            "/auth/password/change",
            Some(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})),
            Some(access),
        )
        .await
}

#[tokio::test]
async fn sign_up_rides_out_a_fault_on_each_of_its_writes() {
    for fault in ALL {
        let (world, faults) = world_with_faults().await;
        // Sign-up writes twice (the address's quota, then the account):
        // the first attempt of each meets the fault.
        faults.nth(TRANSACT, 1, fault);
        faults.nth(TRANSACT, 3, fault);
        let reply = sign_up_reply(&world, "ridden").await;
        assert_eq!(reply.status, 201, "{fault:?}: {}", reply.body);
        let attempts = faults.attempts(TRANSACT);
        assert_eq!(attempts.len(), 4, "{fault:?}: each write retried once");
        if fault == Fault::TransactionConflict {
            // The store's own retry waits before it tries again.
            let waited = attempts[1].at - attempts[0].at;
            assert!(
                waited.as_millis() >= 10,
                "{fault:?}: no backoff: {waited:?}"
            );
        }
        assert_eq!(
            account_partitions(&world).await[..3],
            [1, 1, 1],
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn sign_up_answers_503_and_writes_nothing_while_dynamodb_fails() {
    for fault in ALL {
        let (world, faults) = world_with_faults().await;
        faults.always(TRANSACT, fault);
        let reply = sign_up_reply(&world, "blocked").await;
        assert_unavailable(&reply, fault);
        assert!(
            faults.attempts(TRANSACT).len() >= 2,
            "{fault:?}: retried before giving up"
        );
        assert_eq!(account_partitions(&world).await, [0, 0, 0, 0], "{fault:?}");

        // Nothing half-written holds the name or the address.
        faults.clear();
        let reply = sign_up_reply(&world, "blocked").await;
        assert_eq!(reply.status, 201, "{fault:?}: {}", reply.body);
        assert_eq!(
            account_partitions(&world).await[..3],
            [1, 1, 1],
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn a_sign_up_whose_answer_was_lost_is_not_a_conflict_on_its_retry() {
    for fault in [Fault::InternalServerError, Fault::Stall] {
        let (world, faults) = world_with_faults().await;
        // Both writes take effect, and both answers are lost.
        faults.nth_after_applying(TRANSACT, 1, fault);
        faults.nth_after_applying(TRANSACT, 3, fault);
        let reply = sign_up_reply(&world, "echoed").await;
        assert_eq!(reply.status, 201, "{fault:?}: {}", reply.body);
        assert_eq!(
            account_partitions(&world).await[..3],
            [1, 1, 1],
            "{fault:?}"
        );
        world.log_in("echoed", PASSWORD).await;
    }
}

#[tokio::test]
async fn login_rides_out_faults_on_its_reads_and_its_write() {
    for fault in ALL {
        let (world, faults) = world_with_faults().await;
        world.sign_up("reader", "reader@example.com").await;
        // Reads never conflict with transactions: they see the last
        // committed item.
        if fault != Fault::TransactionConflict {
            faults.nth("BatchGetItem", 1, fault);
        }
        faults.nth(TRANSACT, 1, fault);
        let pair = world.log_in("reader", PASSWORD).await;
        assert_eq!(world.me(&pair.access).await.status, 200, "{fault:?}");
    }
}

#[tokio::test]
async fn login_answers_503_and_starts_no_session_while_dynamodb_fails() {
    for fault in ALL {
        let (world, faults) = world_with_faults().await;
        world.sign_up("waiter", "waiter@example.com").await;
        faults.always(TRANSACT, fault);
        let reply = world
            .log_in_with(json!({"login": "waiter", "password": PASSWORD}))
            .await;
        assert_unavailable(&reply, fault);
        assert_eq!(
            account_partitions(&world).await[3],
            0,
            "{fault:?}: no token"
        );

        faults.clear();
        let pair = world.log_in("waiter", PASSWORD).await;
        assert_eq!(world.me(&pair.access).await.status, 200, "{fault:?}");
    }
}

#[tokio::test]
async fn refresh_rotation_rides_out_faults_and_lost_answers() {
    let (world, faults) = world_with_faults().await;
    world.sign_up("rotor", "rotor@example.com").await;
    let mut pair = world.log_in("rotor", PASSWORD).await;
    for fault in ALL {
        faults.nth(TRANSACT, 1, fault);
        let reply = world.refresh(&pair.refresh).await;
        assert_eq!(reply.status, 200, "{fault:?}: {}", reply.body);
        pair = tokens(&reply.body);
    }
    for fault in [Fault::InternalServerError, Fault::Stall] {
        // The rotation took effect; its retry must not look like a replay
        // of the old token (which would end the whole session).
        faults.nth_after_applying(TRANSACT, 1, fault);
        let reply = world.refresh(&pair.refresh).await;
        assert_eq!(reply.status, 200, "{fault:?}: {}", reply.body);
        pair = tokens(&reply.body);
    }
    let reply = world.refresh(&pair.refresh).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn a_failed_rotation_leaves_the_old_refresh_token_working() {
    let (world, faults) = world_with_faults().await;
    world.sign_up("keeper", "keeper@example.com").await;
    let pair = world.log_in("keeper", PASSWORD).await;
    for fault in ALL {
        faults.always(TRANSACT, fault);
        assert_unavailable(&world.refresh(&pair.refresh).await, fault);
        faults.clear();
    }
    let reply = world.refresh(&pair.refresh).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn password_change_rides_out_a_fault_on_each_write() {
    for fault in ALL {
        let (world, faults) = world_with_faults().await;
        world.sign_up("changer", "changer@example.com").await;
        let other = world.log_in("changer", PASSWORD).await;
        let mine = world.log_in("changer", PASSWORD).await;
        faults.nth(TRANSACT, 1, fault);
        faults.nth(TRANSACT, 3, fault);
        let reply = change_password(&world, &mine.access).await;
        assert_eq!(reply.status, 200, "{fault:?}: {}", reply.body);
        world.log_in("changer", NEW_PASSWORD).await;
        assert_eq!(world.refresh(&other.refresh).await.status, 401, "{fault:?}");
    }
}

#[tokio::test]
async fn password_change_answers_503_and_changes_nothing_while_dynamodb_fails() {
    for fault in ALL {
        let (world, faults) = world_with_faults().await;
        world.sign_up("holder", "holder@example.com").await;
        let other = world.log_in("holder", PASSWORD).await;
        let mine = world.log_in("holder", PASSWORD).await;
        faults.always(TRANSACT, fault);
        assert_unavailable(&change_password(&world, &mine.access).await, fault);

        faults.clear();
        // The old password and every session still stand, so the retry
        // the 503 asks for can succeed.
        assert_eq!(world.refresh(&other.refresh).await.status, 200, "{fault:?}");
        let reply = change_password(&world, &mine.access).await;
        assert_eq!(reply.status, 200, "{fault:?}: {}", reply.body);
        world.log_in("holder", NEW_PASSWORD).await;
    }
}

#[tokio::test]
async fn reads_ride_out_a_passing_fault_and_answer_503_to_a_lasting_one() {
    let (world, faults) = world_with_faults().await;
    world.sign_up("looker", "looker@example.com").await;
    let pair = world.log_in("looker", PASSWORD).await;
    // Reads never meet TransactionConflict: they see the last committed item.
    for fault in &ALL[1..] {
        let fault = *fault;
        faults.nth("BatchGetItem", 1, fault);
        assert_eq!(world.me(&pair.access).await.status, 200, "{fault:?}");
        faults.always("BatchGetItem", fault);
        assert_unavailable(&world.me(&pair.access).await, fault);
        faults.clear();
    }
    assert_eq!(world.me(&pair.access).await.status, 200);
}
