use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use crate::domain::{Account, AuditRecord, LoginThrottle, ThrottleKey, UserId, UserStatus};
use crate::ports::directory::{
    AccountDirectory, BackfillProgress, ListingPage, ListingPosition, StatusChange,
};
use crate::ports::StoreError;

#[async_trait]
impl AccountDirectory for MemoryStore {
    async fn list_accounts(
        &self,
        status: Option<UserStatus>,
        after: Option<&ListingPosition>,
        limit: usize,
    ) -> Result<ListingPage, StoreError> {
        let tables = self.lock();
        let members = tables.users.values().cloned().map(Account::Member);
        let phones = tables.phone_users.values().cloned().map(Account::Phone);
        let mut accounts: Vec<(ListingPosition, Account)> = members
            .chain(phones)
            .filter(|account| status.is_none_or(|status| account.status() == status))
            .map(|account| (ListingPosition::of_account(&account), account))
            .filter(|(position, _)| after.is_none_or(|after| position < after))
            .collect();
        accounts.sort_by(|a, b| b.0.cmp(&a.0));
        accounts.truncate(limit);
        let next = accounts
            .last()
            .filter(|_| accounts.len() == limit)
            .map(|(position, _)| position.clone());
        Ok(ListingPage {
            accounts: accounts.into_iter().map(|(_, account)| account).collect(),
            next,
        })
    }

    async fn account(&self, id: UserId) -> Result<Option<Account>, StoreError> {
        Ok(self.lock().account(id))
    }

    async fn set_status(
        &self,
        id: UserId,
        status: UserStatus,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> Result<StatusChange, StoreError> {
        let mut tables = self.lock();
        if tables.deletions.contains_key(&id) && tables.account(id).is_some() {
            return Ok(StatusChange::BeingDeleted);
        }
        if let Some(user) = tables.users.get_mut(&id) {
            user.status = status;
            user.updated_at = at;
        } else if let Some(user) = tables.phone_users.get_mut(&id) {
            user.status = status;
            user.updated_at = at;
        } else {
            return Ok(StatusChange::NotFound);
        }
        tables.audit.push(audit.clone());
        Ok(tables
            .account(id)
            .map_or(StatusChange::NotFound, |account| {
                StatusChange::Changed(Box::new(account))
            }))
    }

    async fn lockouts(&self, id: UserId) -> Result<Vec<(String, LoginThrottle)>, StoreError> {
        let tables = self.lock();
        let own = ThrottleKey::current_password(id);
        let mut found: Vec<(String, LoginThrottle)> = tables
            .throttles
            .iter()
            .filter(|(key, _)| {
                key.as_str() == own.as_str() || tables.throttle_owners.get(*key) == Some(&id)
            })
            .map(|(key, state)| (key.clone(), state.clone()))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found)
    }

    /// Every account this store holds was listed when it was written.
    async fn backfill_listing(&self, _page: usize) -> Result<BackfillProgress, StoreError> {
        Ok(BackfillProgress {
            listed: 0,
            done: true,
        })
    }

    async fn clear_lockouts(&self, id: UserId, audit: &AuditRecord) -> Result<usize, StoreError> {
        let keys: Vec<String> = self
            .lockouts(id)
            .await?
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        let mut tables = self.lock();
        for key in &keys {
            tables.throttles.remove(key);
            tables.throttle_owners.remove(key);
        }
        tables.audit.push(audit.clone());
        Ok(keys.len())
    }
}
