//! `POST /auth/email/confirm/resend`: `{email}`; mails a new confirmation
//! link if that address has an unverified account. Always 202, whatever
//! the address, so it reveals no accounts; rate limited per address and
//! per source.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{email_links, StoreState};
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};

pub const ROUTE: &str = "POST /auth/email/confirm/resend";

pub type State = StoreState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let links = email_links(&state.stores, &state.config);
        links
            .resend_confirmation(&fields, &meta.origin())
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::ACCEPTED,
            "If the address has an unconfirmed account, a new link is on its way",
            &json!({}),
        )
    })
    .await
}
