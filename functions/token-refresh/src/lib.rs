//! `POST /auth/token/refresh`: the handler and the state it needs.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::{key_ring, StartupError, Stores};
use shared::config::Config;
use shared::domain::errors::{FieldError, FieldErrors};
use shared::domain::form::Form;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;
use shared::usecases::refresh::Refresh;
use shared::usecases::Origin;

pub const ROUTE: &str = "POST /auth/token/refresh";

pub struct State {
    pub stores: Stores,
    pub clock: Arc<dyn Clock>,
    pub ring: Arc<KeyRing>,
    pub config: Config,
}

impl State {
    pub fn new(stores: &Stores, config: &Config, ring: Arc<KeyRing>) -> Self {
        Self {
            stores: stores.clone(),
            clock: stores.clock.clone(),
            ring,
            config: config.clone(),
        }
    }

    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let ring = key_ring(&config).await?;
        Ok(Self::new(&stores, &config, ring))
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let form = Form::new(&fields);
        let token = match fields.get("refresh_token") {
            None | Some(serde_json::Value::Null) => None,
            Some(_) => Some(form.required_secret("refresh_token").map_err(
                |error: FieldError| {
                    ApiError::validation(FieldErrors::single("refresh_token", error))
                },
            )?),
        };
        let keys = state
            .ring
            .current()
            .await
            .map_err(|e| ApiError::unavailable(Box::new(e)))?;
        let origin = Origin {
            request_id: meta.request_id,
            source_ip: meta.source_ip,
        };
        let refresh = Refresh {
            sessions: state.stores.sessions.as_ref(),
            clock: state.clock.as_ref(),
            keys: &keys,
            token_settings: &state.config.tokens,
            policy: state.config.sessions,
        };
        let pair = refresh.run(token, &origin).await.map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Token refreshed", &pair.view())
    })
    .await
}
