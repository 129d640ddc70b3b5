//! Devices a user signs in from, as the client describes them.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::errors::{FieldError, FieldErrors};
use super::form::Form;
use super::user::UserId;

pub const DEVICE_ID_MAX_CHARS: usize = 128;
const INFO_MAX_CHARS: usize = 100;

/// A client-chosen device identifier (an installation id, a browser id):
/// printable ASCII without spaces, at most 128 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::blank());
        }
        if trimmed.len() > DEVICE_ID_MAX_CHARS {
            return Err(FieldError::too_long(DEVICE_ID_MAX_CHARS));
        }
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::invalid(
                "Device ids are printable ASCII without spaces.",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `device_info` of the login and phone sign-up requests; every part
/// optional, each a short string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub platform: Option<String>,
    pub model: Option<String>,
    pub os_version: Option<String>,
    pub app_version: Option<String>,
    pub language_code: Option<String>,
    pub timezone: Option<String>,
}

pub const DEVICE_INFO_FIELDS: [&str; 6] = [
    "platform",
    "model",
    "os_version",
    "app_version",
    "language_code",
    "timezone",
];

impl DeviceInfo {
    /// Parses `device_info`; errors are reported as `device_info.<part>`.
    pub fn parse(value: Option<&Value>, errors: &mut FieldErrors) -> Self {
        let map = match value {
            None | Some(Value::Null) => return Self::default(),
            Some(Value::Object(map)) => map,
            Some(_) => {
                errors.add("device_info", FieldError::invalid("Expected an object."));
                return Self::default();
            }
        };
        let mut part = |name: &str| read_part(map, name, errors);
        Self {
            platform: part("platform"),
            model: part("model"),
            os_version: part("os_version"),
            app_version: part("app_version"),
            language_code: part("language_code"),
            timezone: part("timezone"),
        }
    }
}

/// The optional `device_id` and `device_info` of the login and phone
/// sign-up bodies; errors go into `errors`.
pub fn parse_device_fields(
    fields: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> (Option<DeviceId>, DeviceInfo) {
    let device_id = match fields.get("device_id") {
        None | Some(Value::Null) => None,
        Some(_) => errors.collect(
            "device_id",
            Form::new(fields)
                .required_text("device_id")
                .and_then(DeviceId::parse),
        ),
    };
    (
        device_id,
        DeviceInfo::parse(fields.get("device_info"), errors),
    )
}

fn read_part(map: &Map<String, Value>, name: &str, errors: &mut FieldErrors) -> Option<String> {
    if matches!(map.get(name), None | Some(Value::Null)) {
        return None;
    }
    let form = Form::new(map);
    let field = format!("device_info.{name}");
    let text = errors.collect(&field, form.required_text(name))?;
    if text.chars().count() > INFO_MAX_CHARS {
        errors.add(&field, FieldError::too_long(INFO_MAX_CHARS));
        return None;
    }
    if text.chars().any(char::is_control) {
        errors.add(
            &field,
            FieldError::invalid("Control characters are not allowed."),
        );
        return None;
    }
    Some(text.to_owned())
}

/// A device as stored: what the client said, and when and where from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub user_id: UserId,
    pub info: DeviceInfo,
    pub ip: Option<String>,
    pub first_seen: OffsetDateTime,
    pub last_seen: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;
    use serde_json::json;

    #[test]
    fn device_ids() {
        assert!(DeviceId::parse("a1b2-c3:d4.e5_f6").is_ok());
        assert_eq!(
            DeviceId::parse("has space").unwrap_err().code,
            ErrorCode::Invalid
        );
        assert_eq!(
            DeviceId::parse(&"x".repeat(129)).unwrap_err().code,
            ErrorCode::TooLong
        );
        assert_eq!(DeviceId::parse("ünï").unwrap_err().code, ErrorCode::Invalid);
    }

    #[test]
    fn device_info_parts() {
        let mut errors = FieldErrors::new();
        let info = DeviceInfo::parse(
            Some(&json!({"platform": "android", "model": 5, "app_version": "x".repeat(101)})),
            &mut errors,
        );
        assert_eq!(info.platform.as_deref(), Some("android"));
        assert_eq!(errors.codes("device_info.model"), [ErrorCode::Invalid]);
        assert_eq!(
            errors.codes("device_info.app_version"),
            [ErrorCode::TooLong]
        );
        let mut errors = FieldErrors::new();
        DeviceInfo::parse(Some(&json!("android")), &mut errors);
        assert_eq!(errors.codes("device_info"), [ErrorCode::Invalid]);
    }
}
