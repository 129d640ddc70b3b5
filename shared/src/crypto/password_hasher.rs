//! Argon2id hashing off the async runtime's threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash as PhcHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version, ARGON2ID_IDENT};
use tokio::sync::Semaphore;

use crate::domain::{Password, PasswordHash};

/// OWASP's minimum for Argon2id: 19 MiB, two passes, one lane.
pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
pub const MIN_ITERATIONS: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: MIN_MEMORY_KIB,
            iterations: MIN_ITERATIONS,
            parallelism: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 settings below the minimum (19456 KiB, t=2, p=1) or invalid: {0}")]
    WeakSettings(String),
    #[error("password hashing failed: {0}")]
    Failed(String),
    #[error("password hashing task did not complete")]
    Aborted(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password with the same parameters, verified
    /// against when an account does not exist so that the answer takes as
    /// long as for a wrong password. Made on first use, not at cold start.
    dummy: Arc<tokio::sync::OnceCell<PasswordHash>>,
    /// Each hash holds `memory_kib` of RAM: bound how many run at once so a
    /// burst of sign-ups cannot exhaust memory.
    permits: Arc<Semaphore>,
    /// Argon2 working memory, reused: at most one buffer per permit. Fresh
    /// 19 MiB allocations per hash made glibc keep one such block per
    /// blocking thread's arena (1.2 GiB resident under the load test);
    /// reused buffers keep the process at permits × memory_kib.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    /// Argon2 runs started (hashes and verifications, real or dummy): what
    /// a guess costs, observable by tests and metrics.
    evaluations: Arc<AtomicU64>,
}

impl PasswordHasher {
    pub fn new(settings: Argon2Settings) -> Result<Self, HashError> {
        if settings.memory_kib < MIN_MEMORY_KIB
            || settings.iterations < MIN_ITERATIONS
            || settings.parallelism < 1
        {
            return Err(HashError::WeakSettings(format!("{settings:?}")));
        }
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| HashError::WeakSettings(e.to_string()))?;
        let concurrent = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
        Ok(Self {
            params,
            dummy: Arc::new(tokio::sync::OnceCell::new()),
            permits: Arc::new(Semaphore::new(concurrent)),
            buffers: Arc::new(Mutex::new(Vec::new())),
            evaluations: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How many Argon2 runs this hasher (and its clones) has started.
    pub fn evaluations(&self) -> u64 {
        self.evaluations.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool with a permit and a working-memory
    /// buffer of `block_count` blocks (pooled when it is the configured
    /// size).
    async fn with_memory<T: Send + 'static>(
        &self,
        block_count: usize,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        let pooled = block_count == self.params.block_count();
        let buffers = self.buffers.clone();
        tokio::task::spawn_blocking(move || {
            let taken = pooled
                .then(|| buffers.lock().unwrap_or_else(|p| p.into_inner()).pop())
                .flatten();
            let mut memory = taken.unwrap_or_else(|| vec![Block::default(); block_count]);
            let result = work(&mut memory);
            if pooled {
                buffers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(memory);
            }
            result
        })
        .await
        .map_err(HashError::from)
    }

    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let password = password.clone();
        let params = self.params.clone();
        self.with_memory(self.params.block_count(), move |memory| {
            let salt = SaltString::generate(&mut OsRng);
            let mut salt_bytes = [0u8; 64];
            let failed = |e: &dyn std::fmt::Display| HashError::Failed(e.to_string());
            let raw_salt = salt
                .as_salt()
                .decode_b64(&mut salt_bytes)
                .map_err(|e| failed(&e))?;
            let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
            let output = Output::init_with(output_len, |out| {
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
                    .hash_password_into_with_memory(
                        password.expose().as_bytes(),
                        raw_salt,
                        out,
                        &mut *memory,
                    )
                    .map_err(|_| argon2::password_hash::Error::Crypto)
            })
            .map_err(|e| failed(&e))?;
            let phc = PhcHash {
                algorithm: ARGON2ID_IDENT,
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok(PasswordHash::from_phc(phc.to_string()))
        })
        .await?
    }

    /// Whether `password` matches `hash` (the stored parameters apply; the
    /// hashes are compared in constant time by `Output`'s equality). A hash
    /// that does not parse never matches.
    pub async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<bool, HashError> {
        let stored = hash.as_phc().to_owned();
        let block_count = PhcHash::new(&stored)
            .ok()
            .and_then(|parsed| Params::try_from(&parsed).ok())
            .map_or(self.params.block_count(), |params| params.block_count());
        let password = password.clone();
        self.with_memory(block_count, move |memory| {
            let Ok(parsed) = PhcHash::new(&stored) else {
                return false;
            };
            let (Ok(algorithm), Some(expected), Some(salt)) = (
                Algorithm::try_from(parsed.algorithm),
                parsed.hash,
                parsed.salt,
            ) else {
                return false;
            };
            let version = parsed
                .version
                .map_or(Ok(Version::V0x13), Version::try_from)
                .ok();
            let (Ok(params), Some(version)) = (Params::try_from(&parsed), version) else {
                return false;
            };
            let mut salt_bytes = [0u8; 64];
            let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
                return false;
            };
            Output::init_with(expected.len(), |out| {
                Argon2::new(algorithm, version, params)
                    .hash_password_into_with_memory(
                        password.expose().as_bytes(),
                        raw_salt,
                        out,
                        &mut *memory,
                    )
                    .map_err(|_| argon2::password_hash::Error::Crypto)
            })
            .is_ok_and(|computed| computed == expected)
        })
        .await
    }
}

impl PasswordHasher {
    /// Spends the time of one verification and returns false: for logins
    /// naming no account, or a password that cannot be right.
    pub async fn verify_nothing(&self, password: Option<&Password>) -> Result<bool, HashError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                getrandom::fill(&mut random).map_err(|e| HashError::Failed(e.to_string()))?;
                let text: String = random.iter().map(|b| format!("{b:02x}")).collect();
                let password =
                    Password::presented(&text).ok_or_else(|| HashError::Failed("dummy".into()))?;
                self.hash(&password).await
            })
            .await?
            .clone();
        let fallback;
        let password = match password {
            Some(password) => password,
            None => {
                fallback =
                    Password::presented("x").ok_or_else(|| HashError::Failed("fallback".into()))?;
                &fallback
            }
        };
        self.verify(password, &dummy).await?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_weak_settings() {
        for weak in [
            Argon2Settings {
                memory_kib: 4096,
                ..Default::default()
            },
            Argon2Settings {
                iterations: 1,
                ..Default::default()
            },
            Argon2Settings {
                parallelism: 0,
                ..Default::default()
            },
        ] {
            assert!(PasswordHasher::new(weak).is_err());
        }
    }

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new(Argon2Settings::default()).unwrap();
        let password = Password::parse("correct horse battery").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(
            hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_phc()
        );
        assert!(!hash.as_phc().contains("correct"));
        assert!(hasher.verify(&password, &hash).await.unwrap());
        let wrong = Password::parse("correct horse battery!").unwrap();
        assert!(!hasher.verify(&wrong, &hash).await.unwrap());
        let other = hasher.hash(&password).await.unwrap();
        assert_ne!(hash, other, "salted");
    }

    /// Hashes made by the argon2 crate's own `hash_password` (earlier
    /// versions of this service), also with other parameters, verify.
    #[tokio::test]
    async fn verifies_library_made_hashes() {
        use argon2::password_hash::PasswordHasher as _;
        let hasher = PasswordHasher::new(Argon2Settings::default()).unwrap();
        let password = Password::parse("correct horse battery").unwrap();
        for (m, t) in [(19456, 2), (8192, 3)] {
            let params = Params::new(m, t, 1, None).unwrap();
            let salt = SaltString::generate(&mut OsRng);
            let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"correct horse battery", &salt)
                .unwrap()
                .to_string();
            let stored = PasswordHash::from_phc(phc);
            assert!(hasher.verify(&password, &stored).await.unwrap(), "m={m}");
            let wrong = Password::parse("correct horse batterY").unwrap();
            assert!(!hasher.verify(&wrong, &stored).await.unwrap());
        }
        let garbage = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$bad".into());
        assert!(!hasher.verify(&password, &garbage).await.unwrap());
    }
}
