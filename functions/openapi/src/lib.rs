//! `GET /openapi.json`: the OpenAPI 3.1 document, bare (no envelope), as
//! renderers and API testing tools read it.

use http::header::{HeaderValue, CACHE_CONTROL};
use lambda_http::{Body, Request, Response};
use shared::app::StartupError;
use shared::http::compress::Precompressed;
use shared::http::respond;
use shared::http::routes::RouteId;
use shared::serve::{Endpoint, Resources};

pub struct State {
    /// Serialised once per cold start: the document never changes while
    /// the code runs. Gzipped too, on first demand (100 KB → 14 KB): the sign-up page
    /// reads its fields from it.
    body: Precompressed,
}

impl State {
    pub fn new() -> Self {
        // A document that does not serialise is a bug every test would see.
        let document = serde_json::to_value(shared::openapi::document())
            .expect("the OpenAPI document serialises");
        let body = Precompressed::new(document.to_string().into_bytes());
        Self { body }
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl Endpoint for State {
    fn build(_: &Resources) -> Result<Self, StartupError> {
        Ok(Self::new())
    }

    /// The document only: the function reads no table.
    async fn from_env() -> Result<Self, StartupError> {
        Ok(Self::new())
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::OpenApi, request, |_, request| async move {
        // Public and the same for every caller until the next deployment.
        Ok(state.body.reply(request.headers()).with_header(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
    })
    .await
}
