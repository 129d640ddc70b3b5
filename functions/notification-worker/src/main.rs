use lambda_runtime::{service_fn, Error, LambdaEvent};

use aws_lambda_events::event::sqs::SqsEvent;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = notification_worker::State::from_env().await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, std::convert::Infallible>(notification_worker::handle(state, event.payload).await)
    }))
    .await
}
