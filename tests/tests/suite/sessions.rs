//! Token pairs over their life on both adapters: rotation, the grace
//! window, reuse, logout, password change, profile and device changes.

use integration_tests::requests::codes;
use integration_tests::world::{tokens, World, PASSWORD};
use serde_json::json;
use shared::domain::EventType;
use time::Duration;

async fn access_token_reaches_me(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    let pair = world.log_in("alice", PASSWORD).await;
    let reply = world.me(&pair.access).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let user = &reply.body["data"]["user"];
    assert_eq!(user["userId"], id.as_str());
    for field in [
        "created_at",
        "updated_at",
        "email_verified",
        "mobileNo",
        "status",
    ] {
        assert!(!user[field].is_null(), "{field}");
    }
    assert!(!reply.body.to_string().contains("argon2"));
}

async fn refresh_rotates_and_a_quick_retry_gets_the_same_pair(world: World) {
    world.sign_up("bob", "bob@example.com").await;
    let first = world.log_in("bob", PASSWORD).await;
    let rotated = world.refresh(&first.refresh).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = tokens(&rotated.body);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(world.me(&second.access).await.status, 200);
    // A retry inside ten seconds (a racing tab): the same new refresh token.
    world.clock.advance(Duration::seconds(5));
    let retry = world.refresh(&first.refresh).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(tokens(&retry.body).refresh, second.refresh);
    // The new token rotates on.
    let third = world.refresh(&second.refresh).await;
    assert_eq!(third.status, 200);
}

async fn reuse_after_the_grace_window_ends_the_session(world: World) {
    world.sign_up("carol", "carol@example.com").await;
    let first = world.log_in("carol", PASSWORD).await;
    let second = tokens(&world.refresh(&first.refresh).await.body);
    world.clock.advance(Duration::seconds(11));
    let stolen = world.refresh(&first.refresh).await;
    assert_eq!(stolen.status, 401, "{}", stolen.body);
    assert_eq!(codes(&stolen.body, "refresh_token"), ["token_reused"]);
    // The whole family is dead: the live refresh token and the access tokens.
    let after = world.refresh(&second.refresh).await;
    assert_eq!(
        (after.status, codes(&after.body, "refresh_token")),
        (401, vec!["token_invalid".to_owned()])
    );
    let me = world.me(&second.access).await;
    assert_eq!(
        (me.status, codes(&me.body, "non_field_errors")),
        (401, vec!["token_invalid".to_owned()])
    );
    assert!(me.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    // Replaying the stolen token again stays a reuse.
    assert_eq!(
        codes(&world.refresh(&first.refresh).await.body, "refresh_token"),
        ["token_reused"]
    );
    // The theft is announced: a security.token_reuse event in the outbox,
    // written with the revocation.
    let events = world.backend.stores.outbox().pending().await.unwrap();
    let reuse: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == EventType::TokenReuse)
        .collect();
    assert_eq!(reuse.len(), 1, "one per ended session: {events:?}");
    assert!(!serde_json::to_string(&reuse)
        .unwrap()
        .contains(&first.refresh));
    // Other sessions of the user are untouched.
    let other = world.log_in("carol", PASSWORD).await;
    assert_eq!(world.me(&other.access).await.status, 200);
}

async fn refresh_tokens_expire_when_idle_and_absolutely(world: World) {
    world.sign_up("dave", "dave@example.com").await;
    let pair = world.log_in("dave", PASSWORD).await;
    world
        .clock
        .advance(Duration::days(7) + Duration::seconds(1));
    let idle = world.refresh(&pair.refresh).await;
    assert_eq!(
        (idle.status, codes(&idle.body, "refresh_token")),
        (401, vec!["token_expired".to_owned()])
    );

    let mut pair = world.log_in("dave", PASSWORD).await;
    // Days 6, 12, 18 and 24: each refresh inside the idle limit.
    for _ in 0..4 {
        world.clock.advance(Duration::days(6));
        let reply = world.refresh(&pair.refresh).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        pair = tokens(&reply.body);
    }
    // Day 30: however active, the session is over.
    world.clock.advance(Duration::days(6));
    let absolute = world.refresh(&pair.refresh).await;
    assert_eq!(absolute.status, 401, "30 days absolute: {}", absolute.body);
}

async fn access_tokens_expire_after_fifteen_minutes(world: World) {
    world.sign_up("erin", "erin@example.com").await;
    let pair = world.log_in("erin", PASSWORD).await;
    world
        .clock
        .advance(Duration::minutes(15) + Duration::seconds(31));
    let me = world.me(&pair.access).await;
    assert_eq!(
        (me.status, codes(&me.body, "non_field_errors")),
        (401, vec!["token_expired".to_owned()])
    );
    assert!(me.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
}

async fn bad_refresh_tokens(world: World) {
    for token in [json!("rt_garbage"), json!(""), json!("x".repeat(5000))] {
        let reply = world
            .call(
                "POST",
                "/auth/token/refresh",
                Some(&json!({ "refresh_token": token })),
                None,
            )
            .await;
        assert!(matches!(reply.status, 400 | 401), "{token}: {}", reply.body);
    }
    let missing = world
        .call("POST", "/auth/token/refresh", Some(&json!({})), None)
        .await;
    assert_eq!(
        (missing.status, codes(&missing.body, "refresh_token")),
        (400, vec!["required".to_owned()])
    );
    let wrong_type = world
        .call(
            "POST",
            "/auth/token/refresh",
            Some(&json!({"refresh_token": 42})),
            None,
        )
        .await;
    assert_eq!(
        (wrong_type.status, codes(&wrong_type.body, "refresh_token")),
        (400, vec!["invalid".to_owned()])
    );
}

async fn logout_ends_this_session_and_logout_all_every_one(world: World) {
    world.sign_up("frank", "frank@example.com").await;
    let a = world.log_in("frank", PASSWORD).await;
    let b = world.log_in("frank", PASSWORD).await;
    let c = world.log_in("frank", PASSWORD).await;
    let out = world
        .call("POST", "/auth/logout", None, Some(&a.access))
        .await;
    assert_eq!(
        (out.status, out.body["data"]["sessions_ended"].as_u64()),
        (200, Some(1))
    );
    assert_eq!(
        world.me(&a.access).await.status,
        401,
        "at once, not at expiry"
    );
    assert_eq!(world.refresh(&a.refresh).await.status, 401);
    assert_eq!(world.me(&b.access).await.status, 200);
    let all = world
        .call(
            "POST",
            "/auth/logout/",
            Some(&json!({"all": true})),
            Some(&b.access),
        )
        .await;
    assert_eq!(
        (all.status, all.body["data"]["sessions_ended"].as_u64()),
        (200, Some(2))
    );
    for pair in [&b, &c] {
        assert_eq!(world.me(&pair.access).await.status, 401);
        assert_eq!(world.refresh(&pair.refresh).await.status, 401);
    }
    let unauthenticated = world.call("POST", "/auth/logout", None, None).await;
    assert_eq!(
        (
            unauthenticated.status,
            codes(&unauthenticated.body, "non_field_errors")
        ),
        (401, vec!["not_authenticated".to_owned()])
    );
}

async fn password_change_keeps_this_session_and_ends_the_others(world: World) {
    world.sign_up("grace", "grace@example.com").await;
    let here = world.log_in("grace", PASSWORD).await;
    let there = world.log_in("grace", PASSWORD).await;
    let new = "Brisk-Otter-Harbour-58";
    let body = json!({"current_password": PASSWORD, "new_password": new, "confirm_password": new});
    world.clock.advance(Duration::seconds(1));
    let reply = world
        .call(
            "POST",
            "/auth/password/change",
            Some(&body),
            Some(&here.access),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(world.me(&here.access).await.status, 200);
    assert_eq!(world.refresh(&here.refresh).await.status, 200);
    assert_eq!(world.me(&there.access).await.status, 401);
    assert_eq!(world.refresh(&there.refresh).await.status, 401);
    assert_eq!(
        world
            .log_in_with(json!({"login": "grace", "password": PASSWORD}))
            .await
            .status,
        401
    );
    world.log_in("grace", new).await;
    let events = world.backend.stores.outbox().pending().await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    // The sign-up's two events share a time; the change comes after.
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds[..2].contains(&EventType::UserRegistered.as_str()));
    assert!(kinds[..2].contains(&EventType::EmailConfirmationRequested.as_str()));
    assert_eq!(kinds[2], EventType::PasswordChanged.as_str());
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(new) && !text.contains(PASSWORD));
}

async fn password_change_rules(world: World) {
    world.sign_up("heidi", "heidi@example.com").await;
    let pair = world.log_in("heidi", PASSWORD).await;
    let change = |body: serde_json::Value| {
        let access = pair.access.clone();
        let world = &world;
        async move {
            world
                .call("POST", "/auth/password/change", Some(&body), Some(&access))
                .await
        }
    };
    let wrong = change(json!({"current_password": "nope", "new_password": "Brisk-Otter-Harbour-58", "confirm_password": "Brisk-Otter-Harbour-58"})).await;
    assert_eq!(
        (wrong.status, codes(&wrong.body, "current_password")),
        (400, vec!["invalid_credentials".to_owned()])
    );
    let weak = change(json!({"current_password": PASSWORD, "new_password": "password1", "confirm_password": "password2"})).await;
    assert_eq!(weak.status, 400);
    assert!(codes(&weak.body, "new_password").contains(&"password_too_common".to_owned()));
    assert_eq!(codes(&weak.body, "confirm_password"), ["password_mismatch"]);
    let similar = change(json!({"current_password": PASSWORD, "new_password": "heidi@example", "confirm_password": "heidi@example"})).await;
    assert!(codes(&similar.body, "new_password").contains(&"password_too_similar".to_owned()));
    let missing = change(json!({})).await;
    assert_eq!(codes(&missing.body, "current_password"), ["required"]);
    // Guessing the current password locks like a login does.
    for _ in 0..9 {
        change(json!({"current_password": "nope", "new_password": "Brisk-Otter-Harbour-58", "confirm_password": "Brisk-Otter-Harbour-58"})).await;
    }
    let locked = change(json!({"current_password": PASSWORD, "new_password": "Brisk-Otter-Harbour-58", "confirm_password": "Brisk-Otter-Harbour-58"})).await;
    assert_eq!(locked.status, 423, "{}", locked.body);
}

async fn profile_update_moves_claims_in_one_step(world: World) {
    world.sign_up("ivan", "ivan@example.com").await;
    world.sign_up("judy", "judy@example.com").await;
    let ivan = world.log_in("ivan", PASSWORD).await;
    let patch = |body: serde_json::Value| {
        let access = ivan.access.clone();
        let world = &world;
        async move {
            world
                .call("PATCH", "/users/me", Some(&body), Some(&access))
                .await
        }
    };
    let taken = patch(
        json!({"username": "JUDY", "email": "Judy@example.com", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(taken.status, 400, "{}", taken.body);
    assert_eq!(codes(&taken.body, "username"), ["username_conflict"]);
    assert_eq!(codes(&taken.body, "email"), ["email_conflict"]);
    let invalid =
        patch(json!({"mobileNo": "12", "rank": "r".repeat(101), "username": "bad name"})).await;
    assert_eq!(invalid.status, 400);
    assert_eq!(codes(&invalid.body, "mobileNo"), ["invalid"]);
    assert_eq!(codes(&invalid.body, "rank"), ["too_long"]);
    let moved = patch(json!({"username": "Ivan2", "email": "ivan2@example.com", "rank": "Major", "current_password": PASSWORD})).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let user = &moved.body["data"]["user"];
    assert_eq!(
        (
            user["username"].as_str(),
            user["email"].as_str(),
            user["pending_email"].as_str(),
            user["rank"].as_str()
        ),
        (
            Some("Ivan2"),
            Some("ivan@example.com"),
            Some("ivan2@example.com"),
            Some("Major")
        )
    );
    // The new email applies once its link is confirmed.
    world.app.settle().await;
    let token = integration_tests::mail::last_token(
        &world.app.mailbox.messages(),
        "email.change_requested",
    )
    .expect("a link");
    let confirmed = world
        .call(
            "POST",
            "/auth/email/confirm",
            Some(&json!({ "token": token })),
            None,
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    // The old name and email are free again; the new ones are taken.
    world.sign_up("ivan", "ivan@example.com").await;
    let users = world.backend.stores.users();
    assert!(users.find_by_username("ivan2").await.unwrap().is_some());
    assert!(users
        .find_by_email("ivan2@example.com")
        .await
        .unwrap()
        .is_some());
    world.log_in("ivan2", PASSWORD).await;
}

async fn devices_can_be_removed_only_by_their_owner(world: World) {
    world.sign_up("kate", "kate@example.com").await;
    world.sign_up("liam", "liam@example.com").await;
    let phone = world
        .log_in_with(json!({"login": "kate", "password": PASSWORD, "device_id": "kate-phone"}))
        .await;
    let phone = tokens(&phone.body);
    let laptop = world
        .log_in_with(json!({"login": "kate", "password": PASSWORD, "device_id": "kate-laptop"}))
        .await;
    let laptop = tokens(&laptop.body);
    let liam = world
        .log_in_with(json!({"login": "liam", "password": PASSWORD, "device_id": "liam-phone"}))
        .await;
    let liam = tokens(&liam.body);

    let not_hers = world
        .call(
            "DELETE",
            "/users/me/devices/liam-phone",
            None,
            Some(&laptop.access),
        )
        .await;
    assert_eq!(
        (not_hers.status, codes(&not_hers.body, "non_field_errors")),
        (404, vec!["not_found".to_owned()])
    );
    assert_eq!(world.me(&liam.access).await.status, 200);
    let unknown = world
        .call(
            "DELETE",
            "/users/me/devices/nothing-here",
            None,
            Some(&laptop.access),
        )
        .await;
    assert_eq!(unknown.status, 404);

    let removed = world
        .call(
            "DELETE",
            "/users/me/devices/kate-phone",
            None,
            Some(&laptop.access),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(world.me(&phone.access).await.status, 401);
    assert_eq!(world.refresh(&phone.refresh).await.status, 401);
    assert_eq!(world.me(&laptop.access).await.status, 200);
    let list = world
        .call("GET", "/users/me/devices", None, Some(&laptop.access))
        .await;
    let ids: Vec<&str> = list.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["kate-laptop"]);
    assert_eq!(
        list.body["data"]["items"][0]["sessions"][0]["current"],
        true
    );
}

async fn deactivated_users_can_neither_refresh_nor_call(world: World) {
    let id = world.sign_up("pete", "pete@example.com").await;
    let pair = world.log_in("pete", PASSWORD).await;
    let users = world.backend.stores.users();
    let user = users
        .get(id.parse().map(shared::domain::UserId::from_uuid).unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut inactive = user.clone();
    inactive.status = shared::domain::UserStatus::Inactive;
    let audit = integration_tests::requests::audit_record(user.id);
    users.update(&user, &inactive, &audit, &[]).await.unwrap();
    let me = world.me(&pair.access).await;
    assert_eq!(
        (me.status, codes(&me.body, "non_field_errors")),
        (401, vec!["token_invalid".to_owned()])
    );
    let refresh = world.refresh(&pair.refresh).await;
    assert_eq!(
        (refresh.status, codes(&refresh.body, "refresh_token")),
        (401, vec!["token_invalid".to_owned()])
    );
}

/// Audit records of one action for the user, written today (UTC) on the
/// world's clock.
async fn audits_of(
    world: &World,
    action: shared::domain::AuditAction,
) -> Vec<shared::domain::AuditRecord> {
    let today = shared::ports::Clock::now(world.clock.as_ref())
        .to_offset(time::UtcOffset::UTC)
        .date();
    let mut records = world.backend.stores.audit().list_day(today).await.unwrap();
    records.retain(|r| r.action == action);
    records
}

/// Issue #17 item 2: the grace window hands out the spent token's stored
/// successor only while that successor is the session's live token. Once
/// it has rotated on, replaying the first token is theft.
async fn a_replay_after_the_successor_rotated_is_reuse(world: World) {
    use shared::domain::AuditAction;
    world.sign_up("gwen", "gwen@example.com").await;
    let first = world.log_in("gwen", PASSWORD).await;
    let second = tokens(&world.refresh(&first.refresh).await.body);
    world.clock.advance(Duration::seconds(2));
    let third = world.refresh(&second.refresh).await;
    assert_eq!(third.status, 200, "{}", third.body);
    let third = tokens(&third.body);
    // Within ten seconds of its rotation, but its successor moved on.
    world.clock.advance(Duration::seconds(2));
    let replay = world.refresh(&first.refresh).await;
    assert_eq!(
        (replay.status, codes(&replay.body, "refresh_token")),
        (401, vec!["token_reused".to_owned()]),
        "{}",
        replay.body
    );
    assert!(
        !replay.body.to_string().contains(&second.refresh),
        "the rotated successor is never handed out again"
    );
    // The family is revoked: the live token and its access token are dead.
    let live = world.refresh(&third.refresh).await;
    assert_eq!(
        (live.status, codes(&live.body, "refresh_token")),
        (401, vec!["token_invalid".to_owned()])
    );
    assert_eq!(world.me(&third.access).await.status, 401);
    // The second token, replayed inside its own window, is reuse too now.
    assert_eq!(
        codes(&world.refresh(&second.refresh).await.body, "refresh_token"),
        ["token_reused"]
    );
    assert!(audits_of(&world, AuditAction::RefreshGraceReplay)
        .await
        .is_empty());
    assert!(!audits_of(&world, AuditAction::TokenReuse).await.is_empty());
}

/// Every replay honoured inside the grace window leaves an audit record.
async fn grace_replays_are_audited(world: World) {
    use shared::domain::{AuditAction, AuditOutcome};
    let id = world.sign_up("hugo", "hugo@example.com").await;
    let first = world.log_in("hugo", PASSWORD).await;
    let second = tokens(&world.refresh(&first.refresh).await.body);
    assert!(audits_of(&world, AuditAction::RefreshGraceReplay)
        .await
        .is_empty());
    for _ in 0..2 {
        world.clock.advance(Duration::seconds(3));
        let retry = world.refresh(&first.refresh).await;
        assert_eq!(retry.status, 200, "{}", retry.body);
        assert_eq!(tokens(&retry.body).refresh, second.refresh);
    }
    let replays = audits_of(&world, AuditAction::RefreshGraceReplay).await;
    assert_eq!(replays.len(), 2, "{replays:?}");
    for record in &replays {
        assert_eq!(record.outcome, AuditOutcome::Success);
        assert_eq!(record.user_id.map(|u| u.to_string()), Some(id.clone()));
        assert!(!format!("{record:?}").contains(&first.refresh));
        assert!(!format!("{record:?}").contains(&second.refresh));
    }
    // The session lives on.
    assert_eq!(world.refresh(&second.refresh).await.status, 200);
}

integration_tests::on_both_backends!(
    deactivated_users_can_neither_refresh_nor_call,
    access_token_reaches_me,
    refresh_rotates_and_a_quick_retry_gets_the_same_pair,
    reuse_after_the_grace_window_ends_the_session,
    a_replay_after_the_successor_rotated_is_reuse,
    grace_replays_are_audited,
    a_right_current_password_is_not_a_failure,
    refresh_tokens_expire_when_idle_and_absolutely,
    access_tokens_expire_after_fifteen_minutes,
    bad_refresh_tokens,
    logout_ends_this_session_and_logout_all_every_one,
    password_change_keeps_this_session_and_ends_the_others,
    password_change_rules,
    profile_update_moves_claims_in_one_step,
    devices_can_be_removed_only_by_their_owner,
);

/// Two refreshes of one token at the same moment: both get the same new
/// refresh token, and the session holds exactly one live token.
async fn parallel_refreshes_yield_one_live_token(world: World) {
    world.sign_up("mona", "mona@example.com").await;
    let first = world.log_in("mona", PASSWORD).await;
    let world = std::sync::Arc::new(world);
    let racers = (0..8).map(|_| {
        let world = world.clone();
        let token = first.refresh.clone();
        tokio::spawn(async move { world.refresh(&token).await })
    });
    let replies: Vec<_> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let successors: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, 200, "{}", reply.body);
            tokens(&reply.body).refresh
        })
        .collect();
    assert_eq!(successors.len(), 1, "one successor for all: {successors:?}");
    let successor = successors.into_iter().next().unwrap();
    // The successor is the only token that rotates; the old one is spent.
    assert_eq!(world.refresh(&successor).await.status, 200);
    if let Some(store) = &world.backend.dynamo {
        let items = integration_tests::dynamodb::scan_all(store).await;
        let active = items
            .iter()
            .filter(|item| {
                item.get("entity")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some("refresh_token")
            })
            .filter(|item| {
                item.get("state")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some("active")
            })
            .count();
        assert_eq!(active, 1, "exactly one live refresh token in the table");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_refreshes_on_dynamodb() {
    parallel_refreshes_yield_one_live_token(World::new(integration_tests::Backend::dynamo().await))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_refreshes_in_memory() {
    parallel_refreshes_yield_one_live_token(World::new(integration_tests::Backend::memory())).await;
}

/// Parallel replays of a spent token inside the grace window: while its
/// successor is live every one gets that successor (and is audited); once
/// the successor has rotated, every one is reuse and the session ends.
async fn parallel_grace_replays(world: World) {
    use shared::domain::AuditAction;
    world.sign_up("ivan", "ivan@example.com").await;
    let first = world.log_in("ivan", PASSWORD).await;
    let second = tokens(&world.refresh(&first.refresh).await.body);
    let world = std::sync::Arc::new(world);
    let replay_all = |token: String| {
        let world = world.clone();
        async move {
            let racers = (0..6).map(|_| {
                let world = world.clone();
                let token = token.clone();
                tokio::spawn(async move { world.refresh(&token).await })
            });
            futures::future::join_all(racers)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect::<Vec<_>>()
        }
    };
    for reply in replay_all(first.refresh.clone()).await {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(tokens(&reply.body).refresh, second.refresh);
    }
    assert_eq!(
        audits_of(&world, AuditAction::RefreshGraceReplay)
            .await
            .len(),
        6
    );
    // The successor rotates on; the same replays are now theft.
    let third = tokens(&world.refresh(&second.refresh).await.body);
    world.clock.advance(Duration::seconds(1));
    for reply in replay_all(first.refresh.clone()).await {
        assert_eq!(
            (reply.status, codes(&reply.body, "refresh_token")),
            (401, vec!["token_reused".to_owned()]),
            "{}",
            reply.body
        );
        assert!(!reply.body.to_string().contains(&second.refresh));
    }
    assert_eq!(world.refresh(&third.refresh).await.status, 401);
    assert_eq!(
        audits_of(&world, AuditAction::RefreshGraceReplay)
            .await
            .len(),
        6,
        "refused replays are not audited as honoured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_grace_replays_on_dynamodb() {
    parallel_grace_replays(World::new(integration_tests::Backend::dynamo().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_grace_replays_in_memory() {
    parallel_grace_replays(World::new(integration_tests::Backend::memory())).await;
}

/// Issue #17 item 5: parallel wrong current passwords (password change,
/// account deletion) were undercounted, and each got a password
/// evaluation. Now each attempt is counted before its hash runs: 24
/// parallel guesses get exactly the lockout's limit of evaluations.
async fn parallel_wrong_current_passwords_are_bounded(world: World) {
    use shared::crypto::PasswordHasher;
    use shared::domain::{AuditAction, AuditOutcome, UserId};
    use shared::usecases::current_password::{CurrentPassword, CurrentPasswordError};
    const GUESSES: usize = 24;
    let id = world.sign_up("petra", "petra@example.com").await;
    let user_id = UserId::from_uuid(id.parse().unwrap());
    let user = world
        .backend
        .stores
        .users()
        .get(user_id)
        .await
        .unwrap()
        .unwrap();
    let config = integration_tests::default_config();
    let hasher = PasswordHasher::new(config.argon2).unwrap();
    let lockout = config.lockout;
    let origin = shared::usecases::Origin {
        request_id: "test".into(),
        client_request_id: None,
        source_ip: None,
    };
    let check = |password: String| {
        let (stores, hasher, user, origin) = (
            world.backend.stores.clone(),
            hasher.clone(),
            user.clone(),
            origin.clone(),
        );
        tokio::spawn(async move {
            let checker = CurrentPassword {
                sessions: stores.sessions(),
                hasher: &hasher,
                clock: stores.clock.as_ref(),
                lockout,
            };
            checker
                .check(
                    &user,
                    &password,
                    AuditAction::PasswordChange,
                    "current_password",
                    &origin,
                )
                .await
        })
    };
    // A right password on its own is evaluated once and leaves no count.
    assert!(check(PASSWORD.to_owned()).await.unwrap().unwrap());
    assert_eq!(hasher.evaluations(), 1);
    let guesses = (0..GUESSES).map(|i| check(format!("wrong-guess-{i}")));
    let results: Vec<_> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let wrong = results.iter().filter(|r| matches!(r, Ok(false))).count();
    let locked = results
        .iter()
        .filter(|r| matches!(r, Err(CurrentPasswordError::Locked { .. })))
        .count();
    assert_eq!(wrong + locked, GUESSES, "{results:?}");
    assert_eq!(
        wrong, lockout.max_failures as usize,
        "every evaluated guess is counted, none beyond the limit: {results:?}"
    );
    assert_eq!(hasher.evaluations(), 1 + wrong as u64);
    // Locked now: even the right password is refused without a hash.
    assert!(matches!(
        check(PASSWORD.to_owned()).await.unwrap(),
        Err(CurrentPasswordError::Locked { .. })
    ));
    assert_eq!(hasher.evaluations(), 1 + wrong as u64);
    // Each evaluated wrong guess has its audit record.
    let rejected = audits_of(&world, AuditAction::PasswordChange)
        .await
        .into_iter()
        .filter(|r| r.outcome == AuditOutcome::Rejected && r.user_id == Some(user_id))
        .count();
    assert_eq!(rejected, wrong);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_current_passwords_on_dynamodb() {
    parallel_wrong_current_passwords_are_bounded(World::new(
        integration_tests::Backend::dynamo().await,
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_current_passwords_in_memory() {
    parallel_wrong_current_passwords_are_bounded(World::new(integration_tests::Backend::memory()))
        .await;
}

/// A right current password takes back the failure counted for it before
/// the hash ran: it neither adds to nor clears the wrong guesses.
async fn a_right_current_password_is_not_a_failure(world: World) {
    use shared::crypto::PasswordHasher;
    use shared::domain::{AuditAction, UserId};
    use shared::usecases::current_password::CurrentPassword;
    let id = world.sign_up("quinn", "quinn@example.com").await;
    let user = world
        .backend
        .stores
        .users()
        .get(UserId::from_uuid(id.parse().unwrap()))
        .await
        .unwrap()
        .unwrap();
    let config = integration_tests::default_config();
    let hasher = PasswordHasher::new(config.argon2).unwrap();
    let checker = CurrentPassword {
        sessions: world.backend.stores.sessions(),
        hasher: &hasher,
        clock: world.clock.as_ref(),
        lockout: config.lockout,
    };
    let origin = shared::usecases::Origin {
        request_id: "test".into(),
        client_request_id: None,
        source_ip: None,
    };
    let limit = config.lockout.max_failures;
    let guess = |password: &'static str| {
        let (checker, user, origin) = (&checker, &user, &origin);
        async move {
            checker
                .check(
                    user,
                    password,
                    AuditAction::AccountDelete,
                    "password",
                    origin,
                )
                .await
        }
    };
    for _ in 0..limit - 1 {
        assert!(matches!(guess("wrong-guess").await, Ok(false)));
    }
    // Right answers, even many, are not failures…
    for _ in 0..limit {
        assert!(matches!(guess(PASSWORD).await, Ok(true)));
    }
    assert_eq!(hasher.evaluations(), u64::from(2 * limit - 1));
    // …nor do they forgive the wrong ones: the next wrong guess locks.
    assert!(matches!(guess("wrong-guess").await, Ok(false)));
    assert!(matches!(
        guess(PASSWORD).await,
        Err(shared::usecases::current_password::CurrentPasswordError::Locked { .. })
    ));
}

/// Forged and foreign access tokens never reach a handler.
#[tokio::test]
async fn forged_and_foreign_access_tokens_are_refused() {
    use shared::session_tokens::jwt::{issue, SessionTokenSettings};
    use shared::session_tokens::keyset::KeySet;
    let world = World::new(integration_tests::Backend::memory());
    world.sign_up("nina", "nina@example.com").await;
    let pair = world.log_in("nina", PASSWORD).await;
    let claims = pair.access.split('.').nth(1).unwrap().to_owned();
    let sub = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&claims)
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        (
            value["sub"].as_str().unwrap().to_owned(),
            value["sid"].as_str().unwrap().to_owned(),
        )
    };
    let now = world.clock.as_ref();
    let now = shared::ports::Clock::now(now);
    let foreign_keys = KeySet::generate(now);
    let foreign = issue(
        &foreign_keys,
        &SessionTokenSettings::default(),
        &sub.0,
        &sub.1,
        now,
    )
    .unwrap();
    let wrong_audience = SessionTokenSettings {
        audience: "someone-else".into(),
        ..SessionTokenSettings::default()
    };
    let own_keys = world
        .app
        .resources
        .signing_keys()
        .unwrap()
        .current()
        .await
        .unwrap();
    let other_audience = issue(&own_keys, &wrong_audience, &sub.0, &sub.1, now).unwrap();
    let mut tampered = pair.access.clone();
    tampered.replace_range(tampered.len() - 3.., "AAA");
    let header_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    let unsigned = format!("{header_none}.{claims}.");
    use shared::session_tokens::ExposeSecret;
    for (label, token) in [
        ("foreign key", foreign.token.expose_secret().to_owned()),
        (
            "wrong audience",
            other_audience.token.expose_secret().to_owned(),
        ),
        ("tampered signature", tampered),
        ("alg none", unsigned),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let reply = world.me(&token).await;
        assert_eq!(reply.status, 401, "{label}: {}", reply.body);
        assert_eq!(
            codes(&reply.body, "non_field_errors"),
            ["token_invalid"],
            "{label}"
        );
        assert!(
            reply.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token"),
            "{label}"
        );
    }
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  ", "Token abc"] {
        let mut request = integration_tests::requests::request(
            "GET",
            "/users/me",
            None,
            lambda_http::Body::Empty,
        );
        request
            .headers_mut()
            .insert("authorization", header.parse().unwrap());
        let (status, body) = integration_tests::requests::read(&world.app.dispatch(request).await);
        assert_eq!(
            (status, codes(&body, "non_field_errors")),
            (401, vec!["token_invalid".to_owned()]),
            "{header}"
        );
    }
    assert_eq!(
        world.me(&pair.access).await.status,
        200,
        "the genuine token still works"
    );
}

/// A rotated key set in the secret: new tokens carry the new kid, tokens of
/// the old key keep working until they expire.
#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid() {
    use shared::adapters::memory_secrets::StaticSecrets;
    use shared::session_tokens::keyring::KeyRing;
    use shared::session_tokens::keyset::KeySet;
    use shared::session_tokens::ExposeSecret;
    let now = time::OffsetDateTime::now_utc();
    let first = KeySet::generate(now - time::Duration::minutes(1));
    let secrets = std::sync::Arc::new(StaticSecrets::new().with(
        "signing-keys",
        first.to_secret_json().expose_secret().to_owned(),
    ));
    let ring = std::sync::Arc::new(KeyRing::new(
        secrets.clone(),
        "signing-keys",
        std::time::Duration::ZERO,
    ));
    let world = World::with_ring(integration_tests::Backend::memory(), ring);
    world.sign_up("olga", "olga@example.com").await;
    let old = world.log_in("olga", PASSWORD).await;
    let rotated = first.rotate(now);
    secrets.put(
        "signing-keys",
        rotated.to_secret_json().expose_secret().to_owned(),
    );
    let new = world.log_in("olga", PASSWORD).await;
    let kid = |token: &str| {
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(kid(&old.access), first.latest().kid());
    assert_eq!(kid(&new.access), rotated.latest().kid());
    assert_ne!(kid(&old.access), kid(&new.access));
    assert_eq!(world.me(&old.access).await.status, 200);
    assert_eq!(world.me(&new.access).await.status, 200);
    let jwks = world
        .call("GET", "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(
        jwks.body["keys"].as_array().unwrap().len(),
        2,
        "{}",
        jwks.body
    );
    assert!(jwks.body.get("success").is_none(), "bare RFC 7517 document");
    assert_eq!(jwks.headers["cache-control"], "public, max-age=300");
}
