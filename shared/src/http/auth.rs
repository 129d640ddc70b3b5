//! The authentication layer every protected handler runs first: Bearer
//! parsing, signature and claims (see `tokens`), then one read that proves
//! the session is still live and the user still active. That read leaves
//! the account's numbers sealed: only the routes that show or change the
//! profile open it (`Principal::open_account`).

use std::sync::Arc;

use http::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use http::StatusCode;
use lambda_http::Request;

use super::error::ApiError;
use crate::domain::errors::ErrorCode;
use crate::domain::{Account, Session, SessionId, User, UserId};
use crate::ports::accounts::{AccountKind, StoredAccount};
use crate::ports::sessions::SessionStore;
use crate::ports::Clock;
use crate::session_tokens::jwt::{AccessClaims, SessionTokenSettings};
use crate::session_tokens::keyring::{verify_access_token, KeyRing, VerifyError};

/// The caller of an authenticated request: what authorisation needs (the
/// account's id, kind and status, the session, the claims). The account's
/// numbers stay sealed until `open_account`.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: StoredAccount,
    pub session: Session,
    pub claims: AccessClaims,
}

impl Principal {
    /// The whole account, its numbers decrypted: for the routes that show
    /// or change the profile.
    pub async fn open_account(&self) -> Result<Account, ApiError> {
        Ok(self.account.open().await?)
    }

    /// The username account, for what only those have (a password, the
    /// username profile); 403 for a phone account, before anything is
    /// decrypted.
    pub async fn open_member(&self) -> Result<User, ApiError> {
        let forbidden = || {
            ApiError::general(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "Not available for phone accounts",
                "Phone accounts have no password or username profile.",
            )
        };
        if self.account.kind() != AccountKind::Member {
            return Err(forbidden());
        }
        match self.open_account().await? {
            Account::Member(user) => Ok(user),
            Account::Phone(_) => Err(forbidden()),
        }
    }
}

#[derive(Clone)]
pub struct Authenticator {
    pub ring: Arc<KeyRing>,
    pub settings: SessionTokenSettings,
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
}

const REALM: &str = "Bearer realm=\"users-service\"";

fn unauthorized(code: ErrorCode, detail: &'static str, error: Option<&str>) -> ApiError {
    let message = match code {
        ErrorCode::NotAuthenticated => "Authentication credentials were not provided.",
        ErrorCode::TokenExpired => "Token has expired",
        _ => "Token is invalid",
    };
    let challenge = match error {
        Some(error) => format!("{REALM}, error=\"{error}\", error_description=\"{detail}\""),
        None => REALM.to_owned(),
    };
    let mut api_error = ApiError::general(StatusCode::UNAUTHORIZED, code, message, detail);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        api_error = api_error.with_header(WWW_AUTHENTICATE, value);
    }
    api_error
}

fn invalid(detail: &'static str) -> ApiError {
    unauthorized(ErrorCode::TokenInvalid, detail, Some("invalid_token"))
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(request: &Request) -> Result<&str, ApiError> {
    let Some(value) = request.headers().get(AUTHORIZATION) else {
        return Err(unauthorized(
            ErrorCode::NotAuthenticated,
            "No bearer token was sent.",
            None,
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| invalid("The Authorization header is not valid."))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| invalid("Use: Authorization: Bearer <token>."))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(invalid("Use: Authorization: Bearer <token>."));
    }
    Ok(token)
}

impl Authenticator {
    pub async fn authenticate(&self, request: &Request) -> Result<Principal, ApiError> {
        let (user_id, session_id, claims) = self.verified_claims(request).await?;
        let (account, session) = self.sessions.user_and_session(user_id, session_id).await?;
        self.admit(account, session, claims)
    }

    /// `authenticate`, with the caller's avatar read in the same round trip
    /// (`GET /users/me`).
    pub async fn authenticate_with_avatar(
        &self,
        request: &Request,
        avatars: &dyn crate::ports::avatars::AvatarStore,
    ) -> Result<(Principal, Option<crate::domain::avatar::Avatar>), ApiError> {
        let (user_id, session_id, claims) = self.verified_claims(request).await?;
        let (account, session, avatar) = avatars.signed_in_with_avatar(user_id, session_id).await?;
        Ok((self.admit(account, session, claims)?, avatar))
    }

    /// The bearer token's claims, checked, and the user and session they
    /// name.
    async fn verified_claims(
        &self,
        request: &Request,
    ) -> Result<(UserId, SessionId, AccessClaims), ApiError> {
        let token = bearer_token(request)?;
        let now = self.clock.now();
        let claims = match verify_access_token(&self.ring, &self.settings, token, now).await {
            Ok(claims) => claims,
            Err(error) if error.is_expired() => {
                return Err(unauthorized(
                    ErrorCode::TokenExpired,
                    "The access token has expired.",
                    Some("invalid_token"),
                ))
            }
            Err(VerifyError::Keys(error)) => return Err(ApiError::unavailable(Box::new(error))),
            Err(VerifyError::Token(_)) => return Err(invalid("The access token is not valid.")),
        };
        let user_id = claims
            .sub
            .parse()
            .map(UserId::from_uuid)
            .map_err(|_| invalid("The access token is not valid."))?;
        let session_id = SessionId::parse(&claims.sid)
            .ok_or_else(|| invalid("The access token is not valid."))?;
        Ok((user_id, session_id, claims))
    }

    /// The principal, if the session is live and the account active.
    fn admit(
        &self,
        account: Option<StoredAccount>,
        session: Option<Session>,
        claims: AccessClaims,
    ) -> Result<Principal, ApiError> {
        let now = self.clock.now();
        let session = session
            .filter(|s| s.is_live(now))
            .ok_or_else(|| invalid("The session has ended."))?;
        let account = account
            .filter(StoredAccount::is_active)
            .ok_or_else(|| invalid("The account is not active."))?;
        tracing::Span::current().record("user_id", tracing::field::display(account.id()));
        Ok(Principal {
            account,
            session,
            claims,
        })
    }
}
