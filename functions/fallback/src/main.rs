use lambda_http::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    lambda_http::run(service_fn(|request| async move {
        Ok::<_, std::convert::Infallible>(fallback::handle(request).await)
    }))
    .await
}
