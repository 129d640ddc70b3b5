use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::avatar::{Avatar, AvatarStatus};
use crate::domain::{SessionId, UserId};
use crate::ports::accounts::StoredAccount;
use crate::ports::avatars::{AvatarStore, SignedInRead};
use crate::ports::StoreError;

#[async_trait]
impl AvatarStore for MemoryStore {
    async fn avatar(&self, user: UserId) -> Result<Option<Avatar>, StoreError> {
        Ok(self.lock().avatars.get(&user).cloned())
    }

    async fn signed_in_with_avatar(
        &self,
        user: UserId,
        session: SessionId,
    ) -> Result<SignedInRead, StoreError> {
        let tables = self.lock();
        Ok((
            tables.account(user).map(StoredAccount::open_already),
            tables.sessions.get(&(user, session)).cloned(),
            tables.avatars.get(&user).cloned(),
        ))
    }

    async fn replace_avatar(
        &self,
        user: UserId,
        avatar: &Avatar,
    ) -> Result<Option<Avatar>, StoreError> {
        Ok(self.lock().avatars.insert(user, avatar.clone()))
    }

    async fn settle_avatar(&self, user: UserId, avatar: &Avatar) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        let waiting = tables.avatars.get(&user).is_some_and(|current| {
            current.upload_id == avatar.upload_id && current.status == AvatarStatus::Processing
        });
        if waiting {
            tables.avatars.insert(user, avatar.clone());
        }
        Ok(waiting)
    }

    async fn remove_avatar(&self, user: UserId) -> Result<Option<Avatar>, StoreError> {
        Ok(self.lock().avatars.remove(&user))
    }
}
