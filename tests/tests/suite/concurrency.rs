//! Many simultaneous sign-ups for one username or email: exactly one wins,
//! nothing is half-written.

use std::sync::Arc;

use futures::future::join_all;
use integration_tests::requests::{codes, read, request_from, signup_body};
use integration_tests::{signup_state, Backend};
use serde_json::json;

const RACERS: usize = 50;

async fn race(
    backend: &Backend,
    body_for: impl Fn(usize) -> serde_json::Value,
) -> Vec<(u16, serde_json::Value)> {
    let state = Arc::new(signup_state(backend));
    let tasks = (0..RACERS).map(|i| {
        let state = state.clone();
        // From distinct addresses, as racing clients are (and within each
        // address's sign-up quota).
        let ip = format!("203.0.113.{}", i + 1);
        let body = lambda_http::Body::from(body_for(i).to_string());
        let request = request_from(&ip, "POST", "/auth/signup/", Some("application/json"), body);
        // Separate tasks on the multi-threaded runtime: real parallelism.
        tokio::spawn(async move { read(&signup::handle(&state, request).await) })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect()
}

fn assert_one_winner(results: &[(u16, serde_json::Value)], field: &str, code: &str) {
    let created = results.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(codes(body, field), [code], "{body}");
    }
}

/// Distinct partitions (an account's partition holds several items).
async fn count_prefix(backend: &Backend, prefix: &str) -> usize {
    let store = backend.dynamo.as_ref().expect("dynamodb backend");
    let mut partitions: Vec<String> = integration_tests::dynamodb::partition_keys(store)
        .await
        .into_iter()
        .filter(|pk| pk.starts_with(prefix))
        .collect();
    partitions.sort();
    partitions.dedup();
    partitions.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_sign_ups_for_one_username_on_dynamodb() {
    let backend = Backend::dynamo().await;
    let results = race(&backend, |i| {
        signup_body(
            if i % 2 == 0 { "racer" } else { "RACER" },
            &format!("racer{i}@example.com"),
            json!({}),
        )
    })
    .await;
    assert_one_winner(&results, "username", "username_conflict");
    assert_eq!(count_prefix(&backend, "USER#").await, 1);
    assert_eq!(count_prefix(&backend, "USERNAME#").await, 1);
    assert_eq!(
        count_prefix(&backend, "EMAIL#").await,
        1,
        "only the winner's email is claimed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_sign_ups_for_one_email_on_dynamodb() {
    let backend = Backend::dynamo().await;
    let results = race(&backend, |i| {
        signup_body(&format!("mail{i}"), "Shared@Example.com", json!({}))
    })
    .await;
    assert_one_winner(&results, "email", "email_conflict");
    assert_eq!(count_prefix(&backend, "USER#").await, 1);
    assert_eq!(
        count_prefix(&backend, "USERNAME#").await,
        1,
        "only the winner's username is claimed"
    );
    assert_eq!(count_prefix(&backend, "EMAIL#").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_sign_ups_for_one_username_in_memory() {
    let backend = Backend::memory();
    let results = race(&backend, |i| {
        signup_body("racer", &format!("racer{i}@example.com"), json!({}))
    })
    .await;
    assert_one_winner(&results, "username", "username_conflict");
    let winner = results.iter().find(|(s, _)| *s == 201).unwrap();
    let id = winner.1["data"]["user"]["userId"].as_str().unwrap();
    let owner = backend
        .stores
        .users()
        .find_by_username("racer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.to_string(), id);
    let claimed_emails = futures::future::join_all((0..RACERS).map(|i| {
        let users = backend.stores.users_handle();
        async move {
            users
                .find_by_email(&format!("racer{i}@example.com"))
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(claimed_emails.iter().flatten().count(), 1);
}
