use std::fmt;

use super::errors::FieldError;

/// A phone field of the username sign-up (`mobileNo`, `personalNo`,
/// `phoneNo`), checked against docs/API.md's `^\+?1?\d{9,15}$`.
///
/// Written by hand rather than with `regex`: the pattern is one optional
/// `+`, one optional `1` and 9–15 digits, and the regex crate would add
/// hundreds of kilobytes to every binary for it.
#[derive(Clone, PartialEq, Eq)]
pub struct ContactNumber(String);

impl ContactNumber {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::blank());
        }
        let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        // `1?\d{9,15}`: 9–15 digits, or 16 when the first is the optional 1.
        let length_ok =
            (9..=15).contains(&digits.len()) || (digits.len() == 16 && digits.starts_with('1'));
        if !(all_digits && length_ok) {
            return Err(FieldError::invalid(
                "Phone number must be entered in the format: '+999999999'. Up to 15 digits allowed.",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Phone numbers identify people: never print one in full.
impl fmt::Debug for ContactNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactNumber(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;

    #[test]
    fn matches_the_documented_pattern() {
        for ok in [
            "+919876543210",
            "919876543210",
            "123456789",
            "+1234567890123456",
            "123456789012345",
        ] {
            assert!(ContactNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "12345678",
            "+",
            "++123456789",
            "98765-43210",
            "abcdefghij",
            "+2234567890123456",
            "1234567890123456789",
            "98765 43210",
            "+٣٤٥٦٧٨٩٠١٢",
        ] {
            assert_eq!(
                ContactNumber::parse(bad).unwrap_err().code,
                ErrorCode::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_number() {
        let n = ContactNumber::parse("+919876543210").unwrap();
        assert!(!format!("{n:?}").contains("9876"));
    }
}
