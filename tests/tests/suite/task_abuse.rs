//! One user cannot flood the task machinery (#17 item 8), on both stores:
//! a per-user cap on unfinished tasks that holds under parallel creates
//! and frees each slot exactly once, and account work (deletion, export)
//! that is never capped and never waits behind user tasks.

use std::sync::Arc;

use futures::future::join_all;
use integration_tests::requests::{read_any, request_from, signup_body};
use integration_tests::world::{Tokens, World, PASSWORD};
use integration_tests::{default_config, Backend};
use serde_json::{json, Value};
use shared::background::Queues;
use shared::domain::{Task, TaskId, TaskKind, TaskStatus, UserId};
use shared::ports::tasks::{CreateTaskError, TaskUpdateError};
use shared::usecases::task_runner::StandardRunner;
use shared::usecases::tasks::TaskMessage;

fn capped_world(backend: &Backend, max_open: u32) -> World {
    let mut config = default_config();
    config.max_open_tasks = max_open;
    let queues = Queues::memory(config.task_max_receives);
    World::with_background(
        backend.clone(),
        config,
        Some(queues),
        Arc::new(StandardRunner::default()),
    )
}

async fn signed_in(world: &World, name: &str) -> Tokens {
    world.sign_up(name, &format!("{name}@example.com")).await;
    let tokens = world.log_in(name, PASSWORD).await;
    world.app.settle().await;
    tokens
}

async fn post_task(world: &World, tokens: &Tokens, body: &Value) -> (u16, Value) {
    let reply = world
        .call("POST", "/tasks", Some(body), Some(&tokens.access))
        .await;
    if reply.status == 429 {
        let retry_after = reply.headers.get("retry-after").expect("Retry-After");
        assert!(retry_after.to_str().unwrap().parse::<u64>().unwrap() >= 1);
    }
    (reply.status, reply.body)
}

fn statuses(replies: &[(u16, Value)]) -> (usize, usize) {
    let accepted = replies.iter().filter(|(s, _)| *s == 202).count();
    let refused = replies.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(accepted + refused, replies.len(), "{replies:?}");
    for (_, body) in replies.iter().filter(|(s, _)| *s == 429) {
        assert_eq!(
            body["errors"]["non_field_errors"][0]["code"], "rate_limited",
            "{body}"
        );
    }
    (accepted, refused)
}

const LONG: fn() -> Value = || json!({"type": "long_running", "seconds": 3600});
const ADD: fn() -> Value = || json!({"type": "add", "x": 1, "y": 2});

async fn open_tasks_are_capped_per_user(backend: &Backend) {
    let world = capped_world(backend, 3);
    let alice = signed_in(&world, "alice").await;
    let bob = signed_in(&world, "bob").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, body) = post_task(&world, &alice, &LONG()).await;
        assert_eq!(status, 202, "{body}");
        ids.push(body["data"]["task_id"].as_str().unwrap().to_owned());
    }
    let (status, body) = post_task(&world, &alice, &ADD()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(statuses(&[(status, body)]), (0, 1));
    // Another user's slots are their own.
    assert_eq!(post_task(&world, &bob, &LONG()).await.0, 202);
    // Account work is never refused by the cap.
    let export = world
        .call("POST", "/users/me/export", None, Some(&alice.access))
        .await;
    assert_eq!(export.status, 202, "{}", export.body);
    // Revoking frees a slot, once: revoking it again frees nothing.
    for _ in 0..2 {
        let revoked = world
            .call(
                "DELETE",
                &format!("/tasks/{}", ids[0]),
                None,
                Some(&alice.access),
            )
            .await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
    }
    assert_eq!(post_task(&world, &alice, &ADD()).await.0, 202);
    assert_eq!(post_task(&world, &alice, &ADD()).await.0, 429);
}

/// Finished tasks free their slots exactly once: a redelivered message of
/// a finished task frees nothing more.
async fn finished_tasks_free_their_slot_once(backend: &Backend) {
    let world = capped_world(backend, 3);
    let carol = signed_in(&world, "carol").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, body) = post_task(&world, &carol, &ADD()).await;
        assert_eq!(status, 202, "{body}");
        ids.push(body["data"]["task_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(post_task(&world, &carol, &ADD()).await.0, 429);
    world.app.settle().await;
    let bodies: Vec<String> = ids
        .iter()
        .map(|id| {
            TaskMessage {
                task_id: TaskId::parse(id).unwrap(),
            }
            .body()
        })
        .collect();
    world.app.queues.tasks.send(&bodies).await.unwrap();
    world.app.settle().await;
    for _ in 0..3 {
        assert_eq!(post_task(&world, &carol, &LONG()).await.0, 202);
    }
    assert_eq!(post_task(&world, &carol, &LONG()).await.0, 429);
}

/// The store's contract: a counted task takes a slot, FAILURE frees it
/// (here the clean-up's verdict on a task whose worker died), and a stale
/// write of the same transition frees nothing more.
async fn failed_tasks_free_their_slot_once(backend: &Backend) {
    let tasks = backend.stores.tasks();
    let owner = UserId::new_random();
    let now = time::OffsetDateTime::now_utc();
    let counted = |kind| Task {
        counted: true,
        ..Task::new(owner, kind, now)
    };
    let first = counted(TaskKind::LongRunning { seconds: 5 });
    tasks.create_counted_task(&first, 1).await.unwrap();
    let second = counted(TaskKind::LongRunning { seconds: 5 });
    assert!(matches!(
        tasks.create_counted_task(&second, 1).await,
        Err(CreateTaskError::TooManyOpen)
    ));
    // Uncounted (account) work is never refused.
    tasks
        .create_task(&Task::new(owner, TaskKind::ExportData, now))
        .await
        .unwrap();
    let started = Task {
        deadline: Some(now - time::Duration::minutes(1)),
        ..first.next(now, |t| {
            t.status = TaskStatus::Started;
            t.attempts = 1;
        })
    };
    tasks.update_task(&first, &started).await.unwrap();
    let queue =
        shared::adapters::memory::queue::MemoryQueue::new(std::time::Duration::from_secs(30));
    let report = integration_tests::cleanup(&backend.stores, &queue, Default::default())
        .run()
        .await
        .unwrap();
    assert_eq!(report.overdue_tasks_failed, 1);
    let failed = started.next(now, |t| t.status = TaskStatus::Failure);
    assert!(matches!(
        tasks.update_task(&started, &failed).await,
        Err(TaskUpdateError::Stale)
    ));
    tasks.create_counted_task(&second, 1).await.unwrap();
    let third = counted(TaskKind::LongRunning { seconds: 5 });
    assert!(matches!(
        tasks.create_counted_task(&third, 1).await,
        Err(CreateTaskError::TooManyOpen)
    ));
}

/// A task the queue refused is marked FAILURE at once, which frees its
/// slot: an outage does not use up the user's cap.
async fn unqueued_tasks_free_their_slot(backend: &Backend) {
    let mut config = default_config();
    config.max_open_tasks = 2;
    let queues = Queues {
        tasks: Arc::new(integration_tests::moto::dead_queue()),
        ..Queues::memory(config.task_max_receives)
    };
    let world = World::with_background(
        backend.clone(),
        config,
        Some(queues),
        Arc::new(StandardRunner::default()),
    );
    let erin = signed_in(&world, "erin").await;
    for _ in 0..4 {
        let (status, body) = post_task(&world, &erin, &ADD()).await;
        assert_eq!(status, 503, "{body}");
    }
}

/// 24 creates at once never take more than the cap's slots, before and
/// after the first ones finish.
async fn parallel_creates_never_exceed_the_cap(backend: &Backend) {
    let world = capped_world(backend, 5);
    let dave = signed_in(&world, "dave").await;
    for round in 0..2 {
        let body = ADD();
        let replies = join_all((0..24).map(|_| post_task(&world, &dave, &body))).await;
        assert_eq!(statuses(&replies), (5, 19), "round {round}");
        world.app.settle().await;
    }
}

/// A request to the local app as API Gateway hands it over.
async fn call(
    app: &local_api::LocalApp,
    ip: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let (content_type, payload) = match body {
        Some(body) => (
            Some("application/json"),
            lambda_http::Body::from(body.to_string()),
        ),
        None => (None, lambda_http::Body::Empty),
    };
    let mut request = request_from(ip, method, path, content_type, payload);
    if let Some(token) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    read_any(&app.dispatch(request).await)
}

async fn signed_in_at(app: &local_api::LocalApp, ip: &str, name: &str) -> (String, String) {
    let body = signup_body(name, &format!("{name}@example.com"), json!({}));
    let (status, reply) = call(app, ip, "POST", "/auth/signup/", Some(&body), None).await;
    assert_eq!(status, 201, "{reply}");
    let id = reply["data"]["user"]["userId"].as_str().unwrap().to_owned();
    let login = json!({"login": name, "password": PASSWORD});
    let (status, reply) = call(app, ip, "POST", "/auth/login", Some(&login), None).await;
    assert_eq!(status, 200, "{reply}");
    (
        id,
        reply["data"]["access_token"].as_str().unwrap().to_owned(),
    )
}

/// The local server's workers, as AWS runs them: every slot of the tasks
/// worker is taken by hour-long tasks (and more wait in the queue), yet a
/// deletion finishes in seconds, on its own queue and worker. On one
/// shared queue it would wait behind the hour-long tasks.
async fn deletion_completes_while_user_tasks_fill_the_queue(backend: &Backend) {
    let app = integration_tests::local_app(backend);
    let (victim, victim_token) = signed_in_at(&app, "198.51.100.1", "victor").await;
    // Five users at their cap: more batches of hour-long tasks than the
    // worker runs at once.
    for flooder in 0..5 {
        let ip = format!("198.51.100.{}", flooder + 10);
        let (_, token) = signed_in_at(&app, &ip, &format!("flood{flooder}")).await;
        for _ in 0..default_config().max_open_tasks {
            let (status, body) =
                call(&app, &ip, "POST", "/tasks", Some(&LONG()), Some(&token)).await;
            assert_eq!(status, 202, "{body}");
        }
    }
    app.spawn_background();
    // The workers have taken what they can run; the rest waits.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(app.queues.tasks.depth().await.unwrap() > 0);

    let (status, body) = call(
        &app,
        "198.51.100.1",
        "DELETE",
        "/users/me",
        Some(&json!({"password": PASSWORD})),
        Some(&victim_token),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let victim = UserId::from_uuid(victim.parse().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while backend.stores.users().get(victim).await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the deletion waited behind users' tasks"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(app.queues.tasks.depth().await.unwrap() > 0);
}

integration_tests::contract_on_both_backends!(
    open_tasks_are_capped_per_user,
    finished_tasks_free_their_slot_once,
    failed_tasks_free_their_slot_once,
    unqueued_tasks_free_their_slot,
    parallel_creates_never_exceed_the_cap,
    deletion_completes_while_user_tasks_fill_the_queue,
);
