use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = avatar_processor::State::from_env().await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        avatar_processor::handle(state, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
