//! Building the adapters a configuration asks for, once per cold start.

use std::sync::Arc;

use crate::adapters::dynamo::{table::ensure_table, DynamoStore};
use crate::adapters::memory::MemoryStore;
use secrecy::ExposeSecret;

use crate::config::{Config, ConfigError, PhoneKeysSource, SigningKeysSource, StorageKind};
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::crypto::phone_crypto::{PhoneKeyRing, PhoneKeys};
use crate::http::auth::Authenticator;
use crate::ports::ip_blocks::IpBlockStore;
use crate::ports::notifications::DeliveryLog;
use crate::ports::one_time::{OneTimeTokens, PreRegistrations, UnverifiedAccounts};
use crate::ports::phone_users::PhoneUserStore;
use crate::ports::sessions::SessionStore;
use crate::ports::tasks::TaskStore;
use crate::ports::{AuditLog, Clock, HealthProbe, Outbox, StoreError, SystemClock, UserStore};
use crate::tokens::keyring::KeyRing;
use crate::tokens::keyset::{KeySet, KeySetError};

/// The storage ports, all backed by one store (one table, or one memory).
#[derive(Clone)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    pub phone_users: Arc<dyn PhoneUserStore>,
    pub audit: Arc<dyn AuditLog>,
    pub sessions: Arc<dyn SessionStore>,
    pub table_probe: Arc<dyn HealthProbe>,
    pub outbox: Arc<dyn Outbox>,
    /// The IP block list (read through `ports::ip_blocks::BlockListCache`).
    pub ip_blocks: Arc<dyn IpBlockStore>,
    pub tasks: Arc<dyn TaskStore>,
    pub tokens: Arc<dyn OneTimeTokens>,
    pub pre_registrations: Arc<dyn PreRegistrations>,
    pub unverified: Arc<dyn UnverifiedAccounts>,
    pub deliveries: Arc<dyn DeliveryLog>,
    pub preferences: Arc<dyn crate::ports::settings::PreferencesStore>,
    pub push_tokens: Arc<dyn crate::ports::settings::PushTokenStore>,
    pub account_data: Arc<dyn crate::ports::account_data::AccountData>,
    /// Time, a port like the others: tests run the same code on a clock
    /// they move.
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not prepare the table")]
    Table(#[from] StoreError),
    #[error(transparent)]
    Hasher(#[from] HashError),
    #[error("the signing keys are not valid")]
    SigningKeys(#[from] KeySetError),
    #[error("the phone keys (PHONE_KEYS) are not valid")]
    PhoneKeys(#[from] crate::crypto::phone_crypto::PhoneKeysError),
    #[error(
        "signing keys from Secrets Manager need the `secretsmanager` feature of the shared crate"
    )]
    SecretsManagerNotLinked,
    #[error("SQS queues need the `sqs` feature of the shared crate")]
    SqsNotLinked,
}

impl Stores {
    pub fn memory() -> Self {
        Self::from_store(Arc::new(MemoryStore::new()))
    }

    pub fn dynamo(store: DynamoStore) -> Self {
        Self::from_store(Arc::new(store))
    }

    fn from_store<
        S: UserStore
            + PhoneUserStore
            + AuditLog
            + SessionStore
            + Outbox
            + IpBlockStore
            + HealthProbe
            + TaskStore
            + OneTimeTokens
            + PreRegistrations
            + UnverifiedAccounts
            + DeliveryLog
            + crate::ports::settings::PreferencesStore
            + crate::ports::settings::PushTokenStore
            + crate::ports::account_data::AccountData
            + 'static,
    >(
        store: Arc<S>,
    ) -> Self {
        Self {
            users: store.clone(),
            phone_users: store.clone(),
            audit: store.clone(),
            sessions: store.clone(),
            outbox: store.clone(),
            ip_blocks: store.clone(),
            tasks: store.clone(),
            tokens: store.clone(),
            pre_registrations: store.clone(),
            unverified: store.clone(),
            deliveries: store.clone(),
            preferences: store.clone(),
            push_tokens: store.clone(),
            account_data: store.clone(),
            table_probe: store,
            clock: Arc::new(SystemClock),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub async fn from_config(config: &Config) -> Result<Self, StartupError> {
        match config.storage {
            StorageKind::Memory => Ok(Self::memory()),
            StorageKind::DynamoDb => {
                config.require_lasting_phone_keys()?;
                let client = dynamo_client().await;
                if config.create_table {
                    ensure_table(&client, &config.table_name).await?;
                }
                let mut store = DynamoStore::new(client, &config.table_name);
                if let Some(ring) = phone_key_ring(config).await? {
                    store = store.with_phone_keys(ring);
                }
                Ok(Self::dynamo(store))
            }
        }
    }
}

/// The AWS configuration from the standard environment (credentials,
/// region, `AWS_ENDPOINT_URL`…), with `us-east-1` when no region is set so
/// that local endpoints need no region setting. Loaded once per process and
/// shared by every client.
pub async fn sdk_config() -> &'static aws_config::SdkConfig {
    static SDK_CONFIG: tokio::sync::OnceCell<aws_config::SdkConfig> =
        tokio::sync::OnceCell::const_new();
    SDK_CONFIG
        .get_or_init(|| async {
            let region = aws_config::meta::region::RegionProviderChain::default_provider()
                .or_else("us-east-1");
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(region)
                .load()
                .await
        })
        .await
}

pub async fn dynamo_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk_config().await)
}

/// The signing keys of a function, as configured: a Secrets Manager secret
/// (read lazily, on first use, and refreshed), an inline key set, or (local
/// runs only) a key set generated now.
pub async fn key_ring(config: &Config) -> Result<Arc<KeyRing>, StartupError> {
    config.require_shared_signing_keys()?;
    match &config.signing_keys {
        SigningKeysSource::SecretsManager { secret_id, refresh } => {
            secrets_manager_ring(secret_id, *refresh).await
        }
        SigningKeysSource::Inline(json) => Ok(Arc::new(KeyRing::fixed(KeySet::parse(
            json.expose_secret(),
        )?))),
        SigningKeysSource::Generated => Ok(Arc::new(KeyRing::fixed(KeySet::generate(
            time::OffsetDateTime::now_utc(),
        )))),
    }
}

/// The phone keys as configured; read from Secrets Manager on first use.
/// `None` when they live in Secrets Manager and this function does not link
/// its SDK: it then cannot read or write accounts, which functions without
/// the feature (health, fallback) never do.
pub async fn phone_key_ring(config: &Config) -> Result<Option<Arc<PhoneKeyRing>>, StartupError> {
    match &config.phone_keys {
        PhoneKeysSource::SecretsManager { secret_id } => Ok(secret_source()
            .await
            .map(|source| Arc::new(PhoneKeyRing::from_secret(source, secret_id.clone())))),
        PhoneKeysSource::Inline(json) => Ok(Some(Arc::new(PhoneKeyRing::fixed(PhoneKeys::parse(
            json.expose_secret(),
        )?)))),
        PhoneKeysSource::Generated => Ok(Some(Arc::new(PhoneKeyRing::fixed(PhoneKeys::generate(
            time::OffsetDateTime::now_utc(),
        ))))),
    }
}

#[cfg(feature = "secretsmanager")]
async fn secret_source() -> Option<Arc<dyn crate::ports::secrets::SecretSource>> {
    use crate::adapters::secretsmanager::{secrets_client, SecretsManagerSource};
    Some(Arc::new(SecretsManagerSource::new(secrets_client().await)))
}

#[cfg(not(feature = "secretsmanager"))]
async fn secret_source() -> Option<Arc<dyn crate::ports::secrets::SecretSource>> {
    None
}

async fn secrets_manager_ring(
    secret_id: &str,
    refresh: std::time::Duration,
) -> Result<Arc<KeyRing>, StartupError> {
    let source = secret_source()
        .await
        .ok_or(StartupError::SecretsManagerNotLinked)?;
    Ok(Arc::new(KeyRing::new(source, secret_id, refresh)))
}

/// The authentication layer over these stores and keys.
pub fn authenticator(config: &Config, stores: &Stores, ring: Arc<KeyRing>) -> Authenticator {
    Authenticator {
        ring,
        settings: config.tokens.clone(),
        sessions: stores.sessions.clone(),
        clock: stores.clock.clone(),
    }
}

/// What a function that neither issues nor checks tokens holds: its
/// configuration and the stores, built once per cold start.
pub struct StoreState {
    pub config: Config,
    pub stores: Stores,
}

impl StoreState {
    pub fn new(stores: &Stores, config: &Config) -> Self {
        Self {
            config: config.clone(),
            stores: stores.clone(),
        }
    }

    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        Ok(Self::new(&stores, &config))
    }
}

/// What a token-aware function holds: its configuration, the stores (with
/// the clock), the signing keys and the authentication layer over them.
/// Built once per cold start; functions that also hash keep a
/// `PasswordHasher` beside it.
pub struct FunctionState {
    pub config: Config,
    pub stores: Stores,
    pub ring: Arc<KeyRing>,
    pub auth: Authenticator,
    /// Cheap to hold: memory is taken only while a hash runs.
    pub hasher: PasswordHasher,
}

impl FunctionState {
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Result<Self, StartupError> {
        Ok(Self {
            config: config.clone(),
            stores: stores.clone(),
            auth: authenticator(config, stores, ring.clone()),
            ring,
            hasher: PasswordHasher::new(config.argon2)?,
        })
    }

    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let ring = key_ring(&config).await?;
        Self::new(&stores, &config, ring)
    }
}

/// The mailed-link flows over these stores.
pub fn email_links<'a>(
    stores: &'a Stores,
    config: &Config,
) -> crate::usecases::email_links::EmailLinks<'a> {
    crate::usecases::email_links::EmailLinks {
        users: stores.users.as_ref(),
        tokens: stores.tokens.as_ref(),
        clock: stores.clock.as_ref(),
        quotas: config.link_quotas,
    }
}

/// The preference and push-token operations over these stores.
pub fn settings(stores: &Stores) -> crate::usecases::settings::Settings<'_> {
    crate::usecases::settings::Settings {
        preferences: stores.preferences.as_ref(),
        push_tokens: stores.push_tokens.as_ref(),
        clock: stores.clock.as_ref(),
    }
}

/// The task worker's runner over these stores: every kind, account
/// deletion and export included.
pub fn task_runner(stores: &Stores) -> Arc<dyn crate::usecases::task_runner::TaskRunner> {
    Arc::new(crate::usecases::account_tasks::AccountRunner {
        standard: Default::default(),
        data: stores.account_data.clone(),
        users: stores.users.clone(),
        clock: stores.clock.clone(),
    })
}
