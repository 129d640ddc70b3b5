//! `POST /auth/email/confirm`: `{token}` from the confirmation email;
//! marks the address verified. Single use, valid 24 hours.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::email_links;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};

pub type State = shared::serve::LinkState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::EmailConfirm, request, |meta, request| async move {
        let body = json_request(&request)?;
        let links = email_links(&state.stores, state.link_quotas);
        links
            .confirm(body, &meta.origin())
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Email confirmed",
            &json!({ "email_verified": true }),
        )
    })
    .await
}
