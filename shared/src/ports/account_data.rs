//! An account's data as a whole: deletion (in the background, resumable)
//! and export.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::preferences::Preferences;
use crate::domain::push_token::PushToken;
use crate::domain::{
    Account, AuditRecord, Device, NotificationEvent, Session, Task, TaskId, UserId,
};

/// Everything stored about one account.
#[derive(Debug, Clone, Default)]
pub struct AccountExport {
    pub account: Option<Account>,
    pub devices: Vec<Device>,
    pub sessions: Vec<Session>,
    pub preferences: Option<Preferences>,
    pub push_tokens: Vec<PushToken>,
    /// Oldest first.
    pub audit: Vec<AuditRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum BeginDeletionError {
    /// The account changed or is gone since it was read.
    #[error("the account changed concurrently")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait]
pub trait AccountData: Send + Sync {
    /// Deactivates the account, ends every session and writes the deletion
    /// task with a resume marker, at once: from here the account cannot be
    /// used, and the deletion finishes even if its message is lost.
    async fn begin_deletion(
        &self,
        account: &Account,
        task: &Task,
        at: OffsetDateTime,
    ) -> Result<(), BeginDeletionError>;

    /// Deletes every item of the account: its partition, its claims, its
    /// tokens, tasks and audit records; last, the account item, the
    /// marker and `task`, with `event` (`user.deleted`) in that same
    /// write. Safe to repeat and to resume after an interruption. True
    /// when this call finished it.
    async fn erase_account(
        &self,
        user: UserId,
        task: TaskId,
        event: &NotificationEvent,
    ) -> Result<bool, StoreError>;

    /// Deletions begun before `before` whose work is not done: the
    /// clean-up job queues them again.
    async fn unfinished_deletions(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<(UserId, TaskId)>, StoreError>;

    /// What is stored about the account.
    async fn export_account(&self, user: UserId) -> Result<AccountExport, StoreError>;
}
