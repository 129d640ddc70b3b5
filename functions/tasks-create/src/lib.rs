//! `POST /tasks`: writes the task PENDING and queues it for the worker.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::tasks::Tasks;

/// The caller, the stores and the tasks queue, built once per cold start.
pub type State = shared::serve::TaskingState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::TaskCreate, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let body = json_request(&request)?;
        let tasks = Tasks {
            store: state.stores.tasks(),
            clock: state.stores.clock.as_ref(),
        };
        let task = tasks
            .create(
                state.queue.as_ref(),
                principal.account.id(),
                body,
                state.max_open_tasks,
                &state.credit_costs,
            )
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
