//! The operators' view of the accounts: listing newest first and status
//! changes (`/admin/users`).

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::{Account, AuditRecord, LoginThrottle, UserId, UserStatus};

/// One step of `AccountDirectory::backfill_listing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillProgress {
    /// Accounts this step added to the listing.
    pub listed: usize,
    /// Every account is listed: later steps do nothing.
    pub done: bool,
}

/// Where a listing page ends: the position of its last account (creation
/// time to the microsecond, then id). Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListingPosition(String);

impl ListingPosition {
    pub fn of(id: UserId, created_at: OffsetDateTime) -> Self {
        Self(crate::adapters::dynamo::keys::listing_position(
            id, created_at,
        ))
    }

    pub fn of_account(account: &Account) -> Self {
        let created_at = match account {
            Account::Member(user) => user.created_at,
            Account::Phone(user) => user.created_at,
        };
        Self::of(account.id(), created_at)
    }

    /// The listing sort key (`<time>#<id>`), as the table stores it.
    pub fn as_key(&self) -> &str {
        &self.0
    }

    pub fn from_key(key: String) -> Self {
        Self(key)
    }

    /// The `cursor` clients send back.
    pub fn to_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }

    /// A cursor this service issued, or None (a 400 for the caller).
    pub fn from_cursor(cursor: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (stamp, id) = text.split_once('#')?;
        let well_formed = stamp.len() == 27
            && stamp.ends_with('Z')
            && stamp.is_ascii()
            && uuid::Uuid::parse_str(id).is_ok();
        well_formed.then_some(Self(text))
    }
}

/// What a status change found.
#[derive(Debug, Clone)]
pub enum StatusChange {
    Changed(Box<Account>),
    NotFound,
    /// The account is being erased: it stays inactive.
    BeingDeleted,
}

/// One page of accounts, newest first.
#[derive(Debug, Clone)]
pub struct ListingPage {
    pub accounts: Vec<Account>,
    /// Set when more accounts may follow.
    pub next: Option<ListingPosition>,
}

#[async_trait]
pub trait AccountDirectory: Send + Sync {
    /// Up to `limit` accounts created before `after` (every account when
    /// None), newest first, only those of `status` when given.
    async fn list_accounts(
        &self,
        status: Option<UserStatus>,
        after: Option<&ListingPosition>,
        limit: usize,
    ) -> Result<ListingPage, StoreError>;

    /// Either kind of account, by id (a strong read).
    async fn account(&self, id: UserId) -> Result<Option<Account>, StoreError>;

    /// Sets the account's status and writes `audit`, in one write.
    async fn set_status(
        &self,
        id: UserId,
        status: UserStatus,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> Result<StatusChange, StoreError>;

    /// Every lockout counter of the account (login locks per address
    /// block and account-wide, wrong current passwords), by throttle key
    /// text (`login#<block>#<identifier>`, `login-all#<identifier>`,
    /// `current-password#<id>`).
    async fn lockouts(&self, id: UserId) -> Result<Vec<(String, LoginThrottle)>, StoreError>;

    /// Forgets every lockout counter of the account and writes `audit`;
    /// returns how many there were.
    async fn clear_lockouts(&self, id: UserId, audit: &AuditRecord) -> Result<usize, StoreError>;

    /// Lists accounts stored before the listing existed, a page of the
    /// table per call, resuming where the last call stopped.
    async fn backfill_listing(&self, page: usize) -> Result<BackfillProgress, StoreError>;
}
