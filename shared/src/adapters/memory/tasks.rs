use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use crate::domain::{Task, TaskId, TaskStatus};
use crate::ports::credits::PostingError;
use crate::ports::tasks::{CreateTaskError, TaskStore, TaskUpdateError};
use crate::ports::StoreError;

#[async_trait]
impl TaskStore for MemoryStore {
    async fn create_task(&self, task: &Task) -> Result<(), StoreError> {
        let mut tables = self.lock();
        if tables.tasks.contains_key(&task.id) {
            return Err(StoreError::internal("task id already exists"));
        }
        tables.tasks.insert(task.id, task.clone());
        Ok(())
    }

    /// The open slots are counted under the same lock as the write, which
    /// is what the DynamoDB counter's conditional update amounts to.
    async fn create_counted_task(&self, task: &Task, max_open: u32) -> Result<(), CreateTaskError> {
        if !task.counted {
            return Err(StoreError::internal("a counted create of an uncounted task").into());
        }
        let mut tables = self.lock();
        let open = tables
            .tasks
            .values()
            .filter(|t| t.owner == task.owner && t.counted && !t.status.is_finished())
            .count();
        if open >= max_open as usize {
            return Err(CreateTaskError::TooManyOpen);
        }
        if tables.tasks.contains_key(&task.id) {
            return Err(StoreError::internal("task id already exists").into());
        }
        let charge = task.charge();
        if let Some(charge) = &charge {
            tables.check_posting(charge).map_err(|error| match error {
                PostingError::Insufficient => CreateTaskError::InsufficientCredits,
                PostingError::Store(error) => error.into(),
                PostingError::AlreadyApplied => StoreError::internal("charge applied twice").into(),
            })?;
            tables.apply_posting(charge);
        }
        tables.tasks.insert(task.id, task.clone());
        Ok(())
    }

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        Ok(self.lock().tasks.get(&id).cloned())
    }

    async fn update_task(&self, current: &Task, next: &Task) -> Result<(), TaskUpdateError> {
        let mut tables = self.lock();
        match tables.tasks.get_mut(&current.id) {
            Some(stored) if stored.version == current.version => {
                *stored = next.clone();
                if let Some(refund) = current.refund_on(next) {
                    tables.apply_posting(&refund);
                }
                Ok(())
            }
            _ => Err(TaskUpdateError::Stale),
        }
    }

    async fn overdue_tasks(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Task>, StoreError> {
        let tables = self.lock();
        let mut overdue: Vec<Task> = tables
            .tasks
            .values()
            .filter(|t| t.status == TaskStatus::Started && t.deadline.is_some_and(|d| d < now))
            .cloned()
            .collect();
        overdue.sort_by_key(|t| (t.deadline, t.id));
        overdue.truncate(limit);
        Ok(overdue)
    }
}
