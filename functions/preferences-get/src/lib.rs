//! `GET /users/me/preferences`: which channels carry which notices (the
//! defaults until the user changes them).

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::notification_profile;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PreferencesGet, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let preferences = notification_profile(&state.stores)
            .preferences(principal.account.id())
            .await
            .map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Notification preferences", &preferences)
    })
    .await
}
