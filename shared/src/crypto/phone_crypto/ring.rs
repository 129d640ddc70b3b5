//! The phone keys of one function instance: read from their secret on
//! first use (functions that never touch a phone number never read it),
//! then kept. Keys are only ever added, so the set in hand stays good for
//! encrypting; a stored value under a kid this instance has not seen (a key
//! added after its cold start) makes it read the secret again, at most
//! once per `UNKNOWN_KID_RELOAD_INTERVAL`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, RwLock};

use super::{PhoneKeys, PhoneKeysLoadError};
use crate::ports::secrets::SecretSource;
use crate::ports::StoreError;

/// A flood of values under a bogus kid costs at most one secret read per
/// this interval.
pub const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

struct Origin {
    source: Arc<dyn SecretSource>,
    secret_id: String,
}

pub struct PhoneKeyRing {
    /// `None` for fixed keys.
    origin: Option<Origin>,
    cache: RwLock<Option<Arc<PhoneKeys>>>,
    /// Held while the secret is read; when the last read forced by an
    /// unknown kid started.
    loading: Mutex<Option<Instant>>,
}

impl PhoneKeyRing {
    /// Keys that never change (local runs, tests).
    pub fn fixed(keys: PhoneKeys) -> Self {
        Self {
            origin: None,
            cache: RwLock::new(Some(Arc::new(keys))),
            loading: Mutex::new(None),
        }
    }

    /// Keys read from secret `secret_id` when first needed.
    pub fn from_secret(source: Arc<dyn SecretSource>, secret_id: impl Into<String>) -> Self {
        Self {
            origin: Some(Origin {
                source,
                secret_id: secret_id.into(),
            }),
            cache: RwLock::new(None),
            loading: Mutex::new(None),
        }
    }

    /// The keys, read on first use.
    pub async fn current(&self) -> Result<Arc<PhoneKeys>, PhoneKeysLoadError> {
        if let Some(keys) = &*self.cache.read().await {
            return Ok(keys.clone());
        }
        let _loading = self.loading.lock().await;
        // Whoever held the lock before us may have loaded them.
        if let Some(keys) = &*self.cache.read().await {
            return Ok(keys.clone());
        }
        self.load().await
    }

    /// Keys that know every kid in `kids`: the current ones, or, when one
    /// is missing, the secret read again (rate limited). The caller gets an
    /// `UnknownKey` error from decryption if the kid is still unknown.
    pub async fn covering(&self, kids: &[&str]) -> Result<Arc<PhoneKeys>, PhoneKeysLoadError> {
        let keys = self.current().await?;
        if self.origin.is_none() || kids.iter().all(|kid| keys.knows(kid)) {
            return Ok(keys);
        }
        let mut loading = self.loading.lock().await;
        if let Some(keys) = &*self.cache.read().await {
            let recent = loading.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD_INTERVAL);
            if recent || kids.iter().all(|kid| keys.knows(kid)) {
                return Ok(keys.clone());
            }
        }
        *loading = Some(Instant::now());
        match self.load().await {
            Ok(keys) => Ok(keys),
            // The keys in hand still decrypt everything they did.
            Err(error) => {
                tracing::warn!(error = %crate::telemetry::error_chain(&error), "reloading the phone keys failed");
                Ok(keys)
            }
        }
    }

    /// Reads the secret into the cache. Callers hold `loading`.
    async fn load(&self) -> Result<Arc<PhoneKeys>, PhoneKeysLoadError> {
        let Some(origin) = &self.origin else {
            return self.cache.read().await.clone().ok_or_else(|| {
                PhoneKeysLoadError::Source(StoreError::internal("the phone key ring is empty"))
            });
        };
        let keys =
            Arc::new(PhoneKeys::from_source(origin.source.as_ref(), &origin.secret_id).await?);
        tracing::debug!(secret_id = %origin.secret_id, keys = keys.kids().len(), "phone keys loaded");
        *self.cache.write().await = Some(keys.clone());
        Ok(keys)
    }
}

impl std::fmt::Debug for PhoneKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneKeyRing")
            .field(
                "secret_id",
                &self.origin.as_ref().map(|o| o.secret_id.as_str()),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory_secrets::StaticSecrets;
    use time::OffsetDateTime;

    #[tokio::test]
    async fn loads_once_and_reloads_for_a_new_kid() {
        let first = PhoneKeys::generate(OffsetDateTime::now_utc());
        let secrets = Arc::new(StaticSecrets::new());
        secrets.put("phone", first.to_secret_json());
        let ring = PhoneKeyRing::from_secret(secrets.clone(), "phone");
        let loaded = ring.current().await.unwrap();
        assert_eq!(loaded.current_kid(), first.current_kid());

        let rotated = first.rotate(OffsetDateTime::now_utc() + time::Duration::days(1));
        secrets.put("phone", rotated.to_secret_json());
        // Known kids: no reload.
        let same = ring.covering(&[first.current_kid()]).await.unwrap();
        assert_eq!(same.current_kid(), first.current_kid());
        // A kid it has not seen: read again.
        let fresh = ring.covering(&[rotated.current_kid()]).await.unwrap();
        assert_eq!(fresh.current_kid(), rotated.current_kid());
        // A bogus kid right after: no second read within the interval.
        secrets.put("phone", first.to_secret_json());
        let kept = ring.covering(&["bogus"]).await.unwrap();
        assert_eq!(kept.current_kid(), rotated.current_kid());
    }

    #[tokio::test]
    async fn a_missing_secret_is_an_error_until_it_appears() {
        let secrets = Arc::new(StaticSecrets::new());
        let ring = PhoneKeyRing::from_secret(secrets.clone(), "phone");
        assert!(ring.current().await.is_err());
        secrets.put(
            "phone",
            PhoneKeys::generate(OffsetDateTime::now_utc()).to_secret_json(),
        );
        assert!(ring.current().await.is_ok());
    }
}
