//! `POST /webhooks/stripe` on both stores: the signature exactly as Stripe
//! documents it, each event applied once under duplicated and concurrent
//! deliveries, refunds, and nothing secret in the logs.

use std::sync::Arc;

use integration_tests::requests::{codes, read_any, request_from, SOURCE_IP};
use integration_tests::world::{World, PASSWORD};
use integration_tests::{default_config, Backend};
use lambda_http::Body;
use secrecy::SecretString;
use serde_json::{json, Value};
use shared::domain::stripe_signature::sign;
use shared::ports::Clock;
use shared::usecases::payments::StripeKeysSource;

pub const SECRET: &str = "whsec_test_Unl1kelyWebhookSecret4471";

pub fn world(backend: &Backend) -> World {
    let mut config = default_config();
    config.credits.signup_credits = 10;
    config.credits.stripe_keys = StripeKeysSource::Inline {
        webhook_secret: SecretString::from(SECRET.to_owned()),
        api_key: None,
    };
    let ring = Arc::new(shared::session_tokens::keyring::KeyRing::fixed(
        shared::session_tokens::keyset::KeySet::generate(time::OffsetDateTime::now_utc()),
    ));
    World::with_config(backend.clone(), ring, config)
}

/// Posts `payload` with `signature` as Stripe would.
pub async fn deliver(world: &World, payload: &str, signature: Option<&str>) -> (u16, Value) {
    let mut request = request_from(
        SOURCE_IP,
        "POST",
        "/webhooks/stripe",
        Some("application/json; charset=utf-8"),
        Body::Text(payload.to_owned()),
    );
    if let Some(signature) = signature {
        request
            .headers_mut()
            .insert("stripe-signature", signature.parse().unwrap());
    }
    read_any(&world.app.dispatch(request).await)
}

pub fn signed(world: &World, payload: &str) -> String {
    sign(
        &SecretString::from(SECRET.to_owned()),
        payload.as_bytes(),
        world.clock.now(),
    )
}

pub fn checkout_event(id: &str, user: &str, pack: &str, intent: &str, paid: bool) -> String {
    json!({"id": id, "object": "event", "type": "checkout.session.completed",
           "data": {"object": {"id": format!("cs_{id}"), "object": "checkout.session",
             "payment_status": if paid { "paid" } else { "unpaid" },
             "client_reference_id": user, "metadata": {"pack": pack},
             "payment_intent": intent}}})
    .to_string()
}

fn refund_event(id: &str, intent: &str, full: bool) -> String {
    json!({"id": id, "object": "event", "type": "charge.refunded",
           "data": {"object": {"id": "ch_1", "object": "charge", "payment_intent": intent,
             "amount": 500, "amount_refunded": if full { 500 } else { 100 },
             "refunded": full}}})
    .to_string()
}

async fn balance(world: &World, access: &str) -> i64 {
    super::credits::statement(world, access, "?limit=100").await["data"]["balance"]
        .as_i64()
        .unwrap()
}

/// A paid checkout credits its pack once, however often and however
/// concurrently Stripe delivers it; the refund debits once, below zero.
async fn each_event_applies_once(backend: &Backend) {
    let world = world(backend);
    let user = world.sign_up("gina", "gina@example.com").await;
    let tokens = world.log_in("gina", PASSWORD).await;
    let event = checkout_event("evt_paid_1", &user, "starter", "pi_1", true);
    let signature = signed(&world, &event);
    let deliveries =
        futures::future::join_all((0..6).map(|_| deliver(&world, &event, Some(&signature)))).await;
    let mut applied = 0;
    for (status, body) in &deliveries {
        // A delivery that kept colliding may fail; Stripe retries it.
        assert!(*status == 200 || *status == 503, "{body}");
        if body["data"]["applied"] == true {
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    let (status, body) = deliver(&world, &event, Some(&signature)).await;
    assert_eq!(
        (status, &body["data"]["applied"]),
        (200, &json!(false)),
        "{body}"
    );
    assert_eq!(balance(&world, &tokens.access).await, 110);
    // Spend most of it, then the refund takes the pack back below zero.
    let admin = world.app.admin_token.expose().to_owned();
    let reply = world
        .call(
            "POST",
            &format!("/admin/users/{user}/credits"),
            Some(&json!({"amount": -105, "reason": "spent"})),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let partial = refund_event("evt_refund_0", "pi_1", false);
    let (status, body) = deliver(&world, &partial, Some(&signed(&world, &partial))).await;
    assert_eq!(
        (status, &body["data"]["applied"]),
        (200, &json!(false)),
        "{body}"
    );
    for id in ["evt_refund_1", "evt_refund_1", "evt_refund_2"] {
        let refund = refund_event(id, "pi_1", true);
        let (status, body) = deliver(&world, &refund, Some(&signed(&world, &refund))).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(balance(&world, &tokens.access).await, -95);
    let body = super::credits::statement(&world, &tokens.access, "").await;
    let reasons: Vec<&str> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.iter().filter(|r| **r == "purchase").count(), 1);
    assert_eq!(
        reasons.iter().filter(|r| **r == "purchase_refund").count(),
        1
    );
}

/// Wrong secret, an old timestamp, no header, a tampered body: 400
/// `signature_invalid`, nothing applied.
async fn bad_signatures_are_refused(backend: &Backend) {
    let world = world(backend);
    let user = world.sign_up("hana", "hana@example.com").await;
    let tokens = world.log_in("hana", PASSWORD).await;
    let event = checkout_event("evt_sig", &user, "starter", "pi_sig", true);
    let now = world.clock.now();
    let wrong = sign(
        &SecretString::from("whsec_wrong".to_owned()),
        event.as_bytes(),
        now,
    );
    let old = sign(
        &SecretString::from(SECRET.to_owned()),
        event.as_bytes(),
        now - time::Duration::minutes(6),
    );
    let tampered = event.replace("starter", "starter ");
    let good = signed(&world, &event);
    for (payload, signature) in [
        (event.as_str(), Some(wrong.as_str())),
        (event.as_str(), Some(old.as_str())),
        (event.as_str(), None),
        (event.as_str(), Some("t=abc,v1=00")),
        (event.as_str(), Some("")),
        (tampered.as_str(), Some(good.as_str())),
    ] {
        let (status, body) = deliver(&world, payload, signature).await;
        assert_eq!(status, 400, "{signature:?}: {body}");
        assert_eq!(codes(&body, "non_field_errors"), vec!["signature_invalid"]);
    }
    assert_eq!(balance(&world, &tokens.access).await, 10);
    // The same event correctly signed still applies (nothing was claimed).
    let (status, body) = deliver(&world, &event, Some(&good)).await;
    assert_eq!(
        (status, &body["data"]["applied"]),
        (200, &json!(true)),
        "{body}"
    );
}

/// Signed bodies that are no event are 400, never 500; events with
/// nothing to apply are acknowledged.
async fn odd_events_never_fail(backend: &Backend) {
    let world = world(backend);
    let user = world.sign_up("ivan", "ivan@example.com").await;
    for payload in [
        "",
        "not json",
        "[]",
        "{\"id\": 5}",
        "{\"type\": \"x\"}",
        "\u{0}",
    ] {
        let (status, body) = deliver(&world, payload, Some(&signed(&world, payload))).await;
        assert_eq!(status, 400, "{payload:?}: {body}");
        assert_eq!(codes(&body, "non_field_errors"), vec!["invalid_json"]);
    }
    let others = [
        json!({"id": "evt_o1", "type": "customer.created", "data": {"object": {}}}).to_string(),
        json!({"id": "evt_o2", "type": "checkout.session.completed"}).to_string(),
        checkout_event("evt_o3", &user, "starter", "pi_o3", false),
        checkout_event("evt_o4", &user, "no-such-pack", "pi_o4", true),
        checkout_event("evt_o5", "not-a-user-id", "starter", "pi_o5", true),
        refund_event("evt_o6", "pi_never_paid", true),
    ];
    for payload in others {
        let (status, body) = deliver(&world, &payload, Some(&signed(&world, &payload))).await;
        assert_eq!(
            (status, &body["data"]["applied"]),
            (200, &json!(false)),
            "{payload}: {body}"
        );
    }
}

integration_tests::contract_on_both_backends!(
    each_event_applies_once,
    bad_signatures_are_refused,
    odd_events_never_fail,
);

/// The webhook secret and the signatures never reach a log line.
#[tokio::test]
async fn no_webhook_secret_in_logs() {
    let logs = integration_tests::logs::capture();
    let world = world(&Backend::memory());
    let user = world.sign_up("jack", "jack@example.com").await;
    let event = checkout_event("evt_log", &user, "starter", "pi_log", true);
    let signature = signed(&world, &event);
    deliver(&world, &event, Some(&signature)).await;
    deliver(&world, &event, Some("t=1,v1=00")).await;
    let text = logs.text();
    assert!(text.contains("evt_log"), "the event is logged by id");
    assert!(!text.contains(SECRET));
    assert!(!text.contains(&signature[signature.find("v1=").unwrap() + 3..]));
}

/// The sample event goes through the handler once signed with the
/// secret of the function's state.
#[tokio::test]
async fn the_sample_event_credits_when_signed() {
    let world = world(&Backend::memory());
    let user = world.sign_up("kate", "kate@example.com").await;
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/stripe-webhook.json"),
    )
    .unwrap()
    .replace("USER_ID", &user);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    let body = event["body"].as_str().unwrap().to_owned();
    event["headers"]["stripe-signature"] = json!(signed(&world, &body));
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let (status, body) = read_any(&world.app.dispatch(request).await);
    assert_eq!(
        (status, &body["data"]["applied"]),
        (200, &json!(true)),
        "{body}"
    );
}
