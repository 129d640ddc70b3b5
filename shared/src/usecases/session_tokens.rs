//! Issuing the token pair a login or a refresh answers with.

use secrecy::ExposeSecret;
use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::{
    DeviceId, RefreshRecord, RefreshState, Session, SessionId, SessionPolicy, UserId,
};
use crate::session_tokens::jwt::{self, IssuedAccessToken, SessionTokenSettings, TokenError};
use crate::session_tokens::keyset::KeySet;
use crate::session_tokens::refresh::{RefreshToken, RefreshTokenError};

/// A session about to start: what the store keeps (session, token hash)
/// and the token the client gets.
pub struct NewSessionParts {
    pub session: Session,
    pub record: RefreshRecord,
    pub token: RefreshToken,
}

impl NewSessionParts {
    /// A fresh session of `user_id` with its first refresh token.
    pub fn begin(
        user_id: UserId,
        device_id: Option<DeviceId>,
        ip: Option<String>,
        policy: SessionPolicy,
        now: OffsetDateTime,
    ) -> Result<Self, RefreshTokenError> {
        let session_id = SessionId::new_random();
        let token = RefreshToken::generate(user_id.as_uuid(), session_id.as_uuid())?;
        let absolute_expires_at = now + policy.absolute;
        let session = Session {
            id: session_id,
            user_id,
            device_id,
            created_at: now,
            last_used_at: now,
            absolute_expires_at,
            current_token_hash: token.hash(),
            ip,
            revoked_at: None,
            revoked_reason: None,
        };
        let record = RefreshRecord {
            hash: token.hash(),
            user_id,
            session_id,
            issued_at: now,
            expires_at: (now + policy.idle).min(absolute_expires_at),
            state: RefreshState::Active,
        };
        Ok(Self {
            session,
            record,
            token,
        })
    }
}

pub struct TokenPair {
    pub access: IssuedAccessToken,
    pub refresh: RefreshToken,
}

impl TokenPair {
    pub fn issue(
        keys: &KeySet,
        settings: &SessionTokenSettings,
        user_id: UserId,
        session_id: SessionId,
        refresh: RefreshToken,
        now: OffsetDateTime,
    ) -> Result<Self, TokenError> {
        let access = jwt::issue(
            keys,
            settings,
            &user_id.to_string(),
            &session_id.to_string(),
            now,
        )?;
        Ok(Self { access, refresh })
    }

    /// The response fields: the one place tokens are exposed.
    pub fn view(&self) -> TokenPairView<'_> {
        TokenPairView {
            access_token: self.access.token.expose_secret(),
            refresh_token: self.refresh.expose(),
            token_type: "Bearer",
            expires_in: self.access.expires_in,
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPairView<'a> {
    pub access_token: &'a str,
    pub refresh_token: &'a str,
    #[cfg_attr(feature = "openapi", schema(example = "Bearer"))]
    pub token_type: &'static str,
    pub expires_in: i64,
}
