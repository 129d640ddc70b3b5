//! `POST /users/me/push-tokens`: `{platform: fcm|apns|web, token,
//! device_id?}`. 201 for a new token; 200 when this account held it
//! already (refreshed). A token another account held moves here.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::notification_profile;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::views::PushTokenView;
use shared::http::{respond, ApiError, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PushTokenCreate, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let body = json_request(&request)?;
        let (token, new) = notification_profile(&state.stores)
            .register_push_token(principal.account.id(), body)
            .await
            .map_err(ApiError::from)?;
        let (status, message) = if new {
            (StatusCode::CREATED, "Push token registered")
        } else {
            (StatusCode::OK, "Push token refreshed")
        };
        Reply::new(status, message, &PushTokenView::new(&token))
    })
    .await
}
