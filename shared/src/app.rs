//! Building the adapters a configuration asks for, once per cold start.

use std::sync::Arc;

use crate::adapters::dynamo::{table::ensure_table, DynamoStore};
use crate::adapters::memory::MemoryStore;
use crate::config::{Config, ConfigError, StorageKind};
use crate::crypto::password_hasher::HashError;
use crate::ports::{AuditLog, HealthProbe, StoreError, UserStore};

/// The storage ports, all backed by one store (one table, or one memory).
#[derive(Clone)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    pub audit: Arc<dyn AuditLog>,
    pub table_probe: Arc<dyn HealthProbe>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not prepare the table")]
    Table(#[from] StoreError),
    #[error(transparent)]
    Hasher(#[from] HashError),
}

impl Stores {
    pub fn memory() -> Self {
        Self::from_store(Arc::new(MemoryStore::new()))
    }

    pub fn dynamo(store: DynamoStore) -> Self {
        Self::from_store(Arc::new(store))
    }

    fn from_store<S: UserStore + AuditLog + HealthProbe + 'static>(store: Arc<S>) -> Self {
        Self {
            users: store.clone(),
            audit: store.clone(),
            table_probe: store,
        }
    }

    pub async fn from_config(config: &Config) -> Result<Self, StartupError> {
        match config.storage {
            StorageKind::Memory => Ok(Self::memory()),
            StorageKind::DynamoDb => {
                let client = dynamo_client().await;
                if config.create_table {
                    ensure_table(&client, &config.table_name).await?;
                }
                Ok(Self::dynamo(DynamoStore::new(client, &config.table_name)))
            }
        }
    }
}

/// A DynamoDB client from the standard AWS environment (credentials,
/// region, `AWS_ENDPOINT_URL`…), with `us-east-1` when no region is set so
/// that local endpoints need no region setting.
pub async fn dynamo_client() -> aws_sdk_dynamodb::Client {
    let region =
        aws_config::meta::region::RegionProviderChain::default_provider().or_else("us-east-1");
    let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(region)
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&sdk_config)
}
