use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use crate::domain::{Account, NotificationEvent, Task, TaskId, UserId, UserStatus};
use crate::ports::account_data::{AccountData, AccountExport, BeginDeletionError};
use crate::ports::sessions::RevokeReason;
use crate::ports::StoreError;

#[async_trait]
impl AccountData for MemoryStore {
    async fn begin_deletion(
        &self,
        account: &Account,
        task: &Task,
        at: OffsetDateTime,
    ) -> Result<(), BeginDeletionError> {
        let mut tables = self.lock();
        let id = account.id();
        if tables.account(id).as_ref() != Some(account) {
            return Err(BeginDeletionError::Stale);
        }
        if tables.tasks.contains_key(&task.id) {
            return Err(StoreError::internal("task id already exists").into());
        }
        match account {
            Account::Member(_) => {
                if let Some(user) = tables.users.get_mut(&id) {
                    user.status = UserStatus::Inactive;
                    user.updated_at = at;
                }
            }
            Account::Phone(_) => {
                if let Some(user) = tables.phone_users.get_mut(&id) {
                    user.status = UserStatus::Inactive;
                    user.updated_at = at;
                }
            }
        }
        super::sessions::revoke_all(&mut tables, id, None, RevokeReason::AccountDeleted, at);
        tables.tasks.insert(task.id, task.clone());
        tables.deletions.insert(id, (task.id, at));
        Ok(())
    }

    async fn erase_account(
        &self,
        user: UserId,
        task: TaskId,
        event: &NotificationEvent,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        if tables.deletions.get(&user).map(|(t, _)| *t) != Some(task) {
            return Ok(false);
        }
        tables.users.remove(&user);
        tables.ledgers.remove(&user);
        tables.phone_users.remove(&user);
        tables.usernames.retain(|_, owner| *owner != user);
        tables.emails.retain(|_, owner| *owner != user);
        tables.phones.retain(|_, owner| *owner != user);
        tables.locations.retain(|(owner, _), _| *owner != user);
        tables.sessions.retain(|(owner, _), _| *owner != user);
        tables.refresh.retain(|_, record| record.user_id != user);
        tables.devices.retain(|(owner, _), _| *owner != user);
        tables.tokens.retain(|_, token| token.user_id != user);
        tables.unverified.remove(&user);
        tables.preferences.remove(&user);
        tables.avatars.remove(&user);
        tables.stripe_customers.remove(&user);
        tables.push_tokens.retain(|(owner, _), _| *owner != user);
        tables.push_claims.retain(|_, (owner, _)| *owner != user);
        tables.tasks.retain(|_, t| t.owner != user);
        tables.audit.retain(|record| record.user_id != Some(user));
        tables.deletions.remove(&user);
        tables.outbox.push(event.clone());
        Ok(true)
    }

    async fn unfinished_deletions(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<(UserId, TaskId)>, StoreError> {
        let tables = self.lock();
        let mut found: Vec<(OffsetDateTime, UserId, TaskId)> = tables
            .deletions
            .iter()
            .filter(|(_, (_, at))| *at < before)
            .map(|(user, (task, at))| (*at, *user, *task))
            .collect();
        found.sort();
        Ok(found
            .into_iter()
            .take(limit)
            .map(|(_, user, task)| (user, task))
            .collect())
    }

    async fn export_account(&self, user: UserId) -> Result<AccountExport, StoreError> {
        let tables = self.lock();
        let mut sessions: Vec<_> = tables
            .sessions
            .values()
            .filter(|s| s.user_id == user)
            .cloned()
            .collect();
        sessions.sort_by_key(|s| (s.created_at, s.id));
        let mut devices: Vec<_> = tables
            .devices
            .iter()
            .filter(|((owner, _), _)| *owner == user)
            .map(|(_, d)| d.clone())
            .collect();
        devices.sort_by_key(|d| d.first_seen);
        let mut push_tokens: Vec<_> = tables
            .push_tokens
            .values()
            .filter(|t| t.user_id == user)
            .cloned()
            .collect();
        push_tokens.sort_by_key(|t| (t.created_at, t.id));
        let mut audit: Vec<_> = tables
            .audit
            .iter()
            .filter(|r| r.user_id == Some(user))
            .cloned()
            .collect();
        audit.sort_by_key(|r| (r.at, r.id));
        Ok(AccountExport {
            account: tables.account(user),
            devices,
            sessions,
            preferences: tables.preferences.get(&user).cloned(),
            push_tokens,
            audit,
        })
    }
}
