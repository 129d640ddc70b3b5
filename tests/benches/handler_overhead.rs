//! Handler overhead, hashing and network excluded: requests dispatched to
//! the real handlers in process, over the in-memory store, each timed; the
//! p50/p99 of each route is printed as a Markdown table.
//! `cargo bench -p integration-tests --bench handler_overhead`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::app::Stores;
use shared::config::Config;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::keyset::KeySet;

const ITERATIONS: usize = 20_000;
const WARM_UP: usize = 500;

fn request(method: &str, path: &str, body: Option<&Value>, bearer: Option<&str>) -> Request {
    let mut builder = http::Request::builder().method(method).uri(path);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = body.map_or(Body::Empty, |b| Body::from(b.to_string()));
    let mut request = builder.body(body).expect("request");
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some("198.51.100.7".to_owned());
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(context));
    request
}

fn json_of(response: &lambda_http::Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("json"),
        Body::Binary(bytes) => serde_json::from_slice(bytes).expect("json"),
        _ => Value::Null,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "| {label} | {} | {:.1} µs | {:.1} µs | {:.1} µs |",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.95).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
    );
}

async fn timed<F, Fut>(mut call: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..WARM_UP {
        call(i).await;
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    for i in WARM_UP..WARM_UP + ITERATIONS {
        let start = Instant::now();
        call(i).await;
        samples.push(start.elapsed());
    }
    samples
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    // No sign-up quota: the bench signs up thousands of accounts from one address.
    let config = Config::from_lookup(|name| (name == "SIGNUP_IP_LIMIT").then(|| "0".to_owned()))
        .expect("config");
    let ring = Arc::new(KeyRing::fixed(KeySet::generate(
        time::OffsetDateTime::now_utc(),
    )));
    let app = local_api::LocalApp::new(&Stores::memory(), &config, ring).expect("app");

    let phone_body = |i: usize| json!({"name": "Bench", "phone_number": format!("+9198{i:08}"), "device_id": format!("d-{i}")});
    let signed_up = json_of(
        &app.dispatch(request(
            "POST",
            "/auth/phone/signup",
            Some(&phone_body(99_999_999)),
            None,
        ))
        .await,
    );
    let access = signed_up["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let mut refresh = signed_up["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    println!("| route (in process, in-memory store) | requests | p50 | p95 | p99 |");
    println!("| --- | --- | --- | --- | --- |");
    let samples = timed(|_| {
        let app = &app;
        let access = &access;
        async move {
            let response = app
                .dispatch(request("GET", "/users/me", None, Some(access)))
                .await;
            assert_eq!(response.status(), 200);
        }
    })
    .await;
    report("GET /users/me", samples);

    let mut samples = Vec::new();
    for i in 0..WARM_UP + ITERATIONS {
        let body = json!({"refresh_token": refresh});
        let start = Instant::now();
        let response = app
            .dispatch(request("POST", "/auth/token/refresh", Some(&body), None))
            .await;
        let elapsed = start.elapsed();
        assert_eq!(response.status(), 200);
        refresh = json_of(&response)["data"]["refresh_token"]
            .as_str()
            .expect("rotated")
            .to_owned();
        if i >= WARM_UP {
            samples.push(elapsed);
        }
    }
    report("POST /auth/token/refresh", samples);

    let samples = timed(|i| {
        let app = &app;
        let body = phone_body(i);
        async move {
            let response = app
                .dispatch(request("POST", "/auth/phone/signup", Some(&body), None))
                .await;
            assert_eq!(response.status(), 201);
        }
    })
    .await;
    report("POST /auth/phone/signup", samples);

    let invalid = json!({"username": "bad name!", "email": "nope", "password": "short"});
    let samples = timed(|_| {
        let app = &app;
        let invalid = &invalid;
        async move {
            let response = app
                .dispatch(request("POST", "/auth/signup", Some(invalid), None))
                .await;
            assert_eq!(response.status(), 400);
        }
    })
    .await;
    report("POST /auth/signup (400, no hashing)", samples);

    let samples = timed(|_| {
        let app = &app;
        async move {
            let response = app
                .dispatch(request("GET", "/.well-known/jwks.json", None, None))
                .await;
            assert_eq!(response.status(), 200);
        }
    })
    .await;
    report("GET /.well-known/jwks.json", samples);
}
