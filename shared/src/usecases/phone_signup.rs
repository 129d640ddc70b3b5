//! `phone_sign_up`: the mobile clients' sign-up. Creates a phone account
//! with its location, device and first session, and hands out tokens.

use serde_json::{json, Map, Value};

use super::phone_login::CODE;
use super::phone_signup_form::{PhoneSignUpForm, PHONE_NUMBER};
use super::session_tokens::{NewSessionParts, TokenPair};
use super::{audit_reasons, Origin};
use crate::crypto::phone_crypto::PhoneKeys;
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::form::Form;
use crate::domain::phone_code::MAX_ATTEMPTS;
use crate::domain::{
    AuditAction, AuditOutcome, Device, DeviceId, EventType, Location, LocationId,
    NotificationEvent, PhoneRegion, PhoneUser, Quota, RateWindow, SessionPolicy, UserId,
    UserStatus,
};
use crate::domain::{CodePurpose, OneTimeCode, PhoneCodeKey};
use crate::ports::ip_blocks::BlockListCache;
use crate::ports::phone_codes::PhoneCodes;
use crate::ports::phone_users::{CreatePhoneUserError, NewPhoneAccount, PhoneUserStore};
use crate::ports::{AuditLog, Clock, StoreError};
use crate::session_tokens::jwt::{SessionTokenSettings, TokenError};
use crate::session_tokens::keyset::KeySet;
use crate::session_tokens::refresh::RefreshTokenError;
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum PhoneSignUpError {
    #[error("phone sign-up rejected")]
    Rejected(FieldErrors),
    #[error("the phone number is registered already")]
    PhoneTaken,
    #[error("the source address is blocked")]
    Blocked,
    #[error("too many sign-ups from this address")]
    RateLimited { retry_after: time::Duration },
    #[error("storage failed during phone sign-up")]
    Store(#[from] StoreError),
    #[error("token issuing failed during phone sign-up")]
    Token(#[from] TokenError),
    #[error("refresh token generation failed during phone sign-up")]
    Refresh(#[from] RefreshTokenError),
    /// `PHONE_SIGNUP_VERIFY`: the `signup` code is wrong, spent or expired.
    #[error("the sign-up code is not valid")]
    OtpInvalid,
}

/// `PHONE_SIGNUP_VERIFY=true`: the sign-up needs a `signup` code texted to
/// the number, proving the person holds it.
pub struct SignUpCodeCheck<'a> {
    pub codes: &'a dyn PhoneCodes,
    pub keys: &'a PhoneKeys,
}

pub struct PhoneSignedUp {
    pub user: PhoneUser,
    pub location: Option<Location>,
    pub tokens: TokenPair,
    /// No account had used this device id before.
    pub is_new_device: bool,
    /// The account's devices with a live session.
    pub active_devices_count: u32,
}

pub struct PhoneSignUp<'a> {
    pub phone_users: &'a dyn PhoneUserStore,
    pub audit: &'a dyn AuditLog,
    pub blocks: &'a BlockListCache,
    pub clock: &'a dyn Clock,
    pub keys: &'a KeySet,
    pub token_settings: &'a SessionTokenSettings,
    pub session_policy: SessionPolicy,
    pub region: PhoneRegion,
    /// Accounts one source address may create per window.
    pub quota: Option<Quota>,
    /// `SIGNUP_CREDITS`: the opening balance, posted with the account.
    pub signup_credits: u32,
    /// Set when phone sign-ups must be verified with a code.
    pub verification: Option<SignUpCodeCheck<'a>>,
}

impl PhoneSignUp<'_> {
    /// Two round trips on success: the claim, device and the address's
    /// quota counter in one read, then one transaction with everything
    /// (charging the quota). A full quota is answered 429 before a taken
    /// number is revealed, and a taken number is charged to the quota (one
    /// write) before it is answered 409, so numbers can be probed only
    /// within the quota. The block list is cached per instance.
    #[tracing::instrument(name = "phone_sign_up", skip_all)]
    pub async fn run(
        &self,
        fields: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<PhoneSignedUp, PhoneSignUpError> {
        let sent_device = fields.get("device_id").and_then(Value::as_str);
        if let Some(block) = self.blocks.check(origin.source_ip).await? {
            tracing::warn!(network = %block.network, "phone sign-up from a blocked address");
            self.audit_failure(
                AuditOutcome::Rejected,
                "non_field_errors:ip_blocked",
                sent_device,
                origin,
            )
            .await;
            return Err(PhoneSignUpError::Blocked);
        }
        let code = self.verification.as_ref().map(|_| {
            Form::new(fields)
                .required_secret(CODE)
                .and_then(OneTimeCode::parse)
        });
        let parsed = match (PhoneSignUpForm::parse(fields, self.region), code) {
            (Ok(form), None) => Ok((form, None)),
            (Ok(form), Some(Ok(code))) => Ok((form, Some(code))),
            (Ok(_), Some(Err(error))) => Err(FieldErrors::single(CODE, error)),
            (Err(mut errors), code) => {
                if let Some(Err(error)) = code {
                    errors.add(CODE, error);
                }
                Err(errors)
            }
        };
        let form = match parsed {
            Ok((form, code)) => {
                if let (Some(check), Some(code)) = (&self.verification, code) {
                    if !self.spend_signup_code(check, &form, &code).await? {
                        self.audit_failure(
                            AuditOutcome::Rejected,
                            "code:otp_invalid",
                            sent_device,
                            origin,
                        )
                        .await;
                        return Err(PhoneSignUpError::OtpInvalid);
                    }
                }
                form
            }
            Err(errors) => {
                self.audit(
                    AuditOutcome::Rejected,
                    None,
                    audit_reasons(&errors),
                    sent_device,
                    origin,
                )
                .await;
                return Err(PhoneSignUpError::Rejected(errors));
            }
        };
        let device_id = form.device_id.as_ref().map(DeviceId::as_str);
        let now = self.clock.now();
        let window = match (self.quota, origin.source_ip) {
            (Some(quota), Some(ip)) => Some(quota.window_for_address("signup-ip", ip, now)),
            _ => None,
        };
        let lookup = self
            .phone_users
            .phone_signup_lookup(&form.phone, window.as_ref())
            .await?;
        if let Some(window) = window.as_ref().filter(|w| lookup.quota_used >= w.max) {
            return Err(self.rate_limited(window, device_id, origin).await);
        }
        if lookup.phone_taken {
            return Err(self.phone_taken(window.as_ref(), device_id, origin).await);
        }
        let (new, token) = self.new_account(&form, window.clone(), origin, now)?;
        match self.phone_users.create_phone_user(&new).await {
            Ok(()) => {}
            Err(CreatePhoneUserError::PhoneTaken) => {
                return Err(self.phone_taken(window.as_ref(), device_id, origin).await);
            }
            Err(CreatePhoneUserError::QuotaExhausted) => {
                let Some(window) = &window else {
                    return Err(StoreError::internal("quota exhausted without a quota").into());
                };
                return Err(self.rate_limited(window, device_id, origin).await);
            }
            Err(CreatePhoneUserError::Store(error)) => {
                self.audit_failure(AuditOutcome::Error, "system:unavailable", device_id, origin)
                    .await;
                return Err(error.into());
            }
        }
        let tokens = TokenPair::issue(
            self.keys,
            self.token_settings,
            new.user.id,
            new.session.id,
            token,
            now,
        )?;
        tracing::info!(user_id = %new.user.id, session_id = %new.session.id, "phone user signed up");
        Ok(PhoneSignedUp {
            // About this account: a device another account used is still
            // new to this one (no global sighting tells on other accounts).
            is_new_device: new.device.is_some(),
            // A new account has exactly the device it signed up on.
            active_devices_count: u32::from(new.device.is_some()),
            user: new.user,
            location: new.location,
            tokens,
        })
    }

    /// Counts the guess, compares it and spends the code: true when the
    /// number's `signup` code was this one. Spent before the account is
    /// written, so a sign-up refused after it (a full quota) needs a new
    /// code.
    async fn spend_signup_code(
        &self,
        check: &SignUpCodeCheck<'_>,
        form: &PhoneSignUpForm,
        code: &OneTimeCode,
    ) -> Result<bool, PhoneSignUpError> {
        let key = PhoneCodeKey {
            phone_hash: check.keys.lookup_hash(&form.phone),
            purpose: CodePurpose::Signup,
        };
        let now = self.clock.now();
        let Some(record) = check
            .codes
            .attempt_phone_code(&key, MAX_ATTEMPTS, now)
            .await?
        else {
            return Ok(false);
        };
        let submitted =
            check
                .keys
                .code_hash(CodePurpose::Signup.as_str(), &form.phone, code.expose());
        if !bool::from(submitted.as_bytes().ct_eq(record.code_hash.as_bytes())) {
            return Ok(false);
        }
        Ok(check.codes.spend_phone_code(&record).await?)
    }

    async fn rate_limited(
        &self,
        window: &RateWindow,
        device_id: Option<&str>,
        origin: &Origin,
    ) -> PhoneSignUpError {
        self.audit_failure(
            AuditOutcome::Rejected,
            "non_field_errors:rate_limited",
            device_id,
            origin,
        )
        .await;
        PhoneSignUpError::RateLimited {
            retry_after: window.retry_after(self.clock.now()),
        }
    }

    /// A taken number costs the address one sign-up of its quota (a full
    /// quota turns the answer into 429), so it cannot be used to probe
    /// numbers beyond the quota.
    async fn phone_taken(
        &self,
        window: Option<&RateWindow>,
        device_id: Option<&str>,
        origin: &Origin,
    ) -> PhoneSignUpError {
        if let Some(window) = window {
            match self.phone_users.charge_signup_quota(window).await {
                Ok(true) => {}
                Ok(false) => return self.rate_limited(window, device_id, origin).await,
                Err(error) => {
                    self.audit_failure(
                        AuditOutcome::Error,
                        "system:unavailable",
                        device_id,
                        origin,
                    )
                    .await;
                    return error.into();
                }
            }
        }
        self.audit_failure(
            AuditOutcome::Rejected,
            "phone_number:phone_conflict",
            device_id,
            origin,
        )
        .await;
        PhoneSignUpError::PhoneTaken
    }

    fn new_account(
        &self,
        form: &PhoneSignUpForm,
        quota: Option<RateWindow>,
        origin: &Origin,
        now: time::OffsetDateTime,
    ) -> Result<
        (
            NewPhoneAccount,
            crate::session_tokens::refresh::RefreshToken,
        ),
        PhoneSignUpError,
    > {
        let user_id = UserId::new_random();
        let ip = origin.source_ip.map(|ip| ip.to_string());
        let location = form.has_location().then(|| Location {
            id: LocationId::new_random(),
            user_id,
            state: form.state.clone(),
            district: form.district.clone(),
            city_village: form.city_village.clone(),
            created_at: now,
        });
        let user = PhoneUser {
            id: user_id,
            phone: form.phone.clone(),
            name: form.name.clone(),
            status: UserStatus::Active,
            location_id: location.as_ref().map(|l| l.id),
            needs_profile: !location.as_ref().is_some_and(Location::is_complete),
            created_at: now,
            updated_at: now,
            last_login: None,
        };
        let device = form.device_id.clone().map(|id| Device {
            id,
            user_id,
            info: form.device_info.clone(),
            ip: ip.clone(),
            first_seen: now,
            last_seen: now,
        });
        let parts = NewSessionParts::begin(
            user_id,
            form.device_id.clone(),
            ip,
            self.session_policy,
            now,
        )?;
        let mut audit = origin.audit(AuditAction::PhoneSignUp, AuditOutcome::Success, now);
        audit.user_id = Some(user_id);
        audit.device_id = form.device_id.as_ref().map(|d| d.as_str().to_owned());
        let registered = NotificationEvent::new(
            EventType::UserRegistered,
            user_id,
            now,
            // The number stays out of events: a consumer that needs it
            // reads the account.
            json!({ "channel": "phone", "name": user.name.as_str(), "country_code": user.phone.country_code() }),
        );
        let new = NewPhoneAccount {
            user,
            location,
            device,
            session: parts.session,
            refresh: parts.record,
            audit,
            events: vec![registered],
            quota,
            credits: super::credits::opening(self.signup_credits, user_id, now),
        };
        Ok((new, parts.token))
    }

    async fn audit_failure(
        &self,
        outcome: AuditOutcome,
        reason: &str,
        device_id: Option<&str>,
        origin: &Origin,
    ) {
        self.audit(outcome, None, vec![reason.to_owned()], device_id, origin)
            .await;
    }

    /// Every attempt is audited; a failure to audit is logged and does not
    /// change the answer. Never the number: reasons are `field:code` pairs.
    async fn audit(
        &self,
        outcome: AuditOutcome,
        user_id: Option<UserId>,
        reasons: Vec<String>,
        device_id: Option<&str>,
        origin: &Origin,
    ) {
        let mut record = origin.audit(AuditAction::PhoneSignUp, outcome, self.clock.now());
        record.user_id = user_id;
        record.reasons = reasons;
        // A device id that failed to parse is not recorded as sent.
        record.device_id = device_id
            .and_then(|id| DeviceId::parse(id).ok())
            .map(|id| id.as_str().to_owned());
        if let Err(error) = self.audit.record(&record).await {
            tracing::error!(error = %error, "could not write the phone sign-up audit record");
        }
    }
}

/// The 409 body's field error.
pub fn phone_conflict_error() -> FieldErrors {
    FieldErrors::single(
        PHONE_NUMBER,
        FieldError::new(
            ErrorCode::PhoneConflict,
            "A user with this phone number already exists.",
        ),
    )
}
