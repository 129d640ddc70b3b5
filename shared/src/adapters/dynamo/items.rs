//! Item shapes of the single table, mapped with serde_dynamo.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::keys::{self, Key};
use crate::crypto::phone_crypto::{EncryptedPhone, PhoneCryptoError, PhoneKeys, CONTACT_PURPOSE};
use crate::domain::{
    BirthDate, ContactNumber, Email, PasswordHash, Profile, ProfileText, User, UserId, UserStatus,
    Username,
};

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
pub const EMAIL: &str = "email";
pub const PENDING_EMAIL: &str = "pending_email";
pub const PASSWORD_HASH: &str = "password_hash";

/// `entity` of a username account's item; phone accounts are `phone_user`.
pub const MEMBER_ENTITY: &str = "user";

// Attributes of an account item (both shapes) that updates name.
pub const STATUS: &str = "status";
pub const UPDATED_AT: &str = "updated_at";
pub const EMAIL_VERIFIED: &str = "email_verified";
/// Set when a deletion begins; an account with it stays inactive.
pub const DELETION_SINCE: &str = "deletion_since";

#[derive(Debug, Serialize, Deserialize)]
pub struct UserItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub id: Uuid,
    /// Absent for email-only accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_key: Option<String>,
    pub email: String,
    pub email_verified: bool,
    /// An email change waiting for its confirmation link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_email: Option<String>,
    pub password_hash: String,
    pub status: UserStatus,
    // Each profile field is absent where the account has no value
    // (`PROFILE_FIELDS` made it optional or off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unitname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designation: Option<String>,
    /// The contact numbers identify a person: stored encrypted, like the
    /// phone sign-up's number (purpose `contact`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_no: Option<EncryptedPhone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_no: Option<EncryptedPhone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_no: Option<EncryptedPhone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Set by login's transaction (an update of this one attribute).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_login: Option<OffsetDateTime>,
}

impl UserItem {
    /// The item of `user`, its contact numbers encrypted under `keys`.
    pub fn seal(user: &User, keys: &PhoneKeys) -> Result<Self, PhoneCryptoError> {
        let Key { pk, sk } = keys::user(user.id);
        let owner = user.id.to_string();
        let seal = |number: &Option<ContactNumber>| {
            number
                .as_ref()
                .map(|n| keys.encrypt_for(&owner, CONTACT_PURPOSE, n.as_str()))
                .transpose()
        };
        let text = |t: &Option<ProfileText>| t.as_ref().map(|t| t.as_str().to_owned());
        let profile = &user.profile;
        Ok(Self {
            pk,
            sk,
            entity: MEMBER_ENTITY.into(),
            id: user.id.as_uuid(),
            username: user.username.as_ref().map(|u| u.as_str().into()),
            username_key: user.username_key().map(Into::into),
            email: user.email.as_str().into(),
            email_verified: user.email_verified,
            pending_email: user.pending_email.as_ref().map(|e| e.as_str().into()),
            password_hash: user.password_hash.as_phc().into(),
            status: user.status,
            rank: text(&profile.rank),
            unitname: text(&profile.unitname),
            designation: text(&profile.designation),
            mobile_no: seal(&profile.mobile_no)?,
            personal_no: seal(&profile.personal_no)?,
            phone_no: seal(&profile.phone_no)?,
            first_name: text(&profile.first_name),
            last_name: text(&profile.last_name),
            birth_date: profile.birth_date.map(BirthDate::to_iso),
            created_at: user.created_at,
            updated_at: user.updated_at,
            last_login: user.last_login,
        })
    }

    /// The kids `open` needs.
    pub fn kids(&self) -> Vec<&str> {
        [&self.mobile_no, &self.personal_no, &self.phone_no]
            .into_iter()
            .flatten()
            .map(|sealed| sealed.kid.as_str())
            .collect()
    }

    pub fn open(self, keys: &PhoneKeys) -> Result<User, PhoneCryptoError> {
        let owner = self.id.to_string();
        let open = |sealed: &Option<EncryptedPhone>| {
            sealed
                .as_ref()
                .map(|sealed| {
                    keys.decrypt_for(&owner, CONTACT_PURPOSE, sealed)
                        .map(ContactNumber::from_stored)
                })
                .transpose()
        };
        Ok(User {
            id: UserId::from_uuid(self.id),
            username: self.username.map(Username::from_stored),
            email: Email::from_stored(self.email),
            email_verified: self.email_verified,
            pending_email: self.pending_email.map(Email::from_stored),
            password_hash: PasswordHash::from_phc(self.password_hash),
            status: self.status,
            profile: Profile {
                rank: self.rank.map(ProfileText::from_stored),
                unitname: self.unitname.map(ProfileText::from_stored),
                designation: self.designation.map(ProfileText::from_stored),
                mobile_no: open(&self.mobile_no)?,
                personal_no: open(&self.personal_no)?,
                phone_no: open(&self.phone_no)?,
                first_name: self.first_name.map(ProfileText::from_stored),
                last_name: self.last_name.map(ProfileText::from_stored),
                birth_date: self.birth_date.as_deref().and_then(BirthDate::from_stored),
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_login: self.last_login,
        })
    }
}

/// A uniqueness claim: its key is the claimed value, it names the owner.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub user_id: Uuid,
    /// See `keys::OWNER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl ClaimItem {
    pub fn new(key: Key, user_id: UserId) -> Self {
        Self {
            pk: key.pk,
            sk: key.sk,
            entity: "claim".into(),
            user_id: user_id.as_uuid(),
            owner: Some(keys::owner(user_id)),
        }
    }
}
