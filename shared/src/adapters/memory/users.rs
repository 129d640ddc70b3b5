use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{AuditRecord, NotificationEvent, RateWindow, User, UserId};
use crate::ports::sessions::RevokeReason;
use crate::ports::{
    Conflicts, CreateUserError, PasswordChange, StoreError, UpdateUserError, UserStore,
};

#[async_trait]
impl UserStore for MemoryStore {
    async fn charge_signup_quota(
        &self,
        window: &crate::domain::RateWindow,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().charge(window))
    }

    async fn create_with_credits(
        &self,
        user: &User,
        audit: &AuditRecord,
        quota: Option<&RateWindow>,
        events: &[NotificationEvent],
        credits: Option<&crate::domain::Posting>,
    ) -> Result<(), CreateUserError> {
        let mut tables = self.lock();
        if let Some(posting) = credits {
            // An opening entry adds credits: only an invariant can fail.
            tables
                .check_posting(posting)
                .map_err(|_| StoreError::internal("opening credit entry refused"))?;
        }
        let conflicts = Conflicts {
            username: user
                .username_key()
                .is_some_and(|key| tables.usernames.contains_key(key)),
            email: tables.emails.contains_key(user.email.as_str()),
        };
        if conflicts.any() {
            return Err(CreateUserError::Conflict(conflicts));
        }
        if tables.users.contains_key(&user.id) {
            return Err(StoreError::internal("user id already exists").into());
        }
        if let Some(quota) = quota {
            if tables.counter(&quota.key) >= quota.max {
                return Err(CreateUserError::QuotaExhausted);
            }
            let count = tables.counter(&quota.key) + 1;
            tables
                .counters
                .insert(quota.key.clone(), (count, quota.ends_at));
        }
        if let Some(key) = user.username_key() {
            tables.usernames.insert(key.to_owned(), user.id);
        }
        tables
            .emails
            .insert(user.email.as_str().to_owned(), user.id);
        tables.users.insert(user.id, user.clone());
        tables.preferences.insert(user.id, Default::default());
        tables.audit.push(audit.clone());
        tables.outbox.extend_from_slice(events);
        if !user.email_verified {
            tables.unverified.insert(user.id, user.created_at);
        }
        if let Some(posting) = credits {
            tables.apply_posting(posting);
        }
        Ok(())
    }

    async fn taken(
        &self,
        username_key: Option<&str>,
        email: Option<&str>,
    ) -> Result<Conflicts, StoreError> {
        let tables = self.lock();
        Ok(Conflicts {
            username: username_key.is_some_and(|k| tables.usernames.contains_key(k)),
            email: email.is_some_and(|e| tables.emails.contains_key(e)),
        })
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(&id).cloned())
    }

    async fn get_with_device(
        &self,
        id: UserId,
        device: &crate::domain::DeviceId,
    ) -> Result<(Option<User>, bool), StoreError> {
        let tables = self.lock();
        let known = tables
            .devices
            .contains_key(&(id, device.as_str().to_owned()));
        Ok((tables.users.get(&id).cloned(), known))
    }

    async fn find_by_username(&self, username_key: &str) -> Result<Option<UserId>, StoreError> {
        Ok(self.lock().usernames.get(username_key).copied())
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserId>, StoreError> {
        Ok(self.lock().emails.get(email).copied())
    }

    async fn update(
        &self,
        current: &User,
        updated: &User,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), UpdateUserError> {
        let mut tables = self.lock();
        if tables.users.get(&current.id) != Some(current) {
            return Err(UpdateUserError::Stale);
        }
        let username_moves = current.username_key() != updated.username_key();
        let email_moves = current.email.as_str() != updated.email.as_str();
        let conflicts = Conflicts {
            username: username_moves
                && updated
                    .username_key()
                    .is_some_and(|key| tables.usernames.contains_key(key)),
            email: email_moves && tables.emails.contains_key(updated.email.as_str()),
        };
        if conflicts.any() {
            return Err(UpdateUserError::Conflict(conflicts));
        }
        if username_moves {
            if let Some(key) = current.username_key() {
                tables.usernames.remove(key);
            }
            if let Some(key) = updated.username_key() {
                tables.usernames.insert(key.to_owned(), updated.id);
            }
        }
        if email_moves {
            tables.emails.remove(current.email.as_str());
            tables
                .emails
                .insert(updated.email.as_str().to_owned(), updated.id);
        }
        tables.users.insert(updated.id, updated.clone());
        tables.audit.push(audit.clone());
        tables.outbox.extend_from_slice(events);
        Ok(())
    }

    async fn change_password(&self, change: &PasswordChange<'_>) -> Result<(), UpdateUserError> {
        let PasswordChange {
            user,
            hash,
            keep,
            at,
            audit,
            events,
            reset,
        } = *change;
        let mut tables = self.lock();
        if let Some(token) = reset {
            if !tables.tokens.contains_key(&token.hash) {
                return Err(UpdateUserError::Stale);
            }
        }
        let Some(stored) = tables.users.get_mut(&user.id) else {
            return Err(UpdateUserError::Stale);
        };
        if stored.password_hash != user.password_hash {
            return Err(UpdateUserError::Stale);
        }
        stored.password_hash = hash.clone();
        stored.updated_at = at;
        if let Some(token) = reset {
            tables.tokens.remove(&token.hash);
        }
        tables.audit.push(audit.clone());
        tables.outbox.extend_from_slice(events);
        super::sessions::revoke_all(
            &mut tables,
            user.id,
            keep,
            RevokeReason::PasswordChanged,
            at,
        );
        Ok(())
    }
}
