//! Phone sign-in with texted codes (`POST /auth/phone/otp`,
//! `POST /auth/phone/login`) on both stores: request → outbox → text →
//! login, what unknown numbers get, wrong, spent, dead and expired codes,
//! the limits, and what reaches the table, the events and the logs.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::join_all;
use integration_tests::mail::last_code_to;
use integration_tests::world::World;
use integration_tests::{default_config, Backend};
use serde_json::{json, Value};
use shared::config::Config;
use shared::domain::{CodePurpose, PhoneCodeKey, PhoneNumber, PhoneRegion};
use shared::ports::Clock;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::keyset::KeySet;

const NUMBER: &str = "+919876543210";
const LOCAL_NUMBER: &str = "9876543210";
const OTP: &str = "/auth/phone/otp";
const LOGIN: &str = "/auth/phone/login";

fn config(vars: &[(&str, &str)]) -> Config {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned()).expect("valid configuration")
}

fn world_with(backend: &Backend, config: Config) -> World {
    let ring = Arc::new(KeyRing::fixed(KeySet::generate(
        time::OffsetDateTime::now_utc(),
    )));
    World::with_config(backend.clone(), ring, config)
}

async fn post(world: &World, path: &str, body: Value) -> integration_tests::world::Reply {
    world.call("POST", path, Some(&body), None).await
}

async fn sign_up(world: &World, number: &str) -> Value {
    let reply = post(
        world,
        "/auth/phone/signup",
        json!({"name": "Asha Menon", "phone_number": number, "state": "Kerala",
               "device_id": "pixel-8-f00d42"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

async fn request_code(world: &World, number: &str) -> integration_tests::world::Reply {
    post(world, OTP, json!({"phone_number": number})).await
}

/// The code texted to `number` last, after the outbox and worker ran.
async fn texted(world: &World, number: &str) -> Option<String> {
    world.app.settle().await;
    last_code_to(&world.app.mailbox.texts(), number)
}

async fn log_in(world: &World, number: &str, code: &str) -> integration_tests::world::Reply {
    post(
        world,
        LOGIN,
        json!({"phone_number": number, "code": code, "device_id": "tablet-2",
               "device_info": {"platform": "android", "model": "Tab S9"}}),
    )
    .await
}

fn assert_otp_invalid(reply: &integration_tests::world::Reply) {
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.body["errors"]["code"][0]["code"], "otp_invalid");
}

/// A wrong code: the right one with its last digit moved on.
fn wrong(code: &str) -> String {
    let mut digits: Vec<u8> = code.bytes().collect();
    digits[5] = b'0' + (digits[5] - b'0' + 1) % 10;
    String::from_utf8(digits).unwrap()
}

async fn code_signs_a_phone_account_in(backend: &Backend) {
    let world = World::new(backend.clone());
    let signed_up = sign_up(&world, LOCAL_NUMBER).await;
    let first = signed_up["access_token"].as_str().unwrap();
    let me = world.me(first).await;
    assert_eq!(
        me.body["data"]["user"]["last_login"],
        Value::Null,
        "{}",
        me.body
    );
    let reply = request_code(&world, LOCAL_NUMBER).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(
        reply.body["data"],
        json!({"expires_in": 300, "resend_after": 60})
    );
    world.app.settle().await;
    let texts = world.app.mailbox.texts();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].to, NUMBER);
    assert!(texts[0].text.contains("users-service"), "{}", texts[0].text);
    assert!(texts[0].text.contains("Do not share"), "{}", texts[0].text);
    let code = last_code_to(&texts, NUMBER).unwrap();
    assert!(code.bytes().all(|b| b.is_ascii_digit()) && code.len() == 6);

    let reply = log_in(&world, LOCAL_NUMBER, &code).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = &reply.body;
    assert!(body.get("data").is_none(), "top-level fields: {body}");
    assert_eq!(body["is_new_account"], false);
    assert_eq!(body["is_new_device"], true);
    assert_eq!(body["active_devices_count"], 2);
    assert_eq!(body["user"]["id"], signed_up["user"]["id"]);
    assert_eq!(body["user"]["phone_number"], NUMBER);
    assert_eq!(body["location_id"], signed_up["location_id"]);
    assert_eq!(body["needs_profile"], true);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();

    // A session like any other: the API, the devices, refresh, logout.
    let me = world.me(&access).await;
    assert_eq!(me.status, 200);
    assert!(
        me.body["data"]["user"]["last_login"].is_string(),
        "{}",
        me.body
    );
    let devices = world
        .call("GET", "/users/me/devices", None, Some(&access))
        .await;
    assert_eq!(devices.status, 200);
    assert!(devices.body.to_string().contains("tablet-2"));
    let refreshed = world.refresh(&refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let access = refreshed.body["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = world
        .call("POST", "/auth/logout", None, Some(&access))
        .await;
    assert_eq!(out.status, 200);
    assert_eq!(world.me(&access).await.status, 401);

    // Single use.
    assert_otp_invalid(&log_in(&world, LOCAL_NUMBER, &code).await);
    // The new device was announced as for logins, and the attempt audited
    // without the number.
    let audits = world
        .backend
        .stores
        .audit()
        .list_day(world.clock.now().date())
        .await
        .unwrap();
    let logins: Vec<_> = audits
        .iter()
        .filter(|r| r.action == shared::domain::AuditAction::PhoneLogin)
        .collect();
    assert_eq!(logins.len(), 2);
    assert!(!format!("{audits:?}").contains("9876543210"));
}

async fn unknown_numbers_get_the_same_answer_and_no_text(backend: &Backend) {
    let world = World::new(backend.clone());
    sign_up(&world, NUMBER).await;
    let known = request_code(&world, NUMBER).await;
    let unknown = request_code(&world, "+919811122233").await;
    assert_eq!(known.status, 202);
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.body["data"], known.body["data"]);
    assert_eq!(unknown.body["message"], known.body["message"]);
    world.app.settle().await;
    let texts = world.app.mailbox.texts();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].to, NUMBER);
    assert_otp_invalid(&log_in(&world, "+919811122233", "123456").await);
    // Sign-up codes go the other way: to numbers without an account.
    for number in [NUMBER, "+919811122233"] {
        let reply = post(
            &world,
            OTP,
            json!({"phone_number": number, "purpose": "signup"}),
        )
        .await;
        assert_eq!(reply.status, 202);
    }
    world.app.settle().await;
    let texts = world.app.mailbox.texts();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[1].to, "+919811122233");
    assert!(texts[1].text.contains("sign-up"));
    // A sign-up code does not sign in.
    let code = last_code_to(&texts, "+919811122233").unwrap();
    assert_otp_invalid(&log_in(&world, "+919811122233", &code).await);
}

async fn bad_requests_are_refused(backend: &Backend) {
    let world = World::new(backend.clone());
    for (path, body, field, code) in [
        (OTP, json!({}), "phone_number", "required"),
        (
            OTP,
            json!({"phone_number": "12"}),
            "phone_number",
            "invalid",
        ),
        (
            OTP,
            json!({"phone_number": NUMBER, "purpose": "reset"}),
            "purpose",
            "invalid",
        ),
        (
            OTP,
            json!({"phone_number": "+447911123456"}),
            "phone_number",
            "invalid",
        ),
        (LOGIN, json!({"phone_number": NUMBER}), "code", "required"),
        (
            LOGIN,
            json!({"phone_number": NUMBER, "code": "12345"}),
            "code",
            "invalid",
        ),
        (
            LOGIN,
            json!({"phone_number": NUMBER, "code": "12345a"}),
            "code",
            "invalid",
        ),
        (LOGIN, json!({"code": "123456"}), "phone_number", "required"),
    ] {
        let reply = post(&world, path, body.clone()).await;
        assert_eq!(reply.status, 400, "{path} {body}: {}", reply.body);
        assert_eq!(
            reply.body["errors"][field][0]["code"], code,
            "{body}: {}",
            reply.body
        );
    }
    world.app.settle().await;
    assert!(world.app.mailbox.texts().is_empty());
}

async fn other_countries_can_be_allowed(backend: &Backend) {
    let world = world_with(backend, config(&[("SMS_COUNTRIES", "IN,GB")]));
    sign_up(&world, "+447911123456").await;
    let reply = request_code(&world, "+447911123456").await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert!(texted(&world, "+447911123456").await.is_some());
}

async fn five_wrong_guesses_kill_the_code(backend: &Backend) {
    let world = World::new(backend.clone());
    sign_up(&world, NUMBER).await;
    request_code(&world, NUMBER).await;
    let code = texted(&world, NUMBER).await.unwrap();
    for _ in 0..5 {
        assert_otp_invalid(&log_in(&world, NUMBER, &wrong(&code)).await);
    }
    assert_otp_invalid(&log_in(&world, NUMBER, &code).await);
    // A new code works, after wrong guesses below the limit.
    request_code(&world, NUMBER).await;
    let code = texted(&world, NUMBER).await.unwrap();
    for _ in 0..4 {
        assert_otp_invalid(&log_in(&world, NUMBER, &wrong(&code)).await);
    }
    assert_eq!(log_in(&world, NUMBER, &code).await.status, 200);
}

/// 24 guesses at once: every one is refused, and the store lets no more
/// than five be compared.
async fn parallel_guesses_are_counted_one_by_one(backend: &Backend) {
    let world = World::new(backend.clone());
    sign_up(&world, NUMBER).await;
    request_code(&world, NUMBER).await;
    let code = texted(&world, NUMBER).await.unwrap();
    let guess = wrong(&code);
    let replies = join_all((0..24).map(|_| log_in(&world, NUMBER, &guess))).await;
    assert!(replies.iter().all(|r| r.status == 401));
    assert_otp_invalid(&log_in(&world, NUMBER, &code).await);

    // At the port: of 24 parallel attempts on a fresh code, five get it.
    request_code(&world, NUMBER).await;
    let keys = world
        .backend
        .stores
        .phone_keys()
        .unwrap()
        .current()
        .await
        .unwrap();
    let phone = PhoneNumber::parse(NUMBER, PhoneRegion::default()).unwrap();
    let key = PhoneCodeKey {
        phone_hash: keys.lookup_hash(&phone),
        purpose: CodePurpose::Login,
    };
    let now = time::OffsetDateTime::now_utc();
    let codes = world.backend.stores.phone_codes();
    let attempts = join_all((0..24).map(|_| codes.attempt_phone_code(&key, 5, now))).await;
    let evaluated = attempts
        .into_iter()
        .filter(|a| a.as_ref().expect("store answers").is_some())
        .count();
    assert_eq!(evaluated, 5);
}

async fn codes_expire_after_five_minutes(backend: &Backend) {
    let world = World::new(backend.clone());
    sign_up(&world, NUMBER).await;
    request_code(&world, NUMBER).await;
    let code = texted(&world, NUMBER).await.unwrap();
    world.clock.advance(time::Duration::minutes(5));
    assert_otp_invalid(&log_in(&world, NUMBER, &code).await);
    request_code(&world, NUMBER).await;
    let code = texted(&world, NUMBER).await.unwrap();
    world.clock.advance(time::Duration::seconds(299));
    assert_eq!(log_in(&world, NUMBER, &code).await.status, 200);
}

async fn requests_are_limited_per_number_and_per_address(backend: &Backend) {
    let world = World::new(backend.clone());
    sign_up(&world, NUMBER).await;
    for _ in 0..3 {
        assert_eq!(request_code(&world, NUMBER).await.status, 202);
    }
    let refused = request_code(&world, NUMBER).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(
        refused.body["errors"]["non_field_errors"][0]["code"],
        "rate_limited"
    );
    let retry: i64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Another number from the same address: the address has 7 left.
    for i in 0..7 {
        let number = format!("+91981112{i:04}");
        assert_eq!(request_code(&world, &number).await.status, 202);
    }
    let refused = request_code(&world, "+919811129999").await;
    assert_eq!(refused.status, 429);
    let retry: i64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // Another address is not held back by this one.
    let other = world
        .call_from(
            "198.51.100.77",
            "POST",
            OTP,
            Some(&json!({"phone_number": "+919811129999"})),
            None,
        )
        .await;
    assert_eq!(other.status, 202);
}

/// The day's ceiling on all codes (`SMS_DAILY_LIMIT`) answers 429 too; a
/// code that expired before the worker got to it is not texted.
async fn daily_ceiling_and_stale_codes(backend: &Backend) {
    let world = world_with(backend, config(&[("SMS_DAILY_LIMIT", "2")]));
    sign_up(&world, NUMBER).await;
    for number in [NUMBER, "+919811122233"] {
        assert_eq!(request_code(&world, number).await.status, 202);
    }
    let refused = world
        .call_from(
            "198.51.100.8",
            "POST",
            OTP,
            Some(&json!({"phone_number": "+919811122244"})),
            None,
        )
        .await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.headers.contains_key("retry-after"));
    // The first request's text was never sent: five minutes pass first.
    world.clock.advance(time::Duration::minutes(5));
    world.app.settle().await;
    assert!(world.app.mailbox.texts().is_empty());
}

/// Neither the number nor the code rests in clear in the table (raw scan),
/// the outbox events (what the stream and the queue carry) or the logs.
#[tokio::test]
async fn no_code_or_number_in_the_table_the_events_or_the_logs() {
    let logs = integration_tests::logs::capture();
    for backend in Backend::both().await {
        let world = World::new(backend.clone());
        sign_up(&world, NUMBER).await;
        request_code(&world, NUMBER).await;
        let events = world.backend.stores.outbox().pending().await.unwrap();
        let bodies: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        let code = texted(&world, NUMBER).await.unwrap();
        let sealed = bodies
            .iter()
            .find(|b| b.contains("phone.code_requested"))
            .expect("the code's event");
        for secret in [NUMBER, LOCAL_NUMBER, code.as_str()] {
            assert!(!sealed.contains(secret), "{secret} in {sealed}");
        }
        if let Some(store) = &backend.dynamo {
            let table = format!("{:?}", integration_tests::dynamodb::scan_all(store).await);
            assert!(table.contains("OTP#"));
            for secret in [NUMBER, LOCAL_NUMBER, code.as_str()] {
                assert!(!table.contains(secret), "{secret} in the table");
            }
        }
        assert_eq!(log_in(&world, NUMBER, &code).await.status, 200);
        let text = logs.text();
        for secret in [NUMBER, LOCAL_NUMBER] {
            assert!(!text.contains(secret), "{secret} in the logs");
        }
        assert!(!logs.contains_word(&code), "{code} in the logs");
    }
}

/// Known and unknown numbers cost the same DynamoDB requests.
#[tokio::test]
async fn code_requests_cost_the_same_and_logins_three_round_trips() {
    let counter = integration_tests::round_trips::RoundTrips::default();
    let store = integration_tests::dynamodb::counted_table(counter.clone()).await;
    let backend = Backend {
        name: "dynamodb",
        stores: shared::app::Stores::dynamo(store.clone()),
        dynamo: Some(store),
    };
    let world = World::new(backend);
    sign_up(&world, NUMBER).await;
    let mut costs = Vec::new();
    for number in [NUMBER, "+919811122233"] {
        counter.reset();
        assert_eq!(request_code(&world, number).await.status, 202);
        costs.push(counter.operations());
    }
    assert_eq!(costs[0], costs[1]);
    assert_eq!(costs[0], vec!["GetItem", "TransactWriteItems"]);
    // A code sign-in: the counted guess, the account's partition, the
    // transaction that spends the code and starts the session.
    let code = texted(&world, NUMBER).await.unwrap();
    counter.reset();
    assert_eq!(log_in(&world, NUMBER, &code).await.status, 200);
    assert_eq!(
        counter.operations(),
        vec!["UpdateItem", "Query", "TransactWriteItems"]
    );
}

/// The notification worker texts the sealed code through SNS (the real SDK
/// on moto): the outbox event of a request goes out once, transactional;
/// a number SNS refuses is a fault, not a retry.
#[tokio::test]
async fn worker_texts_codes_through_sns() {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    use shared::adapters::sms::SnsSender;
    use shared::ports::notifications::{SmsMessage, SmsSender};
    let world = World::new(Backend::memory());
    sign_up(&world, NUMBER).await;
    request_code(&world, NUMBER).await;
    let events = world.backend.stores.outbox().pending().await.unwrap();
    let event = events
        .iter()
        .find(|e| e.event_type.as_str() == "phone.code_requested")
        .expect("the code's event");
    let sns = Arc::new(SnsSender::with_client(integration_tests::moto::sns_client()));
    let mailbox = Arc::new(shared::adapters::email::LocalMailbox::default());
    let state = notification_worker::State::new(
        &world.backend.stores,
        &default_config(),
        mailbox.clone(),
        sns.clone(),
    );
    let mut message = SqsMessage::default();
    message.message_id = Some("m-1".into());
    message.body = Some(serde_json::to_string(event).unwrap());
    let mut sqs = SqsEvent::default();
    sqs.records = vec![message];
    let response = notification_worker::handle(&state, sqs).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(
        mailbox.texts().is_empty(),
        "sent through SNS, not the mailbox"
    );

    let refused = sns
        .send_sms(&SmsMessage {
            to: "not-a-number".into(),
            text: "123456 is your code".into(),
            event_id: uuid::Uuid::new_v4(),
            event_type: "phone.code_requested".into(),
        })
        .await
        .expect_err("SNS refuses a malformed number");
    assert!(
        matches!(refused, shared::ports::StoreError::Internal(_)),
        "{refused:?}"
    );
    assert!(!format!("{refused}").contains("not-a-number"));
}

/// The mobile clients post their phone sign-up to `/auth/signup`: a body
/// with `phone_number` and no `username`/`email` answers as the phone
/// sign-up does, with the one-line `error` on every error.
async fn phone_shaped_body_on_signup_is_a_phone_sign_up(backend: &Backend) {
    let world = World::new(backend.clone());
    // Blocked before the first request: instances cache the list.
    let block = shared::domain::ip_block::IpBlock::new(
        "192.0.2.0/24",
        "abuse",
        Some("ops"),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    world.backend.stores.ip_blocks().add(&block).await.unwrap();
    let body = json!({"name": "Asha Menon", "phone_number": LOCAL_NUMBER, "device_id": "d-1"});
    let reply = post(&world, "/auth/signup/", body.clone()).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["user"]["phone_number"], NUMBER);
    assert_eq!(reply.body["is_new_account"], true);
    assert!(reply.body["access_token"].is_string());
    let taken = post(&world, "/auth/signup", body).await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(taken.body["user_exists"], true);
    assert_eq!(
        taken.body["errors"]["phone_number"][0]["code"],
        "phone_conflict"
    );
    assert_eq!(
        taken.body["error"],
        "A user with this phone number already exists."
    );
    let nameless = post(
        &world,
        "/auth/signup",
        json!({"phone_number": "+919811122233"}),
    )
    .await;
    assert_eq!(nameless.status, 400, "{}", nameless.body);
    assert_eq!(nameless.body["errors"]["name"][0]["code"], "required");
    assert_eq!(nameless.body["error"], "name is required");
    let blocked = world
        .call_from(
            "192.0.2.9",
            "POST",
            "/auth/signup",
            Some(&json!({"name": "B", "phone_number": "+919811122244"})),
            None,
        )
        .await;
    assert_eq!(blocked.status, 403, "{}", blocked.body);
    assert_eq!(
        blocked.body["errors"]["non_field_errors"][0]["code"],
        "ip_blocked"
    );
    assert_eq!(blocked.body["error"], "Access denied from this location.");
    // A username or email keeps it the username sign-up.
    let member = post(
        &world,
        "/auth/signup",
        json!({"username": "asha", "phone_number": "+919811122255"}),
    )
    .await;
    assert_eq!(member.status, 400);
    assert!(member.body["errors"]["email"].is_array(), "{}", member.body);
    assert!(member.body["error"].is_string());
}

/// `PHONE_SIGNUP_VERIFY=true`: the sign-up needs the number's `signup`
/// code; off (the default), it needs none.
async fn verified_phone_sign_up_needs_a_signup_code(backend: &Backend) {
    let world = world_with(backend, config(&[("PHONE_SIGNUP_VERIFY", "true")]));
    let body = json!({"name": "Asha Menon", "phone_number": NUMBER});
    let missing = post(&world, "/auth/phone/signup", body.clone()).await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert_eq!(missing.body["errors"]["code"][0]["code"], "required");
    let mut guessed = body.clone();
    guessed["code"] = json!("123456");
    let refused = post(&world, "/auth/phone/signup", guessed).await;
    assert_otp_invalid(&refused);
    let reply = post(
        &world,
        OTP,
        json!({"phone_number": NUMBER, "purpose": "signup"}),
    )
    .await;
    assert_eq!(reply.status, 202);
    let code = texted(&world, NUMBER).await.expect("a sign-up code");
    let mut verified = body.clone();
    verified["code"] = json!(code);
    let created = post(&world, "/auth/signup", verified.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    // Spent: the number's next sign-up (another device) needs a new code.
    let again = post(&world, "/auth/phone/signup", verified).await;
    assert_otp_invalid(&again);

    let unverified = World::new(backend.clone());
    let reply = post(
        &unverified,
        "/auth/phone/signup",
        json!({"name": "Ravi", "phone_number": "+919811122266"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

integration_tests::contract_on_both_backends!(
    phone_shaped_body_on_signup_is_a_phone_sign_up,
    verified_phone_sign_up_needs_a_signup_code,
    code_signs_a_phone_account_in,
    unknown_numbers_get_the_same_answer_and_no_text,
    bad_requests_are_refused,
    other_countries_can_be_allowed,
    five_wrong_guesses_kill_the_code,
    parallel_guesses_are_counted_one_by_one,
    codes_expire_after_five_minutes,
    requests_are_limited_per_number_and_per_address,
    daily_ceiling_and_stale_codes,
);

#[test]
fn default_configuration_sends_to_india_only() {
    let countries = default_config().sms_countries().unwrap();
    let region = PhoneRegion::default();
    assert!(countries.allows(&PhoneNumber::parse(NUMBER, region).unwrap()));
    assert!(!countries.allows(&PhoneNumber::parse("+447911123456", region).unwrap()));
}
