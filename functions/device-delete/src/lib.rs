//! `DELETE /users/me/devices/{id}`: ends that device's sessions and forgets it.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::RequestExt;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{authenticator, key_ring, StartupError, Stores};
use shared::config::Config;
use shared::domain::DeviceId;
use shared::http::auth::Authenticator;
use shared::http::{respond, ApiError, Reply};
use shared::ports::Clock;
use shared::tokens::keyring::KeyRing;
use shared::usecases::devices::Devices;
use shared::usecases::Origin;

pub const ROUTE: &str = "DELETE /users/me/devices/{id}";

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
        // Another user's device, or none: the same 404.
        let device_id = request
            .path_parameters_ref()
            .and_then(|params| params.first("id"))
            .and_then(|id| DeviceId::parse(id).ok())
            .ok_or_else(ApiError::not_found)?;
        let origin = Origin {
            request_id: meta.request_id,
            source_ip: meta.source_ip,
        };
        let devices = Devices {
            sessions: state.stores.sessions.as_ref(),
            audit: state.stores.audit.as_ref(),
            clock: state.clock.as_ref(),
        };
        if !devices
            .remove(principal.user.id, &device_id, &origin)
            .await?
        {
            return Err(ApiError::not_found());
        }
        Reply::new(
            StatusCode::OK,
            "Device removed",
            &json!({ "device_id": device_id.as_str() }),
        )
    })
    .await
}
