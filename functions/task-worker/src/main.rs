use lambda_runtime::{service_fn, Error, LambdaEvent};

use aws_lambda_events::event::sqs::SqsEvent;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = task_worker::State::from_env().await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let until = task_worker::until(event.context.deadline);
        Ok::<_, std::convert::Infallible>(task_worker::handle(state, event.payload, until).await)
    }))
    .await
}
