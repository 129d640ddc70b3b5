//! The index of unverified accounts (`UNVERIFIED#<shard>`): what the
//! clean-up removes unless the email is confirmed in time.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::mapping_error;
use super::keys::{self, Key};
use super::transact::{s, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{User, UserId};
use crate::ports::one_time::UnverifiedAccounts;
use crate::ports::StoreError;

#[derive(Debug, Serialize, Deserialize)]
struct MarkerItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: Uuid,
    owner: String,
}

/// The fields of an account item the clean-up needs (no decryption).
#[derive(Debug, Deserialize)]
pub(super) struct CleanupFields {
    entity: String,
    username_key: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub(super) created_at: OffsetDateTime,
}

impl DynamoStore {
    /// Lists `user` among the accounts the clean-up removes unless they
    /// confirm their email.
    pub(super) fn put_unverified(&self, user: &User) -> Result<Write, StoreError> {
        let Key { pk, sk } = keys::unverified(user.id, user.created_at);
        let item = MarkerItem {
            pk,
            sk,
            entity: "unverified".into(),
            user_id: user.id.as_uuid(),
            owner: keys::owner(user.id),
        };
        Write::create(&self.table, to_item(item).map_err(mapping_error)?)
    }

    /// Every item of the account's partition: sessions, devices,
    /// locations. Refresh tokens are keyed by their hash and expire by TTL;
    /// without the account they open nothing.
    async fn delete_partition(&self, id: UserId) -> Result<(), StoreError> {
        let items = self.query_prefix(&keys::user_partition(id), "").await?;
        self.delete_keys(items.iter().filter_map(Key::from_item).collect())
            .await
    }
}

#[async_trait]
impl UnverifiedAccounts for DynamoStore {
    async fn unverified_before(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        let bound = keys::stamped_before(cutoff);
        let mut found = Vec::new();
        let partitions = (0..keys::UNVERIFIED_SHARDS).map(keys::unverified_partition);
        for item in self.query_below_each(partitions, &bound, limit).await? {
            let marker: MarkerItem = from_item(item).map_err(mapping_error)?;
            let key = Key::from_item(&to_item(&marker).map_err(mapping_error)?);
            found.push((key.map(|k| k.sk), UserId::from_uuid(marker.user_id)));
        }
        // Oldest first across shards (the sort key starts with the time).
        found.sort();
        Ok(found.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn remove_unverified(&self, id: UserId) -> Result<bool, StoreError> {
        let Some(item) = self.get_item(keys::user(id)).await? else {
            return Ok(false);
        };
        let head: CleanupFields = from_item(item).map_err(mapping_error)?;
        let Some(email) = &head.email else {
            return Ok(false);
        };
        if head.entity != super::items::MEMBER_ENTITY || head.email_verified {
            return Ok(false);
        }
        let owned_by = |key: Key| {
            Write::delete(
                &self.table,
                &key,
                Some("#owner = :me"),
                Expression::default()
                    .name("#owner", keys::USER_ID)
                    .value(":me", s(id.to_string())),
            )
        };
        let mut writes = vec![
            // The marker first: a second clean-up fails here, removing
            // nothing twice.
            Write::delete(
                &self.table,
                &keys::unverified(id, head.created_at),
                Some("attribute_exists(#pk)"),
                Expression::default().name("#pk", keys::PK),
            )?,
            Write::delete(
                &self.table,
                &keys::user(id),
                Some("#verified = :no"),
                Expression::default()
                    .name("#verified", super::items::EMAIL_VERIFIED)
                    .value(":no", aws_sdk_dynamodb::types::AttributeValue::Bool(false)),
            )?,
            owned_by(keys::email_claim(email))?,
        ];
        // Email-only accounts hold no username claim.
        if let Some(username_key) = &head.username_key {
            writes.push(owned_by(keys::username_claim(username_key))?);
        }
        match self.transact(writes).await {
            Ok(()) => {}
            Err(TransactError::Cancelled(_)) => return Ok(false),
            Err(TransactError::Store(error)) => return Err(error),
        }
        self.delete_partition(id).await?;
        // Its tokens, audit records and markers elsewhere in the table.
        self.delete_keys(self.owned_keys(&keys::owner(id)).await?)
            .await?;
        Ok(true)
    }
}
