//! How domain objects appear in responses (field names per docs/API.md).

use serde::Serialize;

use crate::domain::{
    Account, ContactNumber, Email, PhoneUser, ProfileField, ProfileFields, ProfileText, User,
    UserStatus,
};

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The user object of the username sign-up (`data.user`). Which fields
/// it carries follows `PROFILE_FIELDS`: a field that is off is left out,
/// an optional one without a value is `null`; `username` is always there
/// (`null` for email-only accounts).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView<'a> {
    #[serde(rename = "userId")]
    pub user_id: String,
    pub username: Option<&'a str>,
    pub email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub rank: Collected<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub unitname: Collected<&'a str>,
    #[serde(rename = "mobileNo", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub mobile_no: Collected<&'a str>,
    #[serde(rename = "personalNo", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub personal_no: Collected<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub designation: Collected<&'a str>,
    #[serde(rename = "phoneNo", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone_no: Collected<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub first_name: Collected<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub last_name: Collected<&'a str>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub birth_date: Collected<String>,
    pub status: UserStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

/// A profile field in a view: `None` when the deployment does not collect
/// it (left out), `Some(None)` when the account has no value (`null`).
pub type Collected<T> = Option<Option<T>>;

impl<'a> UserView<'a> {
    pub fn new(user: &'a User, fields: &ProfileFields) -> Self {
        let profile = &user.profile;
        let shown = |field: ProfileField, value: Option<&'a str>| -> Collected<&'a str> {
            fields.collects(field).then_some(value)
        };
        let text = |t: &'a Option<ProfileText>| t.as_ref().map(ProfileText::as_str);
        let number = |n: &'a Option<ContactNumber>| n.as_ref().map(ContactNumber::as_str);
        Self {
            user_id: user.id.to_string(),
            username: user.username.as_ref().map(|u| u.as_str()),
            email: user.email.as_str(),
            rank: shown(ProfileField::Rank, text(&profile.rank)),
            unitname: shown(ProfileField::Unitname, text(&profile.unitname)),
            mobile_no: shown(ProfileField::MobileNo, number(&profile.mobile_no)),
            personal_no: shown(ProfileField::PersonalNo, number(&profile.personal_no)),
            designation: shown(ProfileField::Designation, text(&profile.designation)),
            phone_no: shown(ProfileField::PhoneNo, number(&profile.phone_no)),
            first_name: shown(ProfileField::FirstName, text(&profile.first_name)),
            last_name: shown(ProfileField::LastName, text(&profile.last_name)),
            birth_date: fields
                .collects(ProfileField::BirthDate)
                .then(|| profile.birth_date.map(|d| d.to_iso())),
            status: user.status,
            message: None,
        }
    }

    pub fn with_message(mut self, message: &'static str) -> Self {
        self.message = Some(message);
        self
    }
}

/// The signed-in user (`GET /users/me`, login): the sign-up user object
/// plus verification state and timestamps.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountView<'a> {
    #[serde(flatten)]
    pub user: UserView<'a>,
    pub email_verified: bool,
    /// An address the user asked to change to: `email` stays the account's
    /// address until the link mailed to this one is confirmed
    /// (`POST /auth/email/confirm`); null when no change is waiting.
    #[cfg_attr(feature = "openapi", schema(format = "email"))]
    pub pending_email: Option<&'a str>,
    pub created_at: String,
    pub updated_at: String,
    /// The last successful login; `null` before the first.
    pub last_login: Option<String>,
}

impl<'a> AccountView<'a> {
    pub fn new(user: &'a User, fields: &ProfileFields) -> Self {
        Self {
            user: UserView::new(user, fields),
            email_verified: user.email_verified,
            pending_email: user.pending_email.as_ref().map(Email::as_str),
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
            last_login: user.last_login.map(rfc3339),
        }
    }
}

/// A phone account as its owner sees it. The number is the owner's own:
/// it belongs in this response (and nowhere else).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhoneAccountView<'a> {
    pub id: String,
    pub phone_number: &'a str,
    pub name: &'a str,
    pub country_code: String,
    pub status: UserStatus,
    pub needs_profile: bool,
    pub location_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The last sign-in with a texted code; `null` before the first.
    pub last_login: Option<String>,
}

impl<'a> PhoneAccountView<'a> {
    pub fn new(user: &'a PhoneUser) -> Self {
        Self {
            id: user.id.to_string(),
            phone_number: user.phone.as_e164(),
            name: user.name.as_str(),
            country_code: user.phone.country_code(),
            status: user.status,
            needs_profile: user.needs_profile,
            location_id: user.location_id.map(|id| id.to_string()),
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
            last_login: user.last_login.map(rfc3339),
        }
    }
}

/// `data.user` of `GET /users/me`, whichever kind the account is.
// Built and serialised once per response: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum SignedInView<'a> {
    Member(AccountView<'a>),
    Phone(PhoneAccountView<'a>),
}

impl<'a> SignedInView<'a> {
    pub fn new(account: &'a Account, fields: &ProfileFields) -> Self {
        match account {
            Account::Member(user) => Self::Member(AccountView::new(user, fields)),
            Account::Phone(user) => Self::Phone(PhoneAccountView::new(user)),
        }
    }
}

/// `data.user` of `GET /users/me`: the account as `SignedInView` shows
/// it, and its avatar's link.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeView<'a> {
    #[serde(flatten)]
    pub account: SignedInView<'a>,
    /// A short-lived presigned link to the processed avatar; `null` when
    /// there is none (yet).
    pub avatar_url: Option<String>,
}

/// A task as `GET /tasks/{id}` shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskView<'a> {
    pub task_id: String,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::schemas::TaskType))]
    pub kind: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::domain::TaskStatus))]
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<&'a serde_json::Value>,
    pub attempts: u32,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> TaskView<'a> {
    pub fn new(task: &'a crate::domain::Task) -> Self {
        Self {
            task_id: task.id.to_string(),
            kind: task.kind.name(),
            status: task.status.as_str(),
            result: task.result.as_ref(),
            error: task.error.as_deref(),
            progress: task.progress.as_ref(),
            attempts: task.attempts,
            created_at: rfc3339(task.created_at),
            updated_at: rfc3339(task.updated_at),
        }
    }
}

/// A push token as docs/API.md lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushTokenView {
    pub id: String,
    pub platform: crate::domain::push_token::Platform,
    pub token: String,
    pub device_id: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub last_used_at: String,
}

impl PushTokenView {
    pub fn new(token: &crate::domain::push_token::PushToken) -> Self {
        Self {
            id: token.id.to_string(),
            platform: token.platform,
            token: token.token.as_str().to_owned(),
            device_id: token.device_id.as_ref().map(|d| d.as_str().to_owned()),
            active: token.active,
            created_at: rfc3339(token.created_at),
            last_used_at: rfc3339(token.last_used_at),
        }
    }
}

/// The mobile clients' answer to a phone sign-up or sign-in: every field
/// top-level, the tokens beside the user (not under `data`).
#[derive(Serialize)]
pub struct PhoneSessionView<'a> {
    success: bool,
    message: &'static str,
    user: PhoneSessionUser<'a>,
    #[serde(flatten)]
    tokens: crate::usecases::session_tokens::TokenPairView<'a>,
    needs_profile: bool,
    is_new_account: bool,
    is_new_device: bool,
    active_devices_count: u32,
    location_id: Option<String>,
}

#[derive(Serialize)]
struct PhoneSessionUser<'a> {
    id: String,
    phone_number: &'a str,
    name: &'a str,
    country_code: String,
    created_at: String,
}

/// What the session answer says about the device and the account's age.
pub struct PhoneSessionFacts {
    pub is_new_account: bool,
    pub is_new_device: bool,
    pub active_devices_count: u32,
}

impl<'a> PhoneSessionView<'a> {
    pub fn new(
        message: &'static str,
        user: &'a PhoneUser,
        tokens: &'a crate::usecases::session_tokens::TokenPair,
        facts: PhoneSessionFacts,
    ) -> Self {
        Self {
            success: true,
            message,
            user: PhoneSessionUser {
                id: user.id.to_string(),
                phone_number: user.phone.as_e164(),
                name: user.name.as_str(),
                country_code: user.phone.country_code(),
                created_at: rfc3339(user.created_at),
            },
            tokens: tokens.view(),
            needs_profile: user.needs_profile,
            is_new_account: facts.is_new_account,
            is_new_device: facts.is_new_device,
            active_devices_count: facts.active_devices_count,
            location_id: user.location_id.map(|id| id.to_string()),
        }
    }
}
