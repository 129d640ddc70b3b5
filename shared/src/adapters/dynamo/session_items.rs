//! Item shapes of sessions, refresh tokens, devices and login throttles.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::keys::{self, Key};
use crate::domain::{
    Device, DeviceId, DeviceInfo, LoginThrottle, RefreshRecord, RefreshState, Session, SessionId,
    ThrottleKey, UserId,
};

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
pub const FAILURES: &str = "failures";
pub const WINDOW_STARTED_AT: &str = "window_started_at";
pub const WINDOW_EPOCH: &str = "window_epoch";
pub const LOCKOUTS: &str = "lockouts";
pub const LOCKED_UNTIL: &str = "locked_until";
pub const FIRST_SEEN: &str = "first_seen";
pub const REFRESH_STATE: &str = "state";
pub const SPENT_AT: &str = "spent_at";
pub const SUCCESSOR_HASH: &str = "successor_hash";
pub const SEALED_SUCCESSOR: &str = "sealed_successor";
pub const SESSION_LAST_USED_AT: &str = "last_used_at";

/// Ended sessions stay listed (device history) this long past their end.
const SESSION_HISTORY: Duration = Duration::days(30);

#[derive(Debug, Serialize, Deserialize)]
pub struct SessionItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub absolute_expires_at: OffsetDateTime,
    pub current_token_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
    pub expires_at: i64,
}

impl From<&Session> for SessionItem {
    fn from(session: &Session) -> Self {
        let Key { pk, sk } = keys::session(session.user_id, session.id);
        Self {
            pk,
            sk,
            entity: "session".into(),
            session_id: session.id.as_uuid(),
            user_id: session.user_id.as_uuid(),
            device_id: session.device_id.as_ref().map(|d| d.as_str().to_owned()),
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            absolute_expires_at: session.absolute_expires_at,
            current_token_hash: session.current_token_hash.clone(),
            ip: session.ip.clone(),
            revoked_at: session.revoked_at,
            revoked_reason: session.revoked_reason.clone(),
            expires_at: (session.absolute_expires_at + SESSION_HISTORY).unix_timestamp(),
        }
    }
}

impl From<SessionItem> for Session {
    fn from(item: SessionItem) -> Self {
        Self {
            id: SessionId::from_uuid(item.session_id),
            user_id: UserId::from_uuid(item.user_id),
            device_id: item.device_id.map(DeviceId::from_stored),
            created_at: item.created_at,
            last_used_at: item.last_used_at,
            absolute_expires_at: item.absolute_expires_at,
            current_token_hash: item.current_token_hash,
            ip: item.ip,
            revoked_at: item.revoked_at,
            revoked_reason: item.revoked_reason,
        }
    }
}

pub const TOKEN_ACTIVE: &str = "active";

// Attributes of a session item that updates name.
pub const REVOKED_AT: &str = "revoked_at";
pub const REVOKED_REASON: &str = "revoked_reason";
pub const CURRENT_TOKEN_HASH: &str = "current_token_hash";
pub const TOKEN_SPENT: &str = "spent";

#[derive(Debug, Serialize, Deserialize)]
pub struct RefreshItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub token_hash: String,
    pub user_id: Uuid,
    /// See `keys::OWNER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub session_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub token_expires_at: OffsetDateTime,
    pub state: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub spent_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_successor: Option<String>,
    /// TTL: a spent token is kept until it would have expired, so a late
    /// replay is still recognised as reuse.
    pub expires_at: i64,
}

impl From<&RefreshRecord> for RefreshItem {
    fn from(record: &RefreshRecord) -> Self {
        let Key { pk, sk } = keys::refresh_token(&record.hash);
        let (state, spent_at, successor_hash, sealed_successor) = match &record.state {
            RefreshState::Active => (TOKEN_ACTIVE, None, None, None),
            RefreshState::Spent {
                at,
                successor_hash,
                sealed_successor,
            } => (
                TOKEN_SPENT,
                Some(*at),
                Some(successor_hash.clone()),
                Some(sealed_successor.clone()),
            ),
        };
        Self {
            pk,
            sk,
            entity: "refresh_token".into(),
            token_hash: record.hash.clone(),
            user_id: record.user_id.as_uuid(),
            owner: Some(keys::owner(record.user_id)),
            session_id: record.session_id.as_uuid(),
            issued_at: record.issued_at,
            token_expires_at: record.expires_at,
            state: state.into(),
            spent_at,
            successor_hash,
            sealed_successor,
            expires_at: record.expires_at.unix_timestamp(),
        }
    }
}

impl From<RefreshItem> for RefreshRecord {
    fn from(item: RefreshItem) -> Self {
        let state = match (
            item.state.as_str(),
            item.spent_at,
            item.successor_hash,
            item.sealed_successor,
        ) {
            (TOKEN_SPENT, Some(at), Some(successor_hash), Some(sealed_successor)) => {
                RefreshState::Spent {
                    at,
                    successor_hash,
                    sealed_successor,
                }
            }
            _ => RefreshState::Active,
        };
        Self {
            hash: item.token_hash,
            user_id: UserId::from_uuid(item.user_id),
            session_id: SessionId::from_uuid(item.session_id),
            issued_at: item.issued_at,
            expires_at: item.token_expires_at,
            state,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DeviceItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub device_id: String,
    pub user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
}

impl From<&Device> for DeviceItem {
    fn from(device: &Device) -> Self {
        let Key { pk, sk } = keys::device(device.user_id, &device.id);
        let info = device.info.clone();
        Self {
            pk,
            sk,
            entity: "device".into(),
            device_id: device.id.as_str().to_owned(),
            user_id: device.user_id.as_uuid(),
            platform: info.platform,
            model: info.model,
            os_version: info.os_version,
            app_version: info.app_version,
            language_code: info.language_code,
            timezone: info.timezone,
            ip: device.ip.clone(),
            first_seen: device.first_seen,
            last_seen: device.last_seen,
        }
    }
}

impl From<DeviceItem> for Device {
    fn from(item: DeviceItem) -> Self {
        Self {
            id: DeviceId::from_stored(item.device_id),
            user_id: UserId::from_uuid(item.user_id),
            info: DeviceInfo {
                platform: item.platform,
                model: item.model,
                os_version: item.os_version,
                app_version: item.app_version,
                language_code: item.language_code,
                timezone: item.timezone,
            },
            ip: item.ip,
            first_seen: item.first_seen,
            last_seen: item.last_seen,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ThrottleItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    /// See `keys::OWNER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub failures: u32,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub window_started_at: Option<OffsetDateTime>,
    /// `window_started_at` in Unix seconds: conditions compare numbers
    /// (RFC 3339 text with fractions does not sort by time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_epoch: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub locked_until: Option<OffsetDateTime>,
    pub lockouts: u32,
    pub version: u64,
    pub expires_at: i64,
}

/// Lockout history is forgotten a day after its last event.
pub const THROTTLE_MEMORY: Duration = Duration::days(1);

impl ThrottleItem {
    pub fn new(
        key: &ThrottleKey,
        throttle: &LoginThrottle,
        now: OffsetDateTime,
        owner: Option<UserId>,
    ) -> Self {
        let Key { pk, sk } = keys::login_throttle(key);
        let last_event = throttle.locked_until.unwrap_or(now).max(now);
        Self {
            pk,
            sk,
            entity: "login_throttle".into(),
            owner: owner.map(keys::owner),
            failures: throttle.failures,
            window_started_at: throttle.window_started_at,
            window_epoch: throttle
                .window_started_at
                .map(OffsetDateTime::unix_timestamp),
            locked_until: throttle.locked_until,
            lockouts: throttle.lockouts,
            version: throttle.version,
            expires_at: (last_event + THROTTLE_MEMORY).unix_timestamp(),
        }
    }

    /// The stored state, unless DynamoDB's lazy TTL has not removed an
    /// expired item yet.
    pub fn into_throttle(self, now: OffsetDateTime) -> LoginThrottle {
        if self.expires_at <= now.unix_timestamp() {
            return LoginThrottle {
                version: self.version,
                ..LoginThrottle::default()
            };
        }
        LoginThrottle {
            failures: self.failures,
            window_started_at: self.window_started_at,
            locked_until: self.locked_until,
            lockouts: self.lockouts,
            version: self.version,
        }
    }
}
