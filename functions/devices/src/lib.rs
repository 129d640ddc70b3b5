//! `GET /users/me/devices`: devices with their live sessions.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::{authenticator, key_ring, StartupError, Stores};
use shared::config::Config;
use shared::http::auth::Authenticator;
use shared::http::{respond, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;
use shared::usecases::devices::Devices;

pub const ROUTE: &str = "GET /users/me/devices";

pub struct State {
    pub stores: Stores,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub config: Config,
}

impl State {
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Result<Self, StartupError> {
        Ok(Self {
            stores: stores.clone(),
            clock: stores.clock.clone(),
            auth: authenticator(config, stores, ring),
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
    respond(ROUTE, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let devices = Devices {
            sessions: state.stores.sessions.as_ref(),
            audit: state.stores.audit.as_ref(),
            clock: state.clock.as_ref(),
        };
        let list = devices
            .list(principal.user.id, principal.session.id)
            .await?;
        Reply::new(StatusCode::OK, "Devices retrieved", &list)
    })
    .await
}
