//! The local server: an axum front that turns each HTTP request into the
//! API Gateway request the Lambdas receive, and routes it by the shared
//! route table to the same handler functions.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::app::{StartupError, Stores};
use shared::config::Config;
use shared::http::body::MAX_BODY_BYTES;
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond_error, ApiError};

/// The state of every function, built once.
pub struct LocalApp {
    pub signup: signup::SignUpState,
    pub health: health::HealthState,
}

impl LocalApp {
    pub fn new(stores: &Stores, config: &Config) -> Result<Self, StartupError> {
        Ok(Self {
            signup: signup::SignUpState::new(stores, config)?,
            health: health::HealthState::new(stores),
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
                    RouteId::Health => health::handle(&self.health, request).await,
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
