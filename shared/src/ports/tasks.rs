//! The task port: task items and their conditional transitions.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::{Task, TaskId};

#[derive(Debug, thiserror::Error)]
pub enum TaskUpdateError {
    /// The stored task is not at `current.version` any more (or is gone).
    #[error("the task changed concurrently")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateTaskError {
    /// The owner already has `max_open` unfinished counted tasks.
    #[error("too many unfinished tasks")]
    TooManyOpen,
    /// The owner's balance does not cover the task's cost.
    #[error("insufficient credits")]
    InsufficientCredits,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Writes a new task; its id is fresh, so this never overwrites.
    async fn create_task(&self, task: &Task) -> Result<(), StoreError>;

    /// Writes a new `counted` task and takes one of its owner's open-task
    /// slots in the same write, unless `max_open` are taken: parallel
    /// creates never exceed the cap. `update_task` frees the slot when the
    /// task finishes (see `Task::frees_slot`). A task that costs credits
    /// is charged in the same write (`Task::charge`), and refused when the
    /// balance does not cover it; `update_task` refunds it when it fails
    /// (`Task::refund_on`).
    async fn create_counted_task(&self, task: &Task, max_open: u32) -> Result<(), CreateTaskError>;

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// Replaces `current` by `next` if the stored task is still at
    /// `current.version`; keeps the index of started tasks (what
    /// `overdue_tasks` reads) and the owner's open-task count in the same
    /// write.
    async fn update_task(&self, current: &Task, next: &Task) -> Result<(), TaskUpdateError>;

    /// Up to `limit` STARTED tasks whose deadline is before `now`: their
    /// worker died or timed out.
    async fn overdue_tasks(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Task>, StoreError>;
}
