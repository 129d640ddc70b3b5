use lambda_http::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, std::convert::Infallible>(docs::handle(request).await)
    }))
    .await
}
