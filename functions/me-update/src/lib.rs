//! `PATCH /users/me`: profile fields under the sign-up rules; username and
//! email uniqueness kept in the same transaction.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{authenticator, key_ring, StartupError, Stores};
use shared::config::Config;
use shared::http::auth::Authenticator;
use shared::http::body::json_object;
use shared::http::views::AccountView;
use shared::http::{respond, ApiError, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;
use shared::usecases::account::Account;
use shared::usecases::Origin;

pub const ROUTE: &str = "PATCH /users/me";

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
    respond(ROUTE, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let origin = Origin {
            request_id: meta.request_id,
            source_ip: meta.source_ip,
        };
        let account = Account {
            users: state.stores.users.as_ref(),
            sessions: state.stores.sessions.as_ref(),
            audit: state.stores.audit.as_ref(),
            clock: state.clock.as_ref(),
        };
        let user = account
            .update_profile(&principal.user, &fields, &origin)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "User updated",
            &json!({ "user": AccountView::new(&user) }),
        )
    })
    .await
}
