//! The phone sign-in requests: `POST /auth/phone/otp` and
//! `POST /auth/phone/login`.

use crate::domain::dialled_number::DialledNumber;
use crate::domain::{CodePurpose, DeviceId, DeviceInfo, OneTimeCode};

crate::request_body! {
    /// `POST /auth/phone/otp`.
    pub struct PhoneCodeRequest {
        /// E.164; 10 digits without `+` take the configured default
        /// country. Only numbers of the `SMS_COUNTRIES` regions get codes.
        pub phone_number: DialledNumber,
        /// `login` (the default): sent only to a number with an account;
        /// `signup`: only to a number without one.
        pub purpose: Option<CodePurpose>,
    }
}

crate::request_body! {
    /// `POST /auth/phone/login`.
    pub struct PhoneLoginRequest {
        pub phone_number: DialledNumber,
        /// The six digits of the texted `login` code.
        pub code: OneTimeCode,
        pub device_id: Option<DeviceId>,
        pub device_info: Option<DeviceInfo>,
    }
}
