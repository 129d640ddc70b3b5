//! `GET /`: the service's name, version and links. `GET /docs`: the API
//! reference page, and `GET /docs/assets/{file}`: the
//! files it loads. The renderer (Swagger UI from `swagger-ui-dist` 5.35.0,
//! see `assets/README.md`) is compiled in, so the page needs no
//! third-party host and a deployment cannot lose it.

use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::StartupError;
use shared::http::body::path_parameter;
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond, Reply};
use shared::serve::{Endpoint, Resources};

/// The page and its files are compiled in: the function holds nothing.
#[derive(Debug, Default)]
pub struct State;

impl Endpoint for State {
    fn build(_: &Resources) -> Result<Self, StartupError> {
        Ok(Self)
    }

    async fn from_env() -> Result<Self, StartupError> {
        Ok(Self)
    }
}

const PAGE: &str = include_str!("../assets/index.html");

/// `(file name, content type, content)` of every file the page loads.
pub const ASSETS: &[(&str, &str, &str)] = &[
    (
        "swagger-ui-bundle.js",
        "application/javascript; charset=utf-8",
        include_str!("../assets/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_str!("../assets/swagger-ui.css"),
    ),
    (
        "docs.js",
        "application/javascript; charset=utf-8",
        include_str!("../assets/docs.js"),
    ),
];

/// Only this service's own files run on the page; Swagger UI sets inline
/// styles and draws icons as data URIs.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

fn text_reply(content_type: &'static str, text: &str) -> Reply {
    Reply {
        status: StatusCode::OK,
        body: text.as_bytes().to_vec(),
        headers: Vec::new(),
    }
    .with_header(CONTENT_TYPE, HeaderValue::from_static(content_type))
}

/// `GET /`: the service's name, version and where to go next. Paths, not
/// URLs: they hold on whatever host the client reached.
pub async fn root(_: &State, request: Request) -> Response<Body> {
    respond(RouteId::Root, request, |_, _| async move {
        Reply::new(
            StatusCode::OK,
            shared::SERVICE_NAME,
            &json!({
                "name": shared::SERVICE_NAME,
                "version": shared::VERSION,
                "links": {
                    "docs": "/docs",
                    "openapi": "/openapi.json",
                    "health": "/health",
                    "jwks": "/.well-known/jwks.json",
                    "ui": "/ui/",
                },
            }),
        )
    })
    .await
}

pub async fn page(_: &State, request: Request) -> Response<Body> {
    respond(RouteId::Docs, request, |_, _| async move {
        Ok(text_reply("text/html; charset=utf-8", PAGE).with_header(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(PAGE_POLICY),
        ))
    })
    .await
}

pub async fn asset(_: &State, request: Request) -> Response<Body> {
    respond(RouteId::DocsAsset, request, |_, request| async move {
        let (_, content_type, content) = *path_parameter(&request, "file", |name| {
            ASSETS.iter().find(|(file, ..)| *file == name)
        })?;
        // The files change only with a deployment; a day of caching spares
        // the browser 2 MB per visit.
        Ok(text_reply(content_type, content).with_header(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        ))
    })
    .await
}

/// The Lambda's entry point: API Gateway sends it both routes.
pub async fn handle(state: &State, request: Request) -> Response<Body> {
    match match_route(request.method().as_str(), request.uri().path()) {
        RouteMatch::Found { route, .. } if route.id == RouteId::DocsAsset => {
            asset(state, request).await
        }
        _ => page(state, request).await,
    }
}
