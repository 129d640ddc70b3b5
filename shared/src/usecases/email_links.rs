//! The flows that mail a single-use link: email confirmation (and its
//! resend) and password reset. Requests naming an unknown address cost
//! the same reads and writes as known ones and get the same answer, so the
//! routes reveal nothing about which addresses have accounts.

pub use crate::requests::email::{EmailConfirmRequest, EmailRequest};
pub use crate::requests::passwords::PasswordResetConfirmRequest;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::new_password::parse_new_password;
use super::Origin;
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::one_time_token::{password_stamp, OneTimeTokenError};
use crate::domain::{
    AuditAction, AuditOutcome, Email, EventType, NotificationEvent, OneTimeToken,
    OneTimeTokenRecord, Quota, RateWindow, TokenPurpose, User, UserId, UserStatus,
};
use crate::ports::one_time::{ConfirmError, IssueError, OneTimeTokens};
use crate::ports::{Clock, PasswordChange, StoreError, UpdateUserError, UserStore};

pub const TOKEN: &str = "token";
pub const EMAIL: &str = "email";
const PASSWORD_STAMP: &str = "password_stamp";

#[derive(Debug, thiserror::Error)]
pub enum EmailLinkError {
    #[error("request rejected")]
    Rejected(FieldErrors),
    #[error("the token is unknown, spent or for another purpose")]
    TokenInvalid,
    #[error("the token has expired")]
    TokenExpired,
    /// An email change: another account took the new address first.
    #[error("the new address belongs to another account")]
    EmailTaken,
    #[error("too many requests")]
    RateLimited { retry_after: time::Duration },
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Hashing(#[from] HashError),
}

/// Requests per address and per source address, per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkQuotas {
    pub per_email: Quota,
    pub per_ip: Quota,
}

impl Default for LinkQuotas {
    fn default() -> Self {
        Self {
            per_email: Quota {
                max: 3,
                window: time::Duration::hours(1),
            },
            per_ip: Quota {
                max: 20,
                window: time::Duration::hours(1),
            },
        }
    }
}

impl LinkQuotas {
    /// The windows a request from `origin` about `email` counts in.
    pub fn windows(
        &self,
        scope: &str,
        email: &Email,
        origin: &Origin,
        now: OffsetDateTime,
    ) -> Vec<RateWindow> {
        let mut windows =
            vec![self
                .per_email
                .window_at(&format!("{scope}-email"), email.as_str(), now)];
        if let Some(ip) = origin.source_ip {
            windows.push(
                self.per_ip
                    .window_for_address(&format!("{scope}-ip"), ip, now),
            );
        }
        windows
    }
}

/// The event that asks the notification worker for a link. It carries
/// the address and what binds the link, never the token: the worker mints
/// the token, stores its hash and mails it, so the plain token exists only
/// in the email (not in the outbox item, the table's stream or a queue).
fn link_request(
    event_type: EventType,
    user_id: UserId,
    email: &Email,
    password_stamp: Option<String>,
    now: OffsetDateTime,
) -> NotificationEvent {
    let mut data = json!({ "email": email.as_str() });
    if let Some(stamp) = password_stamp {
        data[PASSWORD_STAMP] = Value::String(stamp);
    }
    NotificationEvent::new(event_type, user_id, now, data)
}

/// The event that mails an email-change link to the new address.
pub fn email_change_request(
    user: &User,
    new_email: &Email,
    now: OffsetDateTime,
) -> NotificationEvent {
    link_request(
        EventType::EmailChangeRequested,
        user.id,
        new_email,
        None,
        now,
    )
}

/// The event that mails a new account its confirmation link.
pub fn confirmation_request(user: &User, now: OffsetDateTime) -> NotificationEvent {
    link_request(
        EventType::EmailConfirmationRequested,
        user.id,
        &user.email,
        None,
        now,
    )
}

/// The token a link event asks for, minted by the notification worker:
/// valid from the request (not from a delayed delivery), for the address
/// in the event and, for resets, the password the account had then.
pub fn mint_link_token(
    event: &NotificationEvent,
) -> Result<Option<(OneTimeToken, OneTimeTokenRecord)>, OneTimeTokenError> {
    let purpose = match event.event_type {
        EventType::EmailConfirmationRequested => TokenPurpose::ConfirmEmail,
        EventType::PasswordResetRequested => TokenPurpose::ResetPassword,
        EventType::EmailChangeRequested => TokenPurpose::ChangeEmail,
        _ => return Ok(None),
    };
    let email = event
        .data
        .get(EMAIL)
        .and_then(Value::as_str)
        .and_then(|raw| Email::parse(raw).ok())
        .ok_or(OneTimeTokenError::Malformed)?;
    let token = OneTimeToken::generate(purpose)?;
    let mut record =
        OneTimeTokenRecord::new(&token, purpose, event.user_id, email, event.occurred_at);
    record.password_stamp = event
        .data
        .get(PASSWORD_STAMP)
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Some((token, record)))
}

/// A presented link token of `purpose`; any malformed one is just invalid.
fn read_token(raw: &str, purpose: TokenPurpose) -> Result<OneTimeToken, FieldError> {
    OneTimeToken::parse(raw, purpose)
        .map_err(|_| FieldError::new(ErrorCode::TokenInvalid, "Token is invalid"))
}

/// What the link flows need, borrowed from the function's state.
pub struct EmailLinks<'a> {
    pub users: &'a dyn UserStore,
    pub one_time_tokens: &'a dyn OneTimeTokens,
    pub clock: &'a dyn Clock,
    pub quotas: LinkQuotas,
}

impl EmailLinks<'_> {
    /// The account an address belongs to. An unknown address costs the
    /// same two reads as a known one.
    async fn member_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let id = self.users.find_by_email(email.as_str()).await?;
        let user = self
            .users
            .get(id.unwrap_or_else(UserId::new_random))
            .await?;
        Ok(user.filter(|u| id == Some(u.id)))
    }

    async fn request(
        &self,
        scope: &str,
        email: &Email,
        link: Option<NotificationEvent>,
        origin: &Origin,
        now: OffsetDateTime,
    ) -> Result<(), EmailLinkError> {
        let windows = self.quotas.windows(scope, email, origin, now);
        let events: Vec<NotificationEvent> = link.into_iter().collect();
        match self.one_time_tokens.request_link(&events, &windows).await {
            Ok(()) => Ok(()),
            Err(IssueError::RateLimited(index)) => Err(EmailLinkError::RateLimited {
                retry_after: windows[index].retry_after(now),
            }),
            Err(IssueError::Store(error)) => Err(error.into()),
        }
    }

    /// `POST /auth/password/reset`: mails a reset link to an active
    /// account with this address; does the same work for any other.
    #[tracing::instrument(name = "request_password_reset", skip_all)]
    pub async fn request_reset(
        &self,
        request: EmailRequest,
        origin: &Origin,
    ) -> Result<(), EmailLinkError> {
        let email = request.email;
        let now = self.clock.now();
        let user = self.member_by_email(&email).await?;
        // Bound to this password and address: changing either kills the
        // link.
        let link = user.filter(|u| u.status == UserStatus::Active).map(|user| {
            link_request(
                EventType::PasswordResetRequested,
                user.id,
                &user.email,
                Some(password_stamp(&user.password_hash)),
                now,
            )
        });
        self.request("reset", &email, link, origin, now).await
    }

    /// `POST /auth/email/confirm/resend`: a new confirmation link for an
    /// account whose address is not verified yet.
    #[tracing::instrument(name = "resend_confirmation", skip_all)]
    pub async fn resend_confirmation(
        &self,
        request: EmailRequest,
        origin: &Origin,
    ) -> Result<(), EmailLinkError> {
        let email = request.email;
        let now = self.clock.now();
        let user = self.member_by_email(&email).await?;
        let link = user
            .filter(|u| !u.email_verified)
            .map(|user| confirmation_request(&user, now));
        self.request("confirm", &email, link, origin, now).await
    }

    /// The stored token behind a presented one, if it is usable now.
    async fn usable(
        &self,
        token: &OneTimeToken,
        purpose: TokenPurpose,
    ) -> Result<OneTimeTokenRecord, EmailLinkError> {
        let record = self
            .one_time_tokens
            .find_token(&token.hash())
            .await?
            .filter(|r| r.purpose == purpose)
            .ok_or(EmailLinkError::TokenInvalid)?;
        if record.is_expired(self.clock.now()) {
            return Err(EmailLinkError::TokenExpired);
        }
        Ok(record)
    }

    /// `POST /auth/email/confirm`: spends the token, marks the address
    /// verified.
    #[tracing::instrument(name = "confirm_email", skip_all)]
    pub async fn confirm(
        &self,
        request: EmailConfirmRequest,
        origin: &Origin,
    ) -> Result<UserId, EmailLinkError> {
        let raw = request.token.expose();
        // One route confirms both a new account's address and a change.
        let purpose = if raw.starts_with(TokenPurpose::ChangeEmail.prefix()) {
            TokenPurpose::ChangeEmail
        } else {
            TokenPurpose::ConfirmEmail
        };
        let token = read_token(raw, purpose)
            .map_err(|error| EmailLinkError::Rejected(FieldErrors::single(TOKEN, error)))?;
        let record = self.usable(&token, purpose).await?;
        if purpose == TokenPurpose::ChangeEmail {
            return self.confirm_change(&record, origin).await;
        }
        let now = self.clock.now();
        let mut audit = origin.audit(AuditAction::EmailConfirmed, AuditOutcome::Success, now);
        audit.user_id = Some(record.user_id);
        let confirmed = NotificationEvent::new(
            EventType::EmailConfirmed,
            record.user_id,
            now,
            json!({ "email": record.email.as_str() }),
        );
        match self
            .one_time_tokens
            .confirm_email(&record, now, &audit, &[confirmed])
            .await
        {
            Ok(()) => Ok(record.user_id),
            Err(ConfirmError::Spent | ConfirmError::Taken) => Err(EmailLinkError::TokenInvalid),
            Err(ConfirmError::Store(error)) => Err(error.into()),
        }
    }

    /// Applies an email change: the token's address becomes the account's,
    /// verified, its claim moved from the old address in one write, while
    /// it is still the pending one and nobody else claimed it.
    async fn confirm_change(
        &self,
        record: &OneTimeTokenRecord,
        origin: &Origin,
    ) -> Result<UserId, EmailLinkError> {
        let user = self
            .users
            .get(record.user_id)
            .await?
            .filter(|u| u.pending_email.as_ref() == Some(&record.email))
            // A later request replaced this address, or it was applied.
            .ok_or(EmailLinkError::TokenInvalid)?;
        let now = self.clock.now();
        let mut audit = origin.audit(AuditAction::EmailConfirmed, AuditOutcome::Success, now);
        audit.user_id = Some(user.id);
        audit.reasons = vec!["email:changed".into()];
        let events = [
            NotificationEvent::new(
                EventType::EmailChanged,
                user.id,
                now,
                json!({ "email": user.email.as_str(), "new_email": record.email.as_str() }),
            ),
            NotificationEvent::new(
                EventType::EmailConfirmed,
                user.id,
                now,
                json!({ "email": record.email.as_str() }),
            ),
        ];
        match self
            .one_time_tokens
            .confirm_email_change(record, &user.email, now, &audit, &events)
            .await
        {
            Ok(()) => Ok(user.id),
            Err(ConfirmError::Spent) => Err(EmailLinkError::TokenInvalid),
            Err(ConfirmError::Taken) => Err(EmailLinkError::EmailTaken),
            Err(ConfirmError::Store(error)) => Err(error.into()),
        }
    }
}

/// `POST /auth/password/reset/confirm`.
pub struct ResetPassword<'a> {
    pub links: EmailLinks<'a>,
    pub hasher: &'a PasswordHasher,
}

impl ResetPassword<'_> {
    /// Checks the token and the new password (every failing field at
    /// once), then sets the password, spends the token and ends every
    /// session in one write.
    #[tracing::instrument(name = "reset_password", skip_all)]
    pub async fn run(
        &self,
        request: &PasswordResetConfirmRequest,
        origin: &Origin,
    ) -> Result<UserId, EmailLinkError> {
        let links = &self.links;
        let token = read_token(request.token.expose(), TokenPurpose::ResetPassword)
            .map_err(|error| EmailLinkError::Rejected(FieldErrors::single(TOKEN, error)))?;
        let record = links.usable(&token, TokenPurpose::ResetPassword).await?;
        let user = links
            .users
            .get(record.user_id)
            .await?
            .ok_or(EmailLinkError::TokenInvalid)?;
        let mut errors = FieldErrors::new();
        let password = parse_new_password(&request.new_password(), &mut errors, &user);
        // Issued for another address or password than the account has
        // now: the email or the password changed since, which kills it.
        let stamp = password_stamp(&user.password_hash);
        if record.email != user.email || record.password_stamp.as_deref() != Some(&stamp) {
            return Err(EmailLinkError::TokenInvalid);
        }
        let Some(password) = password else {
            return Err(EmailLinkError::Rejected(errors));
        };
        let hash = self.hasher.hash(&password).await?;
        let now = links.clock.now();
        let mut audit = origin.audit(AuditAction::PasswordReset, AuditOutcome::Success, now);
        audit.user_id = Some(user.id);
        let changed = NotificationEvent::new(
            EventType::PasswordChanged,
            user.id,
            now,
            json!({ "email": user.email.as_str(), "via": "reset" }),
        );
        match links
            .users
            .change_password(&PasswordChange {
                user: &user,
                hash: &hash,
                keep: None,
                at: now,
                audit: &audit,
                events: &[changed],
                reset: Some(&record),
            })
            .await
        {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "password reset; every session ended");
                Ok(user.id)
            }
            // The token was spent meanwhile, or the password changed.
            Err(UpdateUserError::Stale | UpdateUserError::Conflict(_)) => {
                Err(EmailLinkError::TokenInvalid)
            }
            Err(UpdateUserError::Store(error)) => Err(error.into()),
        }
    }
}
