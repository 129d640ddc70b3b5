use lambda_http::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = openapi::State::new();
    let state = &state;
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, std::convert::Infallible>(openapi::handle(state, request).await)
    }))
    .await
}
