//! The avatar record: `USER#<id>` / `AVATAR`, beside the profile.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;

use super::errors::{conditional, mapping_error, store_error};
use super::keys::{self, Key};
use super::session_items::SessionItem;
use super::store::DynamoStore;
use super::transact::{s, Item};
use crate::domain::avatar::{Avatar, AvatarStatus};
use crate::domain::{Session, SessionId, UserId};
use crate::ports::avatars::{AvatarStore, SignedInRead};
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
const UPLOAD_ID: &str = "upload_id";

#[derive(Debug, Serialize, Deserialize)]
struct AvatarItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    upload_id: String,
    status: AvatarStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_key: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

fn to_avatar_item(user: UserId, avatar: &Avatar) -> Result<Item, StoreError> {
    let Key { pk, sk } = keys::avatar(user);
    to_item(AvatarItem {
        pk,
        sk,
        upload_id: avatar.upload_id.clone(),
        status: avatar.status,
        object_key: avatar.object_key.clone(),
        updated_at: avatar.updated_at,
    })
    .map_err(mapping_error)
}

fn open(item: Item) -> Result<Avatar, StoreError> {
    let item: AvatarItem = from_item(item).map_err(mapping_error)?;
    Ok(Avatar {
        upload_id: item.upload_id,
        status: item.status,
        object_key: item.object_key,
        updated_at: item.updated_at,
    })
}

#[async_trait]
impl AvatarStore for DynamoStore {
    async fn avatar(&self, user: UserId) -> Result<Option<Avatar>, StoreError> {
        self.get_item(keys::avatar(user))
            .await?
            .map(open)
            .transpose()
    }

    async fn signed_in_with_avatar(
        &self,
        user: UserId,
        session: SessionId,
    ) -> Result<SignedInRead, StoreError> {
        // The authentication's BatchGetItem with a third key: still one
        // round trip for `GET /users/me`.
        let [profile, session, avatar] = [
            keys::user(user),
            keys::session(user, session),
            keys::avatar(user),
        ];
        let mut found = self
            .batch_get(&[profile.clone(), session.clone(), avatar.clone()])
            .await?;
        let mut take = |key: &Key| found.remove(&(key.pk.clone(), key.sk.clone()));
        let profile = take(&profile);
        let session = take(&session)
            .map(|item| from_item::<_, SessionItem>(item).map_err(mapping_error))
            .transpose()?
            .map(Session::from);
        let avatar = take(&avatar).map(open).transpose()?;
        Ok((self.optional_stored_account(profile)?, session, avatar))
    }

    async fn replace_avatar(
        &self,
        user: UserId,
        avatar: &Avatar,
    ) -> Result<Option<Avatar>, StoreError> {
        let output = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_avatar_item(user, avatar)?))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        output
            .attributes
            .filter(|a| !a.is_empty())
            .map(open)
            .transpose()
    }

    async fn settle_avatar(&self, user: UserId, avatar: &Avatar) -> Result<bool, StoreError> {
        conditional(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_avatar_item(user, avatar)?))
                .condition_expression("#upload = :upload AND #status = :processing")
                .expression_attribute_names("#upload", UPLOAD_ID)
                .expression_attribute_names("#status", super::items::STATUS)
                .expression_attribute_values(":upload", s(&avatar.upload_id))
                .expression_attribute_values(":processing", s("processing"))
                .send()
                .await,
        )
    }

    async fn remove_avatar(&self, user: UserId) -> Result<Option<Avatar>, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::avatar(user).to_attributes()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        output
            .attributes
            .filter(|a| !a.is_empty())
            .map(open)
            .transpose()
    }
}
