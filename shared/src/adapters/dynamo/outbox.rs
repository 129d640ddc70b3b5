//! The outbox (`OUTBOX#<shard>`): events written in the transaction that
//! causes them, relayed to the queue, then removed.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;

use super::errors::{mapping_error, store_error};
use super::keys::{self, Key};
use super::transact::Write;
use super::DynamoStore;
use crate::domain::NotificationEvent;
use crate::ports::{Outbox, StoreError};

/// Outbox events are relayed within seconds; the item stays a week so a
/// relay outage can be recovered from.
pub const OUTBOX_RETENTION: time::Duration = time::Duration::days(7);

/// An event waiting in the outbox, its JSON as the queue will carry it.
#[derive(Debug, Serialize, Deserialize)]
pub struct OutboxItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub event_type: String,
    pub event: String,
    pub expires_at: i64,
}

impl OutboxItem {
    pub fn new(event: &crate::domain::NotificationEvent) -> Result<Self, serde_json::Error> {
        let Key { pk, sk } = keys::outbox_event(event.occurred_at, event.id);
        Ok(Self {
            pk,
            sk,
            entity: "outbox_event".into(),
            event_type: event.event_type.as_str().into(),
            event: serde_json::to_string(event)?,
            expires_at: (event.occurred_at + OUTBOX_RETENTION).unix_timestamp(),
        })
    }
}

impl DynamoStore {
    pub(super) fn put_event(&self, event: &NotificationEvent) -> Result<Write, StoreError> {
        let item = OutboxItem::new(event).map_err(|e| StoreError::Internal(Box::new(e)))?;
        Write::create(&self.table, to_item(item).map_err(mapping_error)?)
    }
}

#[async_trait]
impl Outbox for DynamoStore {
    async fn pending(&self) -> Result<Vec<NotificationEvent>, StoreError> {
        let mut events = Vec::new();
        for shard in 0..keys::OUTBOX_SHARDS {
            for item in self
                .query_prefix(&keys::outbox_partition(shard), "")
                .await?
            {
                let item: OutboxItem = from_item(item).map_err(mapping_error)?;
                let event = serde_json::from_str(&item.event)
                    .map_err(|e| StoreError::Internal(Box::new(e)))?;
                events.push(event);
            }
        }
        events.sort_by_key(|e: &NotificationEvent| (e.occurred_at, e.id));
        Ok(events)
    }

    async fn pending_before(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<NotificationEvent>, StoreError> {
        let bound = keys::stamped_before(before);
        let mut events = Vec::new();
        let partitions = (0..keys::OUTBOX_SHARDS).map(keys::outbox_partition);
        for item in self.query_below_each(partitions, &bound, limit).await? {
            let item: OutboxItem = from_item(item).map_err(mapping_error)?;
            events.push(
                serde_json::from_str(&item.event).map_err(|e| StoreError::Internal(Box::new(e)))?,
            );
        }
        events.sort_by_key(|e: &NotificationEvent| (e.occurred_at, e.id));
        events.truncate(limit);
        Ok(events)
    }

    async fn remove(&self, events: &[NotificationEvent]) -> Result<(), StoreError> {
        for event in events {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(
                    keys::outbox_event(event.occurred_at, event.id).to_attributes(),
                ))
                .send()
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }
}
