//! `GET /users/me/push-tokens/{id}`: another user's token is a 404.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::notification_profile;
use shared::domain::push_token::PushTokenId;
use shared::http::body::path_parameter;
use shared::http::routes::RouteId;
use shared::http::views::PushTokenView;
use shared::http::{respond, ApiError, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PushTokenGet, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let id = path_parameter(&request, "id", PushTokenId::parse)?;
        let token = notification_profile(&state.stores)
            .push_token(principal.account.id(), id)
            .await
            .map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Push token", &PushTokenView::new(&token))
    })
    .await
}
