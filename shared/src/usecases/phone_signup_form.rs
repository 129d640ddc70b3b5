//! The phone sign-up request body.

use serde_json::{Map, Value};

use crate::domain::device::parse_device_fields;
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::form::Form;
use crate::domain::phone_number::{PhoneNumber, PhoneRegion};
use crate::domain::phone_user::{
    CITY_VILLAGE_MAX_CHARS, DISTRICT_MAX_CHARS, NAME_MAX_CHARS, STATE_MAX_CHARS,
};
use crate::domain::{DeviceId, DeviceInfo, ProfileText};

pub const NAME: &str = "name";
pub const PHONE_NUMBER: &str = "phone_number";

#[derive(Debug)]
pub struct PhoneSignUpForm {
    pub name: ProfileText,
    pub phone: PhoneNumber,
    pub state: Option<ProfileText>,
    pub district: Option<ProfileText>,
    pub city_village: Option<ProfileText>,
    pub device_id: Option<DeviceId>,
    pub device_info: DeviceInfo,
}

impl PhoneSignUpForm {
    /// Every failing field at once; numbers without `+` take `region`.
    pub fn parse(fields: &Map<String, Value>, region: PhoneRegion) -> Result<Self, FieldErrors> {
        let form = Form::new(fields);
        let mut errors = FieldErrors::new();
        let name = errors.collect(
            NAME,
            form.required_text(NAME)
                .and_then(|text| ProfileText::parse(text, NAME_MAX_CHARS))
                .map_err(|error| named_required(NAME, error)),
        );
        let phone = errors.collect(
            PHONE_NUMBER,
            form.required_text(PHONE_NUMBER)
                .and_then(|text| PhoneNumber::parse(text, region))
                .map_err(|error| named_required(PHONE_NUMBER, error)),
        );
        let mut optional_text = |field: &str, max: usize| match fields.get(field) {
            None | Some(Value::Null) => None,
            // An empty string is "not given", as forms send it.
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(_) => errors.collect(
                field,
                form.required_text(field)
                    .and_then(|text| ProfileText::parse(text, max)),
            ),
        };
        let state = optional_text("state", STATE_MAX_CHARS);
        let district = optional_text("district", DISTRICT_MAX_CHARS);
        let city_village = optional_text("city_village", CITY_VILLAGE_MAX_CHARS);
        let (device_id, device_info) = parse_device_fields(fields, &mut errors);
        match (name, phone, errors.is_empty()) {
            (Some(name), Some(phone), true) => Ok(Self {
                name,
                phone,
                state,
                district,
                city_village,
                device_id,
                device_info,
            }),
            _ => Err(errors),
        }
    }

    /// Whether any location field was given.
    pub fn has_location(&self) -> bool {
        self.state.is_some() || self.district.is_some() || self.city_village.is_some()
    }
}

/// The mobile clients show these messages as they are: "name is required".
fn named_required(field: &str, error: FieldError) -> FieldError {
    if error.code == ErrorCode::Required {
        FieldError::new(ErrorCode::Required, format!("{field} is required"))
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<PhoneSignUpForm, FieldErrors> {
        PhoneSignUpForm::parse(value.as_object().unwrap(), PhoneRegion::default())
    }

    #[test]
    fn full_request() {
        let form = parse(json!({
            "name": " Asha ", "phone_number": "+91 98765 43210",
            "state": "Kerala", "district": "Ernakulam", "city_village": "Kochi",
            "device_id": "dev-1",
            "device_info": {"platform": "android", "model": "Pixel 8", "os_version": "14",
                            "app_version": "2.1.0", "language_code": "ml", "timezone": "Asia/Kolkata"}
        }))
        .unwrap();
        assert_eq!(form.name.as_str(), "Asha");
        assert_eq!(form.phone.as_e164(), "+919876543210");
        assert!(form.has_location());
        assert_eq!(form.device_id.unwrap().as_str(), "dev-1");
        assert_eq!(form.device_info.timezone.as_deref(), Some("Asia/Kolkata"));
    }

    #[test]
    fn ten_digits_take_the_default_country() {
        let form = parse(json!({"name": "A", "phone_number": "9876543210"})).unwrap();
        assert_eq!(form.phone.as_e164(), "+919876543210");
        assert!(!form.has_location());
        let form = parse(json!({"name": "A", "phone_number": "9876543210", "state": ""})).unwrap();
        assert!(!form.has_location());
    }

    #[test]
    fn every_error_at_once() {
        let errors = parse(json!({
            "phone_number": "12ab", "state": "x".repeat(101), "city_village": 7,
            "device_id": "has space", "device_info": {"platform": 1}
        }))
        .unwrap_err();
        assert_eq!(errors.codes("name"), [ErrorCode::Required]);
        assert_eq!(errors.get("name").unwrap()[0].message, "name is required");
        assert_eq!(errors.codes("phone_number"), [ErrorCode::Invalid]);
        assert_eq!(errors.codes("state"), [ErrorCode::TooLong]);
        assert_eq!(errors.codes("city_village"), [ErrorCode::Invalid]);
        assert_eq!(errors.codes("device_id"), [ErrorCode::Invalid]);
        assert_eq!(errors.codes("device_info.platform"), [ErrorCode::Invalid]);
    }

    #[test]
    fn bad_numbers() {
        for bad in [
            "12345",
            "98765abc10",
            "+999 98765 43210",
            "+91 12345",
            "",
            "   ",
        ] {
            let errors = parse(json!({"name": "A", "phone_number": bad})).unwrap_err();
            assert!(errors.has("phone_number"), "{bad:?}");
        }
        let errors = parse(json!({"name": "A"})).unwrap_err();
        assert_eq!(
            errors.get("phone_number").unwrap()[0].message,
            "phone_number is required"
        );
        let errors =
            parse(json!({"name": "x".repeat(101), "phone_number": "9876543210"})).unwrap_err();
        assert_eq!(errors.codes("name"), [ErrorCode::TooLong]);
    }
}
