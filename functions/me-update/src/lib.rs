//! `PATCH /users/me`: profile fields under the sign-up rules; username and
//! email uniqueness kept in the same transaction.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::FunctionState;
use shared::http::body::json_object;
use shared::http::views::AccountView;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::account::Account;

pub const ROUTE: &str = "PATCH /users/me";

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = FunctionState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let origin = meta.origin();
        let account = Account {
            users: state.stores.users.as_ref(),
            sessions: state.stores.sessions.as_ref(),
            audit: state.stores.audit.as_ref(),
            clock: state.stores.clock.as_ref(),
        };
        let user = account
            .update_profile(principal.member()?, &fields, &origin)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::OK,
            "User updated",
            &json!({ "user": AccountView::new(&user) }),
        )
    })
    .await
}
