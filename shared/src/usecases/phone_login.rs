//! `POST /auth/phone/login`: a phone account signs in with a `login` code.

use subtle::ConstantTimeEq;

use super::phone_code::resolve_phone;
use super::session_tokens::{NewSessionParts, TokenPair};
use super::{audit_reasons, Origin};
use crate::crypto::phone_crypto::{PhoneKeys, PhoneKeysLoadError};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::phone_code::MAX_ATTEMPTS;
use crate::domain::{
    AuditAction, AuditOutcome, CodePurpose, Device, DeviceId, EventType, NotificationEvent,
    PhoneCodeKey, PhoneRegion, PhoneUser, SessionPolicy, UserId, UserStatus,
};
use crate::ports::phone_codes::{PhoneCodes, SpendCodeError};
use crate::ports::phone_users::{PhoneUserStore, PhoneUserView};
use crate::ports::sessions::NewSession;
use crate::ports::{AuditLog, Clock, StoreError};
pub use crate::requests::phone::PhoneLoginRequest;
use crate::session_tokens::jwt::{SessionTokenSettings, TokenError};
use crate::session_tokens::keyset::KeySet;
use crate::session_tokens::refresh::RefreshTokenError;

pub const CODE: &str = "code";

#[derive(Debug, thiserror::Error)]
pub enum PhoneLoginError {
    #[error("request rejected")]
    Rejected(FieldErrors),
    /// Wrong, spent, expired or dead code, or no account: all alike.
    #[error("the code is not valid")]
    OtpInvalid,
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("the phone keys could not be loaded")]
    Keys(#[from] PhoneKeysLoadError),
    #[error("token issuing failed")]
    Token(#[from] TokenError),
    #[error("refresh token generation failed")]
    Refresh(#[from] RefreshTokenError),
}

/// The 401's field error.
pub fn otp_invalid_error() -> FieldErrors {
    FieldErrors::single(
        CODE,
        FieldError::new(
            ErrorCode::OtpInvalid,
            "The code is wrong or has expired. Request a new one.",
        ),
    )
}

pub struct PhoneLoggedIn {
    pub user: PhoneUser,
    pub tokens: TokenPair,
    /// This account had not used the device before.
    pub is_new_device: bool,
    /// The account's devices with a live session, this one included.
    pub active_devices_count: u32,
}

pub struct PhoneLogin<'a> {
    pub phone_users: &'a dyn PhoneUserStore,
    pub codes: &'a dyn PhoneCodes,
    pub audit: &'a dyn AuditLog,
    pub clock: &'a dyn Clock,
    pub phone_keys: &'a PhoneKeys,
    pub signing_keys: &'a KeySet,
    pub token_settings: &'a SessionTokenSettings,
    pub session_policy: SessionPolicy,
    pub region: PhoneRegion,
}

#[derive(Default)]
struct Attempt {
    device_id: Option<DeviceId>,
    device_info: crate::domain::DeviceInfo,
}

impl PhoneLogin<'_> {
    /// Three round trips: the guess counted and the code read in one
    /// conditional write, the account with its sessions and devices (one
    /// query of its partition), then one transaction that spends the code
    /// and starts the session. Every attempt is audited, never with the number.
    #[tracing::instrument(name = "phone_login", skip_all)]
    pub async fn run(
        &self,
        request: PhoneLoginRequest,
        origin: &Origin,
    ) -> Result<PhoneLoggedIn, PhoneLoginError> {
        let attempt = Attempt {
            device_id: request.device_id,
            device_info: request.device_info.unwrap_or_default(),
        };
        let code = request.code;
        let phone = match resolve_phone(&request.phone_number, self.region) {
            Ok(phone) => phone,
            Err(errors) => return Err(self.reject(errors, &attempt, origin).await),
        };
        let now = self.clock.now();
        let key = PhoneCodeKey {
            phone_hash: self.phone_keys.lookup_hash(&phone),
            purpose: CodePurpose::Login,
        };
        let Some(record) = self
            .codes
            .attempt_phone_code(&key, MAX_ATTEMPTS, now)
            .await?
        else {
            return Err(self.invalid(None, &attempt, origin).await);
        };
        let submitted =
            self.phone_keys
                .code_hash(CodePurpose::Login.as_str(), &phone, code.expose());
        let matches = bool::from(submitted.as_bytes().ct_eq(record.code_hash.as_bytes()));
        let Some(user_id) = record.user_id.filter(|_| matches) else {
            return Err(self.invalid(record.user_id, &attempt, origin).await);
        };
        let PhoneUserView {
            user,
            sessions,
            devices,
        } = self.phone_users.phone_user_with_sessions(user_id).await?;
        let Some(user) = user.filter(|u| u.status == UserStatus::Active) else {
            return Err(self.invalid(Some(user_id), &attempt, origin).await);
        };
        let is_new_device = attempt
            .device_id
            .as_ref()
            .is_some_and(|id| !devices.iter().any(|d| &d.id == id));
        let mut live_devices: Vec<&DeviceId> = sessions
            .iter()
            .filter(|s| s.revoked_at.is_none() && s.absolute_expires_at > now)
            .filter_map(|s| s.device_id.as_ref())
            .chain(attempt.device_id.as_ref())
            .collect();
        live_devices.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        live_devices.dedup();
        let active_devices_count = u32::try_from(live_devices.len()).unwrap_or(u32::MAX);

        let ip = origin.source_ip.map(|ip| ip.to_string());
        let parts = NewSessionParts::begin(
            user.id,
            attempt.device_id.clone(),
            ip.clone(),
            self.session_policy,
            now,
        )?;
        let mut audit = origin.audit(AuditAction::PhoneLogin, AuditOutcome::Success, now);
        audit.user_id = Some(user.id);
        audit.device_id = attempt.device_id.as_ref().map(|d| d.as_str().to_owned());
        let new = NewSession {
            session: parts.session,
            refresh: parts.record,
            device: attempt.device_id.clone().map(|id| Device {
                id,
                user_id: user.id,
                info: attempt.device_info.clone(),
                ip,
                first_seen: now,
                last_seen: now,
            }),
            audit,
            clear_throttle: None,
            events: is_new_device
                .then(|| {
                    NotificationEvent::new(
                        EventType::LoginNewDevice,
                        user.id,
                        now,
                        serde_json::json!({
                            "channel": "phone",
                            "platform": attempt.device_info.platform,
                            "model": attempt.device_info.model,
                            "app_version": attempt.device_info.app_version,
                        }),
                    )
                })
                .into_iter()
                .collect(),
        };
        let session_id = new.session.id;
        match self.codes.start_phone_session(&record, &new).await {
            Ok(()) => {}
            Err(SpendCodeError::Spent) => {
                return Err(self.invalid(Some(user.id), &attempt, origin).await);
            }
            Err(SpendCodeError::Store(error)) => return Err(error.into()),
        }
        let tokens = TokenPair::issue(
            self.signing_keys,
            self.token_settings,
            user.id,
            session_id,
            parts.token,
            now,
        )?;
        tracing::info!(user_id = %user.id, session_id = %session_id, "phone user signed in");
        Ok(PhoneLoggedIn {
            user,
            tokens,
            is_new_device,
            active_devices_count,
        })
    }

    async fn invalid(
        &self,
        user_id: Option<UserId>,
        attempt: &Attempt,
        origin: &Origin,
    ) -> PhoneLoginError {
        self.audit_failure(user_id, vec!["code:otp_invalid".into()], attempt, origin)
            .await;
        PhoneLoginError::OtpInvalid
    }

    /// A body that is not a sign-in (the handler's parse failed): audited
    /// like every attempt, without the number.
    pub async fn refuse(&self, errors: FieldErrors, origin: &Origin) -> PhoneLoginError {
        self.reject(errors, &Attempt::default(), origin).await
    }

    async fn reject(
        &self,
        errors: FieldErrors,
        attempt: &Attempt,
        origin: &Origin,
    ) -> PhoneLoginError {
        self.audit_failure(None, audit_reasons(&errors), attempt, origin)
            .await;
        PhoneLoginError::Rejected(errors)
    }

    /// A failure to audit is logged and does not change the answer.
    async fn audit_failure(
        &self,
        user_id: Option<UserId>,
        reasons: Vec<String>,
        attempt: &Attempt,
        origin: &Origin,
    ) {
        let mut record = origin.audit(
            AuditAction::PhoneLogin,
            AuditOutcome::Rejected,
            self.clock.now(),
        );
        record.user_id = user_id;
        record.reasons = reasons;
        record.device_id = attempt.device_id.as_ref().map(|d| d.as_str().to_owned());
        if let Err(error) = self.audit.record(&record).await {
            tracing::error!(error = %error, "could not write the phone login audit record");
        }
    }
}
