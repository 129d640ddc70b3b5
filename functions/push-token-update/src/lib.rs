//! `PUT /users/me/push-tokens/{id}`: `{token?, active?, platform?,
//! device_id?}`; a new `token` value keeps one owner per value.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::notification_profile;
use shared::domain::push_token::PushTokenId;
use shared::http::body::{json_request, path_parameter};
use shared::http::routes::RouteId;
use shared::http::views::PushTokenView;
use shared::http::{respond, ApiError, Reply};
use shared::requests::push_tokens::PushTokenUpdateRequest;

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PushTokenUpdate, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let id = path_parameter(&request, "id", PushTokenId::parse)?;
        let body: PushTokenUpdateRequest = json_request(&request)?;
        let token = notification_profile(&state.stores)
            .update_push_token(principal.account.id(), id, body.into())
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Push token updated",
            &PushTokenView::new(&token),
        )
    })
    .await
}
