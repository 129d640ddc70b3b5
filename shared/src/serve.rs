//! One way to build and run an HTTP function: its state implements
//! [`Endpoint`] (built from [`Resources`]), its handler is a plain async
//! function of that state, and its `main` is one call of [`http`].
//!
//! The same `build` serves a Lambda (resources read from the environment,
//! only those the function declares in [`Endpoint::NEEDS`]) and the local
//! server (one set of resources for every route).

use std::future::Future;
use std::sync::Arc;

use lambda_http::{service_fn, Body, Request, Response};

use crate::app::{authenticator, key_ring, StartupError, Stores};
use crate::background::{queue, QueueName, Queues};
use crate::config::Config;
use crate::crypto::PasswordHasher;
use crate::http::admin::AdminGate;
use crate::http::auth::Authenticator;
use crate::ports::queues::MessageQueue;
use crate::session_tokens::keyring::KeyRing;

/// What a function needs at cold start beyond its configuration and the
/// stores. Each is a network call or a secret read on Lambda, so a function
/// loads only what it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The signing keys (Secrets Manager on AWS): issuing or checking tokens.
    pub signing_keys: bool,
    /// The tasks queue: functions that queue users' tasks.
    pub tasks_queue: bool,
    /// The account tasks queue: functions that start account work
    /// (deletion, export).
    pub account_tasks_queue: bool,
    /// Both queues and their dead letters: the health check.
    pub queues: bool,
    /// The avatar bucket's signer (its credentials): avatar forms and links.
    pub avatar_links: bool,
}

impl Needs {
    /// Configuration and stores only.
    pub const STORES: Self = Self {
        signing_keys: false,
        tasks_queue: false,
        account_tasks_queue: false,
        queues: false,
        avatar_links: false,
    };
    /// Plus the signing keys.
    pub const KEYS: Self = Self {
        signing_keys: true,
        ..Self::STORES
    };
    /// Plus the signing keys and the tasks queue.
    pub const KEYS_AND_TASKS: Self = Self {
        signing_keys: true,
        tasks_queue: true,
        ..Self::STORES
    };
    /// Plus the signing keys and the avatar bucket's signer.
    pub const KEYS_AND_AVATAR_LINKS: Self = Self {
        signing_keys: true,
        avatar_links: true,
        ..Self::STORES
    };
    /// Plus the signing keys and the account tasks queue.
    pub const KEYS_AND_ACCOUNT_TASKS: Self = Self {
        signing_keys: true,
        account_tasks_queue: true,
        ..Self::STORES
    };
}

/// What a process has built once, from which each function takes the part
/// its state holds.
pub struct Resources {
    pub config: Config,
    pub stores: Stores,
    ring: Option<Arc<KeyRing>>,
    tasks_queue: Option<Arc<dyn MessageQueue>>,
    account_tasks_queue: Option<Arc<dyn MessageQueue>>,
    queues: Option<Queues>,
    /// Set only by the local server (see `http::admin`): a Lambda's
    /// resources come from `from_env`, which leaves it unset (IAM).
    admin_gate: Option<Arc<dyn AdminGate>>,
    bucket_signer: Option<Arc<crate::adapters::bucket_signer::BucketSigner>>,
    /// Set only by the local server without a Stripe key: its stand-in
    /// for Stripe Checkout (`adapters::local_checkout`).
    payment_gateway: Option<Arc<dyn crate::ports::payments::PaymentGateway>>,
}

impl Resources {
    pub fn new(config: &Config, stores: &Stores) -> Self {
        Self {
            config: config.clone(),
            stores: stores.clone(),
            ring: None,
            tasks_queue: None,
            account_tasks_queue: None,
            queues: None,
            admin_gate: None,
            bucket_signer: None,
            payment_gateway: None,
        }
    }

    /// The payment provider the checkout uses instead of the Stripe API
    /// (the local server's stand-in).
    pub fn with_payment_gateway(
        mut self,
        gateway: Arc<dyn crate::ports::payments::PaymentGateway>,
    ) -> Self {
        self.payment_gateway = Some(gateway);
        self
    }

    /// The payment provider handed over, if any (a Lambda has none: it
    /// calls the Stripe API).
    pub fn payment_gateway(&self) -> Option<Arc<dyn crate::ports::payments::PaymentGateway>> {
        self.payment_gateway.clone()
    }

    pub fn with_bucket_signer(
        mut self,
        signer: Arc<crate::adapters::bucket_signer::BucketSigner>,
    ) -> Self {
        self.bucket_signer = Some(signer);
        self
    }

    pub fn bucket_signer(
        &self,
    ) -> Result<Arc<crate::adapters::bucket_signer::BucketSigner>, StartupError> {
        self.bucket_signer
            .clone()
            .ok_or(StartupError::NotProvided("the avatar bucket's signer"))
    }

    /// The local server's admin gate instead of IAM (never called by a
    /// Lambda: `from_env` does not, and no function's code does).
    pub fn with_admin_gate(mut self, gate: Arc<dyn AdminGate>) -> Self {
        self.admin_gate = Some(gate);
        self
    }

    /// Who may call the `/admin/` routes: IAM unless the local server
    /// handed over its own gate.
    pub fn admin_gate(&self) -> Arc<dyn AdminGate> {
        crate::http::admin::gate_or_iam(self.admin_gate.as_ref())
    }

    pub fn with_signing_keys(mut self, ring: Arc<KeyRing>) -> Self {
        self.ring = Some(ring);
        self
    }

    /// Every queue; the task queues among them serve `tasks_queue()` and
    /// `account_tasks_queue()` too.
    pub fn with_queues(mut self, queues: Queues) -> Self {
        self.tasks_queue = Some(queues.tasks.clone());
        self.account_tasks_queue = Some(queues.account_tasks.clone());
        self.queues = Some(queues);
        self
    }

    /// Reads the configuration and builds what `E` declares it needs.
    /// Generic so that each function links only the loaders it uses.
    pub async fn from_env<E: Endpoint>() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let mut resources = Self::new(&config, &stores);
        if E::NEEDS.signing_keys {
            resources = resources.with_signing_keys(key_ring(&config).await?);
        }
        if E::NEEDS.avatar_links {
            resources = resources.with_bucket_signer(crate::app::bucket_signer(&config).await?);
        }
        if E::NEEDS.queues {
            resources = resources.with_queues(Queues::from_config(&config).await?);
        } else {
            if E::NEEDS.tasks_queue {
                resources.tasks_queue = Some(queue(&config, QueueName::Tasks).await?);
            }
            if E::NEEDS.account_tasks_queue {
                resources.account_tasks_queue =
                    Some(queue(&config, QueueName::AccountTasks).await?);
            }
        }
        Ok(resources)
    }

    pub fn signing_keys(&self) -> Result<Arc<KeyRing>, StartupError> {
        self.ring
            .clone()
            .ok_or(StartupError::NotProvided("the signing keys"))
    }

    /// The authentication layer: signing keys, sessions, clock.
    pub fn authenticator(&self) -> Result<Authenticator, StartupError> {
        Ok(authenticator(
            &self.config,
            &self.stores,
            self.signing_keys()?,
        ))
    }

    /// A password hasher with the configured Argon2id parameters.
    pub fn hasher(&self) -> Result<PasswordHasher, StartupError> {
        Ok(PasswordHasher::new(self.config.argon2)?)
    }

    pub fn tasks_queue(&self) -> Result<Arc<dyn MessageQueue>, StartupError> {
        self.tasks_queue
            .clone()
            .ok_or(StartupError::NotProvided("the tasks queue"))
    }

    pub fn account_tasks_queue(&self) -> Result<Arc<dyn MessageQueue>, StartupError> {
        self.account_tasks_queue
            .clone()
            .ok_or(StartupError::NotProvided("the account tasks queue"))
    }

    pub fn queues(&self) -> Result<&Queues, StartupError> {
        self.queues
            .as_ref()
            .ok_or(StartupError::NotProvided("the queues"))
    }
}

/// The state of one HTTP function, built once per cold start.
pub trait Endpoint: Sized + Send + Sync + 'static {
    /// What `build` takes from the resources beyond configuration and
    /// stores (a test builds every route's state from exactly this).
    const NEEDS: Needs = Needs::STORES;

    /// Takes what the function holds from the process's resources.
    fn build(resources: &Resources) -> Result<Self, StartupError>;

    /// The Lambda's state, from the environment.
    fn from_env() -> impl Future<Output = Result<Self, StartupError>> + Send {
        async { Self::build(&Resources::from_env::<Self>().await?) }
    }
}

/// A Lambda `main`: telemetry, the state once, then `handler` for every
/// request. The state lives as long as the process, so it is leaked to a
/// `'static` borrow rather than reference-counted per request.
pub async fn http<S, F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    S: Endpoint,
    F: Fn(&'static S, Request) -> Fut + Send + Sync,
    Fut: Future<Output = Response<Body>> + Send,
{
    crate::telemetry::init();
    let state: &'static S = Box::leak(Box::new(S::from_env().await?));
    let handler = &handler;
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, std::convert::Infallible>(handler(state, request).await)
    }))
    .await
}

/// The state of a function that only needs the caller and the stores:
/// the authentication layer and the store handles, nothing else.
pub struct SignedInState {
    pub auth: Authenticator,
    pub stores: Stores,
    /// `PROFILE_FIELDS`: which fields the user object shows.
    pub profile_fields: crate::domain::ProfileFields,
}

impl Endpoint for SignedInState {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            profile_fields: resources.config.profile_fields,
        })
    }
}

/// The state of the mailed-link functions (confirmation, reset request,
/// pre-registration): the stores and the link quotas.
pub struct LinkState {
    pub stores: Stores,
    pub link_quotas: crate::usecases::email_links::LinkQuotas,
}

impl Endpoint for LinkState {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            stores: resources.stores.clone(),
            link_quotas: resources.config.link_quotas,
        })
    }
}

/// The state of a function that queues work for the caller: the
/// authentication layer, the stores, the tasks queue and the cap on each
/// user's unfinished tasks.
pub struct TaskingState {
    pub auth: Authenticator,
    pub stores: Stores,
    pub queue: Arc<dyn MessageQueue>,
    pub max_open_tasks: u32,
    /// `CREDIT_COSTS`: what each task type costs.
    pub credit_costs: crate::domain::CreditCosts,
}

impl Endpoint for TaskingState {
    const NEEDS: Needs = Needs::KEYS_AND_TASKS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            queue: resources.tasks_queue()?,
            max_open_tasks: resources.config.max_open_tasks,
            credit_costs: resources.config.credits.costs.clone(),
        })
    }
}

/// The state of a function that starts account work (deletion, export):
/// the authentication layer, the stores and the account tasks queue.
pub struct AccountTaskingState {
    pub auth: Authenticator,
    pub stores: Stores,
    pub queue: Arc<dyn MessageQueue>,
}

impl Endpoint for AccountTaskingState {
    const NEEDS: Needs = Needs::KEYS_AND_ACCOUNT_TASKS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            queue: resources.account_tasks_queue()?,
        })
    }
}

/// The state of the operators' functions (`/admin/`): the admin gate and
/// the stores.
pub struct AdminState {
    pub gate: Arc<dyn AdminGate>,
    pub stores: Stores,
    pub config: Config,
}

impl Endpoint for AdminState {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            gate: resources.admin_gate(),
            stores: resources.stores.clone(),
            config: resources.config.clone(),
        })
    }
}
