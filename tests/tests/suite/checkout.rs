//! `POST /billing/checkout` on both stores: the local stand-in for Stripe
//! (no key: the local pay page), bad input answered with the envelope,
//! nothing kept when Stripe fails, and no key or card data in the logs.
//! The Stripe API's own shapes (localstripe, a recording stub):
//! `checkout_stripe`.

use std::sync::Arc;

use integration_tests::requests::{codes, read_any, request, signup_body};
use integration_tests::stripe_stub;
use integration_tests::world::{World, PASSWORD};
use integration_tests::{default_config, Backend};
use lambda_http::Body;
use secrecy::SecretString;
use serde_json::{json, Value};
use shared::domain::UserId;
use shared::ports::Clock;
use shared::usecases::payments::StripeKeysSource;

pub const API_KEY: &str = "sk_test_Unl1kelyApiKey8812";

/// A world whose checkout calls the Stripe API at `base` with `API_KEY`.
pub fn world_on_stripe(backend: &Backend, base: &str) -> World {
    let mut config = default_config();
    config.credits.stripe_keys = StripeKeysSource::Inline {
        webhook_secret: SecretString::from(super::stripe_webhook::SECRET.to_owned()),
        api_key: Some(SecretString::from(API_KEY.to_owned())),
    };
    config.credits.stripe_api_base = base.trim_end_matches('/').to_owned();
    let ring = Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
    ));
    World::with_config(backend.clone(), ring, config)
}

pub async fn signed_in(world: &World, name: &str) -> (String, String) {
    let user = world.sign_up(name, &format!("{name}@example.com")).await;
    (user, world.log_in(name, PASSWORD).await.access)
}

pub async fn checkout(world: &World, access: &str, body: &Value) -> (u16, Value) {
    let reply = world
        .call("POST", "/billing/checkout", Some(body), Some(access))
        .await;
    (reply.status, reply.body)
}

pub async fn kept_customer(world: &World, user: &str) -> Option<String> {
    let user = UserId::parse(user).unwrap();
    world
        .backend
        .stores
        .billing()
        .stripe_customer(user)
        .await
        .unwrap()
}

async fn balance_and_reasons(world: &World, access: &str) -> (i64, Vec<String>) {
    let body = super::credits::statement(world, access, "?limit=100").await;
    let reasons = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_owned())
        .collect();
    (body["data"]["balance"].as_i64().unwrap(), reasons)
}

/// No Stripe key: the session is the local stand-in's, on the local pay
/// page; the customer is made once; paying credits the pack once.
async fn local_checkout_buys_a_pack(backend: &Backend) {
    let world = World::new(backend.clone());
    let (user, access) = signed_in(&world, "lena").await;
    let (status, body) = checkout(&world, &access, &json!({"pack": "starter"})).await;
    assert_eq!(status, 201, "{body}");
    let session_id = body["data"]["session_id"].as_str().unwrap().to_owned();
    let url = body["data"]["checkout_url"].as_str().unwrap();
    assert!(session_id.starts_with("cs_local_"), "{body}");
    assert!(
        url.ends_with(&format!("/_local/checkout/{session_id}")),
        "{url}"
    );
    let customer = kept_customer(&world, &user).await.expect("a customer kept");
    let local = world
        .app
        .local_checkout
        .as_ref()
        .expect("the local stand-in");
    let session = local.session(&session_id).unwrap();
    assert_eq!(session.request.customer, customer);
    assert_eq!(session.request.user.to_string(), user);
    assert!(session
        .request
        .success_url
        .contains("/ui/account?checkout=success"));
    // A second checkout reuses the customer.
    let (status, again) = checkout(&world, &access, &json!({"pack": "starter"})).await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["data"]["session_id"], body["data"]["session_id"]);
    assert_eq!(kept_customer(&world, &user).await, Some(customer));
    // Paid twice (a double click): credited once.
    for _ in 0..2 {
        let event = local.pay(&session_id, world.clock.now()).unwrap();
        let (status, _) =
            super::stripe_webhook::deliver(&world, &event.payload, Some(&event.signature)).await;
        assert_eq!(status, 200);
    }
    let (balance, reasons) = balance_and_reasons(&world, &access).await;
    assert_eq!((balance, reasons), (100, vec!["purchase".to_owned()]));
}

/// Parallel first checkouts keep exactly one customer, and every session
/// names it.
async fn parallel_first_checkouts_keep_one_customer(backend: &Backend) {
    let world = World::new(backend.clone());
    let (user, access) = signed_in(&world, "mona").await;
    let starter = json!({"pack": "starter"});
    let replies =
        futures::future::join_all((0..8).map(|_| checkout(&world, &access, &starter))).await;
    let customer = kept_customer(&world, &user).await.expect("kept");
    let local = world.app.local_checkout.as_ref().unwrap();
    for (status, body) in replies {
        assert_eq!(status, 201, "{body}");
        let session = local
            .session(body["data"]["session_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(session.request.customer, customer);
    }
}

/// Every bad request is answered with the envelope, never a 500, and
/// nothing is kept.
async fn bad_checkouts_get_the_envelope(backend: &Backend) {
    let world = World::new(backend.clone());
    let (user, access) = signed_in(&world, "nora").await;
    for (body, code) in [
        (json!({}), "required"),
        (json!({"pack": null}), "required"),
        (json!({"pack": "no-such-pack"}), "invalid"),
        (json!({"pack": 12}), "invalid"),
        (json!({"pack": ["starter"]}), "invalid"),
    ] {
        let (status, answer) = checkout(&world, &access, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(codes(&answer, "pack"), vec![code], "{answer}");
        assert_eq!(answer["success"], false);
    }
    let raw = |content_type: Option<&'static str>, payload: String| {
        let mut request = request(
            "POST",
            "/billing/checkout",
            content_type,
            Body::from(payload),
        );
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {access}").parse().unwrap());
        request
    };
    let cases = [
        (
            raw(Some("application/json"), "not json".into()),
            400,
            "invalid_json",
        ),
        (
            raw(Some("application/json"), "[\"starter\"]".into()),
            400,
            "invalid",
        ),
        (
            raw(Some("text/plain"), "{\"pack\":\"starter\"}".into()),
            415,
            "unsupported_media_type",
        ),
        (
            raw(
                Some("application/json"),
                format!("{{\"pack\":\"{}\"}}", "x".repeat(70_000)),
            ),
            413,
            "payload_too_large",
        ),
    ];
    for (request, status, code) in cases {
        let (got, answer) = read_any(&world.app.dispatch(request).await);
        assert_eq!(got, status, "{answer}");
        let codes: Vec<&str> = answer["errors"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|list| list.as_array().unwrap())
            .filter_map(|e| e["code"].as_str())
            .collect();
        assert_eq!(codes, vec![code], "{answer}");
    }
    let reply = world
        .call(
            "POST",
            "/billing/checkout",
            Some(&json!({"pack": "starter"})),
            None,
        )
        .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(kept_customer(&world, &user).await, None);
}

/// Stripe unreachable or failing: 503 `unavailable`, no customer kept
/// unless Stripe made it, no credits.
async fn stripe_failures_leave_nothing_half_written(backend: &Backend) {
    let world = world_on_stripe(backend, &stripe_stub::closed_port_url().await);
    let (user, access) = signed_in(&world, "olga").await;
    let (status, body) = checkout(&world, &access, &json!({"pack": "starter"})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(codes(&body, "system"), vec!["unavailable"], "{body}");
    assert_eq!(kept_customer(&world, &user).await, None);

    // Stripe's 5xx on the customer: nothing kept.
    let stub = stripe_stub::start(None, Arc::new(|_| Some((500, "{}".to_owned())))).await;
    let world = world_on_stripe(backend, &stub.url);
    let (user, access) = signed_in(&world, "oleg").await;
    let (status, body) = checkout(&world, &access, &json!({"pack": "starter"})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(codes(&body, "system"), vec!["unavailable"], "{body}");
    assert_eq!(kept_customer(&world, &user).await, None);

    // The customer made, the session failing: the (real) customer is kept
    // for the retry, nothing else; the retry reuses it.
    let stub = stripe_stub::start(
        None,
        Arc::new(|r| {
            Some(if r.path == "/v1/customers" {
                (
                    200,
                    r#"{"id": "cus_stub1", "object": "customer"}"#.to_owned(),
                )
            } else {
                (503, "{}".to_owned())
            })
        }),
    )
    .await;
    let world = world_on_stripe(backend, &stub.url);
    let (user, access) = signed_in(&world, "olaf").await;
    for _ in 0..2 {
        let (status, body) = checkout(&world, &access, &json!({"pack": "starter"})).await;
        assert_eq!(status, 503, "{body}");
    }
    assert_eq!(
        kept_customer(&world, &user).await.as_deref(),
        Some("cus_stub1")
    );
    assert_eq!(stub.requests_to("/v1/customers").len(), 1);
    assert_eq!(balance_and_reasons(&world, &access).await.0, 0);
}

integration_tests::contract_on_both_backends!(
    local_checkout_buys_a_pack,
    parallel_first_checkouts_keep_one_customer,
    bad_checkouts_get_the_envelope,
    stripe_failures_leave_nothing_half_written,
);

/// Neither the API key, the webhook secret, Stripe's answers (a client
/// secret, card details) nor its error messages reach a log line.
#[tokio::test]
async fn no_key_or_card_data_in_logs() {
    let logs = integration_tests::logs::capture();
    let stub = stripe_stub::start(
        None,
        Arc::new(|r| {
            Some(match r.path.as_str() {
                "/v1/customers" => (200, r#"{"id": "cus_logs1"}"#.to_owned()),
                _ if r.field("metadata[pack]").as_deref() == Some("starter") => (
                    200,
                    r#"{"id": "cs_logs1", "url": "https://checkout.example/cs_logs1",
                        "client_secret": "cs_secret_Unl1kely771",
                        "payment_method_details": {"card": {"number": "4242424242424242", "cvc": "123"}}}"#
                        .to_owned(),
                ),
                _ => (
                    401,
                    r#"{"error": {"type": "invalid_request_error", "code": "api_key_invalid",
                        "message": "Invalid API Key provided: sk_test_Unl1kelyApiKey8812"}}"#
                        .to_owned(),
                ),
            })
        }),
    )
    .await;
    let mut config = default_config();
    config.credits.packs =
        shared::usecases::payments::CreditPacks::parse("starter:100:500:usd,big:1000:4000:usd")
            .unwrap();
    config.credits.stripe_keys = StripeKeysSource::Inline {
        webhook_secret: SecretString::from(super::stripe_webhook::SECRET.to_owned()),
        api_key: Some(SecretString::from(API_KEY.to_owned())),
    };
    config.credits.stripe_api_base = stub.url.clone();
    let ring = Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
    ));
    let world = World::with_config(Backend::memory(), ring, config);
    let (_, access) = signed_in(&world, "pia").await;
    let (status, body) = checkout(&world, &access, &json!({"pack": "starter"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["session_id"], "cs_logs1");
    assert!(body.to_string().find("cs_secret").is_none());
    let (status, body) = checkout(&world, &access, &json!({"pack": "big"})).await;
    assert_eq!(status, 500, "{body}");
    let request = &stub.requests()[0];
    assert_eq!(
        request.headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    let text = logs.text();
    assert!(
        text.contains("checkout session created"),
        "the checkout is logged"
    );
    assert!(
        text.contains("api_key_invalid"),
        "Stripe's error code is logged"
    );
    for secret in [
        API_KEY,
        super::stripe_webhook::SECRET,
        "cs_secret_Unl1kely771",
        "4242424242424242",
        "Invalid API Key provided",
    ] {
        assert!(!text.contains(secret), "{secret} in the logs");
    }
}

/// The sample event goes through the handler (the local stand-in).
#[tokio::test]
async fn the_sample_event_starts_a_checkout() {
    let world = World::new(Backend::memory());
    let (_, access) = signed_in(&world, "rita").await;
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/billing-checkout.json"),
    )
    .unwrap()
    .replace("ACCESS_TOKEN", &access);
    let request = lambda_http::request::from_str(&text).unwrap();
    let (status, body) = read_any(&world.app.dispatch(request).await);
    assert_eq!(status, 201, "{body}");
    assert!(body["data"]["checkout_url"].as_str().unwrap().starts_with(
        "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/_local/checkout/cs_local_"
    ));
}

/// The local pay page over HTTP: served with the pages' policy, its Pay
/// button credits the pack through the webhook and sends the payer to the
/// account page.
#[tokio::test]
async fn the_local_pay_page_pays_through_the_webhook() {
    let backend = Backend::memory();
    let base = integration_tests::start_local_server(&backend).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |path: &str, body: Value, token: Option<&str>| {
        let mut call = http.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            call = call.bearer_auth(token);
        }
        call.send()
    };
    let reply = post(
        "/auth/signup",
        signup_body("sara", "sara@example.com", json!({})),
        None,
    )
    .await
    .unwrap();
    assert_eq!(reply.status(), 201);
    let login: Value = post(
        "/auth/login",
        json!({"login": "sara", "password": PASSWORD}),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let access = login["data"]["access_token"].as_str().unwrap().to_owned();
    let started: Value = post(
        "/billing/checkout",
        json!({"pack": "starter"}),
        Some(&access),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let url = started["data"]["checkout_url"].as_str().unwrap().to_owned();
    let session = started["data"]["session_id"].as_str().unwrap().to_owned();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
    let html = page.text().await.unwrap();
    assert!(html.contains("starter") && html.contains("5.00 USD") && !html.contains("<script"));
    let paid = http.post(format!("{url}/pay")).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"].to_str().unwrap(),
        format!("{base}/ui/account?checkout=success&session_id={session}")
    );
    let credits: Value = http
        .get(format!("{base}/users/me/credits"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(credits["data"]["balance"], 100, "{credits}");
    assert_eq!(credits["data"]["items"][0]["reference"], json!(session));
    let missing = http
        .get(format!("{base}/_local/checkout/cs_local_nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
