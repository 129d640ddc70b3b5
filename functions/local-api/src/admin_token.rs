//! The local server's admin gate: `Authorization: Bearer <admin token>`.
//!
//! It lives in this crate on purpose: no Lambda links `local-api`, and a
//! Lambda's resources come from `Resources::from_env`, which never sets a
//! gate, so a deployment cannot be configured into accepting this token
//! (on AWS the `/admin/` routes are IAM's; see `shared::http::admin`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::header::AUTHORIZATION;
use lambda_http::Request;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use shared::http::admin::{forbidden, not_authenticated, AdminGate, Operator};
use shared::http::ApiError;
use subtle::ConstantTimeEq;

/// The actor the audit log records for local operators.
pub const LOCAL_ADMIN: &str = "local-admin";

pub struct AdminToken {
    token: SecretString,
    /// Made up by this process (so it must be shown to the operator).
    generated: bool,
}

impl AdminToken {
    pub fn new(token: String) -> Self {
        Self {
            token: SecretString::from(token),
            generated: false,
        }
    }

    pub fn generated(&self) -> bool {
        self.generated
    }

    /// 32 random bytes, base64url: what a local run gets when
    /// `ADMIN_TOKEN` is unset.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        Self {
            generated: true,
            ..Self::new(URL_SAFE_NO_PAD.encode(bytes))
        }
    }

    /// `ADMIN_TOKEN` when set (and not empty), else a random one.
    pub fn from_env() -> Self {
        match std::env::var("ADMIN_TOKEN") {
            Ok(token) if !token.trim().is_empty() => Self::new(token.trim().to_owned()),
            _ => Self::random(),
        }
    }

    /// For printing once on start, and for tests.
    pub fn expose(&self) -> &str {
        self.token.expose_secret()
    }
}

impl AdminGate for AdminToken {
    fn authorise(&self, request: &Request) -> Result<Operator, ApiError> {
        let Some(value) = request.headers().get(AUTHORIZATION) else {
            return Err(not_authenticated());
        };
        let sent = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(forbidden)?;
        // Equal-length digests, compared in constant time: neither the
        // token's bytes nor its length leak through timing.
        let sent = Sha256::digest(sent.as_bytes());
        let expected = Sha256::digest(self.token.expose_secret().as_bytes());
        if bool::from(sent.ct_eq(&expected)) {
            Ok(Operator {
                actor: LOCAL_ADMIN.to_owned(),
            })
        } else {
            Err(forbidden())
        }
    }
}
