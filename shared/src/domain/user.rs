use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use super::id::UserId;

use super::email::Email;
use super::phone::ContactNumber;
use super::text::ProfileText;
use super::username::Username;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Active,
    Inactive,
}

impl UserStatus {
    pub fn from_active(active: bool) -> Self {
        if active {
            Self::Active
        } else {
            Self::Inactive
        }
    }
}

/// An encoded Argon2id hash (PHC string). Not secret in the way a password
/// is, but never sent to a client or a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// The profile fields of the username sign-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub rank: ProfileText,
    pub unitname: ProfileText,
    pub designation: ProfileText,
    pub mobile_no: ContactNumber,
    pub personal_no: ContactNumber,
    pub phone_no: ContactNumber,
}

/// A user account with its profile, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub email_verified: bool,
    /// An address the user asked to change to, not confirmed yet: `email`
    /// stays the account's address until the link mailed here is used.
    pub pending_email: Option<Email>,
    pub password_hash: PasswordHash,
    pub status: UserStatus,
    pub profile: Profile,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}
