use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::user::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SignUp,
    PhoneSignUp,
    Login,
    Refresh,
    /// A spent refresh token answered with its successor inside the grace
    /// window.
    RefreshGraceReplay,
    TokenReuse,
    Logout,
    PasswordChange,
    ProfileUpdate,
    DeviceRemoved,
    EmailConfirmed,
    PasswordReset,
    AccountDelete,
    /// An SMS code asked for (`POST /auth/phone/otp`).
    PhoneCodeRequest,
    /// A sign-in with an SMS code.
    PhoneLogin,
    /// Operators' actions (`/admin/`): `actor` names the operator.
    AdminDeactivate,
    AdminActivate,
    AdminUnlock,
    AdminLogoutAll,
    AdminVerifyEmail,
    AdminPasswordReset,
    AdminDelete,
    AdminIpBlockAdd,
    AdminIpBlockRemove,
    /// A manual ledger entry (`POST /admin/users/{id}/credits`).
    AdminCredits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    /// The request was refused (validation, conflict, rate limit…).
    Rejected,
    /// The service failed while handling it.
    Error,
}

/// One security-relevant attempt. Holds identifiers and outcomes only:
/// never a password, token or phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    pub user_id: Option<UserId>,
    /// The account identifier the attempt named (lower-cased username).
    pub subject: Option<String>,
    pub source_ip: Option<String>,
    /// The client's device id, when it sent one.
    pub device_id: Option<String>,
    /// The service's (API Gateway's) request id.
    pub request_id: String,
    /// The caller's own `x-request-id`, if it sent one.
    pub client_request_id: Option<String>,
    /// Why it was rejected: `field:code` pairs.
    pub reasons: Vec<String>,
    /// Who acted when not the user: an operator's IAM ARN, or
    /// `local-admin` in local runs.
    pub actor: Option<String>,
}
