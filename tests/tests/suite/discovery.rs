//! `GET /.well-known/openid-configuration`: the issuer equal to the tokens'
//! `iss`, the JWKS address, the algorithms of the published keys.

use std::sync::Arc;

use integration_tests::world::World;
use integration_tests::Backend;
use serde_json::json;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::{KeyAlgorithm, KeySet};
use time::{Duration, OffsetDateTime};

const BASE: &str = "https://auth.example.com";

fn world_at(base: Option<&str>, keys: KeySet) -> World {
    let config = shared::config::Config::from_lookup(|name| match name {
        "PUBLIC_BASE_URL" => base.map(str::to_owned),
        _ => None,
    })
    .expect("valid configuration");
    World::with_config(Backend::memory(), Arc::new(KeyRing::fixed(keys)), config)
}

fn claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[tokio::test]
async fn the_issuer_is_the_tokens_iss_and_the_keys_are_where_it_says() {
    let now = OffsetDateTime::now_utc();
    // A migration in progress: the EdDSA key signs, an ES256 one waits.
    let keys = KeySet::generate_with(KeyAlgorithm::EdDsa, now - Duration::days(1))
        .with_pending_key(KeyAlgorithm::Es256, now, Duration::hours(1));
    let world = world_at(Some(&format!("{BASE}/")), keys);
    let reply = world
        .call("GET", "/.well-known/openid-configuration", None, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("success").is_none(), "bare JSON");
    assert_eq!(reply.headers["cache-control"], "public, max-age=300");
    let document = &reply.body;
    assert_eq!(document["issuer"], BASE);
    assert_eq!(
        document["jwks_uri"],
        format!("{BASE}/.well-known/jwks.json")
    );
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
    assert_eq!(document["subject_types_supported"], json!(["public"]));
    assert!(document["response_types_supported"].is_array());

    world.sign_up("dora", "dora@example.com").await;
    let tokens = world
        .log_in("dora", integration_tests::world::PASSWORD)
        .await;
    assert_eq!(claims(&tokens.access)["iss"], BASE);
    assert_eq!(world.me(&tokens.access).await.status, 200);

    let wrong = world
        .call(
            "POST",
            "/.well-known/openid-configuration",
            Some(&json!({})),
            None,
        )
        .await;
    assert_eq!(wrong.status, 405, "{}", wrong.body);
}

/// Without a configured base URL (a deployment before it sets one), the
/// document points at the address the request came to.
#[tokio::test]
async fn without_a_base_url_the_request_host_is_the_base() {
    let world = world_at(None, KeySet::generate(OffsetDateTime::now_utc()));
    let reply = world
        .call("GET", "/.well-known/openid-configuration", None, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["issuer"],
        shared::session_tokens::jwt::DEFAULT_ISSUER
    );
    let jwks_uri = reply.body["jwks_uri"].as_str().unwrap();
    assert!(jwks_uri.ends_with("/.well-known/jwks.json"), "{jwks_uri}");
    assert_eq!(
        reply.body["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
}

/// Tokens issued under the old bare issuer keep verifying after the base
/// URL is configured, until they expire.
#[tokio::test]
async fn tokens_of_the_old_issuer_verify_after_the_change() {
    let keys = KeySet::generate(OffsetDateTime::now_utc() - Duration::minutes(1));
    let before = world_at(None, keys.clone());
    before.sign_up("erin", "erin@example.com").await;
    let old = before
        .log_in("erin", integration_tests::world::PASSWORD)
        .await;
    assert_eq!(claims(&old.access)["iss"], "users-service");

    let config = shared::config::Config::from_lookup(|name| {
        (name == "PUBLIC_BASE_URL").then(|| BASE.to_owned())
    })
    .unwrap();
    let token = shared::session_tokens::verify(
        &keys,
        &config.session_tokens,
        &old.access,
        OffsetDateTime::now_utc(),
    );
    assert!(token.is_ok(), "{token:?}");
}

/// `GET /`: name, version and the links, each of which answers.
#[tokio::test]
async fn the_root_names_the_service_and_links_onward() {
    let app = integration_tests::local_app(&integration_tests::Backend::memory());
    {
        let path = "/";
        let response = app
            .dispatch(integration_tests::requests::request(
                "GET",
                path,
                None,
                lambda_http::Body::Empty,
            ))
            .await;
        let (status, body) = integration_tests::requests::read(&response);
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        assert_eq!(data["name"], "users-service");
        assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
        let links = data["links"].as_object().expect("links");
        let names: Vec<&str> = links.keys().map(String::as_str).collect();
        assert_eq!(names.len(), 5, "{names:?}");
        for name in ["docs", "openapi", "health", "jwks", "ui"] {
            assert!(links.contains_key(name), "{name}");
        }
        for name in ["docs", "openapi", "health", "jwks"] {
            let target = links[name].as_str().expect("a path");
            let response = app
                .dispatch(integration_tests::requests::request(
                    "GET",
                    target,
                    None,
                    lambda_http::Body::Empty,
                ))
                .await;
            assert_eq!(response.status(), 200, "{name}: {target}");
        }
    }
    let response = app
        .dispatch(integration_tests::requests::request(
            "POST",
            "/",
            None,
            lambda_http::Body::Empty,
        ))
        .await;
    assert_eq!(response.status(), 405);
}
