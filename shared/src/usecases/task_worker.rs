//! The task worker's handling of one tasks-queue message. Delivery is at
//! least once, so every step is a conditional transition from the state it
//! read: a redelivered message never runs a finished, revoked or running
//! task again.

use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::Mutex;

use super::task_runner::{Progress, TaskFailure, TaskRunner};
use super::tasks::TaskMessage;
use crate::domain::{Task, TaskStatus};
use crate::ports::queues::MessageQueue;
use crate::ports::tasks::{TaskStore, TaskUpdateError};
use crate::ports::{Clock, StoreError};

const STALE_ATTEMPTS: usize = 3;

/// What became of a message that needs no redelivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The task ran to this end.
    Finished(TaskStatus),
    /// Out of time: progress saved, a continuation message queued.
    Continued,
    /// Nothing to do (finished, revoked, running elsewhere, or gone).
    Skipped(&'static str),
}

/// A message to deliver again (SQS: a batch item failure).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the message is not a task message")]
    Malformed,
    /// The task is RETRY (or FAILURE, on the last receive) with this error.
    #[error("the task failed transiently: {0}")]
    Transient(String),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

pub struct TaskWorker<'a> {
    pub store: &'a dyn TaskStore,
    pub queue: &'a dyn MessageQueue,
    pub clock: &'a dyn Clock,
    pub runner: &'a dyn TaskRunner,
    /// The queue's maximum receive count: the last delivery before the
    /// dead-letter queue, after which a transient failure is final.
    pub max_receives: u32,
}

/// Progress reports, each a conditional write on the latest version.
struct TaskProgress<'a> {
    store: &'a dyn TaskStore,
    clock: &'a dyn Clock,
    current: Mutex<Task>,
}

#[async_trait]
impl Progress for TaskProgress<'_> {
    async fn report(&self, progress: Value) {
        let mut current = self.current.lock().await;
        let next = current.next(self.clock.now(), |t| t.progress = Some(progress));
        match self.store.update_task(&current, &next).await {
            Ok(()) => *current = next,
            Err(error) => tracing::warn!(error = %error, "could not record task progress"),
        }
    }
}

impl TaskWorker<'_> {
    /// Handles one message; `until` is when the invocation times out.
    #[tracing::instrument(name = "task_message", skip_all, fields(task_id))]
    pub async fn handle(
        &self,
        body: &str,
        receive_count: u32,
        until: Instant,
    ) -> Result<Handled, WorkerError> {
        let message: TaskMessage =
            serde_json::from_str(body).map_err(|_| WorkerError::Malformed)?;
        tracing::Span::current().record("task_id", tracing::field::display(message.task_id));
        let Some(started) = self.start(&message, until).await? else {
            return Ok(Handled::Skipped("not startable"));
        };
        let progress = TaskProgress {
            store: self.store,
            clock: self.clock,
            current: Mutex::new(started.clone()),
        };
        let outcome = self.runner.run(&started, until, &progress).await;
        let current = progress.current.into_inner();
        let now = self.clock.now();
        let (next, answer) = match outcome {
            Ok(result) => (
                current.next(now, |t| {
                    t.status = TaskStatus::Success;
                    t.result = Some(result);
                    t.error = None;
                }),
                Ok(Handled::Finished(TaskStatus::Success)),
            ),
            Err(TaskFailure::Permanent(error)) => (
                current.next(now, |t| {
                    t.status = TaskStatus::Failure;
                    t.error = Some(error);
                }),
                Ok(Handled::Finished(TaskStatus::Failure)),
            ),
            Err(TaskFailure::Transient(error)) if receive_count >= self.max_receives => (
                current.next(now, |t| {
                    t.status = TaskStatus::Failure;
                    t.error = Some(format!("Gave up after {receive_count} attempts: {error}"));
                }),
                // Delivered again it goes to the dead-letter queue.
                Err(WorkerError::Transient(error)),
            ),
            Err(TaskFailure::Transient(error)) => (
                current.next(now, |t| {
                    t.status = TaskStatus::Retry;
                    t.error = Some(error.clone());
                }),
                Err(WorkerError::Transient(error)),
            ),
            Err(TaskFailure::OutOfTime { progress }) => (
                current.next(now, |t| {
                    t.status = TaskStatus::Retry;
                    t.progress = Some(progress);
                }),
                Ok(Handled::Continued),
            ),
        };
        match self.store.update_task(&current, &next).await {
            Ok(()) => {}
            // The clean-up job declared it dead meanwhile: its verdict stands.
            Err(TaskUpdateError::Stale) => return Ok(Handled::Skipped("changed while running")),
            Err(TaskUpdateError::Store(error)) => return Err(error.into()),
        }
        if matches!(answer, Ok(Handled::Continued)) {
            self.queue.send(&[message.body()]).await?;
        }
        tracing::info!(
            status = next.status.as_str(),
            attempts = next.attempts,
            "task attempt ended"
        );
        let outcome = match (&answer, next.status) {
            (Ok(Handled::Continued), _) => "Continued",
            (_, TaskStatus::Success) => "Succeeded",
            (_, TaskStatus::Retry) => "Retried",
            _ => "Failed",
        };
        crate::metrics::record_task(next.kind.name(), outcome);
        answer
    }

    /// Moves the task to STARTED for this attempt; `None` when there is
    /// nothing to run.
    async fn start(
        &self,
        message: &TaskMessage,
        until: Instant,
    ) -> Result<Option<Task>, StoreError> {
        for _ in 0..STALE_ATTEMPTS {
            let Some(task) = self.store.get_task(message.task_id).await? else {
                return Ok(None);
            };
            let now = self.clock.now();
            let abandoned =
                task.status == TaskStatus::Started && task.deadline.is_some_and(|d| d < now);
            if !(task.status.is_waiting() || abandoned) {
                return Ok(None);
            }
            let remaining = until.saturating_duration_since(Instant::now());
            let deadline = now + remaining;
            let started = task.next(now, |t| {
                t.status = TaskStatus::Started;
                t.attempts += 1;
            });
            let started = Task {
                deadline: Some(deadline),
                ..started
            };
            match self.store.update_task(&task, &started).await {
                Ok(()) => return Ok(Some(started)),
                Err(TaskUpdateError::Stale) => continue,
                Err(TaskUpdateError::Store(error)) => return Err(error),
            }
        }
        Ok(None)
    }
}
