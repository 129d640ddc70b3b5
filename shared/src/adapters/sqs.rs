//! SQS queues through the AWS SDK.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use crate::ports::queues::{MessageQueue, QueueMessage};
use crate::ports::StoreError;

pub async fn sqs_client() -> Client {
    Client::new(crate::app::sdk_config())
}

/// SQS waits at most 20 s for a message.
const MAX_LONG_POLL: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Throttling, timeouts and unreachable endpoints are worth a retry.
fn queue_error<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => service.err().code().is_some_and(|code| {
            code.contains("Throttl")
                || code.contains("ServiceUnavailable")
                || code.contains("InternalError")
        }),
        _ => false,
    };
    let described = DisplayErrorContext(&error).to_string();
    if retryable {
        StoreError::Unavailable(described.into())
    } else {
        StoreError::Internal(described.into())
    }
}

#[async_trait]
impl MessageQueue for SqsQueue {
    async fn send(&self, bodies: &[String]) -> Result<(), StoreError> {
        // SendMessageBatch takes at most ten entries.
        for chunk in bodies.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| StoreError::Internal(Box::new(e)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(queue_error)?;
            if let Some(failed) = output.failed.first() {
                return Err(StoreError::Unavailable(
                    format!("the queue refused a message: {}", failed.code).into(),
                ));
            }
        }
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, StoreError> {
        let wait = wait.min(MAX_LONG_POLL);
        // A long poll answers after `wait`: the usual attempt limit would cut it off.
        let long_poll = aws_sdk_sqs::Config::builder().timeout_config(crate::app::sdk_timeouts(
            wait + crate::app::SDK_ATTEMPT_TIMEOUT,
        ));
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            .wait_time_seconds(i32::try_from(wait.as_secs()).unwrap_or(20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .customize()
            .config_override(long_poll)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                let receive_count = message
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1);
                Some(QueueMessage {
                    id: message.message_id?,
                    receipt: message.receipt_handle?,
                    body: message.body.unwrap_or_default(),
                    receive_count,
                })
            })
            .collect())
    }

    async fn delete(&self, message: &QueueMessage) -> Result<(), StoreError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    async fn release(&self, message: &QueueMessage) -> Result<(), StoreError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    async fn depth(&self) -> Result<usize, StoreError> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(queue_error)?;
        let attributes = output.attributes.unwrap_or_default();
        let count = |name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        Ok(count(QueueAttributeName::ApproximateNumberOfMessages)
            + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }
}
