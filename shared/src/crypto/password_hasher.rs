//! Argon2id hashing off the async runtime's threads.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
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
        })
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let password = password.clone();
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Self::argon2(params)
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|phc| PasswordHash::from_phc(phc.to_string()))
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await?
    }

    /// Whether `password` matches `hash` (constant-time comparison inside
    /// argon2). A hash that does not parse never matches.
    pub async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<bool, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let password = password.clone();
        let hash = hash.clone();
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PhcHash::new(hash.as_phc()) else {
                return false;
            };
            Self::argon2(params)
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok()
        })
        .await
        .map_err(HashError::from)
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
}
