//! The requests of the mailed links and the pre-registration.

use crate::domain::request::Secret;
use crate::domain::Email;

crate::request_body! {
    /// An address for a mailed link or a pre-registration.
    pub struct EmailRequest {
        pub email: Email,
    }
}

crate::request_body! {
    /// The token of a confirmation link.
    pub struct EmailConfirmRequest {
        pub token: Secret,
    }
}
