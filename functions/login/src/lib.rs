//! `POST /auth/login`: the handler and the state it needs.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{StartupError, Stores};
use shared::crypto::PasswordHasher;
use shared::domain::{LockoutPolicy, ProfileFields, Quota, SessionPolicy};
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::views::AccountView;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::session_tokens::jwt::SessionTokenSettings;
use shared::session_tokens::keyring::KeyRing;
use shared::usecases::login::LogIn;

/// What a login uses, built once per cold start.
pub struct State {
    pub stores: Stores,
    pub ring: Arc<KeyRing>,
    pub hasher: PasswordHasher,
    pub session_tokens: SessionTokenSettings,
    pub sessions: SessionPolicy,
    pub lockout: LockoutPolicy,
    pub ip_quota: Quota,
    pub allow_unverified: bool,
    pub profile_fields: ProfileFields,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let config = &resources.config;
        Ok(Self {
            stores: resources.stores.clone(),
            ring: resources.signing_keys()?,
            hasher: resources.hasher()?,
            session_tokens: config.session_tokens.clone(),
            sessions: config.sessions,
            lockout: config.lockout,
            ip_quota: config.login_ip_quota,
            allow_unverified: config.allow_unverified_login,
            profile_fields: config.profile_fields,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Login, request, |meta, request| async move {
        let body = json_request(&request)?;
        let keys = state.ring.current().await?;
        let origin = meta.origin();
        let log_in = LogIn {
            users: state.stores.users(),
            sessions: state.stores.sessions(),
            audit: state.stores.audit(),
            hasher: &state.hasher,
            clock: state.stores.clock.as_ref(),
            keys: &keys,
            token_settings: &state.session_tokens,
            session_policy: state.sessions,
            lockout: state.lockout,
            ip_quota: state.ip_quota,
            allow_unverified: state.allow_unverified,
        };
        let logged_in = log_in.run(body, &origin).await.map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(logged_in.user.id));
        let mut data = serde_json::to_value(logged_in.tokens.view())
            .map_err(|e| ApiError::internal(Box::new(e)))?;
        data["user"] = json!(AccountView::new(&logged_in.user, &state.profile_fields));
        Reply::new(StatusCode::OK, "Login successful", &data)
    })
    .await
}
