//! The avatar's record (in the table, beside the user) and the bucket that
//! holds its files.

use async_trait::async_trait;

use super::accounts::StoredAccount;
use super::StoreError;
use crate::domain::avatar::Avatar;
use crate::domain::{Session, SessionId, UserId};

/// What `GET /users/me` reads in one round trip: the account, the session
/// of the token and the avatar (the account not decrypted).
pub type SignedInRead = (Option<StoredAccount>, Option<Session>, Option<Avatar>);

#[async_trait]
pub trait AvatarStore: Send + Sync {
    async fn avatar(&self, user: UserId) -> Result<Option<Avatar>, StoreError>;

    /// The account, the session and the avatar, in one read.
    async fn signed_in_with_avatar(
        &self,
        user: UserId,
        session: SessionId,
    ) -> Result<SignedInRead, StoreError>;

    /// Records a new upload (status processing), replacing the user's
    /// avatar; returns the one it replaced (its objects are then stale).
    async fn replace_avatar(
        &self,
        user: UserId,
        avatar: &Avatar,
    ) -> Result<Option<Avatar>, StoreError>;

    /// The processor's verdict: stored only while the record still waits
    /// for that upload (same id, still processing), so a late verdict
    /// never overrides a newer upload or a removal. False when it did not.
    async fn settle_avatar(&self, user: UserId, avatar: &Avatar) -> Result<bool, StoreError>;

    /// Removes the user's avatar record; returns what it was.
    async fn remove_avatar(&self, user: UserId) -> Result<Option<Avatar>, StoreError>;
}

/// The bucket: S3 on AWS (and moto in tests), a folder in local runs.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// The object's bytes; `None` when there is no such object.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError>;
    /// Removes one object; absent objects are not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Removes every object whose key starts with `prefix`.
    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError>;
    /// The keys under `prefix` (tests and the erasure check).
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
}
