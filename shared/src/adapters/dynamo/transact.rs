//! Reads and writes shared by the DynamoDB adapters: batch reads, partition
//! queries, and transactions whose cancellations name the failed items.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};

use super::errors::store_error;
use super::keys::{Key, PK, SK};
use super::DynamoStore;
use crate::ports::StoreError;

pub type Item = HashMap<String, AttributeValue>;

/// Transactions that collide with another one on the same item are
/// cancelled with `TransactionConflict`; they are retried this often.
const TRANSACTION_ATTEMPTS: u32 = 4;
const BATCH_ATTEMPTS: u32 = 5;

/// One write of a transaction, with its condition.
#[derive(Clone)]
pub struct Write {
    item: TransactWriteItem,
}

#[derive(Default)]
pub struct Expression {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expression {
    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn built<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, E>,
) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Internal(Box::new(e)))
}

impl Write {
    /// A put that only succeeds when no item has this key yet.
    pub fn create(table: &str, item: Item) -> Result<Self, StoreError> {
        Self::put(
            table,
            item,
            Some("attribute_not_exists(#pk)"),
            Expression::default().name("#pk", PK),
        )
    }

    pub fn put(
        table: &str,
        item: Item,
        condition: Option<&str>,
        expression: Expression,
    ) -> Result<Self, StoreError> {
        let put = built(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .set_expression_attribute_names(expression.names())
                .set_expression_attribute_values(expression.values())
                .build(),
        )?;
        Ok(Self {
            item: TransactWriteItem::builder().put(put).build(),
        })
    }

    pub fn update(
        table: &str,
        key: &Key,
        update: &str,
        condition: Option<&str>,
        expression: Expression,
    ) -> Result<Self, StoreError> {
        let update = built(
            Update::builder()
                .table_name(table)
                .set_key(Some(key.to_attributes()))
                .update_expression(update)
                .set_condition_expression(condition.map(str::to_owned))
                .set_expression_attribute_names(expression.names())
                .set_expression_attribute_values(expression.values())
                .build(),
        )?;
        Ok(Self {
            item: TransactWriteItem::builder().update(update).build(),
        })
    }

    pub fn delete(
        table: &str,
        key: &Key,
        condition: Option<&str>,
        expression: Expression,
    ) -> Result<Self, StoreError> {
        let delete = built(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key.to_attributes()))
                .set_condition_expression(condition.map(str::to_owned))
                .set_expression_attribute_names(expression.names())
                .set_expression_attribute_values(expression.values())
                .build(),
        )?;
        Ok(Self {
            item: TransactWriteItem::builder().delete(delete).build(),
        })
    }
}

impl Write {
    /// No write: the transaction applies only while `condition` holds on
    /// the item at `key`.
    pub fn check(
        table: &str,
        key: &Key,
        condition: &str,
        expression: Expression,
    ) -> Result<Self, StoreError> {
        let check = built(
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key.to_attributes()))
                .condition_expression(condition)
                .set_expression_attribute_names(expression.names())
                .set_expression_attribute_values(expression.values())
                .build(),
        )?;
        Ok(Self {
            item: TransactWriteItem::builder().condition_check(check).build(),
        })
    }
}

/// A transaction refused because conditions failed: which ones.
#[derive(Debug)]
pub struct Cancelled {
    codes: Vec<String>,
}

impl Cancelled {
    /// Whether the condition of the write at `index` failed.
    pub fn failed(&self, index: usize) -> bool {
        self.codes.get(index).map(String::as_str) == Some("ConditionalCheckFailed")
    }

    pub fn any_failed(&self) -> bool {
        (0..self.codes.len()).any(|i| self.failed(i))
    }
}

#[derive(Debug)]
pub enum TransactError {
    Cancelled(Cancelled),
    Store(StoreError),
}

impl From<StoreError> for TransactError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl TransactError {
    /// For writes whose conditions are invariants: any failure is a fault.
    pub fn into_store_error(self) -> StoreError {
        match self {
            Self::Store(error) => error,
            Self::Cancelled(cancelled) => {
                StoreError::internal(format!("transaction cancelled: {:?}", cancelled.codes))
            }
        }
    }
}

impl DynamoStore {
    /// Runs `writes` as one transaction (at most 100). A cancellation by a
    /// failed condition is returned with the reasons in the order of
    /// `writes`; collisions with other transactions are retried.
    pub(super) async fn transact(&self, writes: Vec<Write>) -> Result<(), TransactError> {
        let items: Vec<TransactWriteItem> = writes.into_iter().map(|w| w.item).collect();
        for attempt in 0..TRANSACTION_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt) + jitter_ms()))
                    .await;
            }
            let error = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            let codes: Option<Vec<String>> = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Some(
                    cancelled
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None").to_owned())
                        .collect(),
                ),
                _ => None,
            };
            let Some(codes) = codes else {
                return Err(store_error(error).into());
            };
            let cancelled = Cancelled { codes };
            if cancelled.any_failed() {
                return Err(TransactError::Cancelled(cancelled));
            }
            if !cancelled.codes.iter().any(|c| c == "TransactionConflict") {
                return Err(store_error(error).into());
            }
        }
        Err(StoreError::Unavailable("transaction kept conflicting with others".into()).into())
    }

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

/// A few milliseconds of spread so that colliding retries do not collide again.
fn jitter_ms() -> u64 {
    u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 16)
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
