//! `GET /.well-known/openid-configuration`: the OpenID Provider metadata a
//! JWT verifier needs (OpenID Connect Discovery 1.0 §3), bare JSON, so API
//! Gateway JWT authorizers, load balancers and JWT libraries verify this
//! service's access tokens from its issuer URL alone.

use std::sync::Arc;

use http::header::{HeaderValue, CACHE_CONTROL};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{key_ring, StartupError};
use shared::config::Config;
use shared::http::base_url::public_base_url;
use shared::http::routes::RouteId;
use shared::http::{respond, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::session_tokens::keyring::KeyRing;

/// The issuer, the base URL and the keys (for the algorithms they use).
pub struct State {
    pub issuer: String,
    pub base_url: Option<String>,
    pub ring: Arc<KeyRing>,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self::new(&resources.config, resources.signing_keys()?))
    }

    /// The keys only: the function reads no table.
    async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let ring = key_ring(&config).await?;
        Ok(Self::new(&config, ring))
    }
}

impl State {
    fn new(config: &Config, ring: Arc<KeyRing>) -> Self {
        Self {
            issuer: config.session_tokens.issuer.clone(),
            base_url: config.public_base_url.clone(),
            ring,
        }
    }

    /// The configured base URL; without one (a deployment that has not set
    /// `PUBLIC_BASE_URL`), the address the request came to.
    fn base_url(&self, request: &Request) -> String {
        public_base_url(self.base_url.as_deref(), request.headers())
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::OpenIdConfiguration,
        request,
        |_, request| async move {
            let keys = state.ring.current().await?;
            let algorithms: Vec<&str> = keys.algorithms().iter().map(|alg| alg.name()).collect();
            let base = state.base_url(&request);
            let document = json!({
                "issuer": state.issuer,
                "jwks_uri": format!("{base}/.well-known/jwks.json"),
                // Access tokens come from the service's own login routes, not
                // from an OAuth authorization endpoint.
                "response_types_supported": ["token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": algorithms,
                "claims_supported": ["sub", "sid", "iat", "nbf", "exp", "iss", "aud", "jti"],
            });
            // Cacheable like the JWKS it points to.
            Ok(Reply::bare(StatusCode::OK, &document)?.with_header(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ))
        },
    )
    .await
}
