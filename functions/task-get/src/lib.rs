//! `GET /tasks/{id}`: the task's state, result or error; another user's
//! task is a 404 like an unknown one.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::domain::TaskId;
use shared::http::body::path_parameter;
use shared::http::routes::RouteId;
use shared::http::views::TaskView;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::tasks::Tasks;

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::TaskGet, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let id = path_parameter(&request, "id", TaskId::parse)?;
        let tasks = Tasks {
            store: state.stores.tasks(),
            clock: state.stores.clock.as_ref(),
        };
        let task = tasks
            .fetch(principal.account.id(), id)
            .await
            .map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Task found", &TaskView::new(&task))
    })
    .await
}
