//! Item shapes of phone accounts: the account (number encrypted, claim by
//! keyed hash), its location and device sightings.

use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::keys::{self, Key};

use crate::crypto::phone_crypto::{EncryptedPhone, PhoneCryptoError, PhoneKeys, PHONE_PURPOSE};
use crate::domain::{
    Location, LocationId, PhoneNumber, PhoneUser, ProfileText, UserId, UserStatus,
};

pub const PHONE_USER_ENTITY: &str = "phone_user";

#[derive(Debug, Serialize, Deserialize)]
pub struct PhoneUserItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub id: Uuid,
    pub phone: EncryptedPhone,
    /// The claim's hash, kept so that the claim can be released without
    /// decrypting the number.
    pub phone_hash: String,
    /// `+91`: the calling code alone does not identify anyone.
    pub country_code: String,
    pub name: String,
    pub status: UserStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    pub needs_profile: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Written by a code sign-in's transaction alone (`LAST_LOGIN`).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_login: Option<OffsetDateTime>,
}

/// The attribute a code sign-in sets on the account item.
pub const LAST_LOGIN: &str = "last_login";

impl PhoneUserItem {
    pub fn seal(user: &PhoneUser, keys: &PhoneKeys) -> Result<Self, PhoneCryptoError> {
        let Key { pk, sk } = keys::user(user.id);
        Ok(Self {
            pk,
            sk,
            entity: PHONE_USER_ENTITY.into(),
            id: user.id.as_uuid(),
            phone: keys.encrypt_for(&user.id.to_string(), PHONE_PURPOSE, user.phone.as_e164())?,
            phone_hash: keys.lookup_hash(&user.phone),
            country_code: user.phone.country_code(),
            name: user.name.as_str().into(),
            status: user.status,
            location_id: user.location_id.map(|id| id.as_uuid()),
            needs_profile: user.needs_profile,
            created_at: user.created_at,
            updated_at: user.updated_at,
            last_login: user.last_login,
        })
    }

    pub fn open(self, keys: &PhoneKeys) -> Result<PhoneUser, PhoneCryptoError> {
        let owner = self.id.to_string();
        let number = Zeroizing::new(keys.decrypt_for(&owner, PHONE_PURPOSE, &self.phone)?);
        let phone = self
            .country_code
            .strip_prefix('+')
            .and_then(|code| code.parse().ok())
            .and_then(|code| PhoneNumber::from_stored(&number, code))
            .ok_or(PhoneCryptoError::UnexpectedPlaintext("phone number"))?;
        Ok(PhoneUser {
            id: UserId::from_uuid(self.id),
            phone,
            name: ProfileText::from_stored(self.name),
            status: self.status,
            location_id: self.location_id.map(LocationId::from_uuid),
            needs_profile: self.needs_profile,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_login: self.last_login,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LocationItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub id: Uuid,
    pub user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_village: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&Location> for LocationItem {
    fn from(location: &Location) -> Self {
        let Key { pk, sk } = keys::location(location.user_id, location.id);
        let text = |t: &Option<ProfileText>| t.as_ref().map(|t| t.as_str().to_owned());
        Self {
            pk,
            sk,
            entity: "location".into(),
            id: location.id.as_uuid(),
            user_id: location.user_id.as_uuid(),
            state: text(&location.state),
            district: text(&location.district),
            city_village: text(&location.city_village),
            created_at: location.created_at,
        }
    }
}

impl From<LocationItem> for Location {
    fn from(item: LocationItem) -> Self {
        Self {
            id: LocationId::from_uuid(item.id),
            user_id: UserId::from_uuid(item.user_id),
            state: item.state.map(ProfileText::from_stored),
            district: item.district.map(ProfileText::from_stored),
            city_village: item.city_village.map(ProfileText::from_stored),
            created_at: item.created_at,
        }
    }
}
