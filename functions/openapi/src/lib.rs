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

/// The document of the default settings (`PROFILE_FIELDS` and
/// `CREDIT_PACKS` unset), stored beside the crate; the integration suite
/// fails when it differs from the built one (`UPDATE_DOCS=1 cargo test -p
/// integration-tests --test suite openapi` rewrites it). Serving it skips
/// building the document at init, about 9 ms of this function's cold
/// start; a deployment with its own fields or packs still builds its
/// document.
pub const DEFAULT_DOCUMENT: &[u8] = include_bytes!("../default-openapi.json");

pub struct State {
    /// The stored default document, or this deployment's built once per
    /// cold start: it never changes while the code runs. Gzipped too, on
    /// first demand (about 180 KB → 23 KB): the sign-up page reads its
    /// fields from it.
    body: Precompressed,
}

impl State {
    /// The document as served, uncompressed.
    pub fn document(&self) -> &[u8] {
        self.body.plain()
    }

    /// The document of a deployment collecting `fields` (its sign-up and
    /// user schemas follow `PROFILE_FIELDS`) and selling `packs`.
    pub fn new(fields: &ProfileFields, packs: &CreditPacks) -> Self {
        let plain = if *fields == ProfileFields::default() && *packs == default_packs() {
            DEFAULT_DOCUMENT.to_vec()
        } else {
            build(fields, packs)
        };
        Self {
            body: Precompressed::new(plain),
        }
    }
}

/// The document of a deployment, serialised.
pub fn build(fields: &ProfileFields, packs: &CreditPacks) -> Vec<u8> {
    shared::openapi::deployment_document(fields, packs)
        .to_string()
        .into_bytes()
}

pub fn default_packs() -> CreditPacks {
    CreditPacks::parse(DEFAULT_PACKS).expect("the default packs parse")
}

impl Default for State {
    fn default() -> Self {
        Self::new(&ProfileFields::default(), &default_packs())
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
