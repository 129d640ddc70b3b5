//! Signing keys in Secrets Manager (on moto) reaching a `KeyRing`, rotation
//! without invalidating tokens, and hostile access tokens refused with the
//! right error.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use shared::adapters::secretsmanager::SecretsManagerSource;
use shared::ports::secrets::SecretSource;
use shared::ports::StoreError;
use shared::session_tokens::{
    issue, verify, verify_access_token, ExposeSecret, KeyAlgorithm, KeyRing, KeyRingError, KeySet,
    KeySetError, SessionTokenSettings, TokenError, VerifyError,
};
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2025-04-01 08:00:00 UTC);

use integration_tests::moto::secrets_client;

/// A secret of its own per test, holding `keys`.
async fn create_secret(client: &aws_sdk_secretsmanager::Client, keys: &KeySet) -> String {
    integration_tests::moto::create_secret(
        client,
        "jwt-keys",
        keys.to_secret_json().expose_secret(),
    )
    .await
}

async fn put_secret(client: &aws_sdk_secretsmanager::Client, name: &str, keys: &KeySet) {
    integration_tests::moto::put_secret(client, name, keys.to_secret_json().expose_secret()).await
}

fn ring_on(client: &aws_sdk_secretsmanager::Client, name: &str, refresh: Duration) -> KeyRing {
    KeyRing::new(
        Arc::new(SecretsManagerSource::new(client.clone())),
        name,
        refresh,
    )
}

fn token(keys: &KeySet, now: OffsetDateTime) -> String {
    let issued = issue(
        keys,
        &SessionTokenSettings::default(),
        "user-1",
        "session-1",
        now,
    )
    .unwrap();
    issued.token.expose_secret().to_owned()
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&b64url_decode(header).unwrap()).unwrap()
}

#[tokio::test]
async fn a_key_set_in_secrets_manager_signs_and_verifies() {
    let client = secrets_client();
    let keys = KeySet::generate(T0);
    let name = create_secret(&client, &keys).await;
    let ring = ring_on(&client, &name, Duration::from_secs(300));

    let loaded = ring.current().await.unwrap();
    assert_eq!(loaded.latest().kid(), keys.latest().kid());
    assert_eq!(loaded.jwks(), keys.jwks());

    let settings = SessionTokenSettings::default();
    let issued = issue(&loaded, &settings, "user-1", "session-1", T0).unwrap();
    let claims = verify_access_token(&ring, &settings, issued.token.expose_secret(), T0)
        .await
        .unwrap();
    assert_eq!(claims, issued.claims);
}

#[tokio::test]
async fn a_rotation_reaches_the_ring_after_the_refresh_interval() {
    let client = secrets_client();
    let first = KeySet::generate(T0 - time::Duration::minutes(1));
    let name = create_secret(&client, &first).await;
    let refresh = Duration::from_millis(300);
    let ring = ring_on(&client, &name, refresh);
    let settings = SessionTokenSettings::default();

    let old_token = token(&ring.current().await.unwrap(), T0);
    let rotated = first.rotate(T0);
    put_secret(&client, &name, &rotated).await;
    assert_eq!(
        ring.current().await.unwrap().latest().kid(),
        first.latest().kid(),
        "cached until the refresh interval passes"
    );

    tokio::time::sleep(refresh + Duration::from_millis(100)).await;
    let current = ring.current().await.unwrap();
    assert_eq!(current.latest().kid(), rotated.latest().kid());
    let new_token = token(&current, T0);
    assert_eq!(header_of(&new_token)["kid"], rotated.latest().kid());
    assert_eq!(header_of(&old_token)["kid"], first.latest().kid());

    for token in [&old_token, &new_token] {
        let claims = verify_access_token(&ring, &settings, token, T0)
            .await
            .unwrap();
        assert_eq!(claims.sub, "user-1");
    }
}

#[tokio::test]
async fn a_token_of_an_unseen_key_forces_a_reload() {
    let client = secrets_client();
    let first = KeySet::generate(T0 - time::Duration::minutes(1));
    let name = create_secret(&client, &first).await;
    // Far longer than the test: only the forced reload can pick up the
    // rotation.
    let ring = ring_on(&client, &name, Duration::from_secs(3600));
    let settings = SessionTokenSettings::default();
    ring.current().await.unwrap();

    // Another instance already signs with the new key.
    let rotated = first.rotate(T0);
    put_secret(&client, &name, &rotated).await;
    let new_token = token(&rotated, T0);
    let claims = verify_access_token(&ring, &settings, &new_token, T0)
        .await
        .unwrap();
    assert_eq!(claims.sid, "session-1");
    assert_eq!(
        ring.current().await.unwrap().latest().kid(),
        rotated.latest().kid()
    );

    // A key nobody has stays unknown after the reload.
    let stranger = token(&KeySet::generate(T0), T0);
    let error = verify_access_token(&ring, &settings, &stranger, T0)
        .await
        .unwrap_err();
    assert!(
        matches!(error, VerifyError::Token(TokenError::UnknownKey)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_missing_or_invalid_secret_is_an_error_not_a_panic() {
    let client = secrets_client();
    let missing = format!("users-test/missing-{}", uuid::Uuid::new_v4().simple());

    let source = SecretsManagerSource::new(client.clone());
    let error = source.secret_string(&missing).await.unwrap_err();
    assert!(matches!(error, StoreError::Internal(_)), "{error:?}");
    let message = std::error::Error::source(&error).unwrap().to_string();
    assert!(message.contains("does not exist"), "{message}");

    let ring = ring_on(&client, &missing, Duration::from_secs(300));
    assert!(matches!(
        ring.current().await,
        Err(KeyRingError::Source(StoreError::Internal(_)))
    ));
    let error = verify_access_token(
        &ring,
        &SessionTokenSettings::default(),
        &token(&KeySet::generate(T0), T0),
        T0,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, VerifyError::Keys(_)), "{error:?}");

    let name = format!("users-test/invalid-{}", uuid::Uuid::new_v4().simple());
    client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"keys": []}"#)
        .send()
        .await
        .expect("create secret on moto");
    let ring = ring_on(&client, &name, Duration::from_secs(300));
    assert!(matches!(
        ring.current().await,
        Err(KeyRingError::Invalid(KeySetError::Empty))
    ));
}

// ---- Hostile tokens (no moto) ----

/// An EdDSA set: the hostile-token tests below were written for it; the
/// ES256 kind has its own below.
fn keys() -> KeySet {
    KeySet::generate_with(KeyAlgorithm::EdDsa, T0)
}

fn check(keys: &KeySet, token: &str, now: OffsetDateTime) -> Result<(), TokenError> {
    verify(keys, &SessionTokenSettings::default(), token, now).map(|_| ())
}

/// A token with this header and these claims, and an arbitrary signature.
fn forged(header: Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        b64url(signature)
    )
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(payload).unwrap()).unwrap()
}

#[test]
fn tampered_payload_and_signature_are_bad_signatures() {
    let keys = keys();
    let genuine = token(&keys, T0);
    let parts: Vec<&str> = genuine.split('.').collect();

    let mut claims = claims_of(&genuine);
    claims["sub"] = json!("someone-else");
    let payload = b64url(claims.to_string().as_bytes());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert_eq!(check(&keys, &tampered, T0), Err(TokenError::BadSignature));

    let mut signature = b64url_decode(parts[2]).unwrap();
    signature[0] ^= 0x01;
    let tampered = format!("{}.{}.{}", parts[0], parts[1], b64url(&signature));
    assert_eq!(check(&keys, &tampered, T0), Err(TokenError::BadSignature));

    assert_eq!(check(&keys, &genuine, T0), Ok(()));
}

#[test]
fn expired_and_not_yet_valid_tokens_are_refused() {
    let keys = keys();
    let genuine = token(&keys, T0);
    // 15 minutes of life and 30 seconds of leeway either side.
    let later = T0 + time::Duration::minutes(15) + time::Duration::seconds(30);
    let error = verify(&keys, &SessionTokenSettings::default(), &genuine, later).unwrap_err();
    assert_eq!(error, TokenError::Expired);
    assert!(error.is_expired());
    let earlier = T0 - time::Duration::seconds(31);
    assert_eq!(
        check(&keys, &genuine, earlier),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn wrong_audience_and_wrong_issuer_are_refused() {
    let keys = keys();
    let genuine = token(&keys, T0);
    let elsewhere = SessionTokenSettings {
        audience: "another-app".into(),
        ..SessionTokenSettings::default()
    };
    assert_eq!(
        verify(&keys, &elsewhere, &genuine, T0).unwrap_err(),
        TokenError::WrongAudience
    );
    let other_issuer = SessionTokenSettings {
        issuer: "https://evil.example".into(),
        ..SessionTokenSettings::default()
    };
    assert_eq!(
        verify(&keys, &other_issuer, &genuine, T0).unwrap_err(),
        TokenError::WrongIssuer
    );
}

#[test]
fn only_eddsa_tokens_are_considered() {
    let keys = keys();
    let kid = keys.latest().kid();
    let claims = claims_of(&token(&keys, T0));

    let none = forged(
        json!({"alg": "none", "typ": "JWT", "kid": kid}),
        &claims,
        b"",
    );
    assert_eq!(
        check(&keys, &none, T0),
        Err(TokenError::AlgorithmNotAllowed)
    );

    // The algorithm-confusion forgery: HS256 keyed with the public key as
    // the JWKS publishes it, both its raw bytes and its `x` text.
    let x = keys.jwks()["keys"][0]["x"].as_str().unwrap().to_owned();
    let public_key = b64url_decode(&x).unwrap();
    assert_eq!(public_key.as_slice(), keys.latest().public_key_bytes());
    for secret in [public_key.as_slice(), x.as_bytes()] {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
        let message = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mac = hmac_sha256(secret, message.as_bytes());
        let hs256 = format!("{message}.{}", b64url(&mac));
        assert_eq!(
            check(&keys, &hs256, T0),
            Err(TokenError::AlgorithmNotAllowed)
        );
    }

    let rs256 = forged(
        json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        &claims,
        &[1; 256],
    );
    assert_eq!(
        check(&keys, &rs256, T0),
        Err(TokenError::AlgorithmNotAllowed)
    );
}

#[test]
fn a_token_without_kid_names_no_key() {
    let keys = keys();
    let genuine = token(&keys, T0);
    let parts: Vec<&str> = genuine.split('.').collect();
    let header = b64url(json!({"alg": "EdDSA", "typ": "JWT"}).to_string().as_bytes());
    let without_kid = format!("{header}.{}.{}", parts[1], parts[2]);
    assert_eq!(check(&keys, &without_kid, T0), Err(TokenError::UnknownKey));
}

#[test]
fn garbage_and_oversized_tokens_are_malformed() {
    let keys = keys();
    let genuine = token(&keys, T0);
    let ten_kib = format!(
        "{}.{}.{}",
        b64url(
            json!({"alg": "EdDSA", "kid": keys.latest().kid()})
                .to_string()
                .as_bytes()
        ),
        "A".repeat(10 * 1024),
        "AAAA"
    );
    for garbage in [
        "",
        "garbage",
        "a.b",
        "a.b.c",
        "....",
        "Bearer x.y.z",
        "eyJhbGciOiJFZERTQSJ9",
        "\u{0}\u{7f}.\u{ff}.\u{10ffff}",
        &format!("{genuine}."),
        &ten_kib,
    ] {
        assert_eq!(
            check(&keys, garbage, T0),
            Err(TokenError::Malformed),
            "{garbage:.60}"
        );
    }
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn the_base64url_helpers_agree_with_the_tokens() {
    assert_eq!(header_of(&token(&keys(), T0))["alg"], "EdDSA");
}

/// An ES256 key verifies only ES256 tokens: no `none`, no HS256 keyed with
/// its public point, no EdDSA label on its signature.
#[test]
fn es256_sets_refuse_every_other_algorithm() {
    let keys = KeySet::generate_with(KeyAlgorithm::Es256, T0);
    let kid = keys.latest().kid();
    let good = token(&keys, T0);
    assert_eq!(header_of(&good)["alg"], "ES256");
    assert!(check(&keys, &good, T0).is_ok());
    let claims = claims_of(&good);
    let signature = good.rsplit('.').next().unwrap().to_owned();
    let jwk = &keys.jwks()["keys"][0];
    let point = [
        b64url_decode(jwk["x"].as_str().unwrap()).unwrap(),
        b64url_decode(jwk["y"].as_str().unwrap()).unwrap(),
    ]
    .concat();
    for alg in ["none", "EdDSA", "ES384", "RS256", "es256"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
        let message = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let relabelled = format!("{message}.{signature}");
        assert_eq!(
            check(&keys, &relabelled, T0),
            Err(TokenError::AlgorithmNotAllowed),
            "{alg}"
        );
    }
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let message = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let forged = format!(
        "{message}.{}",
        b64url(&hmac_sha256(&point, message.as_bytes()))
    );
    assert_eq!(
        check(&keys, &forged, T0),
        Err(TokenError::AlgorithmNotAllowed)
    );
}
