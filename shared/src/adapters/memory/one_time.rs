use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{MemoryStore, Tables};
use crate::domain::{
    AuditRecord, Email, NotificationEvent, OneTimeTokenRecord, RateWindow, UserId,
};
use crate::ports::notifications::DeliveryLog;
use crate::ports::one_time::{
    ConfirmError, IssueError, OneTimeTokens, PreRegistration, PreRegistrations, UnverifiedAccounts,
};
use crate::ports::StoreError;

/// Counts one request in every window, or in none when one is full.
pub(super) fn charge(tables: &mut Tables, windows: &[RateWindow]) -> Result<(), IssueError> {
    if let Some(full) = windows.iter().position(|w| tables.counter(&w.key) >= w.max) {
        return Err(IssueError::RateLimited(full));
    }
    for window in windows {
        let count = tables.counter(&window.key) + 1;
        tables
            .counters
            .insert(window.key.clone(), (count, window.ends_at));
    }
    Ok(())
}

#[async_trait]
impl OneTimeTokens for MemoryStore {
    async fn request_link(
        &self,
        events: &[NotificationEvent],
        windows: &[RateWindow],
    ) -> Result<(), IssueError> {
        let mut tables = self.lock();
        charge(&mut tables, windows)?;
        tables.outbox.extend_from_slice(events);
        Ok(())
    }

    async fn store_token(&self, token: &OneTimeTokenRecord) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        let live = tables
            .users
            .get(&token.user_id)
            .is_some_and(|user| user.status == crate::domain::UserStatus::Active);
        if live {
            tables.tokens.insert(token.hash.clone(), token.clone());
        }
        Ok(live)
    }

    async fn find_token(&self, hash: &str) -> Result<Option<OneTimeTokenRecord>, StoreError> {
        Ok(self.lock().tokens.get(hash).cloned())
    }

    async fn confirm_email(
        &self,
        token: &OneTimeTokenRecord,
        at: OffsetDateTime,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), ConfirmError> {
        let mut tables = self.lock();
        if !tables.tokens.contains_key(&token.hash) {
            return Err(ConfirmError::Spent);
        }
        let Some(user) = tables
            .users
            .get_mut(&token.user_id)
            .filter(|u| u.email == token.email)
        else {
            return Err(ConfirmError::Spent);
        };
        user.email_verified = true;
        user.updated_at = at;
        tables.tokens.remove(&token.hash);
        tables.unverified.remove(&token.user_id);
        tables.audit.push(audit.clone());
        tables.outbox.extend_from_slice(events);
        Ok(())
    }

    async fn confirm_email_change(
        &self,
        token: &OneTimeTokenRecord,
        old: &Email,
        at: OffsetDateTime,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), ConfirmError> {
        let mut tables = self.lock();
        if !tables.tokens.contains_key(&token.hash) {
            return Err(ConfirmError::Spent);
        }
        let current = tables
            .users
            .get(&token.user_id)
            .filter(|u| u.email == *old && u.pending_email.as_ref() == Some(&token.email));
        if current.is_none() {
            return Err(ConfirmError::Spent);
        }
        if tables.emails.contains_key(token.email.as_str()) {
            return Err(ConfirmError::Taken);
        }
        tables.emails.remove(old.as_str());
        tables
            .emails
            .insert(token.email.as_str().to_owned(), token.user_id);
        if let Some(user) = tables.users.get_mut(&token.user_id) {
            user.email = token.email.clone();
            user.pending_email = None;
            user.email_verified = true;
            user.updated_at = at;
        }
        tables.tokens.remove(&token.hash);
        tables.unverified.remove(&token.user_id);
        tables.audit.push(audit.clone());
        tables.outbox.extend_from_slice(events);
        Ok(())
    }
}

#[async_trait]
impl PreRegistrations for MemoryStore {
    async fn pre_register(
        &self,
        email: &Email,
        at: OffsetDateTime,
        windows: &[RateWindow],
    ) -> Result<bool, IssueError> {
        let mut tables = self.lock();
        charge(&mut tables, windows)?;
        if tables.pre_registrations.contains_key(email.as_str()) {
            return Ok(false);
        }
        tables.pre_registrations.insert(
            email.as_str().to_owned(),
            PreRegistration {
                email: email.clone(),
                created_at: at,
                converted: None,
            },
        );
        Ok(true)
    }

    async fn pre_registration(&self, email: &Email) -> Result<Option<PreRegistration>, StoreError> {
        Ok(self.lock().pre_registrations.get(email.as_str()).cloned())
    }

    async fn mark_converted(
        &self,
        email: &Email,
        user_id: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        match tables.pre_registrations.get_mut(email.as_str()) {
            Some(entry) if entry.converted.is_none() => {
                entry.converted = Some((user_id, at));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl UnverifiedAccounts for MemoryStore {
    async fn unverified_before(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        let tables = self.lock();
        let mut old: Vec<(OffsetDateTime, UserId)> = tables
            .unverified
            .iter()
            .filter(|(_, created)| **created < cutoff)
            .map(|(id, created)| (*created, *id))
            .collect();
        old.sort();
        Ok(old.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn remove_unverified(&self, id: UserId) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        if tables.unverified.remove(&id).is_none() {
            return Ok(false);
        }
        let Some(user) = tables.users.get(&id).filter(|u| !u.email_verified).cloned() else {
            return Ok(false);
        };
        tables.users.remove(&id);
        if let Some(key) = user.username_key() {
            tables.usernames.remove(key);
        }
        tables.emails.remove(user.email.as_str());
        tables.sessions.retain(|(owner, _), _| *owner != id);
        tables.refresh.retain(|_, record| record.user_id != id);
        tables.devices.retain(|(owner, _), _| *owner != id);
        tables.tokens.retain(|_, token| token.user_id != id);
        Ok(true)
    }
}

#[async_trait]
impl DeliveryLog for MemoryStore {
    async fn claim_delivery(&self, id: Uuid, _at: OffsetDateTime) -> Result<bool, StoreError> {
        Ok(self.lock().delivered.insert(id))
    }

    async fn release_delivery(&self, id: Uuid) -> Result<(), StoreError> {
        self.lock().delivered.remove(&id);
        Ok(())
    }
}
