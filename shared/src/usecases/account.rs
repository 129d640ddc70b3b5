//! The signed-in user's own account: profile changes, password change,
//! logout.

pub use crate::requests::passwords::PasswordChangeRequest;
use serde_json::{Map, Value};

use super::current_password::{CurrentPassword, CurrentPasswordError};
use super::profile_form::{Mode, ProfileReader};
use super::signup_form::EMAIL;
use super::Origin;
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::form::Form;
use crate::domain::{
    AuditAction, AuditOutcome, Email, EventType, LockoutPolicy, NotificationEvent, ProfileFields,
    Session, User,
};
use crate::ports::sessions::{RevokeReason, SessionStore};
use crate::ports::{Clock, PasswordChange, StoreError, UpdateUserError, UserStore};

const STALE_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("request rejected")]
    Rejected(FieldErrors),
    #[error("too many wrong current passwords")]
    Locked { retry_after: time::Duration },
    #[error("the account is gone")]
    Gone,
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Hashing(#[from] HashError),
}

impl From<UpdateUserError> for AccountError {
    fn from(error: UpdateUserError) -> Self {
        match error {
            UpdateUserError::Conflict(conflicts) => {
                AccountError::Rejected(super::signup::conflict_errors(conflicts))
            }
            UpdateUserError::Stale => AccountError::Gone,
            UpdateUserError::Store(error) => AccountError::Store(error),
        }
    }
}

pub struct Account<'a> {
    pub users: &'a dyn UserStore,
    pub sessions: &'a dyn SessionStore,
    pub audit: &'a dyn crate::ports::AuditLog,
    pub clock: &'a dyn Clock,
}

/// The field that must accompany a new email address.
pub const CURRENT_PASSWORD: &str = "current_password";

/// A profile patch: the user with every field but the email applied, and
/// the address asked for when it differs from the account's (with the
/// current password presented for it).
struct Patched<'f> {
    user: User,
    email_change: Option<(Email, &'f str)>,
}

/// The profile fields `PATCH` and `PUT /users/me` may change, with the
/// sign-up rules of this deployment. A new email is not applied here: it
/// needs the current password and a confirmation from the new address.
fn patch_profile<'f>(
    user: &User,
    fields: &'f Map<String, Value>,
    rules: &ProfileFields,
    mode: Mode,
    today: time::Date,
) -> Result<Patched<'f>, FieldErrors> {
    let form = Form::new(fields);
    let mut email_change = None;
    let mut errors = FieldErrors::new();
    let mut updated = user.clone();
    let reader = ProfileReader {
        form: &form,
        rules,
        mode,
        today,
    };
    reader.username(&mut updated.username, &mut errors);
    // `PUT` replaces the whole profile, the address included.
    if mode == Mode::Replace || form.has(EMAIL) {
        if let Some(v) = errors.collect(EMAIL, form.required_text(EMAIL).and_then(Email::parse)) {
            // Addresses are stored lower-cased: equal here means equal
            // ignoring case, which is no change at all.
            if v != user.email {
                if let Some(current) =
                    errors.collect(CURRENT_PASSWORD, form.required_secret(CURRENT_PASSWORD))
                {
                    email_change = Some((v, current));
                }
            }
        }
    }
    reader.profile(&mut updated.profile, &mut errors);
    if errors.is_empty() {
        Ok(Patched {
            user: updated,
            email_change,
        })
    } else {
        Err(errors)
    }
}

fn wrong_current_password() -> FieldErrors {
    FieldErrors::single(
        CURRENT_PASSWORD,
        FieldError::new(
            ErrorCode::InvalidCredentials,
            "The current password is incorrect.",
        ),
    )
}

fn current_password_error(error: CurrentPasswordError) -> AccountError {
    match error {
        CurrentPasswordError::Locked { retry_after } => AccountError::Locked { retry_after },
        CurrentPasswordError::Store(error) => AccountError::Store(error),
        CurrentPasswordError::Hashing(error) => AccountError::Hashing(error),
    }
}

/// `PATCH` (merge) or `PUT` (replace) `/users/me` of a username account.
pub struct UpdateProfile<'a> {
    pub users: &'a dyn UserStore,
    pub sessions: &'a dyn SessionStore,
    pub hasher: &'a PasswordHasher,
    pub clock: &'a dyn Clock,
    pub lockout: LockoutPolicy,
    /// `PROFILE_FIELDS`.
    pub fields: &'a ProfileFields,
    /// `Mode::Merge` for `PATCH`, `Mode::Replace` for `PUT`.
    pub mode: Mode,
}

impl UpdateProfile<'_> {
    /// Applies a partial profile; the username keeps its uniqueness (claims
    /// moved in the same transaction as the user). A new email needs the
    /// current password (checked and counted as the password change does)
    /// and only becomes `pending_email`: a link goes to the new address and
    /// a notice without one to the old; the address changes when the link
    /// is confirmed.
    #[tracing::instrument(name = "update_profile", skip_all)]
    pub async fn run(
        &self,
        user: &User,
        fields: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<User, AccountError> {
        let today = self.clock.now().date();
        let first = patch_profile(user, fields, self.fields, self.mode, today)
            .map_err(AccountError::Rejected)?;
        if let Some((new_email, current_password)) = &first.email_change {
            let checker = CurrentPassword {
                sessions: self.sessions,
                hasher: self.hasher,
                clock: self.clock,
                lockout: self.lockout,
            };
            let right = checker
                .check(
                    user,
                    current_password,
                    AuditAction::ProfileUpdate,
                    CURRENT_PASSWORD,
                    origin,
                )
                .await
                .map_err(current_password_error)?;
            if !right {
                return Err(AccountError::Rejected(wrong_current_password()));
            }
            // A taken address is refused now (with a taken username, so
            // both are reported together); one taken before the link is
            // used is refused then.
            let new_username = first
                .user
                .username_key()
                .filter(|key| Some(*key) != user.username_key());
            let taken = self
                .users
                .taken(new_username, Some(new_email.as_str()))
                .await?;
            if taken.any() {
                return Err(AccountError::Rejected(super::signup::conflict_errors(
                    taken,
                )));
            }
        }
        let mut current = user.clone();
        for _ in 0..STALE_ATTEMPTS {
            let Patched {
                user: mut updated,
                email_change,
            } = patch_profile(&current, fields, self.fields, self.mode, today)
                .map_err(AccountError::Rejected)?;
            let now = self.clock.now();
            let mut events = Vec::new();
            if let Some((new_email, _)) = email_change {
                // The password was checked against `user`: it must still be
                // the account's.
                if current.password_hash != user.password_hash {
                    return Err(AccountError::Rejected(wrong_current_password()));
                }
                events.push(super::email_links::email_change_request(
                    &current, &new_email, now,
                ));
                events.push(NotificationEvent::new(
                    EventType::EmailChangeNotice,
                    current.id,
                    now,
                    serde_json::json!({
                        "email": current.email.as_str(),
                        "new_email": new_email.as_str(),
                    }),
                ));
                updated.pending_email = Some(new_email);
            }
            if updated == current {
                return Ok(current);
            }
            updated.updated_at = now;
            let mut audit = origin.audit(AuditAction::ProfileUpdate, AuditOutcome::Success, now);
            audit.user_id = Some(user.id);
            // Only an email change writes events here.
            if !events.is_empty() {
                audit.reasons = vec!["email:change_requested".into()];
            }
            match self.users.update(&current, &updated, &audit, &events).await {
                Ok(()) => return Ok(updated),
                Err(UpdateUserError::Stale) => {
                    current = self.users.get(user.id).await?.ok_or(AccountError::Gone)?;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("the user kept changing".into()).into())
    }
}

impl Account<'_> {
    /// Ends the current session, or every session of the user.
    #[tracing::instrument(name = "log_out", skip_all)]
    pub async fn log_out(
        &self,
        session: &Session,
        all: bool,
        origin: &Origin,
    ) -> Result<usize, AccountError> {
        let now = self.clock.now();
        if all {
            let ended = self
                .sessions
                .revoke_sessions(session.user_id, None, RevokeReason::LogoutAll, now)
                .await?;
            let mut audit = origin.audit(AuditAction::Logout, AuditOutcome::Success, now);
            audit.user_id = Some(session.user_id);
            audit.reasons = vec![format!("sessions:{ended}")];
            if let Err(error) = self.audit.record(&audit).await {
                tracing::error!(error = %error, "could not write the logout audit record");
            }
            return Ok(ended);
        }
        let mut audit = origin.audit(AuditAction::Logout, AuditOutcome::Success, now);
        audit.user_id = Some(session.user_id);
        self.sessions
            .revoke_session(session, RevokeReason::Logout, now, Some(&audit), &[])
            .await?;
        Ok(1)
    }
}

/// `POST /auth/password/change`.
pub struct ChangePassword<'a> {
    pub users: &'a dyn UserStore,
    pub sessions: &'a dyn SessionStore,
    pub hasher: &'a PasswordHasher,
    pub clock: &'a dyn Clock,
    pub lockout: LockoutPolicy,
}

impl ChangePassword<'_> {
    /// Checks the current password (wrong guesses count toward a lock, as
    /// logins do), applies the sign-up rules to the new one, stores its
    /// hash and ends every other session, in one transaction.
    #[tracing::instrument(name = "change_password", skip_all)]
    pub async fn run(
        &self,
        user: &User,
        session: &Session,
        request: &PasswordChangeRequest,
        origin: &Origin,
    ) -> Result<(), AccountError> {
        let mut errors = FieldErrors::new();
        let current = request.current_password.expose();
        let new_password =
            super::new_password::parse_new_password(&request.new_password(), &mut errors, user);
        let checker = CurrentPassword {
            sessions: self.sessions,
            hasher: self.hasher,
            clock: self.clock,
            lockout: self.lockout,
        };
        let current_ok = checker
            .check(
                user,
                current,
                AuditAction::PasswordChange,
                "current_password",
                origin,
            )
            .await
            .map_err(current_password_error)?;
        if !current_ok {
            errors.add(
                "current_password",
                FieldError::new(
                    ErrorCode::InvalidCredentials,
                    "The current password is incorrect.",
                ),
            );
        }
        let Some(new_password) = new_password.filter(|_| errors.is_empty()) else {
            return Err(AccountError::Rejected(errors));
        };
        let hash = self.hasher.hash(&new_password).await?;
        let now = self.clock.now();
        let mut audit = origin.audit(AuditAction::PasswordChange, AuditOutcome::Success, now);
        audit.user_id = Some(user.id);
        let changed = NotificationEvent::new(
            EventType::PasswordChanged,
            user.id,
            now,
            serde_json::json!({}),
        );
        self.users
            .change_password(&PasswordChange {
                user,
                hash: &hash,
                keep: Some(session.id),
                at: now,
                audit: &audit,
                events: &[changed],
                reset: None,
            })
            .await?;
        tracing::info!(user_id = %user.id, "password changed; other sessions ended");
        Ok(())
    }
}
