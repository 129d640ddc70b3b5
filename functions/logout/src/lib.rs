//! `POST /auth/logout`: ends the current session, or with `{"all": true}`
//! every session of the user; their access tokens fail at once.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{authenticator, key_ring, StartupError, Stores};
use shared::config::Config;
use shared::domain::errors::FieldErrors;
use shared::domain::form::Form;
use shared::http::auth::Authenticator;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;
use shared::usecases::account::Account;
use shared::usecases::Origin;

pub const ROUTE: &str = "POST /auth/logout";

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
        let all = Form::new(&fields)
            .optional_bool("all")
            .map_err(|error| ApiError::validation(FieldErrors::single("all", error)))?
            .unwrap_or(false);
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
        let ended = account
            .log_out(&principal.session, all, &origin)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Logged out",
            &json!({ "sessions_ended": ended }),
        )
    })
    .await
}
