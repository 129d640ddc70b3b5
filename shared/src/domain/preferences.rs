//! Notification preferences: per category of notice, which channels carry
//! it. Security notices always go by email (the one channel every account
//! with an address has): that switch cannot be turned off.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::errors::{FieldError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Push,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Self::Email, Self::Push, Self::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Push => "push",
            Self::Sms => "sms",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Password changes, new devices, stolen tokens.
    Security,
    /// Welcome and account changes.
    Account,
    Marketing,
    Reminders,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Self::Security,
        Self::Account,
        Self::Marketing,
        Self::Reminders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Security => "security",
            Self::Account => "account",
            Self::Marketing => "marketing",
            Self::Reminders => "reminders",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Every category with every channel: on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Preferences(BTreeMap<Category, BTreeMap<Channel, bool>>);

impl Default for Preferences {
    /// Security and account notices by email and push; nothing else until
    /// the user opts in.
    fn default() -> Self {
        let row = |email, push, sms| {
            BTreeMap::from([
                (Channel::Email, email),
                (Channel::Push, push),
                (Channel::Sms, sms),
            ])
        };
        Self(BTreeMap::from([
            (Category::Security, row(true, true, false)),
            (Category::Account, row(true, true, false)),
            (Category::Marketing, row(false, false, false)),
            (Category::Reminders, row(false, false, false)),
        ]))
    }
}

impl Preferences {
    pub fn allows(&self, category: Category, channel: Channel) -> bool {
        self.0
            .get(&category)
            .and_then(|row| row.get(&channel))
            .copied()
            .unwrap_or(false)
    }

    /// These preferences with `fields` applied: `{"marketing": {"email":
    /// true}}` changes that one switch; categories and channels left out
    /// keep their value. Unknown names, non-booleans and switching security
    /// email off are errors, all reported at once under the category.
    pub fn apply(&self, fields: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut updated = self.clone();
        for (name, value) in fields {
            let Some(category) = Category::parse(name) else {
                errors.add(
                    name,
                    FieldError::invalid(
                        "Unknown category: use security, account, marketing or reminders.",
                    ),
                );
                continue;
            };
            let Some(switches) = value.as_object() else {
                errors.add(
                    name,
                    FieldError::invalid("Must be an object of channel: boolean."),
                );
                continue;
            };
            for (channel_name, switch) in switches {
                let field = format!("{name}.{channel_name}");
                let Some(channel) = Channel::parse(channel_name) else {
                    errors.add(
                        &field,
                        FieldError::invalid("Unknown channel: use email, push or sms."),
                    );
                    continue;
                };
                let Some(on) = switch.as_bool() else {
                    errors.add(&field, FieldError::invalid("Must be a boolean."));
                    continue;
                };
                if category == Category::Security && channel == Channel::Email && !on {
                    errors.add(
                        &field,
                        FieldError::invalid("Security notices are always sent by email."),
                    );
                    continue;
                }
                updated.0.entry(category).or_default().insert(channel, on);
            }
        }
        if errors.is_empty() {
            Ok(updated)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ErrorCode;
    use serde_json::json;

    fn apply(value: Value) -> Result<Preferences, FieldErrors> {
        Preferences::default().apply(value.as_object().unwrap())
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
