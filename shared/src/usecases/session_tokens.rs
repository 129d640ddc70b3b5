//! Issuing the token pair a login or a refresh answers with.

use secrecy::ExposeSecret;
use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::{SessionId, UserId};
use crate::tokens::jwt::{self, IssuedAccessToken, TokenError, TokenSettings};
use crate::tokens::keyset::KeySet;
use crate::tokens::refresh::RefreshToken;

pub struct TokenPair {
    pub access: IssuedAccessToken,
    pub refresh: RefreshToken,
}

impl TokenPair {
    pub fn issue(
        keys: &KeySet,
        settings: &TokenSettings,
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
pub struct TokenPairView<'a> {
    pub access_token: &'a str,
    pub refresh_token: &'a str,
    pub token_type: &'static str,
    pub expires_in: i64,
}
