//! The error vocabulary of the API: codes and per-field error lists.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

/// Every error code of docs/API.md, serialised in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Required,
    Invalid,
    TooLong,
    TooShort,
    ValidationError,
    UsernameConflict,
    EmailConflict,
    PhoneConflict,
    PasswordMismatch,
    PasswordTooShort,
    PasswordTooCommon,
    PasswordTooSimilar,
    PasswordEntirelyNumeric,
    InvalidCredentials,
    AccountLocked,
    AccountInactive,
    RateLimited,
    TokenInvalid,
    TokenExpired,
    TokenReused,
    NotAuthenticated,
    Forbidden,
    NotFound,
    IpBlocked,
    InvalidJson,
    UnsupportedMediaType,
    PayloadTooLarge,
    MethodNotAllowed,
    ServerError,
    Unavailable,
    OtpInvalid,
    InsufficientCredits,
    SignatureInvalid,
    UnsupportedFile,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Invalid => "invalid",
            Self::TooLong => "too_long",
            Self::TooShort => "too_short",
            Self::ValidationError => "validation_error",
            Self::UsernameConflict => "username_conflict",
            Self::EmailConflict => "email_conflict",
            Self::PhoneConflict => "phone_conflict",
            Self::PasswordMismatch => "password_mismatch",
            Self::PasswordTooShort => "password_too_short",
            Self::PasswordTooCommon => "password_too_common",
            Self::PasswordTooSimilar => "password_too_similar",
            Self::PasswordEntirelyNumeric => "password_entirely_numeric",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountLocked => "account_locked",
            Self::AccountInactive => "account_inactive",
            Self::RateLimited => "rate_limited",
            Self::TokenInvalid => "token_invalid",
            Self::TokenExpired => "token_expired",
            Self::TokenReused => "token_reused",
            Self::NotAuthenticated => "not_authenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::IpBlocked => "ip_blocked",
            Self::InvalidJson => "invalid_json",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ServerError => "server_error",
            Self::Unavailable => "unavailable",
            Self::OtpInvalid => "otp_invalid",
            Self::InsufficientCredits => "insufficient_credits",
            Self::SignatureInvalid => "signature_invalid",
            Self::UnsupportedFile => "unsupported_file",
        }
    }
}

/// One problem with one field: a human message and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub message: Cow<'static, str>,
    pub code: ErrorCode,
}

impl FieldError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            code,
        }
    }

    pub fn required() -> Self {
        Self::new(ErrorCode::Required, "This field is required.")
    }

    pub fn blank() -> Self {
        Self::new(ErrorCode::Required, "This field may not be blank.")
    }

    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn too_long(max: usize) -> Self {
        Self::new(
            ErrorCode::TooLong,
            format!("Ensure this field has no more than {max} characters."),
        )
    }

    pub fn too_short(min: usize) -> Self {
        Self::new(
            ErrorCode::TooShort,
            format!("Ensure this field has at least {min} characters."),
        )
    }
}

/// Field name → its errors. Field names are exactly as the client sent them
/// (`mobileNo`), or `non_field_errors` / `system`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Vec<FieldError>>);

pub const NON_FIELD_ERRORS: &str = "non_field_errors";
pub const SYSTEM_ERRORS: &str = "system";

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, error: FieldError) -> Self {
        let mut errors = Self::new();
        errors.add(field, error);
        errors
    }

    /// The message of the first error of a named field (fields in name
    /// order), if any field is named: the envelope's one-line `error`.
    pub fn first_field_message(&self) -> Option<&str> {
        self.0
            .iter()
            .filter(|(field, _)| *field != NON_FIELD_ERRORS && *field != SYSTEM_ERRORS)
            .find_map(|(_, errors)| errors.first())
            .map(|error| error.message.as_ref())
    }

    pub fn add(&mut self, field: &str, error: FieldError) {
        self.0.entry(field.to_owned()).or_default().push(error);
    }

    /// Records the error of a parse result and returns its value, so that a
    /// form can parse every field and report every failure at once.
    pub fn collect<T>(&mut self, field: &str, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error);
                None
            }
        }
    }

    pub fn merge(&mut self, other: FieldErrors) {
        for (field, errors) in other.0 {
            self.0.entry(field).or_default().extend(errors);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&[FieldError]> {
        self.0.get(field).map(Vec::as_slice)
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn codes(&self, field: &str) -> Vec<ErrorCode> {
        self.get(field)
            .map(|errors| errors.iter().map(|e| e.code).collect())
            .unwrap_or_default()
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_is_a_named_field_first() {
        let mut errors = FieldErrors::single(
            NON_FIELD_ERRORS,
            FieldError::new(ErrorCode::RateLimited, "Too many attempts"),
        );
        assert_eq!(errors.first_field_message(), None);
        errors.add("phone_number", FieldError::invalid("bad number"));
        errors.add(
            "name",
            FieldError::new(ErrorCode::Required, "name is required"),
        );
        assert_eq!(errors.first_field_message(), Some("name is required"));
        let system = FieldErrors::single(
            SYSTEM_ERRORS,
            FieldError::new(ErrorCode::ServerError, "Internal server error occurred"),
        );
        assert_eq!(system.first_field_message(), None);
    }
}
