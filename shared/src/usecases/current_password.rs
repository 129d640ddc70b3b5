//! Checking the signed-in user's current password (password change,
//! account deletion): wrong guesses count toward one lock per account, as
//! logins do, so a stolen access token cannot be used to guess it.

use super::Origin;
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::{AuditAction, AuditOutcome, LockoutPolicy, Password, ThrottleKey, User};
use crate::ports::sessions::{LoginFailure, LoginFailureError, LoginKeys, SessionStore};
use crate::ports::{Clock, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CurrentPasswordError {
    #[error("too many wrong passwords")]
    Locked { retry_after: time::Duration },
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Hashing(#[from] HashError),
}

pub struct CurrentPassword<'a> {
    pub sessions: &'a dyn SessionStore,
    pub hasher: &'a PasswordHasher,
    pub clock: &'a dyn Clock,
    pub lockout: LockoutPolicy,
}

impl CurrentPassword<'_> {
    /// Whether `raw` is the user's password; a wrong one is recorded (with
    /// an audit record of `action`, naming `field`). Locked accounts are
    /// refused before the hash runs.
    pub async fn check(
        &self,
        user: &User,
        raw: &str,
        action: AuditAction,
        field: &str,
        origin: &Origin,
    ) -> Result<bool, CurrentPasswordError> {
        // Its own key space: no login identifier can reach this counter.
        let throttle_key = ThrottleKey::current_password(user.id);
        let keys = LoginKeys {
            username_key: None,
            email: None,
            throttle: &throttle_key,
            ip_window: None,
            now: self.clock.now(),
        };
        let throttle = self.sessions.lookup_login(&keys).await?.throttle;
        if let Some(wait) = throttle.locked_for(self.clock.now()) {
            return Err(CurrentPasswordError::Locked { retry_after: wait });
        }
        let right = match Password::presented(raw) {
            Some(presented) => self.hasher.verify(&presented, &user.password_hash).await?,
            None => false,
        };
        if right {
            return Ok(true);
        }
        let now = self.clock.now();
        let mut audit = origin.audit(action, AuditOutcome::Rejected, now);
        audit.user_id = Some(user.id);
        audit.reasons = vec![format!("{field}:invalid_credentials")];
        let failure = LoginFailure {
            owner: Some(user.id),
            throttle: throttle_key,
            next: throttle.after_failure(&self.lockout, now),
            previous: throttle,
            ip_window: None,
            audit,
        };
        match self.sessions.record_login_failure(&failure).await {
            Ok(()) | Err(LoginFailureError::Concurrent) => Ok(false),
            Err(LoginFailureError::Store(error)) => Err(error.into()),
        }
    }
}
