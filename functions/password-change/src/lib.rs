//! `POST /auth/password/change`: checks the current password, applies the
//! sign-up rules to the new one, ends every other session.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::FunctionState;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::account::ChangePassword;

pub const ROUTE: &str = "POST /auth/password/change";

/// Stores, keys, the authentication layer and the hasher, built once per
/// cold start.
pub type State = FunctionState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let origin = meta.origin();
        let change = ChangePassword {
            users: state.stores.users(),
            sessions: state.stores.sessions(),
            hasher: &state.hasher,
            clock: state.stores.clock.as_ref(),
            lockout: state.config.lockout,
        };
        change
            .run(principal.member()?, &principal.session, &fields, &origin)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Password changed",
            &json!({ "other_sessions_ended": true }),
        )
    })
    .await
}
