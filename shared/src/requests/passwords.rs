//! `POST /auth/password/change` and `POST /auth/password/reset/confirm`:
//! a new password with its confirmation, which clients send as
//! `confirm_password` or `password_confirm`.

use serde_json::{Map, Value};

use crate::domain::errors::{FieldError, FieldErrors};
use crate::domain::request::{FieldValue, Reading, Secret};

pub const CONFIRM_PASSWORD: &str = "confirm_password";
/// The other name of `confirm_password`: errors are reported under the
/// name the client sent.
pub const PASSWORD_CONFIRM: &str = "password_confirm";

crate::request_body! {
    /// `POST /auth/password/change`.
    pub struct PasswordChangeRequest {
        pub current_password: Secret,
        /// The sign-up rules apply: 8 to 128 characters, not too common,
        /// not entirely numeric, not too similar to the account's own
        /// attributes.
        pub new_password: NewPassword,
        /// Equal to `new_password` (else `password_mismatch`); this or
        /// `password_confirm` is required.
        pub confirm_password: Option<Secret>,
        /// Another name for `confirm_password`.
        pub password_confirm: Option<Secret>,
    }
    check = one_confirmation;
}

crate::request_body! {
    /// `POST /auth/password/reset/confirm`.
    pub struct PasswordResetConfirmRequest {
        /// The token of the reset link (single use, one hour).
        pub token: Secret,
        /// The sign-up rules apply.
        pub new_password: NewPassword,
        /// Equal to `new_password`; this or `password_confirm` is required.
        pub confirm_password: Option<Secret>,
        /// Another name for `confirm_password`.
        pub password_confirm: Option<Secret>,
    }
    check = one_confirmation;
}

/// A new password as sent. Its rules (length, strength, likeness to the
/// account) are the use case's to apply, with the account at hand, so that
/// they are reported with the other checks; the document states the length.
pub struct NewPassword(pub Secret);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FieldValue for NewPassword {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        match Secret::read(value, name, errors) {
            Reading::Value(secret) => Reading::Value(Self(secret)),
            Reading::Empty => Reading::Empty,
            Reading::Refused => Reading::Refused,
        }
    }
}

crate::field_schema!(NewPassword => string()
    .min_length(Some(crate::domain::password::PASSWORD_MIN_CHARS))
    .max_length(Some(crate::domain::password::PASSWORD_MAX_CHARS)));

/// The name a body confirms its password under: `confirm_password` unless
/// only `password_confirm` was sent.
pub fn confirm_name(fields: &Map<String, Value>) -> &'static str {
    if !fields.contains_key(CONFIRM_PASSWORD) && fields.contains_key(PASSWORD_CONFIRM) {
        PASSWORD_CONFIRM
    } else {
        CONFIRM_PASSWORD
    }
}

/// One of the two names must hold the confirmation.
pub fn one_confirmation(fields: &Map<String, Value>, errors: &mut FieldErrors) {
    let sent = |name| fields.get(name).is_some_and(|v: &Value| !v.is_null());
    if !sent(CONFIRM_PASSWORD) && !sent(PASSWORD_CONFIRM) {
        errors.add(confirm_name(fields), FieldError::required());
    }
}

/// A new password and its confirmation, under the name it was sent as.
pub struct NewPasswordFields<'r> {
    pub new_password: &'r NewPassword,
    /// `None` only for a request built without either name (the parser
    /// requires one).
    pub confirm: Option<(&'static str, &'r Secret)>,
}

/// The confirmation sent: `confirm_password` first.
fn confirmation<'r>(
    confirm_password: &'r Option<Secret>,
    password_confirm: &'r Option<Secret>,
) -> Option<(&'static str, &'r Secret)> {
    confirm_password
        .as_ref()
        .map(|confirm| (CONFIRM_PASSWORD, confirm))
        .or_else(|| {
            password_confirm
                .as_ref()
                .map(|confirm| (PASSWORD_CONFIRM, confirm))
        })
}

impl PasswordChangeRequest {
    pub fn new_password(&self) -> NewPasswordFields<'_> {
        NewPasswordFields {
            new_password: &self.new_password,
            confirm: confirmation(&self.confirm_password, &self.password_confirm),
        }
    }
}

impl PasswordResetConfirmRequest {
    pub fn new_password(&self) -> NewPasswordFields<'_> {
        NewPasswordFields {
            new_password: &self.new_password,
            confirm: confirmation(&self.confirm_password, &self.password_confirm),
        }
    }
}
