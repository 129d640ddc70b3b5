//! Access tokens: short-lived JWTs signed with the key set's active key
//! (header `alg: ES256` or `EdDSA`, `typ: JWT`, `kid`).
//!
//! Verification trusts nothing before the signature: the header is decoded
//! by hand first, the `kid` picks the key, and the header's `alg` must be
//! that key's own algorithm (no `none`, no HMAC with a public key as the
//! secret, no RSA, no switching between ES256 and EdDSA); time is checked
//! against the caller's `now`, not the system clock.

use std::collections::HashSet;
use std::sync::LazyLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::config::ConfigError;
use crate::session_tokens::keyset::KeySet;
use crate::session_tokens::signing_key::KeyAlgorithm;

/// Longer tokens are refused before any parsing: ours are under 1 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

pub const DEFAULT_ISSUER: &str = "users-service";
pub const DEFAULT_AUDIENCE: &str = "users-service-clients";
pub const DEFAULT_ACCESS_TTL_SECONDS: u32 = 900;
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;
/// A day: longer-lived access tokens would defeat refresh-token rotation.
const MAX_ACCESS_TTL_SECONDS: u32 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The session id (the refresh-token family).
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

#[derive(Debug, Clone)]
pub struct SessionTokenSettings {
    /// The `iss` of issued tokens: the deployment's public base URL (what
    /// the discovery document names), or `DEFAULT_ISSUER` without one.
    pub issuer: String,
    /// Issuers of earlier configurations still accepted, so tokens issued
    /// before a change of issuer verify until they expire.
    pub previous_issuers: Vec<String>,
    pub audience: String,
    pub access_ttl: Duration,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_seconds: u64,
}

impl Default for SessionTokenSettings {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.to_owned(),
            previous_issuers: Vec::new(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            access_ttl: Duration::seconds(DEFAULT_ACCESS_TTL_SECONDS.into()),
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
        }
    }
}

impl SessionTokenSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads `JWT_ISSUER` (else `PUBLIC_BASE_URL`, else `DEFAULT_ISSUER`),
    /// `JWT_PREVIOUS_ISSUERS` (comma-separated; by default `DEFAULT_ISSUER`
    /// when the issuer is another, the issuer of earlier versions),
    /// `JWT_AUDIENCE` and `ACCESS_TOKEN_TTL_SECONDS` (1–86400); `lookup`
    /// returns a variable's value, tests pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let ttl_seconds = match get("ACCESS_TOKEN_TTL_SECONDS") {
            None => DEFAULT_ACCESS_TTL_SECONDS,
            Some(value) => value
                .parse::<u32>()
                .ok()
                .filter(|seconds| (1..=MAX_ACCESS_TTL_SECONDS).contains(seconds))
                .ok_or_else(|| ConfigError {
                    variable: "ACCESS_TOKEN_TTL_SECONDS",
                    problem: format!(
                        "expected a whole number of seconds from 1 to {MAX_ACCESS_TTL_SECONDS}, got {value:?}"
                    ),
                })?,
        };
        let issuer = get("JWT_ISSUER")
            .or_else(|| get("PUBLIC_BASE_URL").map(|url| url.trim_end_matches('/').to_owned()))
            .unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let previous_issuers = match get("JWT_PREVIOUS_ISSUERS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect(),
            None if issuer != DEFAULT_ISSUER => vec![DEFAULT_ISSUER.to_owned()],
            None => Vec::new(),
        };
        Ok(Self {
            issuer,
            previous_issuers,
            audience: get("JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
            access_ttl: Duration::seconds(ttl_seconds.into()),
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
        })
    }
}

/// A signed token with the claims it carries.
#[derive(Debug)]
pub struct IssuedAccessToken {
    pub token: SecretString,
    pub claims: AccessClaims,
    /// Seconds from issue to expiry (the response's `expires_in`).
    pub expires_in: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token names no key of this service")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by someone else")]
    WrongIssuer,
    #[error("the token is meant for someone else")]
    WrongAudience,
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    #[error("signing the token failed: {0}")]
    Signing(String),
    #[error("no key of the set signs at this time")]
    NoSigner,
}

impl TokenError {
    /// An expired token is the one failure a client fixes by refreshing.
    pub fn is_expired(&self) -> bool {
        matches!(self, Self::Expired)
    }
}

/// Signs an access token for `user_id`'s session `session_id`, valid from
/// `now` for `settings.access_ttl`.
pub fn issue(
    keys: &KeySet,
    settings: &SessionTokenSettings,
    user_id: &str,
    session_id: &str,
    now: OffsetDateTime,
) -> Result<IssuedAccessToken, TokenError> {
    let expires_in = settings.access_ttl.whole_seconds();
    if expires_in <= 0 {
        return Err(TokenError::Signing(
            "the access token lifetime must be positive".to_owned(),
        ));
    }
    let issued_at = now.unix_timestamp();
    let expires_at = issued_at
        .checked_add(expires_in)
        .ok_or_else(|| TokenError::Signing("the expiry time overflows".to_owned()))?;
    let claims = AccessClaims {
        sub: user_id.to_owned(),
        sid: session_id.to_owned(),
        iat: issued_at,
        nbf: issued_at,
        exp: expires_at,
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        jti: random_uuid()?.to_string(),
    };
    let signer = keys.signer_at(now).ok_or(TokenError::NoSigner)?;
    let mut header = Header::new(signer.algorithm().jose());
    header.kid = Some(signer.kid().to_owned());
    let token = jsonwebtoken::encode(&header, &claims, signer.encoding_key())
        .map_err(|error| TokenError::Signing(error.to_string()))?;
    Ok(IssuedAccessToken {
        token: SecretString::from(token),
        claims,
        expires_in,
    })
}

/// The claims of `token` if one of `keys` signed it for this issuer and
/// audience and it is valid at `now` (within the leeway).
pub fn verify(
    keys: &KeySet,
    settings: &SessionTokenSettings,
    token: &str,
    now: OffsetDateTime,
) -> Result<AccessClaims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let header = read_header(token)?;
    let alg = KeyAlgorithm::from_name(&header.alg).ok_or(TokenError::AlgorithmNotAllowed)?;
    // No extension is understood, so any critical one must be refused
    // (RFC 7515 §4.1.11); only JWTs are access tokens.
    if header.crit.is_some() || header.typ.as_deref().is_some_and(|typ| typ != "JWT") {
        return Err(TokenError::Malformed);
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.find(kid))
        .ok_or(TokenError::UnknownKey)?;
    // A key verifies only with its own algorithm.
    if key.algorithm() != alg {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    let validation = match alg {
        KeyAlgorithm::Es256 => &*ES256_SIGNATURE_ONLY,
        KeyAlgorithm::EdDsa => &*EDDSA_SIGNATURE_ONLY,
    };
    let claims = jsonwebtoken::decode::<AccessClaims>(token, key.decoding_key(), validation)
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                TokenError::AlgorithmNotAllowed
            }
            _ => TokenError::Malformed,
        })?
        .claims;
    check_claims(&claims, settings, now)?;
    Ok(claims)
}

/// The JOSE header fields verification looks at. Duplicate fields are a
/// serde error, so no two parsers can read different values.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde_json::Value>,
}

fn read_header(token: &str) -> Result<JoseHeader, TokenError> {
    let mut segments = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(TokenError::Malformed);
    };
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
}

/// jsonwebtoken checks the signature only (of the key's one algorithm);
/// every claim is checked by `check_claims` against the caller's clock.
fn signature_only(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    validation
}

static ES256_SIGNATURE_ONLY: LazyLock<Validation> =
    LazyLock::new(|| signature_only(Algorithm::ES256));
static EDDSA_SIGNATURE_ONLY: LazyLock<Validation> =
    LazyLock::new(|| signature_only(Algorithm::EdDSA));

fn check_claims(
    claims: &AccessClaims,
    settings: &SessionTokenSettings,
    now: OffsetDateTime,
) -> Result<(), TokenError> {
    if claims.sub.is_empty() || claims.sid.is_empty() || claims.jti.is_empty() {
        return Err(TokenError::Malformed);
    }
    if claims.iss != settings.issuer && !settings.previous_issuers.contains(&claims.iss) {
        return Err(TokenError::WrongIssuer);
    }
    if claims.aud != settings.audience {
        return Err(TokenError::WrongAudience);
    }
    let now = now.unix_timestamp();
    let leeway = i64::try_from(settings.leeway_seconds).unwrap_or(i64::MAX);
    // RFC 7519: valid while now < exp, and from nbf on.
    if now >= claims.exp.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    if now.saturating_add(leeway) < claims.nbf || now.saturating_add(leeway) < claims.iat {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// A v4 UUID from the OS generator, without the panic `Uuid::new_v4` has
/// when randomness is unavailable.
fn random_uuid() -> Result<uuid::Uuid, TokenError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| TokenError::Signing(format!("no randomness for jti: {error}")))?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};
    use secrecy::ExposeSecret;
    use serde_json::json;
    use sha2::Sha256;
    use std::collections::HashMap;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);

    fn settings() -> SessionTokenSettings {
        SessionTokenSettings::default()
    }

    fn keys() -> KeySet {
        KeySet::generate_with(KeyAlgorithm::EdDsa, T0 - Duration::days(1))
    }

    fn issue_at(keys: &KeySet, now: OffsetDateTime) -> String {
        let issued = issue(keys, &settings(), "user-1", "session-1", now).unwrap();
        issued.token.expose_secret().to_owned()
    }

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn segments(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    fn payload_json(token: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(token)[1]).unwrap()).unwrap()
    }

    /// A token properly signed by the set's signer, with any header fields
    /// and claims.
    fn signed(keys: &KeySet, header: serde_json::Value, claims: serde_json::Value) -> String {
        let message = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            keys.latest().encoding_key(),
            keys.latest().algorithm().jose(),
        )
        .unwrap();
        format!("{message}.{signature}")
    }

    fn good_claims() -> serde_json::Value {
        json!({"sub": "u", "sid": "s", "iat": T0.unix_timestamp(), "nbf": T0.unix_timestamp(),
               "exp": T0.unix_timestamp() + 900, "iss": DEFAULT_ISSUER,
               "aud": DEFAULT_AUDIENCE, "jti": "j"})
    }

    #[test]
    fn issued_tokens_verify_with_exact_claims_and_header() {
        let keys = keys();
        let issued = issue(&keys, &settings(), "user-1", "session-1", T0).unwrap();
        assert_eq!(issued.expires_in, 900);
        let claims = &issued.claims;
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str()),
            ("user-1", "session-1")
        );
        assert_eq!(
            (claims.iat, claims.nbf),
            (T0.unix_timestamp(), T0.unix_timestamp())
        );
        assert_eq!(claims.exp, T0.unix_timestamp() + 900);
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (DEFAULT_ISSUER, DEFAULT_AUDIENCE)
        );
        let jti = uuid::Uuid::parse_str(&claims.jti).unwrap();
        assert_eq!(jti.get_version_num(), 4);

        let token = issued.token.expose_secret();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(token)[0]).unwrap()).unwrap();
        assert_eq!(
            header,
            json!({"alg": "EdDSA", "typ": "JWT", "kid": keys.latest().kid()})
        );
        assert_eq!(
            verify(&keys, &settings(), token, T0).unwrap(),
            issued.claims
        );

        let again = issue(&keys, &settings(), "user-1", "session-1", T0).unwrap();
        assert_ne!(again.claims.jti, issued.claims.jti);
        assert!(
            !format!("{issued:?}").contains(token),
            "Debug redacts the token"
        );
    }

    #[test]
    fn expiry_and_not_before_are_checked_against_now_with_leeway() {
        let keys = keys();
        let token = issue_at(&keys, T0);
        let at = |offset: i64| verify(&keys, &settings(), &token, T0 + Duration::seconds(offset));
        assert!(at(900 + 29).is_ok(), "inside the leeway");
        assert_eq!(at(900 + 30), Err(TokenError::Expired));
        assert!(at(900 + 30).unwrap_err().is_expired());
        assert!(at(-30).is_ok(), "clock skew inside the leeway");
        assert_eq!(at(-31), Err(TokenError::NotYetValid));
        assert!(!TokenError::NotYetValid.is_expired());

        let strict = SessionTokenSettings {
            leeway_seconds: 0,
            ..settings()
        };
        let at_strict =
            |offset: i64| verify(&keys, &strict, &token, T0 + Duration::seconds(offset));
        assert!(at_strict(899).is_ok());
        assert_eq!(at_strict(900), Err(TokenError::Expired));
        assert_eq!(at_strict(-1), Err(TokenError::NotYetValid));
    }

    #[test]
    fn issuer_and_audience_must_match() {
        let keys = keys();
        let token = issue_at(&keys, T0);
        let other_issuer = SessionTokenSettings {
            issuer: "other".into(),
            ..settings()
        };
        let other_audience = SessionTokenSettings {
            audience: "other".into(),
            ..settings()
        };
        assert_eq!(
            verify(&keys, &other_issuer, &token, T0),
            Err(TokenError::WrongIssuer)
        );
        assert_eq!(
            verify(&keys, &other_audience, &token, T0),
            Err(TokenError::WrongAudience)
        );
    }

    #[test]
    fn only_the_keys_own_algorithm_is_allowed() {
        let keys = keys();
        let kid = keys.latest().kid();
        let payload = b64(good_claims().to_string());

        let none = format!(
            "{}.{payload}.",
            b64(json!({"alg": "none", "kid": kid}).to_string())
        );
        assert_eq!(
            verify(&keys, &settings(), &none, T0),
            Err(TokenError::AlgorithmNotAllowed)
        );

        // HS256 with the public key as the HMAC secret, both raw and as the
        // JWK's `x` text: the classic algorithm-confusion forgery.
        let public = keys.latest().public_key_bytes();
        for secret in [public.clone(), b64(&public).into_bytes()] {
            let message = format!(
                "{}.{payload}",
                b64(json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string())
            );
            let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
            mac.update(message.as_bytes());
            let forged = format!("{message}.{}", b64(mac.finalize().into_bytes()));
            assert_eq!(
                verify(&keys, &settings(), &forged, T0),
                Err(TokenError::AlgorithmNotAllowed)
            );
        }

        for alg in ["RS256", "ES256", "PS256", "HS512", "eddsa", "EdDSA "] {
            let header = b64(json!({"alg": alg, "kid": kid}).to_string());
            let token = format!("{header}.{payload}.{}", b64([7u8; 64]));
            assert_eq!(
                verify(&keys, &settings(), &token, T0),
                Err(TokenError::AlgorithmNotAllowed),
                "{alg}"
            );
        }
    }

    #[test]
    fn the_kid_must_name_a_key_of_the_set() {
        let keys = keys();
        let claims = good_claims();
        let missing = signed(&keys, json!({"alg": "EdDSA", "typ": "JWT"}), claims.clone());
        let unknown = signed(
            &keys,
            json!({"alg": "EdDSA", "kid": "nope"}),
            claims.clone(),
        );
        let not_a_string = signed(&keys, json!({"alg": "EdDSA", "kid": 5}), claims);
        assert_eq!(
            verify(&keys, &settings(), &missing, T0),
            Err(TokenError::UnknownKey)
        );
        assert_eq!(
            verify(&keys, &settings(), &unknown, T0),
            Err(TokenError::UnknownKey)
        );
        assert_eq!(
            verify(&keys, &settings(), &not_a_string, T0),
            Err(TokenError::Malformed)
        );

        // A token from another key set with a colliding kid fails on its
        // signature.
        let stranger = KeySet::generate(T0);
        let mut header = json!({"alg": "EdDSA", "kid": keys.latest().kid()});
        let forged = signed(&stranger, header.take(), good_claims());
        assert_eq!(
            verify(&keys, &settings(), &forged, T0),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let keys = keys();
        let token = issue_at(&keys, T0);
        let parts = segments(&token);

        let mut claims = payload_json(&token);
        claims["sub"] = json!("admin");
        let tampered_payload = format!("{}.{}.{}", parts[0], b64(claims.to_string()), parts[2]);
        assert_eq!(
            verify(&keys, &settings(), &tampered_payload, T0),
            Err(TokenError::BadSignature)
        );

        let mut signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
        signature[10] ^= 0x01;
        let tampered_signature = format!("{}.{}.{}", parts[0], parts[1], b64(&signature));
        assert_eq!(
            verify(&keys, &settings(), &tampered_signature, T0),
            Err(TokenError::BadSignature)
        );

        let truncated = format!("{}.{}.{}", parts[0], parts[1], b64(&signature[..32]));
        assert_eq!(
            verify(&keys, &settings(), &truncated, T0),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        let keys = keys();
        let token = issue_at(&keys, T0);
        let parts = segments(&token);
        let oversized = format!("{token}{}", "A".repeat(MAX_TOKEN_BYTES));
        let cases = [
            String::new(),
            ".".into(),
            "..".into(),
            "...".into(),
            "a.b.c".into(),
            "not a token".into(),
            "\u{0}\u{ffff}.é.😀".into(),
            format!("{}.{}", parts[0], parts[1]),
            format!("{token}.extra"),
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}", b64("[]"), parts[1], parts[2]),
            format!(
                "{}.{}.{}",
                b64("{\"alg\":\"EdDSA\",\"alg\":\"none\"}"),
                parts[1],
                parts[2]
            ),
            oversized,
        ];
        for bad in cases {
            assert_eq!(
                verify(&keys, &settings(), &bad, T0),
                Err(TokenError::Malformed),
                "{bad:.80}"
            );
        }
    }

    #[test]
    fn every_claim_is_required_and_typed() {
        let keys = keys();
        let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": keys.latest().kid()});
        for claim in ["sub", "sid", "iat", "nbf", "exp", "iss", "aud", "jti"] {
            let mut claims = good_claims();
            claims.as_object_mut().unwrap().remove(claim);
            let token = signed(&keys, header.clone(), claims);
            assert_eq!(
                verify(&keys, &settings(), &token, T0),
                Err(TokenError::Malformed),
                "{claim}"
            );
        }
        let mut wrong_types = good_claims();
        wrong_types["exp"] = json!("tomorrow");
        let mut array_audience = good_claims();
        array_audience["aud"] = json!([DEFAULT_AUDIENCE]);
        let mut empty_subject = good_claims();
        empty_subject["sub"] = json!("");
        for claims in [wrong_types, array_audience, empty_subject] {
            let token = signed(&keys, header.clone(), claims.clone());
            assert_eq!(
                verify(&keys, &settings(), &token, T0),
                Err(TokenError::Malformed),
                "{claims}"
            );
        }
        assert!(verify(
            &keys,
            &settings(),
            &signed(&keys, header, good_claims()),
            T0
        )
        .is_ok());
    }

    #[test]
    fn critical_extensions_and_other_types_are_refused() {
        let keys = keys();
        let kid = keys.latest().kid();
        let crit = signed(
            &keys,
            json!({"alg": "EdDSA", "kid": kid, "crit": ["exp"]}),
            good_claims(),
        );
        let typ = signed(
            &keys,
            json!({"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}),
            good_claims(),
        );
        let untyped = signed(&keys, json!({"alg": "EdDSA", "kid": kid}), good_claims());
        assert_eq!(
            verify(&keys, &settings(), &crit, T0),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify(&keys, &settings(), &typ, T0),
            Err(TokenError::Malformed)
        );
        assert!(verify(&keys, &settings(), &untyped, T0).is_ok());
    }

    #[test]
    fn tokens_of_older_keys_verify_after_rotation() {
        let before = keys();
        let old_token = issue_at(&before, T0);
        let after = before.rotate(T0);
        let new_token = issue_at(&after, T0);
        assert_ne!(segments(&old_token)[0], segments(&new_token)[0], "new kid");
        assert!(verify(&after, &settings(), &old_token, T0).is_ok());
        assert!(verify(&after, &settings(), &new_token, T0).is_ok());
        assert_eq!(
            verify(&before, &settings(), &new_token, T0),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn settings_from_lookup() {
        let read = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            SessionTokenSettings::from_lookup(|name| map.get(name).cloned())
        };
        let defaults = read(&[]).unwrap();
        assert_eq!(defaults.issuer, "users-service");
        assert_eq!(defaults.audience, "users-service-clients");
        assert_eq!(defaults.access_ttl, Duration::minutes(15));
        assert_eq!(defaults.leeway_seconds, 30);

        let custom = read(&[
            ("JWT_ISSUER", "https://auth.example.com"),
            ("JWT_AUDIENCE", " app "),
            ("ACCESS_TOKEN_TTL_SECONDS", "300"),
        ])
        .unwrap();
        assert_eq!(
            (
                custom.issuer.as_str(),
                custom.audience.as_str(),
                custom.access_ttl
            ),
            ("https://auth.example.com", "app", Duration::minutes(5))
        );
        for bad in ["0", "-5", "ten", "86401", "1.5"] {
            let error = read(&[("ACCESS_TOKEN_TTL_SECONDS", bad)]).unwrap_err();
            assert_eq!(error.variable, "ACCESS_TOKEN_TTL_SECONDS", "{bad}");
        }
    }

    #[test]
    fn a_non_positive_lifetime_cannot_be_issued() {
        let zero = SessionTokenSettings {
            access_ttl: Duration::ZERO,
            ..settings()
        };
        assert!(matches!(
            issue(&keys(), &zero, "u", "s", T0),
            Err(TokenError::Signing(_))
        ));
    }

    #[test]
    fn es256_tokens_verify_by_kid_beside_eddsa_ones() {
        let eddsa = keys();
        let mixed = eddsa.with_pending_key(
            KeyAlgorithm::Es256,
            T0 - Duration::hours(2),
            Duration::hours(1),
        );
        let es256_kid = mixed.latest().kid().to_owned();
        assert_eq!(mixed.latest().algorithm(), KeyAlgorithm::Es256);

        let issued = issue(&mixed, &settings(), "user-1", "session-1", T0).unwrap();
        let token = issued.token.expose_secret().to_owned();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(&token)[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], es256_kid.as_str());
        assert_eq!(
            verify(&mixed, &settings(), &token, T0).unwrap(),
            issued.claims
        );

        // An EdDSA token of before the migration verifies in the mixed set.
        let old = issue_at(&eddsa, T0 - Duration::minutes(90));
        assert!(verify(&mixed, &settings(), &old, T0 - Duration::minutes(80)).is_ok());

        // The ES256 key's token relabelled as EdDSA (or the reverse) is refused.
        let parts = segments(&token);
        let relabelled = format!(
            "{}.{}.{}",
            b64(json!({"alg": "EdDSA", "typ": "JWT", "kid": es256_kid}).to_string()),
            parts[1],
            parts[2]
        );
        assert_eq!(
            verify(&mixed, &settings(), &relabelled, T0),
            Err(TokenError::AlgorithmNotAllowed)
        );

        // A tampered ES256 token fails its signature.
        let mut tampered = token.clone();
        tampered.replace_range(tampered.len() - 3.., "AAA");
        assert_eq!(
            verify(&mixed, &settings(), &tampered, T0),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn nothing_is_signed_before_the_first_key_activates() {
        let pending = keys().with_pending_key(KeyAlgorithm::Es256, T0, Duration::hours(1));
        let before = issue(&pending, &settings(), "u", "s", T0).unwrap();
        let header = URL_SAFE_NO_PAD
            .decode(&segments(before.token.expose_secret())[0])
            .unwrap();
        assert!(
            String::from_utf8(header).unwrap().contains("EdDSA"),
            "the old key still signs"
        );
        let after = issue(&pending, &settings(), "u", "s", T0 + Duration::hours(1)).unwrap();
        let header = URL_SAFE_NO_PAD
            .decode(&segments(after.token.expose_secret())[0])
            .unwrap();
        assert!(String::from_utf8(header).unwrap().contains("ES256"));
    }

    #[test]
    fn tokens_of_a_previous_issuer_still_verify() {
        let keys = keys();
        let old = issue_at(&keys, T0);
        let moved = SessionTokenSettings {
            issuer: "https://auth.example.com".into(),
            previous_issuers: vec![DEFAULT_ISSUER.into()],
            ..settings()
        };
        assert!(verify(&keys, &moved, &old, T0).is_ok());
        let without = SessionTokenSettings {
            previous_issuers: Vec::new(),
            ..moved.clone()
        };
        assert_eq!(
            verify(&keys, &without, &old, T0),
            Err(TokenError::WrongIssuer)
        );
        let from_env = SessionTokenSettings::from_lookup(|name| {
            (name == "PUBLIC_BASE_URL").then(|| "https://auth.example.com/".to_owned())
        })
        .unwrap();
        assert_eq!(from_env.issuer, "https://auth.example.com");
        assert_eq!(from_env.previous_issuers, [DEFAULT_ISSUER]);
    }
}
