//! Micro-benchmarks of the request path's pieces: `cargo bench -p shared`.
//! Figures and the machine they were taken on: docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::{json, Map, Value};
use shared::crypto::phone_crypto::PhoneKeys;
use shared::crypto::{Argon2Settings, PasswordHasher};
use shared::domain::errors::{ErrorCode, FieldError, FieldErrors};
use shared::domain::request::RequestBody;
use shared::domain::{Password, PhoneNumber, PhoneRegion};
use shared::http::body::json_object;
use shared::http::{ApiError, Reply};
use shared::session_tokens::jwt::{issue, verify, SessionTokenSettings};
use shared::session_tokens::keyset::KeySet;
use shared::session_tokens::refresh::RefreshToken;
use shared::usecases::login_form::{LoginForm, LoginRequest};
use shared::usecases::phone_signup_form::PhoneSignUpForm;
use shared::usecases::signup_form::SignUpForm;
use time::OffsetDateTime;
use uuid::Uuid;

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("object")
}

fn signup_fields() -> Map<String, Value> {
    object(json!({
        "username": "alice", "email": "alice@example.com",
        "password": "Tr1cky-Vole-Lantern", "confirm_password": "Tr1cky-Vole-Lantern",
        "rank": "Captain", "unitname": "Signals Regiment", "designation": "Officer",
        "mobileNo": "+919876543210", "personalNo": "+919876543211", "phoneNo": "+919876543212"
    }))
}

fn request_parsing(c: &mut Criterion) {
    let body = Value::Object(signup_fields()).to_string();
    let mut group = c.benchmark_group("request parsing and validation");
    group.bench_function("JSON body to object (sign-up body)", |b| {
        b.iter(|| {
            let request: Request = http::Request::builder()
                .method("POST")
                .uri("/auth/signup")
                .header("content-type", "application/json")
                .body(Body::from(body.as_str()))
                .expect("request");
            black_box(json_object(&request).is_ok())
        })
    });
    let fields = signup_fields();
    // Dominated by zxcvbn's password strength estimate.
    group.bench_function("sign-up form (with password strength)", |b| {
        b.iter(|| black_box(SignUpForm::parse(black_box(&fields)).is_ok()))
    });
    let login = object(
        json!({"login": "Alice", "password": "Tr1cky-Vole-Lantern", "device_id": "pixel-7"}),
    );
    group.bench_function("login form", |b| {
        b.iter(|| {
            black_box(
                LoginRequest::from_fields(black_box(&login))
                    .map(LoginForm::from_request)
                    .is_ok(),
            )
        })
    });
    shared::domain::phone_number::load_numbering_plans();
    let phone = object(
        json!({"name": "Asha", "phone_number": "9876543210", "state": "Kerala",
        "device_id": "pixel-8", "device_info": {"platform": "android"}}),
    );
    group.bench_function("phone sign-up form (E.164 parse)", |b| {
        b.iter(|| {
            black_box(PhoneSignUpForm::parse(black_box(&phone), PhoneRegion::default()).is_ok())
        })
    });
    group.finish();
}

fn tokens(c: &mut Criterion) {
    let keys = KeySet::generate(OffsetDateTime::now_utc());
    let settings = SessionTokenSettings::default();
    let now = OffsetDateTime::now_utc();
    let user = Uuid::new_v4().to_string();
    let session = Uuid::new_v4().to_string();
    let mut group = c.benchmark_group("tokens");
    group.bench_function("JWT sign (EdDSA)", |b| {
        b.iter(|| black_box(issue(&keys, &settings, &user, &session, now).is_ok()))
    });
    let token = issue(&keys, &settings, &user, &session, now).expect("token");
    let token = shared::session_tokens::ExposeSecret::expose_secret(&token.token).to_owned();
    group.bench_function("JWT verify (EdDSA)", |b| {
        b.iter(|| black_box(verify(&keys, &settings, black_box(&token), now).is_ok()))
    });
    group.bench_function("refresh token generate + hash", |b| {
        b.iter(|| {
            let token = RefreshToken::generate(Uuid::nil(), Uuid::nil()).expect("token");
            black_box(token.hash())
        })
    });
    let presented = RefreshToken::generate(Uuid::new_v4(), Uuid::new_v4()).expect("token");
    let text = presented.expose().to_owned();
    group.bench_function("refresh token parse + hash (what a refresh does)", |b| {
        b.iter(|| {
            black_box(
                RefreshToken::parse(black_box(&text))
                    .expect("parses")
                    .hash(),
            )
        })
    });
    group.finish();
}

fn envelopes(c: &mut Criterion) {
    let mut group = c.benchmark_group("response envelope");
    let user = json!({"userId": Uuid::new_v4(), "username": "alice", "email": "alice@example.com",
        "rank": "Captain", "unitname": "Signals", "mobileNo": "+919876543210", "status": "ACTIVE"});
    group.bench_function("success envelope", |b| {
        b.iter(|| {
            black_box(Reply::new(StatusCode::OK, "User retrieved", &json!({"user": &user})).is_ok())
        })
    });
    group.bench_function("validation error envelope (3 fields)", |b| {
        b.iter(|| {
            let mut errors = FieldErrors::new();
            errors.add(
                "username",
                FieldError::new(ErrorCode::UsernameConflict, "taken"),
            );
            errors.add("email", FieldError::invalid("Enter a valid email address."));
            errors.add("password", FieldError::too_short(8));
            black_box(ApiError::validation(errors).body("req-1"))
        })
    });
    group.finish();
}

fn phone_crypto(c: &mut Criterion) {
    let keys = PhoneKeys::generate(OffsetDateTime::now_utc());
    let phone = PhoneNumber::parse("+919876543210", PhoneRegion::default()).expect("number");
    let sealed = keys.encrypt(&phone).expect("encrypt");
    let mut group = c.benchmark_group("phone numbers at rest");
    group.bench_function("encrypt (AES-256-GCM)", |b| {
        b.iter(|| black_box(keys.encrypt(&phone).is_ok()))
    });
    group.bench_function("decrypt", |b| {
        b.iter(|| black_box(keys.decrypt(&sealed).is_ok()))
    });
    group.bench_function("lookup hash (HMAC-SHA-256)", |b| {
        b.iter(|| black_box(keys.lookup_hash(&phone)))
    });
    group.finish();
}

fn password_hashing(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let settings = Argon2Settings::default();
    let hasher = PasswordHasher::new(settings).expect("hasher");
    let password = Password::parse("Tr1cky-Vole-Lantern").expect("password");
    let hash = runtime.block_on(hasher.hash(&password)).expect("hash");
    let mut group = c.benchmark_group(format!(
        "Argon2id m={} KiB t={} p={}",
        settings.memory_kib, settings.iterations, settings.parallelism
    ));
    group.sample_size(20);
    group.bench_function("hash", |b| {
        b.iter(|| black_box(runtime.block_on(hasher.hash(&password)).is_ok()))
    });
    group.bench_function("verify", |b| {
        b.iter(|| black_box(runtime.block_on(hasher.verify(&password, &hash)).is_ok()))
    });
    group.finish();
}

criterion_group!(
    benches,
    request_parsing,
    tokens,
    envelopes,
    phone_crypto,
    password_hashing
);
criterion_main!(benches);
