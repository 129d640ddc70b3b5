//! Credits on both stores: the ledger and balance (one transaction per
//! change, never below zero under parallel spends, each `once` key applied
//! once), the statement a user reads, the opening credits of a sign-up and
//! the operators' manual entries.

use std::sync::Arc;

use integration_tests::requests::codes;
use integration_tests::world::{World, PASSWORD};
use integration_tests::{default_config, Backend};
use serde_json::{json, Value};
use shared::domain::{CreditEntry, CreditReason, Posting, UserId};
use shared::ports::credits::PostingError;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::keyset::KeySet;

pub fn world_with_credits(backend: &Backend, signup_credits: u32, costs: &str) -> World {
    let mut config = default_config();
    config.credits.signup_credits = signup_credits;
    config.credits.costs = shared::domain::CreditCosts::parse(costs).unwrap();
    let ring = Arc::new(KeyRing::fixed(KeySet::generate(
        time::OffsetDateTime::now_utc(),
    )));
    World::with_config(backend.clone(), ring, config)
}

pub async fn statement(world: &World, access: &str, query: &str) -> Value {
    let reply = world
        .call(
            "GET",
            &format!("/users/me/credits{query}"),
            None,
            Some(access),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

fn posting(user: UserId, amount: i64) -> Posting {
    Posting::new(CreditEntry::new(
        user,
        amount,
        CreditReason::Admin("test".into()),
        None,
        time::OffsetDateTime::now_utc(),
    ))
}

/// 20 parallel spends of 1 against a balance of 10: the balance never goes
/// below zero, and it equals the entries written. (DynamoDB may answer a
/// spend that kept colliding as unavailable: then nothing was written.)
async fn balance_never_negative_under_parallel_spends(backend: &Backend) {
    let credits = backend.stores.credits_handle();
    let user = UserId::new_random();
    credits.post(&posting(user, 10)).await.unwrap();
    let spends = (0..20).map(|_| {
        let credits = credits.clone();
        tokio::spawn(async move { credits.post(&posting(user, -1)).await })
    });
    let mut spent = 0;
    for spend in spends {
        match spend.await.unwrap() {
            Ok(()) => spent += 1,
            Err(PostingError::Insufficient) => {}
            Err(PostingError::Store(shared::ports::StoreError::Unavailable(_))) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert!(spent <= 10, "{spent}");
    if backend.dynamo.is_none() {
        assert_eq!(spent, 10);
    }
    let page = credits.ledger(user, 100, None).await.unwrap();
    assert_eq!(page.balance, 10 - spent);
    assert!(page.balance >= 0);
    assert_eq!(page.entries.len() as i64, 1 + spent);
    assert_eq!(
        page.entries.iter().map(|e| e.amount).sum::<i64>(),
        page.balance
    );
    // One more than the balance is refused and writes nothing.
    assert!(matches!(
        credits.post(&posting(user, -(page.balance + 1))).await,
        Err(PostingError::Insufficient)
    ));
    assert_eq!(credits.ledger(user, 100, None).await.unwrap(), page);
}

/// A `once` key is applied once, also when posted in parallel; a posting
/// that may go negative does.
async fn once_keys_apply_once(backend: &Backend) {
    let credits = backend.stores.credits_handle();
    let user = UserId::new_random();
    let keyed = || Posting {
        once: Some("evt_test_1".into()),
        ..posting(user, 5)
    };
    let attempts = (0..5).map(|_| {
        let (credits, posting) = (credits.clone(), keyed());
        tokio::spawn(async move { credits.post(&posting).await })
    });
    let mut applied = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => applied += 1,
            Err(PostingError::AlreadyApplied) => {}
            Err(PostingError::Store(shared::ports::StoreError::Unavailable(_))) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(applied, 1);
    assert!(matches!(
        credits.post(&keyed()).await,
        Err(PostingError::AlreadyApplied)
    ));
    assert_eq!(credits.balance(user).await.unwrap(), 5);
    let refund = Posting {
        allow_negative: true,
        ..posting(user, -8)
    };
    credits.post(&refund).await.unwrap();
    assert_eq!(credits.balance(user).await.unwrap(), -3);
}

/// A new account starts with `SIGNUP_CREDITS`, as a ledger entry; the
/// statement pages newest first without gaps or repeats.
async fn signup_credits_and_paged_statement(backend: &Backend) {
    let world = world_with_credits(backend, 20, "");
    let user = world.sign_up("carol", "carol@example.com").await;
    let tokens = world.log_in("carol", PASSWORD).await;
    let body = statement(&world, &tokens.access, "").await;
    assert_eq!(body["data"]["balance"], 20, "{body}");
    let items = body["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (&items[0]["amount"], &items[0]["reason"]),
        (&json!(20), &json!("signup"))
    );
    assert_eq!(body["meta"], json!({"limit": 20, "next_cursor": null}));
    let admin = world.app.admin_token.expose().to_owned();
    for n in 1..=24 {
        world.clock.advance(time::Duration::SECOND);
        let reply = world
            .call(
                "POST",
                &format!("/admin/users/{user}/credits"),
                Some(&json!({"amount": n, "reason": format!("gift {n}")})),
                Some(&admin),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.body["data"]["entry"]["amount"], n);
    }
    let mut seen = Vec::new();
    let mut query = "?limit=10".to_owned();
    loop {
        let body = statement(&world, &tokens.access, &query).await;
        assert_eq!(body["data"]["balance"], 20 + (1..=24).sum::<i64>());
        for item in body["data"]["items"].as_array().unwrap() {
            seen.push(item["reason"].as_str().unwrap().to_owned());
        }
        match body["meta"]["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=10&cursor={}", urlencode(cursor)),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=24)
        .rev()
        .map(|n| format!("gift {n}"))
        .chain(["signup".to_owned()])
        .collect();
    assert_eq!(seen, expected);
    // Another user sees only their own (empty) ledger.
    world.sign_up("dave", "dave@example.com").await;
    let other = world.log_in("dave", PASSWORD).await;
    let body = statement(&world, &other.access, "").await;
    assert_eq!(body["data"]["balance"], 20);
}

fn urlencode(text: &str) -> String {
    text.replace('#', "%23")
}

/// Bad input to the new routes: the envelope and a 4xx, never a 500.
async fn bad_credit_requests_get_the_envelope(backend: &Backend) {
    let world = world_with_credits(backend, 3, "");
    let user = world.sign_up("erin", "erin@example.com").await;
    let tokens = world.log_in("erin", PASSWORD).await;
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=abc", "limit"),
        ("?cursor=nope", "cursor"),
        ("?cursor=00000000000000000001%23not-a-uuid", "cursor"),
    ] {
        let reply = world
            .call(
                "GET",
                &format!("/users/me/credits{query}"),
                None,
                Some(&tokens.access),
            )
            .await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert_eq!(codes(&reply.body, field), vec!["invalid"], "{}", reply.body);
    }
    let reply = world.call("GET", "/users/me/credits", None, None).await;
    assert_eq!(reply.status, 401);
    let admin = world.app.admin_token.expose().to_owned();
    let path = format!("/admin/users/{user}/credits");
    for (body, field, code) in [
        (json!({}), "amount", "required"),
        (json!({"amount": 0, "reason": "x"}), "amount", "invalid"),
        (json!({"amount": "5", "reason": "x"}), "amount", "invalid"),
        (json!({"amount": 1e12, "reason": "x"}), "amount", "invalid"),
        (json!({"amount": 5}), "reason", "required"),
        (json!({"amount": 5, "reason": "a\nb"}), "reason", "invalid"),
        (
            json!({"amount": 5, "reason": "x".repeat(201)}),
            "reason",
            "too_long",
        ),
    ] {
        let reply = world.call("POST", &path, Some(&body), Some(&admin)).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(codes(&reply.body, field), vec![code], "{}", reply.body);
    }
    let unknown = format!("/admin/users/{}/credits", UserId::new_random());
    let reply = world
        .call(
            "POST",
            &unknown,
            Some(&json!({"amount": 5, "reason": "x"})),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    // A debit beyond the balance: 402, nothing written.
    let reply = world
        .call(
            "POST",
            &path,
            Some(&json!({"amount": -4, "reason": "x"})),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, 402, "{}", reply.body);
    assert_eq!(
        codes(&reply.body, "non_field_errors"),
        vec!["insufficient_credits"]
    );
    let body = statement(&world, &tokens.access, "").await;
    assert_eq!(body["data"]["balance"], 3);
    assert_eq!(body["data"]["items"].as_array().unwrap().len(), 1);
    // The entry that fits is audited with the operator as actor.
    let reply = world
        .call(
            "POST",
            &path,
            Some(&json!({"amount": -3, "reason": "correction"})),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["data"]["balance"], 0);
    let reply = world
        .call(
            "GET",
            &format!("/admin/audit?user_id={user}"),
            None,
            Some(&admin),
        )
        .await;
    let records = reply.body["data"]["records"].as_array().unwrap();
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "admin_credits" && r["actor"] == "local-admin"),
        "{}",
        reply.body
    );
}

/// A phone account starts with `SIGNUP_CREDITS` too.
async fn phone_signup_credits(backend: &Backend) {
    let world = world_with_credits(backend, 15, "");
    let reply = world
        .call(
            "POST",
            "/auth/phone/signup",
            Some(&json!({"name": "Asha", "phone_number": "9876501234"})),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let access = reply.body["access_token"].as_str().unwrap().to_owned();
    let body = statement(&world, &access, "").await;
    assert_eq!(body["data"]["balance"], 15, "{body}");
    assert_eq!(body["data"]["items"][0]["reason"], "signup");
}

integration_tests::contract_on_both_backends!(
    phone_signup_credits,
    balance_never_negative_under_parallel_spends,
    once_keys_apply_once,
    signup_credits_and_paged_statement,
    bad_credit_requests_get_the_envelope,
);

/// `admin users credits` posts the entry through the route.
#[tokio::test]
async fn the_cli_adds_a_credit_entry() {
    use admin::api::{AdminApi, Credentials};
    use admin::args::{parse_args, Command};
    let backend = Backend::memory();
    let app = integration_tests::local_app(&backend);
    let token = app.admin_token.expose().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(local_api::serve_on(listener, app.clone()));
    let sign_up = integration_tests::requests::json_request(
        "POST",
        "/auth/signup",
        &integration_tests::requests::signup_body("frank", "frank@example.com", json!({})),
    );
    let (status, body) = integration_tests::requests::read(&app.dispatch(sign_up).await);
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["user"]["userId"].as_str().unwrap().to_owned();
    let api = AdminApi::new(&url, Credentials::Token(token)).unwrap();
    let mut balance = 0;
    for amount in ["7", "-2"] {
        let args: Vec<String> = [
            "users", "credits", &id, "--amount", amount, "--reason", "goodwill",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let Command::Api { call, json } = parse_args(&args).unwrap() else {
            panic!("no API command");
        };
        let (mut out, mut notes) = (Vec::new(), Vec::new());
        admin::api_commands::run(&api, &call, json, &mut out, &mut notes)
            .await
            .unwrap();
        balance += amount.parse::<i64>().unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(&format!("balance {balance}")), "{out}");
    }
    let args: Vec<String> = ["users", "credits", &id, "--amount", "-99", "--reason", "x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let Command::Api { call, json } = parse_args(&args).unwrap() else {
        panic!("no API command");
    };
    let (mut out, mut notes) = (Vec::new(), Vec::new());
    let error = admin::api_commands::run(&api, &call, json, &mut out, &mut notes)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("402"), "{error}");
}
