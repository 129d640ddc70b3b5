use super::*;
use aws_lc_rs::signature::Ed25519KeyPair;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::{sign, verify};
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2025-01-31 10:00:00 UTC);
const PUBLISH: Duration = Duration::minutes(10);
const RETENTION: Duration = Duration::minutes(20);

fn entry(kid: &str, alg: &str, private_key: &str, created_at: &str) -> serde_json::Value {
    serde_json::json!({"kid": kid, "alg": alg, "private_key": private_key, "created_at": created_at})
}

fn document(entries: Vec<serde_json::Value>) -> String {
    serde_json::json!({ "keys": entries }).to_string()
}

fn signer(set: &KeySet) -> &SigningKey {
    set.signer_at(set.keys()[0].activates_at())
        .expect("the latest key signs")
}

fn private_key_b64(set: &KeySet) -> String {
    STANDARD.encode(signer(set).pkcs8_der.expose_secret())
}

fn signs_and_verifies(key: &SigningKey) -> bool {
    let alg = key.algorithm().jose();
    let Ok(signature) = sign(b"message", key.encoding_key(), alg) else {
        return false;
    };
    verify(&signature, b"message", key.decoding_key(), alg).unwrap_or(false)
        && !verify(&signature, b"other", key.decoding_key(), alg).unwrap_or(true)
}

#[test]
fn generated_sets_of_both_kinds_round_trip_through_the_secret_json() {
    for alg in KeyAlgorithm::ALL {
        let set = KeySet::generate_with(alg, datetime!(2025-01-31 10:00:00.75 UTC));
        let key = signer(&set);
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.created_at(), T0, "whole seconds, UTC");
        assert_eq!(key.activates_at(), T0, "a first key signs at once");
        let (date, hex) = key.kid().split_at(11);
        assert_eq!(date, "2025-01-31-");
        assert!(
            hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{hex}"
        );

        let json = set.to_secret_json();
        let parsed = KeySet::parse(json.expose_secret()).unwrap();
        assert_eq!(parsed.keys().len(), 1);
        let reparsed = signer(&parsed);
        assert_eq!(reparsed.kid(), key.kid());
        assert_eq!(reparsed.algorithm(), alg);
        assert_eq!(reparsed.created_at(), T0);
        assert_eq!(reparsed.public_key_bytes(), key.public_key_bytes());
        assert!(json
            .expose_secret()
            .contains("\"created_at\": \"2025-01-31T10:00:00Z\""));
        assert!(json
            .expose_secret()
            .contains(&format!("\"alg\": \"{}\"", alg.name())));
    }
}

#[test]
fn the_default_algorithm_is_es256() {
    assert_eq!(
        signer(&KeySet::generate(T0)).algorithm(),
        KeyAlgorithm::Es256
    );
}

#[test]
fn generated_keys_of_both_kinds_sign_with_jsonwebtoken() {
    for alg in KeyAlgorithm::ALL {
        let set = KeySet::generate_with(alg, T0);
        assert!(signs_and_verifies(signer(&set)), "{alg}");
        let reparsed = KeySet::parse(set.to_secret_json().expose_secret()).unwrap();
        assert!(signs_and_verifies(signer(&reparsed)), "{alg}");
    }
}

#[test]
fn pkcs8_v1_ed25519_keys_are_accepted_and_sign() {
    let v1 = Ed25519KeyPair::generate_pkcs8v1(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let json = document(vec![entry(
        "openssl-key",
        "EdDSA",
        &STANDARD.encode(v1.as_ref()),
        "2024-06-01T00:00:00+02:00",
    )]);
    let set = KeySet::parse(&json).unwrap();
    assert_eq!(
        signer(&set).created_at(),
        datetime!(2024-05-31 22:00:00 UTC)
    );
    assert!(signs_and_verifies(signer(&set)));
}

#[test]
fn a_key_of_one_kind_under_the_other_name_is_refused() {
    let ed = private_key_b64(&KeySet::generate_with(KeyAlgorithm::EdDsa, T0));
    let ec = private_key_b64(&KeySet::generate_with(KeyAlgorithm::Es256, T0));
    let at = "2025-01-01T00:00:00Z";
    for json in [
        document(vec![entry("k", "ES256", &ed, at)]),
        document(vec![entry("k", "EdDSA", &ec, at)]),
    ] {
        assert!(matches!(
            KeySet::parse(&json),
            Err(KeySetError::BadKey { .. })
        ));
    }
}

#[test]
fn invalid_documents_give_typed_errors() {
    let good = private_key_b64(&KeySet::generate_with(KeyAlgorithm::EdDsa, T0));
    let at = "2025-01-01T00:00:00Z";
    let mut late = entry("k", "EdDSA", &good, at);
    late["activates_at"] = "soon".into();
    let cases = [
        ("{".to_owned(), "json"),
        ("[]".to_owned(), "json"),
        (r#"{"keys": {}}"#.to_owned(), "json"),
        (r#"{"keys": []}"#.to_owned(), "empty"),
        (document(vec![entry("", "EdDSA", &good, at)]), "kid"),
        (document(vec![entry("a b", "EdDSA", &good, at)]), "kid"),
        (
            document(vec![entry(&"k".repeat(65), "EdDSA", &good, at)]),
            "kid",
        ),
        (document(vec![entry("k", "RS256", &good, at)]), "alg"),
        (document(vec![entry("k", "none", &good, at)]), "alg"),
        (document(vec![entry("k", "es256", &good, at)]), "alg"),
        (
            document(vec![entry("k", "EdDSA", "not base64!", at)]),
            "base64",
        ),
        (
            document(vec![entry("k", "EdDSA", &STANDARD.encode([0u8; 48]), at)]),
            "key",
        ),
        (document(vec![entry("k", "EdDSA", "", at)]), "key"),
        (
            document(vec![entry("k", "EdDSA", &good, "yesterday")]),
            "time",
        ),
        (document(vec![late]), "time"),
        (
            document(vec![
                entry("k", "EdDSA", &good, at),
                entry("k", "EdDSA", &good, at),
            ]),
            "duplicate",
        ),
    ];
    for (json, expected) in cases {
        let error = KeySet::parse(&json).unwrap_err();
        let kind = match &error {
            KeySetError::Json(_) => "json",
            KeySetError::Empty => "empty",
            KeySetError::BadKid { .. } => "kid",
            KeySetError::UnknownAlgorithm { .. } => "alg",
            KeySetError::BadBase64 { .. } => "base64",
            KeySetError::BadKey { .. } => "key",
            KeySetError::BadTimestamp { .. } => "time",
            KeySetError::DuplicateKid { .. } => "duplicate",
        };
        assert_eq!(kind, expected, "{json}: {error}");
    }
}

#[test]
fn errors_and_debug_never_show_private_keys() {
    for alg in KeyAlgorithm::ALL {
        let set = KeySet::generate_with(alg, T0);
        let secret = private_key_b64(&set);
        // A shape error right at the key material.
        let misplaced = format!(r#"{{"keys": "{secret}"}}"#);
        let wrong_type = document(vec![serde_json::json!({"kid": "k", "alg": alg.name(),
            "private_key": 5, "created_at": secret})]);
        for json in [misplaced, wrong_type] {
            let message = KeySet::parse(&json).unwrap_err().to_string();
            assert!(!message.contains(&secret[..16]), "{message}");
        }
        let shown = format!("{set:?}");
        assert!(shown.contains(signer(&set).kid()), "{shown}");
        assert!(!shown.contains(&secret[..16]), "{shown}");
        let der = signer(&set).pkcs8_der.expose_secret().to_vec();
        assert!(
            !shown.contains(&format!("{:?}", &der[der.len() - 8..])),
            "{shown}"
        );
    }
}

#[test]
fn an_immediate_rotation_adds_a_signer_and_keeps_the_old_keys() {
    let first = KeySet::generate(T0);
    let rotated = first.rotate(T0 + Duration::days(30));
    assert_eq!(rotated.keys().len(), 2);
    let new = signer(&rotated);
    assert_ne!(new.kid(), signer(&first).kid());
    assert_eq!(new.activates_at(), T0 + Duration::days(30));
    assert_eq!(new.algorithm(), signer(&first).algorithm(), "same kind");
    assert!(rotated.find(signer(&first).kid()).is_some());
    assert_eq!(
        rotated.keys()[1].kid(),
        signer(&first).kid(),
        "newest first"
    );

    // A clock behind the newest key must not leave the old key signing.
    let skewed = rotated.rotate(T0);
    assert_eq!(skewed.keys().len(), 3);
    assert_eq!(
        signer(&skewed).activates_at(),
        T0 + Duration::days(30) + Duration::SECOND
    );

    let reparsed = KeySet::parse(skewed.to_secret_json().expose_secret()).unwrap();
    let kids = |set: &KeySet| {
        set.keys()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(kids(&reparsed), kids(&skewed));
}

#[test]
fn the_signer_is_the_latest_activation_whatever_the_order_in_the_secret() {
    let old = KeySet::generate_with(KeyAlgorithm::EdDsa, T0);
    let new = KeySet::generate_with(KeyAlgorithm::EdDsa, T0 + Duration::days(1));
    let entries =
        |set: &KeySet, at: &str| entry(signer(set).kid(), "EdDSA", &private_key_b64(set), at);
    let json = document(vec![
        entries(&new, "2025-02-01T10:00:00Z"),
        entries(&old, "2025-01-31T10:00:00Z"),
    ]);
    let reversed = document(vec![
        entries(&old, "2025-01-31T10:00:00Z"),
        entries(&new, "2025-02-01T10:00:00Z"),
    ]);
    for json in [json, reversed] {
        let set = KeySet::parse(&json).unwrap();
        assert_eq!(
            set.signer_at(T0 + Duration::days(2)).unwrap().kid(),
            signer(&new).kid()
        );
        assert_eq!(
            set.signer_at(T0 + Duration::hours(1)).unwrap().kid(),
            signer(&old).kid(),
            "before the new key's time, the old one signs"
        );
    }
}

#[test]
fn jwks_publishes_both_kinds_as_rfc7517_keys() {
    let set = KeySet::generate_with(KeyAlgorithm::EdDsa, T0).with_pending_key(
        KeyAlgorithm::Es256,
        T0 + Duration::days(1),
        PUBLISH,
    );
    let jwks = set.jwks();
    let object = jwks.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["keys"]);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the pending key is published too");
    for (jwk, key) in keys.iter().zip(set.keys()) {
        let mut fields: Vec<&String> = jwk.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["alg"], key.algorithm().name());
        let decode = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        match key.algorithm() {
            KeyAlgorithm::EdDsa => {
                assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x"]);
                assert_eq!(
                    (&jwk["kty"], &jwk["crv"]),
                    (&"OKP".into(), &"Ed25519".into())
                );
                assert_eq!(decode("x"), key.public_key_bytes());
            }
            KeyAlgorithm::Es256 => {
                assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
                assert_eq!((&jwk["kty"], &jwk["crv"]), (&"EC".into(), &"P-256".into()));
                let (x, y) = (decode("x"), decode("y"));
                assert_eq!((x.len(), y.len()), (32, 32));
                assert_eq!([x, y].concat(), key.public_key_bytes());
            }
        }
    }
    assert_eq!(keys[0]["alg"], "ES256", "latest to activate first");
    assert_eq!(set.algorithms(), [KeyAlgorithm::Es256, KeyAlgorithm::EdDsa]);
}

#[test]
fn a_pending_key_signs_only_from_its_activation() {
    let first = KeySet::generate(T0);
    let old = signer(&first).kid().to_owned();
    let added_at = T0 + Duration::days(1);
    let set = first.with_pending_key(KeyAlgorithm::Es256, added_at, PUBLISH);
    let new = set.keys()[0].kid().to_owned();
    assert_eq!(set.state_at(&new, added_at), Some(KeyState::Pending));
    for at in [added_at, added_at + PUBLISH - Duration::SECOND] {
        assert_eq!(set.signer_at(at).unwrap().kid(), old, "at {at}");
    }
    let activation = added_at + PUBLISH;
    assert_eq!(set.signer_at(activation).unwrap().kid(), new);
    assert_eq!(set.state_at(&new, activation), Some(KeyState::Active));
    assert_eq!(
        set.state_at(&old, activation),
        Some(KeyState::Retired { since: activation })
    );
}

#[test]
fn promotion_waits_for_the_publish_delay() {
    let added_at = T0 + Duration::days(1);
    let set =
        KeySet::generate(T0).with_pending_key(KeyAlgorithm::Es256, added_at, Duration::days(7));
    let new = set.keys()[0].kid().to_owned();
    let early = set.promote(&new, added_at + PUBLISH - Duration::SECOND, PUBLISH);
    assert!(
        matches!(early, Err(LifecycleError::PublishedTooRecently { .. })),
        "{early:?}"
    );
    let promoted = set.promote(&new, added_at + PUBLISH, PUBLISH).unwrap();
    assert_eq!(promoted.signer_at(added_at + PUBLISH).unwrap().kid(), new);
    assert_eq!(
        promoted
            .promote(&new, added_at + PUBLISH, PUBLISH)
            .unwrap_err(),
        LifecycleError::NotPending(new.clone())
    );
    assert_eq!(
        set.promote("nope", added_at, PUBLISH).unwrap_err(),
        LifecycleError::UnknownKid("nope".into())
    );
}

#[test]
fn the_signer_cannot_be_retired_and_a_cancelled_key_never_signs() {
    let set = KeySet::generate(T0).with_pending_key(KeyAlgorithm::Es256, T0, PUBLISH);
    let (new, old) = (
        set.keys()[0].kid().to_owned(),
        set.keys()[1].kid().to_owned(),
    );
    assert_eq!(
        set.retire(&old, T0).unwrap_err(),
        LifecycleError::IsSigner(old.clone())
    );
    let cancelled = set.retire(&new, T0 + Duration::minutes(1)).unwrap();
    let later = T0 + Duration::days(1);
    assert_eq!(cancelled.signer_at(later).unwrap().kid(), old);
    assert_eq!(cancelled.state_at(&new, later), Some(KeyState::Cancelled));
    let reparsed = KeySet::parse(cancelled.to_secret_json().expose_secret()).unwrap();
    assert_eq!(reparsed.signer_at(later).unwrap().kid(), old);
}

#[test]
fn pruning_keeps_a_retired_key_until_its_last_token_has_expired() {
    let first = KeySet::generate(T0);
    let old = signer(&first).kid().to_owned();
    let set = first.with_pending_key(KeyAlgorithm::Es256, T0, PUBLISH);
    let activation = T0 + PUBLISH;
    for at in [T0, activation, activation + RETENTION - Duration::SECOND] {
        let (kept, removed) = set.prune(at, RETENTION);
        assert!(removed.is_empty(), "at {at}: {removed:?}");
        assert_eq!(kept.keys().len(), 2);
    }
    let (kept, removed) = set.prune(activation + RETENTION, RETENTION);
    assert_eq!(removed, [old]);
    assert_eq!(kept.keys().len(), 1);
    assert_eq!(
        kept.signer_at(activation + RETENTION).unwrap().kid(),
        set.keys()[0].kid()
    );
}
