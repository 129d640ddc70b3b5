//! Helpers for the integration suite: stores on DynamoDB Local or in memory,
//! queues and secrets on moto, request builders, the local server, and log
//! capture.

pub mod api_reference;
pub mod dynamodb;
pub mod faults;
pub mod images;
pub mod localstripe;
pub mod logs;
pub mod mail;
pub mod moto;
pub mod requests;
pub mod round_trips;
pub mod stripe_stub;
pub mod world;

use std::sync::Arc;

use shared::adapters::dynamo::DynamoStore;
use shared::app::Stores;
use shared::config::Config;

/// The stores a test runs against, and the raw table when it is DynamoDB.
#[derive(Clone)]
pub struct Backend {
    pub name: &'static str,
    pub stores: Stores,
    pub dynamo: Option<DynamoStore>,
}

impl Backend {
    pub fn memory() -> Self {
        Self {
            name: "memory",
            stores: Stores::memory(),
            dynamo: None,
        }
    }

    /// A fresh table of its own on DynamoDB Local, so tests never see each
    /// other.
    pub async fn dynamo() -> Self {
        let store = dynamodb::fresh_table().await;
        Self {
            name: "dynamodb",
            stores: Stores::dynamo(store.clone()),
            dynamo: Some(store),
        }
    }

    pub async fn both() -> [Self; 2] {
        [Self::memory(), Self::dynamo().await]
    }
}

/// The configuration a bare local run gets (production Argon2 settings).
pub fn default_config() -> Config {
    Config::from_lookup(|_| None).expect("defaults are valid")
}

pub fn signup_state(backend: &Backend) -> signup::State {
    use shared::serve::{Endpoint, Resources};
    // Phone-shaped bodies are the phone sign-up's, which signs tokens.
    let ring = Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
    ));
    signup::State::build(
        &Resources::new(&default_config(), &backend.stores).with_signing_keys(ring),
    )
    .expect("valid state")
}

pub fn local_app(backend: &Backend) -> Arc<local_api::LocalApp> {
    local_app_signing_with(backend, shared::session_tokens::keyset::DEFAULT_ALGORITHM)
}

/// The local app over a key set of one `alg` key.
pub fn local_app_signing_with(
    backend: &Backend,
    alg: shared::session_tokens::KeyAlgorithm,
) -> Arc<local_api::LocalApp> {
    let ring = Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate_with(alg, time::OffsetDateTime::now_utc()),
    ));
    Arc::new(local_api::LocalApp::new(&backend.stores, &default_config(), ring).expect("valid app"))
}

/// Starts the local server on a free loopback port; returns its base URL.
pub async fn start_local_server(backend: &Backend) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let app = local_app(backend);
    tokio::spawn(async move { local_api::serve_on(listener, app).await });
    url
}

/// Runs each named `async fn(World)` as two tests: on the in-memory store
/// and on DynamoDB (DynamoDB Local), each with a fresh world.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case($crate::world::World::new($crate::Backend::memory())).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case($crate::world::World::new($crate::Backend::dynamo().await)).await;
                }
            )*
        }
    };
}

/// Runs each named `async fn(&Backend)` as two tests: on the in-memory
/// store and on a fresh DynamoDB table on DynamoDB Local.
#[macro_export]
macro_rules! contract_on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&$crate::Backend::memory()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&$crate::Backend::dynamo().await).await;
                }
            )*
        }
    };
}

/// The clean-up job over `stores`, relaying to and re-queueing on `queue`.
pub fn cleanup<'a>(
    stores: &'a Stores,
    queue: &'a dyn shared::ports::queues::MessageQueue,
    policy: shared::usecases::cleanup::CleanupPolicy,
) -> shared::usecases::cleanup::Cleanup<'a> {
    shared::usecases::cleanup::Cleanup {
        accounts: stores.unverified(),
        tasks: stores.tasks(),
        push_tokens: stores.push_tokens(),
        account_data: stores.account_data(),
        directory: stores.directory(),
        account_tasks_queue: queue,
        relay: shared::usecases::relay::Relay {
            outbox: stores.outbox(),
            queue,
        },
        clock: stores.clock.as_ref(),
        policy,
    }
}
