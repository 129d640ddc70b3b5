//! The pages under `/ui/` as the local server serves them: the headers
//! that make them safe and cacheable, fingerprinted files, compression.
//! What they do in a browser is `tests/browser/test_pages.py`'s part.

use std::collections::BTreeSet;

use http::header::{HeaderValue, ACCEPT_ENCODING};
use integration_tests::requests::request;
use integration_tests::{local_app, Backend};
use lambda_http::{Body, Response};

async fn get(path: &str, gzip: bool) -> Response<Body> {
    let app = local_app(&Backend::memory());
    let mut request = request("GET", path, None, Body::Empty);
    if gzip {
        request
            .headers_mut()
            .insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
    }
    app.dispatch(request).await
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

fn bytes(response: &Response<Body>) -> Vec<u8> {
    match response.body() {
        Body::Text(text) => text.clone().into_bytes(),
        Body::Binary(bytes) => bytes.clone(),
        _ => Vec::new(),
    }
}

/// The fingerprinted files a page links.
fn linked_assets(html: &str) -> Vec<String> {
    html.split("/ui/assets/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn every_page_is_html_under_a_strict_policy_and_revalidated() {
    let mut paths = vec!["/ui".to_owned(), "/ui/".to_owned()];
    paths.extend(pages::PAGES.iter().map(|(page, _)| format!("/ui/{page}")));
    for path in paths {
        let response = get(&path, false).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        let policy = header(&response, "content-security-policy");
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(header(&response, "x-frame-options"), "DENY");
        let html = String::from_utf8(bytes(&response)).unwrap();
        assert!(!html.contains("<script>"), "an inline script on {path}");
        assert_eq!(linked_assets(&html).len(), 2, "{path}: {html}");
    }
}

#[tokio::test]
async fn files_are_fingerprinted_kept_for_a_year_and_compressed() {
    let page = String::from_utf8(bytes(&get("/ui/signup", false).await)).unwrap();
    for name in linked_assets(&page) {
        let (stem, rest) = name.split_once('.').unwrap();
        let (fingerprint, _) = rest.split_once('.').unwrap();
        assert!(
            fingerprint.len() == 10 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
        let plain = get(&format!("/ui/assets/{name}"), false).await;
        assert_eq!(plain.status(), 200, "{name}");
        assert_eq!(
            header(&plain, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&plain, "vary"), "accept-encoding");
        let zipped = get(&format!("/ui/assets/{name}"), true).await;
        assert_eq!(header(&zipped, "content-encoding"), "gzip", "{name}");
        let zipped = bytes(&zipped);
        assert_eq!(zipped[..2], [0x1f, 0x8b]);
        assert!(zipped.len() < bytes(&plain).len());
        // The unfingerprinted name is not served: a stale page would
        // otherwise mix files of two deployments.
        let ext = name.rsplit('.').next().unwrap();
        let bare = get(&format!("/ui/assets/{stem}.{ext}"), false).await;
        assert_eq!(bare.status(), 404, "{stem}.{ext}");
    }
}

#[tokio::test]
async fn unknown_pages_and_files_are_the_json_404() {
    for path in [
        "/ui/admin",
        "/ui/assets/app.0000000000.js",
        "/ui/assets/..%2Fsecret",
    ] {
        let response = get(path, false).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(header(&response, "content-type").starts_with("application/json"));
    }
}

#[tokio::test]
async fn the_openapi_document_goes_compressed_to_browsers() {
    let plain = bytes(&get("/openapi.json", false).await);
    let zipped = get("/openapi.json", true).await;
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    assert_eq!(header(&zipped, "content-type"), "application/json");
    // The sign-up page reads it: it must fit the page's 50 KiB.
    assert!(bytes(&zipped).len() < 25 * 1024, "{}", bytes(&zipped).len());
    assert!(serde_json::from_slice::<serde_json::Value>(&plain).is_ok());
}

/// The document names exactly the pages the function serves.
#[test]
fn the_documented_pages_are_the_served_ones() {
    let served: BTreeSet<&str> = pages::PAGES.iter().map(|(name, _)| *name).collect();
    let documented: BTreeSet<&str> = shared::openapi::UI_PAGES.iter().copied().collect();
    assert_eq!(served, documented);
}

/// The account page uploads avatars: locally to the server itself, so the
/// policy stays `'self'`; on AWS to the bucket, whose one origin (and no
/// wildcard) the policy then admits for the upload and the picture.
#[tokio::test]
async fn the_policy_admits_exactly_the_avatar_buckets_origin() {
    let local = get("/ui/account", false).await;
    let policy = header(&local, "content-security-policy");
    assert!(policy.contains("connect-src 'self';"), "{policy}");
    assert!(policy.contains("img-src 'self' data:;"), "{policy}");
    assert!(policy.contains("form-action 'self';"), "{policy}");

    let bucket = "users-avatars-123456789012-ap-south-1";
    let state = pages::State::new(&shared::config::AvatarStorage::S3 {
        bucket: bucket.into(),
        endpoint: None,
        region: "ap-south-1".into(),
    });
    // `/ui` (the sign-in page): no path parameter to route; every page has
    // the one policy.
    let response = pages::handle(&state, request("GET", "/ui", None, Body::Empty)).await;
    assert_eq!(response.status(), 200);
    let policy = header(&response, "content-security-policy");
    let origin = format!("https://{bucket}.s3.ap-south-1.amazonaws.com");
    assert!(
        policy.contains(&format!("connect-src 'self' {origin};")),
        "{policy}"
    );
    assert!(
        policy.contains(&format!("img-src 'self' data: {origin};")),
        "{policy}"
    );
    assert!(policy.contains("form-action 'self';"), "{policy}");
    assert!(
        !policy.contains('*') && !policy.contains("unsafe"),
        "{policy}"
    );
}
