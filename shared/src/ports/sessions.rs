//! The session port: logins, refresh-token rotation, revocation, devices.
//! Each method is one use-case step and one round trip to the table
//! (listing-based revocations add one query).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::accounts::StoredAccount;
use super::StoreError;
use crate::domain::{
    AuditRecord, Device, DeviceId, LockoutPolicy, LoginThrottle, NotificationEvent, RateWindow,
    RefreshRecord, Session, SessionId, ThrottleKey, UserId,
};

/// What a login looks up before checking the password.
#[derive(Debug, Clone)]
pub struct LoginKeys<'a> {
    pub username_key: Option<&'a str>,
    pub email: Option<&'a str>,
    /// The lockout counter the attempt is checked against, if any.
    pub throttle: Option<&'a ThrottleKey>,
    /// The account-wide counter it is also checked against, if any.
    pub ceiling: Option<&'a ThrottleKey>,
    pub ip_window: Option<&'a RateWindow>,
    /// Lockout state past its retention counts as none.
    pub now: OffsetDateTime,
}

/// One more attempt on a lock (`SessionStore::count_attempt_unread`).
pub struct UnreadCount<'a> {
    pub key: &'a ThrottleKey,
    pub owner: Option<UserId>,
    pub policy: LockoutPolicy,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginLookup {
    /// The account holding the username claim, else the email claim.
    pub user_id: Option<UserId>,
    /// The lockout counter (default when none was asked for).
    pub throttle: LoginThrottle,
    /// The account-wide counter (default when none was asked for).
    pub ceiling: LoginThrottle,
    /// Failed logins from the source address in the current window.
    pub ip_failures: u32,
}

/// Everything a successful login writes, at once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub session: Session,
    pub refresh: RefreshRecord,
    pub device: Option<Device>,
    pub audit: AuditRecord,
    /// The lockout counter whose failure history the login clears.
    pub clear_throttle: Option<ThrottleKey>,
    /// Notification events of the login (`login.new_device`).
    pub events: Vec<NotificationEvent>,
}

/// Everything a failed password check writes, at once.
#[derive(Debug, Clone)]
pub struct LoginFailure {
    /// The lock counter (per identifier and address block for logins, per
    /// account for current-password checks); `None` when it was counted
    /// ahead of the check.
    pub lock: Option<ThrottleUpdate>,
    /// The account-wide counter, written under the same kind of condition.
    pub ceiling: Option<ThrottleUpdate>,
    /// When the failure happened (the stored state's retention counts
    /// from it).
    pub at: OffsetDateTime,
    pub ip_window: Option<RateWindow>,
    /// `None` when the failure is counted ahead of the check it stands for
    /// (see `PasswordCheckEnd`).
    pub audit: Option<AuditRecord>,
    /// The account the identifier names, when there is one: its lockout
    /// state goes when the account is deleted.
    pub owner: Option<UserId>,
}

/// One lockout counter's change.
#[derive(Debug, Clone)]
pub struct ThrottleUpdate {
    pub key: ThrottleKey,
    /// The state read before the attempt: the write only applies if it is
    /// still the stored one.
    pub previous: LoginThrottle,
    pub next: LoginThrottle,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginFailureError {
    /// Another failure was recorded meanwhile: read again and recompute.
    #[error("the login throttle changed concurrently")]
    Concurrent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a current-password check, counted as a failure before its hash
/// ran, ended.
#[derive(Debug, Clone)]
pub enum PasswordCheckEnd {
    /// The password was right: the failure counted for it is taken back
    /// (`refund` restores the state before it, written only if nothing was
    /// counted since; otherwise the count stands).
    Right { refund: Box<LoginFailure> },
    /// The password was wrong: the counted failure stands; its audit record
    /// is written.
    Wrong { audit: Box<AuditRecord> },
}

/// A refresh token with its session and user, read together. The account
/// stays sealed: a refresh needs only its status, so its numbers are not
/// decrypted.
#[derive(Debug, Clone, Default)]
pub struct RefreshView {
    pub record: Option<RefreshRecord>,
    pub session: Option<Session>,
    pub account: Option<StoredAccount>,
}

/// Spending a refresh token for its successor.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub old_hash: String,
    pub successor: RefreshRecord,
    pub sealed_successor: String,
    pub at: OffsetDateTime,
}

/// A spent refresh token presented again inside the grace window: it is
/// answered with its successor only while that successor is still the
/// session's current token, and the replay is audited.
#[derive(Debug, Clone)]
pub struct GraceReplay {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// Hash of the successor the spent token was rotated to.
    pub successor_hash: String,
    pub audit: AuditRecord,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The token was spent, or the session ended, since it was read.
    #[error("the refresh token is no longer active")]
    Lost,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why sessions end; kept on the session for audits and device lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    Logout,
    LogoutAll,
    PasswordChanged,
    TokenReuse,
    DeviceRemoved,
    AccountDeleted,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::PasswordChanged => "password_changed",
            Self::TokenReuse => "token_reuse",
            Self::DeviceRemoved => "device_removed",
            Self::AccountDeleted => "account_deleted",
        }
    }
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Claims, the identifier's lockout state and the address's failure
    /// count, in one read.
    async fn lookup_login(&self, keys: &LoginKeys<'_>) -> Result<LoginLookup, StoreError>;

    /// Session, first refresh token, device, audit record and the cleared
    /// lockout, all or nothing.
    async fn start_session(&self, new: &NewSession) -> Result<(), StoreError>;

    /// A login refused before its password was checked (address capped,
    /// identifier locked): it still counts against the address
    /// (`ip_window`), with its audit record, in one write.
    async fn record_refused_login(
        &self,
        ip_window: Option<&RateWindow>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError>;

    /// Lockout state, address counter and audit record, all or nothing.
    async fn record_login_failure(&self, failure: &LoginFailure) -> Result<(), LoginFailureError>;

    /// Counts one attempt on a lock without reading it first, when the
    /// count cannot lock it: the lock holds nothing yet, or fewer than
    /// `max_failures - 1` failures in a running window and no lock, ever.
    /// Returns the state before and after, or `None` when the lock needs
    /// the read-then-versioned-write path (`record_login_failure`). The
    /// same request whatever the state, so its cost tells nothing.
    async fn count_attempt_unread(
        &self,
        count: &UnreadCount<'_>,
    ) -> Result<Option<(LoginThrottle, LoginThrottle)>, StoreError>;

    /// Settles a current-password check counted ahead (one write).
    async fn settle_password_check(&self, end: &PasswordCheckEnd) -> Result<(), StoreError>;

    /// The token (by hash), its session and its user, in one read.
    async fn load_refresh(
        &self,
        hash: &str,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<RefreshView, StoreError>;

    /// Marks the old token spent (only if still active), stores the new one
    /// and moves the session to it (only if the session is live and still
    /// on the old token), all or nothing.
    async fn rotate_refresh(&self, rotation: &Rotation) -> Result<(), RotationError>;

    /// Writes the replay's audit record only if the session is live and its
    /// current token is still the successor (`Lost` otherwise), in one
    /// write.
    async fn record_grace_replay(&self, replay: &GraceReplay) -> Result<(), RotationError>;

    /// Ends one session: its live token is deleted, its access tokens fail
    /// at once. `audit` is written with it. Ending an ended session is a
    /// no-op.
    async fn revoke_session(
        &self,
        session: &Session,
        reason: RevokeReason,
        at: OffsetDateTime,
        audit: Option<&AuditRecord>,
        events: &[NotificationEvent],
    ) -> Result<(), StoreError>;

    /// Ends every live session of the user but `keep`; returns how many.
    async fn revoke_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        reason: RevokeReason,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError>;

    /// The user and one of its sessions, in one read: what every
    /// authenticated request checks. The account is not decrypted.
    async fn user_and_session(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<(Option<StoredAccount>, Option<Session>), StoreError>;

    /// Every session (live or ended) and device of the user.
    async fn sessions_and_devices(
        &self,
        user_id: UserId,
    ) -> Result<(Vec<Session>, Vec<Device>), StoreError>;

    /// Ends the device's sessions and forgets the device; false if the user
    /// has no such device.
    async fn remove_device(
        &self,
        user_id: UserId,
        device_id: &DeviceId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}
