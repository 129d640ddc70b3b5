//! Checking the signed-in user's current password (password change,
//! account deletion): wrong guesses count toward one lock per account, as
//! logins do, so a stolen access token cannot be used to guess it.
//!
//! Each attempt is counted as a failure before its hash runs (and taken
//! back when the password was right, if nothing was counted since), so parallel guesses can get no more
//! password evaluations than the lockout allows: the attempt that reaches
//! the limit locks the counter for every later one.

use super::Origin;
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::{
    AuditAction, AuditOutcome, LockoutPolicy, LoginThrottle, Password, ThrottleKey, User,
};
use crate::ports::sessions::{
    LoginFailure, LoginFailureError, LoginKeys, PasswordCheckEnd, SessionStore, ThrottleUpdate,
};
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
        let throttle = ThrottleKey::current_password(user.id);
        let (before, counted) = self.count_attempt(user, &throttle).await?;
        let right = match Password::presented(raw) {
            Some(presented) => self.hasher.verify(&presented, &user.password_hash).await?,
            None => false,
        };
        let now = self.clock.now();
        let end = if right {
            // Not a failure after all: back to the state before it.
            let refund = LoginFailure {
                owner: Some(user.id),
                lock: Some(ThrottleUpdate {
                    key: throttle,
                    next: LoginThrottle {
                        version: counted.version + 1,
                        ..before
                    },
                    previous: counted,
                }),
                ceiling: None,
                at: now,
                ip_window: None,
                audit: None,
            };
            PasswordCheckEnd::Right {
                refund: Box::new(refund),
            }
        } else {
            let mut audit = origin.audit(action, AuditOutcome::Rejected, now);
            audit.user_id = Some(user.id);
            audit.reasons = vec![format!("{field}:invalid_credentials")];
            PasswordCheckEnd::Wrong {
                audit: Box::new(audit),
            }
        };
        self.sessions.settle_password_check(&end).await?;
        Ok(right)
    }

    /// Counts this attempt as a failure unless the counter is locked; a
    /// concurrent attempt makes it read the counter again (each collision
    /// means another attempt was counted, so the lock is reached within
    /// `max_failures` collisions). Returns the state before and the state
    /// it wrote.
    async fn count_attempt(
        &self,
        user: &User,
        throttle: &ThrottleKey,
    ) -> Result<(LoginThrottle, LoginThrottle), CurrentPasswordError> {
        let read = || async {
            let keys = LoginKeys {
                username_key: None,
                email: None,
                throttle: Some(throttle),
                ceiling: None,
                ip_window: None,
                now: self.clock.now(),
            };
            self.sessions
                .lookup_login(&keys)
                .await
                .map(|lookup| lookup.throttle)
        };
        let mut seen = read().await?;
        let attempts = usize::try_from(self.lockout.max_failures).unwrap_or(usize::MAX) + 2;
        for _ in 0..attempts {
            let now = self.clock.now();
            if let Some(wait) = seen.locked_for(now) {
                return Err(CurrentPasswordError::Locked { retry_after: wait });
            }
            let next = seen.after_failure(&self.lockout, now);
            let failure = LoginFailure {
                owner: Some(user.id),
                lock: Some(ThrottleUpdate {
                    key: throttle.clone(),
                    next: next.clone(),
                    previous: seen.clone(),
                }),
                ceiling: None,
                at: now,
                ip_window: None,
                audit: None,
            };
            match self.sessions.record_login_failure(&failure).await {
                Ok(()) => return Ok((seen, next)),
                Err(LoginFailureError::Concurrent) => seen = read().await?,
                Err(LoginFailureError::Store(error)) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("current-password attempts kept colliding".into()).into())
    }
}
