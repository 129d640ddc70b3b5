//! `GET /users/me/push-tokens?page=N&limit=M`: `data.items` and the page
//! `meta` of docs/API.md (limit 1–100, default 20).

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::notification_profile;
use shared::http::pagination::PageRequest;
use shared::http::routes::RouteId;
use shared::http::views::PushTokenView;
use shared::http::{respond, ApiError, Reply};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PushTokensList, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let page = PageRequest::from_request(&request)?;
        let tokens = notification_profile(&state.stores)
            .push_tokens(principal.account.id())
            .await
            .map_err(ApiError::from)?;
        let views: Vec<PushTokenView> = tokens.iter().map(PushTokenView::new).collect();
        let (items, meta) = page.slice(&views);
        Reply::page(
            StatusCode::OK,
            "Push tokens",
            &json!({ "items": items }),
            &meta,
        )
    })
    .await
}
