//! `POST /auth/pre-register`: `{email}`; collects an address before
//! sign-up. Idempotent: asking again answers the same and changes nothing.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::pre_register::PreRegister;

pub type State = shared::serve::LinkState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PreRegister, request, |meta, request| async move {
        let body = json_request(&request)?;
        let pre_register = PreRegister {
            store: state.stores.pre_registrations(),
            clock: state.stores.clock.as_ref(),
            quotas: state.link_quotas,
        };
        let email = pre_register
            .run(body, &meta.origin())
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Email pre-registered",
            &json!({ "email": email.as_str() }),
        )
    })
    .await
}
