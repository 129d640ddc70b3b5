//! The Ed25519 keys that sign access tokens, as stored in one Secrets
//! Manager secret:
//!
//! ```json
//! {"keys": [
//!   {"kid": "2025-01-31-9f86d081", "alg": "EdDSA",
//!    "private_key": "<standard base64 of the PKCS#8 v1 or v2 DER>",
//!    "created_at": "2025-01-31T10:00:00Z"}
//! ]}
//! ```
//!
//! The key with the newest `created_at` signs; every key of the set
//! verifies, so a rotation (a new key added in front) leaves tokens signed
//! by older keys valid until they expire. Keys are retired once no token
//! they signed can still be unexpired. `kid`s are 1–64 characters of
//! `A–Z a–z 0–9 . _ -`; unknown fields are ignored.
//!
//! Private key material lives only in zeroize-on-drop buffers
//! (`SecretSlice`, `EncodingKey`), and no `Debug` or error prints it.

use crate::crypto::key_file;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey};
use secrecy::zeroize::{Zeroize, Zeroizing};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// The only JOSE algorithm a key set holds.
pub const ALGORITHM: &str = "EdDSA";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeySetError {
    /// Position only: serde's messages may quote the offending value, which
    /// could be key material.
    #[error("the key set is not JSON of the documented shape ({0})")]
    Json(String),
    #[error("the key set has no keys")]
    Empty,
    #[error("key #{position}: kid must be 1-64 characters of A-Z a-z 0-9 . _ -")]
    BadKid { position: usize },
    #[error("key {kid:?}: unknown algorithm {alg:?} (only EdDSA is supported)")]
    UnknownAlgorithm { kid: String, alg: String },
    #[error("key {kid:?}: private_key is not standard base64")]
    BadBase64 { kid: String },
    #[error("key {kid:?}: private_key is not an Ed25519 PKCS#8 private key")]
    BadKey { kid: String },
    #[error("key {kid:?}: created_at is not an RFC 3339 time")]
    BadTimestamp { kid: String },
    #[error("key id {kid:?} appears more than once")]
    DuplicateKid { kid: String },
}

/// One Ed25519 key: its private half for signing, its public half for
/// verifying and for the JWKS document.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    created_at: OffsetDateTime,
    pkcs8_der: SecretSlice<u8>,
    encoding: EncodingKey,
    public_key: [u8; 32],
    decoding: DecodingKey,
}

impl SigningKey {
    /// `None` when `pkcs8_der` is not an Ed25519 PKCS#8 (v1 or v2) key.
    fn from_pkcs8_der(kid: String, created_at: OffsetDateTime, pkcs8_der: &[u8]) -> Option<Self> {
        // aws-lc-rs accepts v1 and v2 here, and it is the same call
        // jsonwebtoken's EdDSA signer makes on `EncodingKey::from_ed_der`
        // bytes, so a key accepted here is one jsonwebtoken can sign with.
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8_der).ok()?;
        let public_key: [u8; 32] = pair.public_key().as_ref().try_into().ok()?;
        Some(Self {
            kid,
            created_at,
            pkcs8_der: SecretSlice::from(pkcs8_der.to_vec()),
            encoding: EncodingKey::from_ed_der(pkcs8_der),
            public_key,
            // jsonwebtoken's EdDSA verifier takes the raw 32-byte public
            // key (what `from_ed_components` decodes a JWK `x` into).
            decoding: DecodingKey::from_ed_der(&public_key),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public_key),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        })
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("public_key", &URL_SAFE_NO_PAD.encode(self.public_key))
            .finish_non_exhaustive()
    }
}

/// A non-empty set of signing keys, newest first.
#[derive(Clone, Debug)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

/// One entry of the secret's JSON. Its `private_key` text is wiped when
/// the entry is dropped.
#[derive(Serialize, Deserialize)]
struct KeyEntry {
    kid: String,
    alg: String,
    private_key: String,
    created_at: String,
}

impl Drop for KeyEntry {
    fn drop(&mut self) {
        self.private_key.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
struct KeySetDocument {
    keys: Vec<KeyEntry>,
}

impl KeySet {
    /// Parses the secret's JSON (see the module documentation).
    pub fn parse(json: &str) -> Result<KeySet, KeySetError> {
        let document: KeySetDocument = key_file::parse_document(json).map_err(KeySetError::Json)?;
        if document.keys.is_empty() {
            return Err(KeySetError::Empty);
        }
        let keys = key_file::parse_unique(
            &document.keys,
            parse_entry,
            |key| &key.kid,
            |kid| KeySetError::DuplicateKid { kid },
        )?;
        Ok(Self::from_keys(keys))
    }

    /// A set of one new key created at `now`.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn generate(now: OffsetDateTime) -> KeySet {
        Self::from_keys(vec![new_key(whole_seconds_utc(now), &[])])
    }

    /// This set plus a new key that becomes the signer. The old keys stay,
    /// so tokens they signed verify until they expire.
    ///
    /// The new key's `created_at` is `now`, or one second after the newest
    /// key if the clock says otherwise, so that it always signs.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn rotate(&self, now: OffsetDateTime) -> KeySet {
        let newest = self.signer().created_at;
        let after_newest = newest.checked_add(Duration::SECOND).unwrap_or(newest);
        let created_at = whole_seconds_utc(now).max(after_newest);
        let mut keys = vec![new_key(created_at, &self.keys)];
        keys.extend(self.keys.iter().cloned());
        Self::from_keys(keys)
    }

    /// This set without the keys created before `cutoff`; the signer always
    /// stays, whatever its age.
    pub fn retire_older_than(&self, cutoff: OffsetDateTime) -> KeySet {
        let signer = self.signer().kid.as_str();
        let keys = self
            .keys
            .iter()
            .filter(|key| key.kid == signer || key.created_at >= cutoff)
            .cloned()
            .collect();
        Self::from_keys(keys)
    }

    /// The key that signs new tokens: the one with the newest `created_at`.
    pub fn signer(&self) -> &SigningKey {
        // `keys` is never empty: `parse` refuses an empty list and every
        // other constructor starts from a non-empty set.
        &self.keys[0]
    }

    /// Any key of the set, for verifying.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// Every key, newest first.
    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// The JSON document to store in the secret (private keys included).
    pub fn to_secret_json(&self) -> SecretString {
        let document = KeySetDocument {
            keys: self
                .keys
                .iter()
                .map(|key| KeyEntry {
                    kid: key.kid.clone(),
                    alg: ALGORITHM.to_owned(),
                    private_key: STANDARD.encode(key.pkcs8_der.expose_secret()),
                    created_at: format_time(key.created_at),
                })
                .collect(),
        };
        // Sized up front so the writer never reallocates, which would leave
        // unwiped copies of key material behind.
        let mut buffer = Vec::with_capacity(256 + 512 * self.keys.len());
        if serde_json::to_writer_pretty(&mut buffer, &document).is_err() {
            // Strings and a Vec always serialize; an empty secret is the
            // harmless answer should that ever change.
            buffer.zeroize();
            return SecretString::default();
        }
        match String::from_utf8(buffer) {
            Ok(json) => SecretString::from(json),
            Err(error) => {
                error.into_bytes().zeroize();
                SecretString::default()
            }
        }
    }

    /// The RFC 7517 JWK Set of the public keys, newest first.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self.keys.iter().map(SigningKey::jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    /// Orders `keys` newest first (ties broken by kid, so the signer is
    /// deterministic). `keys` must not be empty.
    fn from_keys(mut keys: Vec<SigningKey>) -> Self {
        keys.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.kid.cmp(&a.kid))
        });
        Self { keys }
    }
}

fn parse_entry(position: usize, entry: &KeyEntry) -> Result<SigningKey, KeySetError> {
    if !key_file::is_valid_kid(&entry.kid) {
        return Err(KeySetError::BadKid { position });
    }
    let kid = entry.kid.clone();
    if entry.alg != ALGORITHM {
        return Err(KeySetError::UnknownAlgorithm {
            kid,
            alg: entry.alg.chars().take(32).collect(),
        });
    }
    let created_at = key_file::created_at(&entry.created_at)
        .ok_or_else(|| KeySetError::BadTimestamp { kid: kid.clone() })?;
    let der = Zeroizing::new(
        STANDARD
            .decode(entry.private_key.trim())
            .map_err(|_| KeySetError::BadBase64 { kid: kid.clone() })?,
    );
    SigningKey::from_pkcs8_der(kid.clone(), created_at, &der).ok_or(KeySetError::BadKey { kid })
}

/// A new key created at `created_at`, with a kid none of `taken` has:
/// `<yyyy-mm-dd>-<8 hex>`, the hex digits from the SHA-256 of the public
/// key (random, as the key is).
fn new_key(created_at: OffsetDateTime, taken: &[SigningKey]) -> SigningKey {
    loop {
        let document = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
            .expect("the operating system provides randomness for key generation");
        let pair = Ed25519KeyPair::from_pkcs8(document.as_ref())
            .expect("a freshly generated PKCS#8 document parses");
        let digest = Sha256::digest(pair.public_key().as_ref());
        let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let date = created_at.date();
        let kid = format!(
            "{:04}-{:02}-{:02}-{hex}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        if taken.iter().any(|key| key.kid == kid) {
            continue; // a 1 in 2^32 collision: draw another key
        }
        if let Some(key) = SigningKey::from_pkcs8_der(kid, created_at, document.as_ref()) {
            return key;
        }
    }
}

fn whole_seconds_utc(time: OffsetDateTime) -> OffsetDateTime {
    let utc = time.to_offset(UtcOffset::UTC);
    utc.replace_nanosecond(0).unwrap_or(utc)
}

fn format_time(time: OffsetDateTime) -> String {
    // Every UTC time this module holds has a four-digit year, which is all
    // RFC 3339 formatting can refuse.
    time.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::crypto::{sign, verify};
    use jsonwebtoken::Algorithm;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2025-01-31 10:00:00 UTC);

    fn entry(kid: &str, alg: &str, private_key: &str, created_at: &str) -> serde_json::Value {
        serde_json::json!({"kid": kid, "alg": alg, "private_key": private_key, "created_at": created_at})
    }

    fn document(entries: Vec<serde_json::Value>) -> String {
        serde_json::json!({ "keys": entries }).to_string()
    }

    fn private_key_b64(set: &KeySet) -> String {
        STANDARD.encode(set.signer().pkcs8_der.expose_secret())
    }

    fn signs_and_verifies(key: &SigningKey) -> bool {
        let Ok(signature) = sign(b"message", key.encoding_key(), Algorithm::EdDSA) else {
            return false;
        };
        verify(&signature, b"message", key.decoding_key(), Algorithm::EdDSA).unwrap_or(false)
            && !verify(&signature, b"other", key.decoding_key(), Algorithm::EdDSA).unwrap_or(true)
    }

    #[test]
    fn generated_set_round_trips_through_the_secret_json() {
        let set = KeySet::generate(datetime!(2025-01-31 10:00:00.75 UTC));
        let key = set.signer();
        assert_eq!(key.created_at(), T0, "whole seconds, UTC");
        let (date, hex) = key.kid().split_at(11);
        assert_eq!(date, "2025-01-31-");
        assert!(
            hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{hex}"
        );

        let json = set.to_secret_json();
        let parsed = KeySet::parse(json.expose_secret()).unwrap();
        assert_eq!(parsed.keys().len(), 1);
        assert_eq!(parsed.signer().kid(), key.kid());
        assert_eq!(parsed.signer().created_at(), T0);
        assert_eq!(parsed.signer().public_key(), key.public_key());
        assert!(json
            .expose_secret()
            .contains("\"created_at\": \"2025-01-31T10:00:00Z\""));
        assert!(json.expose_secret().contains("\"alg\": \"EdDSA\""));
    }

    #[test]
    fn generated_keys_sign_with_jsonwebtoken() {
        let set = KeySet::generate(T0);
        assert!(signs_and_verifies(set.signer()));
        let reparsed = KeySet::parse(set.to_secret_json().expose_secret()).unwrap();
        assert!(signs_and_verifies(reparsed.signer()));
    }

    #[test]
    fn pkcs8_v1_keys_are_accepted_and_sign() {
        let v1 = Ed25519KeyPair::generate_pkcs8v1(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
        let json = document(vec![entry(
            "openssl-key",
            "EdDSA",
            &STANDARD.encode(v1.as_ref()),
            "2024-06-01T00:00:00+02:00",
        )]);
        let set = KeySet::parse(&json).unwrap();
        assert_eq!(
            set.signer().created_at(),
            datetime!(2024-05-31 22:00:00 UTC)
        );
        assert!(signs_and_verifies(set.signer()));
    }

    #[test]
    fn invalid_documents_give_typed_errors() {
        let good = private_key_b64(&KeySet::generate(T0));
        let at = "2025-01-01T00:00:00Z";
        let cases = [
            ("{", "json"),
            ("[]", "json"),
            (r#"{"keys": {}}"#, "json"),
            (r#"{"keys": []}"#, "empty"),
            (&document(vec![entry("", "EdDSA", &good, at)]), "kid"),
            (&document(vec![entry("a b", "EdDSA", &good, at)]), "kid"),
            (
                &document(vec![entry(&"k".repeat(65), "EdDSA", &good, at)]),
                "kid",
            ),
            (&document(vec![entry("k", "RS256", &good, at)]), "alg"),
            (&document(vec![entry("k", "none", &good, at)]), "alg"),
            (
                &document(vec![entry("k", "EdDSA", "not base64!", at)]),
                "base64",
            ),
            (
                &document(vec![entry("k", "EdDSA", &STANDARD.encode([0u8; 48]), at)]),
                "key",
            ),
            (&document(vec![entry("k", "EdDSA", "", at)]), "key"),
            (
                &document(vec![entry("k", "EdDSA", &good, "yesterday")]),
                "time",
            ),
            (
                &document(vec![
                    entry("k", "EdDSA", &good, at),
                    entry("k", "EdDSA", &good, at),
                ]),
                "duplicate",
            ),
        ];
        for (json, expected) in cases {
            let error = KeySet::parse(json).unwrap_err();
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
        let set = KeySet::generate(T0);
        let secret = private_key_b64(&set);
        // A shape error right at the key material.
        let misplaced = format!(r#"{{"keys": "{secret}"}}"#);
        let wrong_type = document(vec![serde_json::json!({"kid": "k", "alg": "EdDSA",
            "private_key": 5, "created_at": secret})]);
        for json in [misplaced, wrong_type] {
            let message = KeySet::parse(&json).unwrap_err().to_string();
            assert!(!message.contains(&secret[..16]), "{message}");
        }
        let shown = format!("{set:?}");
        assert!(shown.contains(set.signer().kid()), "{shown}");
        assert!(!shown.contains(&secret[..16]), "{shown}");
        let der = set.signer().pkcs8_der.expose_secret().to_vec();
        assert!(
            !shown.contains(&format!("{:?}", &der[der.len() - 8..])),
            "{shown}"
        );
    }

    #[test]
    fn rotation_adds_a_signer_and_keeps_the_old_keys() {
        let first = KeySet::generate(T0);
        let rotated = first.rotate(T0 + Duration::days(30));
        assert_eq!(rotated.keys().len(), 2);
        assert_ne!(rotated.signer().kid(), first.signer().kid());
        assert_eq!(rotated.signer().created_at(), T0 + Duration::days(30));
        assert!(rotated.find(first.signer().kid()).is_some());
        assert_eq!(
            rotated.keys()[1].kid(),
            first.signer().kid(),
            "newest first"
        );

        // A clock behind the newest key must not leave the old key signing.
        let skewed = rotated.rotate(T0);
        assert_eq!(skewed.keys().len(), 3);
        assert_eq!(
            skewed.signer().created_at(),
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
    fn retiring_drops_old_keys_but_never_the_signer() {
        let set = KeySet::generate(T0)
            .rotate(T0 + Duration::days(30))
            .rotate(T0 + Duration::days(60));
        let kept = set.retire_older_than(T0 + Duration::days(30));
        assert_eq!(kept.keys().len(), 2);
        assert!(kept
            .keys()
            .iter()
            .all(|k| k.created_at() >= T0 + Duration::days(30)));

        let only_signer = set.retire_older_than(T0 + Duration::days(365));
        assert_eq!(only_signer.keys().len(), 1);
        assert_eq!(only_signer.signer().kid(), set.signer().kid());
    }

    #[test]
    fn signer_is_the_newest_key_whatever_the_order_in_the_secret() {
        let old = KeySet::generate(T0);
        let new = KeySet::generate(T0 + Duration::days(1));
        let entries =
            |set: &KeySet, at: &str| entry(set.signer().kid(), "EdDSA", &private_key_b64(set), at);
        let json = document(vec![
            entries(&new, "2025-02-01T10:00:00Z"),
            entries(&old, "2025-01-31T10:00:00Z"),
        ]);
        let reversed = document(vec![
            entries(&old, "2025-01-31T10:00:00Z"),
            entries(&new, "2025-02-01T10:00:00Z"),
        ]);
        for json in [json, reversed] {
            assert_eq!(
                KeySet::parse(&json).unwrap().signer().kid(),
                new.signer().kid()
            );
        }
    }

    #[test]
    fn jwks_is_the_bare_rfc7517_document_of_public_keys() {
        let set = KeySet::generate(T0).rotate(T0 + Duration::days(1));
        let jwks = set.jwks();
        let object = jwks.as_object().unwrap();
        assert_eq!(object.keys().collect::<Vec<_>>(), ["keys"]);
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        for (jwk, key) in keys.iter().zip(set.keys()) {
            let mut fields: Vec<&String> = jwk.as_object().unwrap().keys().collect();
            fields.sort();
            assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x"]);
            assert_eq!(jwk["kty"], "OKP");
            assert_eq!(jwk["crv"], "Ed25519");
            assert_eq!(jwk["alg"], "EdDSA");
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["kid"], key.kid());
            let x = jwk["x"].as_str().unwrap();
            assert_eq!(x.len(), 43, "32 bytes, base64url without padding");
            assert_eq!(URL_SAFE_NO_PAD.decode(x).unwrap(), key.public_key());
        }
        assert_eq!(keys[0]["kid"], set.signer().kid(), "newest first");
    }
}
