//! The DynamoDB adapters' transactions, whose cancellations name the
//! failed writes (reads and bulk deletes are in `queries`).
//!
//! Why the conditions have names: DynamoDB reports a cancelled
//! transaction's reasons by position, and many transactions hold optional
//! items (a username claim, a quota, events) that move every later write.
//! Each conditional write whose failure means something is named where it
//! is built (`Write::named`), and a cancellation is read by those names.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};

use super::errors::store_error;
use super::keys::{Key, PK};
use super::DynamoStore;
use crate::ports::StoreError;

pub type Item = HashMap<String, AttributeValue>;

/// Transactions that collide with another one on the same item are
/// cancelled with `TransactionConflict`; they are retried this often.
const TRANSACTION_ATTEMPTS: u32 = 4;

/// What a transaction's conditional write is called in a cancellation.
/// Each adapter declares the names of its transactions beside them.
pub type Condition = &'static str;

/// One write of a transaction, with its condition and that condition's
/// name.
#[derive(Clone)]
pub struct Write {
    item: TransactWriteItem,
    condition: Option<Condition>,
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

pub(super) fn built<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, E>,
) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Internal(Box::new(e)))
}

impl Write {
    fn unnamed(item: TransactWriteItem) -> Self {
        Self {
            item,
            condition: None,
        }
    }

    /// Calls this write's condition `name`: a cancellation it causes is
    /// then read as `Cancelled::failed_named(name)`.
    pub fn named(mut self, name: Condition) -> Self {
        self.condition = Some(name);
        self
    }

    /// The name of this write's condition, if it was given one.
    pub fn condition(&self) -> Option<Condition> {
        self.condition
    }

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
        Ok(Self::unnamed(TransactWriteItem::builder().put(put).build()))
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
        Ok(Self::unnamed(
            TransactWriteItem::builder().update(update).build(),
        ))
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
        Ok(Self::unnamed(
            TransactWriteItem::builder().delete(delete).build(),
        ))
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
        Ok(Self::unnamed(
            TransactWriteItem::builder().condition_check(check).build(),
        ))
    }
}

const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// A transaction refused because conditions failed: which ones, by name.
#[derive(Debug)]
pub struct Cancelled {
    /// Each write's condition name and cancellation code, in the order
    /// of the transaction.
    reasons: Vec<(Option<Condition>, String)>,
}

impl Cancelled {
    /// The reasons DynamoDB gave (`codes`, one per write, in order) read
    /// against the names of `writes`' conditions.
    fn new(writes: &[Option<Condition>], codes: Vec<String>) -> Self {
        let names = writes.iter().copied().chain(std::iter::repeat(None));
        Self {
            reasons: names.zip(codes).collect(),
        }
    }

    /// The names of the writes whose conditions failed (`None` for a write
    /// that was not named), in transaction order.
    pub fn failed_names(&self) -> impl Iterator<Item = Option<Condition>> + '_ {
        self.reasons
            .iter()
            .filter(|(_, code)| code == CONDITION_FAILED)
            .map(|(name, _)| *name)
    }

    /// Whether a write named `name` failed its condition.
    pub fn failed_named(&self, name: Condition) -> bool {
        self.failed_names().any(|failed| failed == Some(name))
    }

    /// Which of the writes named `name` (counted among those alone, from
    /// 0) was the first to fail its condition: for a name several writes
    /// share, such as a request's rate windows.
    pub fn failed_occurrence(&self, name: Condition) -> Option<usize> {
        self.reasons
            .iter()
            .filter(|(named, _)| *named == Some(name))
            .position(|(_, code)| code == CONDITION_FAILED)
    }

    fn any_failed(&self) -> bool {
        self.failed_names().next().is_some()
    }

    fn codes(&self) -> Vec<&str> {
        self.reasons.iter().map(|(_, code)| code.as_str()).collect()
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
                StoreError::internal(format!("transaction cancelled: {:?}", cancelled.reasons))
            }
        }
    }
}

impl DynamoStore {
    /// Runs `writes` as one transaction (at most 100). A cancellation by a
    /// failed condition is returned with the reasons in the order of
    /// `writes`; collisions with other transactions are retried.
    pub(super) async fn transact(&self, writes: Vec<Write>) -> Result<(), TransactError> {
        let names: Vec<Option<Condition>> = writes.iter().map(Write::condition).collect();
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
            let cancelled = Cancelled::new(&names, codes);
            if cancelled.any_failed() {
                return Err(TransactError::Cancelled(cancelled));
            }
            if !cancelled.codes().contains(&"TransactionConflict") {
                return Err(store_error(error).into());
            }
        }
        Err(StoreError::Unavailable("transaction kept conflicting with others".into()).into())
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

#[cfg(test)]
#[path = "transact_tests.rs"]
mod tests;
