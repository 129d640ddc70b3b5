//! The Lambda: wiring only (see `shared::serve`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::http(stripe_webhook::handle).await
}
