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

#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Writes a new task; its id is fresh, so this never overwrites.
    async fn create_task(&self, task: &Task) -> Result<(), StoreError>;

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// Replaces `current` by `next` if the stored task is still at
    /// `current.version`; keeps the index of started tasks (what
    /// `overdue_tasks` reads) in the same write.
    async fn update_task(&self, current: &Task, next: &Task) -> Result<(), TaskUpdateError>;

    /// Up to `limit` STARTED tasks whose deadline is before `now`: their
    /// worker died or timed out.
    async fn overdue_tasks(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Task>, StoreError>;
}
