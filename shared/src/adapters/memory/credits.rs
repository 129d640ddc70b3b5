use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{CreditEntry, LedgerPosition, Posting, Purchase, UserId};
use crate::ports::credits::{CreditStore, LedgerPage, PostingError};
use crate::ports::StoreError;

/// A user's balance and ledger (ordered by position, oldest first).
#[derive(Debug, Default)]
pub(super) struct Ledger {
    pub balance: i64,
    pub entries: std::collections::BTreeMap<LedgerPosition, CreditEntry>,
}

impl super::Tables {
    /// What the DynamoDB posting's conditions check, under the one lock:
    /// the `once` key first, then the balance; nothing is written unless
    /// both pass.
    pub(super) fn check_posting(&self, posting: &Posting) -> Result<(), PostingError> {
        if posting
            .once
            .as_ref()
            .is_some_and(|key| self.credit_once.contains(key))
        {
            return Err(PostingError::AlreadyApplied);
        }
        let entry = &posting.entry;
        let balance = self.ledgers.get(&entry.user).map_or(0, |l| l.balance);
        if entry.amount < 0 && !posting.allow_negative && balance < -entry.amount {
            return Err(PostingError::Insufficient);
        }
        let position = entry.position();
        if self
            .ledgers
            .get(&entry.user)
            .is_some_and(|l| l.entries.contains_key(&position))
        {
            return Err(StoreError::internal("ledger entry already exists").into());
        }
        Ok(())
    }

    /// Applies a posting `check_posting` accepted.
    pub(super) fn apply_posting(&mut self, posting: &Posting) {
        let entry = &posting.entry;
        let ledger = self.ledgers.entry(entry.user).or_default();
        ledger.balance += entry.amount;
        ledger.entries.insert(entry.position(), entry.clone());
        if let Some(key) = &posting.once {
            self.credit_once.insert(key.clone());
        }
        if let Some(audit) = &posting.audit {
            self.audit.push(audit.clone());
        }
        if let Some(purchase) = &posting.purchase {
            self.purchases
                .insert(purchase.payment_intent.clone(), purchase.clone());
        }
    }
}

#[async_trait]
impl CreditStore for MemoryStore {
    async fn post(&self, posting: &Posting) -> Result<(), PostingError> {
        let mut tables = self.lock();
        tables.check_posting(posting)?;
        tables.apply_posting(posting);
        Ok(())
    }

    async fn purchase(&self, payment_intent: &str) -> Result<Option<Purchase>, StoreError> {
        Ok(self.lock().purchases.get(payment_intent).cloned())
    }

    async fn balance(&self, user: UserId) -> Result<i64, StoreError> {
        Ok(self.lock().ledgers.get(&user).map_or(0, |l| l.balance))
    }

    async fn ledger(
        &self,
        user: UserId,
        limit: usize,
        after: Option<&LedgerPosition>,
    ) -> Result<LedgerPage, StoreError> {
        let tables = self.lock();
        let Some(ledger) = tables.ledgers.get(&user) else {
            return Ok(LedgerPage {
                balance: 0,
                entries: Vec::new(),
                next: None,
            });
        };
        let mut entries: Vec<CreditEntry> = ledger
            .entries
            .iter()
            .rev()
            .filter(|(position, _)| after.is_none_or(|after| *position < after))
            .take(limit + 1)
            .map(|(_, entry)| entry.clone())
            .collect();
        let next = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(CreditEntry::position)
        } else {
            None
        };
        Ok(LedgerPage {
            balance: ledger.balance,
            entries,
            next,
        })
    }
}
