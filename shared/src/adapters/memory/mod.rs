//! In-process adapters for local runs and fast tests. They keep DynamoDB's
//! semantics: all-or-nothing writes, per-claim conflicts, conditional
//! updates, strong reads.

mod audit;
mod ip_blocks;
mod sessions;
mod users;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    AuditRecord, Device, LoginThrottle, NotificationEvent, RefreshRecord, Session, SessionId, User,
    UserId,
};
use crate::ports::{HealthProbe, Outbox, StoreError};

#[derive(Default)]
struct Tables {
    users: HashMap<UserId, User>,
    usernames: HashMap<String, UserId>,
    emails: HashMap<String, UserId>,
    audit: Vec<AuditRecord>,
    sessions: HashMap<(UserId, SessionId), Session>,
    refresh: HashMap<String, RefreshRecord>,
    devices: HashMap<(UserId, String), Device>,
    throttles: HashMap<String, LoginThrottle>,
    /// Fixed-window counters: key → (count, window end).
    counters: HashMap<String, (u32, OffsetDateTime)>,
    outbox: Vec<NotificationEvent>,
    /// Network → its block, ordered by network as `list` returns them.
    ip_blocks: BTreeMap<ipnet::IpNet, crate::domain::ip_block::IpBlock>,
}

impl Tables {
    /// A window's count. Keys name their window, so a new window starts
    /// at zero by itself; the end time only matters for clean-up.
    fn counter(&self, key: &str) -> u32 {
        self.counters.get(key).map_or(0, |(count, _)| *count)
    }
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
        // Every write checks all its conditions before it mutates anything,
        // so a panic cannot leave half a write behind: poisoning is ignored.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

#[async_trait]
impl Outbox for MemoryStore {
    async fn pending(&self) -> Result<Vec<NotificationEvent>, StoreError> {
        let mut events = self.lock().outbox.clone();
        events.sort_by_key(|e| (e.occurred_at, e.id));
        Ok(events)
    }
}
