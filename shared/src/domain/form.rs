//! Reading fields out of a JSON object: the first step from HTTP input to
//! domain data. Every reader distinguishes missing, null, wrong type and blank.

use serde_json::{Map, Value};

use super::errors::FieldError;

/// A JSON request body that is an object.
pub struct Form<'a> {
    fields: &'a Map<String, Value>,
}

impl<'a> Form<'a> {
    pub fn new(fields: &'a Map<String, Value>) -> Self {
        Self { fields }
    }

    /// A required string, whitespace trimmed (as DRF's `CharField` does).
    pub fn required_text(&self, name: &str) -> Result<&'a str, FieldError> {
        let text = self.raw_text(name)?.trim();
        if text.is_empty() {
            return Err(FieldError::blank());
        }
        Ok(text)
    }

    /// Whether the body names `name` at all (null included).
    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// An optional string, trimmed: missing, null and blank are `None`
    /// (form clients send `""` for an empty input).
    pub fn optional_text(&self, name: &str) -> Result<Option<&'a str>, FieldError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim()).filter(|t| !t.is_empty())),
            Some(_) => Err(FieldError::invalid("Not a valid string.")),
        }
    }

    /// A required string kept exactly as sent (passwords: spaces count).
    pub fn required_secret(&self, name: &str) -> Result<&'a str, FieldError> {
        let text = self.raw_text(name)?;
        if text.is_empty() {
            return Err(FieldError::blank());
        }
        Ok(text)
    }

    /// An optional boolean; accepts JSON booleans and the string and number
    /// spellings DRF's `BooleanField` accepts (`"true"`, `"0"`, `1`…), since
    /// form-driven clients send them.
    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, FieldError> {
        let invalid = || FieldError::invalid("Must be a valid boolean.");
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(1) => Ok(Some(true)),
                Some(0) => Ok(Some(false)),
                _ => Err(invalid()),
            },
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "on" | "1" => Ok(Some(true)),
                "false" | "f" | "no" | "n" | "off" | "0" => Ok(Some(false)),
                _ => Err(invalid()),
            },
            Some(_) => Err(invalid()),
        }
    }

    fn raw_text(&self, name: &str) -> Result<&'a str, FieldError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Err(FieldError::required()),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(_) => Err(FieldError::invalid("Not a valid string.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;
    use serde_json::json;

    fn form(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn text_missing_null_wrong_type_blank() {
        let map = form(json!({"a": null, "b": 5, "c": "   ", "d": " x "}));
        let f = Form::new(&map);
        assert_eq!(f.required_text("zz").unwrap_err().code, ErrorCode::Required);
        assert_eq!(f.required_text("a").unwrap_err().code, ErrorCode::Required);
        assert_eq!(f.required_text("b").unwrap_err().code, ErrorCode::Invalid);
        assert_eq!(f.required_text("c").unwrap_err().code, ErrorCode::Required);
        assert_eq!(f.required_text("d").unwrap(), "x");
        assert_eq!(f.required_secret("d").unwrap(), " x ");
    }

    #[test]
    fn booleans() {
        let map = form(json!({"t": true, "s": "False", "n": 1, "bad": "maybe", "arr": []}));
        let f = Form::new(&map);
        assert_eq!(f.optional_bool("t").unwrap(), Some(true));
        assert_eq!(f.optional_bool("s").unwrap(), Some(false));
        assert_eq!(f.optional_bool("n").unwrap(), Some(true));
        assert_eq!(f.optional_bool("missing").unwrap(), None);
        assert_eq!(f.optional_bool("bad").unwrap_err().code, ErrorCode::Invalid);
        assert_eq!(f.optional_bool("arr").unwrap_err().code, ErrorCode::Invalid);
    }
}
