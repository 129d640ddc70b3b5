//! `POST /tasks`: writes the task PENDING and queues it for the worker.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{key_ring, FunctionState, StartupError, Stores};
use shared::background::{queue, QueueName};
use shared::config::Config;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::ports::queues::MessageQueue;
use shared::tokens::keyring::KeyRing;
use shared::usecases::tasks::Tasks;

pub const ROUTE: &str = "POST /tasks";

pub struct State {
    pub base: FunctionState,
    pub queue: Arc<dyn MessageQueue>,
}

impl State {
    pub fn new(base: FunctionState, queue: Arc<dyn MessageQueue>) -> Self {
        Self { base, queue }
    }

    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let ring: Arc<KeyRing> = key_ring(&config).await?;
        let queue = queue(&config, QueueName::Tasks).await?;
        Ok(Self::new(
            FunctionState::new(&stores, &config, ring)?,
            queue,
        ))
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |_, request| async move {
        let base = &state.base;
        let principal = base.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let tasks = Tasks {
            store: base.stores.tasks.as_ref(),
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
