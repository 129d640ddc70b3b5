use super::errors::FieldError;

/// The OpenAPI pattern of a text that is not blank and has no control
/// characters (what [`ProfileText`] and the device parts accept).
pub const PRINTED_TEXT_PATTERN: &str =
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// A required free-text profile field with a maximum length in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileText(String);

impl ProfileText {
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::blank());
        }
        if trimmed.chars().count() > max_chars {
            return Err(FieldError::too_long(max_chars));
        }
        if trimmed.chars().any(|c| c.is_control()) {
            return Err(FieldError::invalid("Control characters are not allowed."));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;

    #[test]
    fn bounds_and_content() {
        assert_eq!(
            ProfileText::parse(" Captain ", 100).unwrap().as_str(),
            "Captain"
        );
        assert_eq!(
            ProfileText::parse(&"é".repeat(100), 100)
                .unwrap()
                .as_str()
                .chars()
                .count(),
            100
        );
        assert_eq!(
            ProfileText::parse(&"é".repeat(101), 100).unwrap_err().code,
            ErrorCode::TooLong
        );
        assert_eq!(
            ProfileText::parse("", 100).unwrap_err().code,
            ErrorCode::Required
        );
        assert_eq!(
            ProfileText::parse("a\u{0}b", 100).unwrap_err().code,
            ErrorCode::Invalid
        );
        // Markup and SQL are plain text here: stored as given, never interpreted.
        assert!(ProfileText::parse("<script>alert(1)</script>", 100).is_ok());
    }
}
