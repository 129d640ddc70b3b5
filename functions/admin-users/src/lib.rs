//! `/admin/users`: the operators' listing and lookup, one account's
//! detail, and the actions on it (deactivate, activate, unlock, logout-all,
//! verify-email, password-reset, delete). One function serves them all
//! (see README, "Operators"): API Gateway authorises each route with IAM.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::app::StartupError;
use shared::domain::errors::{FieldError, FieldErrors};
use shared::domain::{Account, AuditAction, PhoneRegion, ProfileFields, UserId, UserStatus};
use shared::http::admin::{AdminGate, Operator};
use shared::http::body::{no_fields, path_parameter};
use shared::http::pagination::{cursor_limit, query_value, CursorMeta};
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::views::SignedInView;
use shared::http::{respond, ApiError, Reply};
use shared::ports::directory::ListingPosition;
use shared::ports::queues::MessageQueue;
use shared::serve::{Endpoint, Needs, Resources};
use shared::usecases::admin::{Admin, AuditView};
use shared::usecases::email_links::LinkQuotas;

/// The admin gate, the stores, the account tasks queue (deletion is a task) and
/// what lookups and reset links need, built once per cold start.
pub struct State {
    pub gate: Arc<dyn AdminGate>,
    pub stores: shared::app::Stores,
    pub queue: Arc<dyn MessageQueue>,
    pub region: PhoneRegion,
    pub link_quotas: LinkQuotas,
    pub profile_fields: ProfileFields,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs {
        account_tasks_queue: true,
        ..Needs::STORES
    };

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            gate: resources.admin_gate(),
            stores: resources.stores.clone(),
            queue: resources.account_tasks_queue()?,
            region: resources.config.phone_region()?,
            link_quotas: resources.config.link_quotas,
            profile_fields: resources.config.profile_fields,
        })
    }
}

impl State {
    fn admin(&self) -> Admin<'_> {
        Admin {
            directory: self.stores.directory(),
            users: self.stores.users(),
            phone_users: self.stores.phone_users(),
            sessions: self.stores.sessions(),
            audit: self.stores.audit(),
            clock: self.stores.clock.as_ref(),
        }
    }
}

/// The `{id}` of the path: another string than a user id is 404.
fn user_id(request: &Request) -> Result<UserId, ApiError> {
    path_parameter(request, "id", |id| id.parse().ok().map(UserId::from_uuid))
}

fn user_data(account: &Account, fields: &ProfileFields) -> Value {
    json!({ "user": SignedInView::new(account, fields) })
}

fn invalid(field: &str, message: &'static str) -> ApiError {
    ApiError::validation(FieldErrors::single(field, FieldError::invalid(message)))
}

/// `GET /admin/users?status=&query=&limit=&cursor=`.
pub async fn list(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AdminUsers, request, |_, request| async move {
        state.gate.authorise(&request)?;
        let limit = cursor_limit(&request)?;
        let status = match query_value(&request, "status").as_deref().map(str::trim) {
            None | Some("") => None,
            Some("active") => Some(UserStatus::Active),
            Some("inactive") => Some(UserStatus::Inactive),
            Some(_) => return Err(invalid("status", "Use active or inactive.")),
        };
        let admin = state.admin();
        if let Some(query) = query_value(&request, "query").filter(|q| !q.trim().is_empty()) {
            let found = admin
                .find(&query, state.region)
                .await?
                .filter(|account| status.is_none_or(|status| account.status() == status));
            let users: Vec<SignedInView> = found
                .iter()
                .map(|account| SignedInView::new(account, &state.profile_fields))
                .collect();
            let meta = CursorMeta {
                limit,
                next_cursor: None,
            };
            return Reply::page(StatusCode::OK, "Users", &json!({ "users": users }), &meta);
        }
        let after = match query_value(&request, "cursor") {
            None => None,
            Some(cursor) => Some(
                ListingPosition::from_cursor(&cursor)
                    .ok_or_else(|| invalid("cursor", "Not a cursor this list issued."))?,
            ),
        };
        let page = admin.list(status, after.as_ref(), limit).await?;
        let users: Vec<SignedInView> = page
            .accounts
            .iter()
            .map(|account| SignedInView::new(account, &state.profile_fields))
            .collect();
        let meta = CursorMeta {
            limit,
            next_cursor: page.next.as_ref().map(ListingPosition::to_cursor),
        };
        Reply::page(StatusCode::OK, "Users", &json!({ "users": users }), &meta)
    })
    .await
}

/// `GET /admin/users/{id}`: the account, its devices, live sessions, locks
/// and recent audit records. Never a password hash, token hash or key.
pub async fn show(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AdminUser, request, |_, request| async move {
        state.gate.authorise(&request)?;
        let id = user_id(&request)?;
        let admin = state.admin();
        let account = admin.account(id).await?;
        let now = state.stores.clock.now();
        let (sessions, devices) = state.stores.sessions().sessions_and_devices(id).await?;
        let devices: Vec<Value> = devices
            .iter()
            .map(|device| {
                json!({
                    "device_id": device.id.as_str(),
                    "platform": device.info.platform,
                    "model": device.info.model,
                    "os_version": device.info.os_version,
                    "app_version": device.info.app_version,
                    "ip": device.ip,
                    "first_seen": rfc3339(device.first_seen),
                    "last_seen": rfc3339(device.last_seen),
                })
            })
            .collect();
        let sessions: Vec<Value> = sessions
            .iter()
            .filter(|session| session.is_live(now))
            .map(|session| {
                json!({
                    "session_id": session.id.to_string(),
                    "device_id": session.device_id.as_ref().map(|d| d.as_str()),
                    "created_at": rfc3339(session.created_at),
                    "last_used_at": rfc3339(session.last_used_at),
                    "expires_at": rfc3339(session.absolute_expires_at),
                    "ip": session.ip,
                })
            })
            .collect();
        let locks = admin.locks(id).await?;
        let audit: Vec<AuditView> = admin
            .recent_audit(id)
            .await?
            .iter()
            .map(AuditView::new)
            .collect();
        Reply::new(
            StatusCode::OK,
            "User",
            &json!({
                "user": SignedInView::new(&account, &state.profile_fields),
                "devices": devices,
                "sessions": sessions,
                "locks": locks,
                "audit": audit,
            }),
        )
    })
    .await
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The operator and the account id of an action: bodyless (an empty body
/// or `{}`).
fn action_target(state: &State, request: &Request) -> Result<(Operator, UserId), ApiError> {
    let operator = state.gate.authorise(request)?;
    let id = user_id(request)?;
    no_fields(request)?;
    Ok((operator, id))
}

async fn set_status(
    state: &State,
    request: Request,
    route: RouteId,
    status: UserStatus,
) -> Response<Body> {
    respond(route, request, |meta, request| async move {
        let (operator, id) = action_target(state, &request)?;
        let account = state
            .admin()
            .set_status(id, status, &operator, &meta.origin())
            .await?;
        let message = match status {
            UserStatus::Active => "User activated",
            UserStatus::Inactive => "User deactivated",
        };
        Reply::new(
            StatusCode::OK,
            message,
            &user_data(&account, &state.profile_fields),
        )
    })
    .await
}

/// `POST /admin/users/{id}/deactivate`: its access tokens fail at once and
/// every session ends.
pub async fn deactivate(state: &State, request: Request) -> Response<Body> {
    set_status(
        state,
        request,
        RouteId::AdminUserDeactivate,
        UserStatus::Inactive,
    )
    .await
}

/// `POST /admin/users/{id}/activate`.
pub async fn activate(state: &State, request: Request) -> Response<Body> {
    set_status(
        state,
        request,
        RouteId::AdminUserActivate,
        UserStatus::Active,
    )
    .await
}

/// `POST /admin/users/{id}/logout-all`.
pub async fn logout_all(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminUserLogoutAll,
        request,
        |meta, request| async move {
            let (operator, id) = action_target(state, &request)?;
            let (account, ended) = state
                .admin()
                .log_out_everywhere(id, &operator, &meta.origin())
                .await?;
            let mut data = user_data(&account, &state.profile_fields);
            data["sessions_ended"] = json!(ended);
            Reply::new(StatusCode::OK, "Every session ended", &data)
        },
    )
    .await
}

/// `POST /admin/users/{id}/unlock`: every lock of the account goes.
pub async fn unlock(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminUserUnlock,
        request,
        |meta, request| async move {
            let (operator, id) = action_target(state, &request)?;
            let (account, cleared) = state.admin().unlock(id, &operator, &meta.origin()).await?;
            let mut data = user_data(&account, &state.profile_fields);
            data["locks_cleared"] = json!(cleared);
            Reply::new(StatusCode::OK, "User unlocked", &data)
        },
    )
    .await
}

/// `POST /admin/users/{id}/verify-email`.
pub async fn verify_email(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminUserVerifyEmail,
        request,
        |meta, request| async move {
            let (operator, id) = action_target(state, &request)?;
            let account = state
                .admin()
                .verify_email(id, &operator, &meta.origin())
                .await?;
            Reply::new(
                StatusCode::OK,
                "Email verified",
                &user_data(&account, &state.profile_fields),
            )
        },
    )
    .await
}

/// `POST /admin/users/{id}/password-reset`: mails the account a reset link
/// through the flow of `POST /auth/password/reset` (its quotas included).
pub async fn password_reset(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminUserPasswordReset,
        request,
        |meta, request| async move {
            let (operator, id) = action_target(state, &request)?;
            let admin = state.admin();
            let account = admin.account(id).await?;
            let Account::Member(user) = &account else {
                return Err(shared::usecases::admin::AdminError::NotMember.into());
            };
            if user.status != UserStatus::Active {
                return Err(ApiError::general(
                    StatusCode::CONFLICT,
                    shared::domain::errors::ErrorCode::AccountInactive,
                    "The account is not active",
                    "Reset links are only mailed to active accounts.",
                ));
            }
            let origin = meta.origin();
            let to = shared::usecases::email_links::EmailRequest {
                email: user.email.clone(),
            };
            shared::app::email_links(&state.stores, state.link_quotas)
                .request_reset(to, &origin)
                .await?;
            admin
                .audit_action(AuditAction::AdminPasswordReset, id, &operator, &origin)
                .await?;
            Reply::new(
                StatusCode::OK,
                "Reset link sent",
                &user_data(&account, &state.profile_fields),
            )
        },
    )
    .await
}

/// `DELETE /admin/users/{id}`: the background erasure of `DELETE
/// /users/me`; the account can no longer log in once this answers.
pub async fn delete(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminUserDelete,
        request,
        |meta, request| async move {
            let (operator, id) = action_target(state, &request)?;
            let admin = state.admin();
            let account = admin.account(id).await?;
            let task = shared::usecases::account_tasks::begin_deletion(
                state.stores.account_data(),
                state.stores.clock.as_ref(),
                &account,
                state.queue.as_ref(),
            )
            .await?;
            admin.audit_deletion(id, &operator, &meta.origin()).await?;
            Reply::new(
                StatusCode::ACCEPTED,
                "Account deletion started",
                &json!({ "task_id": task.id.to_string(), "status": task.status.as_str() }),
            )
        },
    )
    .await
}

/// The Lambda's entry point: API Gateway sends it every `/admin/users`
/// route.
pub async fn handle(state: &State, request: Request) -> Response<Body> {
    let route = match match_route(request.method().as_str(), request.uri().path()) {
        RouteMatch::Found { route, .. } => Some(route.id),
        _ => None,
    };
    match route {
        Some(RouteId::AdminUser) => show(state, request).await,
        Some(RouteId::AdminUserDeactivate) => deactivate(state, request).await,
        Some(RouteId::AdminUserActivate) => activate(state, request).await,
        Some(RouteId::AdminUserLogoutAll) => logout_all(state, request).await,
        Some(RouteId::AdminUserUnlock) => unlock(state, request).await,
        Some(RouteId::AdminUserVerifyEmail) => verify_email(state, request).await,
        Some(RouteId::AdminUserPasswordReset) => password_reset(state, request).await,
        Some(RouteId::AdminUserDelete) => delete(state, request).await,
        Some(RouteId::AdminUserCredits) => credits(state, request).await,
        _ => list(state, request).await,
    }
}

/// `POST /admin/users/{id}/credits`: a manual ledger entry.
pub async fn credits(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminUserCredits,
        request,
        |meta, request| async move {
            let operator = state.gate.authorise(&request)?;
            let id = user_id(&request)?;
            let body = shared::http::body::json_request(&request)?;
            let credits = shared::usecases::credits::Credits {
                store: state.stores.credits(),
                clock: state.stores.clock.as_ref(),
            };
            let (entry, balance) = credits
                .admin_entry(
                    state.stores.directory(),
                    id,
                    body,
                    &operator,
                    &meta.origin(),
                )
                .await?;
            Reply::new(
                StatusCode::CREATED,
                "Credit entry added",
                &shared::usecases::credits::AdminCreditEntry {
                    entry: shared::usecases::credits::CreditEntryView::new(&entry),
                    balance,
                },
            )
        },
    )
    .await
}
