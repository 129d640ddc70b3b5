//! Where secret values (signing keys) come from: Secrets Manager in AWS, a
//! map in local runs and tests.

use async_trait::async_trait;
use secrecy::SecretString;

use crate::ports::StoreError;

#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The current string value of secret `id`. A missing secret is
    /// `StoreError::Internal` (a deployment mistake, not worth retrying);
    /// throttling and network failures are `StoreError::Unavailable`.
    async fn secret_string(&self, id: &str) -> Result<SecretString, StoreError>;
}

/// Writing a secret's new value: the scheduled key rotation.
#[async_trait]
pub trait SecretWriter: Send + Sync {
    /// Stores `value` as the current version of secret `id`.
    async fn put_secret_string(&self, id: &str, value: &SecretString) -> Result<(), StoreError>;
}
