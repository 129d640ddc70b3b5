//! The login request body.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::domain::{DeviceId, DeviceInfo, Email, Password, Username};
pub use crate::requests::login::LoginRequest;

/// Identifiers longer than this are stored by hash in lockout keys.
const IDENTIFIER_MAX_CHARS: usize = 254;

#[derive(Debug)]
pub struct LoginForm {
    /// Candidate claims: the account is the username's owner, else the
    /// email's.
    pub username_key: Option<String>,
    pub email: Option<String>,
    /// What the lockout counts failures against.
    pub identifier: String,
    /// `None` when the password cannot be right (empty, absurdly long): it
    /// is still "checked", so timing tells nothing.
    pub password: Option<Password>,
    pub device_id: Option<DeviceId>,
    pub device_info: DeviceInfo,
}

impl LoginForm {
    /// Reads the claims of a parsed `{login | username | email, password,
    /// device_id?, device_info?}`.
    pub fn from_request(request: LoginRequest) -> Self {
        let (name, text) = request.identifier();
        let lowered: String = text.nfkc().collect::<String>().to_lowercase();
        // An identifier with `@` names an email, never a username: no
        // username can then stand in for someone else's address.
        let username_key = (name != "email" && !lowered.contains('@'))
            .then(|| Username::parse(text).ok().map(|u| u.key().to_owned()))
            .flatten();
        let email = (name != "username")
            .then(|| Email::parse(text).ok().map(|e| e.as_str().to_owned()))
            .flatten();
        let identifier = if lowered.chars().count() > IDENTIFIER_MAX_CHARS {
            let digest = Sha256::digest(lowered.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        } else {
            lowered
        };
        Self {
            username_key,
            email,
            identifier,
            password: Password::presented(request.password.expose()),
            device_id: request.device_id,
            device_info: request.device_info.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::{ErrorCode, FieldErrors};
    use crate::domain::request::RequestBody;
    use serde_json::{json, Value};

    fn parse(value: Value) -> Result<LoginForm, FieldErrors> {
        LoginRequest::from_fields(value.as_object().unwrap()).map(LoginForm::from_request)
    }

    #[test]
    fn login_field_may_be_username_or_email() {
        let form = parse(json!({"login": "Alice@Example.com", "password": "x"})).unwrap();
        assert_eq!(form.username_key, None, "an `@` means an email");
        assert_eq!(form.email.as_deref(), Some("alice@example.com"));
        let form = parse(json!({"login": "alice@home", "password": "x"})).unwrap();
        assert_eq!((form.username_key, form.email), (None, None));
        let form = parse(json!({"login": "Alice", "password": "x"})).unwrap();
        assert_eq!(
            (form.username_key.as_deref(), form.email.as_deref()),
            (Some("alice"), None)
        );
        let form = parse(json!({"username": "Alice", "password": "x"})).unwrap();
        assert_eq!(
            (form.username_key.as_deref(), form.email.as_deref()),
            (Some("alice"), None)
        );
        let form = parse(json!({"email": "A@Example.com", "password": "x"})).unwrap();
        assert_eq!(
            (form.username_key, form.email.as_deref()),
            (None, Some("a@example.com"))
        );
    }

    #[test]
    fn missing_and_wrong_types() {
        let errors = parse(json!({})).unwrap_err();
        assert_eq!(errors.codes("login"), [ErrorCode::Required]);
        assert_eq!(errors.codes("password"), [ErrorCode::Required]);
        let errors = parse(json!({"login": 5, "password": ["x"], "device_id": "a b"})).unwrap_err();
        assert_eq!(errors.codes("login"), [ErrorCode::Invalid]);
        assert_eq!(errors.codes("password"), [ErrorCode::Invalid]);
        assert_eq!(errors.codes("device_id"), [ErrorCode::Invalid]);
    }

    #[test]
    fn long_identifiers_are_hashed_and_long_passwords_cannot_match() {
        let form = parse(json!({"login": "a".repeat(300), "password": "p".repeat(2000)})).unwrap();
        assert!(form.identifier.starts_with("sha256:"));
        assert!(form.password.is_none());
    }
}
