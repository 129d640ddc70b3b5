//! The IP block list on every adapter: the store contract, and matching
//! through the per-instance cache the sign-up will use (refresh, failed
//! reloads, concurrent cold starts).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use integration_tests::Backend;
use shared::domain::ip_block::{IpBlock, IpNet};
use shared::ports::ip_blocks::{BlockListCache, IpBlockStore};
use shared::ports::StoreError;
use time::macros::datetime;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

const AT: OffsetDateTime = datetime!(2025-05-01 08:00:00.123456 UTC);
const LONG: Duration = Duration::from_secs(3600);

fn block(network: &str, reason: &str) -> IpBlock {
    IpBlock::new(network, reason, Some("tests"), AT).unwrap()
}

fn net(raw: &str) -> IpNet {
    IpBlock::parse_network(raw).unwrap()
}

fn ip(raw: &str) -> Option<IpAddr> {
    Some(raw.parse().unwrap())
}

fn networks(blocks: &[IpBlock]) -> Vec<String> {
    blocks.iter().map(|b| b.network.to_string()).collect()
}

/// The network of the entry blocking `address`, if any.
async fn blocked_by(cache: &BlockListCache, address: &str) -> Option<String> {
    cache
        .check(ip(address))
        .await
        .unwrap()
        .map(|b| b.network.to_string())
}

/// The backend's store, counting reads; it can be made to fail, and can
/// hold reads until the test lets them through.
struct ProbeStore {
    inner: Arc<dyn IpBlockStore>,
    reads: AtomicUsize,
    failing: AtomicBool,
    gate: Option<Semaphore>,
}

impl ProbeStore {
    fn new(backend: &Backend, gate: Option<Semaphore>) -> Arc<Self> {
        Arc::new(Self {
            inner: backend.stores.ip_blocks_handle(),
            reads: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
            gate,
        })
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
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

async fn added_blocks_list_back_identically_in_network_order(backend: &Backend) {
    let store = backend.stores.ip_blocks();
    assert!(store.list().await.unwrap().is_empty());
    let wanted = [
        block("2001:db8:abcd::/48", "botnet"),
        block("9.9.9.9", "one address"),
        block("10.0.0.0/8", "internal"),
        block("2001:db8::1", "one v6 address"),
        IpBlock {
            created_by: None,
            ..block("0.0.0.0/0", "everything v4")
        },
    ];
    for entry in &wanted {
        store.add(entry).await.unwrap();
    }
    let listed = store.list().await.unwrap();
    assert_eq!(
        networks(&listed),
        [
            "0.0.0.0/0",
            "9.9.9.9/32",
            "10.0.0.0/8",
            "2001:db8::1/128",
            "2001:db8:abcd::/48"
        ]
    );
    for entry in &wanted {
        assert!(listed.contains(entry), "{entry:?} not read back as written");
    }
}

async fn adding_again_replaces_the_entry(backend: &Backend) {
    let store = backend.stores.ip_blocks();
    store.add(&block("192.0.2.0/24", "first")).await.unwrap();
    let later = IpBlock {
        created_at: AT + time::Duration::hours(1),
        created_by: Some("bob".into()),
        ..block("192.0.2.0/24", "second")
    };
    store.add(&later).await.unwrap();
    assert_eq!(store.list().await.unwrap(), [later]);
}

async fn remove_says_whether_an_entry_existed(backend: &Backend) {
    let store = backend.stores.ip_blocks();
    assert!(!store.remove(&net("192.0.2.1")).await.unwrap());
    store.add(&block("192.0.2.1", "x")).await.unwrap();
    store.add(&block("192.0.2.0/24", "y")).await.unwrap();
    assert!(store.remove(&net("192.0.2.1")).await.unwrap());
    assert!(!store.remove(&net("192.0.2.1")).await.unwrap());
    // Only the exact network is removed, not the range around it.
    assert!(!store.remove(&net("192.0.2.0/25")).await.unwrap());
    assert_eq!(networks(&store.list().await.unwrap()), ["192.0.2.0/24"]);
}

async fn entries_are_keyed_by_their_canonical_network(backend: &Backend) {
    let store = backend.stores.ip_blocks();
    // Built by hand, not parsed: host bits set, IPv4 written mapped.
    let sloppy = IpBlock {
        network: "::ffff:203.0.113.7/120".parse().unwrap(),
        ..block("203.0.113.0/24", "sloppy")
    };
    store.add(&sloppy).await.unwrap();
    assert_eq!(networks(&store.list().await.unwrap()), ["203.0.113.0/24"]);
    let also_sloppy: IpNet = "203.0.113.99/24".parse().unwrap();
    assert!(store.remove(&also_sloppy).await.unwrap());
    assert!(store.list().await.unwrap().is_empty());
}

/// DynamoDB only: the item shape other tools (and people) read.
#[tokio::test]
async fn dynamodb_items_have_the_documented_layout() {
    let backend = Backend::dynamo().await;
    let table = backend.dynamo.as_ref().expect("a DynamoDB backend");
    let store = backend.stores.ip_blocks();
    store
        .add(&block("2001:DB8:0::7/64", "v6 range"))
        .await
        .unwrap();
    store
        .add(&IpBlock {
            created_by: None,
            ..block("198.51.100.7", "v4 address")
        })
        .await
        .unwrap();
    let mut items = integration_tests::dynamodb::scan_all(table).await;
    items.sort_by_key(|item| item["SK"].as_s().unwrap().clone());
    let text = |item: &std::collections::HashMap<_, _>, name: &str| {
        item.get(name)
            .map(|v: &aws_sdk_dynamodb::types::AttributeValue| v.as_s().unwrap().clone())
    };
    assert_eq!(items.len(), 2);
    let (v4, v6) = (&items[0], &items[1]);
    for (item, network) in [(v4, "198.51.100.7/32"), (v6, "2001:db8::/64")] {
        assert_eq!(text(item, "PK").as_deref(), Some("IPBLOCK"));
        assert_eq!(text(item, "SK").as_deref(), Some(network));
        assert_eq!(text(item, "network").as_deref(), Some(network));
        assert_eq!(text(item, "entity").as_deref(), Some("ip_block"));
        assert_eq!(
            text(item, "created_at").as_deref(),
            Some("2025-05-01T08:00:00.123456Z")
        );
    }
    assert_eq!(text(v6, "reason").as_deref(), Some("v6 range"));
    assert_eq!(text(v6, "created_by").as_deref(), Some("tests"));
    assert!(!v4.contains_key("created_by"), "absent, not null");
}

async fn the_cache_matches_addresses_and_ranges_of_both_families(backend: &Backend) {
    let store = backend.stores.ip_blocks();
    for entry in [
        block("203.0.113.7", "v4 address"),
        block("198.51.100.0/24", "v4 range"),
        block("2001:db8::1", "v6 address"),
        block("2001:db8:abcd::/48", "v6 range"),
    ] {
        store.add(&entry).await.unwrap();
    }
    let cache = BlockListCache::new(backend.stores.ip_blocks_handle(), LONG);
    let cases = [
        ("203.0.113.7", Some("203.0.113.7/32")),
        ("203.0.113.8", None),
        ("198.51.100.0", Some("198.51.100.0/24")),
        ("198.51.100.255", Some("198.51.100.0/24")),
        ("198.51.101.0", None),
        ("198.51.99.255", None),
        ("::ffff:198.51.100.20", Some("198.51.100.0/24")),
        ("2001:db8::1", Some("2001:db8::1/128")),
        ("2001:db8::2", None),
        ("2001:db8:abcd:ffff::1", Some("2001:db8:abcd::/48")),
        ("2001:db8:abce::", None),
    ];
    for (address, expected) in cases {
        assert_eq!(
            blocked_by(&cache, address).await.as_deref(),
            expected,
            "{address}"
        );
    }
    let hit = cache.check(ip("198.51.100.9")).await.unwrap().unwrap();
    assert_eq!(hit.reason, "v4 range");
    assert_eq!(cache.check(None).await.unwrap(), None);
}

async fn the_cache_rereads_the_store_after_its_interval(backend: &Backend) {
    let store = ProbeStore::new(backend, None);
    let eager = BlockListCache::new(store.clone(), Duration::ZERO);
    let lazy = BlockListCache::new(store.clone(), LONG);
    assert_eq!(blocked_by(&eager, "192.0.2.1").await, None);
    assert_eq!(blocked_by(&lazy, "192.0.2.1").await, None);
    assert_eq!(store.reads(), 2);

    store.add(&block("192.0.2.1", "new")).await.unwrap();
    assert_eq!(
        blocked_by(&eager, "192.0.2.1").await.as_deref(),
        Some("192.0.2.1/32")
    );
    assert_eq!(
        blocked_by(&lazy, "192.0.2.1").await,
        None,
        "within its interval the cache is not read again"
    );
    assert_eq!(store.reads(), 3);

    store.remove(&net("192.0.2.1")).await.unwrap();
    assert_eq!(blocked_by(&eager, "192.0.2.1").await, None);
}

async fn a_failing_store_keeps_the_previous_list(backend: &Backend) {
    let store = ProbeStore::new(backend, None);
    store.add(&block("192.0.2.1", "old")).await.unwrap();
    let cache = BlockListCache::new(store.clone(), Duration::ZERO);
    assert!(blocked_by(&cache, "192.0.2.1").await.is_some());

    store.fail(true);
    store.remove(&net("192.0.2.1")).await.unwrap();
    store.add(&block("192.0.2.2", "new")).await.unwrap();
    assert!(
        blocked_by(&cache, "192.0.2.1").await.is_some(),
        "a failed reload must not unblock anyone"
    );
    assert!(blocked_by(&cache, "192.0.2.2").await.is_none());
    let reads_while_failing = store.reads();

    store.fail(false);
    assert!(blocked_by(&cache, "192.0.2.1").await.is_none());
    assert!(blocked_by(&cache, "192.0.2.2").await.is_some());
    assert!(store.reads() > reads_while_failing);
}

async fn a_cold_cache_fails_while_the_store_does(backend: &Backend) {
    let store = ProbeStore::new(backend, None);
    store.add(&block("192.0.2.1", "x")).await.unwrap();
    store.fail(true);
    let cache = BlockListCache::new(store.clone(), LONG);
    let error = cache.check(ip("192.0.2.1")).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    // No address: nothing to look up, so no store needed.
    assert_eq!(cache.check(None).await.unwrap(), None);

    store.fail(false);
    assert!(blocked_by(&cache, "192.0.2.1").await.is_some());
}

async fn concurrent_checks_on_a_cold_cache_read_the_store_once(backend: &Backend) {
    let store = ProbeStore::new(backend, Some(Semaphore::new(0)));
    store.add(&block("192.0.2.0/24", "x")).await.unwrap();
    let cache = Arc::new(BlockListCache::new(store.clone(), LONG));
    let callers: Vec<_> = (0..50)
        .map(|i| {
            let cache = cache.clone();
            tokio::spawn(async move { blocked_by(&cache, &format!("192.0.2.{i}")).await })
        })
        .collect();
    tokio::task::yield_now().await;
    store.gate.as_ref().unwrap().add_permits(50);
    for caller in callers {
        assert_eq!(caller.await.unwrap().as_deref(), Some("192.0.2.0/24"));
    }
    assert_eq!(store.reads(), 1);
}

integration_tests::contract_on_both_backends!(
    added_blocks_list_back_identically_in_network_order,
    adding_again_replaces_the_entry,
    remove_says_whether_an_entry_existed,
    entries_are_keyed_by_their_canonical_network,
    the_cache_matches_addresses_and_ranges_of_both_families,
    the_cache_rereads_the_store_after_its_interval,
    a_failing_store_keeps_the_previous_list,
    a_cold_cache_fails_while_the_store_does,
    concurrent_checks_on_a_cold_cache_read_the_store_once,
);
