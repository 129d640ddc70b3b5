//! `log_in`: check credentials, start a session, hand out a token pair.

use time::{Duration, OffsetDateTime};

use super::login_form::{LoginForm, LoginRequest};
use super::session_tokens::{NewSessionParts, TokenPair};
use super::Origin;
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::{
    AddressBlock, AuditAction, AuditOutcome, Device, EventType, LockoutPolicy, LoginThrottle,
    NotificationEvent, Quota, RateWindow, Session, SessionPolicy, ThrottleKey, User, UserId,
    UserStatus,
};
use crate::ports::sessions::{
    LoginFailure, LoginFailureError, LoginKeys, NewSession, PasswordCheckEnd, SessionStore,
    ThrottleUpdate, UnreadCount,
};
use crate::ports::{AuditLog, Clock, StoreError, UserStore};
use crate::session_tokens::jwt::{SessionTokenSettings, TokenError};
use crate::session_tokens::keyset::KeySet;
use crate::session_tokens::refresh::RefreshTokenError;

#[derive(Debug, thiserror::Error)]
pub enum LogInError {
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
    pub token_settings: &'a SessionTokenSettings,
    pub session_policy: SessionPolicy,
    pub lockout: LockoutPolicy,
    pub ip_quota: Quota,
    /// Whether accounts with an unconfirmed email may log in.
    pub allow_unverified: bool,
}

impl LogIn<'_> {
    /// Three round trips: the claims with the address counter; the attempt
    /// counted on the lock of the account they name while the user and the
    /// account-wide ceiling are read; then the session (or the failure) in
    /// one transaction.
    #[tracing::instrument(name = "log_in", skip_all)]
    pub async fn run(
        &self,
        request: LoginRequest,
        origin: &Origin,
    ) -> Result<LoggedIn, LogInError> {
        let form = LoginForm::from_request(request);
        let now = self.clock.now();
        // Counted per address block: an IPv6 client owns its whole /64.
        let ip_window = origin
            .source_ip
            .map(|ip| self.ip_quota.window_for_address("login-ip", ip, now));
        let claims = LoginKeys {
            username_key: form.username_key.as_deref(),
            email: form.email.as_deref(),
            throttle: None,
            ceiling: None,
            ip_window: ip_window.as_ref(),
            now,
        };
        let lookup = self.sessions.lookup_login(&claims).await?;
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
        // Locks count per account and address block, so an attacker
        // elsewhere cannot lock the owner out, and the account's username
        // and email share one budget; the ceiling counts every address. An
        // identifier naming no account has locks of its own, used the same
        // way (known and unknown cost the same requests).
        let owner = lookup.user_id;
        let block = origin.source_ip.map(AddressBlock::of);
        let (throttle_key, ceiling_key) = match owner {
            Some(id) => (
                ThrottleKey::login_account(id, block.as_ref()),
                ThrottleKey::login_account_ceiling(id),
            ),
            None => (
                ThrottleKey::login(&form.identifier, block.as_ref()),
                ThrottleKey::login_ceiling(&form.identifier),
            ),
        };
        let keys = LoginKeys {
            username_key: None,
            email: None,
            throttle: Some(&throttle_key),
            ceiling: Some(&ceiling_key),
            ip_window: None,
            now,
        };
        let ceiling_only = LoginKeys {
            username_key: None,
            email: None,
            throttle: None,
            ceiling: Some(&ceiling_key),
            ip_window: None,
            now,
        };
        // The attempt is counted against its lock before the password is
        // checked, so parallel guesses get no more evaluations than the
        // lock allows; the user and the ceiling are read meanwhile, in the
        // same round trip.
        let (counted, read, ceiling) = tokio::join!(
            self.count_attempt(
                &keys,
                &throttle_key,
                &form.identifier,
                owner,
                ip_window.as_ref(),
                origin
            ),
            self.read_user(owner, form.device_id.as_ref()),
            self.sessions.lookup_login(&ceiling_only),
        );
        let (before, counted) = counted?;
        let (user, new_device) = read?;
        let ceiling = ceiling?.ceiling;
        if let Some(wait) = ceiling.locked_for(now) {
            // Past the ceiling every address waits; no password was
            // checked, so the attempt counted for this address is taken
            // back.
            self.take_back(throttle_key, before, counted, owner, now)
                .await;
            self.record_refusal(
                &form.identifier,
                ip_window.as_ref(),
                "account_locked",
                origin,
            )
            .await?;
            return Err(LogInError::Locked { retry_after: wait });
        }
        let verified = match (&user, &form.password) {
            (Some(user), Some(password)) => {
                self.hasher.verify(password, &user.password_hash).await?
            }
            _ => self.hasher.verify_nothing(form.password.as_ref()).await?,
        };
        let Some(user) = user.filter(|_| verified) else {
            self.record_failure(
                &keys,
                &form.identifier,
                ceiling,
                ip_window.clone(),
                owner,
                origin,
            )
            .await?;
            return Err(LogInError::InvalidCredentials);
        };
        let refused = if user.status == UserStatus::Inactive {
            Some((LogInError::Inactive, "account_inactive"))
        } else if !self.allow_unverified && !user.email_verified {
            Some((LogInError::EmailNotVerified, "email_not_verified"))
        } else {
            None
        };
        if let Some((error, code)) = refused {
            // The right password: the attempt counted for it is taken back.
            self.take_back(throttle_key, before, counted, owner, now)
                .await;
            let mut audit = origin.audit(AuditAction::Login, AuditOutcome::Rejected, now);
            audit.user_id = Some(user.id);
            audit.reasons = vec![format!("non_field_errors:{code}")];
            if let Err(error) = self.audit.record(&audit).await {
                tracing::error!(error = %error, "could not write the login audit record");
            }
            return Err(error);
        }
        // The session's write clears the lock, the counted attempt with it.
        self.start_session(user, form, Some(throttle_key), new_device, origin)
            .await
    }

    /// Takes back an attempt counted before a password check that was
    /// right or did not happen; if another was counted since, the count
    /// stands (best effort: the lock runs out by itself).
    async fn take_back(
        &self,
        key: ThrottleKey,
        before: LoginThrottle,
        counted: LoginThrottle,
        owner: Option<UserId>,
        at: OffsetDateTime,
    ) {
        let refund = LoginFailure {
            owner,
            lock: Some(ThrottleUpdate {
                key,
                next: LoginThrottle {
                    version: counted.version + 1,
                    ..before
                },
                previous: counted,
            }),
            ceiling: None,
            at,
            ip_window: None,
            audit: None,
        };
        let end = PasswordCheckEnd::Right {
            refund: Box::new(refund),
        };
        if let Err(error) = self.sessions.settle_password_check(&end).await {
            tracing::error!(error = %error, "could not take back the counted attempt");
        }
    }

    /// The account `id` names (a random id for an unknown identifier, read
    /// the same way: known and unknown cost the same requests, so their
    /// timing does not tell which identifiers have accounts) and, with a
    /// device id, whether the device is new to it: one read.
    async fn read_user(
        &self,
        id: Option<UserId>,
        device: Option<&crate::domain::DeviceId>,
    ) -> Result<(Option<User>, bool), LogInError> {
        let read_id = id.unwrap_or_else(UserId::new_random);
        let (user, new_device) = match device {
            Some(device) => {
                let (user, known) = self.users.get_with_device(read_id, device).await?;
                (user, !known)
            }
            None => (self.users.get(read_id).await?, false),
        };
        Ok((user.filter(|u| id == Some(u.id)), new_device))
    }

    /// Counts this attempt as a failure on its lock, unless it is locked
    /// (then the attempt is refused). One unread update when the count
    /// cannot lock (most attempts: the same request whatever the lock
    /// holds); else the lock is read and written with its version, and a
    /// concurrent attempt makes it read the counter again: each collision
    /// means another attempt was counted, so the lock is reached within its
    /// limit of collisions. Returns the state before and the state written.
    async fn count_attempt(
        &self,
        keys: &LoginKeys<'_>,
        throttle: &ThrottleKey,
        identifier: &str,
        owner: Option<UserId>,
        ip_window: Option<&RateWindow>,
        origin: &Origin,
    ) -> Result<(LoginThrottle, LoginThrottle), LogInError> {
        let unread = UnreadCount {
            key: throttle,
            owner,
            policy: self.lockout,
            at: self.clock.now(),
        };
        if let Some(counted) = self.sessions.count_attempt_unread(&unread).await? {
            return Ok(counted);
        }
        let mut seen = self.sessions.lookup_login(keys).await?.throttle;
        let attempts = usize::try_from(self.lockout.max_failures).unwrap_or(usize::MAX) + 2;
        for _ in 0..attempts {
            let now = self.clock.now();
            if let Some(wait) = seen.locked_for(now) {
                self.record_refusal(identifier, ip_window, "account_locked", origin)
                    .await?;
                return Err(LogInError::Locked { retry_after: wait });
            }
            let next = seen.after_failure(&self.lockout, now);
            let failure = LoginFailure {
                owner,
                lock: Some(ThrottleUpdate {
                    key: throttle.clone(),
                    previous: seen.clone(),
                    next: next.clone(),
                }),
                ceiling: None,
                at: now,
                ip_window: None,
                audit: None,
            };
            match self.sessions.record_login_failure(&failure).await {
                Ok(()) => return Ok((seen, next)),
                Err(LoginFailureError::Concurrent) => {
                    seen = self.sessions.lookup_login(keys).await?.throttle;
                }
                Err(LoginFailureError::Store(error)) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("login attempts kept colliding".into()).into())
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
        audit.subject = Some(user.subject().to_owned());
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
        // Set in the session's transaction.
        let user = User {
            last_login: Some(now),
            ..user
        };
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

    /// Records a wrong password whose lock was counted before the check:
    /// the account-wide ceiling (locking every address past it), the
    /// source address's failure window and the audit record, at once. A
    /// concurrent failure makes it read the ceiling again, so parallel
    /// guessing cannot undercount.
    async fn record_failure(
        &self,
        keys: &LoginKeys<'_>,
        identifier: &str,
        mut seen_ceiling: LoginThrottle,
        ip_window: Option<RateWindow>,
        owner: Option<UserId>,
        origin: &Origin,
    ) -> Result<(), LogInError> {
        // Each collision means another failure was counted; the lock bounds
        // how many can be in flight from one address block.
        let attempts = usize::try_from(self.lockout.max_failures).unwrap_or(usize::MAX) + 2;
        for _ in 0..attempts {
            let now = self.clock.now();
            let mut audit = origin.audit(AuditAction::Login, AuditOutcome::Rejected, now);
            audit.subject = Some(identifier.to_owned());
            // Attempts on an existing account are part of its record (its
            // export shows them, its deletion removes them).
            audit.user_id = owner;
            audit.reasons = vec!["non_field_errors:invalid_credentials".into()];
            let failure = LoginFailure {
                owner,
                lock: None,
                ceiling: keys.ceiling.map(|key| ThrottleUpdate {
                    key: key.clone(),
                    next: seen_ceiling.after_failure(&LockoutPolicy::account_ceiling(), now),
                    previous: seen_ceiling.clone(),
                }),
                at: now,
                ip_window: ip_window.clone(),
                audit: Some(audit),
            };
            match self.sessions.record_login_failure(&failure).await {
                Ok(()) => return Ok(()),
                Err(LoginFailureError::Concurrent) => {
                    seen_ceiling = self.sessions.lookup_login(keys).await?.ceiling;
                }
                Err(LoginFailureError::Store(error)) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("login failures kept colliding".into()).into())
    }
}
