//! `POST /users/me/export`: a background task gathers the account's data;
//! poll `GET /tasks/{id}` for it. 202 with the task.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::background::TaskingState;
use shared::domain::{Task, TaskKind};
use shared::http::body::no_fields;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::tasks::Tasks;

pub const ROUTE: &str = "POST /users/me/export";

/// The function state and the tasks queue, built once per cold start.
pub type State = TaskingState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |_, request| async move {
        let base = &state.base;
        let principal = base.auth.authenticate(&request).await?;
        no_fields(&request)?;
        let tasks = Tasks {
            store: base.stores.tasks(),
            clock: base.stores.clock.as_ref(),
        };
        let task = Task::new(
            principal.account.id(),
            TaskKind::ExportData,
            base.stores.clock.now(),
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
