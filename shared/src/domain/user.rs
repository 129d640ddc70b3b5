use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use super::id::UserId;

use super::birth_date::BirthDate;
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

/// The profile fields of the username sign-up. Which of them a
/// deployment collects is `PROFILE_FIELDS` (`ProfileFields`); any may be
/// absent (optional or off where the account was made).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub rank: Option<ProfileText>,
    pub unitname: Option<ProfileText>,
    pub designation: Option<ProfileText>,
    pub mobile_no: Option<ContactNumber>,
    pub personal_no: Option<ContactNumber>,
    pub phone_no: Option<ContactNumber>,
    pub first_name: Option<ProfileText>,
    pub last_name: Option<ProfileText>,
    pub birth_date: Option<BirthDate>,
}

/// A user account with its profile, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// `None` for email-only accounts (they sign in by email).
    pub username: Option<Username>,
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
    /// The last successful login; `None` before the first.
    pub last_login: Option<OffsetDateTime>,
}

impl User {
    /// The username's key, when the account has one.
    pub fn username_key(&self) -> Option<&str> {
        self.username.as_ref().map(Username::key)
    }

    /// What audit records and logs call the account by: its username key,
    /// or its (lower-cased) email for an email-only account.
    pub fn subject(&self) -> &str {
        self.username_key().unwrap_or(self.email.as_str())
    }
}
