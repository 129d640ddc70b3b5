//! `POST /auth/phone/otp`: a six-digit code texted to a number, stored only
//! as a keyed hash and sent through the outbox. The number and the code
//! travel sealed (AES-256-GCM under the phone keys, associated data
//! `users-service/sms/v1`) in the event, so neither rests in clear in the
//! outbox item, the table's stream or the queue: only the notification
//! worker, which holds the keys, opens them.

use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::phone_signup_form::PHONE_NUMBER;
use super::Origin;
use crate::crypto::phone_crypto::{
    EncryptedPhone, PhoneCryptoError, PhoneKeys, PhoneKeysLoadError,
};
use crate::domain::dialled_number::DialledNumber;
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::phone_code::{CODE_TTL, RESEND_AFTER};
use crate::domain::{
    AddressBlock, CodePurpose, EventType, NotificationEvent, OneTimeCode, PhoneCodeKey,
    PhoneCodeRecord, PhoneNumber, PhoneRegion, Quota, RateWindow, SmsCountries,
};
use crate::ports::one_time::IssueError;
use crate::ports::phone_codes::PhoneCodes;
use crate::ports::phone_users::PhoneUserStore;
use crate::ports::{Clock, StoreError};
pub use crate::requests::phone::PhoneCodeRequest;

/// The associated data's purpose of a sealed SMS.
pub const SMS_SEAL_PURPOSE: &str = "sms";

/// Limits and the message's parts, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsSettings {
    /// Codes per number (`OTP_NUMBER_LIMIT` per 15 minutes).
    pub per_number: Quota,
    /// Codes per source address (`OTP_IP_LIMIT` per hour).
    pub per_ip: Quota,
    /// Every code requested in a day (`SMS_DAILY_LIMIT`; `None`: off).
    pub daily: Option<Quota>,
    /// Named in the message (`SMS_SERVICE_NAME`).
    pub service_name: String,
    /// Android SMS Retriever app hash (`SMS_APP_HASH`), on a line of its own.
    pub app_hash: Option<String>,
    /// WebOTP origin host (`SMS_WEBOTP_HOST`): the last line `@host #code`.
    pub webotp_host: Option<String>,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            per_number: Quota {
                max: 3,
                window: time::Duration::minutes(15),
            },
            per_ip: Quota {
                max: 10,
                window: time::Duration::hours(1),
            },
            daily: Some(Quota {
                max: 1000,
                window: time::Duration::days(1),
            }),
            service_name: "users-service".into(),
            app_hash: None,
            webotp_host: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PhoneCodeError {
    #[error("request rejected")]
    Rejected(FieldErrors),
    #[error("too many codes requested")]
    RateLimited { retry_after: time::Duration },
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("the phone keys could not be loaded")]
    Keys(#[from] PhoneKeysLoadError),
    #[error("sealing the message failed")]
    Crypto(#[from] PhoneCryptoError),
    #[error("no randomness for the code")]
    Randomness,
}

/// The 202's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeRequested {
    pub expires_in: i64,
    pub resend_after: i64,
}

/// What the worker opens: the number, the code and what it is for.
#[derive(Serialize, Deserialize)]
struct SealedSms {
    to: String,
    code: String,
    purpose: CodePurpose,
}

/// The number of a code request or a code sign-in, read in the
/// deployment's numbering plans.
pub fn resolve_phone(
    dialled: &DialledNumber,
    region: PhoneRegion,
) -> Result<PhoneNumber, FieldErrors> {
    PhoneNumber::from_dialled(dialled, region)
        .map_err(|error| FieldErrors::single(PHONE_NUMBER, error))
}

pub struct PhoneCodeRequests<'a> {
    pub phone_users: &'a dyn PhoneUserStore,
    pub codes: &'a dyn PhoneCodes,
    pub clock: &'a dyn Clock,
    pub keys: &'a PhoneKeys,
    pub settings: &'a SmsSettings,
    pub countries: &'a SmsCountries,
    pub region: PhoneRegion,
}

impl PhoneCodeRequests<'_> {
    /// Two round trips whether or not a code is sent: the number's claim,
    /// then one write counting the request in every window (with the code
    /// and its event when one is sent). A `login` code goes only to a number
    /// with an account, a `signup` code only to one without.
    #[tracing::instrument(name = "phone_code_request", skip_all, fields(purpose))]
    pub async fn run(
        &self,
        request: PhoneCodeRequest,
        origin: &Origin,
    ) -> Result<CodeRequested, PhoneCodeError> {
        let phone =
            resolve_phone(&request.phone_number, self.region).map_err(PhoneCodeError::Rejected)?;
        let purpose = request.purpose.unwrap_or(CodePurpose::Login);
        tracing::Span::current().record("purpose", purpose.as_str());
        if !self.countries.allows(&phone) {
            return Err(PhoneCodeError::Rejected(FieldErrors::single(
                PHONE_NUMBER,
                FieldError::new(
                    ErrorCode::Invalid,
                    "Codes cannot be sent to numbers of this country.",
                ),
            )));
        }
        let now = self.clock.now();
        let phone_hash = self.keys.lookup_hash(&phone);
        let windows = self.windows(&phone_hash, origin, now);
        let owner = self.phone_users.find_by_phone(&phone).await?;
        let send = match purpose {
            CodePurpose::Login => owner.is_some(),
            CodePurpose::Signup => owner.is_none(),
        };
        let issued = if send {
            Some(self.issue(&phone, phone_hash, purpose, owner, now)?)
        } else {
            None
        };
        let (record, events) = match &issued {
            Some((record, event)) => (Some(record), std::slice::from_ref(event)),
            None => (None, &[][..]),
        };
        match self.codes.issue_phone_code(record, events, &windows).await {
            Ok(()) => {}
            Err(IssueError::RateLimited(index)) => {
                let retry_after = windows
                    .get(index)
                    .map_or(time::Duration::minutes(1), |w| w.retry_after(now));
                tracing::info!(window = index, "phone code refused: rate limited");
                return Err(PhoneCodeError::RateLimited { retry_after });
            }
            Err(IssueError::Store(error)) => return Err(error.into()),
        }
        tracing::info!(sent = send, "phone code requested");
        Ok(CodeRequested {
            expires_in: CODE_TTL.whole_seconds(),
            resend_after: RESEND_AFTER.whole_seconds(),
        })
    }

    /// Per number (by its keyed hash: never the number), per source
    /// address block, and the day's ceiling.
    fn windows(&self, phone_hash: &str, origin: &Origin, now: OffsetDateTime) -> Vec<RateWindow> {
        let mut windows = vec![self
            .settings
            .per_number
            .window_at("otp-number", phone_hash, now)];
        if let Some(ip) = origin.source_ip {
            windows.push(self.settings.per_ip.window_at(
                "otp-ip",
                AddressBlock::of(ip).as_str(),
                now,
            ));
        }
        if let Some(daily) = self.settings.daily {
            windows.push(daily.window_at("sms-day", "all", now));
        }
        windows
    }

    fn issue(
        &self,
        phone: &PhoneNumber,
        phone_hash: String,
        purpose: CodePurpose,
        owner: Option<crate::domain::UserId>,
        now: OffsetDateTime,
    ) -> Result<(PhoneCodeRecord, NotificationEvent), PhoneCodeError> {
        let code = OneTimeCode::generate().map_err(|_| PhoneCodeError::Randomness)?;
        let record = PhoneCodeRecord {
            key: PhoneCodeKey {
                phone_hash,
                purpose,
            },
            code_hash: self.keys.code_hash(purpose.as_str(), phone, code.expose()),
            user_id: owner,
            attempts: 0,
            created_at: now,
            expires_at: now + CODE_TTL,
        };
        let sealed = seal_sms(self.keys, phone, &code, purpose)?;
        // Events belong to an account; a sign-up code has none yet, so it
        // is filed under the nil id (the worker never looks it up).
        let user_id = owner.unwrap_or_else(|| crate::domain::UserId::from_uuid(uuid::Uuid::nil()));
        let event = NotificationEvent::new(
            EventType::PhoneCodeRequested,
            user_id,
            now,
            json!({
                "purpose": purpose.as_str(),
                "sealed": sealed,
                "expires_at": record.expires_at.unix_timestamp(),
            }),
        );
        Ok((record, event))
    }
}

fn seal_sms(
    keys: &PhoneKeys,
    phone: &PhoneNumber,
    code: &OneTimeCode,
    purpose: CodePurpose,
) -> Result<EncryptedPhone, PhoneCodeError> {
    let plain = Zeroizing::new(
        serde_json::to_string(&SealedSms {
            to: phone.as_e164().to_owned(),
            code: code.expose().to_owned(),
            purpose,
        })
        .map_err(|e| PhoneCodeError::Store(StoreError::Internal(Box::new(e))))?,
    );
    Ok(keys.encrypt_text(SMS_SEAL_PURPOSE, &plain)?)
}

/// A text message ready to send.
pub struct OpenedSms {
    pub to: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenSmsError {
    #[error("the event holds no sealed message")]
    Malformed,
    #[error(transparent)]
    Crypto(#[from] PhoneCryptoError),
}

/// The kid of the key that sealed the event's message, if it has one.
pub fn sealed_kid(event: &NotificationEvent) -> Option<String> {
    event
        .data
        .get("sealed")
        .and_then(|sealed| sealed.get("kid"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Opens the event's sealed number and code and writes the message. The
/// purpose inside the seal must be the event's.
pub fn open_sms(
    keys: &PhoneKeys,
    event: &NotificationEvent,
    settings: &SmsSettings,
) -> Result<OpenedSms, OpenSmsError> {
    let sealed: EncryptedPhone = event
        .data
        .get("sealed")
        .cloned()
        .and_then(|value| serde_json::from_value(value).ok())
        .ok_or(OpenSmsError::Malformed)?;
    let plain = Zeroizing::new(keys.decrypt_text(SMS_SEAL_PURPOSE, &sealed)?);
    let opened: SealedSms = serde_json::from_str(&plain).map_err(|_| OpenSmsError::Malformed)?;
    let event_purpose = event.data.get("purpose").and_then(Value::as_str);
    if event_purpose != Some(opened.purpose.as_str()) {
        return Err(OpenSmsError::Malformed);
    }
    let text = sms_text(settings, &opened.code, opened.purpose);
    Ok(OpenedSms {
        to: opened.to.clone(),
        text,
    })
}

/// The message: names the service, says not to share the code; then the
/// Android SMS Retriever hash and the WebOTP line (which must be the last
/// line) when configured.
pub fn sms_text(settings: &SmsSettings, code: &str, purpose: CodePurpose) -> String {
    let action = match purpose {
        CodePurpose::Login => "sign-in",
        CodePurpose::Signup => "sign-up",
    };
    let mut text = format!(
        "{code} is your {} {action} code. It expires in {} minutes. Do not share this code with anyone.",
        settings.service_name,
        CODE_TTL.whole_minutes(),
    );
    if let Some(hash) = &settings.app_hash {
        text.push_str("\n\n");
        text.push_str(hash);
    }
    if let Some(host) = &settings.webotp_host {
        text.push_str(if settings.app_hash.is_some() {
            "\n"
        } else {
            "\n\n"
        });
        text.push_str(&format!("@{host} #{code}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_service_and_warns() {
        let mut settings = SmsSettings::default();
        let text = sms_text(&settings, "123456", CodePurpose::Login);
        assert!(text.starts_with("123456 is your users-service sign-in code."));
        assert!(text.contains("Do not share"));
        settings.app_hash = Some("FA+9qCX9VSu".into());
        settings.webotp_host = Some("app.example.com".into());
        let text = sms_text(&settings, "123456", CodePurpose::Signup);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.last(), Some(&"@app.example.com #123456"));
        assert_eq!(lines[lines.len() - 2], "FA+9qCX9VSu");
    }

    #[test]
    fn sealed_messages_open_only_for_their_purpose() {
        let keys = PhoneKeys::generate(OffsetDateTime::now_utc());
        let phone = PhoneNumber::parse("+919876543210", PhoneRegion::default()).unwrap();
        let code = OneTimeCode::parse("654321").unwrap();
        let sealed = seal_sms(&keys, &phone, &code, CodePurpose::Login).unwrap();
        assert!(!sealed.ciphertext.contains("654321"));
        let mut event = NotificationEvent::new(
            EventType::PhoneCodeRequested,
            crate::domain::UserId::new_random(),
            OffsetDateTime::now_utc(),
            json!({"purpose": "login", "sealed": sealed}),
        );
        let opened = open_sms(&keys, &event, &SmsSettings::default()).unwrap();
        assert_eq!(opened.to, "+919876543210");
        assert!(opened.text.contains("654321"));
        event.data["purpose"] = json!("signup");
        assert!(open_sms(&keys, &event, &SmsSettings::default()).is_err());
        // Another field's purpose does not open it.
        let sealed: EncryptedPhone = serde_json::from_value(event.data["sealed"].clone()).unwrap();
        assert!(keys.decrypt_text("phone", &sealed).is_err());
    }
}
