//! `DELETE /users/me`: `{"password": …}` (phone accounts: `{"phone_number":
//! …}`). The account is deactivated and every session ended at once; a
//! background task deletes its data. 202 with the task.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::background::TaskingState;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::account_tasks::DeleteAccount;

pub const ROUTE: &str = "DELETE /users/me";

/// The function state and the tasks queue, built once per cold start.
pub type State = TaskingState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let base = &state.base;
        let principal = base.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let delete = DeleteAccount {
            data: base.stores.account_data(),
            sessions: base.stores.sessions(),
            hasher: &base.hasher,
            clock: base.stores.clock.as_ref(),
            lockout: base.config.lockout,
        };
        let task = delete
            .run(
                &principal.account,
                &fields,
                state.queue.as_ref(),
                &meta.origin(),
            )
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::ACCEPTED,
            "Account deletion started",
            &json!({ "task_id": task.id.to_string(), "status": task.status.as_str() }),
        )
    })
    .await
}
