//! `POST /users/me/export`: a background task gathers the account's data;
//! poll `GET /tasks/{id}` for it. 202 with the task.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::{Task, TaskKind};
use shared::http::body::no_fields;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::tasks::Tasks;

/// The caller, the stores and the account tasks queue, built once per
/// cold start.
pub type State = shared::serve::AccountTaskingState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AccountExport, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        no_fields(&request)?;
        let tasks = Tasks {
            store: state.stores.tasks(),
            clock: state.stores.clock.as_ref(),
        };
        let task = Task::new(
            principal.account.id(),
            TaskKind::ExportData,
            state.stores.clock.now(),
        );
        let task = tasks
            .enqueue(state.queue.as_ref(), task)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::ACCEPTED,
            "Export started",
            &json!({ "task_id": task.id.to_string(), "status": task.status.as_str() }),
        )
    })
    .await
}
