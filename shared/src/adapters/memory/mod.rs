//! In-process adapters for local runs and fast tests. They keep DynamoDB's
//! semantics: all-or-nothing writes, per-claim conflicts, conditional
//! updates, strong reads.

mod account_data;
mod audit;
mod avatars;
mod billing;
mod credits;
mod directory;
mod ip_blocks;
mod notification_profile;
mod one_time;
mod phone_codes;
mod phone_users;
pub mod queue;
mod sessions;
mod tasks;
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
    phone_users: HashMap<UserId, crate::domain::PhoneUser>,
    /// E.164 → owner. In memory nothing is at rest, so the number itself
    /// is the key; the table keys the claim by keyed hash.
    phones: HashMap<String, UserId>,
    locations: HashMap<(UserId, crate::domain::LocationId), crate::domain::Location>,
    usernames: HashMap<String, UserId>,
    emails: HashMap<String, UserId>,
    audit: Vec<AuditRecord>,
    // B-trees, not hash maps, for what grows with every login and refresh:
    // a hash map's resize rehashes everything under the store's lock,
    // stalling every request for tens of milliseconds at a few hundred
    // thousand tokens (seen as p99 spikes in the load test).
    sessions: BTreeMap<(UserId, SessionId), Session>,
    refresh: BTreeMap<String, RefreshRecord>,
    devices: HashMap<(UserId, String), Device>,
    throttles: HashMap<String, LoginThrottle>,
    /// Throttle key → the account its identifier names (the table keeps
    /// this as the item's `owner`).
    throttle_owners: HashMap<String, UserId>,
    /// Fixed-window counters: key → (count, window end).
    counters: HashMap<String, (u32, OffsetDateTime)>,
    outbox: Vec<NotificationEvent>,
    tasks: HashMap<crate::domain::TaskId, crate::domain::Task>,
    /// One-time SMS codes (only their keyed hashes).
    phone_codes: HashMap<crate::domain::PhoneCodeKey, crate::domain::PhoneCodeRecord>,
    /// One-time tokens by hash.
    tokens: HashMap<String, crate::domain::OneTimeTokenRecord>,
    /// Accounts that never confirmed their email → created at.
    unverified: HashMap<UserId, OffsetDateTime>,
    pre_registrations: HashMap<String, crate::ports::one_time::PreRegistration>,
    /// Events whose notification was claimed by a worker.
    delivered: std::collections::HashSet<uuid::Uuid>,
    preferences: HashMap<UserId, crate::domain::preferences::Preferences>,
    push_tokens: BTreeMap<
        (UserId, crate::domain::push_token::PushTokenId),
        crate::domain::push_token::PushToken,
    >,
    /// Token hash → the token holding it.
    push_claims: HashMap<String, (UserId, crate::domain::push_token::PushTokenId)>,
    /// Accounts being deleted → their task and when it began.
    deletions: HashMap<UserId, (crate::domain::TaskId, OffsetDateTime)>,
    /// Network → its block, ordered by network as `list` returns them.
    ip_blocks: BTreeMap<ipnet::IpNet, crate::domain::ip_block::IpBlock>,
    /// Each user's credit balance and ledger.
    ledgers: HashMap<UserId, credits::Ledger>,
    /// Posting idempotency keys applied.
    credit_once: std::collections::HashSet<String>,
    /// Paid packs by payment intent.
    purchases: HashMap<String, crate::domain::Purchase>,
    avatars: HashMap<UserId, crate::domain::avatar::Avatar>,
    /// Each user's Stripe customer id.
    stripe_customers: HashMap<UserId, String>,
}

impl Tables {
    /// A window's count. Keys name their window, so a new window starts
    /// at zero by itself; the end time only matters for clean-up.
    fn counter(&self, key: &str) -> u32 {
        self.counters.get(key).map_or(0, |(count, _)| *count)
    }

    /// Counts one event in a fixed window unless it is full.
    fn charge(&mut self, window: &crate::domain::RateWindow) -> bool {
        let count = self.counter(&window.key);
        if count >= window.max {
            return false;
        }
        self.counters
            .insert(window.key.clone(), (count + 1, window.ends_at));
        true
    }

    fn account(&self, id: UserId) -> Option<crate::domain::Account> {
        use crate::domain::Account;
        self.users
            .get(&id)
            .cloned()
            .map(Account::Member)
            .or_else(|| self.phone_users.get(&id).cloned().map(Account::Phone))
    }
}

/// Every in-memory port over one set of tables, as the DynamoDB adapters
/// share one table.
pub struct MemoryStore {
    tables: Mutex<Tables>,
    /// Keys generated for this process: what the functions over this store
    /// seal SMS codes with (the table's twin keeps numbers in clear, since
    /// nothing in memory is at rest).
    phone_keys: std::sync::Arc<crate::crypto::phone_crypto::PhoneKeyRing>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        use crate::crypto::phone_crypto::{PhoneKeyRing, PhoneKeys};
        Self {
            tables: Mutex::default(),
            phone_keys: std::sync::Arc::new(PhoneKeyRing::fixed(PhoneKeys::generate(
                OffsetDateTime::now_utc(),
            ))),
        }
    }

    pub fn phone_keys(&self) -> std::sync::Arc<crate::crypto::phone_crypto::PhoneKeyRing> {
        self.phone_keys.clone()
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

    async fn pending_before(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<NotificationEvent>, StoreError> {
        let mut events = self.pending().await?;
        events.retain(|e| e.occurred_at < before);
        events.truncate(limit);
        Ok(events)
    }

    async fn remove(&self, events: &[NotificationEvent]) -> Result<(), StoreError> {
        self.lock()
            .outbox
            .retain(|e| !events.iter().any(|gone| gone.id == e.id));
        Ok(())
    }
}
