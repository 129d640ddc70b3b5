//! `GET /ui`, `/ui/{page}`: the service's own pages for people, and
//! `GET /ui/assets/{file}`: their scripts and style sheet.
//!
//! No build step: the files in `assets/` are plain ES modules and CSS,
//! compiled in as they are. Each file is served under a name that carries a
//! fingerprint of the whole set (`app.3f9c0a1b2d.js`), so browsers may keep
//! it for a year; the pages themselves are `no-cache`, so a deployment's new
//! names reach every browser on its next visit. The fingerprint is computed
//! at cold start (see `site`), and the references between the files are
//! rewritten to it there, which keeps the sources runnable and readable.

mod site;

use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::{Body, Request, Response};
use shared::app::StartupError;
use shared::http::body::path_parameter;
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond, Reply};
use shared::serve::{Endpoint, Resources};

pub use site::{Site, PAGES, SOURCES};

/// The pages and files, fingerprinted once per cold start (and each
/// compressed on its first request that accepts gzip).
#[derive(Debug, Default)]
pub struct State {
    site: Site,
}

impl Endpoint for State {
    fn build(_: &Resources) -> Result<Self, StartupError> {
        Ok(Self::default())
    }

    async fn from_env() -> Result<Self, StartupError> {
        Ok(Self::default())
    }
}

/// Only this service's own files run or style the pages: no inline script
/// or style, nothing from another host, no framing, forms post nowhere
/// else. `data:` images are the empty favicon.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

fn page_reply(site: &Site, name: &str, request: &Request) -> Option<Reply> {
    let page = site.page(name)?;
    Some(
        page.reply(request.headers())
            .with_header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )
            // Revalidated on every visit: it names the current files.
            .with_header(CACHE_CONTROL, HeaderValue::from_static("no-cache"))
            .with_header(
                HeaderName::from_static("content-security-policy"),
                HeaderValue::from_static(PAGE_POLICY),
            ),
    )
}

/// `GET /ui`: the sign-in page.
pub async fn index(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Ui, request, |_, request| async move {
        page_reply(&state.site, "login", &request).ok_or_else(shared::http::ApiError::not_found)
    })
    .await
}

/// `GET /ui/{page}`.
pub async fn page(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::UiPage, request, |_, request| async move {
        let name = path_parameter(&request, "page", |name| {
            PAGES
                .iter()
                .find(|(page, _)| *page == name)
                .map(|(page, _)| *page)
        })?;
        page_reply(&state.site, name, &request).ok_or_else(shared::http::ApiError::not_found)
    })
    .await
}

/// `GET /ui/assets/{file}`: a fingerprinted file.
pub async fn asset(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::UiAsset, request, |_, request| async move {
        let asset = path_parameter(&request, "file", |name| state.site.asset(name))?;
        Ok(asset
            .body
            .reply(request.headers())
            .with_header(CONTENT_TYPE, HeaderValue::from_static(asset.content_type))
            // The name changes with the content: keep it for a year.
            .with_header(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ))
    })
    .await
}

/// The Lambda's entry point: API Gateway sends it all three routes.
pub async fn handle(state: &State, request: Request) -> Response<Body> {
    match match_route(request.method().as_str(), request.uri().path()) {
        RouteMatch::Found { route, .. } if route.id == RouteId::UiAsset => {
            asset(state, request).await
        }
        RouteMatch::Found { route, .. } if route.id == RouteId::UiPage => {
            page(state, request).await
        }
        _ => index(state, request).await,
    }
}
