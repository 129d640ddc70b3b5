//! Single-use tokens sent by email: email confirmation and password reset.
//! Like refresh tokens, only their SHA-256 is stored; the notification
//! worker mints the token, so it exists only in the email and its link.
//!
//! Format: a purpose prefix (`ec_`, `pr_`) + 32 random bytes in unpadded
//! base64url (43 characters).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::email::Email;
use super::user::UserId;

const RANDOM_BYTES: usize = 32;
const ENCODED_LEN: usize = 43;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    ConfirmEmail,
    ResetPassword,
    /// Confirms an email change: mailed to the new address.
    ChangeEmail,
}

impl TokenPurpose {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::ConfirmEmail => "ec_",
            Self::ResetPassword => "pr_",
            Self::ChangeEmail => "ce_",
        }
    }

    /// Confirmation links live a day, reset links an hour.
    pub fn lifetime(self) -> Duration {
        match self {
            Self::ConfirmEmail | Self::ChangeEmail => Duration::hours(24),
            Self::ResetPassword => Duration::hours(1),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OneTimeTokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("no randomness available: {0}")]
    Randomness(String),
}

/// A token in its one valid textual form, for one purpose.
#[derive(Clone)]
pub struct OneTimeToken {
    raw: SecretString,
}

impl std::fmt::Debug for OneTimeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeToken(..)")
    }
}

impl OneTimeToken {
    pub fn generate(purpose: TokenPurpose) -> Result<Self, OneTimeTokenError> {
        let mut random = [0u8; RANDOM_BYTES];
        getrandom::fill(&mut random).map_err(|e| OneTimeTokenError::Randomness(e.to_string()))?;
        let mut raw = String::from(purpose.prefix());
        URL_SAFE_NO_PAD.encode_string(random, &mut raw);
        Ok(Self {
            raw: SecretString::from(raw),
        })
    }

    /// Accepts exactly what `generate` makes for `purpose`: a reset token
    /// is no confirmation token.
    pub fn parse(raw: &str, purpose: TokenPurpose) -> Result<Self, OneTimeTokenError> {
        let encoded = raw
            .strip_prefix(purpose.prefix())
            .ok_or(OneTimeTokenError::Malformed)?;
        let mut decoded = [0u8; RANDOM_BYTES];
        if encoded.len() != ENCODED_LEN
            || URL_SAFE_NO_PAD.decode_slice(encoded, &mut decoded) != Ok(RANDOM_BYTES)
        {
            return Err(OneTimeTokenError::Malformed);
        }
        Ok(Self {
            raw: SecretString::from(raw),
        })
    }

    /// Lowercase hex SHA-256: what the table stores and looks up.
    pub fn hash(&self) -> String {
        crate::crypto::digest::sha256_hex(self.expose().as_bytes())
    }

    /// The token text, for the email's link only.
    pub fn expose(&self) -> &str {
        self.raw.expose_secret()
    }
}

/// A stored token: its hash, what it is for, whose it is, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeTokenRecord {
    pub hash: String,
    pub purpose: TokenPurpose,
    pub user_id: UserId,
    /// The address the token was mailed to: confirming it verifies this
    /// address only, not one the user changed to since.
    pub email: Email,
    /// Reset tokens: `password_stamp` of the password the account had when
    /// the link was mailed. A reset link works only while the password and
    /// the address are still those it was issued for.
    pub password_stamp: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A short digest of a password hash, kept with reset tokens so that a
/// password change kills the links mailed before it (the hash itself is
/// never copied into another item).
pub fn password_stamp(hash: &super::PasswordHash) -> String {
    crate::crypto::digest::sha256_hex(format!("reset-stamp/{}", hash.as_phc()).as_bytes())[..32]
        .to_owned()
}

impl OneTimeTokenRecord {
    pub fn new(
        token: &OneTimeToken,
        purpose: TokenPurpose,
        user_id: UserId,
        email: Email,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            hash: token.hash(),
            purpose,
            user_id,
            email,
            password_stamp: None,
            created_at: now,
            expires_at: now + purpose.lifetime(),
        }
    }

    /// TTL deletion lags: expiry is checked on every read.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_only_for_their_purpose() {
        let token = OneTimeToken::generate(TokenPurpose::ResetPassword).unwrap();
        assert!(token.expose().starts_with("pr_"));
        assert_eq!(token.expose().len(), 46);
        let parsed = OneTimeToken::parse(token.expose(), TokenPurpose::ResetPassword).unwrap();
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(
            OneTimeToken::parse(token.expose(), TokenPurpose::ConfirmEmail).unwrap_err(),
            OneTimeTokenError::Malformed
        );
        for bad in [
            "",
            "pr_",
            "pr_abc",
            &format!("{}=", token.expose()),
            "pr_!!",
        ] {
            assert!(OneTimeToken::parse(bad, TokenPurpose::ResetPassword).is_err());
        }
        assert!(!format!("{token:?}").contains(&token.expose()[3..]));
    }

    #[test]
    fn records_expire_after_their_lifetime() {
        let token = OneTimeToken::generate(TokenPurpose::ConfirmEmail).unwrap();
        let now = OffsetDateTime::now_utc();
        let record = OneTimeTokenRecord::new(
            &token,
            TokenPurpose::ConfirmEmail,
            UserId::new_random(),
            Email::parse("a@example.com").unwrap(),
            now,
        );
        assert!(!record.is_expired(now + Duration::hours(23)));
        assert!(record.is_expired(now + Duration::hours(24)));
        assert_ne!(record.hash, token.expose());
    }
}
