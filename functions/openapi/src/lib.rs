//! `GET /openapi.json`: the OpenAPI 3.1 document, bare (no envelope), as
//! renderers and API testing tools read it.

use http::header::{HeaderValue, CACHE_CONTROL};
use lambda_http::{Body, Request, Response};
use shared::app::StartupError;
use shared::config::ConfigError;
use shared::domain::ProfileFields;
use shared::http::compress::Precompressed;
use shared::http::respond;
use shared::http::routes::RouteId;
use shared::serve::{Endpoint, Resources};
use shared::usecases::payments::{CreditPacks, DEFAULT_PACKS};

pub struct State {
    /// Serialised once per cold start: the document never changes while
    /// the code runs. Gzipped too, on first demand (100 KB → 14 KB): the sign-up page
    /// reads its fields from it.
    body: Precompressed,
}

impl State {
    /// The document of a deployment collecting `fields` (its sign-up and
    /// user schemas follow `PROFILE_FIELDS`) and selling `packs`.
    pub fn new(fields: &ProfileFields, packs: &CreditPacks) -> Self {
        let document = shared::openapi::deployment_document(fields, packs);
        Self {
            body: Precompressed::new(document.to_string().into_bytes()),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new(
            &ProfileFields::default(),
            &CreditPacks::parse(DEFAULT_PACKS).expect("the default packs parse"),
        )
    }
}

impl Endpoint for State {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self::new(
            &resources.config.profile_fields,
            &resources.config.credits.packs,
        ))
    }

    /// The document only: the function reads no table, only the two
    /// settings the document depends on (a bad value stops it, naming it).
    async fn from_env() -> Result<Self, StartupError> {
        let fields = match std::env::var(ProfileFields::VARIABLE) {
            Ok(spec) => ProfileFields::parse(&spec).map_err(|error| ConfigError {
                variable: ProfileFields::VARIABLE,
                problem: error.0,
            })?,
            Err(_) => ProfileFields::default(),
        };
        let packs = CreditPacks::from_lookup(|name| std::env::var(name).ok())?;
        Ok(Self::new(&fields, &packs))
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
