//! Building the adapters a configuration asks for, once per cold start.

use std::sync::Arc;

use crate::adapters::dynamo::{table::ensure_table, DynamoStore};
use crate::adapters::memory::MemoryStore;
use secrecy::ExposeSecret;

use crate::config::{Config, ConfigError, PhoneKeysSource, SigningKeysSource, StorageKind};
use crate::crypto::password_hasher::HashError;
use crate::crypto::phone_crypto::{PhoneKeyRing, PhoneKeys};
use crate::http::auth::Authenticator;
use crate::ports::ip_blocks::IpBlockStore;
use crate::ports::notifications::DeliveryLog;
use crate::ports::one_time::{OneTimeTokens, PreRegistrations, UnverifiedAccounts};
use crate::ports::phone_users::PhoneUserStore;
use crate::ports::sessions::SessionStore;
use crate::ports::tasks::TaskStore;
use crate::ports::{AuditLog, Clock, HealthProbe, Outbox, StoreError, SystemClock, UserStore};
use crate::session_tokens::keyring::KeyRing;
use crate::session_tokens::keyset::{KeySet, KeySetError};

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
    /// The avatar bucket: S3 when configured, else in memory (tests) or a
    /// folder (the local server, see `from_config`).
    pub objects: Arc<dyn crate::ports::avatars::ObjectStore>,
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
    one_time_tokens, one_time_tokens_handle: OneTimeTokens;
    pre_registrations, pre_registrations_handle: PreRegistrations;
    unverified, unverified_handle: UnverifiedAccounts;
    deliveries, deliveries_handle: DeliveryLog;
    preferences, preferences_handle: crate::ports::notification_profile::PreferencesStore;
    push_tokens, push_tokens_handle: crate::ports::notification_profile::PushTokenStore;
    account_data, account_data_handle: crate::ports::account_data::AccountData;
    phone_codes, phone_codes_handle: crate::ports::phone_codes::PhoneCodes;
    /// The operators' listing and status changes.
    directory, directory_handle: crate::ports::directory::AccountDirectory;
    /// Credit balances and their ledgers.
    credits, credits_handle: crate::ports::credits::CreditStore;
    /// Avatar records (the files are in `objects`).
    avatars, avatars_handle: crate::ports::avatars::AvatarStore;
    /// The user's Stripe customer, kept once.
    billing, billing_handle: crate::ports::billing::BillingAccounts;
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
    /// A function's state asked for what its `Endpoint::NEEDS` does not
    /// declare: a wiring fault, caught by the test that builds every route.
    #[error("{0} were not loaded for this function (see its Endpoint::NEEDS)")]
    NotProvided(&'static str),
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
            objects: Arc::new(crate::adapters::objects::MemoryObjects::default()),
        }
    }

    /// Over this bucket instead.
    pub fn with_objects(mut self, objects: Arc<dyn crate::ports::avatars::ObjectStore>) -> Self {
        self.objects = objects;
        self
    }

    /// The phone keys of these stores: the table's (from the secret or
    /// `PHONE_KEYS`), or the ones generated for an in-memory run. `None`
    /// when a table-backed function was built without them.
    pub fn phone_keys(&self) -> Option<Arc<PhoneKeyRing>> {
        match &self.backend {
            Backend::Memory(store) => Some(store.phone_keys()),
            Backend::Dynamo(store) => store.phone_key_ring(),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub async fn from_config(config: &Config) -> Result<Self, StartupError> {
        Ok(Self::tables_from_config(config)
            .await?
            .with_objects(objects_from_config(config).await))
    }

    async fn tables_from_config(config: &Config) -> Result<Self, StartupError> {
        match config.storage {
            StorageKind::Memory => Ok(Self::memory()),
            StorageKind::DynamoDb => {
                config.require_lasting_phone_keys()?;
                let client = dynamo_client();
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

/// The avatar bucket as configured. Without the `s3` feature a function
/// cannot reach S3: it gets a bucket that fails every call (functions that
/// never touch objects need not link the S3 SDK).
async fn objects_from_config(config: &Config) -> Arc<dyn crate::ports::avatars::ObjectStore> {
    match &config.avatars {
        crate::config::AvatarStorage::Folder(root) => {
            Arc::new(crate::adapters::objects::FolderObjects::new(root.clone()))
        }
        #[cfg(feature = "s3")]
        crate::config::AvatarStorage::S3 {
            bucket, endpoint, ..
        } => Arc::new(crate::adapters::s3::S3Objects::new(
            crate::adapters::s3::s3_client(endpoint.as_deref()).await,
            bucket.clone(),
        )),
        #[cfg(not(feature = "s3"))]
        crate::config::AvatarStorage::S3 { .. } => Arc::new(S3NotLinked),
    }
}

#[cfg(not(feature = "s3"))]
struct S3NotLinked;

#[cfg(not(feature = "s3"))]
#[async_trait::async_trait]
impl crate::ports::avatars::ObjectStore for S3NotLinked {
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(StoreError::internal(
            "S3 needs the `s3` feature of the shared crate",
        ))
    }
    async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> Result<(), StoreError> {
        Err(StoreError::internal(
            "S3 needs the `s3` feature of the shared crate",
        ))
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Err(StoreError::internal(
            "S3 needs the `s3` feature of the shared crate",
        ))
    }
    async fn delete_prefix(&self, _: &str) -> Result<(), StoreError> {
        Err(StoreError::internal(
            "S3 needs the `s3` feature of the shared crate",
        ))
    }
    async fn list(&self, _: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::internal(
            "S3 needs the `s3` feature of the shared crate",
        ))
    }
}

/// The signer of the avatar bucket's forms and links: the bucket's, with
/// the function's own credentials (on Lambda, its role's), or for a local
/// folder the local server's address (`PUBLIC_BASE_URL`) and credentials
/// made up for the process.
pub async fn bucket_signer(
    config: &Config,
) -> Result<Arc<crate::adapters::bucket_signer::BucketSigner>, StartupError> {
    use crate::adapters::bucket_signer::{local_credentials, BucketSigner};
    Ok(Arc::new(match &config.avatars {
        crate::config::AvatarStorage::S3 {
            bucket,
            endpoint,
            region,
        } => {
            let credentials = sdk_config()
                .credentials_provider()
                .ok_or(StartupError::NotProvided("AWS credentials"))?;
            BucketSigner::new(bucket, endpoint.as_deref(), region, credentials)
        }
        crate::config::AvatarStorage::Folder(_) => {
            BucketSigner::at(local_bucket_url(config), "us-east-1", local_credentials())
        }
    }))
}

/// Where the local server serves its stand-in bucket.
pub const LOCAL_BUCKET_PATH: &str = "/_local/bucket";

pub fn local_bucket_url(config: &Config) -> String {
    let base = config
        .public_base_url
        .as_deref()
        .unwrap_or("http://127.0.0.1:3000");
    format!("{base}{LOCAL_BUCKET_PATH}")
}

pub use crate::sdk_config::{
    sdk_config, sdk_retries, sdk_timeouts, SDK_ATTEMPT_TIMEOUT, SDK_OPERATION_TIMEOUT,
};

pub fn dynamo_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk_config())
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
        SigningKeysSource::Generated => Ok(Arc::new(KeyRing::fixed(KeySet::generate_with(
            config.jwt_algorithm,
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
pub(crate) async fn secret_source() -> Option<Arc<dyn crate::ports::secrets::SecretSource>> {
    use crate::adapters::secretsmanager::{secrets_client, SecretsManagerSource};
    Some(Arc::new(SecretsManagerSource::new(secrets_client().await)))
}

#[cfg(not(feature = "secretsmanager"))]
pub(crate) async fn secret_source() -> Option<Arc<dyn crate::ports::secrets::SecretSource>> {
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
        settings: config.session_tokens.clone(),
        sessions: stores.sessions_handle(),
        clock: stores.clock.clone(),
    }
}

/// The mailed-link flows over these stores.
pub fn email_links(
    stores: &Stores,
    quotas: crate::usecases::email_links::LinkQuotas,
) -> crate::usecases::email_links::EmailLinks<'_> {
    crate::usecases::email_links::EmailLinks {
        users: stores.users(),
        one_time_tokens: stores.one_time_tokens(),
        clock: stores.clock.as_ref(),
        quotas,
    }
}

/// The preference and push-token operations over these stores.
pub fn notification_profile(
    stores: &Stores,
) -> crate::usecases::notification_profile::NotificationProfile<'_> {
    crate::usecases::notification_profile::NotificationProfile {
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
        objects: stores.objects.clone(),
    })
}
