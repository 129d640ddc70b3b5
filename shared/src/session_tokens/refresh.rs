//! Opaque refresh tokens. The table stores only their SHA-256, so a leaked
//! table holds no usable token; 256 random bits make guessing hopeless and
//! a slow hash unnecessary.
//!
//! Format: `rt_` + base64url without padding of
//! `user id (16 bytes) || session id (16 bytes) || 32 random bytes`
//! (89 characters). The ids let the store read the user, the session and
//! the token item in one batch; they are not secret, the random part is.

use aes_gcm::aead::{Aead, Nonce};
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub const PREFIX: &str = "rt_";
const ID_BYTES: usize = 16;
const RANDOM_BYTES: usize = 32;
const PAYLOAD_BYTES: usize = 2 * ID_BYTES + RANDOM_BYTES;
/// `PREFIX` + 64 bytes in unpadded base64 (86 characters).
pub const TOKEN_LEN: usize = PREFIX.len() + (PAYLOAD_BYTES * 4).div_ceil(3);

/// Binds the successor-sealing key to this one purpose.
const SUCCESSOR_CONTEXT: &[u8] = b"refresh-successor-v1";
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
/// Longer sealed values are refused before decoding: a sealed token is
/// 156 characters.
const MAX_SEALED_LEN: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RefreshTokenError {
    #[error("the refresh token is malformed")]
    Malformed,
    #[error("no randomness available: {0}")]
    Randomness(String),
    #[error("sealing the successor token failed")]
    Sealing,
}

/// A refresh token in its one valid textual form.
#[derive(Clone)]
pub struct RefreshToken {
    raw: SecretString,
    user_id: Uuid,
    session_id: Uuid,
}

impl RefreshToken {
    /// `rt_` + base64url-no-pad(user_id 16 bytes || session_id 16 bytes ||
    /// 32 random bytes from getrandom): 256 random bits; the ids let the
    /// store read the user, session and token in one batch.
    pub fn generate(user_id: Uuid, session_id: Uuid) -> Result<Self, RefreshTokenError> {
        let mut payload = Zeroizing::new([0u8; PAYLOAD_BYTES]);
        payload[..ID_BYTES].copy_from_slice(user_id.as_bytes());
        payload[ID_BYTES..2 * ID_BYTES].copy_from_slice(session_id.as_bytes());
        fill_random(&mut payload[2 * ID_BYTES..])?;
        let mut raw = String::with_capacity(TOKEN_LEN);
        raw.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(payload.as_slice(), &mut raw);
        Ok(Self {
            raw: SecretString::from(raw),
            user_id,
            session_id,
        })
    }

    /// Accepts exactly the format `generate` produces (canonical base64,
    /// right length), anything else is `Malformed`.
    pub fn parse(raw: &str) -> Result<Self, RefreshTokenError> {
        if raw.len() != TOKEN_LEN {
            return Err(RefreshTokenError::Malformed);
        }
        let encoded = raw
            .strip_prefix(PREFIX)
            .ok_or(RefreshTokenError::Malformed)?;
        let mut payload = Zeroizing::new([0u8; PAYLOAD_BYTES]);
        // The engine refuses padding and non-zero trailing bits, so each
        // token has one spelling and therefore one hash.
        let decoded = URL_SAFE_NO_PAD
            .decode_slice(encoded, payload.as_mut_slice())
            .map_err(|_| RefreshTokenError::Malformed)?;
        if decoded != PAYLOAD_BYTES {
            return Err(RefreshTokenError::Malformed);
        }
        let user_id =
            Uuid::from_slice(&payload[..ID_BYTES]).map_err(|_| RefreshTokenError::Malformed)?;
        let session_id = Uuid::from_slice(&payload[ID_BYTES..2 * ID_BYTES])
            .map_err(|_| RefreshTokenError::Malformed)?;
        Ok(Self {
            raw: SecretString::from(raw),
            user_id,
            session_id,
        })
    }

    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    pub fn session_id(&self) -> Uuid {
        self.session_id
    }

    /// Lowercase hex SHA-256 of the token string: what the table stores.
    pub fn hash(&self) -> String {
        crate::crypto::digest::sha256_hex(self.expose().as_bytes())
    }

    /// The token text, for the response body only.
    pub fn expose(&self) -> &str {
        self.raw.expose_secret()
    }
}

impl PartialEq for RefreshToken {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.expose().as_bytes(), other.expose().as_bytes())
    }
}

impl Eq for RefreshToken {}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

/// The successor of a rotated token, sealed so that only a holder of the
/// old token can open it: AES-256-GCM under key = HMAC-SHA-256(key = old
/// token bytes, msg = "refresh-successor-v1"), random 96-bit nonce, output
/// standard base64 of nonce || ciphertext. (This lets a retry inside the
/// grace window get the same new token while the table holds no usable
/// token.)
pub fn seal_successor(
    old: &RefreshToken,
    successor: &RefreshToken,
) -> Result<String, RefreshTokenError> {
    let cipher = successor_cipher(old).ok_or(RefreshTokenError::Sealing)?;
    let mut nonce = [0u8; NONCE_BYTES];
    fill_random(&mut nonce)?;
    let ciphertext = cipher
        .encrypt(
            &Nonce::<Aes256Gcm>::from(nonce),
            successor.expose().as_bytes(),
        )
        .map_err(|_| RefreshTokenError::Sealing)?;
    let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(STANDARD.encode(sealed))
}

/// The successor `seal_successor` sealed for `old`; `None` for any other
/// token, tampering or garbage.
pub fn open_successor(old: &RefreshToken, sealed: &str) -> Option<RefreshToken> {
    if sealed.len() > MAX_SEALED_LEN {
        return None;
    }
    let bytes = STANDARD.decode(sealed).ok()?;
    if bytes.len() < NONCE_BYTES + TAG_BYTES {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let nonce = Nonce::<Aes256Gcm>::try_from(nonce).ok()?;
    let plaintext = Zeroizing::new(successor_cipher(old)?.decrypt(&nonce, ciphertext).ok()?);
    RefreshToken::parse(std::str::from_utf8(&plaintext).ok()?).ok()
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn successor_cipher(old: &RefreshToken) -> Option<Aes256Gcm> {
    // HMAC takes keys of any length, so this never fails in practice.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(old.expose().as_bytes()).ok()?;
    mac.update(SUCCESSOR_CONTEXT);
    let key: Zeroizing<[u8; 32]> = Zeroizing::new(mac.finalize().into_bytes().into());
    Aes256Gcm::new_from_slice(key.as_slice()).ok()
}

fn fill_random(buffer: &mut [u8]) -> Result<(), RefreshTokenError> {
    getrandom::fill(buffer).map_err(|error| RefreshTokenError::Randomness(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rt_` + base64url of the bytes 0, 1, …, 63.
    const KNOWN: &str =
        "rt_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw";

    fn ids() -> (Uuid, Uuid) {
        (Uuid::new_v4(), Uuid::new_v4())
    }

    #[test]
    fn generated_tokens_carry_their_ids_and_parse_back() {
        let (user, session) = ids();
        let token = RefreshToken::generate(user, session).unwrap();
        let text = token.expose();
        assert_eq!(text.len(), TOKEN_LEN);
        assert_eq!(TOKEN_LEN, 89);
        assert!(text.starts_with("rt_"));
        assert!(text[3..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!((token.user_id(), token.session_id()), (user, session));

        let parsed = RefreshToken::parse(text).unwrap();
        assert_eq!((parsed.user_id(), parsed.session_id()), (user, session));
        assert_eq!(parsed, token);
        assert_eq!(parsed.hash(), token.hash());

        let other = RefreshToken::generate(user, session).unwrap();
        assert_ne!(other, token, "the random part differs");
        assert_ne!(other.hash(), token.hash());
    }

    #[test]
    fn known_token_parses_and_hashes_to_its_sha256() {
        let token = RefreshToken::parse(KNOWN).unwrap();
        assert_eq!(
            token.user_id().to_string(),
            "00010203-0405-0607-0809-0a0b0c0d0e0f"
        );
        assert_eq!(
            token.session_id().to_string(),
            "10111213-1415-1617-1819-1a1b1c1d1e1f"
        );
        assert_eq!(
            token.hash(),
            "553ee332867e356bd777d9cf7f074131ad6b7541d5a41101bf5a8d681fa6d09f"
        );
    }

    #[test]
    fn anything_but_the_exact_format_is_malformed() {
        let body = &KNOWN[3..];
        let cases = [
            String::new(),
            "rt_".into(),
            format!("xx_{body}"),
            format!("RT_{body}"),
            body.to_owned(),
            KNOWN[..88].to_owned(),
            format!("{KNOWN}A"),
            format!("{KNOWN}="),
            format!("rt_{}", &body[..84]) + "==",
            format!("rt_{}+/", &body[..84]),
            format!("rt_{} ", &body[..85]),
            format!("rt_{}é", &body[..84]),
            // Same bytes, non-zero trailing bits: a second spelling.
            format!("rt_{}Pz", &body[..84]),
            "rt_".to_owned() + &"!".repeat(86),
        ];
        for bad in cases {
            assert_eq!(
                RefreshToken::parse(&bad),
                Err(RefreshTokenError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = RefreshToken::parse(KNOWN).unwrap();
        let shown = format!("{token:?}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
        assert!(!shown.contains(&KNOWN[3..20]), "{shown}");
    }

    #[test]
    fn a_sealed_successor_opens_only_with_the_old_token() {
        let (user, session) = ids();
        let old = RefreshToken::generate(user, session).unwrap();
        let successor = RefreshToken::generate(user, session).unwrap();
        let sealed = seal_successor(&old, &successor).unwrap();

        let raw = STANDARD.decode(&sealed).unwrap();
        assert_eq!(raw.len(), NONCE_BYTES + TOKEN_LEN + TAG_BYTES);
        assert!(!sealed.contains(&successor.expose()[3..]));
        assert_eq!(open_successor(&old, &sealed), Some(successor.clone()));

        let again = seal_successor(&old, &successor).unwrap();
        assert_ne!(again, sealed, "fresh nonce each time");
        assert_eq!(open_successor(&old, &again), Some(successor.clone()));

        let stranger = RefreshToken::generate(user, session).unwrap();
        assert_eq!(open_successor(&stranger, &sealed), None);
        assert_eq!(open_successor(&successor, &sealed), None);
    }

    #[test]
    fn tampered_or_garbage_sealed_values_do_not_open() {
        let old = RefreshToken::parse(KNOWN).unwrap();
        let successor = RefreshToken::generate(Uuid::nil(), Uuid::nil()).unwrap();
        let sealed = seal_successor(&old, &successor).unwrap();
        let mut raw = STANDARD.decode(&sealed).unwrap();
        for position in [0, NONCE_BYTES, raw.len() - 1] {
            raw[position] ^= 0x80;
            assert_eq!(
                open_successor(&old, &STANDARD.encode(&raw)),
                None,
                "{position}"
            );
            raw[position] ^= 0x80;
        }
        assert_eq!(
            open_successor(&old, &STANDARD.encode(&raw)),
            Some(successor)
        );
        for garbage in ["", "AAAA", "not base64!", &"A".repeat(MAX_SEALED_LEN + 4)] {
            assert_eq!(open_successor(&old, garbage), None, "{garbage:.20}");
        }
        // Authentic ciphertext of something that is not a refresh token.
        let cipher = successor_cipher(&old).unwrap();
        let nonce = [1u8; NONCE_BYTES];
        let ciphertext = cipher
            .encrypt(&Nonce::<Aes256Gcm>::from(nonce), b"hello".as_slice())
            .unwrap();
        let sealed = STANDARD.encode([nonce.as_slice(), &ciphertext].concat());
        assert_eq!(open_successor(&old, &sealed), None);
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
