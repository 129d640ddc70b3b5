//! `DELETE /users/me/push-tokens/{id}`: drops the token and its claim.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::notification_profile;
use shared::domain::push_token::PushTokenId;
use shared::http::body::path_parameter;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PushTokenDelete, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let id = path_parameter(&request, "id", PushTokenId::parse)?;
        notification_profile(&state.stores)
            .delete_push_token(principal.account.id(), id)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Push token deleted",
            &json!({ "id": id.to_string() }),
        )
    })
    .await
}
