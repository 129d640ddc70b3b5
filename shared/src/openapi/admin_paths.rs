//! The operators' routes (`/admin/`).

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::path::Operation;
use utoipa::ToSchema;

use super::operation::Op;
use crate::http::views::SignedInView;
use crate::usecases::admin::AuditView;

const USER_ID: &str = "The account's id (an unknown id is 404).";

/// `data` of `GET /admin/users`.
#[derive(Serialize, ToSchema)]
pub struct AdminUserList {
    /// Newest first; with `query`, the one account it names (or none).
    pub users: Vec<SignedInView<'static>>,
}

/// A device in the user detail.
#[derive(Serialize, ToSchema)]
pub struct AdminDevice {
    pub device_id: String,
    pub platform: Option<String>,
    pub model: Option<String>,
    pub os_version: Option<String>,
    pub app_version: Option<String>,
    pub ip: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
}

/// A live session in the user detail.
#[derive(Serialize, ToSchema)]
pub struct AdminSession {
    pub session_id: String,
    pub device_id: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub ip: Option<String>,
}

/// `data` of `GET /admin/users/{id}`.
#[derive(Serialize, ToSchema)]
pub struct AdminUserDetail {
    /// Every field an operator may see, phone numbers decrypted; never a
    /// password hash, token hash or key.
    pub user: SignedInView<'static>,
    pub devices: Vec<AdminDevice>,
    /// Live sessions only.
    pub sessions: Vec<AdminSession>,
    /// Locks in force now; an empty list when none.
    pub locks: Vec<crate::usecases::admin::LockView>,
    /// The last 7 days, newest first (at most 50).
    pub audit: Vec<AuditView>,
}

/// `data` of an action: the account as it is now.
#[derive(Serialize, ToSchema)]
pub struct AdminUserData {
    pub user: SignedInView<'static>,
}

/// `data` of `POST /admin/users/{id}/logout-all`.
#[derive(Serialize, ToSchema)]
pub struct AdminSessionsEnded {
    pub user: SignedInView<'static>,
    pub sessions_ended: u64,
}

/// `data` of `POST /admin/users/{id}/unlock`.
#[derive(Serialize, ToSchema)]
pub struct AdminUnlocked {
    pub user: SignedInView<'static>,
    /// How many lockout counters were cleared.
    pub locks_cleared: u64,
}

/// `data` of `DELETE /admin/users/{id}`.
#[derive(Serialize, ToSchema)]
pub struct AdminDeletion {
    pub task_id: String,
    pub status: String,
}

/// `data` of `GET /admin/audit`.
#[derive(Serialize, ToSchema)]
pub struct AdminAuditPage {
    pub records: Vec<AuditView>,
}

/// One entry of the IP block list.
#[derive(Serialize, ToSchema)]
pub struct IpBlockView {
    /// The network with `/` written `_`: the `{id}` of its path.
    pub id: String,
    pub network: String,
    pub reason: String,
    pub created_at: String,
    pub created_by: Option<String>,
}

/// `data` of `GET /admin/ip-blocks`.
#[derive(Serialize, ToSchema)]
pub struct IpBlockList {
    pub blocks: Vec<IpBlockView>,
}

/// `POST /admin/ip-blocks`.
#[derive(Serialize, ToSchema)]
pub struct IpBlockCreateRequest {
    /// An address (a /32 or /128) or a CIDR range; stored canonical.
    pub network: String,
    /// One line, at most 200 characters.
    pub reason: String,
}

/// `data` of `DELETE /admin/ip-blocks/{id}`.
#[derive(Serialize, ToSchema)]
pub struct IpBlockRemoved {
    pub id: String,
    pub network: String,
}

fn user_example() -> Value {
    json!({
        "userId": "3c2b1a09-8f7e-4d6c-5b4a-392817161514", "username": "alice",
        "email": "alice@example.com", "rank": "Captain", "unitname": "Signals",
        "mobileNo": "+919876543210", "personalNo": "+919876543211",
        "designation": "Officer", "phoneNo": "+919876543212", "status": "ACTIVE",
        "email_verified": true, "pending_email": null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    })
}

fn block_example() -> Value {
    json!({"id": "203.0.113.0_24", "network": "203.0.113.0/24", "reason": "card testing",
        "created_at": "2026-01-01T00:00:00Z", "created_by": "arn:aws:iam::123456789012:user/alice"})
}

pub fn users() -> Operation {
    Op::new(
        "adminListUsers",
        "admin",
        "List or find accounts",
        "Newest first, paged by cursor (`meta.next_cursor`, null on the last page). `query` \
         finds the one account with exactly this username, email (any case) or phone number \
         (a phone account's, through its claim).",
    )
    .admin()
    .query_text("status", "`active` or `inactive`.")
    .query_text("query", "An exact username, email or phone number.")
    .query_number("limit", "Accounts per page (default 20).", 1, 100)
    .query_text("cursor", "`meta.next_cursor` of the previous page.")
    .cursor_page::<AdminUserList>("Users", json!({"users": [user_example()]}))
    .error(400, "A bad `status`, `limit` or `cursor` (`invalid`).")
    .uses_storage()
    .build()
}

pub fn user() -> Operation {
    Op::new(
        "adminGetUser",
        "admin",
        "One account, whole",
        "The account (phone numbers decrypted), its devices, live sessions and recent audit \
         records.",
    )
    .admin()
    .path_parameter("id", USER_ID)
    .data::<AdminUserDetail>(
        200,
        "User",
        json!({"user": user_example(), "devices": [], "sessions": [], "locks": [], "audit": []}),
    )
    .error(404, "No such account (`not_found`).")
    .uses_storage()
    .build()
}

fn action(id: &str, summary: &str, description: &str, message: &str) -> Op {
    Op::new(id, "admin", summary, description)
        .admin()
        .path_parameter("id", USER_ID)
        .bodyless_action()
        .data::<AdminUserData>(200, message, json!({"user": user_example()}))
        .error(404, "No such account (`not_found`).")
        .uses_storage()
}

pub fn user_deactivate() -> Operation {
    action(
        "adminDeactivateUser",
        "Deactivate an account",
        "Its access tokens fail at once and every session ends; it cannot log in.",
        "User deactivated",
    )
    .error(409, "The account is being deleted (`account_inactive`).")
    .build()
}

pub fn user_activate() -> Operation {
    action(
        "adminActivateUser",
        "Reactivate an account",
        "It may log in again.",
        "User activated",
    )
    .error(409, "The account is being deleted (`account_inactive`).")
    .build()
}

pub fn user_logout_all() -> Operation {
    Op::new(
        "adminLogOutUser",
        "admin",
        "End every session of an account",
        "Its refresh tokens die and its access tokens fail at once.",
    )
    .admin()
    .path_parameter("id", USER_ID)
    .bodyless_action()
    .data::<AdminSessionsEnded>(
        200,
        "Every session ended",
        json!({"user": user_example(), "sessions_ended": 2}),
    )
    .error(404, "No such account (`not_found`).")
    .uses_storage()
    .build()
}

pub fn user_unlock() -> Operation {
    Op::new(
        "adminUnlockUser",
        "admin",
        "Clear every lock of an account",
        "Its login locks from every address, its account-wide login ceiling and its \
         wrong-current-password lock, with their failure counts.",
    )
    .admin()
    .path_parameter("id", USER_ID)
    .bodyless_action()
    .data::<AdminUnlocked>(
        200,
        "User unlocked",
        json!({"user": user_example(), "locks_cleared": 1}),
    )
    .error(404, "No such account (`not_found`).")
    .uses_storage()
    .build()
}

pub fn user_verify_email() -> Operation {
    action(
        "adminVerifyEmail",
        "Mark an account's email verified",
        "As its confirmation link would.",
        "Email verified",
    )
    .error(
        409,
        "A phone account (`forbidden`), or the account changed meanwhile (`validation_error`).",
    )
    .build()
}

pub fn user_password_reset() -> Operation {
    action(
        "adminSendPasswordReset",
        "Mail an account a reset link",
        "Through the flow of `POST /auth/password/reset`, its quotas included.",
        "Reset link sent",
    )
    .error(
        409,
        "A phone account (`forbidden`) or an inactive one (`account_inactive`).",
    )
    .retry_later(429, "Too many links for this address (`rate_limited`).")
    .build()
}

pub fn user_delete() -> Operation {
    Op::new(
        "adminDeleteUser",
        "admin",
        "Delete an account",
        "The background erasure of `DELETE /users/me`: the account cannot log in from the \
         moment this answers; its data goes shortly after.",
    )
    .admin()
    .path_parameter("id", USER_ID)
    .bodyless_action()
    .data::<AdminDeletion>(
        202,
        "Account deletion started",
        json!({"task_id": "3c2b1a09-8f7e-4d6c-5b4a-392817161514", "status": "PENDING"}),
    )
    .error(404, "No such account (`not_found`).")
    .error(409, "The account changed meanwhile; retry.")
    .uses_storage()
    .build()
}

pub fn audit() -> Operation {
    Op::new(
        "adminAudit",
        "admin",
        "The audit log",
        "Newest first, paged by cursor. `actor` is the operator's ARN (`local-admin` \
         locally) for operators' actions, the user's own id otherwise.",
    )
    .admin()
    .query_text("user_id", "Only this account's records.")
    .query_text(
        "since",
        "RFC 3339; at most 31 days back (default: 7 days back).",
    )
    .query_number("limit", "Records per page (default 20).", 1, 100)
    .query_text("cursor", "`meta.next_cursor` of the previous page.")
    .cursor_page::<AdminAuditPage>("Audit records", json!({"records": []}))
    .error(
        400,
        "A bad `user_id`, `since`, `limit` or `cursor` (`invalid`).",
    )
    .uses_storage()
    .build()
}

pub fn ip_blocks() -> Operation {
    Op::new(
        "adminListIpBlocks",
        "admin",
        "The IP block list",
        "Networks the phone sign-up refuses (403 `ip_blocked`).",
    )
    .admin()
    .data::<IpBlockList>(200, "IP blocks", json!({"blocks": [block_example()]}))
    .uses_storage()
    .build()
}

pub fn ip_block_create() -> Operation {
    Op::new(
        "adminAddIpBlock",
        "admin",
        "Block a network",
        "Takes effect within the block list's refresh interval (60 s by default). Blocking \
         a blocked network again replaces its reason, time and author.",
    )
    .admin()
    .body::<IpBlockCreateRequest>(json!({"network": "203.0.113.0/24", "reason": "card testing"}))
    .data::<IpBlockView>(201, "IP block added", block_example())
    .uses_storage()
    .build()
}

pub fn ip_block_delete() -> Operation {
    Op::new(
        "adminRemoveIpBlock",
        "admin",
        "Unblock a network",
        "`{id}` is the block's `id` (its network with `/` written `_`).",
    )
    .admin()
    .path_parameter("id", "The block's id, e.g. `203.0.113.0_24`.")
    .bodyless_action()
    .data::<IpBlockRemoved>(
        200,
        "IP block removed",
        json!({"id": "203.0.113.0_24", "network": "203.0.113.0/24"}),
    )
    .error(404, "No such block (`not_found`).")
    .uses_storage()
    .build()
}
