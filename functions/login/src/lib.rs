//! `POST /auth/login`: the handler and the state it needs.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{key_ring, StartupError, Stores};
use shared::config::Config;
use shared::crypto::PasswordHasher;
use shared::http::body::json_object;
use shared::http::views::AccountView;
use shared::http::{respond, ApiError, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;
use shared::usecases::login::LogIn;
use shared::usecases::Origin;

pub const ROUTE: &str = "POST /auth/login";

pub struct State {
    pub stores: Stores,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub ring: Arc<KeyRing>,
    pub config: Config,
}

impl State {
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Result<Self, StartupError> {
        Ok(Self {
            stores: stores.clone(),
            hasher: PasswordHasher::new(config.argon2)?,
            clock: stores.clock.clone(),
            ring,
            config: config.clone(),
        })
    }

    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let ring = key_ring(&config).await?;
        Self::new(&stores, &config, ring)
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let keys = state
            .ring
            .current()
            .await
            .map_err(|e| ApiError::unavailable(Box::new(e)))?;
        let origin = Origin {
            request_id: meta.request_id,
            source_ip: meta.source_ip,
        };
        let log_in = LogIn {
            users: state.stores.users.as_ref(),
            sessions: state.stores.sessions.as_ref(),
            audit: state.stores.audit.as_ref(),
            hasher: &state.hasher,
            clock: state.clock.as_ref(),
            keys: &keys,
            token_settings: &state.config.tokens,
            session_policy: state.config.sessions,
            lockout: state.config.lockout,
            ip_quota: state.config.login_ip_quota,
        };
        let logged_in = log_in.run(&fields, &origin).await.map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(logged_in.user.id));
        let mut data = serde_json::to_value(logged_in.tokens.view())
            .map_err(|e| ApiError::internal(Box::new(e)))?;
        data["user"] = json!(AccountView::new(&logged_in.user));
        Reply::new(StatusCode::OK, "Login successful", &data)
    })
    .await
}
