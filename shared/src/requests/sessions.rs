//! The session requests: `POST /auth/token/refresh` and `POST /auth/logout`.

use crate::domain::request::Secret;

crate::request_body! {
    /// `POST /auth/token/refresh`.
    pub struct RefreshRequest {
        /// The refresh token of the pair; single use (its successor comes
        /// back with the new access token).
        pub refresh_token: Secret,
    }
}

crate::request_body! {
    /// `POST /auth/logout`.
    pub struct LogoutRequest {
        /// End every session of the user, not only this one.
        pub all: Option<bool>,
    }
}
