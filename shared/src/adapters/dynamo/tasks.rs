//! Tasks in the table: the task item, and a marker per STARTED task keyed
//! by its deadline (`RUNNING#<shard>`), written and removed in the same
//! transaction as the status change.
//!
//! An export's result (the account's data, contact and phone numbers
//! decrypted) is sealed in the item with the phone keys' AEAD (purpose
//! `export`), and its item expires a day after it finished.

use async_trait::async_trait;
use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::accounts::crypto_error;
use super::errors::mapping_error;
use super::keys::{self, Key};
use super::transact::{n, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::crypto::phone_crypto::EncryptedPhone;
use crate::domain::{Task, TaskId, TaskKind, TaskStatus, UserId};
use crate::ports::tasks::{CreateTaskError, TaskStore, TaskUpdateError};
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
const OPEN: &str = "open";

/// Finished tasks stay readable this long, then TTL removes them.
pub const FINISHED_TASK_RETENTION: time::Duration = time::Duration::days(30);

/// A finished export's item (and its sealed result) is removed by TTL
/// this long after it finished; the use case refuses to hand the result
/// out after it (TTL may lag) and drops it at its first download.
pub const EXPORT_RETENTION: time::Duration = crate::usecases::tasks::EXPORT_RESULT_LIFETIME;

/// The associated-data purpose of sealed export results.
pub const EXPORT_PURPOSE: &str = "export";

#[derive(Debug, Serialize, Deserialize)]
struct TaskItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: Uuid,
    owner_id: Uuid,
    /// `USER#<owner id>`: see `keys::OWNER`.
    owner: String,
    /// JSON strings: numbers keep their exact JSON form.
    kind: String,
    status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    /// An export's result, sealed (never in `result`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_result: Option<EncryptedPhone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    deadline: Option<OffsetDateTime>,
    version: u32,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// Absent on tasks written before the cap: they hold no slot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    counted: bool,
    /// Credits charged at creation (absent: free).
    #[serde(default, skip_serializing_if = "is_zero")]
    cost: u32,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

#[derive(Debug, Serialize, Deserialize)]
struct RunningItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    task_id: Uuid,
    owner: String,
}

fn json_error(error: serde_json::Error) -> StoreError {
    StoreError::Internal(Box::new(error))
}

impl TaskItem {
    /// With `sealed_result` (an export's), `result` stays empty.
    fn new(task: &Task, sealed_result: Option<EncryptedPhone>) -> Result<Self, StoreError> {
        let Key { pk, sk } = keys::task(task.id);
        let text = |value: &Option<serde_json::Value>| {
            value
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(json_error)
        };
        Ok(Self {
            pk,
            sk,
            entity: "task".into(),
            id: task.id.as_uuid(),
            owner_id: task.owner.as_uuid(),
            owner: keys::owner(task.owner),
            kind: serde_json::to_string(&task.kind).map_err(json_error)?,
            status: task.status,
            result: match sealed_result {
                Some(_) => None,
                None => text(&task.result)?,
            },
            sealed_result,
            error: task.error.clone(),
            attempts: task.attempts,
            progress: text(&task.progress)?,
            deadline: task.deadline,
            version: task.version,
            created_at: task.created_at,
            updated_at: task.updated_at,
            expires_at: task.status.is_finished().then(|| {
                let retention = match task.kind {
                    TaskKind::ExportData => EXPORT_RETENTION,
                    _ => FINISHED_TASK_RETENTION,
                };
                (task.updated_at + retention).unix_timestamp()
            }),
            counted: task.counted,
            cost: task.cost,
        })
    }

    fn into_task(self) -> Result<Task, StoreError> {
        let value = |text: Option<String>| {
            text.map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(json_error)
        };
        Ok(Task {
            id: TaskId::from_uuid(self.id),
            owner: UserId::from_uuid(self.owner_id),
            kind: serde_json::from_str::<TaskKind>(&self.kind).map_err(json_error)?,
            status: self.status,
            result: value(self.result)?,
            error: self.error,
            attempts: self.attempts,
            progress: value(self.progress)?,
            deadline: self.deadline,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            counted: self.counted,
            cost: self.cost,
        })
    }
}

impl DynamoStore {
    pub(super) async fn task_item(&self, task: &Task) -> Result<super::transact::Item, StoreError> {
        let sealed = match (&task.kind, &task.result) {
            (TaskKind::ExportData, Some(result)) => {
                let keys = self.encryption_keys().await?;
                let text = Zeroizing::new(serde_json::to_string(result).map_err(json_error)?);
                Some(
                    keys.encrypt_document(EXPORT_PURPOSE, &text)
                        .map_err(crypto_error)?,
                )
            }
            _ => None,
        };
        to_item(TaskItem::new(task, sealed)?).map_err(mapping_error)
    }

    /// The task an item holds, its sealed result opened.
    async fn open_task(&self, mut item: TaskItem) -> Result<Task, StoreError> {
        let sealed = item.sealed_result.take();
        let mut task = item.into_task()?;
        if let Some(sealed) = sealed {
            let keys = self.keys_covering(&[&sealed.kid]).await?;
            let text = Zeroizing::new(
                keys.decrypt_document(EXPORT_PURPOSE, &sealed)
                    .map_err(crypto_error)?,
            );
            task.result = Some(serde_json::from_str(&text).map_err(json_error)?);
        }
        Ok(task)
    }
}

/// `delta` (+1 or -1) on the owner's open-task count; taking a slot is
/// conditional on one being free.
/// A counted task's slot: failed, the owner has too many open tasks.
const OPEN_SLOT_FREE: Condition = "open_task_slot_free";
/// A task's version: failed, the task changed since it was read.
const TASK_UNCHANGED: Condition = "task_unchanged";

fn open_tasks_write(
    table: &str,
    owner: UserId,
    delta: i8,
    max_open: Option<u32>,
) -> Result<Write, StoreError> {
    let mut expression = Expression::default()
        .name("#open", OPEN)
        .value(":delta", n(delta));
    if let Some(max) = max_open {
        expression = expression.value(":max", n(max));
    }
    let condition = max_open.map(|_| "attribute_not_exists(#open) OR #open < :max");
    Ok(Write::update(
        table,
        &keys::open_tasks(owner),
        "ADD #open :delta",
        condition,
        expression,
    )?
    .named(OPEN_SLOT_FREE))
}

fn running_marker(task: &Task) -> Option<Key> {
    match (task.status, task.deadline) {
        (TaskStatus::Started, Some(deadline)) => Some(keys::running_task(task.id, deadline)),
        _ => None,
    }
}

#[async_trait]
impl TaskStore for DynamoStore {
    async fn create_task(&self, task: &Task) -> Result<(), StoreError> {
        self.transact(vec![Write::create(
            &self.table,
            self.task_item(task).await?,
        )?])
        .await
        .map_err(TransactError::into_store_error)
    }

    async fn create_counted_task(&self, task: &Task, max_open: u32) -> Result<(), CreateTaskError> {
        if !task.counted {
            // It would take a slot that its end never frees.
            return Err(StoreError::internal("a counted create of an uncounted task").into());
        }
        let mut writes = vec![
            Write::create(&self.table, self.task_item(task).await?)?,
            open_tasks_write(&self.table, task.owner, 1, Some(max_open))?,
        ];
        if let Some(charge) = task.charge() {
            writes.extend(self.posting_writes(&charge)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) if cancelled.failed_named(OPEN_SLOT_FREE) => {
                Err(CreateTaskError::TooManyOpen)
            }
            Err(TransactError::Cancelled(cancelled))
                if task.cost > 0 && cancelled.failed_named(super::credits::BALANCE_COVERS) =>
            {
                Err(CreateTaskError::InsufficientCredits)
            }
            Err(error) => Err(error.into_store_error().into()),
        }
    }

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        match self.get_item(keys::task(id)).await? {
            Some(item) => Ok(Some(
                self.open_task(from_item(item).map_err(mapping_error)?)
                    .await?,
            )),
            None => Ok(None),
        }
    }

    async fn update_task(&self, current: &Task, next: &Task) -> Result<(), TaskUpdateError> {
        let mut writes = vec![Write::put(
            &self.table,
            self.task_item(next).await?,
            Some("#version = :version"),
            Expression::default()
                .name("#version", keys::VERSION)
                .value(":version", n(current.version)),
        )?
        .named(TASK_UNCHANGED)];
        if current.frees_slot(next) {
            writes.push(open_tasks_write(&self.table, next.owner, -1, None)?);
        }
        if let Some(refund) = current.refund_on(next) {
            writes.extend(self.posting_writes(&refund)?);
        }
        let (before, after) = (running_marker(current), running_marker(next));
        if before != after {
            if let Some(key) = before {
                writes.push(Write::delete(
                    &self.table,
                    &key,
                    None,
                    Expression::default(),
                )?);
            }
            if let Some(Key { pk, sk }) = after {
                let marker = RunningItem {
                    pk,
                    sk,
                    entity: "running_task".into(),
                    task_id: next.id.as_uuid(),
                    owner: keys::owner(next.owner),
                };
                writes.push(Write::put(
                    &self.table,
                    to_item(marker).map_err(mapping_error)?,
                    None,
                    Expression::default(),
                )?);
            }
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) if cancelled.failed_named(TASK_UNCHANGED) => {
                Err(TaskUpdateError::Stale)
            }
            Err(error) => Err(error.into_store_error().into()),
        }
    }

    async fn overdue_tasks(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Task>, StoreError> {
        let bound = keys::stamped_before(now);
        let mut ids = Vec::new();
        let partitions = (0..keys::RUNNING_SHARDS).map(keys::running_partition);
        for item in self.query_below_each(partitions, &bound, limit).await? {
            let marker: RunningItem = from_item(item).map_err(mapping_error)?;
            ids.push(TaskId::from_uuid(marker.task_id));
        }
        // BatchGetItem takes at most 100 keys; the rest wait for the next run.
        let wanted: Vec<Key> = ids.iter().take(100).map(|id| keys::task(*id)).collect();
        let mut tasks = Vec::new();
        for (_, item) in self.batch_get(&wanted).await? {
            let item: TaskItem = from_item(item).map_err(mapping_error)?;
            // Finished meanwhile (maybe an export, sealed: the clean-up
            // holds no phone keys): not overdue.
            if item.status == TaskStatus::Started && item.deadline.is_some_and(|d| d < now) {
                tasks.push(self.open_task(item).await?);
            }
        }
        tasks.sort_by_key(|t| (t.deadline, t.id));
        tasks.truncate(limit);
        Ok(tasks)
    }
}
