//! Push tokens: where to reach a device through FCM, APNs or Web Push.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use super::id::PushTokenId;

use super::device::DeviceId;
use super::errors::{FieldError, FieldErrors};
use super::form::Form;
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

/// `POST /users/me/push-tokens`: `{platform, token, device_id?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushToken {
    pub platform: Platform,
    pub token: PushTokenValue,
    pub device_id: Option<DeviceId>,
}

fn optional_device(
    form: &Form<'_>,
    fields: &Map<String, Value>,
) -> Result<Option<DeviceId>, FieldError> {
    match fields.get("device_id") {
        None | Some(Value::Null) => Ok(None),
        Some(_) => form
            .required_text("device_id")
            .and_then(DeviceId::parse)
            .map(Some),
    }
}

impl NewPushToken {
    pub fn parse(fields: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let form = Form::new(fields);
        let mut errors = FieldErrors::new();
        let platform = errors.collect(
            "platform",
            form.required_text("platform").and_then(Platform::parse),
        );
        let token = errors.collect(
            "token",
            form.required_secret("token")
                .and_then(PushTokenValue::parse),
        );
        let device_id = errors.collect("device_id", optional_device(&form, fields));
        match (platform, token, device_id) {
            (Some(platform), Some(token), Some(device_id)) if errors.is_empty() => Ok(Self {
                platform,
                token,
                device_id,
            }),
            _ => Err(errors),
        }
    }
}

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
    pub fn parse(fields: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let form = Form::new(fields);
        let mut errors = FieldErrors::new();
        for name in fields.keys() {
            if !["token", "active", "platform", "device_id"].contains(&name.as_str()) {
                errors.add(
                    name,
                    FieldError::invalid("Unknown field: use token, active, platform or device_id."),
                );
            }
        }
        let token = match fields.get("token") {
            None => None,
            Some(_) => errors.collect(
                "token",
                form.required_text("token").and_then(PushTokenValue::parse),
            ),
        };
        let active = match fields.get("active") {
            None => None,
            Some(Value::Bool(on)) => Some(*on),
            Some(_) => {
                errors.add("active", FieldError::invalid("Must be a boolean."));
                None
            }
        };
        let platform = match fields.get("platform") {
            None => None,
            Some(_) => errors.collect(
                "platform",
                form.required_text("platform").and_then(Platform::parse),
            ),
        };
        let device_id = match fields.get("device_id") {
            None => None,
            Some(_) => errors.collect("device_id", optional_device(&form, fields)),
        };
        if errors.is_empty() {
            Ok(Self {
                token,
                active,
                platform,
                device_id,
            })
        } else {
            Err(errors)
        }
    }

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
    use crate::domain::ErrorCode;
    use serde_json::json;

    #[test]
    fn new_tokens_are_validated() {
        let parsed = NewPushToken::parse(
            json!({"platform": "fcm", "token": "abc:DEF-123", "device_id": "phone-1"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(parsed.platform, Platform::Fcm);
        assert_eq!(parsed.device_id.unwrap().as_str(), "phone-1");
        let errors = NewPushToken::parse(
            json!({"platform": "sms", "token": "a b"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(errors.codes("platform"), vec![ErrorCode::Invalid]);
        assert_eq!(errors.codes("token"), vec![ErrorCode::Invalid]);
        let errors = NewPushToken::parse(json!({"token": "x".repeat(5000)}).as_object().unwrap())
            .unwrap_err();
        assert_eq!(errors.codes("platform"), vec![ErrorCode::Required]);
        assert_eq!(errors.codes("token"), vec![ErrorCode::TooLong]);
    }

    #[test]
    fn changes_are_partial_and_strict() {
        let change = PushTokenChange::parse(
            json!({"active": false, "device_id": null})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(change.active, Some(false));
        assert_eq!(change.device_id, Some(None));
        let errors =
            PushTokenChange::parse(json!({"active": "no", "owner": "x"}).as_object().unwrap())
                .unwrap_err();
        assert_eq!(errors.codes("active"), vec![ErrorCode::Invalid]);
        assert_eq!(errors.codes("owner"), vec![ErrorCode::Invalid]);
        let value = PushTokenValue::parse("secret-token").unwrap();
        assert!(!format!("{value:?}").contains("secret"));
    }
}
