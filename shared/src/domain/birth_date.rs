//! A date of birth: `YYYY-MM-DD`, in the past, not before 1900.

use time::macros::{date, format_description};
use time::Date;

use super::errors::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthDate(Date);

/// Earlier dates are typing mistakes rather than people.
const EARLIEST: Date = date!(1900 - 01 - 01);

impl BirthDate {
    /// `today` is the service's date (UTC): a birth date is before it.
    pub fn parse(raw: &str, today: Date) -> Result<Self, FieldError> {
        let format = format_description!("[year]-[month]-[day]");
        let date = Date::parse(raw.trim(), &format)
            .map_err(|_| FieldError::invalid("Date has wrong format. Use YYYY-MM-DD."))?;
        if date >= today {
            return Err(FieldError::invalid("Date of birth must be in the past."));
        }
        if date < EARLIEST {
            return Err(FieldError::invalid(
                "Date of birth must not be before 1900-01-01.",
            ));
        }
        Ok(Self(date))
    }

    /// A value read back from storage, where it was valid when written.
    pub fn from_stored(raw: &str) -> Option<Self> {
        Date::parse(raw, &format_description!("[year]-[month]-[day]"))
            .ok()
            .map(Self)
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(self) -> String {
        self.0
            .format(&format_description!("[year]-[month]-[day]"))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;

    #[test]
    fn past_dates_in_range_only() {
        let today = date!(2026 - 12 - 03);
        assert_eq!(
            BirthDate::parse("1990-02-28", today).unwrap().to_iso(),
            "1990-02-28"
        );
        for bad in [
            "1990-02-30",
            "28/02/1990",
            "1990-2-28",
            "2026-12-03",
            "2030-01-01",
            "1899-12-31",
            "",
        ] {
            assert_eq!(
                BirthDate::parse(bad, today).unwrap_err().code,
                ErrorCode::Invalid,
                "{bad}"
            );
        }
        assert_eq!(
            BirthDate::from_stored("1990-02-28"),
            Some(BirthDate::parse("1990-02-28", today).unwrap())
        );
    }
}
