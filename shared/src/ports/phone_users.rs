//! The port of the phone-number sign-up: accounts known by a phone number.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{
    AuditRecord, Device, Location, LocationId, NotificationEvent, PhoneNumber, PhoneUser,
    RateWindow, RefreshRecord, Session, UserId,
};

/// What a phone sign-up reads before it writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhoneSignUpLookup {
    /// An account holds the number already.
    pub phone_taken: bool,
    /// Sign-ups already counted in the address's quota window.
    pub quota_used: u32,
}

/// A phone account with its sessions and devices.
#[derive(Debug, Clone, Default)]
pub struct PhoneUserView {
    pub user: Option<PhoneUser>,
    pub sessions: Vec<Session>,
    pub devices: Vec<Device>,
}

/// A new phone account with everything that starts with it.
#[derive(Debug, Clone)]
pub struct NewPhoneAccount {
    pub user: PhoneUser,
    pub location: Option<Location>,
    pub device: Option<Device>,
    pub session: Session,
    pub refresh: RefreshRecord,
    pub audit: AuditRecord,
    pub events: Vec<NotificationEvent>,
    /// Counted against the source address; refused when full.
    pub quota: Option<RateWindow>,
    /// The opening credit entry (`SIGNUP_CREDITS`), in the same write.
    pub credits: Option<crate::domain::Posting>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreatePhoneUserError {
    #[error("the phone number is taken")]
    PhoneTaken,
    #[error("sign-up quota exhausted")]
    QuotaExhausted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdatePhoneUserError {
    /// The account changed (or vanished) since it was read.
    #[error("the account changed concurrently")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait]
pub trait PhoneUserStore: Send + Sync {
    /// Counts one sign-up attempt from an address against `window`, ahead
    /// of everything the attempt would reveal or cost (conflicts, hashing);
    /// false, counting nothing, when the window is full.
    async fn charge_signup_quota(&self, window: &RateWindow) -> Result<bool, StoreError>;

    /// Whether the number is taken, and how much of the address's sign-up
    /// quota is used, in one read.
    async fn phone_signup_lookup(
        &self,
        phone: &PhoneNumber,
        quota: Option<&RateWindow>,
    ) -> Result<PhoneSignUpLookup, StoreError>;

    /// Writes the account, its phone claim, location, device (and the
    /// device's sighting), session, first refresh token, audit record and
    /// events, and charges the quota: all or nothing. A taken number
    /// writes nothing.
    async fn create_phone_user(&self, new: &NewPhoneAccount) -> Result<(), CreatePhoneUserError>;

    /// The account holding the number.
    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Option<UserId>, StoreError>;

    /// Replaces the account with `updated` if `current` is still what is
    /// stored (same `updated_at`), writing `location` (created or replaced)
    /// and the audit record with it.
    async fn update_phone_user(
        &self,
        current: &PhoneUser,
        updated: &PhoneUser,
        location: Option<&Location>,
        audit: &AuditRecord,
    ) -> Result<(), UpdatePhoneUserError>;

    async fn get_phone_user(&self, id: UserId) -> Result<Option<PhoneUser>, StoreError>;

    /// The phone account with every session (live or ended) and device of
    /// it, in one read of its partition: what a code sign-in answers from.
    async fn phone_user_with_sessions(&self, id: UserId) -> Result<PhoneUserView, StoreError>;

    async fn location(
        &self,
        user_id: UserId,
        id: LocationId,
    ) -> Result<Option<Location>, StoreError>;
}
