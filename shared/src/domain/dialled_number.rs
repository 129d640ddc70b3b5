//! A phone number as a client dialled it, before it is read in a numbering
//! plan: what a request can check without knowing the deployment's
//! default region (see `phone_number` for the accepted input).

use serde_json::Value;

use super::errors::{FieldError, FieldErrors};
use super::request::{read_string, FieldValue, Reading};

/// Longest accepted input, in characters, after trimming.
pub const MAX_INPUT_CHARS: usize = 32;
/// E.164 allows at most 15 digits, country code included.
pub(crate) const MAX_E164_DIGITS: usize = 15;
pub(crate) const INVALID_MESSAGE: &str = "Enter a valid phone number.";

/// ASCII digits with spaces, `-`, `(`, `)` or `.` between them, after an
/// optional `+`. Phone numbers identify people: `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct DialledNumber {
    international: bool,
    digits: String,
}

impl std::fmt::Debug for DialledNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DialledNumber(..)")
    }
}

impl DialledNumber {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::blank());
        }
        if trimmed.chars().count() > MAX_INPUT_CHARS {
            return Err(FieldError::too_long(MAX_INPUT_CHARS));
        }
        let (international, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        // ASCII only: other scripts' digits (`٩٨٧…`), full-width `＋`,
        // letters (extensions, `tel:` URIs, vanity numbers) are refused
        // rather than interpreted.
        let allowed = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.');
        if !rest.chars().all(allowed) {
            return Err(FieldError::invalid(INVALID_MESSAGE));
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() || digits.len() > MAX_E164_DIGITS {
            return Err(FieldError::invalid(INVALID_MESSAGE));
        }
        Ok(Self {
            international,
            digits,
        })
    }

    /// Whether it was dialled with `+` (its country code in it).
    pub fn is_international(&self) -> bool {
        self.international
    }

    /// The digits, without `+` or separators.
    pub fn digits(&self) -> &str {
        &self.digits
    }
}

impl FieldValue for DialledNumber {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_string(value, name, errors, Self::parse)
    }
}

crate::field_schema!(DialledNumber => string()
    .max_length(Some(MAX_INPUT_CHARS))
    .pattern(Some(r"^\s*\+?[0-9 ().-]*[0-9][0-9 ().-]*\s*$"))
    .description(Some("E.164; 10 digits without `+` take the configured default country."))
    .examples(["9876543210"]));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;

    #[test]
    fn separators_go_and_other_characters_are_refused() {
        let dialled = DialledNumber::parse(" +91 (98765) 432-10 ").unwrap();
        assert!(dialled.is_international());
        assert_eq!(dialled.digits(), "919876543210");
        assert!(!DialledNumber::parse("98765 43210")
            .unwrap()
            .is_international());
        for refused in ["tel:+911", "+٩٨٧", "98765x", "+", "1234567890123456"] {
            let error = DialledNumber::parse(refused).unwrap_err();
            assert_eq!(error.code, ErrorCode::Invalid, "{refused}");
        }
        assert_eq!(
            DialledNumber::parse(" ").unwrap_err().code,
            ErrorCode::Required
        );
        let long = "1".repeat(MAX_INPUT_CHARS + 1);
        assert_eq!(
            DialledNumber::parse(&long).unwrap_err().code,
            ErrorCode::TooLong
        );
    }

    #[test]
    fn debug_shows_no_digit() {
        let dialled = DialledNumber::parse("+919876543210").unwrap();
        assert!(!format!("{dialled:?}").chars().any(|c| c.is_ascii_digit()));
    }
}
