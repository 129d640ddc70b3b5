//! The credits port: a user's balance and ledger, changed only by
//! postings that write the entry and the balance in one transaction.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{CreditEntry, LedgerPosition, Posting, Purchase, UserId};

#[derive(Debug, thiserror::Error)]
pub enum PostingError {
    /// The posting would take the balance below zero: nothing written.
    #[error("insufficient credits")]
    Insufficient,
    /// A posting with the same `once` key was applied before: nothing
    /// written (the caller treats it as done).
    #[error("already applied")]
    AlreadyApplied,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of a user's ledger, newest first, with the balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPage {
    pub balance: i64,
    pub entries: Vec<CreditEntry>,
    /// The position to pass as `after` for the next page; `None` on the
    /// last one.
    pub next: Option<LedgerPosition>,
}

#[async_trait]
pub trait CreditStore: Send + Sync {
    /// Writes the entry, moves the balance by its amount (refused unless
    /// `allow_negative` when the balance would go below zero), claims the
    /// `once` key and writes the audit record: all or nothing.
    async fn post(&self, posting: &Posting) -> Result<(), PostingError>;

    /// The purchase a payment intent paid for, if one was credited.
    async fn purchase(&self, payment_intent: &str) -> Result<Option<Purchase>, StoreError>;

    /// The balance (0 for a user without entries).
    async fn balance(&self, user: UserId) -> Result<i64, StoreError>;

    /// Up to `limit` entries older than `after` (newest first), with the
    /// balance.
    async fn ledger(
        &self,
        user: UserId,
        limit: usize,
        after: Option<&LedgerPosition>,
    ) -> Result<LedgerPage, StoreError>;
}
