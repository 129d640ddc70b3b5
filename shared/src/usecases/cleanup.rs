//! The scheduled clean-up: what TTL does not cover. Every step is a
//! conditional write, so two runs at once remove each item once; each step
//! works in pages and stops at a bound per run (the next run goes on).

use serde::Serialize;
use time::Duration;

use super::relay::Relay;
use super::tasks::TaskMessage;
use crate::domain::TaskStatus;
use crate::ports::account_data::AccountData;
use crate::ports::directory::AccountDirectory;
use crate::ports::notification_profile::PushTokenStore;
use crate::ports::one_time::UnverifiedAccounts;
use crate::ports::queues::MessageQueue;
use crate::ports::tasks::{TaskStore, TaskUpdateError};
use crate::ports::{Clock, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// Accounts that never confirmed their email are removed this long
    /// after sign-up.
    pub unverified_max_age: Duration,
    /// Outbox events older than this were missed by the stream relay.
    pub outbox_grace: Duration,
    /// Push tokens not used (registered again) for this long are dropped.
    pub push_token_max_idle: Duration,
    /// A deletion still unfinished this long after it began is queued
    /// again (its message was lost, or its worker died).
    pub deletion_resume_after: Duration,
    /// Items handled per page, and pages per step and run.
    pub page: usize,
    pub max_pages: usize,
}

impl Default for CleanupPolicy {
    fn default() -> Self {
        Self {
            unverified_max_age: Duration::days(7),
            outbox_grace: Duration::minutes(2),
            push_token_max_idle: Duration::days(90),
            deletion_resume_after: Duration::minutes(20),
            page: 25,
            max_pages: 40,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    pub unverified_accounts_removed: usize,
    pub overdue_tasks_failed: usize,
    pub outbox_events_relayed: usize,
    pub push_tokens_pruned: usize,
    pub deletions_resumed: usize,
    /// Accounts from before the operators' listing, listed now.
    pub accounts_listed: usize,
}

pub struct Cleanup<'a> {
    pub accounts: &'a dyn UnverifiedAccounts,
    pub tasks: &'a dyn TaskStore,
    pub push_tokens: &'a dyn PushTokenStore,
    pub account_data: &'a dyn AccountData,
    pub directory: &'a dyn AccountDirectory,
    /// Where stalled deletions are queued again: the account tasks queue.
    pub account_tasks_queue: &'a dyn MessageQueue,
    pub relay: Relay<'a>,
    pub clock: &'a dyn Clock,
    pub policy: CleanupPolicy,
}

impl Cleanup<'_> {
    #[tracing::instrument(name = "cleanup", skip_all)]
    pub async fn run(&self) -> Result<CleanupReport, StoreError> {
        let report = CleanupReport {
            unverified_accounts_removed: self.remove_unverified().await?,
            overdue_tasks_failed: self.fail_overdue_tasks().await?,
            outbox_events_relayed: self.relay_missed_events().await?,
            push_tokens_pruned: self.prune_push_tokens().await?,
            deletions_resumed: self.resume_deletions().await?,
            accounts_listed: self.list_older_accounts().await?,
        };
        tracing::info!(
            unverified_accounts_removed = report.unverified_accounts_removed,
            overdue_tasks_failed = report.overdue_tasks_failed,
            outbox_events_relayed = report.outbox_events_relayed,
            push_tokens_pruned = report.push_tokens_pruned,
            deletions_resumed = report.deletions_resumed,
            accounts_listed = report.accounts_listed,
            "clean-up done"
        );
        Ok(report)
    }

    /// Accounts stored before the listing existed get their place in it,
    /// a bounded number of table pages per run until the table is done
    /// (then a run costs one read). Ten pages of 1,000 items are at most
    /// 10,000 single updates (about 100 s on DynamoDB), inside the job's
    /// 300 s; an hourly run lists some 240,000 older accounts a day.
    async fn list_older_accounts(&self) -> Result<usize, StoreError> {
        const SCAN_PAGE: usize = 1_000;
        const SCAN_PAGES: usize = 10;
        let mut listed = 0;
        for _ in 0..SCAN_PAGES {
            let step = self.directory.backfill_listing(SCAN_PAGE).await?;
            listed += step.listed;
            if step.done {
                break;
            }
        }
        Ok(listed)
    }

    async fn remove_unverified(&self) -> Result<usize, StoreError> {
        let cutoff = self.clock.now() - self.policy.unverified_max_age;
        let mut removed = 0;
        for _ in 0..self.policy.max_pages {
            let ids = self
                .accounts
                .unverified_before(cutoff, self.policy.page)
                .await?;
            let mut progressed = false;
            for id in &ids {
                if self.accounts.remove_unverified(*id).await? {
                    removed += 1;
                    progressed = true;
                }
            }
            // A short page is the last; a page of items another run took
            // means that run is ahead: leave the rest to it.
            if ids.len() < self.policy.page || !progressed {
                break;
            }
        }
        Ok(removed)
    }

    async fn fail_overdue_tasks(&self) -> Result<usize, StoreError> {
        let mut failed = 0;
        for _ in 0..self.policy.max_pages {
            let now = self.clock.now();
            let overdue = self.tasks.overdue_tasks(now, self.policy.page).await?;
            let mut progressed = false;
            for task in &overdue {
                let next = task.next(now, |t| {
                    t.status = TaskStatus::Failure;
                    t.error = Some("The worker did not finish in time.".into());
                });
                match self.tasks.update_task(task, &next).await {
                    Ok(()) => {
                        failed += 1;
                        progressed = true;
                    }
                    Err(TaskUpdateError::Stale) => {}
                    Err(TaskUpdateError::Store(error)) => return Err(error),
                }
            }
            if overdue.len() < self.policy.page || !progressed {
                break;
            }
        }
        Ok(failed)
    }

    async fn prune_push_tokens(&self) -> Result<usize, StoreError> {
        let before = self.clock.now() - self.policy.push_token_max_idle;
        let mut pruned = 0;
        for _ in 0..self.policy.max_pages {
            let unused = self
                .push_tokens
                .unused_push_tokens(before, self.policy.page)
                .await?;
            let mut progressed = false;
            for token in &unused {
                if self.push_tokens.prune_push_token(token).await? {
                    pruned += 1;
                    progressed = true;
                }
            }
            if unused.len() < self.policy.page || !progressed {
                break;
            }
        }
        Ok(pruned)
    }

    /// Queues stalled deletions again; the worker's conditional steps make
    /// a duplicate harmless.
    async fn resume_deletions(&self) -> Result<usize, StoreError> {
        let before = self.clock.now() - self.policy.deletion_resume_after;
        let stalled = self
            .account_data
            .unfinished_deletions(before, self.policy.page * self.policy.max_pages)
            .await?;
        let bodies: Vec<String> = stalled
            .iter()
            .map(|(_, task_id)| TaskMessage { task_id: *task_id }.body())
            .collect();
        if !bodies.is_empty() {
            self.account_tasks_queue.send(&bodies).await?;
        }
        Ok(bodies.len())
    }

    async fn relay_missed_events(&self) -> Result<usize, StoreError> {
        let before = self.clock.now() - self.policy.outbox_grace;
        let mut relayed = 0;
        for _ in 0..self.policy.max_pages {
            let count = self.relay.relay_pending(before, self.policy.page).await?;
            relayed += count;
            if count < self.policy.page {
                break;
            }
        }
        Ok(relayed)
    }
}
