//! The sign-up request body, parsed field by field so that every failing
//! field is reported at once.

use serde_json::{Map, Value};

use super::profile_form::{Mode, ProfileReader};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::form::Form;
use crate::domain::password_policy::{check_strength, UserAttribute};
use crate::domain::{Email, Password, Profile, ProfileField, ProfileFields, UserStatus, Username};

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

/// `password_confirm`: the other name of `confirm_password` (errors are
/// reported under the name the client sent).
pub const PASSWORD_CONFIRM: &str = "password_confirm";

/// The name the body confirms its password under: `confirm_password`
/// unless only `password_confirm` was sent.
pub(crate) fn confirm_field(form: &Form<'_>) -> &'static str {
    if !form.has(CONFIRM_PASSWORD) && form.has(PASSWORD_CONFIRM) {
        PASSWORD_CONFIRM
    } else {
        CONFIRM_PASSWORD
    }
}

#[derive(Debug)]
pub struct SignUpForm {
    /// `None` where the deployment makes it optional or off.
    pub username: Option<Username>,
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
    /// Under the default `PROFILE_FIELDS`.
    pub fn parse(fields: &Map<String, Value>) -> Result<Self, RejectedForm> {
        Self::parse_with(
            fields,
            &ProfileFields::default(),
            time::OffsetDateTime::now_utc().date(),
        )
    }

    /// Under `rules`; `today` bounds `birth_date`.
    pub fn parse_with(
        fields: &Map<String, Value>,
        rules: &ProfileFields,
        today: time::Date,
    ) -> Result<Self, RejectedForm> {
        let form = Form::new(fields);
        let mut errors = FieldErrors::new();
        let reader = ProfileReader {
            form: &form,
            rules,
            mode: Mode::Create,
            today,
        };

        let mut username = None;
        reader.username(&mut username, &mut errors);
        let email = errors.collect(EMAIL, form.required_text(EMAIL).and_then(Email::parse));
        let mut profile = Profile::default();
        reader.profile(&mut profile, &mut errors);
        let status = errors.collect(STATUS, form.optional_bool(STATUS));

        let raw_password = errors.collect(PASSWORD, form.required_secret(PASSWORD));
        let confirm_name = confirm_field(&form);
        let confirm = errors.collect(confirm_name, form.required_secret(confirm_name));
        let password = raw_password.and_then(|raw| errors.collect(PASSWORD, Password::parse(raw)));
        if let Some(password) = &password {
            // The user's own attributes, as sent, even where they failed
            // their own rules: the password must not resemble them either.
            let attribute = |label, field: ProfileField| {
                rules
                    .collects(field)
                    .then(|| form.required_text(field.name()).ok())
                    .flatten()
                    .map(|value| UserAttribute { label, value })
            };
            let attributes: Vec<UserAttribute<'_>> = [
                attribute("username", ProfileField::Username),
                form.required_text(EMAIL).ok().map(|value| UserAttribute {
                    label: "email address",
                    value,
                }),
                attribute("unit name", ProfileField::Unitname),
                attribute("designation", ProfileField::Designation),
                attribute("first name", ProfileField::FirstName),
                attribute("last name", ProfileField::LastName),
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
                    confirm_name,
                    FieldError::new(ErrorCode::PasswordMismatch, "Passwords do not match."),
                );
            }
        }

        match (email, password) {
            (Some(email), Some(password)) if errors.is_empty() => Ok(Self {
                username,
                email,
                password,
                profile,
                status: UserStatus::from_active(status.flatten().unwrap_or(true)),
            }),
            (email, ..) => Err(RejectedForm {
                errors,
                username,
                email,
            }),
        }
    }

    /// What the audit calls the would-be account.
    pub fn subject(&self) -> &str {
        self.username
            .as_ref()
            .map_or(self.email.as_str(), Username::key)
    }
}

/// Secrets are compared without an early exit, so timing reveals nothing
/// about where two of them differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}
