//! `POST /auth/password/reset/confirm`: `{token, new_password,
//! confirm_password}`; sets the password under the sign-up rules, spends
//! the token and ends every session, in one write.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{email_links, FunctionState};
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::email_links::ResetPassword;

pub const ROUTE: &str = "POST /auth/password/reset/confirm";

/// Stores and the hasher, built once per cold start.
pub type State = FunctionState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let reset = ResetPassword {
            links: email_links(&state.stores, &state.config),
            hasher: &state.hasher,
        };
        reset
            .run(&fields, &meta.origin())
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "Password reset",
            &json!({ "sessions_ended": true }),
        )
    })
    .await
}
