//! The keys that sign access tokens, as stored in one Secrets Manager
//! secret:
//!
//! ```json
//! {"keys": [
//!   {"kid": "2026-12-03-9f86d081", "alg": "ES256",
//!    "private_key": "<standard base64 of the PKCS#8 DER>",
//!    "created_at": "2026-12-03T10:00:00Z",
//!    "activates_at": "2026-12-03T11:00:00Z",
//!    "retired_at": null}
//! ]}
//! ```
//!
//! Each key goes through a lifecycle decided by those times alone, so every
//! function switches signer at the same moment without a secret update:
//!
//! - **pending** (`now < activates_at`): published in the JWKS, signs
//!   nothing. A new key stays pending for at least the JWKS cache lifetime
//!   plus the key-reload interval, so every verifier has it before it signs.
//! - **active**: the signer, the key with the latest `activates_at` that has
//!   passed and no `retired_at` that has.
//! - **retired** (superseded by a later key, or `retired_at` passed):
//!   published, signs nothing, until every token it signed has expired.
//! - **removed**: `prune` drops it from the set.
//!
//! Every key of the set verifies the tokens naming its `kid`, with its own
//! algorithm (ES256 or EdDSA), so a set may hold both during a migration.
//! `activates_at` missing means "from `created_at`" (sets written before the
//! lifecycle: the newest key signs); `alg` is `ES256` or `EdDSA`; `kid`s are
//! 1–64 characters of `A–Z a–z 0–9 . _ -`; unknown fields are ignored.
//!
//! Private key material lives only in zeroize-on-drop buffers
//! (`SecretSlice`, `EncodingKey`), and no `Debug` or error prints it.

use crate::crypto::key_file;
pub use crate::session_tokens::signing_key::{KeyAlgorithm, SigningKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::zeroize::{Zeroize, Zeroizing};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

mod lifecycle;
#[cfg(test)]
mod tests;

pub use lifecycle::{KeyState, LifecycleError};

/// The algorithm of keys generated without naming one.
pub const DEFAULT_ALGORITHM: KeyAlgorithm = KeyAlgorithm::Es256;

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
    #[error("key {kid:?}: unknown algorithm {alg:?} (ES256 and EdDSA are supported)")]
    UnknownAlgorithm { kid: String, alg: String },
    #[error("key {kid:?}: private_key is not standard base64")]
    BadBase64 { kid: String },
    #[error("key {kid:?}: private_key is not a PKCS#8 private key of its algorithm")]
    BadKey { kid: String },
    #[error("key {kid:?}: created_at, activates_at and retired_at must be RFC 3339 times")]
    BadTimestamp { kid: String },
    #[error("key id {kid:?} appears more than once")]
    DuplicateKid { kid: String },
}

/// A non-empty set of signing keys, latest to activate first.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    activates_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<String>,
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

    /// A set of one new key of the default algorithm (ES256), signing from
    /// `now`: a first deployment has no verifier caching an older set.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn generate(now: OffsetDateTime) -> KeySet {
        Self::generate_with(DEFAULT_ALGORITHM, now)
    }

    /// A set of one new key of `alg`, signing from `now`.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn generate_with(alg: KeyAlgorithm, now: OffsetDateTime) -> KeySet {
        Self::from_keys(vec![new_key(alg, whole_seconds_utc(now), &[])])
    }

    /// This set plus a new key of the same algorithm as the signer that
    /// signs at once. For tests and for a compromised key, when replacing
    /// it now matters more than verifiers' caches; a planned rotation adds
    /// a pending key (`with_pending_key`) and lets it activate.
    ///
    /// The new key activates at `now`, or one second after the latest
    /// activation if the clock says otherwise, so that it always signs.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn rotate(&self, now: OffsetDateTime) -> KeySet {
        let latest = self.keys[0].activates_at;
        let after_latest = latest.checked_add(Duration::SECOND).unwrap_or(latest);
        let at = whole_seconds_utc(now).max(after_latest);
        let alg = self.signer_at(at).map_or(DEFAULT_ALGORITHM, |key| key.alg);
        let mut keys = vec![new_key(alg, at, &self.keys)];
        keys.extend(self.keys.iter().cloned());
        Self::from_keys(keys)
    }

    /// The key that signs new tokens at `now`: the one with the latest
    /// activation that has passed, unless retired. `None` when every key is
    /// still pending or retired (the keytool never writes such a set).
    pub fn signer_at(&self, now: OffsetDateTime) -> Option<&SigningKey> {
        // A superseded key never signs again, even when its successor is
        // retired: only the latest activation counts. Keys cancelled
        // before they activated never count.
        self.keys
            .iter()
            .find(|key| {
                key.activates_at <= now
                    && key
                        .retired_at
                        .is_none_or(|retired| retired > key.activates_at)
            })
            .filter(|key| key.retired_at.is_none_or(|retired| retired > now))
    }

    /// The key latest to activate (pending or not): in a set that nobody
    /// is rotating, the signer.
    pub fn latest(&self) -> &SigningKey {
        // `keys` is never empty: `parse` refuses an empty list and every
        // other constructor starts from a non-empty set.
        &self.keys[0]
    }

    /// Any key of the set, for verifying.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// Every key, latest to activate first.
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
                    alg: key.alg.name().to_owned(),
                    private_key: STANDARD.encode(key.pkcs8_der.expose_secret()),
                    created_at: format_time(key.created_at),
                    activates_at: Some(format_time(key.activates_at)),
                    retired_at: key.retired_at.map(format_time),
                })
                .collect(),
        };
        key_file::to_secret_json(&document, 512 + 640 * self.keys.len())
    }

    /// The RFC 7517 JWK Set of the public keys (every state but removed),
    /// latest to activate first.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self.keys.iter().map(SigningKey::jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    /// The distinct algorithms of the set's keys, in `KeyAlgorithm::ALL`
    /// order (what the discovery document lists).
    pub fn algorithms(&self) -> Vec<KeyAlgorithm> {
        KeyAlgorithm::ALL
            .into_iter()
            .filter(|alg| self.keys.iter().any(|key| key.alg == *alg))
            .collect()
    }

    /// Orders `keys` latest activation first (ties broken by kid, so the
    /// signer is deterministic). `keys` must not be empty.
    fn from_keys(mut keys: Vec<SigningKey>) -> Self {
        keys.sort_by(|a, b| {
            b.activates_at
                .cmp(&a.activates_at)
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
    let alg = KeyAlgorithm::from_name(&entry.alg).ok_or_else(|| KeySetError::UnknownAlgorithm {
        kid: kid.clone(),
        alg: entry.alg.chars().take(32).collect(),
    })?;
    let time = |text: &str| {
        key_file::created_at(text).ok_or_else(|| KeySetError::BadTimestamp { kid: kid.clone() })
    };
    let created_at = time(&entry.created_at)?;
    let activates_at = entry.activates_at.as_deref().map(time).transpose()?;
    let retired_at = entry.retired_at.as_deref().map(time).transpose()?;
    let der = Zeroizing::new(
        STANDARD
            .decode(entry.private_key.trim())
            .map_err(|_| KeySetError::BadBase64 { kid: kid.clone() })?,
    );
    let mut key = SigningKey::from_pkcs8_der(kid.clone(), alg, created_at, &der)
        .ok_or(KeySetError::BadKey { kid })?;
    key.activates_at = activates_at.unwrap_or(created_at);
    key.retired_at = retired_at;
    Ok(key)
}

/// A new key created at `created_at`, with a kid none of `taken` has:
/// `<yyyy-mm-dd>-<8 hex>`, the hex digits from the SHA-256 of the public
/// key (random, as the key is).
fn new_key(alg: KeyAlgorithm, created_at: OffsetDateTime, taken: &[SigningKey]) -> SigningKey {
    loop {
        let mut key = SigningKey::generate(String::new(), alg, created_at);
        let digest = Sha256::digest(key.public_key_bytes());
        let kid = key_file::kid(created_at, &digest[..4]);
        if taken.iter().any(|known| known.kid == kid) {
            continue; // a 1 in 2^32 collision: draw another key
        }
        key.kid = kid;
        return key;
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
