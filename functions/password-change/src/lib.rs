//! `POST /auth/password/change`: checks the current password, applies the
//! sign-up rules to the new one, ends every other session.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{StartupError, Stores};
use shared::crypto::PasswordHasher;
use shared::domain::LockoutPolicy;
use shared::http::auth::Authenticator;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::usecases::account::ChangePassword;

/// What a password change uses, built once per cold start.
pub struct State {
    pub auth: Authenticator,
    pub stores: Stores,
    pub hasher: PasswordHasher,
    pub lockout: LockoutPolicy,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            hasher: resources.hasher()?,
            lockout: resources.config.lockout,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::PasswordChange,
        request,
        |meta, request| async move {
            let principal = state.auth.authenticate(&request).await?;
            let member = principal.open_member().await?;
            let body = json_request(&request)?;
            let origin = meta.origin();
            let change = ChangePassword {
                users: state.stores.users(),
                sessions: state.stores.sessions(),
                hasher: &state.hasher,
                clock: state.stores.clock.as_ref(),
                lockout: state.lockout,
            };
            change
                .run(&member, &principal.session, &body, &origin)
                .await
                .map_err(ApiError::from)?;
            Reply::new(
                StatusCode::OK,
                "Password changed",
                &json!({ "other_sessions_ended": true }),
            )
        },
    )
    .await
}
