//! `GET /.well-known/jwks.json`: the public keys, as a bare RFC 7517
//! document that API Gateway authorizers and JWT libraries read.

use std::sync::Arc;

use http::header::{HeaderValue, CACHE_CONTROL};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::{key_ring, StartupError};
use shared::config::Config;
use shared::http::routes::RouteId;
use shared::http::{respond, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::session_tokens::keyring::KeyRing;

pub struct State {
    pub ring: Arc<KeyRing>,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            ring: resources.signing_keys()?,
        })
    }

    /// The keys only: the function reads no table.
    async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        Ok(Self {
            ring: key_ring(&config).await?,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Jwks, request, |_, _| async move {
        let keys = state.ring.current().await?;
        // Cacheable for five minutes: JWT libraries and API Gateway
        // authorizers fetch again when a token names a kid they lack.
        Ok(Reply::bare(StatusCode::OK, &keys.jwks())?.with_header(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
    })
    .await
}
