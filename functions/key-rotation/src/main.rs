use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = &key_rotation::State::from_env().await?;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            // A failed run is reported to Lambda, which retries the schedule.
            key_rotation::handle(state, event.payload)
                .await
                .map_err(|error| Error::from(shared::telemetry::error_chain(&error)))
        },
    ))
    .await
}
