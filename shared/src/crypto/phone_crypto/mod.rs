//! Phone numbers at rest: stored only encrypted (AES-256-GCM), found and
//! kept unique through a keyed hash (HMAC-SHA-256), both under keys from
//! one Secrets Manager secret:
//!
//! ```json
//! {"encryption_keys": [
//!    {"kid": "2025-01-31-9f86d081",
//!     "key": "<standard base64 of 32 random bytes>",
//!     "created_at": "2025-01-31T10:00:00Z"}
//!  ],
//!  "lookup_key": "<standard base64 of 32 random bytes>"}
//! ```
//!
//! - **Encryption keys rotate.** The key with the newest `created_at`
//!   encrypts (ties: the greatest kid); every listed key decrypts. Each
//!   ciphertext is stored with the kid of its key ([`EncryptedPhone`]), so
//!   a rotation (a new key added, see [`PhoneKeys::rotate`]) leaves every
//!   stored value readable. A key may only leave the list once nothing
//!   encrypted under it is stored any more (re-encrypt first).
//! - **The lookup key does not rotate.** The uniqueness claim
//!   `PHONE#<hash>` and lookups by number need the same hash for the same
//!   number forever; a new lookup key would mean recomputing every claim
//!   (decrypt each number, re-hash, move the claim). So it is one key, kept
//!   separate from (and never equal to) the encryption keys.
//!
//! `kid`s are 1–64 characters of `A–Z a–z 0–9 . _ -`; unknown fields are
//! ignored.
//!
//! Ciphertext format ([`EncryptedPhone::ciphertext`]): standard base64 of
//! `96-bit random nonce || AES-256-GCM ciphertext || 128-bit tag`, with
//! associated data `users-service/<purpose>/v1` — `users-service/phone/v1`
//! for the sign-up phone number, `users-service/contact/v1` for the contact
//! numbers of the username sign-up — so a ciphertext copied into another
//! field (another purpose) fails to decrypt. Account records use
//! `users-service/<purpose>/v2/<account id>` ([`PhoneKeys::encrypt_for`]),
//! which binds the value to its account as well; `v1` values written before
//! that still open and are sealed again with the owner on their next write. Random 96-bit nonces are safe
//! for well under 2^32 encryptions per key; rotate long before that.
//!
//! Key bytes live only in zeroize-on-drop buffers (`SecretSlice`), the
//! secret's JSON text is wiped after parsing, and no `Debug` or error
//! message shows a key, a plaintext or a phone number.

use crate::crypto::key_file;
use aes_gcm::aead::{Aead, Nonce, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::zeroize::{Zeroize, Zeroizing};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::domain::phone_number::PhoneNumber;
use crate::ports::secrets::SecretSource;
mod errors;
mod ring;

pub use errors::{KeyName, PhoneCryptoError, PhoneKeysError, PhoneKeysLoadError};
pub use ring::{PhoneKeyRing, UNKNOWN_KID_RELOAD_INTERVAL};

/// Bytes of every key (AES-256 and the HMAC key alike).
pub const KEY_BYTES: usize = 32;
/// The purpose (associated data) of the sign-up phone number.
pub const PHONE_PURPOSE: &str = "phone";
/// The purpose of the contact numbers (`mobileNo`, `personalNo`, `phoneNo`).
pub const CONTACT_PURPOSE: &str = "contact";
/// Longest plaintext `encrypt_text` takes, in bytes: these are short
/// personal fields, not documents.
pub const MAX_PLAINTEXT_BYTES: usize = 4096;

/// Longest plaintext `encrypt_document` takes: a DynamoDB item holds
/// 400 KB, so no stored document is larger.
pub const MAX_DOCUMENT_BYTES: usize = 400_000;

const MAX_PURPOSE_LEN: usize = 32;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
/// Longer stored ciphertexts are refused before decoding.
const MAX_CIPHERTEXT_CHARS: usize = ciphertext_chars(MAX_PLAINTEXT_BYTES);
const MAX_DOCUMENT_CIPHERTEXT_CHARS: usize = ciphertext_chars(MAX_DOCUMENT_BYTES);

/// Base64 characters of the stored form of `plaintext` bytes.
const fn ciphertext_chars(plaintext: usize) -> usize {
    (NONCE_BYTES + plaintext + TAG_BYTES).div_ceil(3) * 4
}

/// A value encrypted by [`PhoneKeys`], as stored: the kid of its key and
/// standard base64 of `nonce (12 bytes) || AES-256-GCM ciphertext || tag
/// (16 bytes)`. The ciphertext is not secret, but it is personal data's
/// stand-in: its `Debug` shows the kid only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedPhone {
    pub kid: String,
    pub ciphertext: String,
}

impl std::fmt::Debug for EncryptedPhone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedPhone")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// One AES-256-GCM key of the set.
#[derive(Clone)]
struct EncryptionKey {
    kid: String,
    created_at: OffsetDateTime,
    key: SecretSlice<u8>,
}

impl EncryptionKey {
    fn cipher(&self) -> Option<Aes256Gcm> {
        Aes256Gcm::new_from_slice(self.key.expose_secret()).ok()
    }
}

/// The phone-number keys: AES-256-GCM keys (newest first; the newest
/// encrypts) and the HMAC-SHA-256 lookup key.
#[derive(Clone)]
pub struct PhoneKeys {
    encryption: Vec<EncryptionKey>,
    lookup: SecretSlice<u8>,
}

/// One entry of the secret's JSON; its `key` text is wiped on drop.
#[derive(Serialize, Deserialize)]
struct KeyEntry {
    kid: String,
    key: String,
    created_at: String,
}

impl Drop for KeyEntry {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
struct PhoneKeysDocument {
    #[serde(default)]
    encryption_keys: Vec<KeyEntry>,
    #[serde(default)]
    lookup_key: Option<String>,
}

impl Drop for PhoneKeysDocument {
    fn drop(&mut self) {
        self.lookup_key.zeroize();
    }
}

impl PhoneKeys {
    /// Parses the secret's JSON (see the module documentation).
    pub fn parse(json: &str) -> Result<PhoneKeys, PhoneKeysError> {
        let document: PhoneKeysDocument =
            key_file::parse_document(json).map_err(PhoneKeysError::Json)?;
        if document.encryption_keys.is_empty() {
            return Err(PhoneKeysError::NoEncryptionKeys);
        }
        let encryption = key_file::parse_unique(
            &document.encryption_keys,
            parse_entry,
            |key| &key.kid,
            |kid| PhoneKeysError::DuplicateKid { kid },
        )?;
        let lookup = decode_key(
            document
                .lookup_key
                .as_deref()
                .ok_or(PhoneKeysError::MissingLookupKey)?,
            || KeyName::Lookup,
        )?;
        let reused = encryption
            .iter()
            .any(|key| bool::from(key.key.expose_secret().ct_eq(lookup.expose_secret())));
        if reused {
            return Err(PhoneKeysError::LookupKeyReused);
        }
        Ok(Self::from_keys(encryption, lookup))
    }

    /// Reads and parses the secret `secret_id` once (at cold start).
    pub async fn from_source(
        source: &dyn SecretSource,
        secret_id: &str,
    ) -> Result<PhoneKeys, PhoneKeysLoadError> {
        let secret = source
            .secret_string(secret_id)
            .await
            .map_err(PhoneKeysLoadError::Source)?;
        Self::parse(secret.expose_secret()).map_err(PhoneKeysLoadError::Invalid)
    }

    /// A new set: one encryption key created at `now` and a lookup key.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn generate(now: OffsetDateTime) -> PhoneKeys {
        let encryption = vec![new_encryption_key(whole_seconds_utc(now), &[])];
        let lookup = loop {
            let lookup = random_key();
            // A 1 in 2^256 event, but the invariant costs one comparison.
            if !bool::from(
                lookup
                    .expose_secret()
                    .ct_eq(encryption[0].key.expose_secret()),
            ) {
                break lookup;
            }
        };
        Self::from_keys(encryption, lookup)
    }

    /// This set plus a new encryption key that encrypts from now on. The
    /// old keys stay to decrypt what they encrypted; the lookup key stays.
    ///
    /// The new key's `created_at` is `now`, or one second after the newest
    /// key if the clock says otherwise, so that it always encrypts.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn rotate(&self, now: OffsetDateTime) -> PhoneKeys {
        let newest = self.current().created_at;
        let after_newest = newest.checked_add(Duration::SECOND).unwrap_or(newest);
        let created_at = whole_seconds_utc(now).max(after_newest);
        let key = loop {
            let key = new_encryption_key(created_at, &self.encryption);
            if !bool::from(key.key.expose_secret().ct_eq(self.lookup.expose_secret())) {
                break key;
            }
        };
        let mut encryption = vec![key];
        encryption.extend(self.encryption.iter().cloned());
        Self::from_keys(encryption, self.lookup.clone())
    }

    /// The kid of the key that encrypts new values.
    pub fn current_kid(&self) -> &str {
        &self.current().kid
    }

    /// Every encryption key's kid, newest first.
    /// Whether a value stored under `kid` can be decrypted.
    pub fn knows(&self, kid: &str) -> bool {
        self.find(kid).is_some()
    }

    pub fn kids(&self) -> Vec<&str> {
        self.encryption.iter().map(|key| key.kid.as_str()).collect()
    }

    /// The JSON document to store in the secret (keys included).
    pub fn to_secret_json(&self) -> SecretString {
        let document = PhoneKeysDocument {
            encryption_keys: self
                .encryption
                .iter()
                .map(|key| KeyEntry {
                    kid: key.kid.clone(),
                    key: STANDARD.encode(key.key.expose_secret()),
                    created_at: format_time(key.created_at),
                })
                .collect(),
            lookup_key: Some(STANDARD.encode(self.lookup.expose_secret())),
        };
        key_file::to_secret_json(&document, 256 + 192 * self.encryption.len())
    }

    /// Encrypts the E.164 form of `phone` under the current key (purpose
    /// `phone`).
    pub fn encrypt(&self, phone: &PhoneNumber) -> Result<EncryptedPhone, PhoneCryptoError> {
        self.encrypt_text(PHONE_PURPOSE, phone.as_e164())
    }

    /// The phone number `encrypt` stored.
    pub fn decrypt(&self, encrypted: &EncryptedPhone) -> Result<PhoneNumber, PhoneCryptoError> {
        let text = Zeroizing::new(self.decrypt_text(PHONE_PURPOSE, encrypted)?);
        PhoneNumber::from_e164(&text).ok_or(PhoneCryptoError::UnexpectedPlaintext("phone number"))
    }

    /// Encrypts `text` for the record of `owner` (an account id): the
    /// associated data `users-service/<purpose>/v2/<owner>` binds the value
    /// to its field and to its account, so a ciphertext copied into another
    /// account's record does not open there.
    pub fn encrypt_for(
        &self,
        owner: &str,
        purpose: &str,
        text: &str,
    ) -> Result<EncryptedPhone, PhoneCryptoError> {
        self.seal(
            &owner_bound_data(owner, purpose)?,
            text,
            MAX_PLAINTEXT_BYTES,
        )
    }

    /// The text `encrypt_for` encrypted for `owner` and `purpose`. Values
    /// stored before owners were bound (associated data `…/v1`) still
    /// open; every write seals again with the owner, so they disappear as
    /// records are updated.
    pub fn decrypt_for(
        &self,
        owner: &str,
        purpose: &str,
        encrypted: &EncryptedPhone,
    ) -> Result<String, PhoneCryptoError> {
        match self.open(
            &owner_bound_data(owner, purpose)?,
            encrypted,
            MAX_CIPHERTEXT_CHARS,
        ) {
            Err(PhoneCryptoError::Decryption) => self.decrypt_text(purpose, encrypted),
            other => other,
        }
    }

    /// Encrypts `text` under the current key with associated data
    /// `users-service/<purpose>/v1`, a fresh random nonce each time.
    /// `purpose` is 1–32 characters of `a–z 0–9 _ -` and names the field
    /// (`phone`, `contact`): a value only decrypts under the purpose it was
    /// encrypted for.
    pub fn encrypt_text(
        &self,
        purpose: &str,
        text: &str,
    ) -> Result<EncryptedPhone, PhoneCryptoError> {
        self.seal(&associated_data(purpose)?, text, MAX_PLAINTEXT_BYTES)
    }

    /// `encrypt_text` for a document of up to `MAX_DOCUMENT_BYTES` (an
    /// export result): same key, nonce and associated data rules.
    pub fn encrypt_document(
        &self,
        purpose: &str,
        text: &str,
    ) -> Result<EncryptedPhone, PhoneCryptoError> {
        self.seal(&associated_data(purpose)?, text, MAX_DOCUMENT_BYTES)
    }

    /// The document `encrypt_document` encrypted for `purpose`.
    pub fn decrypt_document(
        &self,
        purpose: &str,
        encrypted: &EncryptedPhone,
    ) -> Result<String, PhoneCryptoError> {
        self.open(
            &associated_data(purpose)?,
            encrypted,
            MAX_DOCUMENT_CIPHERTEXT_CHARS,
        )
    }

    fn seal(
        &self,
        aad: &str,
        text: &str,
        max_bytes: usize,
    ) -> Result<EncryptedPhone, PhoneCryptoError> {
        if text.len() > max_bytes {
            return Err(PhoneCryptoError::TooLong);
        }
        let key = self.current();
        let cipher = key.cipher().ok_or(PhoneCryptoError::Encryption)?;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)
            .map_err(|error| PhoneCryptoError::Randomness(error.to_string()))?;
        let sealed = cipher
            .encrypt(
                &Nonce::<Aes256Gcm>::from(nonce),
                Payload {
                    msg: text.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| PhoneCryptoError::Encryption)?;
        let mut bytes = Vec::with_capacity(NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(EncryptedPhone {
            kid: key.kid.clone(),
            ciphertext: STANDARD.encode(bytes),
        })
    }

    /// The text `encrypt_text` encrypted for `purpose`; an error for an
    /// unknown kid, another purpose, tampering or garbage.
    pub fn decrypt_text(
        &self,
        purpose: &str,
        encrypted: &EncryptedPhone,
    ) -> Result<String, PhoneCryptoError> {
        self.open(&associated_data(purpose)?, encrypted, MAX_CIPHERTEXT_CHARS)
    }

    fn open(
        &self,
        aad: &str,
        encrypted: &EncryptedPhone,
        max_chars: usize,
    ) -> Result<String, PhoneCryptoError> {
        let key = self
            .find(&encrypted.kid)
            .ok_or_else(|| PhoneCryptoError::UnknownKey {
                kid: encrypted.kid.chars().take(key_file::MAX_KID_LEN).collect(),
            })?;
        if encrypted.ciphertext.len() > max_chars {
            return Err(PhoneCryptoError::Malformed);
        }
        let bytes = STANDARD
            .decode(&encrypted.ciphertext)
            .map_err(|_| PhoneCryptoError::Malformed)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(PhoneCryptoError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| PhoneCryptoError::Malformed)?;
        let cipher = key.cipher().ok_or(PhoneCryptoError::Decryption)?;
        let plaintext = cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| PhoneCryptoError::Decryption)?;
        String::from_utf8(plaintext).map_err(|error| {
            error.into_bytes().zeroize();
            PhoneCryptoError::UnexpectedPlaintext("UTF-8 text")
        })
    }

    /// Lowercase hex HMAC-SHA-256 of the E.164 number under the lookup key:
    /// the uniqueness claim (`PHONE#<hash>`) and lookup key of a number.
    /// Every spelling of one number hashes alike, since it is normalised to
    /// E.164 by parsing first.
    pub fn lookup_hash(&self, phone: &PhoneNumber) -> String {
        // HMAC takes keys of any length, so this never fails; the fallback
        // keeps the function total without a panic path.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.lookup.expose_secret())
        else {
            return String::new();
        };
        mac.update(phone.as_e164().as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Lowercase hex HMAC-SHA-256, under the lookup key, of a one-time
    /// code with what it is for: `users-service/otp/v1`, the purpose, the
    /// E.164 number and the code, NUL-separated. A code is stored only as
    /// this: six digits are 10^6 values, which a bare SHA-256 would give
    /// away to anyone reading the table; without the key nothing can be
    /// tried. The prefix keeps these hashes apart from the lookup hashes
    /// (which hash a number alone, always starting with `+`).
    pub fn code_hash(&self, purpose: &str, phone: &PhoneNumber, code: &str) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.lookup.expose_secret())
        else {
            return String::new();
        };
        for part in ["users-service/otp/v1", purpose, phone.as_e164(), code] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    fn current(&self) -> &EncryptionKey {
        // Never empty: `parse` refuses an empty list and every other
        // constructor starts from a non-empty set.
        &self.encryption[0]
    }

    fn find(&self, kid: &str) -> Option<&EncryptionKey> {
        self.encryption.iter().find(|key| key.kid == kid)
    }

    /// Orders keys newest first (ties broken by kid, so the encrypting key
    /// is deterministic). `encryption` must not be empty.
    fn from_keys(mut encryption: Vec<EncryptionKey>, lookup: SecretSlice<u8>) -> Self {
        encryption.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.kid.cmp(&a.kid))
        });
        Self { encryption, lookup }
    }
}

/// Names the keys, never their bytes.
impl std::fmt::Debug for PhoneKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<(&str, String)> = self
            .encryption
            .iter()
            .map(|key| (key.kid.as_str(), format_time(key.created_at)))
            .collect();
        f.debug_struct("PhoneKeys")
            .field("encryption_keys", &keys)
            .field("lookup_key", &"[REDACTED]")
            .finish()
    }
}

fn parse_entry(position: usize, entry: &KeyEntry) -> Result<EncryptionKey, PhoneKeysError> {
    if !key_file::is_valid_kid(&entry.kid) {
        return Err(PhoneKeysError::BadKid { position });
    }
    let kid = entry.kid.clone();
    let created_at = key_file::created_at(&entry.created_at)
        .ok_or_else(|| PhoneKeysError::BadTimestamp { kid: kid.clone() })?;
    let key = decode_key(&entry.key, || KeyName::Encryption { kid: kid.clone() })?;
    Ok(EncryptionKey {
        kid,
        created_at,
        key,
    })
}

/// Standard base64 of exactly `KEY_BYTES` bytes.
fn decode_key(
    encoded: &str,
    name: impl Fn() -> KeyName,
) -> Result<SecretSlice<u8>, PhoneKeysError> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(encoded.trim())
            .map_err(|_| PhoneKeysError::BadBase64 { key: name() })?,
    );
    if bytes.len() != KEY_BYTES {
        return Err(PhoneKeysError::WrongKeyLength { key: name() });
    }
    Ok(SecretSlice::from(bytes.to_vec()))
}

fn associated_data(purpose: &str) -> Result<String, PhoneCryptoError> {
    let valid = (1..=MAX_PURPOSE_LEN).contains(&purpose.len())
        && purpose
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if !valid {
        return Err(PhoneCryptoError::BadPurpose);
    }
    Ok(format!("users-service/{purpose}/v1"))
}

/// `users-service/<purpose>/v2/<owner>`; owners are account ids (UUIDs),
/// checked here so that no owner text can imitate another purpose.
fn owner_bound_data(owner: &str, purpose: &str) -> Result<String, PhoneCryptoError> {
    associated_data(purpose)?;
    let valid = (1..=64).contains(&owner.len())
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(PhoneCryptoError::BadPurpose);
    }
    Ok(format!("users-service/{purpose}/v2/{owner}"))
}

/// 32 bytes from the operating system.
fn random_key() -> SecretSlice<u8> {
    let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
    getrandom::fill(bytes.as_mut_slice())
        .expect("the operating system provides randomness for key generation");
    SecretSlice::from(bytes.to_vec())
}

/// A new key created at `created_at`, with a kid none of `taken` has:
/// `<yyyy-mm-dd>-<8 random hex digits>`.
fn new_encryption_key(created_at: OffsetDateTime, taken: &[EncryptionKey]) -> EncryptionKey {
    loop {
        let mut tag = [0u8; 4];
        getrandom::fill(&mut tag)
            .expect("the operating system provides randomness for key generation");
        let kid = key_file::kid(created_at, &tag);
        if taken.iter().any(|key| key.kid == kid) {
            continue; // a 1 in 2^32 collision: draw another kid
        }
        return EncryptionKey {
            kid,
            created_at,
            key: random_key(),
        };
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
mod tests;
