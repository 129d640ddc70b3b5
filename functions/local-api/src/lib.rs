//! The local server: an axum front that turns each HTTP request into the
//! API Gateway request the Lambdas receive, and routes it by the shared
//! route table to the same handler functions.

pub mod admin_token;
pub mod bucket;
pub mod checkout;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::adapters::email::LocalMailbox;
use shared::app::{StartupError, Stores};
use shared::background::{poll_forever, poll_once, relay_forever, Queues};
use shared::config::Config;
use shared::http::body::MAX_BODY_BYTES;
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond_error, ApiError};
use shared::serve::{Endpoint, Needs, Resources};
use shared::session_tokens::keyring::KeyRing;
use shared::usecases::relay::Relay;
use shared::usecases::task_runner::TaskRunner;

/// Derives, from the rows of `shared::route_table!`, the state of every
/// route (`Routes`, one field per route id, each built by the function's
/// own `Endpoint::build`) and the dispatch to its handler.
macro_rules! local_routes {
    ($($id:ident $method:ident $path:literal => $function:ident, $krate:ident :: $handler:ident, $paths:ident :: $operation:ident;)*) => {
        /// The state of every route, built once from one set of resources.
        #[allow(non_snake_case)]
        pub struct Routes {
            $(pub $id: $krate::State,)*
        }

        impl Routes {
            pub fn build(resources: &Resources) -> Result<Self, StartupError> {
                Ok(Self {
                    $($id: <$krate::State as Endpoint>::build(resources)?,)*
                })
            }

            /// The resources each route declares it needs, by route: a
            /// test builds every route's state from exactly these.
            pub fn needs() -> Vec<(RouteId, Needs)> {
                vec![$((RouteId::$id, <$krate::State as Endpoint>::NEEDS),)*]
            }

            /// Builds one route's state alone, as its Lambda would from
            /// these resources.
            pub fn build_one(id: RouteId, resources: &Resources) -> Result<(), StartupError> {
                match id {
                    $(RouteId::$id => <$krate::State as Endpoint>::build(resources).map(drop),)*
                }
            }

            /// Builds one route's state as its Lambda does, from the
            /// environment. Each arm's future is boxed: unboxed, a debug
            /// build's poll frame holds every arm's at once and overflows a
            /// test thread's 2 MiB stack.
            pub async fn one_from_env(id: RouteId) -> Result<(), StartupError> {
                match id {
                    $(RouteId::$id => Box::pin(<$krate::State as Endpoint>::from_env()).await.map(drop),)*
                }
            }

            async fn dispatch(&self, id: RouteId, request: Request) -> Response<Body> {
                match id {
                    $(RouteId::$id => $krate::$handler(&self.$id, request).await,)*
                }
            }
        }
    };
}

shared::route_table!(local_routes);

/// Every route, the background workers and the local mailbox, over one
/// set of resources.
pub struct LocalApp {
    pub routes: Routes,
    pub resources: Resources,
    pub task_worker: task_worker::State,
    /// The account worker: the same handler on the account tasks queue.
    pub account_worker: task_worker::State,
    pub notification_worker: notification_worker::State,
    pub stores: Stores,
    pub queues: Queues,
    /// Where emails go in local runs: `GET /_local/outbox`.
    pub mailbox: Arc<LocalMailbox>,
    /// The bearer token of the `/admin/` routes in this process.
    pub admin_token: Arc<admin_token::AdminToken>,
    /// Signs (and, for the local bucket, checks) avatar forms and links.
    pub bucket_signer: Arc<shared::adapters::bucket_signer::BucketSigner>,
    /// Without a Stripe key: the stand-in for Stripe Checkout whose
    /// sessions the local pay page pays (`checkout`).
    pub local_checkout: Option<Arc<shared::adapters::local_checkout::LocalCheckout>>,
}

impl LocalApp {
    /// Over in-process queues and a local mailbox.
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Result<Self, StartupError> {
        let queues = Queues::memory(config.task_max_receives);
        let runner = shared::app::task_runner(stores);
        Self::with_background(stores, config, ring, queues, runner)
    }

    /// With a random admin token (`admin_token`).
    pub fn with_background(
        stores: &Stores,
        config: &Config,
        ring: Arc<KeyRing>,
        queues: Queues,
        runner: Arc<dyn TaskRunner>,
    ) -> Result<Self, StartupError> {
        Self::with_admin_token(
            stores,
            config,
            ring,
            queues,
            runner,
            admin_token::AdminToken::random(),
        )
    }

    pub fn with_admin_token(
        stores: &Stores,
        config: &Config,
        ring: Arc<KeyRing>,
        queues: Queues,
        runner: Arc<dyn TaskRunner>,
        token: admin_token::AdminToken,
    ) -> Result<Self, StartupError> {
        let signer = Arc::new(shared::adapters::bucket_signer::BucketSigner::at(
            shared::app::local_bucket_url(config),
            "us-east-1",
            shared::adapters::bucket_signer::local_credentials(),
        ));
        Self::assemble(stores, config, ring, queues, runner, token, signer)
    }

    /// With this signer of avatar forms and links: the local bucket's (see
    /// `with_admin_token`) or a real bucket's.
    pub fn assemble(
        stores: &Stores,
        config: &Config,
        ring: Arc<KeyRing>,
        queues: Queues,
        runner: Arc<dyn TaskRunner>,
        token: admin_token::AdminToken,
        bucket_signer: Arc<shared::adapters::bucket_signer::BucketSigner>,
    ) -> Result<Self, StartupError> {
        let admin_token = Arc::new(token);
        let mut resources = Resources::new(config, stores)
            .with_signing_keys(ring)
            .with_queues(queues.clone())
            .with_admin_gate(admin_token.clone())
            .with_bucket_signer(bucket_signer.clone());
        // No Stripe key: checkouts are paid on the local pay page.
        let local_checkout = match &config.credits.stripe_keys {
            shared::usecases::payments::StripeKeysSource::Inline {
                webhook_secret,
                api_key: None,
            } => Some(Arc::new(
                shared::adapters::local_checkout::LocalCheckout::new(webhook_secret.clone()),
            )),
            _ => None,
        };
        if let Some(local) = &local_checkout {
            resources = resources.with_payment_gateway(local.clone());
        }
        let mailbox = Arc::new(LocalMailbox::default());
        Ok(Self {
            routes: Routes::build(&resources)?,
            task_worker: task_worker::State::new(
                stores,
                config,
                queues.tasks.clone(),
                runner.clone(),
            ),
            account_worker: task_worker::State::new(
                stores,
                config,
                queues.account_tasks.clone(),
                runner,
            ),
            notification_worker: notification_worker::State::new(
                stores,
                config,
                mailbox.clone(),
                mailbox.clone(),
            ),
            resources,
            stores: stores.clone(),
            queues,
            mailbox,
            admin_token,
            bucket_signer,
            local_checkout,
        })
    }

    /// Routes one request as API Gateway would.
    pub async fn dispatch(&self, request: Request) -> Response<Body> {
        match match_route(request.method().as_str(), request.uri().path()) {
            RouteMatch::Found { route, params } => {
                let request = request.with_path_parameters(
                    params
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<std::collections::HashMap<_, _>>(),
                );
                self.routes.dispatch(route.id, request).await
            }
            RouteMatch::MethodNotAllowed { .. } | RouteMatch::NotFound => {
                fallback::handle(request).await
            }
        }
    }

    /// One pass of everything AWS would do in the background: relay the
    /// outbox, then let each worker take what is queued, until nothing
    /// moves. Tests call it to run the flows to the end; returns how many
    /// messages were handled.
    pub async fn settle(&self) -> usize {
        let mut handled = 0;
        loop {
            let relay = Relay {
                outbox: self.stores.outbox(),
                queue: self.queues.notifications.as_ref(),
            };
            let now = self.stores.clock.now() + time::Duration::seconds(1);
            let relayed = relay.relay_pending(now, 100).await.unwrap_or(0);
            let until = std::time::Instant::now() + std::time::Duration::from_secs(900);
            let tasks = poll_once(
                self.queues.tasks.as_ref(),
                std::time::Duration::ZERO,
                &|event| task_worker::handle(&self.task_worker, event, until),
            )
            .await
            .unwrap_or(0);
            let account_tasks = poll_once(
                self.queues.account_tasks.as_ref(),
                std::time::Duration::ZERO,
                &|event| task_worker::handle(&self.account_worker, event, until),
            )
            .await
            .unwrap_or(0);
            let notifications = poll_once(
                self.queues.notifications.as_ref(),
                std::time::Duration::ZERO,
                &|event| notification_worker::handle(&self.notification_worker, event),
            )
            .await
            .unwrap_or(0);
            handled += tasks + account_tasks + notifications;
            if relayed + tasks + account_tasks + notifications == 0 {
                return handled;
            }
        }
    }

    /// Runs the relay and the workers in this process until it ends, as
    /// the stream, the SQS triggers and the workers do on AWS.
    pub fn spawn_background(self: &Arc<Self>) {
        tokio::spawn(relay_forever(
            self.stores.outbox_handle(),
            self.queues.notifications.clone(),
            self.stores.clock.clone(),
            std::time::Duration::from_millis(200),
        ));
        let app = self.clone();
        tokio::spawn(poll_forever(self.queues.tasks.clone(), move |event| {
            let app = app.clone();
            async move {
                let until = std::time::Instant::now() + std::time::Duration::from_secs(900);
                task_worker::handle(&app.task_worker, event, until).await
            }
        }));
        // Its own event-source mapping, as on AWS: account work never
        // waits for a slot behind users' tasks.
        let app = self.clone();
        tokio::spawn(poll_forever(
            self.queues.account_tasks.clone(),
            move |event| {
                let app = app.clone();
                async move {
                    let until = std::time::Instant::now() + std::time::Duration::from_secs(900);
                    task_worker::handle(&app.account_worker, event, until).await
                }
            },
        ));
        let app = self.clone();
        tokio::spawn(poll_forever(
            self.queues.notifications.clone(),
            move |event| {
                let app = app.clone();
                async move { notification_worker::handle(&app.notification_worker, event).await }
            },
        ));
    }
}

pub const LOCAL_OUTBOX_PATH: &str = "/_local/outbox";

pub fn router(app: Arc<LocalApp>) -> axum::Router {
    axum::Router::new()
        .route(LOCAL_OUTBOX_PATH, axum::routing::get(local_outbox))
        .merge(bucket::routes())
        .merge(checkout::routes())
        .fallback(serve)
        .with_state(app)
}

/// `GET /_local/outbox`: the emails and texts sent so far, newest last. Only the
/// local server has it (it is no route of the API or the template).
async fn local_outbox(State(app): State<Arc<LocalApp>>) -> axum::response::Response {
    let body = serde_json::json!({ "success": true, "message": "Local outbox", "data": { "emails": app.mailbox.messages(), "sms": app.mailbox.texts() } });
    axum::response::Response::builder()
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap_or_default()
}

async fn serve(
    State(app): State<Arc<LocalApp>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    // One byte over the limit is enough to know the body is too large.
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await;
    let mut gateway = ApiGatewayV2httpRequestContext::default();
    gateway.request_id = Some(uuid::Uuid::new_v4().to_string());
    gateway.http.method = parts.method.clone();
    gateway.http.path = Some(parts.uri.path().to_owned());
    gateway.http.source_ip = Some(peer.ip().to_string());
    let context = RequestContext::ApiGatewayV2(gateway);

    let response = match bytes {
        Ok(bytes) => {
            let mut request = Request::from_parts(parts, Body::from(bytes.to_vec()));
            request.extensions_mut().insert(context);
            app.dispatch(request).await
        }
        Err(_) => {
            let mut request = Request::from_parts(parts, Body::Empty);
            request.extensions_mut().insert(context);
            respond_error("local", request, ApiError::payload_too_large()).await
        }
    };
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.into_bytes(),
        Body::Binary(bytes) => bytes,
        #[allow(unreachable_patterns)]
        _ => Vec::new(),
    };
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Binds `addr` and serves until the process is stopped.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Arc<LocalApp>,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
