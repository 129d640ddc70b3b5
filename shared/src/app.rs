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
///
/// Each port is read through its own accessor rather than held as a
/// trait-object field: turning the store into a `dyn Port` instantiates the
/// vtable of every method of that port, so a field per port linked every
/// adapter method into every function (phone-signup crossed its 8 MiB
/// budget that way). An accessor a function never calls is dropped at link
/// time with the vtables it would have needed.
#[derive(Clone)]
pub struct Stores {
    backend: Backend,
    /// Time, a port like the others: tests run the same code on a clock
    /// they move.
    pub clock: Arc<dyn Clock>,
}

#[derive(Clone)]
enum Backend {
    Memory(Arc<MemoryStore>),
    Dynamo(Arc<DynamoStore>),
}

/// For each port: `name()` borrows it, `name_handle()` is an owned handle
/// for what outlives the borrow (caches, spawned tasks).
macro_rules! ports {
    ($($(#[$doc:meta])* $name:ident, $handle:ident: $port:path;)*) => {
        impl Stores {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> &dyn $port {
                    match &self.backend {
                        Backend::Memory(store) => store.as_ref(),
                        Backend::Dynamo(store) => store.as_ref(),
                    }
                }

                pub fn $handle(&self) -> Arc<dyn $port> {
                    match &self.backend {
                        Backend::Memory(store) => store.clone(),
                        Backend::Dynamo(store) => store.clone(),
                    }
                }
            )*
        }
    };
}

ports! {
    users, users_handle: UserStore;
    phone_users, phone_users_handle: PhoneUserStore;
    audit, audit_handle: AuditLog;
    sessions, sessions_handle: SessionStore;
    /// The table (or memory) as a health check.
    table_probe, table_probe_handle: HealthProbe;
    outbox, outbox_handle: Outbox;
    /// The IP block list (read through `ports::ip_blocks::BlockListCache`).
    ip_blocks, ip_blocks_handle: IpBlockStore;
    tasks, tasks_handle: TaskStore;
    tokens, tokens_handle: OneTimeTokens;
    pre_registrations, pre_registrations_handle: PreRegistrations;
    unverified, unverified_handle: UnverifiedAccounts;
    deliveries, deliveries_handle: DeliveryLog;
    preferences, preferences_handle: crate::ports::settings::PreferencesStore;
    push_tokens, push_tokens_handle: crate::ports::settings::PushTokenStore;
    account_data, account_data_handle: crate::ports::account_data::AccountData;
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
        Self::with_backend(Backend::Memory(Arc::new(MemoryStore::new())))
    }

    pub fn dynamo(store: DynamoStore) -> Self {
        Self::with_backend(Backend::Dynamo(Arc::new(store)))
    }

    fn with_backend(backend: Backend) -> Self {
        Self {
            backend,
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
        sessions: stores.sessions_handle(),
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
        users: stores.users(),
        tokens: stores.tokens(),
        clock: stores.clock.as_ref(),
        quotas: config.link_quotas,
    }
}

/// The preference and push-token operations over these stores.
pub fn settings(stores: &Stores) -> crate::usecases::settings::Settings<'_> {
    crate::usecases::settings::Settings {
        preferences: stores.preferences(),
        push_tokens: stores.push_tokens(),
        clock: stores.clock.as_ref(),
    }
}

/// The task worker's runner over these stores: every kind, account
/// deletion and export included.
pub fn task_runner(stores: &Stores) -> Arc<dyn crate::usecases::task_runner::TaskRunner> {
    Arc::new(crate::usecases::account_tasks::AccountRunner {
        standard: Default::default(),
        data: stores.account_data_handle(),
        users: stores.users_handle(),
        clock: stores.clock.clone(),
    })
}
