//! `POST /auth/email/confirm/resend`: `{email}`; mails a new confirmation
//! link if that address has an unverified account. Always 202, whatever
//! the address, so it reveals no accounts; rate limited per address and
//! per source.

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
        RouteId::EmailConfirmResend,
        request,
        |meta, request| async move {
            let body = json_request(&request)?;
            let links = email_links(&state.stores, state.link_quotas);
            links
                .resend_confirmation(body, &meta.origin())
                .await
                .map_err(ApiError::from)?;
            Reply::new(
                StatusCode::ACCEPTED,
                "If the address has an unconfirmed account, a new link is on its way",
                &json!({}),
            )
        },
    )
    .await
}
