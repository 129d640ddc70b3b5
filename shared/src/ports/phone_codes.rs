//! The port of one-time codes sent by SMS.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::one_time::IssueError;
use super::sessions::NewSession;
use super::StoreError;
use crate::domain::{NotificationEvent, PhoneCodeKey, PhoneCodeRecord, RateWindow};

#[derive(Debug, thiserror::Error)]
pub enum SpendCodeError {
    /// Used, replaced or removed since it was checked.
    #[error("the code is spent")]
    Spent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait]
pub trait PhoneCodes: Send + Sync {
    /// Counts one request in every window and, when given, stores the code
    /// (replacing the number's previous code of that purpose) with its
    /// events: all or nothing, one write. Requests that send nothing pass
    /// no code and do the same write, so both cost alike.
    async fn issue_phone_code(
        &self,
        code: Option<&PhoneCodeRecord>,
        events: &[NotificationEvent],
        windows: &[RateWindow],
    ) -> Result<(), IssueError>;

    /// Counts one guess against the stored code and returns it as it is
    /// after the count, in one conditional write: only while fewer than
    /// `max_attempts` guesses were counted and the code has not expired at
    /// `now`. `None` (counting nothing) for a missing, expired or dead
    /// code. Parallel guesses are counted one by one, so no more than
    /// `max_attempts` are ever compared.
    async fn attempt_phone_code(
        &self,
        key: &PhoneCodeKey,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Option<PhoneCodeRecord>, StoreError>;

    /// Spends `code` if it is still stored with that hash; false when it
    /// went meanwhile (used, replaced). For the verified phone sign-up.
    async fn spend_phone_code(&self, code: &PhoneCodeRecord) -> Result<bool, StoreError>;

    /// Spends `code` (still stored with that hash) and starts the session,
    /// all or nothing. `Spent` when the code went meanwhile (a parallel
    /// right guess).
    async fn start_phone_session(
        &self,
        code: &PhoneCodeRecord,
        new: &NewSession,
    ) -> Result<(), SpendCodeError>;
}
