//! Credits in the table: the balance item (`CREDITS` in the user's
//! partition), one item per ledger entry (`CREDIT#<position>`, so a query
//! reads the ledger newest first), and an item per idempotency key.
//! Every posting writes them in one transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::store_error;
use super::keys::{self, Key, PK, SK};
use super::transact::{n, s, Condition, Expression, Item, TransactError, Write};
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

fn entry_item(entry: &CreditEntry) -> Item {
    let Key { pk, sk } = keys::credit_entry(entry.user, entry.position().as_str());
    let mut item = HashMap::from([
        (PK.to_owned(), s(pk)),
        (SK.to_owned(), s(sk)),
        ("entity".to_owned(), s("credit_entry")),
        ("id".to_owned(), s(entry.id.to_string())),
        ("user_id".to_owned(), s(entry.user.to_string())),
        ("amount".to_owned(), n(entry.amount)),
        ("reason".to_owned(), s(entry.reason.to_stored())),
        (
            "created_at".to_owned(),
            s(super::store::format_time(entry.created_at)),
        ),
    ]);
    if let Some(reference) = &entry.reference {
        item.insert("reference".to_owned(), s(reference.clone()));
    }
    item
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(text),
        _ => Err(corrupt(name)),
    }
}

fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(number)) => number.parse().map_err(|_| corrupt(name)),
        _ => Err(corrupt(name)),
    }
}

fn read_entry(item: &Item) -> Result<CreditEntry, StoreError> {
    let created_at = OffsetDateTime::parse(
        text(item, "created_at")?,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| corrupt("created_at"))?;
    Ok(CreditEntry {
        id: Uuid::parse_str(text(item, "id")?).map_err(|_| corrupt("id"))?,
        user: UserId::from_uuid(
            Uuid::parse_str(text(item, "user_id")?).map_err(|_| corrupt("user_id"))?,
        ),
        amount: number(item, "amount")?,
        reason: CreditReason::from_stored(text(item, "reason")?),
        reference: text(item, "reference").ok().map(str::to_owned),
        created_at,
    })
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
            .value(":entity", s("credit_balance"));
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
            Write::create(&self.table, entry_item(entry))?,
        ];
        if let Some(once) = &posting.once {
            let Key { pk, sk } = keys::credit_once(once);
            writes.push(
                Write::create(
                    &self.table,
                    HashMap::from([
                        (PK.to_owned(), s(pk)),
                        (SK.to_owned(), s(sk)),
                        ("entity".to_owned(), s("credit_once")),
                        ("entry_id".to_owned(), s(entry.id.to_string())),
                    ]),
                )?
                .named(ONCE_UNCLAIMED),
            );
        }
        if let Some(audit) = &posting.audit {
            writes.push(self.put_audit(audit)?);
        }
        if let Some(purchase) = &posting.purchase {
            let Key { pk, sk } = keys::purchase(&purchase.payment_intent);
            writes.push(Write::put(
                &self.table,
                HashMap::from([
                    (PK.to_owned(), s(pk)),
                    (SK.to_owned(), s(sk)),
                    ("entity".to_owned(), s("purchase")),
                    ("user_id".to_owned(), s(purchase.user.to_string())),
                    ("credits".to_owned(), n(purchase.credits)),
                    ("pack".to_owned(), s(purchase.pack.clone())),
                ]),
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
        Ok(Some(Purchase {
            payment_intent: payment_intent.to_owned(),
            user: UserId::from_uuid(
                Uuid::parse_str(text(&item, "user_id")?).map_err(|_| corrupt("user_id"))?,
            ),
            credits: number(&item, "credits")?,
            pack: text(&item, "pack")?.to_owned(),
        }))
    }

    async fn balance(&self, user: UserId) -> Result<i64, StoreError> {
        match self.get_item(keys::credit_balance(user)).await? {
            Some(item) => number(&item, "balance"),
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
            if text(&item, SK)? == high {
                continue;
            }
            entries.push(read_entry(&item)?);
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
