//! Authentication reads the account with its numbers still sealed (issue
//! #15): a route that neither shows nor changes the profile decrypts no
//! contact or phone number and never reads the phone keys; `GET /users/me`
//! still shows them. Proved on DynamoDB (the in-memory twin holds accounts
//! in clear): a second instance over the same table whose phone keys
//! cannot be read at all serves those routes as before.

use std::sync::Arc;

use integration_tests::world::{World, PASSWORD};
use integration_tests::Backend;
use serde_json::json;
use shared::adapters::memory_secrets::StaticSecrets;
use shared::app::Stores;
use shared::crypto::phone_crypto::PhoneKeyRing;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::keyset::KeySet;

#[tokio::test]
async fn routes_that_do_not_show_the_profile_never_read_the_phone_keys() {
    let backend = Backend::dynamo().await;
    let table = backend.dynamo.clone().expect("a table");
    let signing = Arc::new(KeyRing::fixed(KeySet::generate(
        time::OffsetDateTime::now_utc(),
    )));
    let keyed = World::with_ring(backend, signing.clone());
    keyed.sign_up("ada", "ada@example.com").await;
    let member = keyed.log_in("ada", PASSWORD).await.access;
    let phone = keyed
        .call(
            "POST",
            "/auth/phone/signup",
            Some(&json!({"name": "P", "phone_number": "+919812345678"})),
            None,
        )
        .await;
    assert_eq!(phone.status, 201, "{}", phone.body);
    let phone = phone.body["access_token"].as_str().unwrap().to_owned();

    // The same table and signing keys; the phone keys' secret is missing,
    // so any phone key read (and so any decryption) fails the request.
    let no_secret = Arc::new(StaticSecrets::new());
    let keyless_ring = Arc::new(PhoneKeyRing::from_secret(no_secret, "absent"));
    let keyless = World::with_ring(
        Backend {
            name: "dynamodb",
            stores: Stores::dynamo(table.clone().with_phone_keys(keyless_ring)),
            dynamo: Some(table.clone()),
        },
        signing,
    );
    for access in [&member, &phone] {
        for (method, path, body) in [
            ("GET", "/users/me/devices", None),
            ("GET", "/users/me/preferences", None),
            ("GET", "/users/me/push-tokens", None),
            ("GET", "/users/me/credits", None),
            (
                "POST",
                "/tasks",
                Some(json!({"type": "process_data", "data": [1, 2]})),
            ),
        ] {
            let reply = keyless
                .call(method, path, body.as_ref(), Some(access))
                .await;
            assert!(
                reply.status < 500,
                "{method} {path} read the phone keys: {} {}",
                reply.status,
                reply.body
            );
        }
        // The keyless instance would fail where it has to decrypt...
        let me = keyless.me(access).await;
        assert!(me.status >= 500, "{} {}", me.status, me.body);
        // ...and the keyed one shows the numbers.
        let me = keyed.me(access).await;
        assert_eq!(me.status, 200, "{}", me.body);
    }
    let me = keyed.me(&member).await;
    assert_eq!(me.body["data"]["user"]["mobileNo"], "+919876543210");
    assert_eq!(me.body["data"]["user"]["personalNo"], "+919876543211");
    let me = keyed.me(&phone).await;
    assert_eq!(me.body["data"]["user"]["phone_number"], "+919812345678");

    for access in [&member, &phone] {
        let logout = keyless
            .call("POST", "/auth/logout", Some(&json!({})), Some(access))
            .await;
        assert_eq!(logout.status, 200, "{}", logout.body);
    }
}
