//! `POST /tasks`, `GET /tasks/{id}`, `DELETE /tasks/{id}`: a task is
//! written PENDING, then its message goes to the tasks queue; the worker
//! (`task_worker`) does the rest.

pub use crate::requests::tasks::TaskCreateRequest;
use serde::{Deserialize, Serialize};

use crate::domain::errors::FieldErrors;
use crate::domain::{CreditCosts, Task, TaskId, TaskKind, TaskStatus, UserId};
use crate::ports::queues::MessageQueue;
use crate::ports::tasks::{CreateTaskError, TaskStore, TaskUpdateError};
use crate::ports::{Clock, StoreError};

const STALE_ATTEMPTS: usize = 3;

/// `MAX_OPEN_TASKS`' default: unfinished tasks a user may have at once.
pub const DEFAULT_MAX_OPEN_TASKS: u32 = 10;

/// How long a finished export's result can be downloaded (once): it holds
/// the account's data, contact and phone numbers decrypted.
pub const EXPORT_RESULT_LIFETIME: time::Duration = time::Duration::days(1);

/// What a refused user is told to wait: slots free as tasks finish, which
/// no one can predict, so a short fixed pause.
pub const OPEN_TASKS_RETRY_AFTER: time::Duration = time::Duration::seconds(30);

/// The tasks queue's message: the task is read from the table, so a
/// message never carries more than an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMessage {
    pub task_id: TaskId,
}

impl TaskMessage {
    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("task rejected")]
    Rejected(FieldErrors),
    /// Unknown, or another user's.
    #[error("no such task")]
    NotFound,
    /// The user already has the configured number of unfinished tasks.
    #[error("too many unfinished tasks")]
    TooManyOpen,
    /// The task costs more credits than the user has.
    #[error("insufficient credits")]
    InsufficientCredits,
    #[error("the task has left the queue ({})", .0.as_str())]
    NotRevocable(TaskStatus),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

pub struct Tasks<'a> {
    pub store: &'a dyn TaskStore,
    pub clock: &'a dyn Clock,
}

impl Tasks<'_> {
    /// A user's own task (`POST /tasks`): written holding one of the
    /// owner's `max_open` slots (refused when none is free), then queued.
    /// If the queue refuses, the task is marked FAILURE (it would never
    /// run, and its slot is freed) and the caller gets the outage.
    #[tracing::instrument(name = "create_task", skip_all, fields(task_id))]
    pub async fn create(
        &self,
        queue: &dyn MessageQueue,
        owner: UserId,
        request: TaskCreateRequest,
        max_open: u32,
        costs: &CreditCosts,
    ) -> Result<Task, TaskError> {
        let TaskCreateRequest(kind) = request;
        let task = Task {
            counted: true,
            cost: costs.of(kind.name()),
            ..Task::new(owner, kind, self.clock.now())
        };
        tracing::Span::current().record("task_id", tracing::field::display(task.id));
        match self.store.create_counted_task(&task, max_open).await {
            Ok(()) => {}
            Err(CreateTaskError::TooManyOpen) => {
                tracing::info!(max_open, "task refused: too many unfinished tasks");
                return Err(TaskError::TooManyOpen);
            }
            Err(CreateTaskError::InsufficientCredits) => {
                tracing::info!(cost = task.cost, "task refused: insufficient credits");
                return Err(TaskError::InsufficientCredits);
            }
            Err(CreateTaskError::Store(error)) => return Err(error.into()),
        }
        self.queue(queue, task).await
    }

    /// Writes the service's own `task` (account work: never capped)
    /// PENDING and queues it; see `create`.
    #[tracing::instrument(name = "enqueue_task", skip_all, fields(task_id))]
    pub async fn enqueue(&self, queue: &dyn MessageQueue, task: Task) -> Result<Task, TaskError> {
        tracing::Span::current().record("task_id", tracing::field::display(task.id));
        self.store.create_task(&task).await?;
        self.queue(queue, task).await
    }

    async fn queue(&self, queue: &dyn MessageQueue, task: Task) -> Result<Task, TaskError> {
        let message = TaskMessage { task_id: task.id };
        if let Err(error) = queue.send(&[message.body()]).await {
            let failed = task.next(self.clock.now(), |t| {
                t.status = TaskStatus::Failure;
                t.error = Some("The task could not be queued.".into());
            });
            if let Err(mark) = self.store.update_task(&task, &failed).await {
                tracing::error!(error = %mark, "could not mark the unqueued task failed");
            }
            return Err(error.into());
        }
        tracing::info!(kind = task.kind.name(), "task queued");
        Ok(task)
    }

    /// `GET /tasks/{id}`: the task, if `owner` created it. An export's
    /// result is handed out once: the read that returns it removes it from
    /// the store in the same conditional write (a parallel read gets the
    /// task without it), and none is handed out once it is older than
    /// `EXPORT_RESULT_LIFETIME` (the item's TTL may lag).
    #[tracing::instrument(name = "fetch_task", skip_all, fields(task_id = %id))]
    pub async fn fetch(&self, owner: UserId, id: TaskId) -> Result<Task, TaskError> {
        for _ in 0..STALE_ATTEMPTS {
            let task = self.get(owner, id).await?;
            if !matches!(task.kind, TaskKind::ExportData) || task.result.is_none() {
                return Ok(task);
            }
            let now = self.clock.now();
            let dropped = task.next(now, |t| t.result = None);
            match self.store.update_task(&task, &dropped).await {
                Ok(()) if now - task.updated_at > EXPORT_RESULT_LIFETIME => {
                    tracing::info!("export result expired undownloaded");
                    return Ok(dropped);
                }
                Ok(()) => {
                    tracing::info!("export result downloaded and dropped");
                    return Ok(task);
                }
                Err(TaskUpdateError::Stale) => continue,
                Err(TaskUpdateError::Store(error)) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("the task kept changing".into()).into())
    }

    /// The task, if `owner` created it (a plain read: see `fetch`).
    pub async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, TaskError> {
        self.store
            .get_task(id)
            .await?
            .filter(|task| task.owner == owner)
            .ok_or(TaskError::NotFound)
    }

    /// Revokes a task no worker has started (PENDING, or RETRY between
    /// attempts); a worker that receives it later skips it.
    #[tracing::instrument(name = "revoke_task", skip_all, fields(task_id = %id))]
    pub async fn revoke(&self, owner: UserId, id: TaskId) -> Result<Task, TaskError> {
        for _ in 0..STALE_ATTEMPTS {
            let task = self.get(owner, id).await?;
            if task.status == TaskStatus::Revoked {
                return Ok(task);
            }
            if !task.status.is_waiting() {
                return Err(TaskError::NotRevocable(task.status));
            }
            let revoked = task.next(self.clock.now(), |t| t.status = TaskStatus::Revoked);
            match self.store.update_task(&task, &revoked).await {
                Ok(()) => return Ok(revoked),
                Err(TaskUpdateError::Stale) => continue,
                Err(TaskUpdateError::Store(error)) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("the task kept changing".into()).into())
    }
}
