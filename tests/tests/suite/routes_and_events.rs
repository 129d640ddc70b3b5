//! template.yaml, the route table and the local server agree; every sample
//! event in events/ goes through its function's handler.

use std::collections::BTreeSet;
use std::path::PathBuf;

use integration_tests::requests::{read, read_any};
use integration_tests::{local_app, Backend};
use serde_json::json;
use serde_yaml::Value;
use shared::http::routes::ROUTES;

pub(crate) fn workspace_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}

pub(crate) fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => untag(&tagged.value),
        other => other,
    }
}

/// `(function, method, path)` for every HttpApi event of the template.
pub(crate) fn template_routes() -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(workspace_file("template.yaml")).expect("template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("template parses");
    let mut routes = BTreeSet::new();
    for (name, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let properties = &event["Properties"];
            let method = untag(&properties["Method"])
                .as_str()
                .unwrap_or("$default")
                .to_uppercase();
            let path = untag(&properties["Path"])
                .as_str()
                .unwrap_or("$default")
                .to_owned();
            routes.insert((name.as_str().unwrap().to_owned(), method, path));
        }
    }
    routes
}

#[test]
fn template_routes_are_the_route_table() {
    let mut expected = BTreeSet::new();
    // Only the bare path: HTTP API routes `/x/` to the `/x` route itself
    // and refuses route paths that end in a slash.
    for route in ROUTES {
        expected.insert((
            route.function.to_owned(),
            route.method.to_owned(),
            route.path.to_owned(),
        ));
    }
    let mut actual = template_routes();
    let fallback: Vec<_> = actual
        .iter()
        .filter(|(f, ..)| f == "FallbackFunction")
        .cloned()
        .collect();
    assert_eq!(fallback.len(), 1, "one $default route: {fallback:?}");
    actual.remove(&fallback[0]);
    assert_eq!(actual, expected);
}

/// Every route of the table reaches a handler on the local server (not the
/// 404/405 fallback), so its routes are the template's.
#[tokio::test]
async fn local_server_serves_every_route() {
    let app = local_app(&Backend::memory());
    // The pages' files are named by their fingerprint.
    let ui_file = pages::Site::new().assets()[0].name.clone();
    for route in ROUTES {
        for path in [route.path.to_owned(), format!("{}/", route.path)] {
            let path = path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("/ui/assets/{file}", &format!("/ui/assets/{ui_file}"))
                .replace("{file}", "swagger-ui.css")
                .replace("{page}", "signup");
            let request = integration_tests::requests::request(
                route.method,
                &path,
                Some("application/json"),
                lambda_http::Body::from("{}"),
            );
            let response = app.dispatch(request).await;
            let (status, body) = read_any(&response);
            let routed = !matches!(status, 404 | 405)
                || body["errors"]["non_field_errors"][0]["code"] != "not_found";
            assert!(
                routed && status != 405,
                "{} {path} → {status} {body}",
                route.method
            );
        }
    }
}

/// Each route's state builds from exactly the resources its
/// `Endpoint::NEEDS` declares (what its Lambda loads at cold start), and
/// not from less where it declares more.
#[tokio::test]
async fn every_route_builds_from_what_it_declares() {
    use local_api::Routes;
    use shared::serve::Resources;
    let backend = Backend::memory();
    let config = integration_tests::default_config();
    let ring = std::sync::Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
    ));
    for (id, needs) in Routes::needs() {
        let mut resources = Resources::new(&config, &backend.stores);
        if needs.signing_keys {
            resources = resources.with_signing_keys(ring.clone());
        }
        if needs.queues || needs.tasks_queue || needs.account_tasks_queue {
            resources = resources.with_queues(shared::background::Queues::memory(3));
        }
        if needs.avatar_links {
            resources = resources.with_bucket_signer(
                shared::app::bucket_signer(&config)
                    .await
                    .expect("local signer"),
            );
        }
        if let Err(error) = Routes::build_one(id, &resources) {
            panic!("{id:?} does not build from {needs:?}: {error}");
        }
        if needs.signing_keys {
            let without_keys = Resources::new(&config, &backend.stores)
                .with_queues(shared::background::Queues::memory(3));
            assert!(
                Routes::build_one(id, &without_keys).is_err(),
                "{id:?} declares signing keys it does not use"
            );
        }
    }
}

/// Each route's state builds as its Lambda builds it, from the
/// environment (a local run's: in-memory storage, generated keys).
#[tokio::test]
async fn every_route_builds_from_the_environment() {
    for route in ROUTES {
        if let Err(error) = local_api::Routes::one_from_env(route.id).await {
            panic!("{:?}: {error}", route.id);
        }
    }
}

/// Every API Gateway file in events/ goes through its handler, in an order
/// that makes a story: sign up, log in, use the tokens (the samples hold
/// the placeholders `ACCESS_TOKEN`, `REFRESH_TOKEN`, `TASK_ID`,
/// `CONFIRM_TOKEN`, `RESET_TOKEN`, replaced here by real ones, as a
/// developer would for `sam local invoke`), log out. The queue, stream and
/// schedule samples go through theirs in `background`.
#[tokio::test]
async fn every_event_sample_goes_through_its_handler() {
    // Every route takes tokens of either kind of key.
    for alg in shared::session_tokens::KeyAlgorithm::ALL {
        event_story(alg).await;
    }
}

/// The `alg` of a token's header.
fn jose_alg(token: &str) -> String {
    use base64::Engine as _;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap_or_default())
        .unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(&header).unwrap_or_default()["alg"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn event_story(alg: shared::session_tokens::KeyAlgorithm) {
    let story: &[(&str, u16)] = &[
        ("signup-invalid.json", 400),
        ("signup-valid.json", 201),
        ("health.json", 200),
        ("fallback-not-found.json", 404),
        ("fallback-method-not-allowed.json", 405),
        ("jwks.json", 200),
        ("openid-configuration.json", 200),
        ("openapi.json", 200),
        ("docs.json", 200),
        ("root.json", 200),
        ("docs-asset.json", 200),
        ("ui.json", 200),
        ("ui-page.json", 200),
        // An IAM-authorised operator's call: the local server's gate is its
        // admin token, so the IAM context alone is refused here (the
        // Lambda's own gate takes it: suite::admin).
        ("admin-users-list.json", 403),
        ("admin-users-credits.json", 403),
        ("admin-audit.json", 403),
        ("admin-ip-blocks-list.json", 403),
        ("login.json", 200),
        ("me.json", 200),
        ("me-update.json", 200),
        ("me-replace.json", 200),
        ("devices.json", 200),
        ("token-refresh.json", 200),
        ("password-change.json", 200),
        ("logout.json", 200),
        ("me.json", 401),
        ("login.json", 401),
        ("device-delete.json", 401),
        // The mobile clients' sign-up: its tokens work like a login's.
        ("phone-signup-invalid.json", 400),
        ("phone-signup-valid.json", 201),
        ("me.json", 200),
        ("devices.json", 200),
        ("phone-signup-valid.json", 409),
        // Tokens lost: a texted code signs the account in again.
        ("phone-otp.json", 202),
        ("phone-login.json", 200),
        ("me.json", 200),
        // Background tasks of the signed-in (phone) account: one revoked
        // before it starts, one run by the worker.
        ("tasks-create.json", 202),
        ("task-revoke.json", 200),
        ("task-get.json", 200),
        ("tasks-create.json", 202),
        ("task-get.json", 200),
        ("credits.json", 200),
        // No Stripe key here: the local stand-in's session.
        ("billing-checkout.json", 201),
        // Unsigned here (suite::stripe_webhook signs it): refused, not a 500.
        ("stripe-webhook.json", 400),
        // Its settings.
        ("preferences-get.json", 200),
        ("preferences-update.json", 200),
        ("push-token-create.json", 201),
        ("push-token-create.json", 200),
        ("push-tokens-list.json", 200),
        ("push-token-get.json", 200),
        ("push-token-update.json", 200),
        ("push-tokens-deactivate.json", 200),
        ("push-token-delete.json", 200),
        ("push-token-get.json", 404),
        ("avatar-upload.json", 201),
        ("avatar-get.json", 200),
        ("avatar-delete.json", 200),
        ("account-export.json", 202),
        ("task-get.json", 200),
        // The mailed-link flows of the first account (alice).
        ("pre-register.json", 200),
        ("pre-register.json", 200),
        ("email-confirm-resend.json", 202),
        ("email-confirm.json", 200),
        ("email-confirm.json", 400),
        ("password-reset.json", 202),
        ("password-reset-confirm.json", 200),
        ("password-reset-confirm.json", 400),
        // The phone account deletes itself; its token stops working.
        ("account-delete.json", 202),
        ("me.json", 401),
    ];
    let on_disk: BTreeSet<String> = std::fs::read_dir(workspace_file("events"))
        .expect("events/")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let covered: BTreeSet<String> = story
        .iter()
        .map(|(name, _)| name.to_string())
        .chain(
            super::background::EVENT_SAMPLES
                .iter()
                .map(|s| s.to_string()),
        )
        .collect();
    assert_eq!(
        on_disk, covered,
        "every sample event needs a place in this story"
    );

    let app = integration_tests::local_app_signing_with(&Backend::memory(), alg);
    let (mut access, mut refresh, mut task_id) = (String::new(), String::new(), String::new());
    let mut push_token_id = String::new();
    for (name, expected) in story {
        let text = std::fs::read_to_string(workspace_file("events").join(name)).unwrap();
        // Links arrive by email, tasks finish in the worker: let the
        // background do its part before the steps that need it.
        if text.contains("CONFIRM_TOKEN")
            || text.contains("RESET_TOKEN")
            || text.contains("SMS_CODE")
            || *name == "task-get.json"
        {
            app.settle().await;
        }
        let mailed = |kind: &str| {
            integration_tests::mail::last_token(&app.mailbox.messages(), kind).unwrap_or_default()
        };
        let text = text
            .replace("ACCESS_TOKEN", &access)
            .replace("REFRESH_TOKEN", &refresh)
            .replace("TASK_ID", &task_id)
            .replace("PUSH_TOKEN_ID", &push_token_id)
            .replace("CONFIRM_TOKEN", &mailed("email.confirmation_requested"))
            .replace("RESET_TOKEN", &mailed("password.reset_requested"))
            .replace(
                "SMS_CODE",
                &integration_tests::mail::last_code(&app.mailbox.texts()).unwrap_or_default(),
            );
        let request =
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (status, body) = read_any(&app.dispatch(request).await);
        assert_eq!(status, *expected, "{alg} {name}: {body}");
        // The phone sign-up answers with top-level tokens.
        let tokens = if body["data"].is_object() {
            &body["data"]
        } else {
            &body
        };
        if let Some(token) = tokens["access_token"].as_str() {
            access = token.to_owned();
            assert_eq!(jose_alg(&access), alg.name(), "{name}");
        }
        if let Some(token) = tokens["refresh_token"].as_str() {
            refresh = token.to_owned();
        }
        if let Some(id) = body["data"]["task_id"].as_str() {
            task_id = id.to_owned();
        }
        if *name == "push-token-create.json" {
            push_token_id = body["data"]["id"].as_str().unwrap().to_owned();
        }
        if *name == "task-get.json" {
            let data = &body["data"];
            match data["type"].as_str() {
                Some("add") if data["status"] != "REVOKED" => {
                    assert_eq!(
                        (&data["status"], &data["result"]),
                        (&json!("SUCCESS"), &json!(8)),
                        "{body}"
                    );
                }
                Some("export_data") => {
                    assert_eq!(data["status"], "SUCCESS", "{body}");
                    assert_eq!(data["result"]["account"]["name"], "Asha Menon", "{body}");
                    assert_eq!(data["result"]["preferences"]["marketing"]["email"], true);
                }
                _ => {}
            }
        }
    }
}

/// The device sample ends the sessions of the device it names.
#[tokio::test]
async fn device_delete_sample_ends_the_device_sessions() {
    let app = local_app(&Backend::memory());
    let mut access = String::new();
    for (name, expected) in [
        ("signup-valid.json", 201),
        ("login.json", 200),
        ("device-delete.json", 200),
        ("me.json", 401),
    ] {
        let text = std::fs::read_to_string(workspace_file("events").join(name))
            .unwrap()
            .replace("ACCESS_TOKEN", &access);
        let (status, body) = read(
            &app.dispatch(lambda_http::request::from_str(&text).unwrap())
                .await,
        );
        assert_eq!(status, expected, "{name}: {body}");
        if let Some(token) = body["data"]["access_token"].as_str() {
            access = token.to_owned();
        }
    }
}
