//! Tests of the phone key set and its encryption.

use super::*;
use crate::adapters::memory_secrets::StaticSecrets;
use crate::domain::phone_number::PhoneRegion;
use crate::ports::StoreError;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2025-01-31 10:00:00 UTC);

fn phone(raw: &str) -> PhoneNumber {
    PhoneNumber::parse(raw, PhoneRegion::default()).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn document(entries: Vec<serde_json::Value>, lookup: &str) -> String {
    serde_json::json!({"encryption_keys": entries, "lookup_key": lookup}).to_string()
}

fn entry(kid: &str, key: &str, created_at: &str) -> serde_json::Value {
    serde_json::json!({"kid": kid, "key": key, "created_at": created_at})
}

/// Every key of the set, in standard base64.
fn key_texts(keys: &PhoneKeys) -> Vec<String> {
    let mut texts: Vec<String> = keys
        .encryption
        .iter()
        .map(|key| b64(key.key.expose_secret()))
        .collect();
    texts.push(b64(keys.lookup.expose_secret()));
    texts
}

fn tamper(ciphertext: &str, position: usize) -> String {
    let mut bytes = STANDARD.decode(ciphertext).unwrap();
    bytes[position] ^= 0x01;
    b64(&bytes)
}

#[test]
fn round_trip() {
    let keys = PhoneKeys::generate(T0);
    let number = phone("+919876543210");
    let encrypted = keys.encrypt(&number).unwrap();
    assert_eq!(encrypted.kid, keys.current_kid());
    let raw = STANDARD.decode(&encrypted.ciphertext).unwrap();
    assert_eq!(raw.len(), NONCE_BYTES + "+919876543210".len() + TAG_BYTES);
    assert!(!encrypted.ciphertext.contains("9876543210"));
    let decrypted = keys.decrypt(&encrypted).unwrap();
    assert_eq!(decrypted, number);
    assert_eq!(decrypted.country_code(), "+91");

    // Stored as JSON and read back.
    let stored = serde_json::to_string(&encrypted).unwrap();
    let fields: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(fields["kid"], encrypted.kid);
    let restored: EncryptedPhone = serde_json::from_str(&stored).unwrap();
    assert_eq!(keys.decrypt(&restored).unwrap(), number);
}

#[test]
fn fresh_nonce_each_time_but_one_lookup_hash() {
    let keys = PhoneKeys::generate(T0);
    let number = phone("+919876543210");
    let first = keys.encrypt(&number).unwrap();
    let second = keys.encrypt(&number).unwrap();
    assert_ne!(first.ciphertext, second.ciphertext);
    assert_ne!(
        STANDARD.decode(&first.ciphertext).unwrap()[..NONCE_BYTES],
        STANDARD.decode(&second.ciphertext).unwrap()[..NONCE_BYTES]
    );
    assert_eq!(
        keys.decrypt(&first).unwrap(),
        keys.decrypt(&second).unwrap()
    );

    let hash = keys.lookup_hash(&number);
    assert_eq!(hash.len(), 64);
    assert!(hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(keys.lookup_hash(&number), hash);
    // The same number, written as 10 digits or with separators.
    for spelling in ["9876543210", "+91 98765-43210", "(98765) 43210"] {
        assert_eq!(keys.lookup_hash(&phone(spelling)), hash, "{spelling}");
    }
    assert_ne!(keys.lookup_hash(&phone("+919876543211")), hash);
    // Another secret, another hash: the plain number cannot be
    // confirmed without the key.
    assert_ne!(PhoneKeys::generate(T0).lookup_hash(&number), hash);
}

#[test]
fn lookup_hash_is_hmac_sha256_of_the_e164_text() {
    // RFC 4231-style check with a known key: HMAC-SHA-256(key = 32 bytes
    // of 0x0b, "+919876543210"), computed independently.
    let json = document(
        vec![entry("k", &b64(&[1u8; 32]), "2025-01-31T10:00:00Z")],
        &b64(&[0x0b; 32]),
    );
    let keys = PhoneKeys::parse(&json).unwrap();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[0x0b; 32]).unwrap();
    mac.update(b"+919876543210");
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(keys.lookup_hash(&phone("9876543210")), expected);
}

#[test]
fn rotation_keeps_old_ciphertexts_readable() {
    let first = PhoneKeys::generate(T0);
    let number = phone("+14155552671");
    let old = first.encrypt(&number).unwrap();

    let rotated = first.rotate(T0 + Duration::days(90));
    assert_eq!(rotated.kids().len(), 2);
    assert_ne!(rotated.current_kid(), first.current_kid());
    assert_eq!(rotated.kids()[1], first.current_kid(), "newest first");
    assert_eq!(rotated.decrypt(&old).unwrap(), number);

    let new = rotated.encrypt(&number).unwrap();
    assert_eq!(new.kid, rotated.current_kid());
    assert_eq!(rotated.decrypt(&new).unwrap(), number);
    // The old set cannot read what the new key wrote.
    assert_eq!(
        first.decrypt(&new).unwrap_err(),
        PhoneCryptoError::UnknownKey {
            kid: new.kid.clone()
        }
    );
    // The lookup key does not rotate.
    assert_eq!(rotated.lookup_hash(&number), first.lookup_hash(&number));

    // A clock behind the newest key must not leave the old key
    // encrypting.
    let skewed = rotated.rotate(T0);
    assert_eq!(skewed.kids().len(), 3);
    assert_eq!(
        skewed.current().created_at,
        T0 + Duration::days(90) + Duration::SECOND
    );
    assert_eq!(skewed.encrypt(&number).unwrap().kid, skewed.current_kid());

    // Through the secret's JSON and back.
    let reparsed = PhoneKeys::parse(skewed.to_secret_json().expose_secret()).unwrap();
    assert_eq!(reparsed.kids(), skewed.kids());
    assert_eq!(reparsed.decrypt(&old).unwrap(), number);
    assert_eq!(reparsed.lookup_hash(&number), first.lookup_hash(&number));
}

#[test]
fn generated_set_round_trips_through_the_secret_json() {
    let keys = PhoneKeys::generate(datetime!(2025-01-31 10:00:00.75 UTC));
    assert_eq!(keys.current().created_at, T0, "whole seconds, UTC");
    let (date, hex) = keys.current_kid().split_at(11);
    assert_eq!(date, "2025-01-31-");
    assert!(
        hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hex}"
    );
    let json = keys.to_secret_json();
    let value: serde_json::Value = serde_json::from_str(json.expose_secret()).unwrap();
    let entry = &value["encryption_keys"][0];
    assert_eq!(entry["kid"], keys.current_kid());
    assert_eq!(entry["created_at"], "2025-01-31T10:00:00Z");
    assert_eq!(
        STANDARD
            .decode(entry["key"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert_eq!(
        STANDARD
            .decode(value["lookup_key"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    let parsed = PhoneKeys::parse(json.expose_secret()).unwrap();
    let number = phone("+919876543210");
    assert_eq!(
        parsed.decrypt(&keys.encrypt(&number).unwrap()).unwrap(),
        number
    );
    assert_eq!(parsed.lookup_hash(&number), keys.lookup_hash(&number));
    assert_ne!(key_texts(&keys)[0], key_texts(&keys)[1]);
}

#[test]
fn encryption_key_order_in_the_secret_does_not_matter() {
    let at = |day: u8| format!("2025-02-{day:02}T00:00:00Z");
    let lookup = b64(&[9u8; 32]);
    let older = entry("older", &b64(&[1u8; 32]), &at(1));
    let newer = entry("newer", &b64(&[2u8; 32]), &at(2));
    for entries in [
        vec![older.clone(), newer.clone()],
        vec![newer.clone(), older.clone()],
    ] {
        let keys = PhoneKeys::parse(&document(entries, &lookup)).unwrap();
        assert_eq!(keys.current_kid(), "newer");
        assert_eq!(keys.kids(), ["newer", "older"]);
    }
}

#[test]
fn tampering_and_garbage_are_errors_not_panics() {
    let keys = PhoneKeys::generate(T0);
    let encrypted = keys.encrypt(&phone("+919876543210")).unwrap();
    let length = STANDARD.decode(&encrypted.ciphertext).unwrap().len();
    for position in [
        0,
        NONCE_BYTES - 1,
        NONCE_BYTES,
        length - TAG_BYTES,
        length - 1,
    ] {
        let tampered = EncryptedPhone {
            kid: encrypted.kid.clone(),
            ciphertext: tamper(&encrypted.ciphertext, position),
        };
        assert_eq!(
            keys.decrypt(&tampered).unwrap_err(),
            PhoneCryptoError::Decryption,
            "{position}"
        );
    }
    // Truncated or extended.
    let raw = STANDARD.decode(&encrypted.ciphertext).unwrap();
    for bytes in [&raw[..length - 1], &[raw.as_slice(), &[0]].concat()[..]] {
        let changed = EncryptedPhone {
            kid: encrypted.kid.clone(),
            ciphertext: b64(bytes),
        };
        assert_eq!(
            keys.decrypt(&changed).unwrap_err(),
            PhoneCryptoError::Decryption
        );
    }
    for garbage in [
        String::new(),
        "AAAA".into(),
        "not base64!".into(),
        "=".repeat(40),
        b64(&[0u8; NONCE_BYTES + TAG_BYTES - 1]),
        URL_SAFE_ALPHABET_SAMPLE.into(),
        "A".repeat(MAX_CIPHERTEXT_CHARS + 4),
    ] {
        let value = EncryptedPhone {
            kid: encrypted.kid.clone(),
            ciphertext: garbage.clone(),
        };
        assert_eq!(
            keys.decrypt(&value).unwrap_err(),
            PhoneCryptoError::Malformed,
            "{garbage:.20}"
        );
    }
    // A kid this set does not have, or another set's key under its own
    // kid: refused either way.
    let unknown = EncryptedPhone {
        kid: "2020-01-01-00000000".into(),
        ciphertext: encrypted.ciphertext.clone(),
    };
    assert_eq!(
        keys.decrypt(&unknown).unwrap_err(),
        PhoneCryptoError::UnknownKey {
            kid: "2020-01-01-00000000".into()
        }
    );
    let other = PhoneKeys::generate(T0);
    let moved = EncryptedPhone {
        kid: other.current_kid().to_owned(),
        ciphertext: encrypted.ciphertext.clone(),
    };
    assert_eq!(
        other.decrypt(&moved).unwrap_err(),
        PhoneCryptoError::Decryption
    );
}

/// Base64url characters are not standard base64.
const URL_SAFE_ALPHABET_SAMPLE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_AA";

#[test]
fn associated_data_binds_the_purpose() {
    let keys = PhoneKeys::generate(T0);
    let number = phone("+919876543210");
    let as_phone = keys.encrypt(&number).unwrap();
    assert_eq!(
        keys.decrypt_text(CONTACT_PURPOSE, &as_phone).unwrap_err(),
        PhoneCryptoError::Decryption
    );
    assert_eq!(
        keys.decrypt_text(PHONE_PURPOSE, &as_phone).unwrap(),
        "+919876543210"
    );

    let as_contact = keys.encrypt_text(CONTACT_PURPOSE, "+919876543211").unwrap();
    assert_eq!(
        keys.decrypt(&as_contact).unwrap_err(),
        PhoneCryptoError::Decryption
    );
    assert_eq!(
        keys.decrypt_text(CONTACT_PURPOSE, &as_contact).unwrap(),
        "+919876543211"
    );

    // The phone wrapper is exactly purpose "phone".
    let via_text = keys.encrypt_text(PHONE_PURPOSE, number.as_e164()).unwrap();
    assert_eq!(keys.decrypt(&via_text).unwrap(), number);

    // Authentic, right purpose, but not a phone number.
    let not_a_number = keys.encrypt_text(PHONE_PURPOSE, "hello").unwrap();
    assert_eq!(
        keys.decrypt(&not_a_number).unwrap_err(),
        PhoneCryptoError::UnexpectedPlaintext("phone number")
    );

    // Empty and long-ish texts round-trip; over the limit is refused.
    for text in [String::new(), "x".repeat(MAX_PLAINTEXT_BYTES), "é".into()] {
        let sealed = keys.encrypt_text("note", &text).unwrap();
        assert_eq!(keys.decrypt_text("note", &sealed).unwrap(), text);
    }
    assert_eq!(
        keys.encrypt_text("note", &"x".repeat(MAX_PLAINTEXT_BYTES + 1))
            .unwrap_err(),
        PhoneCryptoError::TooLong
    );
    for purpose in ["", "Phone", "phone/v2", "a b", &"p".repeat(33), "contact\0"] {
        assert_eq!(
            keys.encrypt_text(purpose, "x").unwrap_err(),
            PhoneCryptoError::BadPurpose,
            "{purpose:?}"
        );
        assert_eq!(
            keys.decrypt_text(purpose, &as_contact).unwrap_err(),
            PhoneCryptoError::BadPurpose,
            "{purpose:?}"
        );
    }
}

/// Documents (export results) take the same keys and purposes, up to
/// `MAX_DOCUMENT_BYTES`; a document's ciphertext is no short text's.
#[test]
fn documents_round_trip_under_their_purpose() {
    let keys = PhoneKeys::generate(T0);
    let text = "y".repeat(300_000);
    let sealed = keys.encrypt_document("export", &text).unwrap();
    assert_eq!(keys.decrypt_document("export", &sealed).unwrap(), text);
    assert!(!sealed.ciphertext.contains("yyyy"));
    assert_eq!(
        keys.decrypt_document("contact", &sealed).unwrap_err(),
        PhoneCryptoError::Decryption
    );
    assert_eq!(
        keys.decrypt_text("export", &sealed).unwrap_err(),
        PhoneCryptoError::Malformed
    );
    assert_eq!(
        keys.encrypt_document("export", &"y".repeat(MAX_DOCUMENT_BYTES + 1))
            .unwrap_err(),
        PhoneCryptoError::TooLong
    );
}

#[test]
fn malformed_secrets_are_refused_with_typed_errors() {
    let good = b64(&[1u8; 32]);
    let lookup = b64(&[2u8; 32]);
    let at = "2025-01-31T10:00:00Z";
    let cases: Vec<(String, PhoneKeysError)> = vec![
        (
            "not json".into(),
            PhoneKeysError::Json("Syntax error at line 1 column 2".into()),
        ),
        (document(vec![], &lookup), PhoneKeysError::NoEncryptionKeys),
        (
            serde_json::json!({"lookup_key": lookup}).to_string(),
            PhoneKeysError::NoEncryptionKeys,
        ),
        (
            serde_json::json!({"encryption_keys": [entry("k", &good, at)]}).to_string(),
            PhoneKeysError::MissingLookupKey,
        ),
        (
            document(vec![entry("", &good, at)], &lookup),
            PhoneKeysError::BadKid { position: 0 },
        ),
        (
            document(
                vec![entry("k", &good, at), entry("a b", &good, at)],
                &lookup,
            ),
            PhoneKeysError::BadKid { position: 1 },
        ),
        (
            document(vec![entry(&"k".repeat(65), &good, at)], &lookup),
            PhoneKeysError::BadKid { position: 0 },
        ),
        (
            document(vec![entry("k", "not base64!", at)], &lookup),
            PhoneKeysError::BadBase64 {
                key: KeyName::Encryption { kid: "k".into() },
            },
        ),
        (
            document(vec![entry("k", &b64(&[1u8; 16]), at)], &lookup),
            PhoneKeysError::WrongKeyLength {
                key: KeyName::Encryption { kid: "k".into() },
            },
        ),
        (
            document(vec![entry("k", "", at)], &lookup),
            PhoneKeysError::WrongKeyLength {
                key: KeyName::Encryption { kid: "k".into() },
            },
        ),
        (
            document(vec![entry("k", &good, at)], "***"),
            PhoneKeysError::BadBase64 {
                key: KeyName::Lookup,
            },
        ),
        (
            document(vec![entry("k", &good, at)], &b64(&[2u8; 33])),
            PhoneKeysError::WrongKeyLength {
                key: KeyName::Lookup,
            },
        ),
        (
            document(vec![entry("k", &good, "yesterday")], &lookup),
            PhoneKeysError::BadTimestamp { kid: "k".into() },
        ),
        (
            document(
                vec![entry("k", &good, at), entry("k", &b64(&[3u8; 32]), at)],
                &lookup,
            ),
            PhoneKeysError::DuplicateKid { kid: "k".into() },
        ),
        (
            document(vec![entry("k", &good, at)], &good),
            PhoneKeysError::LookupKeyReused,
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(PhoneKeys::parse(&json).unwrap_err(), expected, "{json}");
    }
    // Unknown fields are ignored; whitespace around keys is tolerated.
    let extra = serde_json::json!({
        "encryption_keys": [{"kid": "k", "key": format!(" {good}\n"), "created_at": at, "note": 1}],
        "lookup_key": lookup, "version": 2,
    });
    assert!(PhoneKeys::parse(&extra.to_string()).is_ok());
}

#[test]
fn debug_and_errors_never_show_keys_or_numbers() {
    let keys = PhoneKeys::generate(T0).rotate(T0 + Duration::days(1));
    let secrets = key_texts(&keys);
    let shown = format!("{keys:?}");
    assert!(shown.contains(keys.current_kid()), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
    for secret in &secrets {
        assert!(!shown.contains(&secret[..16]), "{shown}");
    }
    for key in &keys.encryption {
        let bytes = key.key.expose_secret();
        assert!(!shown.contains(&format!("{:?}", &bytes[..8])), "{shown}");
    }

    // Shape errors right at the key material.
    let lookup = &secrets[secrets.len() - 1];
    let misplaced = format!(r#"{{"encryption_keys": "{lookup}", "lookup_key": "{lookup}"}}"#);
    let wrong_type = serde_json::json!({"encryption_keys": [{"kid": "k", "key": 5,
        "created_at": lookup}], "lookup_key": lookup})
    .to_string();
    let bad_length = document(
        vec![entry("k", &b64(&[7u8; 31]), "2025-01-31T10:00:00Z")],
        lookup,
    );
    let reused = document(vec![entry("k", lookup, "2025-01-31T10:00:00Z")], lookup);
    for json in [misplaced, wrong_type, bad_length, reused] {
        let error = PhoneKeys::parse(&json).unwrap_err();
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(&lookup[..16]), "{text}");
            assert!(!text.contains(&b64(&[7u8; 31])[..16]), "{text}");
        }
    }

    // Values and crypto errors name no number.
    let number = phone("+919876543210");
    let encrypted = keys.encrypt(&number).unwrap();
    let shown = format!("{encrypted:?}");
    assert!(shown.contains(&encrypted.kid), "{shown}");
    assert!(!shown.contains(&encrypted.ciphertext[..16]), "{shown}");
    let not_a_number = keys.encrypt_text(PHONE_PURPOSE, "+91 98765 43210").unwrap();
    let tampered = EncryptedPhone {
        kid: encrypted.kid.clone(),
        ciphertext: tamper(&encrypted.ciphertext, 20),
    };
    let errors = [
        keys.decrypt(&tampered).unwrap_err(),
        keys.decrypt(&not_a_number).unwrap_err(),
        keys.decrypt_text(CONTACT_PURPOSE, &encrypted).unwrap_err(),
    ];
    for error in errors {
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains("9876") && !text.contains("3210"), "{text}");
            for secret in &secrets {
                assert!(!text.contains(&secret[..16]), "{text}");
            }
        }
    }
}

#[tokio::test]
async fn loads_from_a_secret_source() {
    let keys = PhoneKeys::generate(T0);
    let secrets = StaticSecrets::new().with("phone-keys", keys.to_secret_json());
    let loaded = PhoneKeys::from_source(&secrets, "phone-keys")
        .await
        .unwrap();
    let number = phone("9876543210");
    assert_eq!(
        loaded.decrypt(&keys.encrypt(&number).unwrap()).unwrap(),
        number
    );
    assert_eq!(loaded.lookup_hash(&number), keys.lookup_hash(&number));

    let missing = PhoneKeys::from_source(&secrets, "other").await.unwrap_err();
    assert!(
        matches!(missing, PhoneKeysLoadError::Source(StoreError::Internal(_))),
        "{missing:?}"
    );
    secrets.put("phone-keys", "{}");
    let invalid = PhoneKeys::from_source(&secrets, "phone-keys")
        .await
        .unwrap_err();
    assert!(
        matches!(
            invalid,
            PhoneKeysLoadError::Invalid(PhoneKeysError::NoEncryptionKeys)
        ),
        "{invalid:?}"
    );
}

#[test]
fn owner_bound_values_open_only_for_their_owner_and_purpose() {
    let keys = PhoneKeys::generate(T0);
    let (alice, bob) = (
        "6f1c2a9e-0000-4000-8000-000000000001",
        "6f1c2a9e-0000-4000-8000-000000000002",
    );
    let sealed = keys
        .encrypt_for(alice, CONTACT_PURPOSE, "9876543210")
        .unwrap();
    assert_eq!(
        keys.decrypt_for(alice, CONTACT_PURPOSE, &sealed).unwrap(),
        "9876543210"
    );
    assert!(matches!(
        keys.decrypt_for(bob, CONTACT_PURPOSE, &sealed),
        Err(PhoneCryptoError::Decryption)
    ));
    assert!(keys.decrypt_for(alice, PHONE_PURPOSE, &sealed).is_err());
    // Not an owner-less value either.
    assert!(keys.decrypt_text(CONTACT_PURPOSE, &sealed).is_err());
    // Owner text cannot smuggle in another purpose.
    assert!(matches!(
        keys.encrypt_for("a/v1", CONTACT_PURPOSE, "x"),
        Err(PhoneCryptoError::BadPurpose)
    ));
}

#[test]
fn values_sealed_before_owners_were_bound_still_open() {
    let keys = PhoneKeys::generate(T0);
    let owner = "6f1c2a9e-0000-4000-8000-000000000003";
    let legacy = keys.encrypt_text(PHONE_PURPOSE, "+919876543210").unwrap();
    assert_eq!(
        keys.decrypt_for(owner, PHONE_PURPOSE, &legacy).unwrap(),
        "+919876543210"
    );
    // Still bound to its purpose.
    assert!(keys.decrypt_for(owner, CONTACT_PURPOSE, &legacy).is_err());
}
