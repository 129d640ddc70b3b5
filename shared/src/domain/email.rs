use std::fmt;

use email_address::{EmailAddress, Options};

use serde_json::Value;

use super::errors::{FieldError, FieldErrors};
use super::request::{read_trimmed, FieldValue, Reading};

pub const EMAIL_MAX_CHARS: usize = 254;

/// A syntactically valid address, stored lower-cased: it is also the
/// uniqueness key.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        // Checked as stored: lower-casing can change a character into
        // another, or into two (`İ` is `i` + U+0307), so the stored form
        // must itself be valid, within bounds and parse to itself.
        let trimmed = raw.trim().to_lowercase();
        if trimmed.is_empty() {
            return Err(FieldError::blank());
        }
        if trimmed.chars().count() > EMAIL_MAX_CHARS {
            return Err(FieldError::too_long(EMAIL_MAX_CHARS));
        }
        // A plain address with a dotted domain: no display names, no IP
        // literals, which user-account emails never need.
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        let invalid = || FieldError::invalid("Enter a valid email address.");
        if trimmed.chars().any(char::is_control) {
            return Err(invalid());
        }
        EmailAddress::parse_with_options(&trimmed, options).map_err(|_| invalid())?;
        Ok(Self(trimmed))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Email").field(&self.0).finish()
    }
}

impl FieldValue for Email {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_trimmed(value, name, errors, Self::parse)
    }
}

crate::field_schema!(Email => string()
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
    .max_length(Some(EMAIL_MAX_CHARS)));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;

    #[test]
    fn valid_addresses_are_lower_cased() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        assert!(Email::parse("first.last+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn the_stored_form_parses_to_itself() {
        // Found by the property tests: `İ` lower-cases to `i` + U+0307.
        for raw in ["a@aİ.com", "İİ@example.com"] {
            if let Ok(email) = Email::parse(raw) {
                assert_eq!(Email::parse(email.as_str()), Ok(email.clone()), "{raw}");
            }
        }
    }

    #[test]
    fn invalid_addresses() {
        for bad in [
            "plain",
            "a@b",
            "@example.com",
            "a@",
            "a b@example.com",
            "Alice <a@example.com>",
            "a@[127.0.0.1]",
            "a@@example.com",
            "<script>@x.com",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().code,
                ErrorCode::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn too_long_and_blank() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err().code, ErrorCode::TooLong);
        assert_eq!(Email::parse("").unwrap_err().code, ErrorCode::Required);
    }
}
