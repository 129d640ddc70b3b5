//! Where the IP block list is kept, and the per-instance cache the request
//! path reads it through.
//!
//! The cache follows the key ring (`session_tokens::keyring`): loaded on first
//! use, reloaded every `refresh_after` so operators' changes reach every
//! warm instance without a redeploy. A failed reload keeps the list the
//! instance has (a store hiccup must not unblock anyone, nor fail every
//! sign-up); only an instance that never loaded the list fails, and its
//! caller answers 503. One reload runs at a time; while it runs, other
//! callers get the previous list instead of waiting.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ipnet::IpNet;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use crate::domain::ip_block::{IpBlock, IpBlockList};
use crate::ports::StoreError;
use crate::telemetry::error_chain;

/// How long an instance uses the list before reading it again.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(60);

/// After a failed reload, how soon the next one is tried (at most
/// `refresh_after`): soon, but not on every request.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

#[async_trait]
pub trait IpBlockStore: Send + Sync {
    /// Every block, ordered by network.
    async fn list(&self) -> Result<Vec<IpBlock>, StoreError>;

    /// Adds the block, or replaces the entry of the same network (reason,
    /// time and author are the new ones): adding twice is harmless.
    async fn add(&self, block: &IpBlock) -> Result<(), StoreError>;

    /// Removes the block of exactly this network; whether there was one.
    async fn remove(&self, network: &IpNet) -> Result<bool, StoreError>;
}

struct Cached {
    list: Arc<IpBlockList>,
    /// `None`: never stale (a refresh interval too large to represent).
    fresh_until: Option<Instant>,
}

impl Cached {
    fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_none_or(|until| now < until)
    }
}

/// The block list of one function instance.
pub struct BlockListCache {
    store: Arc<dyn IpBlockStore>,
    refresh_after: Duration,
    cache: RwLock<Option<Cached>>,
    /// Held while the store is read, so reloads never overlap.
    reloading: Mutex<()>,
}

impl BlockListCache {
    pub fn new(store: Arc<dyn IpBlockStore>, refresh_after: Duration) -> Self {
        Self {
            store,
            refresh_after,
            cache: RwLock::new(None),
            reloading: Mutex::new(()),
        }
    }

    /// The block holding `ip`, if any. No address (a request API Gateway
    /// did not name a source for) is not blocked.
    pub async fn check(&self, ip: Option<IpAddr>) -> Result<Option<IpBlock>, StoreError> {
        let Some(ip) = ip else {
            return Ok(None);
        };
        Ok(self.current().await?.contains(ip).cloned())
    }

    /// The list: loaded on first use, reloaded once `refresh_after` has
    /// passed. Fails only when no list was ever loaded.
    pub async fn current(&self) -> Result<Arc<IpBlockList>, StoreError> {
        let stale = match &*self.cache.read().await {
            Some(cached) if cached.is_fresh(Instant::now()) => return Ok(cached.list.clone()),
            Some(cached) => Some(cached.list.clone()),
            None => None,
        };
        let _reloading = match stale {
            Some(stale) => match self.reloading.try_lock() {
                Ok(guard) => guard,
                // Another caller is reloading: the previous list will do.
                Err(_) => return Ok(stale),
            },
            None => {
                let guard = self.reloading.lock().await;
                // Whatever the caller before us loaded while we waited is as
                // fresh as a read of our own would be.
                if let Some(cached) = &*self.cache.read().await {
                    return Ok(cached.list.clone());
                }
                guard
            }
        };
        // The caller before us may have just reloaded.
        if let Some(cached) = &*self.cache.read().await {
            if cached.is_fresh(Instant::now()) {
                return Ok(cached.list.clone());
            }
        }
        self.reload().await
    }

    /// Reads the store into the cache; on failure keeps what is cached and
    /// tries again after `RETRY_AFTER_FAILURE`. Callers hold `reloading`.
    async fn reload(&self) -> Result<Arc<IpBlockList>, StoreError> {
        let loaded = self.store.list().await;
        let mut cache = self.cache.write().await;
        match loaded {
            Ok(blocks) => {
                let list = Arc::new(IpBlockList::new(blocks));
                tracing::debug!(entries = list.len(), "IP block list loaded");
                *cache = Some(Cached {
                    list: list.clone(),
                    fresh_until: Instant::now().checked_add(self.refresh_after),
                });
                Ok(list)
            }
            Err(error) => match cache.as_mut() {
                Some(cached) => {
                    tracing::warn!(
                        error = %error_chain(&error),
                        entries = cached.list.len(),
                        "reloading the IP block list failed; keeping the previous list"
                    );
                    let retry = self.refresh_after.min(RETRY_AFTER_FAILURE);
                    cached.fresh_until = Instant::now().checked_add(retry);
                    Ok(cached.list.clone())
                }
                None => Err(error),
            },
        }
    }
}

impl std::fmt::Debug for BlockListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockListCache")
            .field("refresh_after", &self.refresh_after)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryStore;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use time::macros::datetime;
    use tokio::sync::Semaphore;

    const REFRESH: Duration = Duration::from_secs(60);

    /// A memory store that counts reads, can be made to fail, and can hold
    /// reads until the test lets them through.
    struct ProbeStore {
        inner: MemoryStore,
        reads: AtomicUsize,
        failing: AtomicBool,
        gate: Option<Semaphore>,
    }

    impl ProbeStore {
        fn new(gate: Option<Semaphore>) -> Arc<Self> {
            Arc::new(Self {
                inner: MemoryStore::new(),
                reads: AtomicUsize::new(0),
                failing: AtomicBool::new(false),
                gate,
            })
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }

        async fn block(&self, network: &str) {
            let at = datetime!(2025-05-01 08:00 UTC);
            let block = IpBlock::new(network, "test", None, at).unwrap();
            self.inner.add(&block).await.unwrap();
        }
    }

    #[async_trait]
    impl IpBlockStore for ProbeStore {
        async fn list(&self) -> Result<Vec<IpBlock>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.acquire().await.expect("gate open").forget();
            }
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("throttled".into()));
            }
            self.inner.list().await
        }

        async fn add(&self, block: &IpBlock) -> Result<(), StoreError> {
            self.inner.add(block).await
        }

        async fn remove(&self, network: &IpNet) -> Result<bool, StoreError> {
            self.inner.remove(network).await
        }
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn reloads_only_after_the_refresh_interval() {
        let store = ProbeStore::new(None);
        store.block("192.0.2.1").await;
        let cache = BlockListCache::new(store.clone(), REFRESH);
        assert_eq!(store.reads(), 0, "nothing is read before first use");
        assert!(cache.check(ip("192.0.2.1")).await.unwrap().is_some());

        store.block("192.0.2.2").await;
        tokio::time::advance(REFRESH - Duration::from_secs(1)).await;
        assert!(cache.check(ip("192.0.2.2")).await.unwrap().is_none());
        assert_eq!(store.reads(), 1);

        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.check(ip("192.0.2.2")).await.unwrap().is_some());
        assert_eq!(store.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_reload_keeps_the_list_and_retries_later() {
        let store = ProbeStore::new(None);
        store.block("192.0.2.1").await;
        let cache = BlockListCache::new(store.clone(), REFRESH);
        cache.check(None).await.unwrap();
        assert_eq!(store.reads(), 0, "no address, nothing to look up");
        cache.check(ip("192.0.2.9")).await.unwrap();

        store.failing.store(true, Ordering::SeqCst);
        tokio::time::advance(REFRESH).await;
        assert!(cache.check(ip("192.0.2.1")).await.unwrap().is_some());
        assert_eq!(store.reads(), 2);
        // Not retried on every call...
        cache.check(ip("192.0.2.1")).await.unwrap();
        assert_eq!(store.reads(), 2);
        // ...but soon.
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        store.failing.store(false, Ordering::SeqCst);
        store.block("192.0.2.2").await;
        assert!(cache.check(ip("192.0.2.2")).await.unwrap().is_some());
        assert_eq!(store.reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn fails_only_while_nothing_was_ever_loaded() {
        let store = ProbeStore::new(None);
        store.failing.store(true, Ordering::SeqCst);
        let cache = BlockListCache::new(store.clone(), REFRESH);
        assert!(matches!(
            cache.check(ip("192.0.2.1")).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(cache.check(ip("192.0.2.1")).await.is_err());
        assert_eq!(store.reads(), 2, "with nothing to serve, every call tries");
        assert!(cache.check(None).await.unwrap().is_none());

        store.failing.store(false, Ordering::SeqCst);
        assert!(cache.check(ip("192.0.2.1")).await.unwrap().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_stale_list_is_served_while_another_caller_reloads() {
        let store = ProbeStore::new(Some(Semaphore::new(1)));
        store.block("192.0.2.1").await;
        let cache = Arc::new(BlockListCache::new(store.clone(), REFRESH));
        cache.current().await.unwrap();

        store.block("192.0.2.2").await;
        tokio::time::advance(REFRESH).await;
        let reloader = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.check(ip("192.0.2.2")).await.unwrap() })
        };
        while store.reads() < 2 {
            tokio::task::yield_now().await;
        }
        // The reload is held at the gate: this call must not wait for it.
        let served = tokio::time::timeout(Duration::from_secs(1), cache.check(ip("192.0.2.2")))
            .await
            .expect("did not wait for the reload")
            .unwrap();
        assert!(served.is_none(), "the previous list does not have it yet");

        store.gate.as_ref().unwrap().add_permits(1);
        assert!(reloader.await.unwrap().is_some());
        assert!(cache.check(ip("192.0.2.2")).await.unwrap().is_some());
        assert_eq!(store.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_interval_never_goes_stale() {
        let store = ProbeStore::new(None);
        let cache = BlockListCache::new(store.clone(), Duration::MAX);
        cache.current().await.unwrap();
        tokio::time::advance(Duration::from_secs(10 * 365 * 86_400)).await;
        cache.current().await.unwrap();
        assert_eq!(store.reads(), 1);
        assert!(format!("{cache:?}").contains("refresh_after"));
    }
}
