//! Spending credits on tasks, on both stores: `POST /tasks` charges in
//! the task's own transaction (402 and nothing written without enough), a
//! task that fails for good refunds once, whatever ends it.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use integration_tests::requests::codes;
use integration_tests::world::{Tokens, World, PASSWORD};
use integration_tests::{default_config, Backend};
use serde_json::{json, Value};
use shared::background::Queues;
use shared::domain::{CreditCosts, Task, TaskId, TaskStatus};
use shared::usecases::task_runner::{Progress, TaskFailure, TaskRunner};
use shared::usecases::tasks::TaskMessage;

/// Fails every task for good.
struct Broken;

#[async_trait]
impl TaskRunner for Broken {
    async fn run(&self, _: &Task, _: Instant, _: &dyn Progress) -> Result<Value, TaskFailure> {
        Err(TaskFailure::Permanent(
            "the input cannot be processed".into(),
        ))
    }
}

fn world(backend: &Backend, runner: Option<Arc<dyn TaskRunner>>) -> World {
    let mut config = default_config();
    config.credits.signup_credits = 12;
    config.credits.costs = CreditCosts::parse("process_data:5,long_running:1").unwrap();
    config.max_open_tasks = 100;
    match runner {
        Some(runner) => World::with_background(
            backend.clone(),
            config.clone(),
            Some(Queues::memory(config.task_max_receives)),
            runner,
        ),
        None => World::with_config(
            backend.clone(),
            Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
                shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
            )),
            config,
        ),
    }
}

async fn signed_in(world: &World, name: &str) -> Tokens {
    world.sign_up(name, &format!("{name}@example.com")).await;
    let tokens = world.log_in(name, PASSWORD).await;
    world.app.settle().await;
    tokens
}

async fn balance(world: &World, tokens: &Tokens) -> (i64, Vec<Value>) {
    let body = super::credits::statement(world, &tokens.access, "?limit=100").await;
    (
        body["data"]["balance"].as_i64().unwrap(),
        body["data"]["items"].as_array().unwrap().clone(),
    )
}

async fn tasks_are_charged_or_refused(backend: &Backend) {
    let world = world(backend, None);
    let tokens = signed_in(&world, "paula").await;
    // Entries of one instant order by id: keep them apart in time.
    world.clock.advance(time::Duration::SECOND);
    let paid = json!({"type": "process_data", "data": [1, 2]});
    for expected in [7, 2] {
        let reply = world
            .call("POST", "/tasks", Some(&paid), Some(&tokens.access))
            .await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        assert_eq!(balance(&world, &tokens).await.0, expected);
    }
    let reply = world
        .call("POST", "/tasks", Some(&paid), Some(&tokens.access))
        .await;
    assert_eq!(reply.status, 402, "{}", reply.body);
    assert_eq!(
        codes(&reply.body, "non_field_errors"),
        vec!["insufficient_credits"]
    );
    assert_eq!(reply.body["error"], "Insufficient credits");
    // Nothing written: no entry, and no task left for the worker.
    let (left, entries) = balance(&world, &tokens).await;
    assert_eq!((left, entries.len()), (2, 3));
    assert_eq!(entries[0]["reason"], "task", "{entries:#?}");
    assert_eq!(entries[0]["amount"], -5);
    assert_eq!(world.app.settle().await, 2);
    // A free task type costs nothing; a cheap one fits.
    let reply = world
        .call(
            "POST",
            "/tasks",
            Some(&json!({"type": "add", "x": 1, "y": 2})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let reply = world
        .call(
            "POST",
            "/tasks",
            Some(&json!({"type": "long_running", "seconds": 1})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(balance(&world, &tokens).await.0, 1);
    // Bad bodies are 400 and charge nothing.
    let reply = world
        .call(
            "POST",
            "/tasks",
            Some(&json!({"type": "process_data"})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(balance(&world, &tokens).await.0, 1);
}

/// 20 parallel paid creates against a balance of 12 at 5 each: two are
/// charged, the rest refused; never below zero.
async fn parallel_paid_tasks_never_overdraw(backend: &Backend) {
    let world = world(backend, None);
    let tokens = signed_in(&world, "quinn").await;
    let body = json!({"type": "process_data", "data": 1});
    let replies = futures::future::join_all(
        (0..20).map(|_| world.call("POST", "/tasks", Some(&body), Some(&tokens.access))),
    )
    .await;
    let accepted = replies.iter().filter(|r| r.status == 202).count() as i64;
    for reply in &replies {
        assert!([202, 402, 503].contains(&reply.status), "{}", reply.body);
    }
    assert!(accepted <= 2);
    if backend.dynamo.is_none() {
        assert_eq!(accepted, 2);
    }
    let (left, entries) = balance(&world, &tokens).await;
    assert_eq!(left, 12 - 5 * accepted);
    assert_eq!(entries.len() as i64, 1 + accepted);
    assert_eq!(world.app.settle().await as i64, accepted);
}

/// A task that fails for good gives its credits back once, also when its
/// message is delivered again.
async fn failed_task_refunds_once(backend: &Backend) {
    let world = world(backend, Some(Arc::new(Broken)));
    let tokens = signed_in(&world, "rosa").await;
    let reply = world
        .call(
            "POST",
            "/tasks",
            Some(&json!({"type": "process_data", "data": 1})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let id = reply.body["data"]["task_id"].as_str().unwrap().to_owned();
    assert_eq!(balance(&world, &tokens).await.0, 7);
    world.app.settle().await;
    let reply = world
        .call("GET", &format!("/tasks/{id}"), None, Some(&tokens.access))
        .await;
    assert_eq!(reply.body["data"]["status"], "FAILURE", "{}", reply.body);
    let message = TaskMessage {
        task_id: TaskId::parse(&id).unwrap(),
    };
    world
        .app
        .queues
        .tasks
        .send(&[message.body()])
        .await
        .unwrap();
    world.app.settle().await;
    let (left, entries) = balance(&world, &tokens).await;
    assert_eq!(left, 12);
    // (The worker's clock is not the test's: compare without order.)
    let mut reasons: Vec<&str> = entries
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    reasons.sort_unstable();
    assert_eq!(reasons, vec!["signup", "task", "task_refund"]);
    let refund = entries
        .iter()
        .find(|e| e["reason"] == "task_refund")
        .unwrap();
    assert_eq!(
        (&refund["reference"], &refund["amount"]),
        (&json!(id), &json!(5))
    );
}

/// Two clean-ups failing the same overdue paid task at once refund it
/// once; a success refunds nothing.
async fn overdue_paid_task_refunds_once(backend: &Backend) {
    let stores = &backend.stores;
    let now = time::OffsetDateTime::now_utc();
    let owner = shared::domain::UserId::new_random();
    let opening = shared::usecases::credits::opening(10, owner, now).unwrap();
    stores.credits().post(&opening).await.unwrap();
    let task = Task {
        counted: true,
        cost: 4,
        ..Task::new(
            owner,
            shared::domain::TaskKind::LongRunning { seconds: 5 },
            now,
        )
    };
    stores.tasks().create_counted_task(&task, 10).await.unwrap();
    assert_eq!(stores.credits().balance(owner).await.unwrap(), 6);
    let started = Task {
        deadline: Some(now - time::Duration::minutes(1)),
        ..task.next(now, |t| {
            t.status = TaskStatus::Started;
            t.attempts = 1;
        })
    };
    stores.tasks().update_task(&task, &started).await.unwrap();
    let queue =
        shared::adapters::memory::queue::MemoryQueue::new(std::time::Duration::from_secs(30));
    let cleanup = || integration_tests::cleanup(stores, &queue, Default::default());
    let (one, two) = (cleanup(), cleanup());
    let (first, second) = tokio::join!(one.run(), two.run());
    assert_eq!(
        first.unwrap().overdue_tasks_failed + second.unwrap().overdue_tasks_failed,
        1
    );
    assert_eq!(stores.credits().balance(owner).await.unwrap(), 10);
    // A paid task that succeeds keeps its charge.
    let other = Task {
        counted: true,
        cost: 4,
        ..Task::new(
            owner,
            shared::domain::TaskKind::LongRunning { seconds: 5 },
            now,
        )
    };
    stores
        .tasks()
        .create_counted_task(&other, 10)
        .await
        .unwrap();
    let done = other.next(now, |t| t.status = TaskStatus::Success);
    stores.tasks().update_task(&other, &done).await.unwrap();
    assert_eq!(stores.credits().balance(owner).await.unwrap(), 6);
}

integration_tests::contract_on_both_backends!(
    tasks_are_charged_or_refused,
    parallel_paid_tasks_never_overdraw,
    failed_task_refunds_once,
    overdue_paid_task_refunds_once,
);
