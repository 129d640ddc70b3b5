//! The new-password fields of password change and reset: the sign-up rules
//! against the account's own attributes, and the confirmation.

use super::signup_form::constant_time_eq;
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::password_policy::{check_strength, UserAttribute};
use crate::domain::{Password, User};
use crate::requests::passwords::{NewPasswordFields, CONFIRM_PASSWORD};

pub(crate) const NEW_PASSWORD: &str = "new_password";

/// `new_password` and its confirmation, every failure added to `errors`;
/// the password when both are right.
pub(crate) fn parse_new_password(
    fields: &NewPasswordFields<'_>,
    errors: &mut FieldErrors,
    user: &User,
) -> Option<Password> {
    let new_raw = fields.new_password.0.expose();
    let new_password = errors.collect(NEW_PASSWORD, Password::parse(new_raw));
    if let Some(password) = &new_password {
        let attributes = user_attributes(user);
        for error in check_strength(password, &attributes) {
            errors.add(NEW_PASSWORD, error);
        }
    }
    let Some((confirm_name, confirm)) = fields.confirm else {
        errors.add(CONFIRM_PASSWORD, FieldError::required());
        return None;
    };
    if !constant_time_eq(new_raw.as_bytes(), confirm.expose().as_bytes()) {
        errors.add(
            confirm_name,
            FieldError::new(ErrorCode::PasswordMismatch, "Passwords do not match."),
        );
    }
    new_password.filter(|_| !errors.has(NEW_PASSWORD) && !errors.has(confirm_name))
}

/// What a new password must not resemble: the account's own attributes.
pub(crate) fn user_attributes(user: &User) -> Vec<UserAttribute<'_>> {
    let profile = &user.profile;
    [
        ("username", user.username.as_ref().map(|u| u.as_str())),
        ("email address", Some(user.email.as_str())),
        ("unit name", profile.unitname.as_ref().map(|t| t.as_str())),
        (
            "designation",
            profile.designation.as_ref().map(|t| t.as_str()),
        ),
        (
            "first name",
            profile.first_name.as_ref().map(|t| t.as_str()),
        ),
        ("last name", profile.last_name.as_ref().map(|t| t.as_str())),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.map(|value| UserAttribute { label, value }))
    .collect()
}
