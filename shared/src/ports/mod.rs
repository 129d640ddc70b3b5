//! Ports: what the use cases need from the outside world. Every port has a
//! DynamoDB adapter and an in-memory adapter with the same semantics.

pub mod account_data;
pub mod accounts;
pub mod avatars;
pub mod billing;
pub mod credits;
pub mod directory;
pub mod ip_blocks;
pub mod notification_profile;
pub mod notifications;
pub mod one_time;
pub mod payments;
pub mod phone_codes;
pub mod phone_users;
pub mod queues;
pub mod secrets;
pub mod sessions;
pub mod tasks;

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use crate::domain::{AuditRecord, NotificationEvent, RateWindow, User, UserId};

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or unreachable: worth retrying later.
    #[error("storage is unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug or a corrupt item.
    #[error("storage failed")]
    Internal(#[source] BoxError),
}

impl StoreError {
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }
}

/// Which uniqueness claims are held by another account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conflicts {
    pub username: bool,
    pub email: bool,
}

impl Conflicts {
    pub fn any(&self) -> bool {
        self.username || self.email
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("username or email already taken")]
    Conflict(Conflicts),
    /// The sign-up quota of the source address is used up.
    #[error("sign-up quota exhausted")]
    QuotaExhausted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateUserError {
    #[error("username or email already taken")]
    Conflict(Conflicts),
    /// The user changed (or vanished) since it was read.
    #[error("the user changed concurrently")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new password and everything written with it.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    /// The account as read: the write applies only while its password
    /// hash is still this one.
    pub user: &'a User,
    pub hash: &'a crate::domain::PasswordHash,
    /// The session that made the change stays; every other ends.
    pub keep: Option<crate::domain::SessionId>,
    pub at: time::OffsetDateTime,
    pub audit: &'a AuditRecord,
    pub events: &'a [NotificationEvent],
    /// A reset token spent in the same write.
    pub reset: Option<&'a crate::domain::OneTimeTokenRecord>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Writes the user with its profile, its username and email claims and
    /// the audit record of its creation, and counts one sign-up against
    /// `quota`, all or nothing. When a claim is held already nothing is
    /// written and every taken claim is named.
    async fn create(
        &self,
        user: &User,
        audit: &AuditRecord,
        quota: Option<&RateWindow>,
        events: &[NotificationEvent],
    ) -> Result<(), CreateUserError> {
        self.create_with_credits(user, audit, quota, events, None)
            .await
    }

    /// `create`, with the account's opening credit entry (`SIGNUP_CREDITS`)
    /// posted in the same transaction.
    async fn create_with_credits(
        &self,
        user: &User,
        audit: &AuditRecord,
        quota: Option<&RateWindow>,
        events: &[NotificationEvent],
        credits: Option<&crate::domain::Posting>,
    ) -> Result<(), CreateUserError>;

    /// Counts one sign-up attempt from an address against `window`, ahead
    /// of everything the attempt would reveal or cost (conflicts, hashing);
    /// false, counting nothing, when the window is full.
    async fn charge_signup_quota(&self, window: &RateWindow) -> Result<bool, StoreError>;

    /// Which of these claims are taken (a strongly consistent read).
    async fn taken(
        &self,
        username_key: Option<&str>,
        email: Option<&str>,
    ) -> Result<Conflicts, StoreError>;

    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The user, and whether it used `device` before: one read.
    async fn get_with_device(
        &self,
        id: UserId,
        device: &crate::domain::DeviceId,
    ) -> Result<(Option<User>, bool), StoreError>;

    async fn find_by_username(&self, username_key: &str) -> Result<Option<UserId>, StoreError>;

    async fn find_by_email(&self, email: &str) -> Result<Option<UserId>, StoreError>;

    /// Replaces the stored user with `updated` if `current` is still what is
    /// stored; moves the username and email claims when they change. Writes
    /// `events` in the same write.
    async fn update(
        &self,
        current: &User,
        updated: &User,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), UpdateUserError>;

    /// Sets a new password hash and ends every session but `keep`, with
    /// the rest of `change`, in one write; `Stale` when the stored password
    /// (or the reset token) is no longer the one read.
    async fn change_password(&self, change: &PasswordChange<'_>) -> Result<(), UpdateUserError>;
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, record: &AuditRecord) -> Result<(), StoreError>;

    /// The records of one UTC day, oldest first.
    async fn list_day(&self, day: Date) -> Result<Vec<AuditRecord>, StoreError>;
}

/// The transactional outbox: events written with the changes they report,
/// waiting to be relayed to the notifications queue.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Events not yet relayed, oldest first.
    async fn pending(&self) -> Result<Vec<NotificationEvent>, StoreError>;

    /// Up to `limit` events written before `before`, oldest first: what
    /// the stream relay missed.
    async fn pending_before(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<NotificationEvent>, StoreError>;

    /// Drops relayed events (absent ones are no error).
    async fn remove(&self, events: &[NotificationEvent]) -> Result<(), StoreError>;
}

/// A dependency `GET /health` reports on.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    fn name(&self) -> &'static str;
    async fn check(&self) -> Result<(), StoreError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<OffsetDateTime>,
}

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: std::sync::Mutex::new(start),
        }
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}
