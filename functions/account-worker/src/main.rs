//! The account worker: `task_worker::handle` on the account tasks queue
//! (deletion, export), with its own reserved concurrency.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::background::QueueName;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = task_worker::State::from_env_for(QueueName::AccountTasks).await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let until = task_worker::until(event.context.deadline);
        Ok::<_, std::convert::Infallible>(task_worker::handle(state, event.payload, until).await)
    }))
    .await
}
