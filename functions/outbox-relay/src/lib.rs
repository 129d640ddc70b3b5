//! The outbox relay: a DynamoDB-stream-triggered function. Each new
//! outbox item (the template's filter passes only those) is sent to the
//! notifications queue and then deleted; a record that cannot be sent is a
//! batch item failure, so the stream retries from it. Events the stream
//! never delivers are swept up by the clean-up job.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde::Deserialize;
use shared::app::{StartupError, Stores};
use shared::background::{queue, QueueName};
use shared::config::Config;
use shared::domain::NotificationEvent;
use shared::ports::queues::MessageQueue;
use shared::usecases::relay::Relay;

pub struct State {
    pub stores: Stores,
    pub queue: Arc<dyn MessageQueue>,
}

impl State {
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let queue = queue(&config, QueueName::Notifications).await?;
        Ok(Self { stores, queue })
    }
}

/// The attributes of an outbox item the relay reads.
#[derive(Deserialize)]
struct OutboxImage {
    entity: String,
    event: String,
}

/// The event in a stream record; `None` for anything but a new outbox item.
fn outbox_event(record: &EventRecord) -> Option<Result<NotificationEvent, String>> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image: OutboxImage = serde_dynamo::from_item(record.change.new_image.clone()).ok()?;
    if image.entity != "outbox_event" {
        return None;
    }
    Some(serde_json::from_str(&image.event).map_err(|e| e.to_string()))
}

pub async fn handle(state: &State, event: Event) -> DynamoDbEventResponse {
    let relay = Relay {
        outbox: state.stores.outbox(),
        queue: state.queue.as_ref(),
    };
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some(parsed) = outbox_event(record) else {
            continue;
        };
        let result = match parsed {
            Ok(notification) => relay
                .relay(&[notification])
                .await
                .map_err(|e| e.to_string()),
            Err(error) => {
                // Retrying cannot fix it: log it and let it go (TTL removes it).
                tracing::error!(event_id = %record.event_id, error = %error, "unreadable outbox item");
                Ok(())
            }
        };
        if let Err(error) = result {
            tracing::warn!(event_id = %record.event_id, error = %error, "relay failed; the stream retries");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            // Stream batches are ordered: the rest is retried from here.
            break;
        }
    }
    response
}
