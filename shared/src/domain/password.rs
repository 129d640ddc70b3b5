use secrecy::{ExposeSecret, SecretString};

use super::errors::{ErrorCode, FieldError};

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A candidate password of acceptable length, held as a secret so that it
/// cannot be printed by accident. Strength checks that need the user's other
/// attributes live in `password_policy`.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars == 0 {
            return Err(FieldError::blank());
        }
        if chars < PASSWORD_MIN_CHARS {
            return Err(FieldError::new(
                ErrorCode::PasswordTooShort,
                format!("This password is too short. It must contain at least {PASSWORD_MIN_CHARS} characters."),
            ));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(FieldError::too_long(PASSWORD_MAX_CHARS));
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// A password presented for checking (login, current password): any
    /// non-empty string of at most 1024 characters. Strength rules apply to
    /// new passwords only; the cap keeps hashing time bounded.
    pub fn presented(raw: &str) -> Option<Self> {
        let chars = raw.chars().count();
        (1..=1024)
            .contains(&chars)
            .then(|| Self(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert_eq!(
            Password::parse("short").unwrap_err().code,
            ErrorCode::PasswordTooShort
        );
        assert_eq!(Password::parse("").unwrap_err().code, ErrorCode::Required);
        assert_eq!(
            Password::parse(&"x".repeat(129)).unwrap_err().code,
            ErrorCode::TooLong
        );
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        // Characters, not bytes: eight two-byte characters are long enough.
        assert!(Password::parse("éééééééé").is_ok());
    }

    #[test]
    fn debug_is_redacted() {
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    }
}
