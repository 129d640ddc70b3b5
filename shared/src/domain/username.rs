use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::errors::FieldError;

pub const USERNAME_MAX_CHARS: usize = 150;

/// A username as the user chose it (NFKC-normalised, like Django's
/// `normalize_username`), plus its case-insensitive uniqueness key.
#[derive(Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
    key: String,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let display: String = raw.trim().nfkc().collect();
        if display.is_empty() {
            return Err(FieldError::blank());
        }
        if display.chars().count() > USERNAME_MAX_CHARS {
            return Err(FieldError::too_long(USERNAME_MAX_CHARS));
        }
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_');
        if !display.chars().all(allowed) {
            return Err(FieldError::invalid(
                "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
            ));
        }
        // An address as a username would squat on that address: a login
        // with it is looked up as an email, never as a username.
        if super::Email::parse(&display).is_ok() {
            return Err(FieldError::invalid(
                "A username cannot be an email address; enter the address under email instead.",
            ));
        }
        let key = display.to_lowercase();
        Ok(Self { display, key })
    }

    /// Rebuilds a username read back from storage (already validated).
    pub fn from_stored(display: String) -> Self {
        let key = display.to_lowercase();
        Self { display, key }
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lower-cased form that uniqueness and lookups use.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Username").field(&self.display).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;

    #[test]
    fn accepts_letters_digits_and_symbols() {
        for ok in [
            "alice",
            "a",
            "Bob.Smith+1@x-y_z",
            "José",
            "用户名",
            &"a".repeat(150),
        ] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_bad_characters() {
        for bad in [
            "a b",
            "a/b",
            "<script>",
            "a'; DROP TABLE users;--",
            "tab\tname",
            "zero\u{200b}width",
            "emoji😀",
        ] {
            assert_eq!(
                Username::parse(bad).unwrap_err().code,
                ErrorCode::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_email_addresses() {
        for bad in [
            "alice@example.com",
            "Victim@Example.COM",
            " bob.smith+1@mail.example.org ",
            // Fullwidth characters normalise to an address under NFKC.
            "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        ] {
            let error = Username::parse(bad).unwrap_err();
            assert_eq!(error.code, ErrorCode::Invalid, "{bad}");
            assert!(error.message.contains("email address"), "{}", error.message);
        }
        // `@` alone does not make an address.
        for ok in ["alice@", "@alice", "alice@home", "a@b@c.com"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn length_bounds() {
        assert_eq!(
            Username::parse(&"a".repeat(151)).unwrap_err().code,
            ErrorCode::TooLong
        );
        assert_eq!(
            Username::parse("   ").unwrap_err().code,
            ErrorCode::Required
        );
    }

    #[test]
    fn key_is_case_insensitive_and_normalised() {
        let a = Username::parse("Alice").unwrap();
        let b = Username::parse("ALICE").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Alice");
        // Fullwidth letters normalise to ASCII under NFKC.
        assert_eq!(Username::parse("ａｌｉｃｅ").unwrap().key(), "alice");
    }
}
