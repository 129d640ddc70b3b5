//! `POST /auth/password/change`: checks the current password, applies the
//! sign-up rules to the new one, ends every other session.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{authenticator, key_ring, StartupError, Stores};
use shared::config::Config;
use shared::crypto::PasswordHasher;
use shared::http::auth::Authenticator;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;
use shared::usecases::account::ChangePassword;
use shared::usecases::Origin;

pub const ROUTE: &str = "POST /auth/password/change";

pub struct State {
    pub stores: Stores,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub config: Config,
    pub hasher: PasswordHasher,
}

impl State {
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Result<Self, StartupError> {
        Ok(Self {
            stores: stores.clone(),
            clock: stores.clock.clone(),
            auth: authenticator(config, stores, ring),
            config: config.clone(),
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

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let origin = Origin {
            request_id: meta.request_id,
            source_ip: meta.source_ip,
        };
        let change = ChangePassword {
            users: state.stores.users.as_ref(),
            sessions: state.stores.sessions.as_ref(),
            hasher: &state.hasher,
            clock: state.clock.as_ref(),
            lockout: state.config.lockout,
        };
        change
            .run(&principal.user, &principal.session, &fields, &origin)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Password changed",
            &json!({ "other_sessions_ended": true }),
        )
    })
    .await
}
