//! `GET /users/me`: the signed-in user (one read: user and session).

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{authenticator, key_ring, StartupError, Stores};
use shared::config::Config;
use shared::http::auth::Authenticator;
use shared::http::views::AccountView;
use shared::http::{respond, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;

pub const ROUTE: &str = "GET /users/me";

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
        Reply::new(
            StatusCode::OK,
            "User retrieved",
            &json!({ "user": AccountView::new(&principal.user) }),
        )
    })
    .await
}
