//! Devices a user signs in from, as the client describes them.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::errors::{FieldError, FieldErrors};
use super::form::Form;
use super::request::{read_string, FieldValue, Reading, RequestField};
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

impl FieldValue for DeviceId {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_string(value, name, errors, Self::parse)
    }
}

impl FieldValue for DeviceInfo {
    /// Errors of a part are reported as `<name>.<part>`.
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let Value::Object(map) = value else {
            errors.add(name, FieldError::invalid("Expected an object."));
            return Reading::Refused;
        };
        let mut refused = FieldErrors::new();
        let mut part = |part: &str| read_part(map, name, part, &mut refused);
        let info = Self {
            platform: part("platform"),
            model: part("model"),
            os_version: part("os_version"),
            app_version: part("app_version"),
            language_code: part("language_code"),
            timezone: part("timezone"),
        };
        if refused.is_empty() {
            Reading::Value(info)
        } else {
            errors.merge(refused);
            Reading::Refused
        }
    }
}

/// The optional `device_id` and `device_info` of the login and phone
/// sign-up bodies; errors go into `errors`.
pub fn parse_device_fields(
    fields: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> (Option<DeviceId>, DeviceInfo) {
    let device_id =
        <Option<DeviceId> as RequestField>::take(fields.get("device_id"), "device_id", errors);
    let info = <Option<DeviceInfo> as RequestField>::take(
        fields.get("device_info"),
        "device_info",
        errors,
    );
    (device_id.flatten(), info.flatten().unwrap_or_default())
}

fn read_part(
    map: &Map<String, Value>,
    name: &str,
    part: &str,
    errors: &mut FieldErrors,
) -> Option<String> {
    if matches!(map.get(part), None | Some(Value::Null)) {
        return None;
    }
    let form = Form::new(map);
    let field = format!("{name}.{part}");
    let text = errors.collect(&field, form.required_text(part))?;
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

crate::field_schema!(DeviceId => string()
    .pattern(Some(format!("^[!-~]{{1,{DEVICE_ID_MAX_CHARS}}}$")))
    .description(Some("Printable ASCII without spaces.")));
crate::field_schema!(DeviceInfo => device_info_schema());

/// `device_info`: six optional parts, each a short printed text.
#[cfg(feature = "openapi")]
fn device_info_schema() -> utoipa::openapi::schema::ObjectBuilder {
    use super::request::schema::{string, ObjectBuilder, SchemaType, Type};
    use super::text::PRINTED_TEXT_PATTERN;

    let examples = [
        ("platform", "android"),
        ("model", "Pixel 8"),
        ("app_version", "2.3.1"),
    ];
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "The device a client signs in from; every part optional, and when \
             sent, not blank and without control characters.",
        ));
    for part in DEVICE_INFO_FIELDS {
        let mut text = string()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .max_length(Some(INFO_MAX_CHARS))
            .pattern(Some(PRINTED_TEXT_PATTERN));
        if let Some((_, example)) = examples.iter().find(|(name, _)| *name == part) {
            text = text.examples([*example]);
        }
        object = object.property(part, text);
    }
    object
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
        let read = |value: Value| {
            let mut errors = FieldErrors::new();
            let info = <Option<DeviceInfo> as RequestField>::take(
                Some(&value),
                "device_info",
                &mut errors,
            );
            (info.flatten(), errors)
        };
        let (info, errors) =
            read(json!({"platform": "android", "model": 5, "app_version": "x".repeat(101)}));
        assert_eq!(info, None, "any refused part refuses the whole");
        assert_eq!(errors.codes("device_info.model"), [ErrorCode::Invalid]);
        assert_eq!(
            errors.codes("device_info.app_version"),
            [ErrorCode::TooLong]
        );
        let (info, errors) = read(json!({"platform": " android ", "timezone": null}));
        assert_eq!(info.unwrap().platform.as_deref(), Some("android"));
        assert!(errors.is_empty());
        let (_, errors) = read(json!("android"));
        assert_eq!(errors.codes("device_info"), [ErrorCode::Invalid]);
    }
}
