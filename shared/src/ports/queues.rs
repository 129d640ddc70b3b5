//! Message queues (SQS, or in memory for local runs): the tasks queue and
//! the notifications queue. Delivery is at least once, as with SQS: a
//! message received and not deleted comes back after its visibility
//! timeout, and goes to the dead-letter queue after too many receives.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    /// What `delete` and `release` need.
    pub receipt: String,
    pub body: String,
    /// 1 on the first delivery.
    pub receive_count: u32,
}

#[async_trait]
pub trait MessageQueue: Send + Sync {
    /// Sends every body, or fails (some may have been sent: receivers
    /// are idempotent).
    async fn send(&self, bodies: &[String]) -> Result<(), StoreError>;

    /// Up to `max` messages, waiting at most `wait` for the first.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, StoreError>;

    /// Done with it: it is not delivered again.
    async fn delete(&self, message: &QueueMessage) -> Result<(), StoreError>;

    /// Not done: deliver it again now (SQS: visibility timeout 0).
    async fn release(&self, message: &QueueMessage) -> Result<(), StoreError>;

    /// Messages waiting, for health checks and tests.
    async fn depth(&self) -> Result<usize, StoreError>;
}
