//! `POST /admin/users/{id}/credits`: an operator's manual entry.

use serde_json::Value;

use crate::domain::credits::{MAX_ENTRY_AMOUNT, MAX_REASON_CHARS};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::request::{FieldValue, Reading};

crate::request_body! {
    /// `POST /admin/users/{id}/credits`.
    pub struct AdminCreditRequest {
        /// A whole number, not 0, at most 1,000,000,000 either way;
        /// negative removes credits (never below a balance of 0).
        pub amount: EntryAmount,
        /// One line, 1 to 200 characters: shown to the user as the
        /// entry's reason.
        pub reason: EntryReason,
    }
}

/// Credits an entry moves: a whole number, not zero, at most
/// [`MAX_ENTRY_AMOUNT`] either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryAmount(i64);

impl EntryAmount {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl FieldValue for EntryAmount {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let result = match value {
            Value::Number(n) => match n.as_i64() {
                // Not `abs()`: `i64::MIN` has no positive twin (a panic,
                // or in release a wrapped value that passes the check).
                Some(a) if a != 0 && (-MAX_ENTRY_AMOUNT..=MAX_ENTRY_AMOUNT).contains(&a) => {
                    Ok(Self(a))
                }
                _ => Err(FieldError::invalid(format!(
                    "Must be a whole number, not 0, from -{MAX_ENTRY_AMOUNT} to {MAX_ENTRY_AMOUNT}."
                ))),
            },
            _ => Err(FieldError::invalid("Must be a whole number.")),
        };
        Reading::from_result(result, name, errors)
    }
}

/// The operator's words: one line of 1 to [`MAX_REASON_CHARS`]
/// characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryReason(String);

impl EntryReason {
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FieldValue for EntryReason {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let result = match value {
            Value::String(text) => {
                let text = text.trim();
                if text.is_empty() {
                    Err(FieldError::required())
                } else if text.chars().count() > MAX_REASON_CHARS {
                    Err(FieldError::new(
                        ErrorCode::TooLong,
                        format!("At most {MAX_REASON_CHARS} characters."),
                    ))
                } else if text.chars().any(char::is_control) {
                    Err(FieldError::invalid("One line of text."))
                } else {
                    Ok(Self(text.to_owned()))
                }
            }
            _ => Err(FieldError::invalid("Must be a string.")),
        };
        Reading::from_result(result, name, errors)
    }
}

crate::field_schema!(EntryAmount => integer()
    .minimum(Some(-MAX_ENTRY_AMOUNT))
    .maximum(Some(MAX_ENTRY_AMOUNT)));
crate::field_schema!(EntryReason => string()
    .min_length(Some(1))
    .max_length(Some(MAX_REASON_CHARS)));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::RequestBody;
    use serde_json::json;

    fn parse(value: Value) -> Result<(i64, String), FieldErrors> {
        AdminCreditRequest::from_fields(value.as_object().unwrap())
            .map(|entry| (entry.amount.get(), entry.reason.into_string()))
    }

    #[test]
    fn admin_entries_are_checked() {
        assert_eq!(
            parse(json!({"amount": -5, "reason": " goodwill "})).unwrap(),
            (-5, "goodwill".into())
        );
        let errors = parse(json!({"amount": 0, "reason": ""})).unwrap_err();
        assert_eq!(errors.codes("amount"), vec![ErrorCode::Invalid]);
        assert_eq!(errors.codes("reason"), vec![ErrorCode::Required]);
        let errors = parse(json!({"amount": 1.5, "reason": "x".repeat(201)})).unwrap_err();
        assert_eq!(errors.codes("amount"), vec![ErrorCode::Invalid]);
        assert_eq!(errors.codes("reason"), vec![ErrorCode::TooLong]);
        let errors = parse(json!({})).unwrap_err();
        assert_eq!(errors.codes("amount"), vec![ErrorCode::Required]);
    }

    #[test]
    fn admin_amounts_stay_within_the_bounds_at_the_extremes() {
        let entry = |amount: Value| parse(json!({"amount": amount, "reason": "goodwill"}));
        assert_eq!(entry(json!(MAX_ENTRY_AMOUNT)).unwrap().0, MAX_ENTRY_AMOUNT);
        assert_eq!(
            entry(json!(-MAX_ENTRY_AMOUNT)).unwrap().0,
            -MAX_ENTRY_AMOUNT
        );
        for refused in [
            json!(i64::MIN),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(MAX_ENTRY_AMOUNT + 1),
            json!(-MAX_ENTRY_AMOUNT - 1),
            json!(0),
            json!(1.5),
        ] {
            assert!(entry(refused.clone()).is_err(), "{refused}");
        }
    }
}
