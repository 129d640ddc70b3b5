//! The sign-up request body, parsed field by field so that every failing
//! field is reported at once.

use serde_json::{Map, Value};

use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::form::Form;
use crate::domain::password_policy::{check_strength, UserAttribute};
use crate::domain::{ContactNumber, Email, Password, Profile, ProfileText, UserStatus, Username};

pub const USERNAME: &str = "username";
pub const EMAIL: &str = "email";
pub const PASSWORD: &str = "password";
pub const CONFIRM_PASSWORD: &str = "confirm_password";
pub const RANK: &str = "rank";
pub const UNITNAME: &str = "unitname";
pub const DESIGNATION: &str = "designation";
pub const MOBILE_NO: &str = "mobileNo";
pub const PERSONAL_NO: &str = "personalNo";
pub const PHONE_NO: &str = "phoneNo";
pub const STATUS: &str = "status";

pub const RANK_MAX_CHARS: usize = 100;
pub const UNIT_MAX_CHARS: usize = 200;

#[derive(Debug)]
pub struct SignUpForm {
    pub username: Username,
    pub email: Email,
    pub password: Password,
    pub profile: Profile,
    pub status: UserStatus,
}

/// A form that failed: its errors, plus the identifiers that did parse, so
/// that conflicts can be reported alongside.
#[derive(Debug)]
pub struct RejectedForm {
    pub errors: FieldErrors,
    pub username: Option<Username>,
    pub email: Option<Email>,
}

impl SignUpForm {
    pub fn parse(fields: &Map<String, Value>) -> Result<Self, RejectedForm> {
        let form = Form::new(fields);
        let mut errors = FieldErrors::new();

        let username = errors.collect(
            USERNAME,
            form.required_text(USERNAME).and_then(Username::parse),
        );
        let email = errors.collect(EMAIL, form.required_text(EMAIL).and_then(Email::parse));
        let text = |name: &str, max: usize| {
            form.required_text(name)
                .and_then(|t| ProfileText::parse(t, max))
        };
        let rank = errors.collect(RANK, text(RANK, RANK_MAX_CHARS));
        let unitname = errors.collect(UNITNAME, text(UNITNAME, UNIT_MAX_CHARS));
        let designation = errors.collect(DESIGNATION, text(DESIGNATION, UNIT_MAX_CHARS));
        let number = |name: &str| form.required_text(name).and_then(ContactNumber::parse);
        let mobile_no = errors.collect(MOBILE_NO, number(MOBILE_NO));
        let personal_no = errors.collect(PERSONAL_NO, number(PERSONAL_NO));
        let phone_no = errors.collect(PHONE_NO, number(PHONE_NO));
        let status = errors.collect(STATUS, form.optional_bool(STATUS));

        let raw_password = errors.collect(PASSWORD, form.required_secret(PASSWORD));
        let confirm = errors.collect(CONFIRM_PASSWORD, form.required_secret(CONFIRM_PASSWORD));
        let password = raw_password.and_then(|raw| errors.collect(PASSWORD, Password::parse(raw)));
        if let Some(password) = &password {
            // The user's own attributes, as sent, even where they failed
            // their own rules: the password must not resemble them either.
            let attribute = |label, name| {
                form.required_text(name)
                    .ok()
                    .map(|value| UserAttribute { label, value })
            };
            let attributes: Vec<UserAttribute<'_>> = [
                attribute("username", USERNAME),
                attribute("email address", EMAIL),
                attribute("unit name", UNITNAME),
                attribute("designation", DESIGNATION),
            ]
            .into_iter()
            .flatten()
            .collect();
            for error in check_strength(password, &attributes) {
                errors.add(PASSWORD, error);
            }
        }
        if let (Some(raw), Some(confirm)) = (raw_password, confirm) {
            if !constant_time_eq(raw.as_bytes(), confirm.as_bytes()) {
                errors.add(
                    CONFIRM_PASSWORD,
                    FieldError::new(ErrorCode::PasswordMismatch, "Passwords do not match."),
                );
            }
        }

        match (
            username,
            email,
            password,
            rank,
            unitname,
            designation,
            mobile_no,
            personal_no,
            phone_no,
        ) {
            (
                Some(username),
                Some(email),
                Some(password),
                Some(rank),
                Some(unitname),
                Some(designation),
                Some(mobile_no),
                Some(personal_no),
                Some(phone_no),
            ) if errors.is_empty() => Ok(Self {
                username,
                email,
                password,
                profile: Profile {
                    rank,
                    unitname,
                    designation,
                    mobile_no,
                    personal_no,
                    phone_no,
                },
                status: UserStatus::from_active(status.flatten().unwrap_or(true)),
            }),
            (username, email, ..) => Err(RejectedForm {
                errors,
                username,
                email,
            }),
        }
    }
}

/// Secrets are compared without an early exit, so timing reveals nothing
/// about where two of them differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}
