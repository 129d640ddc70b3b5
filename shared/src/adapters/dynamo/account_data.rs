//! Deleting and exporting an account. Its items are its partition
//! (`USER#<id>`) and what the owner index lists (claims, tokens, tasks,
//! audit records, markers); a `DELETING#<shard>` marker keeps a deletion
//! findable until it is done.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::AuditItem;
use super::errors::mapping_error;
use super::keys::{self, Key};
use super::session_items::{DeviceItem, SessionItem};
use super::store::format_time;
use super::transact::{s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{Account, AuditRecord, NotificationEvent, Task, TaskId, UserId};
use crate::ports::account_data::{AccountData, AccountExport, BeginDeletionError};
use crate::ports::notification_profile::PreferencesStore;
use crate::ports::sessions::RevokeReason;
use crate::ports::StoreError;

#[derive(Debug, Serialize, Deserialize)]
struct DeletionMarker {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: Uuid,
    task_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    since: OffsetDateTime,
    owner: String,
}

/// The marker's time, read back from the deletion task's item.
#[derive(Debug, Deserialize)]
struct MarkerRef {
    #[serde(default, with = "time::serde::rfc3339::option")]
    deletion_since: Option<OffsetDateTime>,
}

/// The account item is the one deletion read: failed, it changed since.
const ACCOUNT_UNCHANGED: Condition = "account_unchanged";
/// The deletion's marker is still there: failed, another run finished it.
const DELETION_MARKED: Condition = "deletion_marked";

impl DynamoStore {
    async fn deletion_marker(&self, user: UserId) -> Result<Option<DeletionMarker>, StoreError> {
        for key in self.owned_keys(&keys::owner(user)).await? {
            if key.pk.starts_with("DELETING#") {
                if let Some(item) = self.get_item(key).await? {
                    return Ok(Some(from_item(item).map_err(mapping_error)?));
                }
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl AccountData for DynamoStore {
    async fn begin_deletion(
        &self,
        account: &Account,
        task: &Task,
        at: OffsetDateTime,
    ) -> Result<(), BeginDeletionError> {
        let id = account.id();
        let updated_at = match account {
            Account::Member(user) => user.updated_at,
            Account::Phone(user) => user.updated_at,
        };
        let Key { pk, sk } = keys::deleting(id, at);
        let marker = DeletionMarker {
            pk,
            sk,
            entity: "deletion".into(),
            user_id: id.as_uuid(),
            task_id: task.id.as_uuid(),
            since: at,
            owner: keys::owner(id),
        };
        let first = vec![
            Write::update(
                &self.table,
                &keys::user(id),
                "SET #status = :inactive, #updated = :at, #since = :at",
                Some("#updated = :seen"),
                Expression::default()
                    .name("#status", super::items::STATUS)
                    .name("#updated", super::items::UPDATED_AT)
                    .name("#since", super::items::DELETION_SINCE)
                    .value(":inactive", s("INACTIVE"))
                    .value(":at", s(format_time(at)))
                    .value(":seen", s(format_time(updated_at))),
            )?
            .named(ACCOUNT_UNCHANGED),
            Write::create(&self.table, self.task_item(task).await?)?,
            Write::create(&self.table, to_item(marker).map_err(mapping_error)?)?,
        ];
        match self
            .revoke_live_sessions(id, None, RevokeReason::AccountDeleted, at, first)
            .await
        {
            Ok(_) => Ok(()),
            Err(TransactError::Cancelled(_)) => Err(BeginDeletionError::Stale),
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn erase_account(
        &self,
        user: UserId,
        task: TaskId,
        event: &NotificationEvent,
    ) -> Result<bool, StoreError> {
        let profile = keys::user(user);
        let since = match self.get_item(profile.clone()).await? {
            Some(item) => {
                from_item::<_, MarkerRef>(item)
                    .map_err(mapping_error)?
                    .deletion_since
            }
            None => None,
        };
        let marker = match since {
            Some(since) => keys::deleting(user, since),
            // No account (or not being deleted): finished before, unless
            // the marker says otherwise.
            None => match self.deletion_marker(user).await? {
                Some(marker) => Key {
                    pk: marker.pk,
                    sk: marker.sk,
                },
                None => return Ok(false),
            },
        };
        let task_key = keys::task(task);
        let kept = [&profile, &marker, &task_key];
        let mut doomed: Vec<Key> = self
            .query_prefix(&keys::user_partition(user), "")
            .await?
            .iter()
            .filter_map(Key::from_item)
            .collect();
        doomed.extend(self.owned_keys(&keys::owner(user)).await?);
        doomed.retain(|key| !kept.contains(&key));
        doomed.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        doomed.dedup();
        self.delete_keys(doomed).await?;
        // Last, in one write: the account, the task, the marker, and the
        // event that tells the world.
        let writes = vec![
            Write::delete(
                &self.table,
                &marker,
                Some("attribute_exists(#pk)"),
                Expression::default().name("#pk", keys::PK),
            )?
            .named(DELETION_MARKED),
            Write::delete(&self.table, &profile, None, Expression::default())?,
            Write::delete(&self.table, &task_key, None, Expression::default())?,
            self.put_event(event)?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            // Another run finished it first.
            Err(TransactError::Cancelled(cancelled)) if cancelled.failed_named(DELETION_MARKED) => {
                Ok(false)
            }
            Err(error) => Err(error.into_store_error()),
        }
    }

    async fn unfinished_deletions(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<(UserId, TaskId)>, StoreError> {
        let bound = keys::stamped_before(before);
        let mut found = Vec::new();
        let partitions = (0..keys::DELETING_SHARDS).map(keys::deleting_partition);
        for item in self.query_below_each(partitions, &bound, limit).await? {
            let marker: DeletionMarker = from_item(item).map_err(mapping_error)?;
            found.push((
                marker.since,
                UserId::from_uuid(marker.user_id),
                TaskId::from_uuid(marker.task_id),
            ));
        }
        found.sort();
        Ok(found
            .into_iter()
            .take(limit)
            .map(|(_, user, task)| (user, task))
            .collect())
    }

    async fn export_account(&self, user: UserId) -> Result<AccountExport, StoreError> {
        let mut export = AccountExport::default();
        for item in self.query_prefix(&keys::user_partition(user), "").await? {
            let sk = item
                .get(keys::SK)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if sk == "PROFILE" {
                export.account = Some(self.open_account(item).await?);
            } else if sk.starts_with(keys::SESSION_PREFIX) {
                export.sessions.push(
                    from_item::<_, SessionItem>(item)
                        .map_err(mapping_error)?
                        .into(),
                );
            } else if sk.starts_with(keys::DEVICE_PREFIX) {
                export.devices.push(
                    from_item::<_, DeviceItem>(item)
                        .map_err(mapping_error)?
                        .into(),
                );
            }
        }
        export.preferences = self.preferences(user).await?;
        export.push_tokens = self.push_tokens_of(user).await?;
        let audit_keys: Vec<Key> = self
            .owned_keys(&keys::owner(user))
            .await?
            .into_iter()
            .filter(|k| k.pk.starts_with("AUDIT#"))
            .collect();
        for chunk in audit_keys.chunks(100) {
            for item in self.batch_get(chunk).await?.into_values() {
                let item: AuditItem = from_item(item).map_err(mapping_error)?;
                export.audit.push(AuditRecord::from(item));
            }
        }
        export.audit.sort_by_key(|r| (r.at, r.id));
        export.sessions.sort_by_key(|s| (s.created_at, s.id));
        export.devices.sort_by_key(|d| d.first_seen);
        Ok(export)
    }
}
