//! Accounts created by the phone-number sign-up, their location, and the
//! `Account` every authenticated request resolves to.

use time::OffsetDateTime;

pub use super::id::LocationId;

use super::phone_number::PhoneNumber;
use super::text::ProfileText;
use super::user::{User, UserId, UserStatus};

pub const NAME_MAX_CHARS: usize = 100;
pub const STATE_MAX_CHARS: usize = 100;
pub const DISTRICT_MAX_CHARS: usize = 100;
pub const CITY_VILLAGE_MAX_CHARS: usize = 150;

/// An account of the mobile clients: known by its phone number, without
/// username, email or password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneUser {
    pub id: UserId,
    /// Held in clear only in memory: the table keeps it encrypted.
    pub phone: PhoneNumber,
    pub name: ProfileText,
    pub status: UserStatus,
    pub location_id: Option<LocationId>,
    /// Whether profile fields the clients ask for are still missing.
    pub needs_profile: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The last sign-in with a texted code (`None` until the first).
    pub last_login: Option<OffsetDateTime>,
}

/// Where a phone user lives, as far as they said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: LocationId,
    pub user_id: UserId,
    pub state: Option<ProfileText>,
    pub district: Option<ProfileText>,
    pub city_village: Option<ProfileText>,
    pub created_at: OffsetDateTime,
}

impl Location {
    /// State, district and city or village: what the clients need before
    /// they stop asking for the profile.
    pub fn is_complete(&self) -> bool {
        self.state.is_some() && self.district.is_some() && self.city_village.is_some()
    }
}

/// The account behind a token: a username account or a phone account.
// One lives per request, on the stack, matched everywhere: boxing the
// larger variant (the ten profile fields) would buy nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    Member(User),
    Phone(PhoneUser),
}

impl Account {
    pub fn id(&self) -> UserId {
        match self {
            Self::Member(user) => user.id,
            Self::Phone(user) => user.id,
        }
    }

    pub fn status(&self) -> UserStatus {
        match self {
            Self::Member(user) => user.status,
            Self::Phone(user) => user.status,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status() == UserStatus::Active
    }

    pub fn as_member(&self) -> Option<&User> {
        match self {
            Self::Member(user) => Some(user),
            Self::Phone(_) => None,
        }
    }
}
