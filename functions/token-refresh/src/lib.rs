//! `POST /auth/token/refresh`: the handler and the state it needs.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::{StartupError, Stores};
use shared::domain::SessionPolicy;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::session_tokens::jwt::SessionTokenSettings;
use shared::session_tokens::keyring::KeyRing;
use shared::usecases::refresh::Refresh;

/// What a refresh uses, built once per cold start.
pub struct State {
    pub stores: Stores,
    pub ring: Arc<KeyRing>,
    pub session_tokens: SessionTokenSettings,
    pub sessions: SessionPolicy,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            stores: resources.stores.clone(),
            ring: resources.signing_keys()?,
            session_tokens: resources.config.session_tokens.clone(),
            sessions: resources.config.sessions,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::TokenRefresh, request, |meta, request| async move {
        let body = json_request(&request)?;
        let keys = state.ring.current().await?;
        let origin = meta.origin();
        let refresh = Refresh {
            sessions: state.stores.sessions(),
            clock: state.stores.clock.as_ref(),
            keys: &keys,
            token_settings: &state.session_tokens,
            policy: state.sessions,
        };
        let pair = refresh.run(body, &origin).await.map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Token refreshed", &pair.view())
    })
    .await
}
