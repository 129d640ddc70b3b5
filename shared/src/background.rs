//! The background side of a configuration: queues (SQS, or in-process in
//! local runs), the email sender, and the in-process stand-ins for what
//! AWS does between queues and functions (the event-source mapping and
//! the stream relay), so a local run does the whole flow.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};

use crate::adapters::email::{DiscardingSender, LocalMailbox};
use crate::adapters::memory::queue::MemoryQueue;
use crate::app::StartupError;
use crate::config::{Config, ConfigError};
use crate::ports::notifications::{EmailSender, SmsSender};
use crate::ports::queues::{MessageQueue, QueueMessage};
use crate::ports::{Clock, Outbox};
use crate::usecases::relay::Relay;

/// How long a received message stays invisible: the worker functions'
/// timeout and a margin, as the template sets the queues.
pub const TASKS_VISIBILITY: Duration = Duration::from_secs(960);
pub const NOTIFICATIONS_VISIBILITY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueName {
    /// Users' own tasks (`POST /tasks`).
    Tasks,
    /// The service's account work (deletion, export): a queue and worker
    /// of its own, so no flood of user tasks delays a deletion.
    AccountTasks,
    Notifications,
}

impl QueueName {
    fn variable(self) -> &'static str {
        match self {
            Self::Tasks => "TASKS_QUEUE_URL",
            Self::AccountTasks => "ACCOUNT_TASKS_QUEUE_URL",
            Self::Notifications => "NOTIFICATIONS_QUEUE_URL",
        }
    }

    fn url(self, config: &Config) -> Option<&String> {
        match self {
            Self::Tasks => config.tasks_queue_url.as_ref(),
            Self::AccountTasks => config.account_tasks_queue_url.as_ref(),
            Self::Notifications => config.notifications_queue_url.as_ref(),
        }
    }
}

/// The queues, with their dead-letter queues when in process (SQS moves
/// dead letters itself).
#[derive(Clone)]
pub struct Queues {
    pub tasks: Arc<dyn MessageQueue>,
    pub account_tasks: Arc<dyn MessageQueue>,
    pub notifications: Arc<dyn MessageQueue>,
    pub tasks_dead_letters: Option<Arc<dyn MessageQueue>>,
    pub account_tasks_dead_letters: Option<Arc<dyn MessageQueue>>,
    pub notifications_dead_letters: Option<Arc<dyn MessageQueue>>,
}

impl Queues {
    /// In-process queues with SQS's redelivery and dead-letter rules.
    pub fn memory(max_receives: u32) -> Self {
        let tasks_dead = Arc::new(MemoryQueue::new(TASKS_VISIBILITY));
        let account_tasks_dead = Arc::new(MemoryQueue::new(TASKS_VISIBILITY));
        let notifications_dead = Arc::new(MemoryQueue::new(NOTIFICATIONS_VISIBILITY));
        Self {
            tasks: Arc::new(
                MemoryQueue::new(TASKS_VISIBILITY)
                    .with_dead_letters(max_receives, tasks_dead.clone()),
            ),
            account_tasks: Arc::new(
                MemoryQueue::new(TASKS_VISIBILITY)
                    .with_dead_letters(max_receives, account_tasks_dead.clone()),
            ),
            notifications: Arc::new(
                MemoryQueue::new(NOTIFICATIONS_VISIBILITY)
                    .with_dead_letters(max_receives, notifications_dead.clone()),
            ),
            tasks_dead_letters: Some(tasks_dead),
            account_tasks_dead_letters: Some(account_tasks_dead),
            notifications_dead_letters: Some(notifications_dead),
        }
    }

    /// SQS where the configuration names the queues, else in process.
    pub async fn from_config(config: &Config) -> Result<Self, StartupError> {
        if config.tasks_queue_url.is_none()
            && config.account_tasks_queue_url.is_none()
            && config.notifications_queue_url.is_none()
        {
            return Ok(Self::memory(config.task_max_receives));
        }
        Ok(Self {
            tasks: queue(config, QueueName::Tasks).await?,
            account_tasks: queue(config, QueueName::AccountTasks).await?,
            notifications: queue(config, QueueName::Notifications).await?,
            tasks_dead_letters: None,
            account_tasks_dead_letters: None,
            notifications_dead_letters: None,
        })
    }
}

/// The named queue as configured: SQS when its URL is set (required in
/// Lambda), else a fresh in-process queue (local runs of one function).
pub async fn queue(
    config: &Config,
    name: QueueName,
) -> Result<Arc<dyn MessageQueue>, StartupError> {
    match name.url(config) {
        Some(url) => sqs_queue(url).await,
        None if config.in_lambda => Err(ConfigError {
            variable: name.variable(),
            problem: "required in Lambda".into(),
        }
        .into()),
        None => Ok(Arc::new(MemoryQueue::new(match name {
            QueueName::Tasks | QueueName::AccountTasks => TASKS_VISIBILITY,
            QueueName::Notifications => NOTIFICATIONS_VISIBILITY,
        }))),
    }
}

#[cfg(feature = "sqs")]
async fn sqs_queue(url: &str) -> Result<Arc<dyn MessageQueue>, StartupError> {
    use crate::adapters::sqs::{sqs_client, SqsQueue};
    Ok(Arc::new(SqsQueue::new(sqs_client().await, url)))
}

#[cfg(not(feature = "sqs"))]
async fn sqs_queue(_url: &str) -> Result<Arc<dyn MessageQueue>, StartupError> {
    Err(StartupError::SqsNotLinked)
}

/// SES when `SES_FROM_ADDRESS` is set (and linked); in Lambda without it,
/// a sender that drops mail with a warning; locally, `mailbox`.
pub async fn email_sender(config: &Config, mailbox: Arc<LocalMailbox>) -> Arc<dyn EmailSender> {
    match (&config.ses_from, config.in_lambda) {
        #[cfg(feature = "ses")]
        (Some(from), _) => Arc::new(crate::adapters::email::SesSender::new(from.clone()).await),
        #[cfg(not(feature = "ses"))]
        (Some(_), _) => {
            tracing::warn!("SES_FROM_ADDRESS is set but SES is not linked into this function");
            Arc::new(DiscardingSender)
        }
        (None, true) => Arc::new(DiscardingSender),
        (None, false) => mailbox,
    }
}

/// SNS in Lambda (with the `sns` feature); locally, `mailbox`. A Lambda
/// without SNS linked drops texts with a warning.
pub async fn sms_sender(config: &Config, mailbox: Arc<LocalMailbox>) -> Arc<dyn SmsSender> {
    if !config.in_lambda {
        return mailbox;
    }
    #[cfg(feature = "sns")]
    {
        Arc::new(crate::adapters::sms::SnsSender::new().await)
    }
    #[cfg(not(feature = "sns"))]
    {
        Arc::new(crate::adapters::email::DiscardingSmsSender)
    }
}

/// Messages as the SQS trigger delivers them to a function.
pub fn sqs_event(messages: &[QueueMessage]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = Some(message.id.clone());
            record.receipt_handle = Some(message.receipt.clone());
            record.body = Some(message.body.clone());
            record.attributes = HashMap::from([(
                "ApproximateReceiveCount".to_owned(),
                message.receive_count.to_string(),
            )]);
            record.event_source = Some("aws:sqs".into());
            record
        })
        .collect();
    event
}

/// How often a message was received, as the trigger reports it.
pub fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

/// One round of the event-source mapping: receive a batch, hand it to
/// `handler`, delete what succeeded, make the failures visible again.
/// Returns how many messages were handled.
pub async fn poll_once<F, Fut>(
    queue: &dyn MessageQueue,
    wait: Duration,
    handler: &F,
) -> Result<usize, crate::ports::StoreError>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let messages = queue.receive(10, wait).await?;
    deliver(queue, messages, handler).await
}

async fn deliver<F, Fut>(
    queue: &dyn MessageQueue,
    messages: Vec<QueueMessage>,
    handler: &F,
) -> Result<usize, crate::ports::StoreError>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    if messages.is_empty() {
        return Ok(0);
    }
    let response = handler(sqs_event(&messages)).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for message in &messages {
        if failed.contains(&message.id.as_str()) {
            queue.release(message).await?;
        } else {
            queue.delete(message).await?;
        }
    }
    Ok(messages.len())
}

/// Batches handled at once by `poll_forever`, as Lambda runs several
/// instances: one long task does not hold up the others.
const LOCAL_CONCURRENCY: usize = 4;

/// The event-source mapping until the process ends: each batch in a task
/// of its own, at most `LOCAL_CONCURRENCY` at a time.
pub async fn poll_forever<F, Fut>(queue: Arc<dyn MessageQueue>, handler: F)
where
    F: Fn(SqsEvent) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = SqsBatchResponse> + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(LOCAL_CONCURRENCY));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        match queue.receive(10, Duration::from_secs(1)).await {
            Ok(messages) => {
                let (queue, handler) = (queue.clone(), handler.clone());
                tokio::spawn(async move {
                    if let Err(error) = deliver(queue.as_ref(), messages, &handler).await {
                        tracing::warn!(error = %error, "could not settle a batch");
                    }
                    drop(slot);
                });
            }
            Err(error) => {
                tracing::warn!(error = %error, "queue poll failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The stream relay of local runs: moves outbox events to the queue as
/// they appear.
pub async fn relay_forever(
    outbox: Arc<dyn Outbox>,
    queue: Arc<dyn MessageQueue>,
    clock: Arc<dyn Clock>,
    every: Duration,
) {
    loop {
        let relay = Relay {
            outbox: outbox.as_ref(),
            queue: queue.as_ref(),
        };
        // A moment ahead: events stamped by a clock a hair in front count.
        let now = clock.now() + time::Duration::seconds(1);
        if let Err(error) = relay.relay_pending(now, 100).await {
            tracing::warn!(error = %error, "outbox relay failed");
        }
        tokio::time::sleep(every).await;
    }
}

/// A queue as a health check: it answers a depth request.
pub struct QueueProbe {
    pub name: &'static str,
    pub queue: Arc<dyn MessageQueue>,
}

#[async_trait::async_trait]
impl crate::ports::HealthProbe for QueueProbe {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn check(&self) -> Result<(), crate::ports::StoreError> {
        self.queue.depth().await.map(|_| ())
    }
}

impl Queues {
    /// A health check per queue.
    pub fn probes(&self) -> Vec<Arc<dyn crate::ports::HealthProbe>> {
        vec![
            Arc::new(QueueProbe {
                name: "tasks_queue",
                queue: self.tasks.clone(),
            }),
            Arc::new(QueueProbe {
                name: "account_tasks_queue",
                queue: self.account_tasks.clone(),
            }),
            Arc::new(QueueProbe {
                name: "notifications_queue",
                queue: self.notifications.clone(),
            }),
        ]
    }
}
