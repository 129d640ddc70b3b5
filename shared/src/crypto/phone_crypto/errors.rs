//! What can go wrong with the phone keys and their use.

use super::{KEY_BYTES, MAX_PLAINTEXT_BYTES};
use crate::ports::StoreError;

/// Why a phone-key secret was refused. Messages name kids and positions,
/// never key material.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PhoneKeysError {
    /// Position only: serde's messages may quote the offending value, which
    /// could be key material.
    #[error("the phone-key secret is not JSON of the documented shape ({0})")]
    Json(String),
    #[error("the phone-key secret has no encryption keys")]
    NoEncryptionKeys,
    #[error("the phone-key secret has no lookup_key")]
    MissingLookupKey,
    #[error("encryption key #{position}: kid must be 1-64 characters of A-Z a-z 0-9 . _ -")]
    BadKid { position: usize },
    #[error("{key}: not standard base64")]
    BadBase64 { key: KeyName },
    #[error("{key}: must be {KEY_BYTES} bytes")]
    WrongKeyLength { key: KeyName },
    #[error("encryption key {kid:?}: created_at is not an RFC 3339 time")]
    BadTimestamp { kid: String },
    #[error("encryption key id {kid:?} appears more than once")]
    DuplicateKid { kid: String },
    #[error("the lookup_key must differ from every encryption key")]
    LookupKeyReused,
}

/// Which key of the secret an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyName {
    Encryption { kid: String },
    Lookup,
}

impl std::fmt::Display for KeyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Encryption { kid } => write!(f, "encryption key {kid:?}"),
            Self::Lookup => f.write_str("lookup_key"),
        }
    }
}

/// Why a value could not be encrypted or decrypted. Never carries the
/// plaintext, the ciphertext or key material.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PhoneCryptoError {
    /// The value names a key this set does not have (retired too early, or
    /// the function runs with an outdated secret).
    #[error("no phone encryption key with kid {kid:?}")]
    UnknownKey { kid: String },
    /// Not base64, too short or too long to be a ciphertext.
    #[error("the encrypted value is malformed")]
    Malformed,
    /// Authentication failed: tampered, another purpose, or another key
    /// under the same kid.
    #[error("the encrypted value does not decrypt (tampered, or another purpose or key)")]
    Decryption,
    /// It decrypted, but is not what this purpose stores.
    #[error("the decrypted value is not a {0}")]
    UnexpectedPlaintext(&'static str),
    #[error("purpose must be 1-32 characters of a-z 0-9 _ -")]
    BadPurpose,
    #[error("the plaintext is longer than {MAX_PLAINTEXT_BYTES} bytes")]
    TooLong,
    #[error("no randomness available: {0}")]
    Randomness(String),
    #[error("encryption failed")]
    Encryption,
}

/// Why `PhoneKeys::from_source` failed.
#[derive(Debug, thiserror::Error)]
pub enum PhoneKeysLoadError {
    #[error("reading the phone-key secret failed")]
    Source(#[source] StoreError),
    #[error("the phone-key secret is invalid")]
    Invalid(#[source] PhoneKeysError),
}
