//! `log_in`: check credentials, start a session, hand out a token pair.

use serde_json::{Map, Value};
use time::Duration;

use super::login_form::LoginForm;
use super::session_tokens::{NewSessionParts, TokenPair};
use super::Origin;
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::errors::FieldErrors;
use crate::domain::{
    AddressBlock, AuditAction, AuditOutcome, Device, EventType, LockoutPolicy, LoginThrottle,
    NotificationEvent, Quota, RateWindow, Session, SessionPolicy, ThrottleKey, User, UserId,
    UserStatus,
};
use crate::ports::sessions::{
    CeilingUpdate, LoginFailure, LoginFailureError, LoginKeys, NewSession, SessionStore,
};
use crate::ports::{AuditLog, Clock, StoreError, UserStore};
use crate::tokens::jwt::{TokenError, TokenSettings};
use crate::tokens::keyset::KeySet;
use crate::tokens::refresh::RefreshTokenError;

/// Concurrent failures on one identifier are re-read and re-counted.
const FAILURE_WRITE_ATTEMPTS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum LogInError {
    #[error("login request rejected")]
    Rejected(FieldErrors),
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account inactive")]
    Inactive,
    /// The address is not confirmed and configuration requires it.
    #[error("the email address is not confirmed")]
    EmailNotVerified,
    #[error("login identifier locked")]
    Locked { retry_after: Duration },
    #[error("too many failed logins from this address")]
    RateLimited { retry_after: Duration },
    #[error("storage failed during login")]
    Store(#[from] StoreError),
    #[error("password check failed during login")]
    Hashing(#[from] HashError),
    #[error("token issuing failed during login")]
    Token(#[from] TokenError),
    #[error("refresh token generation failed during login")]
    Refresh(#[from] RefreshTokenError),
}

pub struct LoggedIn {
    pub user: User,
    pub session: Session,
    pub tokens: TokenPair,
}

pub struct LogIn<'a> {
    pub users: &'a dyn UserStore,
    pub sessions: &'a dyn SessionStore,
    pub audit: &'a dyn AuditLog,
    pub hasher: &'a PasswordHasher,
    pub clock: &'a dyn Clock,
    pub keys: &'a KeySet,
    pub token_settings: &'a TokenSettings,
    pub session_policy: SessionPolicy,
    pub lockout: LockoutPolicy,
    pub ip_quota: Quota,
    /// Whether accounts with an unconfirmed email may log in.
    pub allow_unverified: bool,
}

impl LogIn<'_> {
    /// Three round trips: the claims with the lockout and address counters,
    /// the user, then the session (or the failure) in one transaction.
    #[tracing::instrument(name = "log_in", skip_all)]
    pub async fn run(
        &self,
        fields: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<LoggedIn, LogInError> {
        let form = LoginForm::parse(fields).map_err(LogInError::Rejected)?;
        let now = self.clock.now();
        // Counted per address block: an IPv6 client owns its whole /64.
        let ip_window = origin
            .source_ip
            .map(|ip| self.ip_quota.window_for_address("login-ip", ip, now));
        // Locks count per identifier and address block, so an attacker
        // elsewhere cannot lock the owner out; the ceiling counts every
        // address.
        let block = origin.source_ip.map(AddressBlock::of);
        let throttle_key = ThrottleKey::login(&form.identifier, block.as_ref());
        let ceiling_key = ThrottleKey::login_ceiling(&form.identifier);
        let keys = LoginKeys {
            username_key: form.username_key.as_deref(),
            email: form.email.as_deref(),
            throttle: &throttle_key,
            ceiling: Some(&ceiling_key),
            ip_window: ip_window.as_ref(),
            now,
        };
        let lookup = self.sessions.lookup_login(&keys).await?;
        if let Some(window) = ip_window
            .as_ref()
            .filter(|_| lookup.ip_failures >= self.ip_quota.max)
        {
            self.record_refusal(&form.identifier, ip_window.as_ref(), "rate_limited", origin)
                .await?;
            return Err(LogInError::RateLimited {
                retry_after: window.retry_after(now),
            });
        }
        let locked = [
            lookup.throttle.locked_for(now),
            lookup.ceiling.locked_for(now),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = locked {
            self.record_refusal(
                &form.identifier,
                ip_window.as_ref(),
                "account_locked",
                origin,
            )
            .await?;
            return Err(LogInError::Locked { retry_after: wait });
        }
        // With a device id, the same read says whether the device is new
        // to the account. An unknown identifier reads a random id the same
        // way: known and unknown cost the same requests, so their timing
        // does not tell which identifiers have accounts.
        let read_id = lookup.user_id.unwrap_or_else(UserId::new_random);
        let (user, new_device) = match &form.device_id {
            Some(device) => {
                let (user, known) = self.users.get_with_device(read_id, device).await?;
                (user, !known)
            }
            None => (self.users.get(read_id).await?, false),
        };
        let user = user.filter(|u| lookup.user_id == Some(u.id));
        let verified = match (&user, &form.password) {
            (Some(user), Some(password)) => {
                self.hasher.verify(password, &user.password_hash).await?
            }
            _ => self.hasher.verify_nothing(form.password.as_ref()).await?,
        };
        let owner = user.as_ref().map(|u| u.id);
        let Some(user) = user.filter(|_| verified) else {
            self.record_failure(
                &keys,
                &form.identifier,
                (lookup.throttle, lookup.ceiling),
                ip_window.clone(),
                owner,
                origin,
            )
            .await?;
            return Err(LogInError::InvalidCredentials);
        };
        if user.status == UserStatus::Inactive {
            let mut audit = origin.audit(AuditAction::Login, AuditOutcome::Rejected, now);
            audit.user_id = Some(user.id);
            audit.reasons = vec!["non_field_errors:account_inactive".into()];
            if let Err(error) = self.audit.record(&audit).await {
                tracing::error!(error = %error, "could not write the login audit record");
            }
            return Err(LogInError::Inactive);
        }
        if !self.allow_unverified && !user.email_verified {
            let mut audit = origin.audit(AuditAction::Login, AuditOutcome::Rejected, now);
            audit.user_id = Some(user.id);
            audit.reasons = vec!["non_field_errors:email_not_verified".into()];
            if let Err(error) = self.audit.record(&audit).await {
                tracing::error!(error = %error, "could not write the login audit record");
            }
            return Err(LogInError::EmailNotVerified);
        }
        let clear = (!lookup.throttle.is_clear()).then_some(throttle_key);
        self.start_session(user, form, clear, new_device, origin)
            .await
    }

    async fn start_session(
        &self,
        user: User,
        form: LoginForm,
        clear_throttle: Option<ThrottleKey>,
        new_device: bool,
        origin: &Origin,
    ) -> Result<LoggedIn, LogInError> {
        let now = self.clock.now();
        let ip = origin.source_ip.map(|ip| ip.to_string());
        let NewSessionParts {
            session,
            record,
            token: refresh,
        } = NewSessionParts::begin(
            user.id,
            form.device_id.clone(),
            ip.clone(),
            self.session_policy,
            now,
        )?;
        let session_id = session.id;
        let device = form.device_id.clone().map(|id| Device {
            id,
            user_id: user.id,
            info: form.device_info.clone(),
            ip,
            first_seen: now,
            last_seen: now,
        });
        let mut audit = origin.audit(AuditAction::Login, AuditOutcome::Success, now);
        audit.user_id = Some(user.id);
        audit.subject = Some(user.username.key().to_owned());
        let new = NewSession {
            session: session.clone(),
            refresh: record,
            device,
            audit,
            // The address's own lock; the account-wide ceiling runs out by
            // itself, so a login cannot hand an attacker a fresh budget.
            clear_throttle,
            events: new_device
                .then(|| {
                    NotificationEvent::new(
                        EventType::LoginNewDevice,
                        user.id,
                        now,
                        serde_json::json!({
                            "email": user.email.as_str(),
                            "platform": form.device_info.platform,
                            "model": form.device_info.model,
                            "app_version": form.device_info.app_version,
                        }),
                    )
                })
                .into_iter()
                .collect(),
        };
        self.sessions.start_session(&new).await?;
        let tokens = TokenPair::issue(
            self.keys,
            self.token_settings,
            user.id,
            session_id,
            refresh,
            now,
        )?;
        tracing::info!(user_id = %user.id, session_id = %session_id, "logged in");
        Ok(LoggedIn {
            user,
            session,
            tokens,
        })
    }

    /// A refused attempt (capped address, locked identifier) is no password
    /// check, but it still counts against its address: hammering a locked
    /// identifier fills the address's cap like failures do.
    async fn record_refusal(
        &self,
        identifier: &str,
        ip_window: Option<&RateWindow>,
        code: &str,
        origin: &Origin,
    ) -> Result<(), LogInError> {
        let mut audit = origin.audit(AuditAction::Login, AuditOutcome::Rejected, self.clock.now());
        audit.subject = Some(identifier.to_owned());
        audit.reasons = vec![format!("non_field_errors:{code}")];
        self.sessions
            .record_refused_login(ip_window, &audit)
            .await
            .map_err(LogInError::from)
    }

    /// Counts the failure against the identifier (locking it at the limit)
    /// and the source address, with its audit record. A concurrent failure
    /// on the same identifier makes it read the state again, so parallel
    /// guessing cannot undercount.
    async fn record_failure(
        &self,
        keys: &LoginKeys<'_>,
        identifier: &str,
        (mut seen, mut seen_ceiling): (LoginThrottle, LoginThrottle),
        ip_window: Option<RateWindow>,
        owner: Option<crate::domain::UserId>,
        origin: &Origin,
    ) -> Result<(), LogInError> {
        for _ in 0..FAILURE_WRITE_ATTEMPTS {
            let now = self.clock.now();
            let mut audit = origin.audit(AuditAction::Login, AuditOutcome::Rejected, now);
            audit.subject = Some(identifier.to_owned());
            // Attempts on an existing account are part of its record (its
            // export shows them, its deletion removes them).
            audit.user_id = owner;
            audit.reasons = vec!["non_field_errors:invalid_credentials".into()];
            let failure = LoginFailure {
                owner,
                throttle: keys.throttle.clone(),
                ceiling: keys.ceiling.map(|key| CeilingUpdate {
                    key: key.clone(),
                    next: seen_ceiling.after_failure(&LockoutPolicy::account_ceiling(), now),
                    previous: seen_ceiling.clone(),
                }),
                next: seen.after_failure(&self.lockout, now),
                previous: seen.clone(),
                at: now,
                ip_window: ip_window.clone(),
                audit: Some(audit),
            };
            match self.sessions.record_login_failure(&failure).await {
                Ok(()) => return Ok(()),
                Err(LoginFailureError::Concurrent) => {
                    let lookup = self.sessions.lookup_login(keys).await?;
                    (seen, seen_ceiling) = (lookup.throttle, lookup.ceiling);
                }
                Err(LoginFailureError::Store(error)) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("login failures kept colliding".into()).into())
    }
}
