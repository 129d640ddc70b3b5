//! In-process secrets for local runs and tests; `put` replaces a value, so
//! a test can rotate a secret under a running `KeyRing`.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use secrecy::SecretString;

use crate::ports::secrets::{SecretSource, SecretWriter};
use crate::ports::StoreError;

#[derive(Default)]
pub struct StaticSecrets {
    values: RwLock<HashMap<String, SecretString>>,
}

impl StaticSecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder form of `put`, for setting up a source in one expression.
    pub fn with(self, id: impl Into<String>, value: impl Into<SecretString>) -> Self {
        self.put(id, value);
        self
    }

    /// Sets (or replaces) the value of secret `id`.
    pub fn put(&self, id: impl Into<String>, value: impl Into<SecretString>) {
        // A panic while holding the lock cannot leave a half-written map
        // (insert is the only mutation), so poisoning is ignored.
        self.values
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.into(), value.into());
    }
}

impl std::fmt::Debug for StaticSecrets {
    /// Names the secrets, never their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values = self.values.read().unwrap_or_else(PoisonError::into_inner);
        let mut ids: Vec<&String> = values.keys().collect();
        ids.sort();
        f.debug_struct("StaticSecrets").field("ids", &ids).finish()
    }
}

#[async_trait]
impl SecretSource for StaticSecrets {
    async fn secret_string(&self, id: &str) -> Result<SecretString, StoreError> {
        self.values
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
            .ok_or_else(|| StoreError::internal(format!("secret {id:?} does not exist")))
    }
}

#[async_trait]
impl SecretWriter for StaticSecrets {
    async fn put_secret_string(&self, id: &str, value: &SecretString) -> Result<(), StoreError> {
        self.put(id, value.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[tokio::test]
    async fn returns_the_latest_value_and_fails_clearly_when_missing() {
        let secrets = StaticSecrets::new().with("keys", "one");
        let first = secrets.secret_string("keys").await.unwrap();
        assert_eq!(first.expose_secret(), "one");

        secrets.put("keys", "two");
        let second = secrets.secret_string("keys").await.unwrap();
        assert_eq!(second.expose_secret(), "two");

        let missing = secrets.secret_string("other").await.unwrap_err();
        assert!(matches!(missing, StoreError::Internal(_)), "{missing:?}");
        let message = std::error::Error::source(&missing).unwrap().to_string();
        assert!(message.contains("\"other\" does not exist"), "{message}");
    }

    #[test]
    fn debug_names_ids_but_never_values() {
        let secrets = StaticSecrets::new()
            .with("b", "hunter2")
            .with("a", "swordfish");
        let shown = format!("{secrets:?}");
        assert!(shown.contains("[\"a\", \"b\"]"), "{shown}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }
}
