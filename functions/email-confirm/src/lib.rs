//! `POST /auth/email/confirm`: `{token}` from the confirmation email;
//! marks the address verified. Single use, valid 24 hours.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::email_links;
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};

pub type State = shared::serve::LinkState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::EmailConfirm, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let links = email_links(&state.stores, state.link_quotas);
        links
            .confirm(&fields, &meta.origin())
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
