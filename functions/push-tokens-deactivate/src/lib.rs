//! `POST /users/me/push-tokens/deactivate-all`: every token of the user
//! stops receiving pushes (they stay listed, inactive).

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::notification_profile;
use shared::http::body::no_fields;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::PushTokensDeactivate,
        request,
        |_, request| async move {
            let principal = state.auth.authenticate(&request).await?;
            no_fields(&request)?;
            let changed = notification_profile(&state.stores)
                .deactivate_push_tokens(principal.account.id())
                .await
                .map_err(ApiError::from)?;
            Reply::new(
                StatusCode::OK,
                "Push tokens deactivated",
                &json!({ "deactivated": changed }),
            )
        },
    )
    .await
}
