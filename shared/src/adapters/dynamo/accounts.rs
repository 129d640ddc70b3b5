//! Account items in and out of the table: the only code that encrypts and
//! decrypts the phone numbers they hold.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_dynamo::{from_item, to_item};
use uuid::Uuid;

use super::errors::mapping_error;
use super::items::{UserItem, MEMBER_ENTITY};
use super::phone_items::{PhoneUserItem, PHONE_USER_ENTITY};
use super::transact::Item;
use super::DynamoStore;
use crate::crypto::phone_crypto::{PhoneCryptoError, PhoneKeys, PhoneKeysLoadError};
use crate::domain::{Account, PhoneUser, User, UserId, UserStatus};
use crate::ports::accounts::{AccountKind, OpenAccount, StoredAccount};
use crate::ports::StoreError;

pub(super) fn crypto_error(error: PhoneCryptoError) -> StoreError {
    StoreError::Internal(Box::new(error))
}

fn load_error(error: PhoneKeysLoadError) -> StoreError {
    match error {
        // Unavailable stays retryable.
        PhoneKeysLoadError::Source(error) => error,
        invalid => StoreError::Internal(Box::new(invalid)),
    }
}

impl DynamoStore {
    /// Phone numbers are written and read under these keys; without them
    /// any account item is refused (never written in clear).
    pub fn with_phone_keys(mut self, keys: Arc<crate::crypto::phone_crypto::PhoneKeyRing>) -> Self {
        self.phone_keys = Some(keys);
        self
    }

    /// The phone keys this store encrypts with, for what else the
    /// functions over it seal (SMS codes in events).
    pub fn phone_key_ring(&self) -> Option<Arc<crate::crypto::phone_crypto::PhoneKeyRing>> {
        self.phone_keys.clone()
    }

    pub(super) async fn keys_covering(&self, kids: &[&str]) -> Result<Arc<PhoneKeys>, StoreError> {
        let ring = self.phone_keys.as_ref().ok_or_else(|| {
            StoreError::internal("phone keys are not configured (PHONE_KEYS_SECRET_ID)")
        })?;
        ring.covering(kids).await.map_err(load_error)
    }

    pub(super) async fn encryption_keys(&self) -> Result<Arc<PhoneKeys>, StoreError> {
        self.keys_covering(&[]).await
    }

    pub(super) async fn seal_member(&self, user: &User) -> Result<Item, StoreError> {
        let keys = self.encryption_keys().await?;
        let item = UserItem::seal(user, &keys).map_err(crypto_error)?;
        let mut item: Item = to_item(item).map_err(mapping_error)?;
        item.extend(super::keys::listing_attributes(user.id, user.created_at));
        Ok(item)
    }

    pub(super) async fn seal_phone_user(
        &self,
        user: &PhoneUser,
        keys: &PhoneKeys,
    ) -> Result<(Item, String), StoreError> {
        let item = PhoneUserItem::seal(user, keys).map_err(crypto_error)?;
        let hash = item.phone_hash.clone();
        let mut item: Item = to_item(item).map_err(mapping_error)?;
        item.extend(super::keys::listing_attributes(user.id, user.created_at));
        Ok((item, hash))
    }

    /// The account an item of `USER#id/PROFILE` holds.
    pub(super) async fn open_account(&self, item: Item) -> Result<Account, StoreError> {
        let entity = item
            .get(super::keys::ENTITY_ATTRIBUTE)
            .and_then(|v| v.as_s().ok())
            .cloned();
        match entity.as_deref() {
            Some(MEMBER_ENTITY) => {
                let item: UserItem = from_item(item).map_err(mapping_error)?;
                let keys = self.keys_covering(&item.kids()).await?;
                Ok(Account::Member(item.open(&keys).map_err(crypto_error)?))
            }
            Some(PHONE_USER_ENTITY) => {
                let item: PhoneUserItem = from_item(item).map_err(mapping_error)?;
                let keys = self.keys_covering(&[&item.phone.kid]).await?;
                Ok(Account::Phone(item.open(&keys).map_err(crypto_error)?))
            }
            other => Err(StoreError::internal(format!(
                "unexpected entity {other:?} in a profile item"
            ))),
        }
    }

    /// The account an item of `USER#id/PROFILE` holds, as authentication
    /// needs it: id, kind and status read, the numbers left sealed (no
    /// phone key read, nothing decrypted) until a route opens it.
    pub(super) fn stored_account(&self, item: Item) -> Result<StoredAccount, StoreError> {
        let head: AccountHead = from_item(item.clone()).map_err(mapping_error)?;
        let kind = match head.entity.as_str() {
            MEMBER_ENTITY => AccountKind::Member,
            PHONE_USER_ENTITY => AccountKind::Phone,
            other => {
                return Err(StoreError::internal(format!(
                    "unexpected entity {other:?} in a profile item"
                )))
            }
        };
        let sealed = SealedAccount {
            store: self.clone(),
            item,
        };
        Ok(StoredAccount::sealed(
            UserId::from_uuid(head.id),
            kind,
            head.status,
            Arc::new(sealed),
        ))
    }

    pub(super) fn optional_stored_account(
        &self,
        item: Option<Item>,
    ) -> Result<Option<StoredAccount>, StoreError> {
        item.map(|item| self.stored_account(item)).transpose()
    }

    pub(super) async fn open_optional_account(
        &self,
        item: Option<Item>,
    ) -> Result<Option<Account>, StoreError> {
        match item {
            Some(item) => self.open_account(item).await.map(Some),
            None => Ok(None),
        }
    }
}

/// The attributes of an account item both shapes share, read without the
/// phone keys.
#[derive(Deserialize)]
struct AccountHead {
    entity: String,
    id: Uuid,
    status: UserStatus,
}

/// An account item as read, opened (decrypted) on demand.
struct SealedAccount {
    store: DynamoStore,
    item: Item,
}

#[async_trait]
impl OpenAccount for SealedAccount {
    async fn open(&self) -> Result<Account, StoreError> {
        self.store.open_account(self.item.clone()).await
    }
}
