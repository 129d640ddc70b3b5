//! `POST /tasks`: writes the task PENDING and queues it for the worker.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::background::TaskingState;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::tasks::Tasks;

pub const ROUTE: &str = "POST /tasks";

/// The function state and the tasks queue, built once per cold start.
pub type State = TaskingState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |_, request| async move {
        let base = &state.base;
        let principal = base.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let tasks = Tasks {
            store: base.stores.tasks(),
            clock: base.stores.clock.as_ref(),
        };
        let task = tasks
            .create(state.queue.as_ref(), principal.account.id(), &fields)
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::ACCEPTED,
            "Task queued",
            &json!({ "task_id": task.id.to_string(), "status": task.status.as_str() }),
        )
    })
    .await
}
