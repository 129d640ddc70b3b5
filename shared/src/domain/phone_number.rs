//! The phone number of the phone sign-up (`POST /auth/phone/signup`):
//! parsed and validated against the ITU numbering plans of the
//! `phonenumber` crate (libphonenumber's metadata), held in E.164 form
//! (`+919876543210`) with its country calling code.
//!
//! Accepted input, after trimming: ASCII digits, spaces, `-`, `(`, `)`, `.`
//! and one leading `+`, at most 32 characters.
//!
//! - `+` first: an international number, its country code read from it.
//! - exactly 10 digits without `+`: a national number of the configured
//!   default region (`PHONE_DEFAULT_REGION`, `IN` unless set), read as
//!   `+<its calling code><digits>` (a trunk prefix such as Australia's `0`
//!   is then dropped by the numbering plan).
//! - any other digit count without `+`: refused, so `919876543210` or
//!   `00919876543210` are never guessed at.
//!
//! Either way the number must then be valid in its numbering plan
//! (`phonenumber::is_valid`): right length, assigned prefix, known country
//! code.
//!
//! The crate's numbering-plan metadata is loaded on first use, which takes
//! about 80 ms in a release build (measured on the 2-core dev machine);
//! [`load_numbering_plans`] does it on purpose, e.g. in a Lambda's init.
//!
//! The contact numbers of the username sign-up (`mobileNo`, …) follow
//! docs/API.md's looser pattern instead: see `domain::phone::ContactNumber`.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;

use super::dialled_number::INVALID_MESSAGE;
pub use super::dialled_number::{DialledNumber, MAX_INPUT_CHARS};
use super::errors::FieldError;
use crate::config::ConfigError;

/// The environment variable naming the default region.
pub const DEFAULT_REGION_VARIABLE: &str = "PHONE_DEFAULT_REGION";

/// Digits of a national number written without `+`.
const NATIONAL_DIGITS: usize = 10;
use super::dialled_number::MAX_E164_DIGITS;
/// The digits a masked number keeps visible.
const VISIBLE_DIGITS: usize = 4;

const NEEDS_COUNTRY_CODE_MESSAGE: &str =
    "Enter the number with its country code, e.g. +919876543210.";

/// Loads the numbering-plan metadata now rather than at the first parse.
pub fn load_numbering_plans() {
    let _ = &*DATABASE;
}

/// A valid phone number in E.164 form, with its country calling code.
///
/// Phone numbers identify people: `Debug` shows only the country code, and
/// there is no `Display`; use [`PhoneNumber::as_e164`] where the number is
/// meant to go (the response body, the encryption) and
/// [`PhoneNumber::masked`] for logs and UI.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    country_code: u16,
}

impl PhoneNumber {
    /// Parses what a client sent (see the module documentation), with
    /// `default` giving 10-digit numbers without `+` their country.
    pub fn parse(raw: &str, default: PhoneRegion) -> Result<Self, FieldError> {
        Self::from_dialled(&DialledNumber::parse(raw)?, default)
    }

    /// The number a client dialled, read in its numbering plan, with
    /// `default` giving 10-digit numbers without `+` their country.
    pub fn from_dialled(dialled: &DialledNumber, default: PhoneRegion) -> Result<Self, FieldError> {
        let digits = dialled.digits();
        let expected_code = if dialled.is_international() {
            None
        } else if digits.len() == NATIONAL_DIGITS {
            Some(default.calling_code)
        } else {
            return Err(FieldError::invalid(NEEDS_COUNTRY_CODE_MESSAGE));
        };
        // A national number gets the default region's calling code put in
        // front and is then read like any international one. Handing the
        // crate the bare digits with a default region instead lets it take
        // a leading `91` for the country code: `9178501366` would become
        // `+91 78501366` (invalid) rather than `+91 91785 01366`, and in
        // other plans a different, valid number.
        let international_form = match expected_code {
            Some(code) => format!("+{code}{digits}"),
            None => format!("+{digits}"),
        };
        phonenumber::parse(None, international_form)
            .ok()
            .filter(|number| {
                number.extension().is_none()
                    && expected_code.is_none_or(|code| number.code().value() == code)
                    && phonenumber::is_valid(number)
            })
            .and_then(|number| {
                Self::from_parts(number.code().value(), &number.national().to_string())
            })
            .ok_or_else(|| FieldError::invalid(INVALID_MESSAGE))
    }

    /// Rebuilds a number this type produced earlier (for instance a
    /// decrypted one) from its E.164 text. Unlike [`PhoneNumber::parse`] it
    /// does not re-check validity, so a number stays readable after a
    /// numbering-plan update retires its prefix; it only requires the
    /// canonical form: `+`, a known country code, at most 15 digits.
    pub fn from_e164(e164: &str) -> Option<Self> {
        let digits = e164.strip_prefix('+')?;
        if digits.is_empty()
            || digits.len() > MAX_E164_DIGITS
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let number = phonenumber::parse(None, e164).ok()?;
        let rebuilt = Self::from_parts(number.code().value(), &number.national().to_string())?;
        (rebuilt.e164 == e164).then_some(rebuilt)
    }

    /// A number as this service stored it, with the calling code stored
    /// beside it: checks the shape only and never touches the numbering
    /// plans, so reading an account does not load their metadata (tens of
    /// milliseconds) into a function that never parses a number.
    pub fn from_stored(e164: &str, country_code: u16) -> Option<Self> {
        let digits = e164.strip_prefix('+')?;
        let national = digits.strip_prefix(&country_code.to_string())?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Self::from_parts(country_code, national)
    }

    fn from_parts(country_code: u16, national: &str) -> Option<Self> {
        let e164 = format!("+{country_code}{national}");
        let digit_count = e164.len() - 1;
        (national.len() > VISIBLE_DIGITS && digit_count <= MAX_E164_DIGITS)
            .then_some(Self { e164, country_code })
    }

    /// The number in E.164 form, e.g. `+919876543210`.
    pub fn as_e164(&self) -> &str {
        &self.e164
    }

    /// The country calling code with its `+`, e.g. `+91`.
    pub fn country_code(&self) -> String {
        format!("+{}", self.country_code)
    }

    /// The country calling code as a number, e.g. `91`.
    pub fn country_calling_code(&self) -> u16 {
        self.country_code
    }

    /// The national significant number: the E.164 digits after the country
    /// code, e.g. `9876543210`.
    pub fn national_number(&self) -> &str {
        &self.e164[1 + self.calling_code_len()..]
    }

    /// The number for logs and UI: country code, a `*` per hidden digit and
    /// the last four digits, e.g. `+91******3210`.
    pub fn masked(&self) -> String {
        let national = self.national_number();
        let hidden = national.len().saturating_sub(VISIBLE_DIGITS);
        format!(
            "+{}{}{}",
            self.country_code,
            "*".repeat(hidden),
            &national[hidden..]
        )
    }

    /// Whether `written` is this number as a person would type it: E.164
    /// (`+91 98765 43210`, `0091…`) or the national number alone, spaces,
    /// dashes, dots and brackets ignored. Compares digits only, so it
    /// needs no numbering plan (which would add about a megabyte to the
    /// functions that only confirm a number they hold).
    pub fn is_written_as(&self, written: &str) -> bool {
        let trimmed = written.trim();
        if trimmed.is_empty()
            || !trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || " -.()+".contains(c))
            || trimmed.chars().skip(1).any(|c| c == '+')
        {
            return false;
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let international = digits.strip_prefix("00").unwrap_or(&digits);
        international == &self.e164[1..] || digits == self.national_number()
    }

    fn calling_code_len(&self) -> usize {
        self.country_code.to_string().len()
    }
}

/// Shows the country code only: `PhoneNumber(+91…<redacted>)`.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber(+{}…<redacted>)", self.country_code)
    }
}

/// The country whose numbers may be written without `+` and country code
/// (exactly 10 digits). `IN` unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion {
    id: Id,
    calling_code: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a two-letter region code with a numbering plan, such as IN or US, got {0:?}")]
pub struct UnknownRegion(String);

impl PhoneRegion {
    /// India, `+91`.
    pub const INDIA: PhoneRegion = PhoneRegion {
        id: Id::IN,
        calling_code: 91,
    };

    /// `PHONE_DEFAULT_REGION` from the environment, `IN` when unset.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// `PHONE_DEFAULT_REGION` through `lookup` (tests pass a map); unset or
    /// blank means `IN`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match lookup(DEFAULT_REGION_VARIABLE)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
        {
            None => Ok(Self::default()),
            Some(value) => value.parse().map_err(|error: UnknownRegion| ConfigError {
                variable: DEFAULT_REGION_VARIABLE,
                problem: error.to_string(),
            }),
        }
    }

    /// The CLDR region code, e.g. `IN`.
    pub fn code(&self) -> &str {
        self.id.as_ref()
    }

    /// The region's country calling code, e.g. `91`.
    pub fn calling_code(&self) -> u16 {
        self.calling_code
    }

    pub fn id(&self) -> Id {
        self.id
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self::INDIA
    }
}

/// A region code such as `IN` or `us` (case-insensitive, trimmed). Only
/// regions with numbering-plan metadata are accepted.
impl FromStr for PhoneRegion {
    type Err = UnknownRegion;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let code = code.trim();
        let unknown = || UnknownRegion(code.chars().take(16).collect());
        if code.len() != 2 {
            return Err(unknown());
        }
        let id = Id::from_str(&code.to_ascii_uppercase()).map_err(|_| unknown())?;
        // The parser unwraps the metadata of the default region, so a
        // region without any must never get this far.
        let metadata = DATABASE.by_id(id.as_ref()).ok_or_else(unknown)?;
        Ok(Self {
            id,
            calling_code: metadata.country_code(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;
    use std::collections::HashMap;

    fn india(raw: &str) -> Result<PhoneNumber, FieldError> {
        PhoneNumber::parse(raw, PhoneRegion::default())
    }

    fn us() -> PhoneRegion {
        "US".parse().unwrap()
    }

    #[test]
    fn numbers_are_recognised_as_people_write_them() {
        let number = PhoneNumber::from_stored("+919876543210", 91).unwrap();
        for written in [
            "+919876543210",
            "+91 98765 43210",
            "0091-98765-43210",
            "9876543210",
            " (98765) 43210 ",
        ] {
            assert!(number.is_written_as(written), "{written}");
        }
        for written in [
            "",
            "+91987654321",
            "919876543211",
            "98765 4321x",
            "9+876543210",
            "43210",
        ] {
            assert!(!number.is_written_as(written), "{written}");
        }
    }

    #[test]
    fn stored_numbers_read_back_without_the_plans() {
        let parsed = india("9876543210").unwrap();
        let stored = PhoneNumber::from_stored(parsed.as_e164(), 91).unwrap();
        assert_eq!(stored, parsed);
        assert_eq!(stored.country_code(), "+91");
        assert!(PhoneNumber::from_stored("+919876543210", 1).is_none());
        assert!(PhoneNumber::from_stored("919876543210", 91).is_none());
        assert!(PhoneNumber::from_stored("+91987x543210", 91).is_none());
        assert!(PhoneNumber::from_stored("+91123", 91).is_none());
    }

    #[test]
    fn international_numbers_keep_their_country() {
        let cases = [
            ("+919876543210", "+919876543210", "+91"),
            ("+91 98765 43210", "+919876543210", "+91"),
            ("+91-98765-43210", "+919876543210", "+91"),
            ("  +91 (98765) 43210 ", "+919876543210", "+91"),
            ("+1 415 555 2671", "+14155552671", "+1"),
            ("+1 (415) 555-2671", "+14155552671", "+1"),
            ("+1.415.555.2671", "+14155552671", "+1"),
            ("+44 20 7946 0958", "+442079460958", "+44"),
            ("+44 (0) 20 7946 0958", "+442079460958", "+44"),
        ];
        for (raw, e164, country) in cases {
            let number = india(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert_eq!(number.as_e164(), e164, "{raw}");
            assert_eq!(number.country_code(), country, "{raw}");
        }
        // The default region does not matter once there is a `+`.
        assert_eq!(
            PhoneNumber::parse("+919876543210", us()).unwrap().as_e164(),
            "+919876543210"
        );
    }

    #[test]
    fn ten_digits_take_the_default_region() {
        for raw in ["9876543210", "98765 43210", "98765-43210", "(98765) 43210"] {
            let number = india(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert_eq!(number.as_e164(), "+919876543210", "{raw}");
            assert_eq!(number.country_code(), "+91");
            assert_eq!(number.country_calling_code(), 91);
            assert_eq!(number.national_number(), "9876543210");
        }
        // National numbers that begin with the country code's digits.
        for (raw, e164) in [
            ("9178501366", "+919178501366"),
            ("91785 01366", "+919178501366"),
            ("9191919191", "+919191919191"),
        ] {
            assert_eq!(india(raw).unwrap().as_e164(), e164, "{raw}");
        }
        // A trunk prefix counts among the 10 digits where the plan has one.
        let australia: PhoneRegion = "AU".parse().unwrap();
        assert_eq!(
            PhoneNumber::parse("0412 345 678", australia)
                .unwrap()
                .as_e164(),
            "+61412345678"
        );
        let american = PhoneNumber::parse("4155552671", us()).unwrap();
        assert_eq!(american.as_e164(), "+14155552671");
        assert_eq!(american.country_code(), "+1");
        assert_eq!(
            PhoneNumber::parse("(415) 555-2671", us()).unwrap(),
            american
        );
    }

    #[test]
    fn both_spellings_of_one_number_are_equal() {
        assert_eq!(
            india("9876543210").unwrap(),
            india("+919876543210").unwrap()
        );
    }

    #[test]
    fn impossible_numbers_are_invalid() {
        for raw in [
            "+91987654321",    // one digit short
            "+9198765432101",  // one digit long
            "+91 12345",       // far too short
            "+999 123456789",  // no such country code
            "+0919876543210",  // country codes never start with 0
            "+91 1111111111",  // not an assigned Indian prefix
            "+91 0987654321",  // trunk prefix: nine digits remain
            "+1 123 555 2671", // US area codes never start with 1
            "+",
            "+ - ",
            "---",
            "+1234567890123456", // more than 15 digits
        ] {
            let Err(error) = india(raw) else {
                panic!("{raw} was accepted");
            };
            assert_eq!(error.code, ErrorCode::Invalid, "{raw}");
            assert_eq!(error.message, INVALID_MESSAGE, "{raw}");
        }
    }

    #[test]
    fn other_digit_counts_without_plus_need_the_country_code() {
        for raw in [
            "919876543210",   // 12 digits: country code without `+`
            "19876543210",    // 11 digits
            "09876543210",    // trunk prefix + 10 digits
            "00919876543210", // international dialling prefix
            "987654321",      // 9 digits
            "12345",
        ] {
            let error = india(raw).unwrap_err();
            assert_eq!(error.code, ErrorCode::Invalid, "{raw}");
            assert_eq!(error.message, NEEDS_COUNTRY_CODE_MESSAGE, "{raw}");
        }
    }

    #[test]
    fn letters_symbols_and_other_scripts_are_invalid() {
        for raw in [
            "98765abcde",
            "+91 98765 4321O",
            "+1 800 FLOWERS",
            "+1 415 555 2671 ext. 12",
            "+1 415 555 2671;ext=12",
            "tel:+1-415-555-2671",
            "++919876543210",
            "+91+9876543210",
            "9876543210+",
            "+91_9876543210",
            "+91/9876543210",
            "٩٨٧٦٥٤٣٢١٠",
            "+٩١٩٨٧٦٥٤٣٢١٠",
            "９８７６５４３２１０",
            "＋919876543210",
            "+91\t9876543210",
            "+91\u{a0}9876543210",
        ] {
            let error = india(raw).unwrap_err();
            assert_eq!(error.code, ErrorCode::Invalid, "{raw}");
            assert_eq!(error.message, INVALID_MESSAGE, "{raw}");
        }
    }

    #[test]
    fn blank_and_overlong_input() {
        for raw in ["", "   ", "\n\t"] {
            assert_eq!(india(raw).unwrap_err().code, ErrorCode::Required, "{raw:?}");
        }
        let long = format!("+91 {}", "9".repeat(MAX_INPUT_CHARS));
        let error = india(&long).unwrap_err();
        assert_eq!(error.code, ErrorCode::TooLong);
        assert_eq!(
            error.message,
            "Ensure this field has no more than 32 characters."
        );
        // 32 characters exactly is fine when the number is.
        let padded = format!("+91{}9876543210", " ".repeat(32 - 13));
        assert_eq!(padded.chars().count(), 32);
        assert_eq!(india(&padded).unwrap().as_e164(), "+919876543210");
    }

    #[test]
    fn masked_keeps_the_country_code_and_last_four_digits() {
        assert_eq!(india("9876543210").unwrap().masked(), "+91******3210");
        assert_eq!(india("+1 415 555 2671").unwrap().masked(), "+1******2671");
        assert_eq!(india("+44 20 7946 0958").unwrap().masked(), "+44******0958");
    }

    #[test]
    fn debug_never_shows_the_number() {
        let number = india("+919876543210").unwrap();
        let shown = format!("{number:?}");
        assert_eq!(shown, "PhoneNumber(+91…<redacted>)");
        let shown = format!("{:?}", Some(&number));
        assert!(
            !shown.contains("9876") && !shown.contains("3210"),
            "{shown}"
        );
    }

    #[test]
    fn from_e164_accepts_only_the_canonical_form() {
        let number = india("+919876543210").unwrap();
        assert_eq!(PhoneNumber::from_e164("+919876543210"), Some(number));
        let london = PhoneNumber::from_e164("+442079460958").unwrap();
        assert_eq!(london.country_code(), "+44");
        assert_eq!(london.national_number(), "2079460958");
        for bad in [
            "",
            "+",
            "919876543210",
            "+91 98765 43210",
            "+4402079460958",
            "+999123456789",
            "+91987654321012345",
            "+٩١٩٨٧٦٥٤٣٢١٠",
        ] {
            assert_eq!(PhoneNumber::from_e164(bad), None, "{bad}");
        }
    }

    #[test]
    fn regions_parse_from_codes() {
        assert_eq!(PhoneRegion::default(), "IN".parse().unwrap());
        assert_eq!(PhoneRegion::default().calling_code(), 91);
        assert_eq!(PhoneRegion::INDIA.code(), "IN");
        let region: PhoneRegion = " us ".parse().unwrap();
        assert_eq!((region.code(), region.calling_code()), ("US", 1));
        let region: PhoneRegion = "GB".parse().unwrap();
        assert_eq!(region.calling_code(), 44);
        for bad in ["", "XX", "IND", "India", "+91", "91", "001", "ZZ", "I"] {
            assert!(bad.parse::<PhoneRegion>().is_err(), "{bad}");
        }
        // Every region the crate names parses, with a calling code, and
        // parsing with it as the default never panics.
        for metadata in DATABASE.iter() {
            if let Ok(region) = metadata.id().parse::<PhoneRegion>() {
                assert_eq!(region.calling_code(), metadata.country_code());
                let _ = PhoneNumber::parse("0012345678", region);
                let _ = PhoneNumber::parse("1234567890", region);
            }
        }
    }

    #[test]
    fn region_from_configuration() {
        let lookup = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            PhoneRegion::from_lookup(move |name| map.get(name).cloned())
        };
        assert_eq!(lookup(&[]).unwrap(), PhoneRegion::INDIA);
        assert_eq!(
            lookup(&[("PHONE_DEFAULT_REGION", "  ")]).unwrap(),
            PhoneRegion::INDIA
        );
        assert_eq!(
            lookup(&[("PHONE_DEFAULT_REGION", "US")]).unwrap().code(),
            "US"
        );
        let error = lookup(&[("PHONE_DEFAULT_REGION", "Narnia")]).unwrap_err();
        assert_eq!(error.variable, "PHONE_DEFAULT_REGION");
        assert!(error.to_string().contains("\"Narnia\""), "{error}");
    }
}
