//! An in-process queue with SQS's delivery rules: a received message is
//! invisible until deleted, released or past its visibility timeout, and
//! moves to the dead-letter queue once received more than `max_receives`
//! times. Local runs use it in place of SQS.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::ports::queues::{MessageQueue, QueueMessage};
use crate::ports::StoreError;

#[derive(Clone)]
struct Stored {
    id: String,
    body: String,
    receive_count: u32,
}

#[derive(Default)]
struct State {
    visible: VecDeque<Stored>,
    /// Receipt → message and when it becomes visible again.
    in_flight: HashMap<String, (Stored, Instant)>,
}

pub struct MemoryQueue {
    state: Mutex<State>,
    arrived: Notify,
    visibility: Duration,
    redrive: Option<(u32, Arc<MemoryQueue>)>,
}

impl MemoryQueue {
    pub fn new(visibility: Duration) -> Self {
        Self {
            state: Mutex::default(),
            arrived: Notify::new(),
            visibility,
            redrive: None,
        }
    }

    /// Messages received more than `max_receives` times go to `dead_letters`.
    pub fn with_dead_letters(mut self, max_receives: u32, dead_letters: Arc<MemoryQueue>) -> Self {
        self.redrive = Some((max_receives, dead_letters));
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, stored: Stored) {
        self.lock().visible.push_back(stored);
        self.arrived.notify_waiters();
    }

    /// Receives what is visible now (after returning timed-out messages).
    fn take(&self, max: usize) -> Vec<QueueMessage> {
        let mut state = self.lock();
        let now = Instant::now();
        let expired: Vec<String> = state
            .in_flight
            .iter()
            .filter(|(_, (_, visible_at))| *visible_at <= now)
            .map(|(receipt, _)| receipt.clone())
            .collect();
        for receipt in expired {
            if let Some((stored, _)) = state.in_flight.remove(&receipt) {
                state.visible.push_back(stored);
            }
        }
        let mut received = Vec::new();
        while received.len() < max {
            let Some(mut stored) = state.visible.pop_front() else {
                break;
            };
            if let Some((max_receives, dead_letters)) = &self.redrive {
                if stored.receive_count >= *max_receives {
                    stored.receive_count = 0;
                    dead_letters.push(stored);
                    continue;
                }
            }
            stored.receive_count += 1;
            let receipt = Uuid::new_v4().to_string();
            received.push(QueueMessage {
                id: stored.id.clone(),
                receipt: receipt.clone(),
                body: stored.body.clone(),
                receive_count: stored.receive_count,
            });
            state
                .in_flight
                .insert(receipt, (stored, now + self.visibility));
        }
        received
    }
}

#[async_trait]
impl MessageQueue for MemoryQueue {
    async fn send(&self, bodies: &[String]) -> Result<(), StoreError> {
        for body in bodies {
            self.push(Stored {
                id: Uuid::new_v4().to_string(),
                body: body.clone(),
                receive_count: 0,
            });
        }
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<QueueMessage>, StoreError> {
        let deadline = Instant::now() + wait;
        loop {
            let arrived = self.arrived.notified();
            let received = self.take(max.max(1));
            let now = Instant::now();
            if !received.is_empty() || now >= deadline {
                return Ok(received);
            }
            // Woken by a send, or rechecked for timed-out messages.
            let nap = (deadline - now).min(Duration::from_millis(100));
            let _ = tokio::time::timeout(nap, arrived).await;
        }
    }

    async fn delete(&self, message: &QueueMessage) -> Result<(), StoreError> {
        self.lock().in_flight.remove(&message.receipt);
        Ok(())
    }

    async fn release(&self, message: &QueueMessage) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some((stored, _)) = state.in_flight.remove(&message.receipt) {
            state.visible.push_back(stored);
            drop(state);
            self.arrived.notify_waiters();
        }
        Ok(())
    }

    async fn depth(&self) -> Result<usize, StoreError> {
        let state = self.lock();
        Ok(state.visible.len() + state.in_flight.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn redelivers_until_deleted_then_dead_letters() {
        let dlq = Arc::new(MemoryQueue::new(Duration::from_secs(30)));
        let queue = MemoryQueue::new(Duration::from_secs(30)).with_dead_letters(2, dlq.clone());
        queue.send(&["one".into()]).await.unwrap();
        let first = queue.receive(10, Duration::ZERO).await.unwrap();
        assert_eq!(first[0].receive_count, 1);
        // Invisible while in flight.
        assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
        queue.release(&first[0]).await.unwrap();
        let second = queue.receive(10, Duration::ZERO).await.unwrap();
        assert_eq!(
            (second[0].receive_count, second[0].id.as_str()),
            (2, first[0].id.as_str())
        );
        queue.release(&second[0]).await.unwrap();
        // A third receive would exceed the limit: it moves instead.
        assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
        assert_eq!(dlq.depth().await.unwrap(), 1);
        assert_eq!(queue.depth().await.unwrap(), 0);
        let dead = dlq.receive(1, Duration::ZERO).await.unwrap();
        assert_eq!(dead[0].body, "one");
        dlq.delete(&dead[0]).await.unwrap();
        assert_eq!(dlq.depth().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn timed_out_messages_come_back_and_waiters_wake() {
        let queue = Arc::new(MemoryQueue::new(Duration::from_millis(20)));
        queue.send(&["a".into()]).await.unwrap();
        let taken = queue.receive(1, Duration::ZERO).await.unwrap();
        let again = queue.receive(1, Duration::from_secs(2)).await.unwrap();
        assert_eq!(again[0].id, taken[0].id);
        queue.delete(&again[0]).await.unwrap();
        let sender = queue.clone();
        let waiter = tokio::spawn(async move { queue.receive(1, Duration::from_secs(5)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        sender.send(&["b".into()]).await.unwrap();
        assert_eq!(waiter.await.unwrap().unwrap()[0].body, "b");
    }
}
