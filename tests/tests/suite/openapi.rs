//! The served OpenAPI document describes exactly the routes of
//! template.yaml, and what each route really answers.

use std::collections::BTreeSet;

use integration_tests::requests::{read, read_any, request};
use integration_tests::{local_app, Backend};
use lambda_http::Body;
use serde_json::Value;
use shared::http::routes::ROUTES;

use super::routes_and_events::template_routes;

const ERROR_ENVELOPE: &str = "#/components/schemas/ErrorEnvelope";

async fn served_document() -> Value {
    let app = local_app(&Backend::memory());
    let response = app
        .dispatch(request("GET", "/openapi.json", None, Body::Empty))
        .await;
    let (status, document) = read(&response);
    assert_eq!(status, 200, "{document}");
    document
}

/// `(METHOD, path)` of every operation of the document.
fn spec_routes(document: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn the_document_has_every_template_route_and_no_other() {
    let document = served_document().await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1."));
    let template: BTreeSet<(String, String)> = template_routes()
        .into_iter()
        .filter(|(function, ..)| function != "FallbackFunction")
        .map(|(_, method, path)| (method, path))
        .collect();
    let spec = spec_routes(&document);
    let missing: Vec<_> = template.difference(&spec).collect();
    let extra: Vec<_> = spec.difference(&template).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "in template.yaml only: {missing:?}; in the document only: {extra:?}"
    );
}

fn operation<'a>(document: &'a Value, method: &str, path: &str) -> &'a Value {
    &document["paths"][path][method.to_lowercase()]
}

#[tokio::test]
async fn every_error_is_documented_in_the_error_envelope() {
    let document = served_document().await;
    for route in ROUTES {
        let operation = operation(&document, route.method, route.path);
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"], ERROR_ENVELOPE,
                    "{} {} {status}",
                    route.method, route.path
                );
            }
        }
        if operation["security"].is_array() {
            assert!(
                responses.contains_key("401"),
                "{} {}: a bearer route documents 401",
                route.method,
                route.path
            );
        }
        if !operation["requestBody"].is_null() {
            for status in ["400", "413", "415"] {
                assert!(
                    responses.contains_key(status),
                    "{} {}: a body route documents {status}",
                    route.method,
                    route.path
                );
            }
        }
    }
}

/// A request without credentials and with a body of the wrong type gets,
/// on every route, a status its operation lists, and an error in the
/// envelope.
#[tokio::test]
async fn what_the_routes_answer_is_documented() {
    let document = served_document().await;
    let app = local_app(&Backend::memory());
    for route in ROUTES {
        let path = route
            .path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{file}", "missing.js");
        let response = app
            .dispatch(request(
                route.method,
                &path,
                Some("text/plain"),
                Body::from("not json"),
            ))
            .await;
        let (status, body) = read_any(&response);
        let responses = &operation(&document, route.method, route.path)["responses"];
        assert!(
            responses[status.to_string()].is_object(),
            "{} {path} answered {status}, which its operation does not list: {body}",
            route.method
        );
        if status >= 400 {
            assert_eq!(body["success"], false, "{body}");
            assert!(body["request_id"].is_string(), "{body}");
            assert!(body["errors"].is_object(), "{body}");
        }
    }
}

fn text_of(response: &lambda_http::Response<Body>) -> (u16, String, String) {
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    (response.status().as_u16(), content_type, text)
}

/// The page loads its renderer from this service only: every script and
/// style sheet it names is a path here, served with its content type.
#[tokio::test]
async fn the_docs_page_loads_only_its_own_files() {
    let app = local_app(&Backend::memory());
    let (status, content_type, page) = text_of(
        &app.dispatch(request("GET", "/docs", None, Body::Empty))
            .await,
    );
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    let references: Vec<&str> = page
        .split(['"', '\''])
        .filter(|part| part.ends_with(".js") || part.ends_with(".css"))
        .collect();
    assert_eq!(references.len(), 3, "{references:?}");
    for reference in references {
        assert!(reference.starts_with("/docs/assets/"), "{reference}");
        let (status, content_type, text) = text_of(
            &app.dispatch(request("GET", reference, None, Body::Empty))
                .await,
        );
        let expected = if reference.ends_with(".css") {
            "text/css"
        } else {
            "application/javascript"
        };
        assert_eq!(status, 200, "{reference}");
        assert!(
            content_type.starts_with(expected),
            "{reference}: {content_type}"
        );
        assert!(!text.is_empty(), "{reference}");
    }
    let (_, _, starter) = text_of(
        &app.dispatch(request("GET", "/docs/assets/docs.js", None, Body::Empty))
            .await,
    );
    assert!(starter.contains("\"/openapi.json\""), "{starter}");
}

/// `docs/API.md` is the rendering of the served document: the reference
/// in the repository cannot drift from what the service says of itself.
#[tokio::test]
async fn api_reference_in_docs_is_current() {
    let rendered = integration_tests::api_reference::render(&served_document().await);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/API.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &rendered).expect("write docs/API.md");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "docs/API.md is not the rendering of the OpenAPI document; run \
         UPDATE_DOCS=1 cargo test -p integration-tests --test suite api_reference"
    );
}

/// The openapi function serves a stored document under the default
/// settings (no build at init): it is the one the code builds, and other
/// settings still get their own.
#[test]
fn the_stored_default_document_is_the_built_one() {
    use shared::domain::ProfileFields;
    let built = openapi::build(&ProfileFields::default(), &openapi::default_packs());
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../functions/openapi/default-openapi.json");
        std::fs::write(&path, &built).expect("write the stored document");
        return;
    }
    assert!(
        openapi::DEFAULT_DOCUMENT == built.as_slice(),
        "functions/openapi/default-openapi.json is stale; run \
         UPDATE_DOCS=1 cargo test -p integration-tests --test suite openapi"
    );
    assert_eq!(
        openapi::State::default().document(),
        openapi::DEFAULT_DOCUMENT
    );
    let fields = ProfileFields::parse("username:optional").expect("a valid setting");
    let own = openapi::State::new(&fields, &openapi::default_packs());
    assert_ne!(own.document(), openapi::DEFAULT_DOCUMENT);
    assert_eq!(
        own.document(),
        openapi::build(&fields, &openapi::default_packs())
    );
}

/// The document names exactly the files the docs function serves.
#[test]
fn the_documented_asset_names_are_the_served_ones() {
    let served: BTreeSet<&str> = docs::ASSETS.iter().map(|(name, ..)| *name).collect();
    let documented: BTreeSet<&str> = shared::openapi::DOCS_ASSETS.iter().copied().collect();
    assert_eq!(served, documented);
}
