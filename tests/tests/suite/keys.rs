//! Signing keys in Secrets Manager (on moto) reaching a `KeyRing`, rotation
//! without invalidating tokens, and hostile access tokens refused with the
//! right error.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_secretsmanager::config::{Credentials, Region};
use serde_json::{json, Value};
use shared::adapters::secretsmanager::SecretsManagerSource;
use shared::ports::secrets::SecretSource;
use shared::ports::StoreError;
use shared::tokens::{
    issue, verify, verify_access_token, ExposeSecret, KeyRing, KeyRingError, KeySet, KeySetError,
    TokenError, TokenSettings, VerifyError,
};
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2025-04-01 08:00:00 UTC);

/// A Secrets Manager client for the moto server the test script started.
fn secrets_client() -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(integration_tests::moto::endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A secret of its own per test, holding `keys`.
async fn create_secret(client: &aws_sdk_secretsmanager::Client, keys: &KeySet) -> String {
    let name = format!("users-test/jwt-keys-{}", uuid::Uuid::new_v4().simple());
    client
        .create_secret()
        .name(&name)
        .secret_string(keys.to_secret_json().expose_secret())
        .send()
        .await
        .expect("create secret on moto");
    name
}

async fn put_secret(client: &aws_sdk_secretsmanager::Client, name: &str, keys: &KeySet) {
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string(keys.to_secret_json().expose_secret())
        .send()
        .await
        .expect("put secret value on moto");
}

fn ring_on(client: &aws_sdk_secretsmanager::Client, name: &str, refresh: Duration) -> KeyRing {
    KeyRing::new(
        Arc::new(SecretsManagerSource::new(client.clone())),
        name,
        refresh,
    )
}

fn token(keys: &KeySet, now: OffsetDateTime) -> String {
    let issued = issue(keys, &TokenSettings::default(), "user-1", "session-1", now).unwrap();
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
    assert_eq!(loaded.signer().kid(), keys.signer().kid());
    assert_eq!(loaded.jwks(), keys.jwks());

    let settings = TokenSettings::default();
    let issued = issue(&loaded, &settings, "user-1", "session-1", T0).unwrap();
    let claims = verify_access_token(&ring, &settings, issued.token.expose_secret(), T0)
        .await
        .unwrap();
    assert_eq!(claims, issued.claims);
}

#[tokio::test]
async fn a_rotation_reaches_the_ring_after_the_refresh_interval() {
    let client = secrets_client();
    let first = KeySet::generate(T0);
    let name = create_secret(&client, &first).await;
    let refresh = Duration::from_millis(300);
    let ring = ring_on(&client, &name, refresh);
    let settings = TokenSettings::default();

    let old_token = token(&ring.current().await.unwrap(), T0);
    let rotated = first.rotate(T0);
    put_secret(&client, &name, &rotated).await;
    assert_eq!(
        ring.current().await.unwrap().signer().kid(),
        first.signer().kid(),
        "cached until the refresh interval passes"
    );

    tokio::time::sleep(refresh + Duration::from_millis(100)).await;
    let current = ring.current().await.unwrap();
    assert_eq!(current.signer().kid(), rotated.signer().kid());
    let new_token = token(&current, T0);
    assert_eq!(header_of(&new_token)["kid"], rotated.signer().kid());
    assert_eq!(header_of(&old_token)["kid"], first.signer().kid());

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
    let first = KeySet::generate(T0);
    let name = create_secret(&client, &first).await;
    // Far longer than the test: only the forced reload can pick up the
    // rotation.
    let ring = ring_on(&client, &name, Duration::from_secs(3600));
    let settings = TokenSettings::default();
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
        ring.current().await.unwrap().signer().kid(),
        rotated.signer().kid()
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
        &TokenSettings::default(),
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

fn keys() -> KeySet {
    KeySet::generate(T0)
}

fn check(keys: &KeySet, token: &str, now: OffsetDateTime) -> Result<(), TokenError> {
    verify(keys, &TokenSettings::default(), token, now).map(|_| ())
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
    let error = verify(&keys, &TokenSettings::default(), &genuine, later).unwrap_err();
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
    let elsewhere = TokenSettings {
        audience: "another-app".into(),
        ..TokenSettings::default()
    };
    assert_eq!(
        verify(&keys, &elsewhere, &genuine, T0).unwrap_err(),
        TokenError::WrongAudience
    );
    let other_issuer = TokenSettings {
        issuer: "https://evil.example".into(),
        ..TokenSettings::default()
    };
    assert_eq!(
        verify(&keys, &other_issuer, &genuine, T0).unwrap_err(),
        TokenError::WrongIssuer
    );
}

#[test]
fn only_eddsa_tokens_are_considered() {
    let keys = keys();
    let kid = keys.signer().kid();
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
    assert_eq!(public_key.as_slice(), keys.signer().public_key());
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
            json!({"alg": "EdDSA", "kid": keys.signer().kid()})
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

// ---- Minimal base64url (no padding), to build and take apart tokens ----

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(B64URL[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes() {
        let value = B64URL.iter().position(|&b| b == c)? as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

// ---- Minimal SHA-256 and HMAC (FIPS 180-4, RFC 2104), for the forgery ----

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            (hh, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(value);
        }
    }
    let mut digest = [0u8; 32];
    for (out, word) in digest.chunks_mut(4).zip(h) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = sha256(&[pad(0x36), message.to_vec()].concat());
    sha256(&[pad(0x5c), inner.to_vec()].concat())
}

#[test]
fn the_hmac_helper_matches_rfc_4231() {
    let hex = |bytes: [u8; 32]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hex(hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn the_base64url_helpers_agree_with_the_tokens() {
    for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0xff, 0xfe, 0x00]] {
        assert_eq!(b64url_decode(&b64url(bytes)).unwrap(), bytes);
    }
    assert_eq!(b64url(b"\xfb\xff"), "-_8");
    assert_eq!(header_of(&token(&keys(), T0))["alg"], "EdDSA");
}
