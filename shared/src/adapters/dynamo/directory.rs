//! The operators' listing (the sharded `ListingIndex`) and status changes.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::errors::store_error;
use super::keys::{self, Key, LISTING_INDEX, LISTING_PK, LISTING_SHARDS, LISTING_SK};
use super::store::format_time;
use super::transact::{s, Condition, Expression, Item, TransactError, Write};
use super::DynamoStore;
use crate::domain::{Account, AuditRecord, LoginThrottle, ThrottleKey, UserId, UserStatus};
use crate::ports::directory::{
    AccountDirectory, BackfillProgress, ListingPage, ListingPosition, StatusChange,
};
use crate::ports::StoreError;

fn status_text(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Active => "ACTIVE",
        UserStatus::Inactive => "INACTIVE",
    }
}

/// The partition prefix of lockout counters (`keys::login_throttle`).
const THROTTLE_PREFIX: &str = "THROTTLE#";

impl DynamoStore {
    /// The keys of the account's lockout counters: those the owner index
    /// lists (every login counter of an identifier that names it) and its
    /// current-password counter.
    async fn lockout_keys(&self, id: UserId) -> Result<Vec<Key>, StoreError> {
        let mut found: Vec<Key> = self
            .owned_keys(&keys::owner(id))
            .await?
            .into_iter()
            .filter(|key| key.pk.starts_with(THROTTLE_PREFIX))
            .collect();
        let own = keys::login_throttle(&ThrottleKey::current_password(id));
        if !found.contains(&own) {
            found.push(own);
        }
        Ok(found)
    }

    /// Up to `limit` index entries of one shard below `after`, newest
    /// first, of `status` when given: `(listing position, table key)`.
    async fn listing_shard(
        &self,
        shard: u8,
        status: Option<UserStatus>,
        after: Option<&ListingPosition>,
        limit: usize,
    ) -> Result<Vec<(String, Key)>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(LISTING_INDEX)
                .scan_index_forward(false)
                .expression_attribute_names("#pk", LISTING_PK)
                .expression_attribute_values(":pk", s(keys::listing_partition(shard)))
                // The filter runs after the read: ask for a page at a time.
                .limit(i32::try_from(limit).unwrap_or(i32::MAX));
            query = match after {
                Some(after) => query
                    .key_condition_expression("#pk = :pk AND #sk < :after")
                    .expression_attribute_names("#sk", LISTING_SK)
                    .expression_attribute_values(":after", s(after.as_key())),
                None => query.key_condition_expression("#pk = :pk"),
            };
            if let Some(status) = status {
                query = query
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", super::items::STATUS)
                    .expression_attribute_values(":status", s(status_text(status)));
            }
            let output = query
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in output.items.unwrap_or_default() {
                let position = item.get(LISTING_SK).and_then(|v| v.as_s().ok()).cloned();
                if let (Some(position), Some(key)) = (position, Key::from_item(&item)) {
                    found.push((position, key));
                }
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() && found.len() < limit => start = Some(key),
                _ => return Ok(found),
            }
        }
    }
}

/// The account exists and is not being erased: failed, it is gone or
/// stays inactive.
const ACCOUNT_NOT_ERASED: Condition = "account_not_erased";

#[async_trait]
impl AccountDirectory for DynamoStore {
    async fn list_accounts(
        &self,
        status: Option<UserStatus>,
        after: Option<&ListingPosition>,
        limit: usize,
    ) -> Result<ListingPage, StoreError> {
        // Each shard's newest `limit` below the cursor, merged: the page
        // is the newest `limit` of those.
        let mut entries = Vec::new();
        for shard in 0..LISTING_SHARDS {
            entries.extend(self.listing_shard(shard, status, after, limit).await?);
        }
        entries.sort_by(|a, b| b.0.cmp(&a.0));
        entries.truncate(limit);
        let full = entries.len() == limit;
        let next = entries
            .last()
            .filter(|_| full)
            .map(|(position, _)| ListingPosition::from_key(position.clone()));
        let keys: Vec<Key> = entries.iter().map(|(_, key)| key.clone()).collect();
        let mut items = self.batch_get(&keys).await?;
        let mut accounts = Vec::with_capacity(keys.len());
        for key in keys {
            // Gone since the index was read (an erasure): skipped.
            if let Some(item) = items.remove(&(key.pk, key.sk)) {
                let account = self.open_account(item).await?;
                // The index is eventually consistent; the item is not.
                if status.is_none_or(|status| account.status() == status) {
                    accounts.push(account);
                }
            }
        }
        Ok(ListingPage { accounts, next })
    }

    async fn account(&self, id: UserId) -> Result<Option<Account>, StoreError> {
        self.open_optional_account(self.get_item(keys::user(id)).await?)
            .await
    }

    async fn set_status(
        &self,
        id: UserId,
        status: UserStatus,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> Result<StatusChange, StoreError> {
        // An account being erased stays inactive: the condition refuses it.
        let update = Write::update(
            &self.table,
            &keys::user(id),
            "SET #status = :status, #updated = :at",
            Some("attribute_exists(#pk) AND attribute_not_exists(#since)"),
            Expression::default()
                .name("#pk", keys::PK)
                .name("#status", super::items::STATUS)
                .name("#updated", super::items::UPDATED_AT)
                .name("#since", super::items::DELETION_SINCE)
                .value(":status", s(status_text(status)))
                .value(":at", s(format_time(at))),
        )?
        .named(ACCOUNT_NOT_ERASED);
        match self.transact(vec![update, self.put_audit(audit)?]).await {
            Ok(()) => {}
            Err(TransactError::Cancelled(cancelled))
                if cancelled.failed_named(ACCOUNT_NOT_ERASED) =>
            {
                return Ok(match self.account(id).await? {
                    None => StatusChange::NotFound,
                    Some(_) => StatusChange::BeingDeleted,
                });
            }
            Err(error) => return Err(error.into_store_error()),
        }
        Ok(match self.account(id).await? {
            Some(account) => StatusChange::Changed(Box::new(account)),
            None => StatusChange::NotFound,
        })
    }

    async fn lockouts(&self, id: UserId) -> Result<Vec<(String, LoginThrottle)>, StoreError> {
        let keys = self.lockout_keys(id).await?;
        let items = self.batch_get(&keys).await?;
        let now = time::OffsetDateTime::now_utc();
        let mut found = Vec::new();
        for ((pk, _), item) in items {
            let item: super::session_items::ThrottleItem =
                serde_dynamo::from_item(item).map_err(super::errors::mapping_error)?;
            let key = pk.strip_prefix(THROTTLE_PREFIX).unwrap_or(&pk).to_owned();
            found.push((key, item.into_throttle(now)));
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found)
    }

    async fn backfill_listing(&self, page: usize) -> Result<BackfillProgress, StoreError> {
        self.backfill_listing_page(page).await
    }

    async fn clear_lockouts(&self, id: UserId, audit: &AuditRecord) -> Result<usize, StoreError> {
        let keys = self.lockout_keys(id).await?;
        let present = self.batch_get(&keys).await?.len();
        self.delete_keys(keys).await?;
        self.transact(vec![self.put_audit(audit)?])
            .await
            .map_err(TransactError::into_store_error)?;
        Ok(present)
    }
}
