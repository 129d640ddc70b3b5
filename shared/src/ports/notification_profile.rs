//! The user's notification profile: preferences and push tokens.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::preferences::Preferences;
use crate::domain::push_token::{PushToken, PushTokenId};
use crate::domain::{DeviceId, UserId};

#[async_trait]
pub trait PreferencesStore: Send + Sync {
    /// The stored preferences; `None` for an account that never had any
    /// (the defaults apply).
    async fn preferences(&self, user: UserId) -> Result<Option<Preferences>, StoreError>;

    async fn put_preferences(
        &self,
        user: UserId,
        preferences: &Preferences,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait PushTokenStore: Send + Sync {
    /// Registers `token` for its user. A token another account holds moves
    /// to this one (the device changed hands); one this account holds
    /// already is refreshed (platform, device, active, last used) and
    /// keeps its id. Returns what is stored.
    async fn register_push_token(&self, token: &PushToken) -> Result<PushToken, StoreError>;

    /// Every token of the user, oldest first.
    async fn push_tokens(&self, user: UserId) -> Result<Vec<PushToken>, StoreError>;

    async fn push_token(
        &self,
        user: UserId,
        id: PushTokenId,
    ) -> Result<Option<PushToken>, StoreError>;

    /// Writes `updated` if the token still exists; false when it is gone.
    async fn update_push_token(&self, updated: &PushToken) -> Result<bool, StoreError>;

    /// Writes `updated`, whose value differs from `current`'s, in one
    /// conditional transaction: the token unchanged since `current` was
    /// read, the old value's claim released, the new value's claim taken.
    /// A token that held the new value (any account's) is deleted: one
    /// owner per value, as registration keeps it.
    async fn change_push_token_value(
        &self,
        current: &PushToken,
        updated: &PushToken,
    ) -> Result<ValueChange, StoreError>;

    /// Deletes the token with its claim; false when there was none.
    async fn delete_push_token(&self, user: UserId, id: PushTokenId) -> Result<bool, StoreError>;

    /// Marks every token of the user inactive; how many changed.
    async fn deactivate_push_tokens(&self, user: UserId) -> Result<usize, StoreError>;

    /// Deletes the tokens registered for `device` (its session ended).
    async fn drop_device_push_tokens(
        &self,
        user: UserId,
        device: &DeviceId,
    ) -> Result<usize, StoreError>;

    /// Up to `limit` tokens last used before `before`.
    async fn unused_push_tokens(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PushToken>, StoreError>;

    /// Deletes `token` if it was not used since it was read; false when it
    /// was (or is gone), so two clean-ups prune it once.
    async fn prune_push_token(&self, token: &PushToken) -> Result<bool, StoreError>;
}

/// The outcome of `PushTokenStore::change_push_token_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueChange {
    Done,
    /// The token is gone.
    Gone,
    /// The token changed since it was read: read it again.
    Stale,
}
