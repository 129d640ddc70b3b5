//! `POST /users/me/push-tokens` and `PUT /users/me/push-tokens/{id}`.

use serde_json::{Map, Value};

use crate::domain::errors::FieldErrors;
use crate::domain::push_token::{Platform, PushTokenChange, PushTokenValue};
use crate::domain::request::{refuse_unknown, Given, JsonBool, Patch};
use crate::domain::DeviceId;

crate::request_body! {
    /// `POST /users/me/push-tokens`: where to reach a device.
    pub struct PushTokenCreateRequest {
        pub platform: Platform,
        /// As the provider issued it: no spaces or control characters.
        pub token: PushTokenValue,
        pub device_id: Option<DeviceId>,
    }
}

crate::request_body! {
    /// `PUT /users/me/push-tokens/{id}`: the parts to change; any other
    /// name is refused.
    pub struct PushTokenUpdateRequest {
        /// A new value, as the push service hands apps one: the token keeps
        /// its id; a token (of any account) that held the new value goes,
        /// since one value has one owner.
        pub token: Given<PushTokenValue>,
        pub active: Given<JsonBool>,
        pub platform: Given<Platform>,
        /// `null` detaches the token from its device.
        pub device_id: Patch<DeviceId>,
    }
    check = only_known_fields;
}

fn only_known_fields(fields: &Map<String, Value>, errors: &mut FieldErrors) {
    refuse_unknown(
        fields,
        PushTokenUpdateRequest::FIELDS,
        "Unknown field: use token, active, platform or device_id.",
        errors,
    );
}

impl From<PushTokenUpdateRequest> for PushTokenChange {
    fn from(request: PushTokenUpdateRequest) -> Self {
        Self {
            token: request.token.0,
            active: request.active.0.map(|on| on.0),
            platform: request.platform.0,
            device_id: match request.device_id {
                Patch::Keep => None,
                Patch::Clear => Some(None),
                Patch::Set(device) => Some(Some(device)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::RequestBody;
    use crate::domain::ErrorCode;
    use serde_json::json;

    fn parse(value: Value) -> Result<PushTokenCreateRequest, FieldErrors> {
        PushTokenCreateRequest::from_fields(value.as_object().unwrap())
    }

    #[test]
    fn new_tokens_are_validated() {
        let parsed =
            parse(json!({"platform": "fcm", "token": "abc:DEF-123", "device_id": "phone-1"}))
                .unwrap();
        assert_eq!(parsed.platform, Platform::Fcm);
        assert_eq!(parsed.device_id.unwrap().as_str(), "phone-1");
        let errors = parse(json!({"platform": "sms", "token": "a b"})).unwrap_err();
        assert_eq!(errors.codes("platform"), vec![ErrorCode::Invalid]);
        assert_eq!(errors.codes("token"), vec![ErrorCode::Invalid]);
        let errors = parse(json!({"token": "x".repeat(5000)})).unwrap_err();
        assert_eq!(errors.codes("platform"), vec![ErrorCode::Required]);
        assert_eq!(errors.codes("token"), vec![ErrorCode::TooLong]);
    }

    fn change(value: Value) -> Result<PushTokenChange, FieldErrors> {
        PushTokenUpdateRequest::from_fields(value.as_object().unwrap()).map(PushTokenChange::from)
    }

    #[test]
    fn changes_are_partial_and_strict() {
        let parsed = change(json!({"active": false, "device_id": null})).unwrap();
        assert_eq!(parsed.active, Some(false));
        assert_eq!(parsed.device_id, Some(None));
        assert_eq!(parsed.token, None);
        let errors = change(json!({"active": "no", "owner": "x"})).unwrap_err();
        assert_eq!(errors.codes("active"), vec![ErrorCode::Invalid]);
        assert_eq!(errors.codes("owner"), vec![ErrorCode::Invalid]);
    }
}
