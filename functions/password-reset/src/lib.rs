//! `POST /auth/password/reset`: `{email}`; mails a reset link when an
//! active account has that address. Always 202 with the same body and the
//! same reads and writes, so the answer reveals no accounts.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::email_links;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};

pub type State = shared::serve::LinkState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::PasswordReset,
        request,
        |meta, request| async move {
            let body = json_request(&request)?;
            let links = email_links(&state.stores, state.link_quotas);
            links
                .request_reset(body, &meta.origin())
                .await
                .map_err(ApiError::from)?;
            Reply::new(
                StatusCode::ACCEPTED,
                "If the address has an account, a reset link is on its way",
                &json!({}),
            )
        },
    )
    .await
}
