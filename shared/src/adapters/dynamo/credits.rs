//! Credits in the table: the balance item (`CREDITS` in the user's
//! partition), one item per ledger entry (`CREDIT#<position>`, so a query
//! reads the ledger newest first), and an item per idempotency key.
//! Every posting writes them in one transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::{mapping_error, store_error};
use super::keys::{self, Key, PK, SK};
use super::transact::{n, s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{CreditEntry, CreditReason, LedgerPosition, Posting, Purchase, UserId};
use crate::ports::credits::{CreditStore, LedgerPage, PostingError};
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
const BALANCE: &str = "balance";

/// The balance write's condition in `posting_writes`: failed, it says
/// "insufficient".
pub(super) const BALANCE_COVERS: Condition = "credit_balance_covers";
/// The `once` claim's condition, when a posting has one: failed, the
/// posting was already applied.
pub(super) const ONCE_UNCLAIMED: Condition = "credit_once_unclaimed";

fn corrupt(what: &str) -> StoreError {
    StoreError::internal(format!("corrupt credit item: {what}"))
}

/// A ledger entry (`CREDIT#<position>` in the user's partition).
#[derive(Serialize, Deserialize)]
struct CreditEntryItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: Uuid,
    user_id: Uuid,
    amount: i64,
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    created_at: String,
}

const ENTRY_ENTITY: &str = "credit_entry";
const ONCE_ENTITY: &str = "credit_once";
const PURCHASE_ENTITY: &str = "purchase";
const BALANCE_ENTITY: &str = "credit_balance";

impl CreditEntryItem {
    fn new(entry: &CreditEntry) -> Self {
        let Key { pk, sk } = keys::credit_entry(entry.user, entry.position().as_str());
        Self {
            pk,
            sk,
            entity: ENTRY_ENTITY.to_owned(),
            id: entry.id,
            user_id: entry.user.as_uuid(),
            amount: entry.amount,
            reason: entry.reason.to_stored(),
            reference: entry.reference.clone(),
            created_at: super::store::format_time(entry.created_at),
        }
    }

    fn into_entry(self) -> Result<CreditEntry, StoreError> {
        let created_at = OffsetDateTime::parse(
            &self.created_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| corrupt("created_at"))?;
        Ok(CreditEntry {
            id: self.id,
            user: UserId::from_uuid(self.user_id),
            amount: self.amount,
            reason: CreditReason::from_stored(&self.reason),
            reference: self.reference,
            created_at,
        })
    }
}

/// The claim of a posting's idempotency key (`once`).
#[derive(Serialize, Deserialize)]
struct CreditOnceItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    entry_id: Uuid,
}

/// A Stripe payment's credits, kept to answer its refund.
#[derive(Serialize, Deserialize)]
struct PurchaseItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: Uuid,
    credits: i64,
    pack: String,
}

impl DynamoStore {
    /// The writes of one posting, for this adapter's transactions (a task's
    /// creation or end includes them): the balance (`BALANCE_COVERS`), the
    /// entry, the `once` claim (`ONCE_UNCLAIMED`, when asked for), then
    /// the audit record.
    pub(super) fn posting_writes(&self, posting: &Posting) -> Result<Vec<Write>, StoreError> {
        let entry = &posting.entry;
        let spends = entry.amount < 0 && !posting.allow_negative;
        let mut expression = Expression::default()
            .name("#balance", BALANCE)
            .name("#entity", keys::ENTITY_ATTRIBUTE)
            .value(":amount", n(entry.amount))
            .value(":entity", s(BALANCE_ENTITY));
        if spends {
            expression = expression.value(":need", n(-entry.amount));
        }
        let mut writes = vec![
            Write::update(
                &self.table,
                &keys::credit_balance(entry.user),
                "ADD #balance :amount SET #entity = :entity",
                // A missing balance is 0: the condition fails, as it must.
                spends.then_some("#balance >= :need"),
                expression,
            )?
            .named(BALANCE_COVERS),
            Write::create(
                &self.table,
                to_item(CreditEntryItem::new(entry)).map_err(mapping_error)?,
            )?,
        ];
        if let Some(once) = &posting.once {
            let Key { pk, sk } = keys::credit_once(once);
            let claim = CreditOnceItem {
                pk,
                sk,
                entity: ONCE_ENTITY.to_owned(),
                entry_id: entry.id,
            };
            writes.push(
                Write::create(&self.table, to_item(claim).map_err(mapping_error)?)?
                    .named(ONCE_UNCLAIMED),
            );
        }
        if let Some(audit) = &posting.audit {
            writes.push(self.put_audit(audit)?);
        }
        if let Some(purchase) = &posting.purchase {
            let Key { pk, sk } = keys::purchase(&purchase.payment_intent);
            let item = PurchaseItem {
                pk,
                sk,
                entity: PURCHASE_ENTITY.to_owned(),
                user_id: purchase.user.as_uuid(),
                credits: purchase.credits,
                pack: purchase.pack.clone(),
            };
            writes.push(Write::put(
                &self.table,
                to_item(item).map_err(mapping_error)?,
                None,
                Expression::default(),
            )?);
        }
        Ok(writes)
    }
}

#[async_trait]
impl CreditStore for DynamoStore {
    async fn post(&self, posting: &Posting) -> Result<(), PostingError> {
        match self.transact(self.posting_writes(posting)?).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) => {
                if cancelled.failed_named(ONCE_UNCLAIMED) {
                    Err(PostingError::AlreadyApplied)
                } else if cancelled.failed_named(BALANCE_COVERS) {
                    Err(PostingError::Insufficient)
                } else {
                    Err(StoreError::internal("ledger entry or audit id already exists").into())
                }
            }
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn purchase(&self, payment_intent: &str) -> Result<Option<Purchase>, StoreError> {
        let Some(item) = self.get_item(keys::purchase(payment_intent)).await? else {
            return Ok(None);
        };
        let item: PurchaseItem = from_item(item).map_err(mapping_error)?;
        Ok(Some(Purchase {
            payment_intent: payment_intent.to_owned(),
            user: UserId::from_uuid(item.user_id),
            credits: item.credits,
            pack: item.pack,
        }))
    }

    async fn balance(&self, user: UserId) -> Result<i64, StoreError> {
        match self.get_item(keys::credit_balance(user)).await? {
            Some(item) => match item.get(BALANCE) {
                Some(AttributeValue::N(number)) => number.parse().map_err(|_| corrupt(BALANCE)),
                _ => Err(corrupt(BALANCE)),
            },
            None => Ok(0),
        }
    }

    async fn ledger(
        &self,
        user: UserId,
        limit: usize,
        after: Option<&LedgerPosition>,
    ) -> Result<LedgerPage, StoreError> {
        let balance = self.balance(user).await?;
        let low = keys::CREDIT_ENTRY_PREFIX.to_owned();
        // BETWEEN is inclusive: the cursor's own entry is read and skipped.
        // '~' sorts after every digit, so it bounds the whole ledger.
        let high = match after {
            Some(position) => keys::credit_entry(user, position.as_str()).sk,
            None => format!("{low}~"),
        };
        let wanted = limit + 1 + usize::from(after.is_some());
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :low AND :high")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(keys::user_partition(user)))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high.clone()))
            .scan_index_forward(false)
            .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        let mut entries = Vec::new();
        for item in output.items.unwrap_or_default() {
            let item: CreditEntryItem = from_item(item).map_err(mapping_error)?;
            if item.sk == high {
                continue;
            }
            entries.push(item.into_entry()?);
        }
        let next = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(CreditEntry::position)
        } else {
            None
        };
        Ok(LedgerPage {
            balance,
            entries,
            next,
        })
    }
}
