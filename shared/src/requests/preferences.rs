//! `PUT /users/me/preferences`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::domain::errors::{FieldError, FieldErrors};
use crate::domain::preferences::{Category, Channel};
use crate::domain::request::{refuse_unknown, FieldValue, Given, Reading};

crate::request_body! {
    /// `PUT /users/me/preferences`: a partial update; unknown names are 400.
    pub struct PreferencesUpdateRequest {
        /// Email cannot be turned off here.
        pub security: Given<SecuritySwitches>,
        pub account: Given<ChannelSwitches>,
        pub marketing: Given<ChannelSwitches>,
        pub reminders: Given<ChannelSwitches>,
    }
    check = only_known_categories;
}

fn only_known_categories(fields: &Map<String, Value>, errors: &mut FieldErrors) {
    refuse_unknown(
        fields,
        PreferencesUpdateRequest::FIELDS,
        "Unknown category: use security, account, marketing or reminders.",
        errors,
    );
}

impl PreferencesUpdateRequest {
    /// The switches sent, by category.
    pub fn switches(&self) -> impl Iterator<Item = (Category, &BTreeMap<Channel, bool>)> {
        [
            (Category::Security, self.security.0.as_ref().map(|s| &s.0)),
            (Category::Account, self.account.0.as_ref()),
            (Category::Marketing, self.marketing.0.as_ref()),
            (Category::Reminders, self.reminders.0.as_ref()),
        ]
        .into_iter()
        .filter_map(|(category, switches)| switches.map(|s| (category, &s.0)))
    }
}

/// Some channels of one category, on or off; errors are reported as
/// `<category>.<channel>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSwitches(pub BTreeMap<Channel, bool>);

impl FieldValue for ChannelSwitches {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let Some(switches) = value.as_object() else {
            errors.add(
                name,
                FieldError::invalid("Must be an object of channel: boolean."),
            );
            return Reading::Refused;
        };
        let mut refused = FieldErrors::new();
        let mut read = BTreeMap::new();
        for (channel_name, switch) in switches {
            let field = format!("{name}.{channel_name}");
            let Some(channel) = Channel::parse(channel_name) else {
                refused.add(
                    &field,
                    FieldError::invalid("Unknown channel: use email, push or sms."),
                );
                continue;
            };
            match switch.as_bool() {
                Some(on) => {
                    read.insert(channel, on);
                }
                None => refused.add(&field, FieldError::invalid("Must be a boolean.")),
            }
        }
        if refused.is_empty() {
            Reading::Value(Self(read))
        } else {
            errors.merge(refused);
            Reading::Refused
        }
    }
}

/// The security category's switches: security notices always go by
/// email, so that one may not be turned off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySwitches(pub ChannelSwitches);

impl FieldValue for SecuritySwitches {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let email_off = value.get(Channel::Email.as_str()).and_then(Value::as_bool) == Some(false);
        if email_off {
            errors.add(
                &format!("{name}.{}", Channel::Email.as_str()),
                FieldError::invalid("Security notices are always sent by email."),
            );
        }
        match ChannelSwitches::read(value, name, errors) {
            Reading::Value(switches) if !email_off => Reading::Value(Self(switches)),
            Reading::Value(_) | Reading::Refused => Reading::Refused,
            Reading::Empty => Reading::Empty,
        }
    }
}

crate::field_schema!(ChannelSwitches => switches_schema());
crate::field_schema!(SecuritySwitches => switches_schema());

/// A category's switches: some of the channels, each on or off.
#[cfg(feature = "openapi")]
fn switches_schema() -> utoipa::openapi::schema::ObjectBuilder {
    use crate::domain::request::schema::{boolean, ObjectBuilder, Type};
    use utoipa::openapi::schema::AdditionalProperties;

    Channel::ALL.into_iter().fold(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(false))),
        |object, channel| object.property(channel.as_str(), boolean()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::preferences::Preferences;
    use crate::domain::request::RequestBody;
    use crate::domain::ErrorCode;
    use serde_json::json;

    fn apply(value: Value) -> Result<Preferences, FieldErrors> {
        PreferencesUpdateRequest::from_fields(value.as_object().unwrap())
            .map(|request| Preferences::default().apply(request.switches()))
    }

    #[test]
    fn partial_updates_keep_the_rest() {
        let updated =
            apply(json!({"marketing": {"email": true}, "security": {"sms": true}})).unwrap();
        assert!(updated.allows(Category::Marketing, Channel::Email));
        assert!(!updated.allows(Category::Marketing, Channel::Push));
        assert!(updated.allows(Category::Security, Channel::Sms));
        assert!(updated.allows(Category::Account, Channel::Email));
        let json = serde_json::to_value(&updated).unwrap();
        assert_eq!(
            json["marketing"],
            json!({"email": true, "push": false, "sms": false})
        );
    }

    #[test]
    fn unknown_names_bad_values_and_security_email_are_refused() {
        let errors = apply(json!({
            "promotions": {"email": true},
            "account": {"fax": true, "push": "yes"},
            "security": {"email": false},
            "reminders": true,
        }))
        .unwrap_err();
        for field in [
            "promotions",
            "account.fax",
            "account.push",
            "security.email",
            "reminders",
        ] {
            assert_eq!(errors.codes(field), vec![ErrorCode::Invalid], "{field}");
        }
        assert!(apply(json!({"security": {"email": true, "push": false}})).is_ok());
    }
}
