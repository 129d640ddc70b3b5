//! `GET /users/me`: the signed-in user (one read: user and session).

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::routes::RouteId;
use shared::http::views::SignedInView;
use shared::http::{respond, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Me, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        Reply::new(
            StatusCode::OK,
            "User retrieved",
            &json!({ "user": SignedInView::new(&principal.account, &state.profile_fields) }),
        )
    })
    .await
}
