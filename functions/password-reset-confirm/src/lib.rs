//! `POST /auth/password/reset/confirm`: `{token, new_password,
//! confirm_password}`; sets the password under the sign-up rules, spends
//! the token and ends every session, in one write.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::email_links;
use shared::app::{StartupError, Stores};
use shared::crypto::PasswordHasher;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Resources};
use shared::usecases::email_links::LinkQuotas;
use shared::usecases::email_links::ResetPassword;

/// The stores, the link quotas and the hasher, built once per cold start.
pub struct State {
    pub stores: Stores,
    pub link_quotas: LinkQuotas,
    pub hasher: PasswordHasher,
}

impl Endpoint for State {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            stores: resources.stores.clone(),
            link_quotas: resources.config.link_quotas,
            hasher: resources.hasher()?,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::PasswordResetConfirm,
        request,
        |meta, request| async move {
            let body = json_request(&request)?;
            let reset = ResetPassword {
                links: email_links(&state.stores, state.link_quotas),
                hasher: &state.hasher,
            };
            reset
                .run(&body, &meta.origin())
                .await
                .map_err(ApiError::from)?;
            Reply::new(
                StatusCode::OK,
                "Password reset",
                &json!({ "sessions_ended": true }),
            )
        },
    )
    .await
}
