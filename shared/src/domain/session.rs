//! Sessions (one per login) and the refresh tokens that keep them alive.

use time::{Duration, OffsetDateTime};

pub use super::id::SessionId;

use super::device::DeviceId;
use super::user::UserId;

/// How long sessions and refresh tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A refresh token unused this long is dead.
    pub idle: Duration,
    /// No session outlives this, however active.
    pub absolute: Duration,
    /// A spent refresh token presented again within this window gets the
    /// same successor (tabs and retries race); later, it is theft.
    pub reuse_grace: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::days(7),
            absolute: Duration::days(30),
            reuse_grace: Duration::seconds(10),
        }
    }
}

/// A login's session: the family of refresh tokens it rotates through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub device_id: Option<DeviceId>,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
    pub absolute_expires_at: OffsetDateTime,
    /// Hash of the refresh token that is live now.
    pub current_token_hash: String,
    pub ip: Option<String>,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_reason: Option<String>,
}

impl Session {
    /// Whether access tokens of this session are honoured at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.absolute_expires_at
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshState {
    Active,
    /// Rotated at `at`; `sealed_successor` opens only with the spent token.
    Spent {
        at: OffsetDateTime,
        successor_hash: String,
        sealed_successor: String,
    },
}

/// A refresh token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub hash: String,
    pub user_id: UserId,
    pub session_id: SessionId,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub state: RefreshState,
}

impl RefreshRecord {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}
