//! `sign_up`: create an account from the username sign-up form.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::signup_form::{RejectedForm, SignUpForm, EMAIL, USERNAME};
use super::{audit_reasons, Origin};
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::{
    AuditAction, AuditOutcome, AuditRecord, EventType, NotificationEvent, Quota, User, UserId,
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
    #[error("could not make the confirmation token")]
    Token(#[from] crate::domain::one_time_token::OneTimeTokenError),
}

/// What sign-up needs, borrowed from the function's state.
pub struct SignUp<'a> {
    pub users: &'a dyn UserStore,
    pub audit: &'a dyn AuditLog,
    pub hasher: &'a PasswordHasher,
    pub clock: &'a dyn Clock,
    /// Accounts one source address may create per window.
    pub quota: Option<Quota>,
}

impl SignUp<'_> {
    /// One round trip to the store on success (user, claims and audit in one
    /// transaction); a rejected form costs one read (to report conflicts
    /// with the other errors) and one audit write.
    #[tracing::instrument(name = "sign_up", skip_all)]
    pub async fn run(
        &self,
        fields: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<User, SignUpError> {
        let form = match SignUpForm::parse(fields) {
            Ok(form) => form,
            Err(rejected) => return Err(self.reject_form(rejected, origin).await),
        };

        let password_hash = match self.hasher.hash(&form.password).await {
            Ok(hash) => hash,
            Err(error) => {
                self.audit_failure(
                    AuditOutcome::Error,
                    Some(form.username.key()),
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
            password_hash,
            status: form.status,
            profile: form.profile,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditRecord {
            id: Uuid::new_v4(),
            at: now,
            action: AuditAction::SignUp,
            outcome: AuditOutcome::Success,
            user_id: Some(user.id),
            subject: Some(user.username.key().to_owned()),
            source_ip: origin.source_ip.map(|ip| ip.to_string()),
            device_id: None,
            request_id: origin.request_id.clone(),
            reasons: Vec::new(),
        };
        let window = match (self.quota, origin.source_ip) {
            (Some(quota), Some(ip)) => Some(quota.window_at("signup-ip", &ip.to_string(), now)),
            _ => None,
        };
        let registered = NotificationEvent::new(
            EventType::UserRegistered,
            user.id,
            now,
            serde_json::json!({ "username": user.username.as_str(), "email": user.email.as_str() }),
        );
        let confirmation = super::email_links::confirmation_request(&user, now)?;
        match self
            .users
            .create(
                &user,
                &audit,
                window.as_ref(),
                &[registered, confirmation.event],
                Some(&confirmation.record),
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
                    Some(user.username.key()),
                    audit_reasons(&errors),
                    origin,
                )
                .await;
                Err(SignUpError::Rejected(errors))
            }
            Err(CreateUserError::QuotaExhausted) => {
                self.audit_failure(
                    AuditOutcome::Rejected,
                    Some(user.username.key()),
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
                    Some(user.username.key()),
                    vec!["system:unavailable".into()],
                    origin,
                )
                .await;
                Err(error.into())
            }
        }
    }

    async fn reject_form(&self, rejected: RejectedForm, origin: &Origin) -> SignUpError {
        let RejectedForm {
            mut errors,
            username,
            email,
        } = rejected;
        let username_key = username.as_ref().map(|u| u.key());
        let email = email.as_ref().map(|e| e.as_str());
        if username_key.is_some() || email.is_some() {
            match self.users.taken(username_key, email).await {
                Ok(conflicts) => errors.merge(conflict_errors(conflicts)),
                // The other errors are still right: report them without
                // the conflicts rather than fail the whole request.
                Err(error) => tracing::warn!(error = %error, "could not check sign-up conflicts"),
            }
        }
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
        let record = AuditRecord {
            id: Uuid::new_v4(),
            at: self.clock.now(),
            action: AuditAction::SignUp,
            outcome,
            user_id: None,
            subject: subject.map(str::to_owned),
            source_ip: origin.source_ip.map(|ip| ip.to_string()),
            device_id: None,
            request_id: origin.request_id.clone(),
            reasons,
        };
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
