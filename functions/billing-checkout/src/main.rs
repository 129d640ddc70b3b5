//! The Lambda: wiring only (see `shared::serve`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::http(billing_checkout::handle).await
}
