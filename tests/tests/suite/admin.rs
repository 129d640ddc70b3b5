//! The operators' routes (`/admin/`) on both stores: who may call them,
//! the listing and lookups, each action as the user then sees it, the
//! audit actor, and the template's IAM authorisation.

use std::collections::BTreeSet;

use integration_tests::requests::{read, signup_body};
use integration_tests::world::{World, PASSWORD};
use integration_tests::{on_both_backends, Backend};
use serde_json::{json, Value};
use shared::http::routes::ROUTES;

fn admin(world: &World) -> String {
    world.app.admin_token.expose().to_owned()
}

async fn as_admin(world: &World, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let reply = world.call(method, path, body, Some(&admin(world))).await;
    (reply.status, reply.body)
}

/// A sign-up from its own address (the per-address quota stays clear).
async fn sign_up(world: &World, n: usize, username: &str) -> String {
    let ip = format!("198.51.{}.{}", 100 + n / 200, 1 + n % 200);
    let reply = world
        .call_from(
            &ip,
            "POST",
            "/auth/signup",
            Some(&signup_body(
                username,
                &format!("{username}@example.com"),
                json!({}),
            )),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["data"]["user"]["userId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            u["userId"]
                .as_str()
                .or(u["id"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn admin_paths() -> Vec<(&'static str, String)> {
    ROUTES
        .iter()
        .filter(|route| route.path.starts_with("/admin/"))
        .map(|route| {
            let path = route
                .path
                .replace("{id}", "00000000-0000-0000-0000-000000000000");
            (route.method, path)
        })
        .collect()
}

async fn only_operators_get_in(world: World) {
    world.sign_up("alice", "alice@example.com").await;
    let user = world.log_in("alice", PASSWORD).await;
    let body = json!({"network": "203.0.113.0/24", "reason": "x"});
    assert!(admin_paths().len() >= 12);
    for (method, path) in admin_paths() {
        let body = (method == "POST").then_some(&body);
        for (bearer, status, code) in [
            (None, 401, "not_authenticated"),
            (Some(user.access.as_str()), 403, "forbidden"),
            (Some("not-the-admin-token"), 403, "forbidden"),
        ] {
            let reply = world.call(method, &path, body, bearer).await;
            assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
            assert_eq!(
                reply.body["errors"]["non_field_errors"][0]["code"], code,
                "{method} {path}"
            );
            // Nothing but the refusal: no data, no hint of what would pass.
            assert!(reply.body["data"].is_null(), "{}", reply.body);
            let text = reply.body.to_string();
            assert!(!text.contains("alice") && !text.to_lowercase().contains("token"));
        }
    }
    // The same user's token still works where it belongs.
    assert_eq!(world.me(&user.access).await.status, 200);
}

async fn listing_pages_newest_first_through_concurrent_sign_ups(world: World) {
    let mut originals = Vec::new();
    for n in 0..7 {
        originals.push(sign_up(&world, n, &format!("user{n}")).await);
        world.clock.advance(time::Duration::milliseconds(5));
    }
    originals.reverse(); // newest first
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut page = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/admin/users?limit=3&cursor={cursor}"),
            None => "/admin/users?limit=3".to_owned(),
        };
        let (status, body) = as_admin(&world, "GET", &path, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["meta"]["limit"], 3);
        seen.extend(ids(&body));
        // Sign-ups land while the operator pages through.
        let names: Vec<String> = (0..2).map(|k| format!("late{page}x{k}")).collect();
        let joined = futures::future::join_all(
            names
                .iter()
                .enumerate()
                .map(|(k, name)| sign_up(&world, 100 + page * 10 + k, name)),
        )
        .await;
        assert_eq!(joined.len(), 2);
        world.clock.advance(time::Duration::milliseconds(5));
        page += 1;
        match body["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(page < 10, "paging does not end");
    }
    // Every account that existed when paging began, once, newest first;
    // the later ones are newer than the first page and do not appear.
    assert_eq!(seen, originals);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    // A fresh listing has them all, newest first.
    let (_, body) = as_admin(&world, "GET", "/admin/users?limit=100", None).await;
    let all = ids(&body);
    assert_eq!(all.len(), 7 + 2 * page);
    assert_eq!(&all[all.len() - 7..], &originals[..]);
    assert!(body["meta"]["next_cursor"].is_null());
}

async fn status_filter_and_lookups(world: World) {
    let alice = world.sign_up("Alice", "Alice@Example.com").await;
    let bob = sign_up(&world, 1, "bob").await;
    let phone = world
        .call(
            "POST",
            "/auth/phone/signup",
            Some(&json!({"name": "Ravi", "phone_number": "9876501234"})),
            None,
        )
        .await;
    assert_eq!(phone.status, 201, "{}", phone.body);
    let ravi = phone.body["user"]["id"].as_str().unwrap().to_owned();

    for (query, expected) in [
        ("alice", &alice),
        ("ALICE", &alice),
        ("alice@example.com", &alice),
        ("ALICE@EXAMPLE.COM", &alice),
        ("bob", &bob),
        ("%2B919876501234", &ravi),
        ("9876501234", &ravi),
    ] {
        let (status, body) =
            as_admin(&world, "GET", &format!("/admin/users?query={query}"), None).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(ids(&body), vec![expected.clone()], "{query}: {body}");
    }
    for query in ["nobody", "nobody@example.com", "%2B919999999999", "ali"] {
        let (status, body) =
            as_admin(&world, "GET", &format!("/admin/users?query={query}"), None).await;
        assert_eq!((status, ids(&body).len()), (200, 0), "{query}: {body}");
    }

    let (status, _) = as_admin(
        &world,
        "POST",
        &format!("/admin/users/{bob}/deactivate"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, inactive) = as_admin(&world, "GET", "/admin/users?status=inactive", None).await;
    assert_eq!(ids(&inactive), vec![bob.clone()]);
    let (_, active) = as_admin(&world, "GET", "/admin/users?status=active", None).await;
    let active: BTreeSet<String> = ids(&active).into_iter().collect();
    assert_eq!(active, BTreeSet::from([alice.clone(), ravi.clone()]));
    let (_, none) = as_admin(&world, "GET", "/admin/users?query=bob&status=active", None).await;
    assert!(ids(&none).is_empty());
}

async fn detail_shows_what_an_operator_may_see(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    world.log_in("alice", PASSWORD).await;
    let (status, body) = as_admin(&world, "GET", &format!("/admin/users/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["user"]["userId"], id.as_str());
    // Phone numbers decrypted for the operator.
    assert_eq!(data["user"]["mobileNo"], "+919876543210");
    assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
    assert!(data["devices"].is_array());
    let actions: Vec<&str> = data["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"sign_up") && actions.contains(&"login"),
        "{actions:?}"
    );
    let text = body.to_string();
    for secret in ["argon2", "password", "hash", "refresh"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

async fn deactivation_ends_access_at_once_and_is_audited(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    let tokens = world.log_in("alice", PASSWORD).await;
    let (status, body) = as_admin(
        &world,
        "POST",
        &format!("/admin/users/{id}/deactivate"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["status"], "INACTIVE");
    // The live access token fails at once; the refresh token is dead; no
    // new login.
    assert_eq!(world.me(&tokens.access).await.status, 401);
    assert_ne!(world.refresh(&tokens.refresh).await.status, 200);
    let login = world
        .log_in_with(json!({"login": "alice", "password": PASSWORD}))
        .await;
    assert_ne!(login.status, 200, "{}", login.body);

    let (status, body) = as_admin(
        &world,
        "POST",
        &format!("/admin/users/{id}/activate"),
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["status"], "ACTIVE");
    // The manual clock stands still: one step on, so the order is plain.
    world.clock.advance(time::Duration::seconds(1));
    let again = world.log_in("alice", PASSWORD).await;
    assert_eq!(world.me(&again.access).await.status, 200);

    // The audit names the operator for theirs, the user for the user's own.
    let (status, body) = as_admin(&world, "GET", &format!("/admin/audit?user_id={id}"), None).await;
    assert_eq!(status, 200, "{body}");
    let records = body["data"]["records"].as_array().unwrap();
    let actor_of = |action: &str| {
        records
            .iter()
            .find(|r| r["action"] == action)
            .map(|r| r["actor"].clone())
            .unwrap_or_else(|| panic!("no {action} in {body}"))
    };
    assert_eq!(actor_of("admin_deactivate"), "local-admin");
    assert_eq!(actor_of("admin_activate"), "local-admin");
    assert_eq!(actor_of("sign_up"), id.as_str());
    // Newest first.
    assert_eq!(records[0]["action"], "login");
}

async fn logout_all_ends_every_session(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    let first = world.log_in("alice", PASSWORD).await;
    let second = world.log_in("alice", PASSWORD).await;
    let (status, body) = as_admin(
        &world,
        "POST",
        &format!("/admin/users/{id}/logout-all"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["sessions_ended"], 2);
    for tokens in [&first, &second] {
        assert_eq!(world.me(&tokens.access).await.status, 401);
        assert_ne!(world.refresh(&tokens.refresh).await.status, 200);
    }
    // The account itself is fine.
    let again = world.log_in("alice", PASSWORD).await;
    assert_eq!(world.me(&again.access).await.status, 200);
}

async fn unlock_clears_every_lock(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    // Locked from two addresses, by username and by email.
    for (ip, login) in [
        ("203.0.113.1", "alice"),
        ("203.0.113.2", "alice@example.com"),
    ] {
        let mut locked = false;
        for _ in 0..12 {
            let reply = world
                .call_from(
                    ip,
                    "POST",
                    "/auth/login",
                    Some(&json!({"login": login, "password": "wrong-Vole-Lantern"})),
                    None,
                )
                .await;
            if reply.status == 423 || reply.status == 429 {
                locked = true;
                break;
            }
        }
        assert!(locked, "{login} from {ip} never locked");
    }
    let (_, detail) = as_admin(&world, "GET", &format!("/admin/users/{id}"), None).await;
    let locks = detail["data"]["locks"].as_array().unwrap().clone();
    assert!(locks.len() >= 2, "{detail}");
    assert!(locks.iter().all(|l| l["scope"] == "login"), "{detail}");
    let right = json!({"login": "alice", "password": PASSWORD});
    let refused = world
        .call_from("203.0.113.1", "POST", "/auth/login", Some(&right), None)
        .await;
    assert_ne!(refused.status, 200, "locked, even with the right password");

    let (status, body) = as_admin(&world, "POST", &format!("/admin/users/{id}/unlock"), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["locks_cleared"].as_u64().unwrap() >= 2,
        "{body}"
    );
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let reply = world
            .call_from(ip, "POST", "/auth/login", Some(&right), None)
            .await;
        assert_eq!(reply.status, 200, "{ip}: {}", reply.body);
    }
    let (_, detail) = as_admin(&world, "GET", &format!("/admin/users/{id}"), None).await;
    assert_eq!(detail["data"]["locks"], json!([]));
    let (_, audit) = as_admin(
        &world,
        "GET",
        &format!("/admin/audit?user_id={id}&limit=100"),
        None,
    )
    .await;
    let records = audit["data"]["records"].as_array().unwrap();
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "admin_unlock" && r["actor"] == "local-admin"),
        "{audit}"
    );
    // A refused login is nobody's known action: no actor.
    assert!(records
        .iter()
        .filter(|r| r["action"] == "login" && r["outcome"] == "rejected")
        .all(|r| r["actor"].is_null()));
}

async fn verify_email_reset_link_and_delete(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    let tokens = world.log_in("alice", PASSWORD).await;
    assert_eq!(
        world.me(&tokens.access).await.body["data"]["user"]["email_verified"],
        false
    );
    let (status, body) = as_admin(
        &world,
        "POST",
        &format!("/admin/users/{id}/verify-email"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        world.me(&tokens.access).await.body["data"]["user"]["email_verified"],
        true
    );

    let (status, body) = as_admin(
        &world,
        "POST",
        &format!("/admin/users/{id}/password-reset"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    world.app.settle().await;
    let link = integration_tests::mail::last_token(
        &world.app.mailbox.messages(),
        "password.reset_requested",
    );
    assert!(link.is_some(), "no reset link mailed");

    let (status, body) = as_admin(&world, "DELETE", &format!("/admin/users/{id}"), None).await;
    assert_eq!(status, 202, "{body}");
    assert!(body["data"]["task_id"].is_string());
    // From the moment DELETE answers, the account cannot log in.
    assert_eq!(world.me(&tokens.access).await.status, 401);
    let login = world
        .log_in_with(json!({"login": "alice", "password": PASSWORD}))
        .await;
    assert_ne!(login.status, 200);
    world.app.settle().await;
    let (status, _) = as_admin(&world, "GET", &format!("/admin/users/{id}"), None).await;
    assert_eq!(status, 404);
    // Who deleted it outlives the erasure of its own records.
    let (_, audit) = as_admin(&world, "GET", &format!("/admin/audit?user_id={id}"), None).await;
    assert!(
        audit["data"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "admin_delete"
                && r["actor"] == "local-admin"
                && r["user_id"].is_null()),
        "{audit}"
    );
}

async fn a_deleting_account_is_not_reactivated(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    let (status, _) = as_admin(&world, "DELETE", &format!("/admin/users/{id}"), None).await;
    assert_eq!(status, 202);
    let (status, body) =
        as_admin(&world, "POST", &format!("/admin/users/{id}/activate"), None).await;
    assert_eq!(status, 409, "{body}");
    let login = world
        .log_in_with(json!({"login": "alice", "password": PASSWORD}))
        .await;
    assert_ne!(login.status, 200);
}

async fn bad_ids_and_bodies_are_4xx(world: World) {
    let id = world.sign_up("alice", "alice@example.com").await;
    let unknown = "00000000-0000-0000-0000-000000000000";
    for (method, path, body, expected) in [
        ("GET", "/admin/users/not-a-uuid".to_owned(), None, 404),
        ("GET", format!("/admin/users/{unknown}"), None, 404),
        (
            "POST",
            format!("/admin/users/{unknown}/deactivate"),
            None,
            404,
        ),
        (
            "POST",
            format!("/admin/users/{unknown}/logout-all"),
            None,
            404,
        ),
        ("DELETE", format!("/admin/users/{unknown}"), None, 404),
        ("POST", "/admin/users/%00/activate".to_owned(), None, 404),
        (
            "POST",
            format!("/admin/users/{id}/deactivate"),
            Some(json!({"why": 1})),
            400,
        ),
        (
            "POST",
            format!("/admin/users/{id}/deactivate"),
            Some(json!([1])),
            400,
        ),
        ("GET", "/admin/users?status=gone".to_owned(), None, 400),
        ("GET", "/admin/users?limit=0".to_owned(), None, 400),
        ("GET", "/admin/users?limit=abc".to_owned(), None, 400),
        ("GET", "/admin/users?cursor=%21%21".to_owned(), None, 400),
        ("GET", "/admin/users?cursor=bm9wZQ".to_owned(), None, 400),
        ("GET", "/admin/audit?user_id=nope".to_owned(), None, 400),
        ("GET", "/admin/audit?since=yesterday".to_owned(), None, 400),
        (
            "GET",
            "/admin/audit?since=2001-01-01T00:00:00Z".to_owned(),
            None,
            400,
        ),
        ("GET", "/admin/audit?cursor=zz".to_owned(), None, 400),
        ("POST", "/admin/ip-blocks".to_owned(), Some(json!({})), 400),
        (
            "POST",
            "/admin/ip-blocks".to_owned(),
            Some(json!({"network": "999.1.1.1", "reason": "x"})),
            400,
        ),
        (
            "POST",
            "/admin/ip-blocks".to_owned(),
            Some(json!({"network": 7, "reason": "x"})),
            400,
        ),
        (
            "DELETE",
            "/admin/ip-blocks/203.0.113.0_24".to_owned(),
            None,
            404,
        ),
        ("DELETE", "/admin/ip-blocks/nonsense".to_owned(), None, 404),
        (
            "DELETE",
            "/admin/ip-blocks/203.0.113.7_24".to_owned(),
            None,
            404,
        ),
    ] {
        let (status, reply) = as_admin(&world, method, &path, body.as_ref()).await;
        assert_eq!(status, expected, "{method} {path}: {reply}");
        assert_eq!(reply["success"], false);
    }
    // Not JSON at all.
    let mut request = integration_tests::requests::request(
        "POST",
        &format!("/admin/users/{id}/deactivate"),
        Some("application/json"),
        lambda_http::Body::from("{nope"),
    );
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", admin(&world)).parse().unwrap(),
    );
    let (status, _) = read(&world.app.dispatch(request).await);
    assert_eq!(status, 400);
    // Nothing of that deactivated her.
    world.log_in("alice", PASSWORD).await;
}

async fn ip_blocks_through_the_routes(world: World) {
    let (status, body) = as_admin(
        &world,
        "POST",
        "/admin/ip-blocks",
        Some(&json!({"network": "203.0.113.7/24", "reason": "card testing"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["id"], "203.0.113.0_24");
    assert_eq!(body["data"]["network"], "203.0.113.0/24");
    assert_eq!(body["data"]["created_by"], "local-admin");
    let (_, list) = as_admin(&world, "GET", "/admin/ip-blocks", None).await;
    assert_eq!(list["data"]["blocks"][0]["reason"], "card testing");
    let (status, _) = as_admin(&world, "DELETE", "/admin/ip-blocks/203.0.113.0_24", None).await;
    assert_eq!(status, 200);
    let (_, list) = as_admin(&world, "GET", "/admin/ip-blocks", None).await;
    assert_eq!(list["data"]["blocks"], json!([]));
    let (_, audit) = as_admin(&world, "GET", "/admin/audit", None).await;
    let actions: Vec<&Value> = audit["data"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["action"])
        .collect();
    assert!(actions.contains(&&json!("admin_ip_block_add")), "{audit}");
    assert!(
        actions.contains(&&json!("admin_ip_block_remove")),
        "{audit}"
    );
}

on_both_backends!(
    only_operators_get_in,
    listing_pages_newest_first_through_concurrent_sign_ups,
    status_filter_and_lookups,
    detail_shows_what_an_operator_may_see,
    deactivation_ends_access_at_once_and_is_audited,
    logout_all_ends_every_session,
    unlock_clears_every_lock,
    verify_email_reset_link_and_delete,
    a_deleting_account_is_not_reactivated,
    bad_ids_and_bodies_are_4xx,
    ip_blocks_through_the_routes,
);

/// On AWS the gate is IAM: the caller's ARN from the request context is
/// the actor. The sample event (an IAM-authorised call) goes through the
/// Lambda's own state; the local server, whose gate is its token, refuses
/// the same event (a forged IAM context is worth nothing locally).
#[tokio::test]
async fn the_lambda_takes_the_callers_arn() {
    use shared::serve::{Endpoint, Resources};
    let backend = Backend::memory();
    let config = integration_tests::default_config();
    let resources =
        Resources::new(&config, &backend.stores).with_queues(shared::background::Queues::memory(3));
    let state = admin_users::State::build(&resources).unwrap();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/admin-users-list.json"),
    )
    .unwrap();
    let event = || lambda_http::request::from_str(&text).unwrap();
    let (status, body) = read(&admin_users::handle(&state, event()).await);
    assert_eq!(status, 200, "{body}");
    let (status, _) = read(
        &integration_tests::local_app(&backend)
            .dispatch(event())
            .await,
    );
    assert_eq!(status, 403);
    // Without the ARN (a route that lost AWS_IAM), the Lambda refuses.
    let unsigned = text.replace("\"iam\"", "\"not_iam\"");
    let request = lambda_http::request::from_str(&unsigned).unwrap();
    let (status, _) = read(&admin_users::handle(&state, request).await);
    assert_eq!(status, 403);
}

/// The audit and IP-block functions share the IAM gate: their samples
/// (IAM-authorised reads) pass each Lambda's own state and are refused by
/// the local server, as the users sample is above.
#[tokio::test]
async fn audit_and_ip_block_samples_pass_the_lambda_gate() {
    use shared::serve::{AdminState, Endpoint, Resources};
    let backend = Backend::memory();
    let config = integration_tests::default_config();
    let state = AdminState::build(&Resources::new(&config, &backend.stores)).unwrap();
    let sample = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../events")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        lambda_http::request::from_str(&text).unwrap()
    };
    let (status, body) = read(&admin_audit::handle(&state, sample("admin-audit.json")).await);
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["records"].is_array(), "{body}");
    let (status, body) =
        read(&admin_ip_blocks::handle(&state, sample("admin-ip-blocks-list.json")).await);
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["blocks"].is_array(), "{body}");
    let local = integration_tests::local_app(&backend);
    for name in ["admin-audit.json", "admin-ip-blocks-list.json"] {
        let (status, _) = read(&local.dispatch(sample(name)).await);
        assert_eq!(status, 403, "{name}");
    }
}

/// Every `/admin/` route of the template has `AWS_IAM`, and no other route
/// does; the API enables IAM without making it the default.
#[test]
fn only_admin_routes_are_iam_authorised() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"),
    )
    .unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let mut admin_routes = 0;
    for (name, resource) in resources {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let path = event["Properties"]["Path"].as_str().unwrap_or("$default");
            let authorizer = event["Properties"]["Auth"]["Authorizer"].as_str();
            if path.starts_with("/admin/") {
                admin_routes += 1;
                assert_eq!(authorizer, Some("AWS_IAM"), "{name:?} {path}");
            } else {
                assert_eq!(authorizer, None, "{name:?} {path}");
            }
        }
    }
    let table_routes = ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/admin/"))
        .count();
    assert_eq!(admin_routes, table_routes);
    let api = &resources[&serde_yaml::Value::from("UsersApi")]["Properties"]["Auth"];
    assert_eq!(api["EnableIamAuthorizer"].as_bool(), Some(true));
    assert!(
        api["DefaultAuthorizer"].is_null(),
        "IAM must not be the default"
    );
    // The operators' policy grants exactly the admin routes.
    let policy = serde_yaml::to_string(
        &resources[&serde_yaml::Value::from("OperatorsPolicy")]["Properties"],
    )
    .unwrap();
    assert!(policy.contains("execute-api:Invoke"), "{policy}");
    assert!(policy.contains("/*/*/admin/*"), "{policy}");
}

/// What "done" means for an operator, locally: the CLI lists users, finds
/// one by email and by phone number, deactivates and reactivates it, and
/// the audit names who did it: over HTTP, against the local server.
#[tokio::test]
async fn the_cli_works_against_a_local_server() {
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
        &signup_body("alice", "alice@example.com", json!({})),
    );
    let (status, body) = read(&app.dispatch(sign_up).await);
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["user"]["userId"].as_str().unwrap().to_owned();
    let phone = integration_tests::requests::json_request(
        "POST",
        "/auth/phone/signup",
        &json!({"name": "Ravi", "phone_number": "9876501234"}),
    );
    assert_eq!(read(&app.dispatch(phone).await).0, 201);

    let run = |line: &'static str, credentials: &'static str| {
        let url = url.clone();
        let token = if credentials == "admin" {
            token.clone()
        } else {
            credentials.to_owned()
        };
        let id = id.clone();
        async move {
            let args: Vec<String> = line
                .split_whitespace()
                .map(|a| a.replace("ID", &id))
                .collect();
            let Command::Api { call, json } = parse_args(&args).unwrap() else {
                panic!("{line} is no API command");
            };
            let api = AdminApi::new(&url, Credentials::Token(token)).unwrap();
            let (mut out, mut notes) = (Vec::new(), Vec::new());
            let result = admin::api_commands::run(&api, &call, json, &mut out, &mut notes).await;
            (result, String::from_utf8(out).unwrap())
        }
    };
    let (result, out) = run("users list", "admin").await;
    result.unwrap();
    assert!(
        out.starts_with("ID ") && out.contains("alice") && out.contains("Ravi"),
        "{out}"
    );
    let (result, out) = run("users find ALICE@example.com", "admin").await;
    result.unwrap();
    assert!(out.contains(&id) && !out.contains("Ravi"), "{out}");
    let (result, out) = run("users find +919876501234", "admin").await;
    result.unwrap();
    assert!(out.contains("Ravi") && !out.contains("alice"), "{out}");
    let (result, out) = run("users deactivate ID", "admin").await;
    result.unwrap();
    assert!(out.contains("INACTIVE"), "{out}");
    let (result, out) = run("users activate ID", "admin").await;
    result.unwrap();
    assert!(out.contains("ACTIVE"), "{out}");
    let (result, out) = run("audit --user ID", "admin").await;
    result.unwrap();
    assert!(
        out.contains("admin_deactivate") && out.contains("local-admin"),
        "{out}"
    );
    let (result, out) = run("users show ID --json", "admin").await;
    result.unwrap();
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["data"]["user"]["userId"], id.as_str());
    // A wrong token: the API's refusal, exit code 1.
    let (result, _) = run("users list", "wrong").await;
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert!(error.to_string().contains("403"), "{error}");
}

/// `ip-block` goes through `/admin/ip-blocks` too: the block it adds
/// stops a phone sign-up from that address, its author is the caller the
/// API authenticated, the audit names it, and a refusal is exit code 1.
#[tokio::test]
async fn the_cli_manages_the_ip_block_list_through_the_api() {
    use admin::api::{AdminApi, Credentials};
    use admin::args::{parse_args, Command};
    let backend = Backend::memory();
    let app = integration_tests::local_app(&backend);
    let token = app.admin_token.expose().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(local_api::serve_on(listener, app.clone()));
    let run = |line: &'static str, token: String| {
        let url = url.clone();
        async move {
            let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            let Ok(Command::IpBlock(command)) = parse_args(&args) else {
                panic!("{line} is no ip-block command");
            };
            let api = AdminApi::new(&url, Credentials::Token(token)).unwrap();
            let (mut out, mut notes) = (Vec::new(), Vec::new());
            let result = admin::commands::run(&command, &api, &mut out, &mut notes).await;
            let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
            (result, text(out), text(notes))
        }
    };
    let (result, out, notes) = run("ip-block list", token.clone()).await;
    result.unwrap();
    assert_eq!(out, "");
    assert!(notes.contains("empty"), "{notes}");
    let (result, out, notes) = run(
        "ip-block add 203.0.113.7/24 --reason card-testing",
        token.clone(),
    )
    .await;
    result.unwrap();
    assert_eq!(out, "blocked 203.0.113.0/24\n");
    assert!(notes.contains("60 s"), "{notes}");

    // The service applies it: a phone sign-up from inside the range is refused.
    let blocked = integration_tests::requests::request_from(
        "203.0.113.200",
        "POST",
        "/auth/phone/signup",
        Some("application/json"),
        json!({"name": "Ravi", "phone_number": "9876501234"})
            .to_string()
            .into(),
    );
    let (status, body) = read(&app.dispatch(blocked).await);
    assert_eq!(
        (
            status,
            body["errors"]["non_field_errors"][0]["code"].as_str()
        ),
        (403, Some("ip_blocked")),
        "{body}"
    );

    let (result, out, _) = run("ip-block list", token.clone()).await;
    result.unwrap();
    let fields: Vec<&str> = out.trim_end().split('\t').collect();
    assert_eq!(fields[..2], ["203.0.113.0/24", "card-testing"], "{out}");
    assert_eq!(fields[3], "local-admin", "the author is the caller: {out}");
    let (result, out, _) = run("ip-block check ::ffff:203.0.113.1", token.clone()).await;
    result.unwrap();
    assert!(
        out.contains("blocked by 203.0.113.0/24: card-testing"),
        "{out}"
    );

    let (result, out, notes) = run("ip-block remove 203.0.113.9", token.clone()).await;
    result.unwrap();
    assert_eq!(out, "no entry for 203.0.113.9/32; nothing removed\n");
    assert!(
        notes.contains("still blocked by the entry 203.0.113.0/24"),
        "{notes}"
    );
    let (result, out, _) = run("ip-block remove 203.0.113.0/24", token.clone()).await;
    result.unwrap();
    assert_eq!(out, "unblocked 203.0.113.0/24\n");
    let (result, out, _) = run("ip-block check 203.0.113.200", token.clone()).await;
    result.unwrap();
    assert_eq!(out, "203.0.113.200 is not blocked\n");

    let mut audit_request =
        integration_tests::requests::request("GET", "/admin/audit?limit=100", None, "".into());
    audit_request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (status, audit) = read(&app.dispatch(audit_request).await);
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<(&str, &str)> = audit["data"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        actions.contains(&("admin_ip_block_add", "local-admin")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("admin_ip_block_remove", "local-admin")),
        "{actions:?}"
    );

    // A wrong token: the API's refusal, nothing written.
    let (result, out, _) = run("ip-block add 192.0.2.1 --reason x", "wrong".into()).await;
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert!(error.to_string().contains("403"), "{error}");
    assert_eq!(out, "");
}

/// Only the local server hands a function another admin gate than IAM:
/// no function crate (each a Lambda) and nothing else in `shared` calls
/// `with_admin_gate`, so a deployment cannot take the local token.
#[test]
fn only_the_local_server_swaps_the_admin_gate() {
    fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    sources(&root.join("functions"), &mut files);
    sources(&root.join("shared/src"), &mut files);
    let callers: Vec<_> = files
        .iter()
        .filter(|path| {
            std::fs::read_to_string(path)
                .unwrap()
                .contains(".with_admin_gate(")
        })
        .map(|path| path.strip_prefix(&root).unwrap().to_owned())
        .collect();
    assert_eq!(
        callers,
        vec![std::path::PathBuf::from("functions/local-api/src/lib.rs")]
    );
}
