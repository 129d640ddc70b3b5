//! Injected DynamoDB faults (tests/src/faults.rs) on the workers, on
//! DynamoDB Local: the outbox relay, the notification worker and the task
//! worker report a message they could not finish as a batch item failure,
//! so it is delivered again, and once the fault clears each event is
//! mailed exactly once and each task finishes once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use integration_tests::dynamodb::{lambda_event, StreamReader};
use integration_tests::faults::{faulty_backend, Fault};
use integration_tests::world::World;
use integration_tests::{default_config, Backend};
use shared::adapters::email::LocalMailbox;
use shared::adapters::memory::queue::MemoryQueue;
use shared::domain::{Task, TaskKind, TaskStatus, UserId};
use shared::ports::queues::MessageQueue;

/// Every fault DynamoDB may answer with.
const ALL: [Fault; 5] = [
    Fault::TransactionConflict,
    Fault::ProvisionedThroughputExceeded,
    Fault::Throttling,
    Fault::InternalServerError,
    Fault::Stall,
];

/// The single-item and transactional writes the workers make.
const WRITES: [&str; 4] = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"];

fn sample(name: &str) -> String {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    std::fs::read_to_string(path).expect("sample event")
}

/// The queue's messages as one SQS event, each deleted from the queue.
async fn as_sqs_event(queue: &dyn MessageQueue) -> SqsEvent {
    let mut records = Vec::new();
    loop {
        let batch = queue.receive(10, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for message in &batch {
            queue.delete(message).await.unwrap();
            records.push(serde_json::json!({
                "messageId": uuid::Uuid::new_v4().to_string(),
                "body": message.body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
            }));
        }
    }
    serde_json::from_value(serde_json::json!({ "Records": records })).expect("an SQS event")
}

fn notification_state(
    backend: &Backend,
    mailbox: &Arc<LocalMailbox>,
) -> notification_worker::State {
    notification_worker::State::new(
        &backend.stores,
        &default_config(),
        mailbox.clone(),
        mailbox.clone(),
    )
}

#[tokio::test]
async fn the_outbox_delivers_once_after_dynamodb_fails_the_relay() {
    for fault in ALL {
        let (backend, faults) = faulty_backend().await;
        let store = backend.dynamo.clone().expect("a table");
        let mut stream = StreamReader::open(&store).await;
        let world = World::new(backend.clone());
        world.sign_up("relayed", "relayed@example.com").await;
        let pending = backend.stores.outbox().pending().await.unwrap();
        let records = stream.read().await;
        let queue = Arc::new(MemoryQueue::new(Duration::from_secs(30)));
        let relay = outbox_relay::State {
            stores: backend.stores.clone(),
            queue: queue.clone(),
        };

        for operation in WRITES {
            faults.always(operation, fault);
        }
        let response = outbox_relay::handle(&relay, lambda_event(records.clone())).await;
        assert_eq!(response.batch_item_failures.len(), 1, "{fault:?}");
        assert_eq!(
            backend.stores.outbox().pending().await.unwrap().len(),
            pending.len(),
            "{fault:?}: nothing leaves the outbox unsent"
        );

        // The stream hands the batch over again once the table answers.
        faults.clear();
        let response = outbox_relay::handle(&relay, lambda_event(records)).await;
        assert!(response.batch_item_failures.is_empty(), "{fault:?}");
        assert!(backend.stores.outbox().pending().await.unwrap().is_empty());

        // The queue saw an event twice; the worker mails it once.
        let mailbox = Arc::new(LocalMailbox::default());
        let event = as_sqs_event(queue.as_ref()).await;
        assert!(event.records.len() > pending.len(), "{fault:?}: resent");
        let response =
            notification_worker::handle(&notification_state(&backend, &mailbox), event).await;
        assert!(response.batch_item_failures.is_empty(), "{fault:?}");
        let mailed: Vec<_> = mailbox.messages().iter().map(|m| m.event_id).collect();
        let unique: BTreeSet<_> = mailed.iter().collect();
        assert!(!mailed.is_empty(), "{fault:?}");
        assert_eq!(unique.len(), mailed.len(), "{fault:?}: mailed twice");
    }
}

fn notification_event() -> String {
    sample("notification-worker-sqs.json").replace("USER_ID", &UserId::new_random().to_string())
}

#[tokio::test]
async fn a_notification_is_mailed_once_after_dynamodb_fails_the_worker() {
    for fault in ALL {
        let (backend, faults) = faulty_backend().await;
        let mailbox = Arc::new(LocalMailbox::default());
        let state = notification_state(&backend, &mailbox);
        let text = notification_event();
        for operation in WRITES {
            faults.always(operation, fault);
        }
        let event: SqsEvent = serde_json::from_str(&text).unwrap();
        let response = notification_worker::handle(&state, event).await;
        assert_eq!(response.batch_item_failures.len(), 1, "{fault:?}");
        assert!(mailbox.messages().is_empty(), "{fault:?}");

        faults.clear();
        for _ in 0..2 {
            let event: SqsEvent = serde_json::from_str(&text).unwrap();
            let response = notification_worker::handle(&state, event).await;
            assert!(response.batch_item_failures.is_empty(), "{fault:?}");
        }
        assert_eq!(mailbox.messages().len(), 1, "{fault:?}");
    }
}

#[tokio::test]
async fn a_notification_whose_claim_answer_was_lost_is_still_mailed() {
    for fault in [Fault::InternalServerError, Fault::Stall] {
        let (backend, faults) = faulty_backend().await;
        let mailbox = Arc::new(LocalMailbox::default());
        let state = notification_state(&backend, &mailbox);
        // The delivery claim is written; its answer is lost, and the SDK
        // sends the same claim again.
        faults.nth_after_applying("PutItem", 1, fault);
        let event: SqsEvent = serde_json::from_str(&notification_event()).unwrap();
        let response = notification_worker::handle(&state, event).await;
        assert!(response.batch_item_failures.is_empty(), "{fault:?}");
        assert_eq!(mailbox.messages().len(), 1, "{fault:?}: the email was lost");
    }
}

#[tokio::test]
async fn a_task_finishes_once_after_dynamodb_fails_the_worker() {
    for fault in ALL {
        let (backend, faults) = faulty_backend().await;
        let task = Task::new(
            UserId::new_random(),
            TaskKind::Add {
                x: 5.into(),
                y: 3.into(),
            },
            time::OffsetDateTime::now_utc(),
        );
        backend.stores.tasks().create_task(&task).await.unwrap();
        let state = task_worker::State::new(
            &backend.stores,
            &default_config(),
            Arc::new(MemoryQueue::new(Duration::from_secs(30))),
            Arc::new(shared::usecases::task_runner::StandardRunner::default()),
        );
        let text = sample("task-worker-sqs.json").replace("TASK_ID", &task.id.to_string());
        let run = || async {
            let event: SqsEvent = serde_json::from_str(&text).expect("SQS event");
            task_worker::handle(&state, event, Instant::now() + Duration::from_secs(30)).await
        };

        for operation in WRITES {
            faults.always(operation, fault);
        }
        assert_eq!(run().await.batch_item_failures.len(), 1, "{fault:?}");
        faults.clear();
        // A passing fault on the first write of the redelivery is retried.
        for operation in WRITES {
            faults.nth(operation, 1, fault);
        }
        assert!(run().await.batch_item_failures.is_empty(), "{fault:?}");
        assert!(run().await.batch_item_failures.is_empty(), "{fault:?}");

        let stored = backend
            .stores
            .tasks()
            .get_task(task.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, TaskStatus::Success, "{fault:?}");
        assert_eq!(stored.result, Some(serde_json::json!(8)), "{fault:?}");
    }
}

#[tokio::test]
async fn a_single_write_meeting_a_transaction_is_unavailable_not_a_fault() {
    let (backend, faults) = faulty_backend().await;
    // DynamoDB refuses a single-item write to an item a transaction holds
    // with TransactionConflictException: worth retrying, like throttling.
    faults.always("PutItem", Fault::TransactionConflict);
    let claimed = backend
        .stores
        .deliveries()
        .claim_delivery(uuid::Uuid::new_v4(), time::OffsetDateTime::now_utc())
        .await;
    assert!(
        matches!(claimed, Err(shared::ports::StoreError::Unavailable(_))),
        "{claimed:?}"
    );
}

#[tokio::test]
async fn a_task_whose_write_answers_were_lost_still_finishes_once() {
    for fault in [Fault::InternalServerError, Fault::Stall] {
        let (backend, faults) = faulty_backend().await;
        let task = Task::new(
            UserId::new_random(),
            TaskKind::Add {
                x: 5.into(),
                y: 3.into(),
            },
            time::OffsetDateTime::now_utc(),
        );
        backend.stores.tasks().create_task(&task).await.unwrap();
        let state = task_worker::State::new(
            &backend.stores,
            &default_config(),
            Arc::new(MemoryQueue::new(Duration::from_secs(30))),
            Arc::new(shared::usecases::task_runner::StandardRunner::default()),
        );
        // Every write of the run takes effect, and its first answer is lost.
        for operation in WRITES {
            for nth in [1, 3, 5] {
                faults.nth_after_applying(operation, nth, fault);
            }
        }
        let text = sample("task-worker-sqs.json").replace("TASK_ID", &task.id.to_string());
        for _ in 0..2 {
            let event: SqsEvent = serde_json::from_str(&text).expect("SQS event");
            let until = Instant::now() + Duration::from_secs(30);
            let response = task_worker::handle(&state, event, until).await;
            assert!(response.batch_item_failures.is_empty(), "{fault:?}");
        }
        let stored = backend
            .stores
            .tasks()
            .get_task(task.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, TaskStatus::Success, "{fault:?}");
        assert_eq!(stored.result, Some(serde_json::json!(8)), "{fault:?}");
        assert_eq!(stored.attempts, 1, "{fault:?}: run once");
        let lost = WRITES
            .iter()
            .flat_map(|op| faults.attempts(op))
            .filter(|a| a.fault.is_some())
            .count();
        assert!(lost >= 2, "{fault:?}: answers lost: {lost}");
    }
}
