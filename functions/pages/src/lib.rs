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
use http::Uri;
use lambda_http::{Body, Request, Response};
use shared::adapters::bucket_signer::bucket_base_url;
use shared::app::StartupError;
use shared::config::{AvatarStorage, Config};
use shared::http::body::path_parameter;
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond, Reply};
use shared::serve::{Endpoint, Resources};

pub use site::{Site, PAGES, SOURCES};

/// The pages and files, fingerprinted once per cold start (and each
/// compressed on its first request that accepts gzip), and the policy the
/// pages go out under.
#[derive(Debug)]
pub struct State {
    site: Site,
    policy: HeaderValue,
}

impl Endpoint for State {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self::new(&resources.config.avatars))
    }

    /// The configuration only (for the avatar bucket's address): the
    /// function reads no table.
    async fn from_env() -> Result<Self, StartupError> {
        Ok(Self::new(&Config::from_env()?.avatars))
    }
}

impl State {
    pub fn new(avatars: &AvatarStorage) -> Self {
        let policy = page_policy(avatar_origin(avatars).as_deref());
        Self {
            site: Site::default(),
            // Built from a URL's scheme and authority, which are header-safe.
            policy: HeaderValue::from_str(&policy).unwrap_or_else(|_| {
                HeaderValue::from_str(&page_policy(None)).expect("the fixed policy is ASCII")
            }),
        }
    }
}

/// The origin the account page uploads avatars to and loads them from,
/// when it is not the pages' own: on AWS the bucket's regional address
/// (`https://<bucket>.s3.<region>.amazonaws.com`), with a custom S3
/// endpoint that endpoint's. The local server's folder bucket is served
/// by the server itself (`'self'`): `None`.
pub fn avatar_origin(avatars: &AvatarStorage) -> Option<String> {
    let AvatarStorage::S3 {
        bucket,
        endpoint,
        region,
    } = avatars
    else {
        return None;
    };
    let url: Uri = bucket_base_url(bucket, endpoint.as_deref(), region)
        .parse()
        .ok()?;
    Some(format!("{}://{}", url.scheme_str()?, url.authority()?))
}

/// Only this service's own files run or style the pages: no inline script
/// or style, nothing from another host, no framing, forms post nowhere
/// else. `data:` images are the empty favicon. The one exception is the
/// avatar bucket (`upload_origin`, exactly its origin, never a wildcard):
/// the account page posts the upload form to it (`connect-src`: the form
/// goes by `fetch`, so `form-action` stays `'self'`) and shows the
/// picture from a presigned link to it (`img-src`).
pub fn page_policy(upload_origin: Option<&str>) -> String {
    let extra = upload_origin
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; \
         connect-src 'self'{extra}; img-src 'self' data:{extra}; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
}

fn page_reply(state: &State, name: &str, request: &Request) -> Option<Reply> {
    let page = state.site.page(name)?;
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
                state.policy.clone(),
            ),
    )
}

/// `GET /ui`: the sign-in page.
pub async fn index(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Ui, request, |_, request| async move {
        page_reply(state, "login", &request).ok_or_else(shared::http::ApiError::not_found)
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
        page_reply(state, name, &request).ok_or_else(shared::http::ApiError::not_found)
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

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
        connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
        frame-ancestors 'none'";

    fn s3(endpoint: Option<&str>) -> AvatarStorage {
        AvatarStorage::S3 {
            bucket: "users-avatars-123456789012-eu-west-1".into(),
            endpoint: endpoint.map(Into::into),
            region: "eu-west-1".into(),
        }
    }

    fn policy(state: &State) -> &str {
        state.policy.to_str().unwrap()
    }

    #[test]
    fn locally_the_pages_reach_only_their_own_origin() {
        let state = State::new(&AvatarStorage::Folder("/tmp/avatars".into()));
        assert_eq!(policy(&state), LOCAL);
    }

    #[test]
    fn on_aws_exactly_the_buckets_regional_origin_is_added() {
        let origin = "https://users-avatars-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com";
        assert_eq!(
            policy(&State::new(&s3(None))),
            format!(
                "default-src 'none'; script-src 'self'; style-src 'self'; \
                 connect-src 'self' {origin}; img-src 'self' data: {origin}; \
                 form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            )
        );
        assert!(!policy(&State::new(&s3(None))).contains('*'));
    }

    #[test]
    fn a_custom_endpoint_adds_its_origin_without_the_path() {
        let policy = page_policy(avatar_origin(&s3(Some("http://127.0.0.1:5000/"))).as_deref());
        assert!(
            policy.contains("connect-src 'self' http://127.0.0.1:5000;"),
            "{policy}"
        );
        assert!(
            policy.contains("img-src 'self' data: http://127.0.0.1:5000;"),
            "{policy}"
        );
        assert!(!policy.contains("users-avatars"), "{policy}");
    }

    /// The origin is the one the signer's forms and links use.
    #[tokio::test]
    async fn the_origin_is_the_signers() {
        use shared::adapters::bucket_signer::{local_credentials, BucketSigner};
        let AvatarStorage::S3 { bucket, region, .. } = s3(None) else {
            unreachable!()
        };
        let signer = BucketSigner::new(&bucket, None, &region, local_credentials());
        let form = signer
            .presigned_post("uploads/u/1", "image/png", 10, std::time::SystemTime::now())
            .await
            .unwrap();
        let origin = avatar_origin(&s3(None)).unwrap();
        assert!(form.url.starts_with(&format!("{origin}/")) || form.url == origin);
    }
}
