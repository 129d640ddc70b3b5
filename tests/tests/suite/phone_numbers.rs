//! Phone numbers at rest: the phone-key secret in Secrets Manager (on moto)
//! loaded through the production adapter, and parse → encrypt → decrypt →
//! hash holding for a few hundred generated Indian mobile numbers.

use std::collections::HashSet;

use shared::adapters::secretsmanager::SecretsManagerSource;
use shared::crypto::phone_crypto::{
    EncryptedPhone, PhoneCryptoError, PhoneKeys, PhoneKeysError, PhoneKeysLoadError,
    CONTACT_PURPOSE,
};
use shared::domain::phone_number::{PhoneNumber, PhoneRegion};
use shared::ports::StoreError;
use shared::session_tokens::ExposeSecret;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2025-04-01 08:00:00 UTC);

use integration_tests::moto::{put_secret, secrets_client};

/// A secret of its own per test, holding `keys`.
async fn create_secret(client: &aws_sdk_secretsmanager::Client, keys: &PhoneKeys) -> String {
    integration_tests::moto::create_secret(
        client,
        "phone-keys",
        keys.to_secret_json().expose_secret(),
    )
    .await
}

fn india(raw: &str) -> PhoneNumber {
    PhoneNumber::parse(raw, PhoneRegion::default())
        .unwrap_or_else(|error| panic!("{raw:?}: {error:?}"))
}

#[tokio::test]
async fn phone_keys_in_secrets_manager_encrypt_decrypt_and_rotate() {
    let client = secrets_client();
    let source = SecretsManagerSource::new(client.clone());
    let keys = PhoneKeys::generate(T0);
    let name = create_secret(&client, &keys).await;

    let loaded = PhoneKeys::from_source(&source, &name).await.unwrap();
    assert_eq!(loaded.kids(), keys.kids());
    let number = india("98765 43210");
    let encrypted = loaded.encrypt(&number).unwrap();
    assert_eq!(encrypted.kid, keys.current_kid());
    assert_eq!(loaded.decrypt(&encrypted).unwrap(), number);
    // What the loaded set wrote, the generating set reads, and both hash
    // alike: one secret, one set of keys.
    assert_eq!(keys.decrypt(&encrypted).unwrap(), number);
    assert_eq!(loaded.lookup_hash(&number), keys.lookup_hash(&number));
    assert_eq!(
        loaded.lookup_hash(&india("+919876543210")),
        keys.lookup_hash(&number)
    );

    // A rotation stored in the secret: the next cold start encrypts with
    // the new key and still reads the old ciphertext; the hash is stable.
    let rotated = loaded.rotate(T0 + Duration::days(90));
    put_secret(&client, &name, rotated.to_secret_json().expose_secret()).await;
    let reloaded = PhoneKeys::from_source(&source, &name).await.unwrap();
    assert_eq!(reloaded.current_kid(), rotated.current_kid());
    assert_ne!(reloaded.current_kid(), keys.current_kid());
    assert_eq!(reloaded.decrypt(&encrypted).unwrap(), number);
    let fresh = reloaded.encrypt(&number).unwrap();
    assert_eq!(fresh.kid, rotated.current_kid());
    assert_eq!(reloaded.decrypt(&fresh).unwrap(), number);
    assert_eq!(reloaded.lookup_hash(&number), keys.lookup_hash(&number));
    assert_eq!(
        keys.decrypt(&fresh).unwrap_err(),
        PhoneCryptoError::UnknownKey {
            kid: fresh.kid.clone()
        }
    );
}

#[tokio::test]
async fn missing_or_invalid_phone_key_secrets_fail_clearly() {
    let client = secrets_client();
    let source = SecretsManagerSource::new(client.clone());

    let missing = PhoneKeys::from_source(&source, "users-test/no-such-phone-keys")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, PhoneKeysLoadError::Source(StoreError::Internal(_))),
        "{missing:?}"
    );

    let keys = PhoneKeys::generate(T0);
    let name = create_secret(&client, &keys).await;
    put_secret(
        &client,
        &name,
        r#"{"encryption_keys": [], "lookup_key": ""}"#,
    )
    .await;
    let invalid = PhoneKeys::from_source(&source, &name).await.unwrap_err();
    assert!(
        matches!(
            invalid,
            PhoneKeysLoadError::Invalid(PhoneKeysError::NoEncryptionKeys)
        ),
        "{invalid:?}"
    );
}

/// SplitMix64: a seeded generator, so a failure names a reproducible case.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An Indian mobile number: a first digit from 6 to 9, then nine digits.
    fn indian_mobile(&mut self) -> String {
        let first = 6 + self.next() % 4;
        format!("{first}{:09}", self.next() % 1_000_000_000)
    }
}

#[test]
fn generated_indian_mobile_numbers_parse_encrypt_decrypt_and_hash_consistently() {
    const COUNT: usize = 400;
    const SEED: u64 = 0x5eed_0091;
    let keys = PhoneKeys::generate(T0);
    // A second cold start's copy of the same secret, and a rotated set.
    let reloaded = PhoneKeys::parse(keys.to_secret_json().expose_secret()).unwrap();
    let rotated = keys.rotate(T0 + Duration::days(1));
    let mut numbers = Numbers(SEED);
    let mut seen = HashSet::new();
    let mut hashes = HashSet::new();

    for _ in 0..COUNT {
        let digits = numbers.indian_mobile();
        if !seen.insert(digits.clone()) {
            continue;
        }
        let context = format!("{digits} (seed {SEED:#x})");
        let e164 = format!("+91{digits}");
        let number = india(&digits);
        assert_eq!(number.as_e164(), e164, "{context}");
        assert_eq!(number.country_code(), "+91", "{context}");
        assert_eq!(number.national_number(), digits, "{context}");
        assert_eq!(
            number.masked(),
            format!("+91******{}", &digits[6..]),
            "{context}"
        );
        assert!(!format!("{number:?}").contains(&digits[6..]), "{context}");

        // Every spelling is the same number with the same lookup hash.
        let hash = keys.lookup_hash(&number);
        let spellings = [
            e164.clone(),
            format!("+91 {} {}", &digits[..5], &digits[5..]),
            format!("+91-{}-{}", &digits[..5], &digits[5..]),
            format!("({}) {}", &digits[..5], &digits[5..]),
            format!(" {}.{}.{} ", &digits[..3], &digits[3..6], &digits[6..]),
        ];
        for spelling in &spellings {
            let parsed = india(spelling);
            assert_eq!(parsed, number, "{spelling:?} of {context}");
            assert_eq!(keys.lookup_hash(&parsed), hash, "{spelling:?} of {context}");
        }
        assert_eq!(reloaded.lookup_hash(&number), hash, "{context}");
        assert_eq!(rotated.lookup_hash(&number), hash, "{context}");
        assert!(hashes.insert(hash), "hash collision at {context}");

        // Encryption: fresh each time, readable by every copy of the keys,
        // and only for the phone purpose.
        let first = keys.encrypt(&number).unwrap();
        let second = reloaded.encrypt(&number).unwrap();
        assert_ne!(first.ciphertext, second.ciphertext, "{context}");
        assert!(!first.ciphertext.contains(&digits), "{context}");
        for encrypted in [&first, &second] {
            assert_eq!(keys.decrypt(encrypted).unwrap(), number, "{context}");
            assert_eq!(reloaded.decrypt(encrypted).unwrap(), number, "{context}");
            assert_eq!(rotated.decrypt(encrypted).unwrap(), number, "{context}");
            assert_eq!(
                keys.decrypt_text(CONTACT_PURPOSE, encrypted).unwrap_err(),
                PhoneCryptoError::Decryption,
                "{context}"
            );
        }
        let by_new_key = rotated.encrypt(&number).unwrap();
        assert_eq!(by_new_key.kid, rotated.current_kid(), "{context}");
        assert_eq!(rotated.decrypt(&by_new_key).unwrap(), number, "{context}");

        // Stored as JSON, read back.
        let stored = serde_json::to_string(&first).unwrap();
        let restored: EncryptedPhone = serde_json::from_str(&stored).unwrap();
        assert_eq!(reloaded.decrypt(&restored).unwrap(), number, "{context}");
    }
    assert!(
        seen.len() > COUNT * 9 / 10,
        "{} distinct numbers",
        seen.len()
    );
}
