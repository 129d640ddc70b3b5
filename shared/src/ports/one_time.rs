//! Email links and what surrounds them: single-use tokens (confirmation,
//! reset), pre-registrations, and the unverified accounts the clean-up
//! job removes.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::{
    AuditRecord, Email, NotificationEvent, OneTimeTokenRecord, RateWindow, UserId,
};

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The window at this index of the ones given is full.
    #[error("rate limit reached")]
    RateLimited(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// The token was used meanwhile, or the account's address changed.
    #[error("the token is spent or no longer matches the account")]
    Spent,
    /// An email change: another account holds the new address now.
    #[error("the new address belongs to another account")]
    Taken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An email collected before sign-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreRegistration {
    pub email: Email,
    pub created_at: OffsetDateTime,
    /// Set once an account signs up with this email.
    pub converted: Option<(UserId, OffsetDateTime)>,
}

#[async_trait]
pub trait OneTimeTokens: Send + Sync {
    /// Counts one request in every window and writes the events that ask
    /// for a link: all or nothing. Requests for unknown addresses pass no
    /// event and do the same write, so both cost alike.
    async fn request_link(
        &self,
        events: &[NotificationEvent],
        windows: &[RateWindow],
    ) -> Result<(), IssueError>;

    /// Stores a token the notification worker minted for a link event,
    /// only while its account exists and is active (one conditional write):
    /// false, storing nothing, for an account deleted or deactivated since
    /// the link was asked for, so no token outlives its account.
    async fn store_token(&self, token: &OneTimeTokenRecord) -> Result<bool, StoreError>;

    /// The stored token with this hash (expired ones included: callers
    /// check the expiry against their clock).
    async fn find_token(&self, hash: &str) -> Result<Option<OneTimeTokenRecord>, StoreError>;

    /// Spends a confirmation token and marks the account's email verified,
    /// if its address is still the one the token was mailed to.
    async fn confirm_email(
        &self,
        token: &OneTimeTokenRecord,
        at: OffsetDateTime,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), ConfirmError>;

    /// Spends an email-change token and makes its address the account's
    /// (verified), moving the `EMAIL#` claim from `old` in the same write:
    /// only while the account's address is still `old` and its pending
    /// address the token's. `Taken` when another account claimed the new
    /// address meanwhile; then nothing changes.
    async fn confirm_email_change(
        &self,
        token: &OneTimeTokenRecord,
        old: &Email,
        at: OffsetDateTime,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), ConfirmError>;
}

#[async_trait]
pub trait PreRegistrations: Send + Sync {
    /// Records `email` unless it is recorded already (then nothing
    /// changes); counts the request in `windows`. True when new.
    async fn pre_register(
        &self,
        email: &Email,
        at: OffsetDateTime,
        windows: &[RateWindow],
    ) -> Result<bool, IssueError>;

    async fn pre_registration(&self, email: &Email) -> Result<Option<PreRegistration>, StoreError>;

    /// Marks a pre-registration converted by this account's sign-up;
    /// false when there was none, or it was converted already.
    async fn mark_converted(
        &self,
        email: &Email,
        user_id: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait UnverifiedAccounts: Send + Sync {
    /// Up to `limit` accounts created before `cutoff` that never confirmed
    /// their email.
    async fn unverified_before(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError>;

    /// Deletes the account with its uniqueness claims, sessions and tokens
    /// if it is still unverified. False when it is gone or verified (a
    /// second clean-up running at once removes nothing twice).
    async fn remove_unverified(&self, id: UserId) -> Result<bool, StoreError>;
}
