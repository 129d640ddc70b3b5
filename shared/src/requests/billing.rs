//! `POST /billing/checkout`.

use serde_json::Value;

use crate::domain::errors::{FieldError, FieldErrors};
use crate::domain::request::{FieldValue, Reading};

crate::request_body! {
    /// `POST /billing/checkout`.
    pub struct CheckoutRequest {
        /// The name of a configured pack (`CREDIT_PACKS`); anything else is
        /// 400 `invalid` naming the packs on sale.
        pub pack: PackName,
    }
}

/// A pack's name as sent, trimmed; whether it is on sale is the
/// deployment's to say (its document lists the names in `enum`).
#[derive(Debug)]
pub struct PackName(String);

impl PackName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FieldValue for PackName {
    /// Any string, blank included: a name that is no pack is refused with
    /// the names on sale.
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let result = match value.as_str() {
            Some(text) => Ok(Self(text.trim().to_owned())),
            None => Err(FieldError::invalid("Must be a string.")),
        };
        Reading::from_result(result, name, errors)
    }
}

crate::field_schema!(PackName => string());
