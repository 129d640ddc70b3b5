//! `DELETE /users/me`.

use crate::domain::request::{NonBlankText, Secret};

crate::request_body! {
    /// `DELETE /users/me`: the password, or a phone account's own number
    /// (the one the account needs is required).
    pub struct AccountDeleteRequest {
        pub password: Option<Secret>,
        /// As the account's number, in any accepted writing.
        pub phone_number: Option<NonBlankText>,
    }
}
