//! `POST /auth/logout`: ends the current session, or with `{"all": true}`
//! every session of the user; their access tokens fail at once.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::requests::sessions::LogoutRequest;
use shared::usecases::account::Account;
use shared::usecases::notification_profile::drop_tokens_of_ended_sessions;

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Logout, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let body: LogoutRequest = json_request(&request)?;
        let all = body.all.unwrap_or(false);
        let origin = meta.origin();
        let account = Account {
            users: state.stores.users(),
            sessions: state.stores.sessions(),
            audit: state.stores.audit(),
            clock: state.stores.clock.as_ref(),
        };
        let ended = account
            .log_out(&principal.session, all, &origin)
            .await
            .map_err(ApiError::from)?;
        drop_tokens_of_ended_sessions(
            state.stores.push_tokens(),
            principal.session.user_id,
            principal.session.device_id.as_ref(),
            all,
        )
        .await;
        Reply::new(
            StatusCode::OK,
            "Logged out",
            &json!({ "sessions_ended": ended }),
        )
    })
    .await
}
