//! The reads and bulk deletes the DynamoDB adapters share: batch reads,
//! partition and index queries, batched deletes.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::errors::{mapping_error, store_error};
use super::keys::{Key, PK, SK};
use super::transact::{built, Item};
use super::DynamoStore;
use crate::ports::StoreError;

const BATCH_ATTEMPTS: u32 = 5;

/// The item a batch read found at `key`, taken out of its results.
pub(super) fn take(found: &mut HashMap<(String, String), Item>, key: &Key) -> Option<Item> {
    found.remove(&(key.pk.clone(), key.sk.clone()))
}

/// An item read back into its entity's item type.
pub(super) fn decode<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(mapping_error)
}

impl DynamoStore {
    /// The items at `keys` that exist (one BatchGetItem, repeated only for
    /// keys DynamoDB left unprocessed). Duplicate keys are read once.
    pub(super) async fn batch_get(
        &self,
        keys: &[Key],
    ) -> Result<HashMap<(String, String), Item>, StoreError> {
        let mut found = HashMap::new();
        let mut unique: Vec<&Key> = Vec::new();
        for key in keys {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        if unique.is_empty() {
            return Ok(found);
        }
        let request = built(
            KeysAndAttributes::builder()
                .set_keys(Some(unique.iter().map(|k| k.to_attributes()).collect()))
                .consistent_read(true)
                .build(),
        )?;
        let mut pending = Some(HashMap::from([(self.table.clone(), request)]));
        for attempt in 0..BATCH_ATTEMPTS {
            let Some(request_items) = pending.take().filter(|p| !p.is_empty()) else {
                return Ok(found);
            };
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(request_items))
                .send()
                .await
                .map_err(store_error)?;
            for item in output
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                if let Some(key) = Key::from_item(&item) {
                    found.insert((key.pk, key.sk), item);
                }
            }
            pending = output.unprocessed_keys;
        }
        match pending.filter(|p| !p.is_empty()) {
            None => Ok(found),
            Some(_) => Err(StoreError::Unavailable(
                "keys left unprocessed after retries".into(),
            )),
        }
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`.
    pub(super) async fn query_prefix(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .consistent_read(true);
            // Key conditions may not hold an empty string.
            query = if prefix.is_empty() {
                query.key_condition_expression("#pk = :pk")
            } else {
                query
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
            };
            let output = query
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

impl DynamoStore {
    /// `query_below` over each of `partitions` (the shards of an index),
    /// up to `limit` items from each.
    pub(super) async fn query_below_each(
        &self,
        partitions: impl IntoIterator<Item = String>,
        bound: &str,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        for pk in partitions {
            items.extend(self.query_below(&pk, bound, limit).await?);
        }
        Ok(items)
    }

    /// Up to `limit` items of partition `pk` whose sort key is below
    /// `bound`, in sort-key order.
    pub(super) async fn query_below(
        &self,
        pk: &str,
        bound: &str,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        while items.len() < limit {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk < :bound")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .expression_attribute_values(":bound", AttributeValue::S(bound.to_owned()))
                .limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(items)
    }
}

impl DynamoStore {
    /// Deletes the items at `keys`, 25 to a BatchWriteItem, retrying what
    /// DynamoDB leaves unprocessed. Absent items are no error.
    pub(super) async fn delete_keys(&self, keys: Vec<Key>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        for chunk in keys.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    built(
                        DeleteRequest::builder()
                            .set_key(Some(key.to_attributes()))
                            .build(),
                    )
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<_, _>>()?;
            for attempt in 0..BATCH_ATTEMPTS {
                if requests.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(store_error)?;
                requests = output
                    .unprocessed_items
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default();
            }
            if !requests.is_empty() {
                return Err(StoreError::Unavailable(
                    "deletes left unprocessed after retries".into(),
                ));
            }
        }
        Ok(())
    }

    /// The keys of every item of `owner` outside its partition, from the
    /// owner index (eventually consistent: items written a moment ago may
    /// be missing).
    pub(super) async fn owned_keys(&self, owner: &str) -> Result<Vec<Key>, StoreError> {
        let mut keys = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(super::keys::OWNER_INDEX)
                .key_condition_expression("#owner = :owner")
                .expression_attribute_names("#owner", super::keys::OWNER)
                .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            keys.extend(
                output
                    .items
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Key::from_item),
            );
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(keys),
            }
        }
    }
}
