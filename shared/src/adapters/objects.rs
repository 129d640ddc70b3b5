//! Buckets without S3: in memory (tests, the default of a store) and a
//! folder (the local server: its uploads survive a look with `ls`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::avatars::ObjectStore;
use crate::ports::StoreError;

#[derive(Default)]
pub struct MemoryObjects {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryObjects {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.objects
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl ObjectStore for MemoryObjects {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(key).cloned())
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), StoreError> {
        self.lock().insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        self.lock().retain(|key, _| !key.starts_with(prefix));
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .keys()
            .filter(|key| key.starts_with(prefix))
            .cloned()
            .collect())
    }
}

/// Objects as files under `root`, one file per key.
pub struct FolderObjects {
    root: PathBuf,
}

impl FolderObjects {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of `key`; keys are made by this service (`domain::avatar`)
    /// but the local server also receives them from forms, so anything
    /// that could leave the folder is refused.
    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let safe = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != ".."
                    && part != "."
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        if safe {
            Ok(self.root.join(key))
        } else {
            Err(StoreError::internal(format!("not an object key: {key:?}")))
        }
    }

    fn io_error(error: std::io::Error) -> StoreError {
        StoreError::Internal(Box::new(error))
    }

    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                Self::walk(&path, found);
            } else {
                found.push(path);
            }
        }
    }

    fn keys_under(&self, prefix: &str) -> Vec<String> {
        let mut files = Vec::new();
        Self::walk(&self.root, &mut files);
        let mut keys: Vec<String> = files
            .iter()
            .filter_map(|path| path.strip_prefix(&self.root).ok())
            .filter_map(|path| path.to_str().map(|text| text.replace('\\', "/")))
            .filter(|key| key.starts_with(prefix))
            .collect();
        keys.sort();
        keys
    }
}

// Small files on a developer's machine: plain blocking I/O on a blocking
// thread, which is what tokio's `fs` would do too.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| StoreError::internal(error.to_string()))?
}

#[async_trait]
impl ObjectStore for FolderObjects {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key)?;
        blocking(move || match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(Self::io_error(error)),
        })
        .await
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        blocking(move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(Self::io_error)?;
            }
            std::fs::write(path, bytes).map_err(Self::io_error)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        blocking(move || match std::fs::remove_file(path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(Self::io_error(error))
            }
            _ => Ok(()),
        })
        .await
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        for key in self.keys_under(prefix) {
            self.delete(&key).await?;
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.keys_under(prefix))
    }
}
