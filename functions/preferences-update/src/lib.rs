//! `PUT /users/me/preferences`: `{"marketing": {"email": true}, …}`;
//! categories and channels left out keep their value; security notices
//! always go by email.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::notification_profile;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::PreferencesUpdate,
        request,
        |_, request| async move {
            let principal = state.auth.authenticate(&request).await?;
            let body = json_request(&request)?;
            let preferences = notification_profile(&state.stores)
                .update_preferences(principal.account.id(), &body)
                .await
                .map_err(ApiError::from)?;
            Reply::new(
                StatusCode::OK,
                "Notification preferences updated",
                &preferences,
            )
        },
    )
    .await
}
