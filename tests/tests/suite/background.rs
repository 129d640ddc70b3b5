//! The queue, stream and schedule side: every non-HTTP sample in events/
//! through its handler, and the transactional outbox surviving a queue
//! outage.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use integration_tests::world::World;
use integration_tests::Backend;
use shared::adapters::email::LocalMailbox;
use shared::adapters::memory::queue::MemoryQueue;
use shared::domain::{Task, TaskKind, TaskStatus, UserId};
use shared::ports::queues::MessageQueue;
use shared::usecases::relay::Relay;

/// The samples of the queue, stream and schedule triggers.
pub const EVENT_SAMPLES: &[&str] = &[
    "task-worker-sqs.json",
    "account-worker-sqs.json",
    "notification-worker-sqs.json",
    "outbox-relay-stream.json",
    "cleanup-schedule.json",
    "key-rotation-schedule.json",
    // Fed through the processor by the S3 tests (avatars.rs).
    "avatar-processor-s3.json",
];

fn sample(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    std::fs::read_to_string(path).expect("sample event")
}

#[tokio::test]
async fn task_worker_sample_runs_its_task_once() {
    let backend = Backend::memory();
    let task = Task::new(
        UserId::new_random(),
        TaskKind::Add {
            x: 5.into(),
            y: 3.into(),
        },
        time::OffsetDateTime::now_utc(),
    );
    backend.stores.tasks().create_task(&task).await.unwrap();
    let queue = Arc::new(MemoryQueue::new(Duration::from_secs(30)));
    let state = task_worker::State::new(
        &backend.stores,
        &integration_tests::default_config(),
        queue,
        Arc::new(shared::usecases::task_runner::StandardRunner::default()),
    );
    let text = sample("task-worker-sqs.json").replace("TASK_ID", &task.id.to_string());
    for _ in 0..2 {
        let event: SqsEvent = serde_json::from_str(&text).expect("SQS event");
        let until = Instant::now() + Duration::from_secs(30);
        let response = task_worker::handle(&state, event, until).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let stored = backend
        .stores
        .tasks()
        .get_task(task.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, TaskStatus::Success);
    assert_eq!(stored.result, Some(serde_json::json!(8)));
    assert_eq!(stored.attempts, 1);
}

/// The account worker is the task worker's handler on the account tasks
/// queue: its sample (an export) runs once however often delivered.
#[tokio::test]
async fn account_worker_sample_runs_its_task_once() {
    let backend = Backend::memory();
    let task = Task::new(
        UserId::new_random(),
        TaskKind::ExportData,
        time::OffsetDateTime::now_utc(),
    );
    backend.stores.tasks().create_task(&task).await.unwrap();
    let queues = shared::background::Queues::memory(3);
    let state = task_worker::State::new(
        &backend.stores,
        &integration_tests::default_config(),
        queues.account_tasks.clone(),
        shared::app::task_runner(&backend.stores),
    );
    let text = sample("account-worker-sqs.json").replace("TASK_ID", &task.id.to_string());
    for _ in 0..2 {
        let event: SqsEvent = serde_json::from_str(&text).expect("SQS event");
        let until = Instant::now() + Duration::from_secs(30);
        let response = task_worker::handle(&state, event, until).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let stored = backend
        .stores
        .tasks()
        .get_task(task.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, TaskStatus::Success);
    assert_eq!(stored.attempts, 1);
}

#[tokio::test]
async fn notification_worker_sample_sends_one_email_however_often_delivered() {
    let backend = Backend::memory();
    let mailbox = Arc::new(LocalMailbox::default());
    let state = notification_worker::State::new(
        &backend.stores,
        &integration_tests::default_config(),
        mailbox.clone(),
        mailbox.clone(),
    );
    let text = sample("notification-worker-sqs.json")
        .replace("USER_ID", &UserId::new_random().to_string());
    for _ in 0..2 {
        let event: SqsEvent = serde_json::from_str(&text).expect("SQS event");
        let response = notification_worker::handle(&state, event).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let sent = mailbox.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "alice@example.com");
    assert_eq!(sent[0].subject, "Your password was changed");
    // A body that is no event is retried (and dead-lettered in the end).
    let mut event: SqsEvent = serde_json::from_str(&text).unwrap();
    event.records[0].body = Some("{\"nope\": true}".into());
    let response = notification_worker::handle(&state, event).await;
    assert_eq!(response.batch_item_failures.len(), 1);
}

#[tokio::test]
async fn outbox_relay_sample_sends_the_event_to_the_queue() {
    let backend = Backend::memory();
    let queue = Arc::new(MemoryQueue::new(Duration::from_secs(30)));
    let state = outbox_relay::State {
        stores: backend.stores.clone(),
        queue: queue.clone(),
    };
    let event: StreamEvent =
        serde_json::from_str(&sample("outbox-relay-stream.json")).expect("stream event");
    let response = outbox_relay::handle(&state, event.clone()).await;
    assert!(response.batch_item_failures.is_empty());
    let sent = queue.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(sent.len(), 1);
    let relayed: shared::domain::NotificationEvent = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(relayed.event_type.as_str(), "user.registered");

    // The queue is down: the record is reported, so the stream retries it.
    let state = outbox_relay::State {
        stores: backend.stores.clone(),
        queue: Arc::new(integration_tests::moto::dead_queue()),
    };
    let response = outbox_relay::handle(&state, event).await;
    assert_eq!(
        response.batch_item_failures[0].item_identifier.as_deref(),
        Some("111100000000000000000001")
    );
}

#[tokio::test]
async fn cleanup_sample_runs_the_job() {
    let backend = Backend::memory();
    let state = cleanup::State {
        stores: backend.stores.clone(),
        notifications: Arc::new(MemoryQueue::new(Duration::from_secs(30))),
        account_tasks: Arc::new(MemoryQueue::new(Duration::from_secs(30))),
        policy: Default::default(),
    };
    let event: EventBridgeEvent =
        serde_json::from_str(&sample("cleanup-schedule.json")).expect("schedule event");
    let report = cleanup::handle(&state, event).await.unwrap();
    assert_eq!(report, Default::default());
}

/// Sign-up writes its events with the account; a queue outage at relay
/// time loses none, and they go out once the queue is back.
async fn outbox_survives_a_queue_outage(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("olive", "olive@example.com").await;
    let pending = backend.stores.outbox().pending().await.unwrap();
    let kinds: Vec<&str> = pending.iter().map(|e| e.event_type.as_str()).collect();
    assert!(kinds.contains(&"user.registered") && kinds.contains(&"email.confirmation_requested"));

    let dead = integration_tests::moto::dead_queue();
    let relay = Relay {
        outbox: backend.stores.outbox(),
        queue: &dead,
    };
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(1);
    assert!(relay.relay_pending(later, 100).await.is_err());
    assert_eq!(backend.stores.outbox().pending().await.unwrap(), pending);

    let live: Arc<dyn MessageQueue> = match backend.dynamo {
        Some(_) => Arc::new(integration_tests::moto::fresh_queue("outbox", 5).await.0),
        None => Arc::new(MemoryQueue::new(Duration::from_secs(30))),
    };
    let relay = Relay {
        outbox: backend.stores.outbox(),
        queue: live.as_ref(),
    };
    assert_eq!(
        relay.relay_pending(later, 100).await.unwrap(),
        pending.len()
    );
    assert!(backend.stores.outbox().pending().await.unwrap().is_empty());
    let mut bodies = Vec::new();
    loop {
        let batch = live.receive(10, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for message in &batch {
            live.delete(message).await.unwrap();
            bodies.push(message.body.clone());
        }
    }
    assert_eq!(bodies.len(), pending.len());
    // Relaying again sends nothing: the outbox is empty.
    assert_eq!(relay.relay_pending(later, 100).await.unwrap(), 0);
}

/// Relayed twice (the stream retried after a send that did go out), an
/// event is still mailed once.
async fn events_relayed_twice_are_mailed_once(backend: &Backend) {
    let world = World::new(backend.clone());
    world.sign_up("twice", "twice@example.com").await;
    let events = backend.stores.outbox().pending().await.unwrap();
    let bodies: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    world.app.queues.notifications.send(&bodies).await.unwrap();
    world.app.settle().await;
    let mailed = world.app.mailbox.messages().len();
    assert_eq!(mailed, 2, "welcome and confirmation");
    world.app.queues.notifications.send(&bodies).await.unwrap();
    world.app.settle().await;
    assert_eq!(world.app.mailbox.messages().len(), mailed);
}

integration_tests::contract_on_both_backends!(
    outbox_survives_a_queue_outage,
    events_relayed_twice_are_mailed_once,
);

/// Health names the dependency that fails: here the tasks queue points at
/// an address where nothing listens.
#[tokio::test]
async fn health_names_a_dead_queue() {
    let backend = Backend::dynamo().await;
    let live = integration_tests::moto::fresh_queues(3).await;
    let healthy = health::State::new(&backend.stores, &live);
    let request =
        integration_tests::requests::request("GET", "/health", None, lambda_http::Body::Empty);
    let (status, body) =
        integration_tests::requests::read(&health::handle(&healthy, request).await);
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["data"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "table",
            "tasks_queue",
            "account_tasks_queue",
            "notifications_queue"
        ]
    );

    let broken = shared::background::Queues {
        tasks: Arc::new(integration_tests::moto::dead_queue()),
        ..live
    };
    let sick = health::State::new(&backend.stores, &broken);
    let request =
        integration_tests::requests::request("GET", "/health", None, lambda_http::Body::Empty);
    let (status, body) = integration_tests::requests::read(&health::handle(&sick, request).await);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errors"]["tasks_queue"][0]["code"], "unavailable");
    assert!(
        body["errors"].get("table").is_none()
            && body["errors"].get("notifications_queue").is_none()
    );
}

/// The SES sender through the real SDK on moto: a verified sender's mail
/// goes out; an unverified one is refused as a fault, not a retry.
#[tokio::test]
async fn ses_sender_sends_from_a_verified_identity() {
    use shared::adapters::email::SesSender;
    use shared::ports::notifications::{EmailMessage, EmailSender};
    let client = integration_tests::moto::ses_client();
    let from = format!("noreply-{}@example.com", uuid::Uuid::new_v4().simple());
    client
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .expect("verify the sender on moto");
    let message = EmailMessage {
        to: "reader@example.com".into(),
        subject: "Subject".into(),
        text: "Plain text".into(),
        html: "<p>HTML</p>".into(),
        event_id: uuid::Uuid::new_v4(),
        event_type: "password.changed".into(),
    };
    SesSender::with_client(client.clone(), &from)
        .send(&message)
        .await
        .expect("sent through SES");
    let refused = SesSender::with_client(client, "stranger@example.org")
        .send(&message)
        .await
        .expect_err("an unverified sender is refused");
    assert!(
        matches!(refused, shared::ports::StoreError::Internal(_)),
        "{refused:?}"
    );
}

/// A secret that exists passes the health check; one that does not (a
/// deployment that lost it) is named.
#[tokio::test]
async fn health_names_a_missing_secret() {
    use shared::adapters::secretsmanager::SecretProbe;
    let backend = Backend::memory();
    let client = integration_tests::moto::secrets_client();
    let present = integration_tests::moto::create_secret(&client, "health", "{}").await;
    let mut state = health::State::new(&backend.stores, &shared::background::Queues::memory(3));
    state.probes.push(Arc::new(SecretProbe {
        name: "signing_keys",
        client: client.clone(),
        secret_id: present,
    }));
    state.probes.push(Arc::new(SecretProbe {
        name: "phone_keys",
        client,
        secret_id: "users-test/never-created".into(),
    }));
    let request =
        integration_tests::requests::request("GET", "/health", None, lambda_http::Body::Empty);
    let (status, body) = integration_tests::requests::read(&health::handle(&state, request).await);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errors"]["phone_keys"][0]["code"], "unavailable");
    assert!(body["errors"].get("signing_keys").is_none(), "{body}");
}
