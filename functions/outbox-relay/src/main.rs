use lambda_runtime::{service_fn, Error, LambdaEvent};

use aws_lambda_events::event::dynamodb::Event;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = outbox_relay::State::from_env().await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, std::convert::Infallible>(outbox_relay::handle(state, event.payload).await)
    }))
    .await
}
