//! Background tasks through the API and the worker, on both stores: in
//! memory with in-process queues, and on DynamoDB Local with real SQS
//! queues and dead-letter queues on moto.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use integration_tests::world::{Tokens, World, PASSWORD};
use integration_tests::{default_config, Backend};
use serde_json::{json, Value};
use shared::background::Queues;
use shared::domain::{Task, TaskId, TaskStatus};
use shared::usecases::task_runner::{Progress, StandardRunner, TaskFailure, TaskRunner};
use shared::usecases::tasks::TaskMessage;

/// Fails transiently `failures` times, then runs the task.
struct Flaky {
    failures: AtomicU32,
}

#[async_trait]
impl TaskRunner for Flaky {
    async fn run(
        &self,
        task: &Task,
        until: Instant,
        progress: &dyn Progress,
    ) -> Result<Value, TaskFailure> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(TaskFailure::Transient("the dependency timed out".into()));
        }
        StandardRunner::default().run(task, until, progress).await
    }
}

pub const MAX_RECEIVES: u32 = 3;

/// A world whose queues are SQS on moto when the store is, with dead
/// letters after `MAX_RECEIVES` receives.
pub async fn world_with(backend: &Backend, runner: Arc<dyn TaskRunner>) -> World {
    let mut config = default_config();
    config.task_max_receives = MAX_RECEIVES;
    let queues = match backend.dynamo {
        Some(_) => integration_tests::moto::fresh_queues(MAX_RECEIVES).await,
        None => Queues::memory(MAX_RECEIVES),
    };
    World::with_background(backend.clone(), config, Some(queues), runner)
}

async fn signed_in(world: &World, name: &str) -> Tokens {
    world.sign_up(name, &format!("{name}@example.com")).await;
    let tokens = world.log_in(name, PASSWORD).await;
    // The sign-up's emails out of the way: only tasks move from here on.
    world.app.settle().await;
    tokens
}

async fn create(world: &World, tokens: &Tokens, body: Value) -> String {
    let reply = world
        .call("POST", "/tasks", Some(&body), Some(&tokens.access))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["data"]["status"], "PENDING");
    reply.body["data"]["task_id"].as_str().unwrap().to_owned()
}

async fn get(world: &World, tokens: &Tokens, id: &str) -> (u16, Value) {
    let reply = world
        .call("GET", &format!("/tasks/{id}"), None, Some(&tokens.access))
        .await;
    (reply.status, reply.body)
}

async fn task_runs_once_even_when_redelivered(backend: &Backend) {
    let world = world_with(backend, Arc::new(StandardRunner::default())).await;
    let tokens = signed_in(&world, "tina").await;
    let id = create(&world, &tokens, json!({"type": "add", "x": 5, "y": 3})).await;
    let (_, body) = get(&world, &tokens, &id).await;
    assert_eq!(body["data"]["status"], "PENDING");
    assert_eq!(world.app.settle().await, 1);
    let (status, body) = get(&world, &tokens, &id).await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(
        (
            &data["status"],
            &data["result"],
            &data["attempts"],
            &data["type"]
        ),
        (&json!("SUCCESS"), &json!(8), &json!(1), &json!("add"))
    );
    // SQS delivers at least once: the same message again changes nothing.
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
    assert_eq!(world.app.settle().await, 1);
    let (_, again) = get(&world, &tokens, &id).await;
    assert_eq!(again["data"], body["data"]);
    assert_eq!(world.app.queues.tasks.depth().await.unwrap(), 0);
}

async fn revoked_task_never_runs(backend: &Backend) {
    let world = world_with(backend, Arc::new(StandardRunner::default())).await;
    let tokens = signed_in(&world, "rita").await;
    let id = create(
        &world,
        &tokens,
        json!({"type": "process_data", "data": [1, 2]}),
    )
    .await;
    for _ in 0..2 {
        let reply = world
            .call(
                "DELETE",
                &format!("/tasks/{id}/"),
                None,
                Some(&tokens.access),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["data"]["status"], "REVOKED");
    }
    world.app.settle().await;
    let (_, body) = get(&world, &tokens, &id).await;
    assert_eq!(body["data"]["status"], "REVOKED");
    assert_eq!(body["data"]["attempts"], 0);
    // A finished task cannot be revoked.
    let done = create(&world, &tokens, json!({"type": "add", "x": 1, "y": 1})).await;
    world.app.settle().await;
    let reply = world
        .call(
            "DELETE",
            &format!("/tasks/{done}"),
            None,
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(
        reply.body["errors"]["non_field_errors"][0]["code"],
        "invalid"
    );
}

async fn transient_failure_is_retried_then_succeeds(backend: &Backend) {
    let runner = Arc::new(Flaky {
        failures: AtomicU32::new(1),
    });
    let world = world_with(backend, runner).await;
    let tokens = signed_in(&world, "ravi").await;
    let id = create(&world, &tokens, json!({"type": "add", "x": 2, "y": 2})).await;
    // One poll: the attempt fails and the message goes back.
    let handled =
        shared::background::poll_once(world.app.queues.tasks.as_ref(), Duration::ZERO, &|event| {
            task_worker::handle(
                &world.app.task_worker,
                event,
                Instant::now() + Duration::from_secs(60),
            )
        })
        .await
        .unwrap();
    assert_eq!(handled, 1);
    let (_, body) = get(&world, &tokens, &id).await;
    assert_eq!(body["data"]["status"], "RETRY");
    assert_eq!(body["data"]["error"], "the dependency timed out");
    world.app.settle().await;
    let (_, body) = get(&world, &tokens, &id).await;
    assert_eq!(
        (
            &body["data"]["status"],
            &body["data"]["attempts"],
            &body["data"]["result"]
        ),
        (&json!("SUCCESS"), &json!(2), &json!(4))
    );
}

async fn failing_task_ends_in_the_dead_letter_queue(backend: &Backend) {
    let runner = Arc::new(Flaky {
        failures: AtomicU32::new(u32::MAX),
    });
    let world = world_with(backend, runner).await;
    let tokens = signed_in(&world, "fay").await;
    let id = create(&world, &tokens, json!({"type": "add", "x": 2, "y": 2})).await;
    world.app.settle().await;
    let (_, body) = get(&world, &tokens, &id).await;
    assert_eq!(body["data"]["status"], "FAILURE", "{body}");
    assert_eq!(body["data"]["attempts"], MAX_RECEIVES);
    assert!(body["data"]["error"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Gave up after {MAX_RECEIVES} attempts")));
    let dead = world.app.queues.tasks_dead_letters.clone().unwrap();
    // The queue hands it over on the receive after the last one.
    let _ = world.app.queues.tasks.receive(10, Duration::ZERO).await;
    assert_eq!(world.app.queues.tasks.depth().await.unwrap(), 0);
    let letters = dead.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(letters.len(), 1);
    let message: TaskMessage = serde_json::from_str(&letters[0].body).unwrap();
    assert_eq!(message.task_id.to_string(), id);
}

async fn tasks_belong_to_their_creator(backend: &Backend) {
    let world = world_with(backend, Arc::new(StandardRunner::default())).await;
    let owner = signed_in(&world, "olga").await;
    let other = signed_in(&world, "oscar").await;
    let id = create(&world, &owner, json!({"type": "add", "x": 1, "y": 2})).await;
    let (status, body) = get(&world, &other, &id).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["errors"]["non_field_errors"][0]["code"], "not_found");
    let reply = world
        .call("DELETE", &format!("/tasks/{id}"), None, Some(&other.access))
        .await;
    assert_eq!(reply.status, 404);
    for missing in ["00000000-0000-0000-0000-000000000000", "not-a-uuid"] {
        assert_eq!(get(&world, &owner, missing).await.0, 404);
    }
    let reply = world.call("GET", &format!("/tasks/{id}"), None, None).await;
    assert_eq!(reply.status, 401);
    let (_, body) = get(&world, &owner, &id).await;
    assert_eq!(body["data"]["status"], "PENDING");
}

async fn task_bodies_are_validated(backend: &Backend) {
    let world = world_with(backend, Arc::new(StandardRunner::default())).await;
    let tokens = signed_in(&world, "vera").await;
    for (body, field, code) in [
        (json!({}), "type", "required"),
        (json!({"type": "shutdown"}), "type", "invalid"),
        (json!({"type": "add", "x": 1}), "y", "required"),
        (json!({"type": "add", "x": "1", "y": 1}), "x", "invalid"),
        (
            json!({"type": "long_running", "seconds": 0}),
            "seconds",
            "invalid",
        ),
        (
            json!({"type": "long_running", "seconds": 100000}),
            "seconds",
            "invalid",
        ),
        (json!({"type": "process_data"}), "data", "required"),
    ] {
        let reply = world
            .call("POST", "/tasks", Some(&body), Some(&tokens.access))
            .await;
        assert_eq!(reply.status, 400, "{body} → {}", reply.body);
        assert_eq!(reply.body["errors"][field][0]["code"], code, "{body}");
    }
    assert_eq!(world.app.queues.tasks.depth().await.unwrap(), 0);
}

async fn long_task_reports_progress_and_continues(backend: &Backend) {
    // Steps long enough that the invocation below fits at least one after
    // its store writes even on a loaded machine (on moto, 30 ms steps in a
    // 70 ms invocation sometimes fitted none), and too short a time for all four.
    let runner = Arc::new(StandardRunner {
        step: Duration::from_millis(250),
        margin: Duration::ZERO,
    });
    let world = world_with(backend, runner).await;
    let tokens = signed_in(&world, "lena").await;
    let id = create(
        &world,
        &tokens,
        json!({"type": "long_running", "seconds": 4}),
    )
    .await;
    // An invocation with too little time left: progress is kept and a
    // continuation is queued.
    let handled =
        shared::background::poll_once(world.app.queues.tasks.as_ref(), Duration::ZERO, &|event| {
            task_worker::handle(
                &world.app.task_worker,
                event,
                Instant::now() + Duration::from_millis(800),
            )
        })
        .await
        .unwrap();
    assert_eq!(handled, 1);
    let (_, body) = get(&world, &tokens, &id).await;
    assert_eq!(body["data"]["status"], "RETRY", "{body}");
    let done = body["data"]["progress"]["done"].as_u64().unwrap();
    assert!((1..4).contains(&done), "{body}");
    assert_eq!(world.app.queues.tasks.depth().await.unwrap(), 1);
    world.app.settle().await;
    let (_, body) = get(&world, &tokens, &id).await;
    assert_eq!(body["data"]["status"], "SUCCESS", "{body}");
    assert_eq!(body["data"]["progress"], json!({"done": 4, "total": 4}));
    assert_eq!(body["data"]["result"], json!({"seconds": 4}));
}

integration_tests::contract_on_both_backends!(
    task_runs_once_even_when_redelivered,
    revoked_task_never_runs,
    transient_failure_is_retried_then_succeeds,
    failing_task_ends_in_the_dead_letter_queue,
    tasks_belong_to_their_creator,
    task_bodies_are_validated,
    long_task_reports_progress_and_continues,
    overdue_task_is_failed_once,
);

/// A task whose worker died (STARTED past its deadline) is failed by the
/// clean-up; two clean-ups at once fail it once.
async fn overdue_task_is_failed_once(backend: &Backend) {
    let stores = &backend.stores;
    let now = time::OffsetDateTime::now_utc();
    let task = Task::new(
        shared::domain::UserId::new_random(),
        shared::domain::TaskKind::LongRunning { seconds: 5 },
        now,
    );
    stores.tasks().create_task(&task).await.unwrap();
    let started = Task {
        deadline: Some(now - time::Duration::minutes(1)),
        ..task.next(now, |t| {
            t.status = TaskStatus::Started;
            t.attempts = 1;
        })
    };
    stores.tasks().update_task(&task, &started).await.unwrap();
    let queue = shared::adapters::memory::queue::MemoryQueue::new(Duration::from_secs(30));
    let cleanup = || integration_tests::cleanup(stores, &queue, Default::default());
    let (one, two) = (cleanup(), cleanup());
    let (first, second) = tokio::join!(one.run(), two.run());
    let failed = first.unwrap().overdue_tasks_failed + second.unwrap().overdue_tasks_failed;
    assert_eq!(failed, 1);
    let stored = stores.tasks().get_task(task.id).await.unwrap().unwrap();
    assert_eq!(stored.status, TaskStatus::Failure);
    assert_eq!(
        stored.error.as_deref(),
        Some("The worker did not finish in time.")
    );
    assert!(stores
        .tasks()
        .overdue_tasks(now, 10)
        .await
        .unwrap()
        .is_empty());
}
