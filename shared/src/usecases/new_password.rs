//! The new-password fields of password change and reset: the sign-up rules
//! against the account's own attributes, and the confirmation.

use super::signup_form::{constant_time_eq, CONFIRM_PASSWORD};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::form::Form;
use crate::domain::password_policy::{check_strength, UserAttribute};
use crate::domain::{Password, User};

pub(crate) const NEW_PASSWORD: &str = "new_password";

/// `new_password` and `confirm_password`, every failure added to `errors`;
/// the password when both are right.
pub(crate) fn parse_new_password(
    form: &Form<'_>,
    errors: &mut FieldErrors,
    user: &User,
) -> Option<Password> {
    let new_raw = errors.collect(NEW_PASSWORD, form.required_secret(NEW_PASSWORD));
    let confirm = errors.collect(CONFIRM_PASSWORD, form.required_secret(CONFIRM_PASSWORD));
    let new_password = new_raw.and_then(|raw| errors.collect(NEW_PASSWORD, Password::parse(raw)));
    if let Some(password) = &new_password {
        let attributes = [
            UserAttribute {
                label: "username",
                value: user.username.as_str(),
            },
            UserAttribute {
                label: "email address",
                value: user.email.as_str(),
            },
            UserAttribute {
                label: "unit name",
                value: user.profile.unitname.as_str(),
            },
            UserAttribute {
                label: "designation",
                value: user.profile.designation.as_str(),
            },
        ];
        for error in check_strength(password, &attributes) {
            errors.add(NEW_PASSWORD, error);
        }
    }
    if let (Some(new_raw), Some(confirm)) = (new_raw, confirm) {
        if !constant_time_eq(new_raw.as_bytes(), confirm.as_bytes()) {
            errors.add(
                CONFIRM_PASSWORD,
                FieldError::new(ErrorCode::PasswordMismatch, "Passwords do not match."),
            );
        }
    }
    new_password.filter(|_| !errors.has(NEW_PASSWORD) && !errors.has(CONFIRM_PASSWORD))
}
