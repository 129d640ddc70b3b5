//! The signing keys of one function instance: read from the secret once
//! per cold start, then again every `refresh_after`, so that a rotation
//! reaches every instance without a redeploy. A token signed by a key the
//! instance has not seen yet forces an early reload (at most every 30 s).
//!
//! A failed reload never takes a working instance down: it logs a warning
//! and keeps the keys it has. One reload runs at a time; while it runs,
//! other callers get the previous keys instead of waiting.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use time::OffsetDateTime;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use crate::ports::secrets::SecretSource;
use crate::ports::StoreError;
use crate::session_tokens::jwt::{verify, AccessClaims, SessionTokenSettings, TokenError};
use crate::session_tokens::keyset::{KeySet, KeySetError};
use crate::telemetry::error_chain;

/// The shortest time between two reloads forced by unknown `kid`s, so
/// garbage tokens cannot hammer Secrets Manager.
pub const UNKNOWN_KID_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// After a failed reload, how soon the next one is tried (at most
/// `refresh_after`): soon, but not on every request.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("could not read the signing keys")]
    Source(#[source] StoreError),
    #[error("the signing keys secret is not valid")]
    Invalid(#[source] KeySetError),
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the signing keys are unavailable")]
    Keys(#[from] KeyRingError),
}

impl VerifyError {
    pub fn is_expired(&self) -> bool {
        matches!(self, Self::Token(error) if error.is_expired())
    }
}

struct SecretOrigin {
    source: Arc<dyn SecretSource>,
    secret_id: String,
}

struct Cached {
    keys: Arc<KeySet>,
    /// `None`: never stale (fixed keys, or a refresh interval too large to
    /// represent).
    fresh_until: Option<Instant>,
}

impl Cached {
    fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_none_or(|until| now < until)
    }
}

pub struct KeyRing {
    /// `None` for a fixed key set.
    origin: Option<SecretOrigin>,
    refresh_after: Duration,
    cache: RwLock<Option<Cached>>,
    /// Held while the secret is read, so reloads never overlap; holds when
    /// the last reload forced by an unknown kid started.
    reloading: Mutex<Option<Instant>>,
}

impl KeyRing {
    pub fn new(
        source: Arc<dyn SecretSource>,
        secret_id: impl Into<String>,
        refresh_after: Duration,
    ) -> Self {
        Self {
            origin: Some(SecretOrigin {
                source,
                secret_id: secret_id.into(),
            }),
            refresh_after,
            cache: RwLock::new(None),
            reloading: Mutex::new(None),
        }
    }

    /// A ring that always holds `keys` (local runs, tests).
    pub fn fixed(keys: KeySet) -> Self {
        Self {
            origin: None,
            refresh_after: Duration::MAX,
            cache: RwLock::new(Some(Cached {
                keys: Arc::new(keys),
                fresh_until: None,
            })),
            reloading: Mutex::new(None),
        }
    }

    /// The current keys: loaded on first use, reloaded once `refresh_after`
    /// has passed. Fails only when no keys were ever loaded.
    pub async fn current(&self) -> Result<Arc<KeySet>, KeyRingError> {
        let stale = match &*self.cache.read().await {
            Some(cached) if cached.is_fresh(Instant::now()) => return Ok(cached.keys.clone()),
            Some(cached) => Some(cached.keys.clone()),
            None => None,
        };
        let _reloading = match stale {
            Some(stale) => match self.reloading.try_lock() {
                Ok(guard) => guard,
                // Another caller is reloading: the previous keys will do.
                Err(_) => return Ok(stale),
            },
            // Nothing to serve yet: wait for the load in progress, if any.
            None => self.reloading.lock().await,
        };
        // The caller before us may have just reloaded.
        if let Some(cached) = &*self.cache.read().await {
            if cached.is_fresh(Instant::now()) {
                return Ok(cached.keys.clone());
            }
        }
        self.reload().await
    }

    /// Reloads now, for a token signed by a key this instance has not seen
    /// yet; at most once per `UNKNOWN_KID_REFRESH_INTERVAL`, otherwise the
    /// current keys.
    pub async fn refresh_for_unknown_kid(&self) -> Result<Arc<KeySet>, KeyRingError> {
        if self.origin.is_none() {
            return self.current().await;
        }
        let mut last_forced = self.reloading.lock().await;
        let now = Instant::now();
        if last_forced.is_some_and(|at| now.duration_since(at) < UNKNOWN_KID_REFRESH_INTERVAL) {
            drop(last_forced);
            return self.current().await;
        }
        *last_forced = Some(now);
        self.reload().await
    }

    /// Reads the secret into the cache. On failure, keeps serving what is
    /// cached and tries again after `RETRY_AFTER_FAILURE`. Callers hold
    /// `reloading`.
    async fn reload(&self) -> Result<Arc<KeySet>, KeyRingError> {
        let Some(origin) = &self.origin else {
            return self.fixed_keys().await;
        };
        let loaded = origin
            .source
            .secret_string(&origin.secret_id)
            .await
            .map_err(KeyRingError::Source)
            .and_then(|secret| {
                KeySet::parse(secret.expose_secret()).map_err(KeyRingError::Invalid)
            });
        let mut cache = self.cache.write().await;
        match loaded {
            Ok(keys) => {
                let keys = Arc::new(keys);
                tracing::debug!(
                    secret_id = %origin.secret_id,
                    latest = keys.keys()[0].kid(),
                    keys = keys.keys().len(),
                    "signing keys loaded"
                );
                *cache = Some(Cached {
                    keys: keys.clone(),
                    fresh_until: Instant::now().checked_add(self.refresh_after),
                });
                Ok(keys)
            }
            Err(error) => match cache.as_mut() {
                Some(cached) => {
                    tracing::warn!(
                        secret_id = %origin.secret_id,
                        error = %error_chain(&error),
                        "reloading the signing keys failed; keeping the previous keys"
                    );
                    let retry = self.refresh_after.min(RETRY_AFTER_FAILURE);
                    cached.fresh_until = Instant::now().checked_add(retry);
                    Ok(cached.keys.clone())
                }
                None => Err(error),
            },
        }
    }

    async fn fixed_keys(&self) -> Result<Arc<KeySet>, KeyRingError> {
        match &*self.cache.read().await {
            Some(cached) => Ok(cached.keys.clone()),
            None => Err(KeyRingError::Source(StoreError::internal(
                "the key ring holds no keys",
            ))),
        }
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field(
                "secret_id",
                &self.origin.as_ref().map(|origin| origin.secret_id.as_str()),
            )
            .field("refresh_after", &self.refresh_after)
            .finish_non_exhaustive()
    }
}

/// Verifies an access token with the ring's keys. A token signed by a key
/// the ring does not hold triggers one forced reload (a rotation this
/// instance has not seen yet) and one more try.
pub async fn verify_access_token(
    ring: &KeyRing,
    settings: &SessionTokenSettings,
    token: &str,
    now: OffsetDateTime,
) -> Result<AccessClaims, VerifyError> {
    let keys = ring.current().await?;
    match verify(&keys, settings, token, now) {
        Err(TokenError::UnknownKey) => {
            let keys = ring.refresh_for_unknown_kid().await?;
            Ok(verify(&keys, settings, token, now)?)
        }
        verified => Ok(verified?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory_secrets::StaticSecrets;
    use crate::session_tokens::jwt::issue;
    use async_trait::async_trait;
    use secrecy::SecretString;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use time::macros::datetime;
    use tokio::sync::Semaphore;

    const SECRET: &str = "jwt-keys";
    const REFRESH: Duration = Duration::from_secs(300);
    const T0: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);

    /// `StaticSecrets` that counts reads, can be made to fail, and can hold
    /// reads until the test lets them through.
    struct ProbeSource {
        secrets: StaticSecrets,
        reads: AtomicUsize,
        failing: AtomicBool,
        gate: Option<Semaphore>,
    }

    impl ProbeSource {
        fn new(keys: &KeySet) -> Arc<Self> {
            Arc::new(Self::with_gate(keys, None))
        }

        fn with_gate(keys: &KeySet, gate: Option<Semaphore>) -> Self {
            Self {
                secrets: StaticSecrets::new().with(SECRET, keys.to_secret_json()),
                reads: AtomicUsize::new(0),
                failing: AtomicBool::new(false),
                gate,
            }
        }

        fn put(&self, keys: &KeySet) {
            self.secrets.put(SECRET, keys.to_secret_json());
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl SecretSource for ProbeSource {
        async fn secret_string(&self, id: &str) -> Result<SecretString, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.acquire().await.expect("gate open").forget();
            }
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("throttled".into()));
            }
            self.secrets.secret_string(id).await
        }
    }

    fn ring(source: &Arc<ProbeSource>) -> KeyRing {
        KeyRing::new(source.clone(), SECRET, REFRESH)
    }

    fn token(keys: &KeySet) -> String {
        let issued = issue(keys, &SessionTokenSettings::default(), "u", "s", T0).unwrap();
        issued.token.expose_secret().to_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn loads_once_then_again_after_the_refresh_interval() {
        let first = KeySet::generate(T0);
        let source = ProbeSource::new(&first);
        let ring = ring(&source);
        assert_eq!(source.reads(), 0, "nothing is read before first use");

        assert_eq!(
            ring.current().await.unwrap().latest().kid(),
            first.latest().kid()
        );
        tokio::time::advance(REFRESH - Duration::from_secs(1)).await;
        ring.current().await.unwrap();
        assert_eq!(source.reads(), 1);

        let rotated = first.rotate(T0);
        source.put(&rotated);
        assert_eq!(
            ring.current().await.unwrap().latest().kid(),
            first.latest().kid()
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        let current = ring.current().await.unwrap();
        assert_eq!(current.latest().kid(), rotated.latest().kid());
        assert!(current.find(first.latest().kid()).is_some(), "old key kept");
        assert_eq!(source.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_reload_keeps_the_keys_and_retries_later() {
        let keys = KeySet::generate(T0);
        let source = ProbeSource::new(&keys);
        let ring = ring(&source);
        ring.current().await.unwrap();

        source.failing.store(true, Ordering::SeqCst);
        tokio::time::advance(REFRESH).await;
        assert_eq!(
            ring.current().await.unwrap().latest().kid(),
            keys.latest().kid()
        );
        assert_eq!(source.reads(), 2);
        // Not retried on every call...
        ring.current().await.unwrap();
        assert_eq!(source.reads(), 2);
        // ...but soon.
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        source.failing.store(false, Ordering::SeqCst);
        let rotated = keys.rotate(T0);
        source.put(&rotated);
        assert_eq!(
            ring.current().await.unwrap().latest().kid(),
            rotated.latest().kid()
        );
        assert_eq!(source.reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn fails_only_when_nothing_was_ever_loaded() {
        let keys = KeySet::generate(T0);
        let source = ProbeSource::new(&keys);
        source.failing.store(true, Ordering::SeqCst);
        let ring = ring(&source);
        assert!(matches!(
            ring.current().await,
            Err(KeyRingError::Source(StoreError::Unavailable(_)))
        ));
        // With nothing to serve, every call tries again.
        source.failing.store(false, Ordering::SeqCst);
        assert!(ring.current().await.is_ok());

        let missing = KeyRing::new(source.clone(), "no-such-secret", REFRESH);
        assert!(matches!(
            missing.current().await,
            Err(KeyRingError::Source(StoreError::Internal(_)))
        ));

        let invalid = Arc::new(StaticSecrets::new().with(SECRET, r#"{"keys": []}"#));
        let ring = KeyRing::new(invalid, SECRET, REFRESH);
        assert!(matches!(
            ring.current().await,
            Err(KeyRingError::Invalid(KeySetError::Empty))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_first_calls_read_the_secret_once() {
        let keys = KeySet::generate(T0);
        let source = Arc::new(ProbeSource::with_gate(&keys, Some(Semaphore::new(0))));
        let ring = Arc::new(ring(&source));
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let ring = ring.clone();
                tokio::spawn(
                    async move { ring.current().await.map(|k| k.latest().kid().to_owned()) },
                )
            })
            .collect();
        tokio::task::yield_now().await;
        source.gate.as_ref().unwrap().add_permits(50);
        for caller in callers {
            assert_eq!(caller.await.unwrap().unwrap(), keys.latest().kid());
        }
        assert_eq!(source.reads(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn stale_keys_are_served_while_another_caller_reloads() {
        let keys = KeySet::generate(T0);
        let source = Arc::new(ProbeSource::with_gate(&keys, Some(Semaphore::new(1))));
        let ring = Arc::new(ring(&source));
        ring.current().await.unwrap();

        let rotated = keys.rotate(T0);
        source.put(&rotated);
        tokio::time::advance(REFRESH).await;
        let reloader = {
            let ring = ring.clone();
            tokio::spawn(async move { ring.current().await.unwrap().latest().kid().to_owned() })
        };
        while source.reads() < 2 {
            tokio::task::yield_now().await;
        }
        // The reload is held at the gate: this call must not wait for it.
        let served = tokio::time::timeout(Duration::from_secs(1), ring.current())
            .await
            .expect("did not wait for the reload")
            .unwrap();
        assert_eq!(served.latest().kid(), keys.latest().kid());

        source.gate.as_ref().unwrap().add_permits(1);
        assert_eq!(reloader.await.unwrap(), rotated.latest().kid());
        assert_eq!(
            ring.current().await.unwrap().latest().kid(),
            rotated.latest().kid()
        );
        assert_eq!(source.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_kids_force_a_reload_at_most_every_30_seconds() {
        let keys = KeySet::generate(T0);
        let source = ProbeSource::new(&keys);
        let ring = ring(&source);
        ring.current().await.unwrap();

        let rotated = keys.rotate(T0);
        source.put(&rotated);
        let refreshed = ring.refresh_for_unknown_kid().await.unwrap();
        assert_eq!(refreshed.latest().kid(), rotated.latest().kid());
        assert_eq!(source.reads(), 2);

        tokio::time::advance(UNKNOWN_KID_REFRESH_INTERVAL - Duration::from_secs(1)).await;
        ring.refresh_for_unknown_kid().await.unwrap();
        assert_eq!(source.reads(), 2, "rate limited");
        tokio::time::advance(Duration::from_secs(1)).await;
        ring.refresh_for_unknown_kid().await.unwrap();
        assert_eq!(source.reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn verification_picks_up_a_rotation_it_has_not_seen() {
        let keys = KeySet::generate(T0 - time::Duration::minutes(1));
        let source = ProbeSource::new(&keys);
        let ring = ring(&source);
        let settings = SessionTokenSettings::default();
        let old_token = token(&keys);
        verify_access_token(&ring, &settings, &old_token, T0)
            .await
            .unwrap();

        // Another instance signs with a key this one has not loaded yet.
        let rotated = keys.rotate(T0);
        source.put(&rotated);
        let new_token = token(&rotated);
        let claims = verify_access_token(&ring, &settings, &new_token, T0)
            .await
            .unwrap();
        assert_eq!(claims.sub, "u");
        assert_eq!(source.reads(), 2);
        assert!(verify_access_token(&ring, &settings, &old_token, T0)
            .await
            .is_ok());

        // A kid nobody has: refused, and the secret is not read again and
        // again.
        let stranger = token(&KeySet::generate(T0));
        for _ in 0..5 {
            let error = verify_access_token(&ring, &settings, &stranger, T0)
                .await
                .unwrap_err();
            assert!(
                matches!(error, VerifyError::Token(TokenError::UnknownKey)),
                "{error:?}"
            );
        }
        assert_eq!(source.reads(), 2);

        let late = T0 + time::Duration::hours(1);
        let expired = verify_access_token(&ring, &settings, &new_token, late)
            .await
            .unwrap_err();
        assert!(expired.is_expired());
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_ring_never_reloads() {
        let keys = KeySet::generate(T0);
        let kid = keys.latest().kid().to_owned();
        let ring = KeyRing::fixed(keys);
        tokio::time::advance(Duration::from_secs(10 * 365 * 86_400)).await;
        assert_eq!(ring.current().await.unwrap().latest().kid(), kid);
        assert_eq!(
            ring.refresh_for_unknown_kid().await.unwrap().latest().kid(),
            kid
        );
        assert!(format!("{ring:?}").contains("secret_id: None"));
    }
}
