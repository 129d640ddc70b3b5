//! One-time codes sent by SMS: what they are for, the code itself (six
//! digits, only ever stored as a keyed hash) and the stored record.

use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use time::{Duration, OffsetDateTime};

use serde_json::Value;

use super::errors::{FieldError, FieldErrors};
use super::phone_number::{PhoneNumber, PhoneRegion};
use super::request::{read_exact, read_string, FieldValue, Reading};
use super::user::UserId;

/// How long a code may be used.
pub const CODE_TTL: Duration = Duration::minutes(5);
/// Guesses a code survives: the fifth wrong one (or any after) kills it.
pub const MAX_ATTEMPTS: u32 = 5;
/// The hint the request answers for the client's "resend" button.
pub const RESEND_AFTER: Duration = Duration::seconds(60);
pub const CODE_DIGITS: usize = 6;

/// What a code proves: that the holder of the number signs in, or signs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePurpose {
    Login,
    Signup,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Signup => "signup",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "login" => Ok(Self::Login),
            "signup" => Ok(Self::Signup),
            _ => Err(FieldError::invalid(
                "purpose must be \"login\" or \"signup\"",
            )),
        }
    }
}

/// A six-digit code. Held as a secret: its `Debug` shows nothing.
pub struct OneTimeCode(SecretString);

impl std::fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeCode(..)")
    }
}

impl OneTimeCode {
    /// A uniform draw from 000000–999999 with the operating system's
    /// generator. Rejection sampling over `getrandom` (the crate this
    /// service already uses for every secret) rather than `rand`: it is the
    /// whole of what `rand`'s uniform range would do here, without another
    /// dependency. Values at or above the largest multiple of 10^6 that
    /// fits in a u32 are drawn again, so no code is likelier than another.
    pub fn generate() -> Result<Self, getrandom::Error> {
        const RANGE: u32 = 1_000_000;
        // 4294 × 10^6: every value below it is accepted, as often as any.
        const LIMIT: u32 = (u32::MAX / RANGE) * RANGE;
        loop {
            let mut bytes = [0u8; 4];
            getrandom::fill(&mut bytes)?;
            let value = u32::from_le_bytes(bytes);
            if value < LIMIT {
                return Ok(Self(SecretString::from(format!("{:06}", value % RANGE))));
            }
        }
    }

    /// Exactly six ASCII digits.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.len() == CODE_DIGITS && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(SecretString::from(raw.to_owned())))
        } else {
            Err(FieldError::invalid("The code must be 6 digits."))
        }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Where a code is stored: the number's keyed hash (never the number) and
/// the purpose. A new code for the same pair replaces the old one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneCodeKey {
    pub phone_hash: String,
    pub purpose: CodePurpose,
}

/// A stored code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCodeRecord {
    pub key: PhoneCodeKey,
    /// Keyed hash of the code (`PhoneKeys::code_hash`).
    pub code_hash: String,
    /// The account a `login` code signs in to.
    pub user_id: Option<UserId>,
    /// Guesses counted so far, the right one included.
    pub attempts: u32,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// `SMS_COUNTRIES`: the regions codes may be sent to, so nobody can make
/// the service text premium numbers abroad. Numbers are matched by their
/// country calling code (regions sharing one, such as the NANP's, are
/// allowed together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsCountries(Vec<PhoneRegion>);

impl Default for SmsCountries {
    fn default() -> Self {
        Self(vec![PhoneRegion::default()])
    }
}

impl SmsCountries {
    /// Comma-separated region codes (`IN,LK`); at least one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let regions = raw
            .split(',')
            .map(str::trim)
            .filter(|code| !code.is_empty())
            .map(|code| {
                PhoneRegion::from_str(&code.to_ascii_uppercase())
                    .map_err(|_| format!("{code} is not a region with a numbering plan"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if regions.is_empty() {
            return Err("name at least one region code".into());
        }
        Ok(Self(regions))
    }

    pub fn allows(&self, phone: &PhoneNumber) -> bool {
        self.0
            .iter()
            .any(|region| region.calling_code() == phone.country_calling_code())
    }
}

impl FieldValue for CodePurpose {
    /// Trimmed; sent blank it is refused, not read as the default.
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_string(value, name, errors, |text| match text.trim() {
            "" => Err(FieldError::blank()),
            trimmed => Self::parse(trimmed),
        })
    }
}

impl FieldValue for OneTimeCode {
    /// As sent: a code with spaces around it is not six digits.
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_exact(value, name, errors, Self::parse)
    }
}

crate::field_schema!(CodePurpose => string()
    .enum_values(Some([CodePurpose::Login, CodePurpose::Signup].map(CodePurpose::as_str)))
    .examples(["login"]));
crate::field_schema!(OneTimeCode => string()
    .pattern(Some(format!("^[0-9]{{{CODE_DIGITS}}}$")))
    .examples(["123456"]));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..200 {
            let code = OneTimeCode::generate().unwrap();
            assert_eq!(code.expose().len(), 6);
            assert!(OneTimeCode::parse(code.expose()).is_ok());
        }
        assert!(OneTimeCode::parse("12345").is_err());
        assert!(OneTimeCode::parse("1234567").is_err());
        assert!(OneTimeCode::parse("12345a").is_err());
        assert!(OneTimeCode::parse("١٢٣٤٥٦").is_err());
        assert!(!format!("{:?}", OneTimeCode::parse("123456").unwrap()).contains("123456"));
    }

    #[test]
    fn purposes_parse() {
        assert_eq!(CodePurpose::parse("login").unwrap(), CodePurpose::Login);
        assert_eq!(CodePurpose::parse("signup").unwrap(), CodePurpose::Signup);
        assert!(CodePurpose::parse("reset").is_err());
    }

    #[test]
    fn countries_match_calling_codes() {
        let india = SmsCountries::default();
        let region = PhoneRegion::default();
        assert!(india.allows(&PhoneNumber::parse("+919876543210", region).unwrap()));
        assert!(!india.allows(&PhoneNumber::parse("+447911123456", region).unwrap()));
        let both = SmsCountries::parse("in, gb").unwrap();
        assert!(both.allows(&PhoneNumber::parse("+447911123456", region).unwrap()));
        assert!(SmsCountries::parse("").is_err());
        assert!(SmsCountries::parse("XX").is_err());
    }
}
