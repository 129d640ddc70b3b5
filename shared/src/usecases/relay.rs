//! The outbox relay: events written with their state changes go to the
//! notifications queue, then leave the outbox. Sending twice is harmless
//! (the notification worker dedupes on the event id); losing one is not,
//! so an event leaves the outbox only after the queue took it.

use time::OffsetDateTime;

use crate::domain::NotificationEvent;
use crate::ports::queues::MessageQueue;
use crate::ports::{Outbox, StoreError};

pub struct Relay<'a> {
    pub outbox: &'a dyn Outbox,
    pub queue: &'a dyn MessageQueue,
}

impl Relay<'_> {
    /// Sends the events, then drops them from the outbox.
    pub async fn relay(&self, events: &[NotificationEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let bodies: Vec<String> = events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        self.queue.send(&bodies).await?;
        self.outbox.remove(events).await
    }

    /// Relays what waits in the outbox since before `before` (the local
    /// relay passes now; the clean-up job passes a minute ago, to catch
    /// what the stream relay missed). Returns how many went out.
    pub async fn relay_pending(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let events = self.outbox.pending_before(before, limit).await?;
        for chunk in events.chunks(10) {
            self.relay(chunk).await?;
        }
        Ok(events.len())
    }
}
