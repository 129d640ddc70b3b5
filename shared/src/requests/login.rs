//! `POST /auth/login`.

use serde_json::{Map, Value};

use crate::domain::errors::{FieldError, FieldErrors};
use crate::domain::request::{NonBlankText, Secret};
use crate::domain::{DeviceId, DeviceInfo};

crate::request_body! {
    /// `POST /auth/login`: one of `login`, `username` or `email`.
    pub struct LoginRequest {
        /// A username or an email address; sent blank it is refused.
        pub login: Option<NonBlankText>,
        pub username: Option<NonBlankText>,
        pub email: Option<NonBlankText>,
        pub password: Secret,
        pub device_id: Option<DeviceId>,
        pub device_info: Option<DeviceInfo>,
    }
    check = one_identifier;
}

const IDENTIFIERS: [&str; 3] = ["login", "username", "email"];

/// One of the identifiers must be sent (reported as `login`).
fn one_identifier(fields: &Map<String, Value>, errors: &mut FieldErrors) {
    if IDENTIFIERS
        .iter()
        .all(|name| fields.get(*name).is_none_or(Value::is_null))
    {
        errors.add("login", FieldError::required());
    }
}

impl LoginRequest {
    /// The first of `login`, `username` and `email` sent, with its name.
    /// The parser requires one; a request built without any names no
    /// account (`""`), so its login fails like a wrong one.
    pub fn identifier(&self) -> (&'static str, &str) {
        let sent = [&self.login, &self.username, &self.email];
        IDENTIFIERS
            .into_iter()
            .zip(sent)
            .find_map(|(name, value)| value.as_ref().map(|v| (name, v.as_str())))
            .unwrap_or(("login", ""))
    }
}
