//! The local server: an axum front that turns each HTTP request into the
//! API Gateway request the Lambdas receive, and routes it by the shared
//! route table to the same handler functions.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::adapters::email::LocalMailbox;
use shared::app::{FunctionState, StartupError, StoreState, Stores};
use shared::background::{poll_forever, poll_once, relay_forever, Queues, TaskingState};
use shared::config::Config;
use shared::http::body::MAX_BODY_BYTES;
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond_error, ApiError};
use shared::tokens::keyring::KeyRing;
use shared::usecases::relay::Relay;
use shared::usecases::task_runner::TaskRunner;

/// The state of every function, built once, over one store and one key
/// ring.
pub struct LocalApp {
    pub signup: signup::SignUpState,
    pub phone_signup: phone_signup::PhoneSignUpState,
    pub health: health::HealthState,
    pub login: login::State,
    pub token_refresh: token_refresh::State,
    pub logout: logout::State,
    pub password_change: password_change::State,
    pub jwks: jwks::State,
    pub me: me::State,
    pub me_update: me_update::State,
    pub devices: devices::State,
    pub device_delete: device_delete::State,
    pub tasks_create: tasks_create::State,
    pub task_get: task_get::State,
    pub task_revoke: task_revoke::State,
    pub email_confirm: email_confirm::State,
    pub email_confirm_resend: email_confirm_resend::State,
    pub password_reset: password_reset::State,
    pub password_reset_confirm: password_reset_confirm::State,
    pub pre_register: pre_register::State,
    pub preferences_get: preferences_get::State,
    pub preferences_update: preferences_update::State,
    pub push_tokens_list: push_tokens_list::State,
    pub push_token_create: push_token_create::State,
    pub push_token_get: push_token_get::State,
    pub push_token_update: push_token_update::State,
    pub push_token_delete: push_token_delete::State,
    pub push_tokens_deactivate: push_tokens_deactivate::State,
    pub account_delete: account_delete::State,
    pub account_export: account_export::State,
    pub openapi: openapi::State,
    pub task_worker: task_worker::State,
    pub notification_worker: notification_worker::State,
    pub stores: Stores,
    pub queues: Queues,
    /// Where emails go in local runs: `GET /_local/outbox`.
    pub mailbox: Arc<LocalMailbox>,
}

impl LocalApp {
    /// Over in-process queues and a local mailbox.
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Result<Self, StartupError> {
        let queues = Queues::memory(config.task_max_receives);
        let runner = shared::app::task_runner(stores);
        Self::with_background(stores, config, ring, queues, runner)
    }

    pub fn with_background(
        stores: &Stores,
        config: &Config,
        ring: Arc<KeyRing>,
        queues: Queues,
        runner: Arc<dyn TaskRunner>,
    ) -> Result<Self, StartupError> {
        let base = || FunctionState::new(stores, config, ring.clone());
        let plain = || StoreState::new(stores, config);
        let mailbox = Arc::new(LocalMailbox::default());
        Ok(Self {
            tasks_create: TaskingState::new(base()?, queues.tasks.clone()),
            task_get: base()?,
            task_revoke: base()?,
            email_confirm: plain(),
            email_confirm_resend: plain(),
            password_reset: plain(),
            password_reset_confirm: base()?,
            pre_register: plain(),
            preferences_get: base()?,
            preferences_update: base()?,
            push_tokens_list: base()?,
            push_token_create: base()?,
            push_token_get: base()?,
            push_token_update: base()?,
            push_token_delete: base()?,
            push_tokens_deactivate: base()?,
            account_delete: TaskingState::new(base()?, queues.tasks.clone()),
            account_export: TaskingState::new(base()?, queues.tasks.clone()),
            openapi: openapi::State::new(),
            task_worker: task_worker::State::new(stores, config, queues.tasks.clone(), runner),
            notification_worker: notification_worker::State::new(stores, config, mailbox.clone()),
            stores: stores.clone(),
            queues: queues.clone(),
            mailbox,
            signup: signup::SignUpState::new(stores, config)?,
            phone_signup: phone_signup::PhoneSignUpState::new(stores, config, ring.clone())?,
            health: health::HealthState::new(stores, &queues),
            login: base()?,
            token_refresh: base()?,
            logout: base()?,
            password_change: base()?,
            jwks: jwks::State { ring: ring.clone() },
            me: base()?,
            me_update: base()?,
            devices: base()?,
            device_delete: base()?,
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
                match route.id {
                    RouteId::SignUp => signup::handle(&self.signup, request).await,
                    RouteId::PhoneSignUp => phone_signup::handle(&self.phone_signup, request).await,
                    RouteId::Health => health::handle(&self.health, request).await,
                    RouteId::Login => login::handle(&self.login, request).await,
                    RouteId::TokenRefresh => {
                        token_refresh::handle(&self.token_refresh, request).await
                    }
                    RouteId::Logout => logout::handle(&self.logout, request).await,
                    RouteId::PasswordChange => {
                        password_change::handle(&self.password_change, request).await
                    }
                    RouteId::Jwks => jwks::handle(&self.jwks, request).await,
                    RouteId::Me => me::handle(&self.me, request).await,
                    RouteId::MeUpdate => me_update::handle(&self.me_update, request).await,
                    RouteId::Devices => devices::handle(&self.devices, request).await,
                    RouteId::DeviceDelete => {
                        device_delete::handle(&self.device_delete, request).await
                    }
                    RouteId::TaskCreate => tasks_create::handle(&self.tasks_create, request).await,
                    RouteId::TaskGet => task_get::handle(&self.task_get, request).await,
                    RouteId::TaskRevoke => task_revoke::handle(&self.task_revoke, request).await,
                    RouteId::EmailConfirm => {
                        email_confirm::handle(&self.email_confirm, request).await
                    }
                    RouteId::EmailConfirmResend => {
                        email_confirm_resend::handle(&self.email_confirm_resend, request).await
                    }
                    RouteId::PasswordReset => {
                        password_reset::handle(&self.password_reset, request).await
                    }
                    RouteId::PasswordResetConfirm => {
                        password_reset_confirm::handle(&self.password_reset_confirm, request).await
                    }
                    RouteId::PreRegister => pre_register::handle(&self.pre_register, request).await,
                    RouteId::PreferencesGet => {
                        preferences_get::handle(&self.preferences_get, request).await
                    }
                    RouteId::PreferencesUpdate => {
                        preferences_update::handle(&self.preferences_update, request).await
                    }
                    RouteId::PushTokensList => {
                        push_tokens_list::handle(&self.push_tokens_list, request).await
                    }
                    RouteId::PushTokenCreate => {
                        push_token_create::handle(&self.push_token_create, request).await
                    }
                    RouteId::PushTokenGet => {
                        push_token_get::handle(&self.push_token_get, request).await
                    }
                    RouteId::PushTokenUpdate => {
                        push_token_update::handle(&self.push_token_update, request).await
                    }
                    RouteId::PushTokenDelete => {
                        push_token_delete::handle(&self.push_token_delete, request).await
                    }
                    RouteId::PushTokensDeactivate => {
                        push_tokens_deactivate::handle(&self.push_tokens_deactivate, request).await
                    }
                    RouteId::AccountDelete => {
                        account_delete::handle(&self.account_delete, request).await
                    }
                    RouteId::AccountExport => {
                        account_export::handle(&self.account_export, request).await
                    }
                    RouteId::OpenApi => openapi::handle(&self.openapi, request).await,
                    RouteId::Docs => docs::page(request).await,
                    RouteId::DocsAsset => docs::asset(request).await,
                }
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
            let notifications = poll_once(
                self.queues.notifications.as_ref(),
                std::time::Duration::ZERO,
                &|event| notification_worker::handle(&self.notification_worker, event),
            )
            .await
            .unwrap_or(0);
            handled += tasks + notifications;
            if relayed + tasks + notifications == 0 {
                return handled;
            }
        }
    }

    /// Runs the relay and both workers in this process until it ends, as
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
        .fallback(serve)
        .with_state(app)
}

/// `GET /_local/outbox`: the emails sent so far, newest last. Only the
/// local server has it (it is no route of the API or the template).
async fn local_outbox(State(app): State<Arc<LocalApp>>) -> axum::response::Response {
    let body = serde_json::json!({ "success": true, "message": "Local outbox", "data": { "emails": app.mailbox.messages() } });
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
