use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde_dynamo::{from_item, to_item};
use time::Date;

use super::errors::{mapping_error, store_error};
use super::items::{AuditItem, ClaimItem, UserItem};
use super::keys::{self, Key, PK};
use crate::domain::{AuditRecord, User, UserId};
use crate::ports::{AuditLog, Conflicts, CreateUserError, HealthProbe, StoreError, UserStore};

/// Transactions that collide with another one on the same claim are
/// cancelled with `TransactionConflict`; they are retried this often, after
/// which the claim's owner is settled and a retry sees the real conflict.
const TRANSACTION_ATTEMPTS: u32 = 4;
const BATCH_ATTEMPTS: u32 = 5;

/// Every port over one DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn put_if_absent(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn get_item(&self, key: Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.item)
    }

    async fn claim_owner(&self, key: Key) -> Result<Option<UserId>, StoreError> {
        match self.get_item(key).await? {
            Some(item) => {
                let claim: ClaimItem = from_item(item).map_err(mapping_error)?;
                Ok(Some(UserId::from_uuid(claim.user_id)))
            }
            None => Ok(None),
        }
    }

    /// The partition keys among `keys` that hold an item (one BatchGetItem,
    /// repeated only for keys DynamoDB left unprocessed).
    async fn existing(&self, keys: Vec<Key>) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys.iter().map(Key::to_attributes).collect()))
            .consistent_read(true)
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
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
                if let Some(AttributeValue::S(pk)) = item.get(PK) {
                    found.push(pk.clone());
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
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create(&self, user: &User, audit: &AuditRecord) -> Result<(), CreateUserError> {
        // The order matters: cancellation reasons come back in this order.
        let items = vec![
            self.put_if_absent(to_item(UserItem::from(user)).map_err(mapping_error)?)?,
            self.put_if_absent(
                to_item(ClaimItem::new(
                    keys::username_claim(user.username.key()),
                    user.id,
                ))
                .map_err(mapping_error)?,
            )?,
            self.put_if_absent(
                to_item(ClaimItem::new(
                    keys::email_claim(user.email.as_str()),
                    user.id,
                ))
                .map_err(mapping_error)?,
            )?,
            self.put_if_absent(to_item(AuditItem::from(audit)).map_err(mapping_error)?)?,
        ];
        for attempt in 0..TRANSACTION_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt) + jitter_ms()))
                    .await;
            }
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            let Some(cancelled) = error.as_service_error().and_then(|e| match e {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                _ => None,
            }) else {
                return Err(store_error(error).into());
            };
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            let failed = |index: usize| codes.get(index) == Some(&"ConditionalCheckFailed");
            let conflicts = Conflicts {
                username: failed(1),
                email: failed(2),
            };
            if conflicts.any() {
                return Err(CreateUserError::Conflict(conflicts));
            }
            if failed(0) || failed(3) {
                return Err(StoreError::internal("user id or audit id already exists").into());
            }
            if !codes.contains(&"TransactionConflict") {
                return Err(store_error(error).into());
            }
        }
        Err(StoreError::Unavailable("sign-up transaction kept conflicting".into()).into())
    }

    async fn taken(
        &self,
        username_key: Option<&str>,
        email: Option<&str>,
    ) -> Result<Conflicts, StoreError> {
        let username = username_key.map(keys::username_claim);
        let email = email.map(keys::email_claim);
        let keys: Vec<Key> = username.iter().chain(email.iter()).cloned().collect();
        if keys.is_empty() {
            return Ok(Conflicts::default());
        }
        let existing = self.existing(keys).await?;
        let held = |key: &Option<Key>| key.as_ref().is_some_and(|k| existing.contains(&k.pk));
        Ok(Conflicts {
            username: held(&username),
            email: held(&email),
        })
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        match self.get_item(keys::user(id)).await? {
            Some(item) => {
                let item: UserItem = from_item(item).map_err(mapping_error)?;
                Ok(Some(item.into()))
            }
            None => Ok(None),
        }
    }

    async fn find_by_username(&self, username_key: &str) -> Result<Option<UserId>, StoreError> {
        self.claim_owner(keys::username_claim(username_key)).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserId>, StoreError> {
        self.claim_owner(keys::email_claim(email)).await
    }
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn record(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let item = to_item(AuditItem::from(record)).map_err(mapping_error)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn list_day(&self, day: Date) -> Result<Vec<AuditRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", AttributeValue::S(keys::audit_partition(day)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in output.items.unwrap_or_default() {
                let item: AuditItem = from_item(item).map_err(mapping_error)?;
                records.push(item.into());
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(records),
            }
        }
    }
}

#[async_trait]
impl HealthProbe for DynamoStore {
    fn name(&self) -> &'static str {
        "table"
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.get_item(keys::health()).await.map(|_| ())
    }
}

/// A few milliseconds of spread so that colliding retries do not collide again.
fn jitter_ms() -> u64 {
    u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 16)
}
