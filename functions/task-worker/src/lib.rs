//! The task worker: an SQS-triggered function that runs each task message
//! (`usecases::task_worker`) and reports the messages to deliver again as
//! batch item failures.
//!
//! The same handler serves two functions: this one on the tasks queue
//! (users' tasks) and `account-worker` on the account tasks queue
//! (deletion, export), each with its own reserved concurrency, so a flood
//! of user tasks never delays account work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use shared::app::{StartupError, Stores};
use shared::background::{queue, receive_count, QueueName};
use shared::config::Config;
use shared::ports::queues::MessageQueue;
use shared::usecases::task_runner::TaskRunner;
use shared::usecases::task_worker::TaskWorker;

pub struct State {
    pub stores: Stores,
    /// The queue this worker serves: continuations of long tasks go back
    /// to it.
    pub queue: Arc<dyn MessageQueue>,
    pub runner: Arc<dyn TaskRunner>,
    pub max_receives: u32,
}

impl State {
    pub fn new(
        stores: &Stores,
        config: &Config,
        queue: Arc<dyn MessageQueue>,
        runner: Arc<dyn TaskRunner>,
    ) -> Self {
        Self {
            stores: stores.clone(),
            queue,
            runner,
            max_receives: config.task_max_receives,
        }
    }

    /// The worker of the tasks queue.
    pub async fn from_env() -> Result<Self, StartupError> {
        Self::from_env_for(QueueName::Tasks).await
    }

    /// The worker of `served`: `Tasks` or `AccountTasks`.
    pub async fn from_env_for(served: QueueName) -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let queue = queue(&config, served).await?;
        let runner = shared::app::task_runner(&stores);
        Ok(Self::new(&stores, &config, queue, runner))
    }
}

/// When the invocation times out, from the runtime's deadline (epoch ms).
pub fn until(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

pub async fn handle(state: &State, event: SqsEvent, until: Instant) -> SqsBatchResponse {
    let worker = TaskWorker {
        store: state.stores.tasks(),
        queue: state.queue.as_ref(),
        clock: state.stores.clock.as_ref(),
        runner: state.runner.as_ref(),
        max_receives: state.max_receives,
    };
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        match worker.handle(body, receive_count(record), until).await {
            Ok(handled) => tracing::debug!(message_id = %id, ?handled, "task message done"),
            Err(error) => {
                tracing::warn!(message_id = %id, error = %error, "task message to be delivered again");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}
