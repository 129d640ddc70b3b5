//! In-process adapters for local runs and fast tests. They keep DynamoDB's
//! semantics: all-or-nothing creation, per-claim conflicts, strong reads.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::Date;

use crate::domain::{AuditRecord, User, UserId};
use crate::ports::{AuditLog, Conflicts, CreateUserError, HealthProbe, StoreError, UserStore};

#[derive(Default)]
struct Tables {
    users: HashMap<UserId, User>,
    usernames: HashMap<String, UserId>,
    emails: HashMap<String, UserId>,
    audit: Vec<AuditRecord>,
}

/// Every in-memory port over one set of tables, as the DynamoDB adapters
/// share one table.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-applied write
        // (each write checks first, then mutates), so poisoning is ignored.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create(&self, user: &User, audit: &AuditRecord) -> Result<(), CreateUserError> {
        let mut tables = self.lock();
        let conflicts = Conflicts {
            username: tables.usernames.contains_key(user.username.key()),
            email: tables.emails.contains_key(user.email.as_str()),
        };
        if conflicts.any() {
            return Err(CreateUserError::Conflict(conflicts));
        }
        if tables.users.contains_key(&user.id) {
            return Err(StoreError::internal("user id already exists").into());
        }
        tables
            .usernames
            .insert(user.username.key().to_owned(), user.id);
        tables
            .emails
            .insert(user.email.as_str().to_owned(), user.id);
        tables.users.insert(user.id, user.clone());
        tables.audit.push(audit.clone());
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

    async fn find_by_username(&self, username_key: &str) -> Result<Option<UserId>, StoreError> {
        Ok(self.lock().usernames.get(username_key).copied())
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserId>, StoreError> {
        Ok(self.lock().emails.get(email).copied())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.lock().audit.push(record.clone());
        Ok(())
    }

    async fn list_day(&self, day: Date) -> Result<Vec<AuditRecord>, StoreError> {
        let mut records: Vec<AuditRecord> = self
            .lock()
            .audit
            .iter()
            .filter(|r| r.at.date() == day)
            .cloned()
            .collect();
        records.sort_by_key(|r| (r.at, r.id));
        Ok(records)
    }
}

#[async_trait]
impl HealthProbe for MemoryStore {
    fn name(&self) -> &'static str {
        "table"
    }

    async fn check(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
