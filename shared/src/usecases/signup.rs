//! `sign_up`: create an account from the username sign-up form.

use serde_json::{Map, Value};

use super::signup_form::{RejectedForm, SignUpForm, EMAIL, USERNAME};
use super::{audit_reasons, Origin};
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::{
    AuditAction, AuditOutcome, EventType, FieldRule, NotificationEvent, ProfileField,
    ProfileFields, Quota, User, UserId,
};
use crate::ports::{AuditLog, Clock, Conflicts, CreateUserError, StoreError, UserStore};

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    #[error("sign-up rejected")]
    Rejected(FieldErrors),
    #[error("storage failed during sign-up")]
    Store(#[from] StoreError),
    #[error("password hashing failed during sign-up")]
    Hashing(#[from] HashError),
    #[error("too many sign-ups from this address")]
    RateLimited { retry_after: time::Duration },
}

/// What sign-up needs, borrowed from the function's state.
pub struct SignUp<'a> {
    pub users: &'a dyn UserStore,
    pub audit: &'a dyn AuditLog,
    pub hasher: &'a PasswordHasher,
    pub clock: &'a dyn Clock,
    /// Accounts one source address may create per window.
    pub quota: Option<Quota>,
    /// `PROFILE_FIELDS`.
    pub fields: &'a ProfileFields,
    /// `SIGNUP_CREDITS`: the opening balance, posted with the account.
    pub signup_credits: u32,
}

impl SignUp<'_> {
    /// Two round trips to the store on success: the address's sign-up
    /// quota is charged first, then the user, claims and audit go in one
    /// transaction. The quota comes before anything an attempt could learn
    /// or cost: a rate-limited address gets 429 without a conflict report
    /// and without an Argon2 run. Conflicts are reported only for forms
    /// that are otherwise valid; a rejected form costs one audit write.
    #[tracing::instrument(name = "sign_up", skip_all)]
    pub async fn run(
        &self,
        fields: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<User, SignUpError> {
        let form = match SignUpForm::parse_with(fields, self.fields, self.clock.now().date()) {
            Ok(form) => form,
            Err(rejected) => return Err(self.reject_form(rejected, origin).await),
        };

        let now = self.clock.now();
        let window = match (self.quota, origin.source_ip) {
            (Some(quota), Some(ip)) => Some(quota.window_for_address("signup-ip", ip, now)),
            _ => None,
        };
        if let Some(window) = &window {
            let subject = Some(form.subject());
            match self.users.charge_signup_quota(window).await {
                Ok(true) => {}
                Ok(false) => {
                    let reasons = vec!["non_field_errors:rate_limited".into()];
                    self.audit_failure(AuditOutcome::Rejected, subject, reasons, origin)
                        .await;
                    return Err(SignUpError::RateLimited {
                        retry_after: window.retry_after(now),
                    });
                }
                Err(error) => {
                    let reasons = vec!["system:unavailable".into()];
                    self.audit_failure(AuditOutcome::Error, subject, reasons, origin)
                        .await;
                    return Err(error.into());
                }
            }
        }
        let password_hash = match self.hasher.hash(&form.password).await {
            Ok(hash) => hash,
            Err(error) => {
                self.audit_failure(
                    AuditOutcome::Error,
                    Some(form.subject()),
                    vec!["system:server_error".into()],
                    origin,
                )
                .await;
                return Err(error.into());
            }
        };
        let now = self.clock.now();
        let user = User {
            id: UserId::new_random(),
            username: form.username,
            email: form.email,
            email_verified: false,
            pending_email: None,
            password_hash,
            status: form.status,
            profile: form.profile,
            created_at: now,
            updated_at: now,
            last_login: None,
        };
        let mut audit = origin.audit(AuditAction::SignUp, AuditOutcome::Success, now);
        audit.user_id = Some(user.id);
        audit.subject = Some(user.subject().to_owned());
        let registered = NotificationEvent::new(
            EventType::UserRegistered,
            user.id,
            now,
            serde_json::json!({
                "username": user.username.as_ref().map(|u| u.as_str()),
                "email": user.email.as_str(),
            }),
        );
        let confirmation = super::email_links::confirmation_request(&user, now);
        let opening = crate::usecases::credits::opening(self.signup_credits, user.id, now);
        match self
            .users
            .create_with_credits(
                &user,
                &audit,
                // Charged above, before the hash.
                None,
                &[registered, confirmation],
                opening.as_ref(),
            )
            .await
        {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "user signed up");
                Ok(user)
            }
            Err(CreateUserError::Conflict(conflicts)) => {
                let errors = conflict_errors(conflicts);
                self.audit_failure(
                    AuditOutcome::Rejected,
                    Some(user.subject()),
                    audit_reasons(&errors),
                    origin,
                )
                .await;
                Err(SignUpError::Rejected(errors))
            }
            Err(CreateUserError::QuotaExhausted) => {
                self.audit_failure(
                    AuditOutcome::Rejected,
                    Some(user.subject()),
                    vec!["non_field_errors:rate_limited".into()],
                    origin,
                )
                .await;
                let retry_after = window.map_or(time::Duration::minutes(1), |w| w.retry_after(now));
                Err(SignUpError::RateLimited { retry_after })
            }
            Err(CreateUserError::Store(error)) => {
                self.audit_failure(
                    AuditOutcome::Error,
                    Some(user.subject()),
                    vec!["system:unavailable".into()],
                    origin,
                )
                .await;
                Err(error.into())
            }
        }
    }

    /// An invalid form is answered with its field errors only: whether its
    /// username or email is taken is not looked up, so a form that could
    /// never sign up cannot probe for accounts.
    async fn reject_form(&self, rejected: RejectedForm, origin: &Origin) -> SignUpError {
        let RejectedForm {
            errors,
            username,
            email: rejected_email,
        } = rejected;
        // Where accounts may go without a username, the email names them.
        let by_email = self.fields.rule(ProfileField::Username) != FieldRule::Required;
        let username_key = username.as_ref().map(|u| u.key()).or(rejected_email
            .as_ref()
            .filter(|_| by_email)
            .map(|e| e.as_str()));
        self.audit_failure(
            AuditOutcome::Rejected,
            username_key,
            audit_reasons(&errors),
            origin,
        )
        .await;
        SignUpError::Rejected(errors)
    }

    /// Failed attempts are audited on their own; a failure to audit is
    /// logged and does not change the answer.
    async fn audit_failure(
        &self,
        outcome: AuditOutcome,
        subject: Option<&str>,
        reasons: Vec<String>,
        origin: &Origin,
    ) {
        let mut record = origin.audit(AuditAction::SignUp, outcome, self.clock.now());
        record.subject = subject.map(str::to_owned);
        record.reasons = reasons;
        if let Err(error) = self.audit.record(&record).await {
            tracing::error!(error = %error, "could not write the sign-up audit record");
        }
    }
}

pub(crate) fn conflict_errors(conflicts: Conflicts) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if conflicts.username {
        errors.add(
            USERNAME,
            FieldError::new(
                ErrorCode::UsernameConflict,
                "A user with that username already exists.",
            ),
        );
    }
    if conflicts.email {
        errors.add(
            EMAIL,
            FieldError::new(ErrorCode::EmailConflict, "Email already registered"),
        );
    }
    errors
}
