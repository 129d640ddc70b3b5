//! Schemas of the request bodies, which the handlers read as plain JSON
//! objects (`serde_json::Map`), and of the error envelope. Documentation
//! only: the handlers keep parsing field by field, so that every failing
//! field is reported at once.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::errors::FieldError;
pub use crate::requests::account::AccountDeleteRequest;
pub use crate::requests::email::{EmailConfirmRequest, EmailRequest};
pub use crate::requests::login::LoginRequest;
pub use crate::requests::passwords::{PasswordChangeRequest, PasswordResetConfirmRequest};
pub use crate::requests::phone::{PhoneCodeRequest, PhoneLoginRequest};
pub use crate::requests::preferences::PreferencesUpdateRequest;
pub use crate::requests::push_tokens::{PushTokenCreateRequest, PushTokenUpdateRequest};
pub use crate::requests::sessions::{LogoutRequest, RefreshRequest};
pub use crate::requests::tasks::TaskCreateRequest;

/// Every error, whatever the status: `errors` maps the field name as the
/// client sent it (or `non_field_errors`, or `system` for server faults)
/// to its problems. Some routes add top-level fields (`user_exists` on a
/// taken phone number, `checks` on an unhealthy `/health`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "success": false,
    "message": "Validation failed",
    "error": "Email already registered",
    "errors": {"email": [{"message": "Email already registered", "code": "email_conflict"}]},
    "request_id": "0f8e3c52-9d7e-4a55-b0b4-3c8f7f0d1a2b"
}))]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub success: bool,
    pub message: String,
    /// One line for clients that read a single string: the first named
    /// field's message (fields in name order), else `message`.
    pub error: String,
    pub errors: BTreeMap<String, Vec<FieldError>>,
    /// Also sent as the `x-request-id` header.
    pub request_id: String,
}

/// The device a client signs in from; every part optional, and when
/// sent, not blank and without control characters.
#[derive(Serialize, ToSchema)]
pub struct DeviceInfo {
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "android"
    )]
    pub platform: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "Pixel 8"
    )]
    pub model: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub os_version: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "2.3.1"
    )]
    pub app_version: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub language_code: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub timezone: Option<String>,
}

/// `POST /auth/signup`: every field is checked and every failure reported
/// at once. Which of `username` and the profile fields a deployment
/// requires, accepts or ignores is its `PROFILE_FIELDS` setting: this
/// document lists the fields this deployment accepts, and requires the
/// ones it requires (`first_name`, `last_name` and `birth_date` are off by
/// default). A field that is off is ignored like any unknown field.
#[derive(Serialize, ToSchema)]
pub struct SignUpRequest {
    /// Letters, digits and `@ . + - _`; not itself an email address;
    /// unique, case-insensitively. Where it is off (or optional and not
    /// sent), the account is email-only and logs in by email.
    #[schema(min_length = 1, max_length = 150, pattern = r"^[\w.@+-]+$")]
    pub username: String,
    /// Unique, case-insensitively; stored lower-cased.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Not too common, not entirely numeric, not too similar to the
    /// username, email or names.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Equal to `password` (else `password_mismatch`).
    pub confirm_password: String,
    /// Another name for `confirm_password` (errors are reported under the
    /// name sent); one of the two is required.
    pub password_confirm: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub rank: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub unitname: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub designation: String,
    #[serde(rename = "mobileNo")]
    #[schema(pattern = r"^\+?1?\d{9,15}$")]
    pub mobile_no: String,
    #[serde(rename = "personalNo")]
    #[schema(pattern = r"^\+?1?\d{9,15}$")]
    pub personal_no: String,
    #[serde(rename = "phoneNo")]
    #[schema(pattern = r"^\+?1?\d{9,15}$")]
    pub phone_no: String,
    #[schema(min_length = 1, max_length = 150)]
    pub first_name: Option<String>,
    #[schema(min_length = 1, max_length = 150)]
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`, in the past, not before 1900-01-01.
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    /// Default `true` (ACTIVE).
    pub status: Option<bool>,
}

/// `POST /auth/phone/signup`.
#[derive(Serialize, ToSchema)]
pub struct PhoneSignUpRequest {
    /// Not blank; no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// E.164; 10 digits without `+` take the configured default country.
    pub phone_number: String,
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub state: Option<String>,
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub district: Option<String>,
    #[schema(max_length = 150, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub city_village: Option<String>,
    /// Printable ASCII without spaces.
    #[schema(pattern = r"^[!-~]{1,128}$")]
    pub device_id: Option<String>,
    pub device_info: Option<DeviceInfo>,
    /// The six digits of a `signup` code: required where the deployment
    /// verifies numbers (`PHONE_SIGNUP_VERIFY`), ignored elsewhere.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: Option<String>,
}

/// `PATCH /users/me`: the fields to change. Username accounts take the
/// sign-up profile fields under the sign-up rules; phone accounts take
/// `name` and the location parts (`null` or `""` clears one).
#[derive(Serialize, ToSchema)]
pub struct ProfileUpdateRequest {
    pub username: Option<String>,
    /// A new address does not apply at once: it needs `current_password`,
    /// shows as `pending_email`, and becomes the account's when the link
    /// mailed to it is confirmed (`POST /auth/email/confirm`). The current
    /// address (in any case) is no change.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// Required with a new `email` (missing: `required`; wrong:
    /// `invalid_credentials`, counted toward the same lock as the password
    /// change). Not needed for other fields.
    pub current_password: Option<String>,
    pub rank: Option<String>,
    pub unitname: Option<String>,
    pub designation: Option<String>,
    #[serde(rename = "mobileNo")]
    pub mobile_no: Option<String>,
    #[serde(rename = "personalNo")]
    pub personal_no: Option<String>,
    #[serde(rename = "phoneNo")]
    pub phone_no: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`, in the past.
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    pub name: Option<String>,
    pub state: Option<String>,
    pub district: Option<String>,
    pub city_village: Option<String>,
}

/// The `type` of a task as `GET /tasks/{id}` shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    Add,
    LongRunning,
    ProcessData,
    DeleteAccount,
    ExportData,
}

/// One category's channels.
#[derive(Serialize, ToSchema)]
pub struct ChannelPreferences {
    pub email: bool,
    pub push: bool,
    pub sms: bool,
}

/// Notification preferences per category and channel.
#[derive(Serialize, ToSchema)]
pub struct NotificationPreferences {
    /// Email cannot be turned off here.
    pub security: ChannelPreferences,
    pub account: ChannelPreferences,
    pub marketing: ChannelPreferences,
    pub reminders: ChannelPreferences,
}
