use lambda_http::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = push_token_create::State::from_env().await?;
    let state = &state;
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, std::convert::Infallible>(push_token_create::handle(state, request).await)
    }))
    .await
}
