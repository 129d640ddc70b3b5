//! Push tokens: where to reach a device through FCM, APNs or Web Push.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

pub use super::id::PushTokenId;

use super::device::DeviceId;
use super::errors::{FieldError, FieldErrors};
use super::request::{read_exact, read_trimmed, FieldValue, Reading};
use super::user::UserId;

/// Long enough for a Web Push subscription endpoint; FCM tokens are about
/// 160 characters, APNs tokens 64.
pub const MAX_TOKEN_CHARS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Fcm,
    Apns,
    Web,
}

impl Platform {
    fn parse(text: &str) -> Result<Self, FieldError> {
        match text {
            "fcm" => Ok(Self::Fcm),
            "apns" => Ok(Self::Apns),
            "web" => Ok(Self::Web),
            _ => Err(FieldError::invalid("Must be one of: fcm, apns, web.")),
        }
    }
}

/// A token as a provider issued it: printable, no spaces.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PushTokenValue(String);

/// Tokens address a device: never printed in full.
impl fmt::Debug for PushTokenValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushTokenValue({} chars)", self.0.len())
    }
}

impl PushTokenValue {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let chars = text.chars().count();
        if chars > MAX_TOKEN_CHARS {
            return Err(FieldError::too_long(MAX_TOKEN_CHARS));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(FieldError::invalid(
                "Must not contain spaces or control characters.",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the uniqueness claim is keyed by: the token never is a key.
    pub fn hash(&self) -> String {
        crate::crypto::digest::sha256_hex(self.0.as_bytes())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushToken {
    pub id: PushTokenId,
    pub user_id: UserId,
    pub platform: Platform,
    pub token: PushTokenValue,
    pub device_id: Option<DeviceId>,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
}

impl FieldValue for Platform {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_trimmed(value, name, errors, Self::parse)
    }
}

impl FieldValue for PushTokenValue {
    /// As sent: a provider's token has no spaces to trim.
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_exact(value, name, errors, Self::parse)
    }
}

crate::field_schema!(PushTokenValue => string()
    .min_length(Some(1))
    .max_length(Some(MAX_TOKEN_CHARS))
    .pattern(Some(r"^[^\s\x00-\x1f\x7f-\x9f]+$")));

/// `PUT /users/me/push-tokens/{id}`: `{active?, device_id?, platform?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushTokenChange {
    /// A new value from the push service (it rotates them); the value
    /// keeps one owner (see `PushTokenStore::change_push_token_value`).
    pub token: Option<PushTokenValue>,
    pub active: Option<bool>,
    pub platform: Option<Platform>,
    /// `Some(None)` detaches the token from its device.
    pub device_id: Option<Option<DeviceId>>,
}

impl PushTokenChange {
    pub fn apply(&self, token: &PushToken) -> PushToken {
        let mut changed = token.clone();
        if let Some(value) = &self.token {
            changed.token = value.clone();
        }
        if let Some(active) = self.active {
            changed.active = active;
        }
        if let Some(platform) = self.platform {
            changed.platform = platform;
        }
        if let Some(device_id) = &self.device_id {
            changed.device_id = device_id.clone();
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_values_are_not_printed() {
        let value = PushTokenValue::parse("secret-token").unwrap();
        assert!(!format!("{value:?}").contains("secret"));
    }
}
