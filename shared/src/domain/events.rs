//! Notification events: one type per thing that happened, versioned JSON
//! with an id (consumers dedupe on it), a time and the user. Written in the
//! same transaction as the change they report (the outbox), so none is
//! lost when a queue is down.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::user::UserId;

pub const EVENT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "user.registered")]
    UserRegistered,
    /// Asks for a confirmation link: the worker mints its token.
    #[serde(rename = "email.confirmation_requested")]
    EmailConfirmationRequested,
    #[serde(rename = "email.confirmed")]
    EmailConfirmed,
    /// Asks for a reset link (with the password stamp that binds it).
    #[serde(rename = "password.reset_requested")]
    PasswordResetRequested,
    #[serde(rename = "password.changed")]
    PasswordChanged,
    #[serde(rename = "login.new_device")]
    LoginNewDevice,
    #[serde(rename = "security.token_reuse")]
    TokenReuse,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    /// Asks for an email-change link, mailed to the new address.
    #[serde(rename = "email.change_requested")]
    EmailChangeRequested,
    /// To the old address: a change was asked for (no link).
    #[serde(rename = "email.change_notice")]
    EmailChangeNotice,
    /// To the old address once the change is confirmed (no link).
    #[serde(rename = "email.changed")]
    EmailChanged,
    /// A one-time code to text: the number and code are sealed in the
    /// event (see `usecases::phone_code`), never in clear.
    #[serde(rename = "phone.code_requested")]
    PhoneCodeRequested,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        Self::UserRegistered,
        Self::EmailConfirmationRequested,
        Self::EmailConfirmed,
        Self::PasswordResetRequested,
        Self::PasswordChanged,
        Self::LoginNewDevice,
        Self::TokenReuse,
        Self::UserDeleted,
        Self::EmailChangeRequested,
        Self::EmailChangeNotice,
        Self::EmailChanged,
        Self::PhoneCodeRequested,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserRegistered => "user.registered",
            Self::EmailConfirmationRequested => "email.confirmation_requested",
            Self::EmailConfirmed => "email.confirmed",
            Self::PasswordResetRequested => "password.reset_requested",
            Self::PasswordChanged => "password.changed",
            Self::LoginNewDevice => "login.new_device",
            Self::TokenReuse => "security.token_reuse",
            Self::UserDeleted => "user.deleted",
            Self::EmailChangeRequested => "email.change_requested",
            Self::EmailChangeNotice => "email.change_notice",
            Self::EmailChanged => "email.changed",
            Self::PhoneCodeRequested => "phone.code_requested",
        }
    }

    /// The preference category an event's notice belongs to; `None` for
    /// links the user asked for, which are always sent.
    pub fn category(self) -> Option<super::preferences::Category> {
        use super::preferences::Category;
        match self {
            Self::EmailConfirmationRequested
            | Self::PasswordResetRequested
            | Self::EmailChangeRequested
            | Self::PhoneCodeRequested => None,
            // Security notices: the security email cannot be turned off.
            Self::EmailChangeNotice | Self::EmailChanged => Some(Category::Security),
            Self::PasswordChanged | Self::LoginNewDevice | Self::TokenReuse => {
                Some(Category::Security)
            }
            Self::UserRegistered | Self::EmailConfirmed | Self::UserDeleted => {
                Some(Category::Account)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub user_id: UserId,
    /// Event-specific details; never a password or a token.
    pub data: Value,
}

impl NotificationEvent {
    pub fn new(
        event_type: EventType,
        user_id: UserId,
        occurred_at: OffsetDateTime,
        data: Value,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            event_type,
            version: EVENT_VERSION,
            occurred_at,
            user_id,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn serialises_as_versioned_json() {
        let event = NotificationEvent::new(
            EventType::TokenReuse,
            UserId::from_uuid(Uuid::nil()),
            datetime!(2030-01-01 00:00 UTC),
            json!({"session_id": "s"}),
        );
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["type"], "security.token_reuse");
        assert_eq!(value["version"], 1);
        assert_eq!(value["occurred_at"], "2030-01-01T00:00:00Z");
        let back: NotificationEvent = serde_json::from_value(value).unwrap();
        assert_eq!(back, event);
    }
}
