//! The local server: an axum front that turns each HTTP request into the
//! API Gateway request the Lambdas receive, and routes it by the shared
//! route table to the same handler functions.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::app::{FunctionState, StartupError, Stores};
use shared::config::Config;
use shared::http::body::MAX_BODY_BYTES;
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond_error, ApiError};
use shared::tokens::keyring::KeyRing;

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
}

impl LocalApp {
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Result<Self, StartupError> {
        let base = || FunctionState::new(stores, config, ring.clone());
        Ok(Self {
            signup: signup::SignUpState::new(stores, config)?,
            phone_signup: phone_signup::PhoneSignUpState::new(stores, config, ring.clone())?,
            health: health::HealthState::new(stores),
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
                }
            }
            RouteMatch::MethodNotAllowed { .. } | RouteMatch::NotFound => {
                fallback::handle(request).await
            }
        }
    }
}

pub fn router(app: Arc<LocalApp>) -> axum::Router {
    axum::Router::new().fallback(serve).with_state(app)
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
