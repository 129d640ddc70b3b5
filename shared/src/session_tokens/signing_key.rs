//! One signing key of either kind the service issues tokens with: ES256
//! (ECDSA on P-256, what API Gateway's JWT authorizers, AWS load balancers
//! and nearly every JWT library verify) or EdDSA (Ed25519). Each key knows
//! its algorithm, so a token verifies by its `kid` alone and a set may hold
//! both kinds during a migration.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::SecretSlice;
use time::OffsetDateTime;

/// The JOSE algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4): the default.
    Es256,
    /// Ed25519 (RFC 8037).
    EdDsa,
}

impl KeyAlgorithm {
    /// Every algorithm a key set may hold.
    pub const ALL: [KeyAlgorithm; 2] = [KeyAlgorithm::Es256, KeyAlgorithm::EdDsa];

    /// The `alg` name in JOSE headers, JWKs and the secret.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The algorithm of a JOSE `alg` name (exact, as RFC 7515 compares).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    pub(crate) fn jose(self) -> Algorithm {
        match self {
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The public half of a key, as a JWK publishes it.
#[derive(Clone, PartialEq, Eq)]
enum PublicKey {
    /// The 32-byte Ed25519 key (`x`).
    Ed25519([u8; 32]),
    /// The P-256 point's coordinates (`x`, `y`).
    P256 { x: [u8; 32], y: [u8; 32] },
}

/// One key: its private half for signing, its public half for verifying and
/// for the JWKS document, and the times that place it in the rotation.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) kid: String,
    pub(crate) alg: KeyAlgorithm,
    /// Published (in the JWKS) from this time on.
    pub(crate) created_at: OffsetDateTime,
    /// Signs from this time on, until a later key activates or it is
    /// retired.
    pub(crate) activates_at: OffsetDateTime,
    /// Stops signing at this time whatever else the set holds.
    pub(crate) retired_at: Option<OffsetDateTime>,
    pub(crate) pkcs8_der: SecretSlice<u8>,
    encoding: EncodingKey,
    public: PublicKey,
    decoding: DecodingKey,
}

impl SigningKey {
    /// The key of a PKCS#8 document (v1 or v2) of `alg`'s kind, active from
    /// its creation; `None` when the document is not such a key.
    pub(crate) fn from_pkcs8_der(
        kid: String,
        alg: KeyAlgorithm,
        created_at: OffsetDateTime,
        pkcs8_der: &[u8],
    ) -> Option<Self> {
        // aws-lc-rs parses here what jsonwebtoken's signer parses on every
        // signature, so a key accepted here is one it can sign with.
        let (public, encoding) = match alg {
            KeyAlgorithm::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8_der).ok()?;
                let key: [u8; 32] = pair.public_key().as_ref().try_into().ok()?;
                (PublicKey::Ed25519(key), EncodingKey::from_ed_der(pkcs8_der))
            }
            KeyAlgorithm::Es256 => {
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8_der).ok()?;
                // The uncompressed SEC 1 point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                if point.len() != 65 || point[0] != 0x04 {
                    return None;
                }
                let x: [u8; 32] = point[1..33].try_into().ok()?;
                let y: [u8; 32] = point[33..].try_into().ok()?;
                (
                    PublicKey::P256 { x, y },
                    EncodingKey::from_ec_der(pkcs8_der),
                )
            }
        };
        let decoding = match &public {
            // jsonwebtoken's verifiers take the raw public key: the 32
            // Ed25519 bytes, or the uncompressed P-256 point.
            PublicKey::Ed25519(key) => DecodingKey::from_ed_der(key),
            PublicKey::P256 { x, y } => {
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                DecodingKey::from_ec_der(&point)
            }
        };
        Some(Self {
            kid,
            alg,
            created_at,
            activates_at: created_at,
            retired_at: None,
            pkcs8_der: SecretSlice::from(pkcs8_der.to_vec()),
            encoding,
            public,
            decoding,
        })
    }

    /// A new key of `alg`'s kind from the operating system's generator.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub(crate) fn generate(kid: String, alg: KeyAlgorithm, created_at: OffsetDateTime) -> Self {
        let random = SystemRandom::new();
        let document = match alg {
            KeyAlgorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&random)
                .expect("the operating system provides randomness for key generation")
                .as_ref()
                .to_vec(),
            KeyAlgorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
                    .expect("the operating system provides randomness for key generation")
                    .as_ref()
                    .to_vec()
            }
        };
        let document = secrecy::zeroize::Zeroizing::new(document);
        Self::from_pkcs8_der(kid, alg, created_at, &document)
            .expect("a freshly generated PKCS#8 document parses")
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// Published from this time on.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// Signs from this time on (unless retired or superseded).
    pub fn activates_at(&self) -> OffsetDateTime {
        self.activates_at
    }

    /// Retired explicitly at this time, if it was.
    pub fn retired_at(&self) -> Option<OffsetDateTime> {
        self.retired_at
    }

    /// The public key's bytes: the Ed25519 key, or the P-256 `x || y`.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match &self.public {
            PublicKey::Ed25519(key) => key.to_vec(),
            PublicKey::P256 { x, y } => [x.as_slice(), y.as_slice()].concat(),
        }
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The public JWK (RFC 7517, with RFC 7518 / RFC 8037 parameters).
    pub(crate) fn jwk(&self) -> serde_json::Value {
        let mut jwk = match &self.public {
            PublicKey::Ed25519(key) => serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(key),
            }),
            PublicKey::P256 { x, y } => serde_json::json!({
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(x),
                "y": URL_SAFE_NO_PAD.encode(y),
            }),
        };
        jwk["kid"] = self.kid.clone().into();
        jwk["alg"] = self.alg.name().into();
        jwk["use"] = "sig".into();
        jwk
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("activates_at", &self.activates_at)
            .field("retired_at", &self.retired_at)
            .field(
                "public_key",
                &URL_SAFE_NO_PAD.encode(self.public_key_bytes()),
            )
            .finish_non_exhaustive()
    }
}
