//! Self-service account deletion and data export: both are background
//! tasks on the tasks queue, run by `AccountRunner`.

pub use crate::requests::account::AccountDeleteRequest;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::current_password::{CurrentPassword, CurrentPasswordError};
use super::task_runner::{Progress, StandardRunner, TaskFailure, TaskRunner};
use super::tasks::TaskMessage;
use super::Origin;
use crate::crypto::password_hasher::{HashError, PasswordHasher};
use crate::domain::errors::{ErrorCode, FieldError, FieldErrors};
use crate::domain::{
    Account, AuditAction, EventType, LockoutPolicy, NotificationEvent, Task, TaskKind,
};
use crate::ports::account_data::{AccountData, AccountExport, BeginDeletionError};
use crate::ports::queues::MessageQueue;
use crate::ports::sessions::SessionStore;
use crate::ports::{Clock, StoreError, UserStore};

/// An export larger than this (DynamoDB items hold 400 KB) keeps only the
/// newest audit records, and says so.
const MAX_EXPORT_BYTES: usize = 300_000;

#[derive(Debug, thiserror::Error)]
pub enum DeleteAccountError {
    #[error("request rejected")]
    Rejected(FieldErrors),
    #[error("too many wrong passwords")]
    Locked { retry_after: time::Duration },
    #[error("the account changed meanwhile")]
    Stale,
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Hashing(#[from] HashError),
}

/// `DELETE /users/me`.
pub struct DeleteAccount<'a> {
    pub data: &'a dyn AccountData,
    pub sessions: &'a dyn SessionStore,
    pub hasher: &'a PasswordHasher,
    pub clock: &'a dyn Clock,
    pub lockout: LockoutPolicy,
}

/// Deactivates the account, ends every session and queues its erasure
/// (after the owner proved it is theirs, or an operator asked). A lost
/// message is resumed by the clean-up job.
pub async fn begin_deletion(
    data: &dyn AccountData,
    clock: &dyn Clock,
    account: &Account,
    queue: &dyn MessageQueue,
) -> Result<Task, DeleteAccountError> {
    let now = clock.now();
    let task = Task::new(account.id(), TaskKind::DeleteAccount, now);
    match data.begin_deletion(account, &task, now).await {
        Ok(()) => {}
        Err(BeginDeletionError::Stale) => return Err(DeleteAccountError::Stale),
        Err(BeginDeletionError::Store(error)) => return Err(error.into()),
    }
    tracing::info!(user_id = %account.id(), task_id = %task.id, "account deletion begun");
    let message = TaskMessage { task_id: task.id };
    if let Err(error) = queue.send(&[message.body()]).await {
        tracing::warn!(error = %error, "deletion not queued; the clean-up job will resume it");
    }
    Ok(task)
}

impl DeleteAccount<'_> {
    /// Checks the account's secret (the password; for phone accounts, the
    /// phone number), then deactivates it, ends every session and queues
    /// the deletion. A lost message is resumed by the clean-up job.
    #[tracing::instrument(name = "delete_account", skip_all)]
    pub async fn run(
        &self,
        account: &Account,
        request: &AccountDeleteRequest,
        queue: &dyn MessageQueue,
        origin: &Origin,
    ) -> Result<Task, DeleteAccountError> {
        self.check_secret(account, request, origin).await?;
        begin_deletion(self.data, self.clock, account, queue).await
    }

    async fn check_secret(
        &self,
        account: &Account,
        request: &AccountDeleteRequest,
        origin: &Origin,
    ) -> Result<(), DeleteAccountError> {
        let required =
            |name| DeleteAccountError::Rejected(FieldErrors::single(name, FieldError::required()));
        match account {
            Account::Phone(user) => {
                let written = request
                    .phone_number
                    .as_ref()
                    .ok_or_else(|| required("phone_number"))?
                    .as_str();
                if !user.phone.is_written_as(written) {
                    return Err(DeleteAccountError::Rejected(FieldErrors::single(
                        "phone_number",
                        FieldError::new(
                            ErrorCode::InvalidCredentials,
                            "This is not the account's phone number.",
                        ),
                    )));
                }
                Ok(())
            }
            Account::Member(user) => {
                let raw = request
                    .password
                    .as_ref()
                    .ok_or_else(|| required("password"))?
                    .expose();
                let checker = CurrentPassword {
                    sessions: self.sessions,
                    hasher: self.hasher,
                    clock: self.clock,
                    lockout: self.lockout,
                };
                let right = checker
                    .check(user, raw, AuditAction::AccountDelete, "password", origin)
                    .await
                    .map_err(|error| match error {
                        CurrentPasswordError::Locked { retry_after } => {
                            DeleteAccountError::Locked { retry_after }
                        }
                        CurrentPasswordError::Store(error) => DeleteAccountError::Store(error),
                        CurrentPasswordError::Hashing(error) => DeleteAccountError::Hashing(error),
                    })?;
                if right {
                    return Ok(());
                }
                Err(DeleteAccountError::Rejected(FieldErrors::single(
                    "password",
                    FieldError::new(ErrorCode::InvalidCredentials, "The password is incorrect."),
                )))
            }
        }
    }
}

/// Runs the account tasks, and every other kind through `StandardRunner`.
pub struct AccountRunner {
    pub standard: StandardRunner,
    pub data: Arc<dyn AccountData>,
    pub users: Arc<dyn UserStore>,
    pub clock: Arc<dyn Clock>,
    /// The avatar bucket: the account's files go with it.
    pub objects: Arc<dyn crate::ports::avatars::ObjectStore>,
}

fn transient(error: StoreError) -> TaskFailure {
    TaskFailure::Transient(format!("storage: {error}"))
}

#[async_trait]
impl TaskRunner for AccountRunner {
    async fn run(
        &self,
        task: &Task,
        until: Instant,
        progress: &dyn Progress,
    ) -> Result<Value, TaskFailure> {
        match task.kind {
            TaskKind::DeleteAccount => {
                // The goodbye goes to the address the account had.
                let email = self
                    .users
                    .get(task.owner)
                    .await
                    .map_err(transient)?
                    .map(|user| user.email.as_str().to_owned());
                let event = NotificationEvent::new(
                    EventType::UserDeleted,
                    task.owner,
                    self.clock.now(),
                    json!({ "email": email }),
                );
                // The files first: a failure here retries the whole task,
                // while the account (and its avatar record) still exists.
                for prefix in crate::domain::avatar::user_prefixes(task.owner) {
                    self.objects
                        .delete_prefix(&prefix)
                        .await
                        .map_err(transient)?;
                }
                let finished = self
                    .data
                    .erase_account(task.owner, task.id, &event)
                    .await
                    .map_err(transient)?;
                Ok(json!({ "deleted": true, "finished_by_this_attempt": finished }))
            }
            TaskKind::ExportData => {
                let export = self
                    .data
                    .export_account(task.owner)
                    .await
                    .map_err(transient)?;
                Ok(render_export(export, self.clock.now()))
            }
            _ => self.standard.run(task, until, progress).await,
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn account_json(account: &Account) -> Value {
    match account {
        Account::Member(user) => {
            let profile = &user.profile;
            let text = |t: &Option<crate::domain::ProfileText>| {
                t.as_ref().map(|t| Value::from(t.as_str()))
            };
            let number = |n: &Option<crate::domain::ContactNumber>| {
                n.as_ref().map(|n| Value::from(n.as_str()))
            };
            let mut exported = json!({
                "type": "member",
                "id": user.id.to_string(),
                "username": user.username.as_ref().map(|u| u.as_str()),
                "email": user.email.as_str(),
                "email_verified": user.email_verified,
                "status": user.status,
                "created_at": rfc3339(user.created_at),
                "updated_at": rfc3339(user.updated_at),
                "last_login": user.last_login.map(rfc3339),
            });
            // Every profile field the account holds (what `PROFILE_FIELDS`
            // collected when it was written).
            for (name, value) in [
                ("rank", text(&profile.rank)),
                ("unitname", text(&profile.unitname)),
                ("designation", text(&profile.designation)),
                ("mobileNo", number(&profile.mobile_no)),
                ("personalNo", number(&profile.personal_no)),
                ("phoneNo", number(&profile.phone_no)),
                ("first_name", text(&profile.first_name)),
                ("last_name", text(&profile.last_name)),
                (
                    "birth_date",
                    profile.birth_date.map(|d| Value::from(d.to_iso())),
                ),
            ] {
                if let Some(value) = value {
                    exported[name] = value;
                }
            }
            exported
        }
        Account::Phone(user) => json!({
            "type": "phone",
            "id": user.id.to_string(),
            "phone_number": user.phone.as_e164(),
            "country_code": user.phone.country_code(),
            "name": user.name.as_str(),
            "status": user.status,
            "created_at": rfc3339(user.created_at),
            "updated_at": rfc3339(user.updated_at),
        }),
    }
}

/// The export as the user receives it.
pub fn render_export(export: AccountExport, now: OffsetDateTime) -> Value {
    let devices: Vec<Value> = export
        .devices
        .iter()
        .map(|d| {
            json!({
                "device_id": d.id.as_str(),
                "platform": d.info.platform,
                "model": d.info.model,
                "os_version": d.info.os_version,
                "app_version": d.info.app_version,
                "ip": d.ip,
                "first_seen": rfc3339(d.first_seen),
                "last_seen": rfc3339(d.last_seen),
            })
        })
        .collect();
    let sessions: Vec<Value> = export
        .sessions
        .iter()
        .map(|s| {
            json!({
                "session_id": s.id.to_string(),
                "device_id": s.device_id.as_ref().map(|d| d.as_str()),
                "ip": s.ip,
                "created_at": rfc3339(s.created_at),
                "last_used_at": rfc3339(s.last_used_at),
                "ended_at": s.revoked_at.map(rfc3339),
            })
        })
        .collect();
    let push_tokens: Vec<Value> = export
        .push_tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.id.to_string(),
                "platform": t.platform,
                "token": t.token.as_str(),
                "device_id": t.device_id.as_ref().map(|d| d.as_str()),
                "active": t.active,
                "created_at": rfc3339(t.created_at),
                "last_used_at": rfc3339(t.last_used_at),
            })
        })
        .collect();
    let mut audit: Vec<Value> = export
        .audit
        .iter()
        .map(|r| {
            json!({
                "at": rfc3339(r.at),
                "action": r.action,
                "outcome": r.outcome,
                "source_ip": r.source_ip,
                "device_id": r.device_id,
                "reasons": r.reasons,
            })
        })
        .collect();
    let mut document = json!({
        "exported_at": rfc3339(now),
        "account": export.account.as_ref().map(account_json),
        "preferences": export.preferences.unwrap_or_default(),
        "devices": devices,
        "sessions": sessions,
        "push_tokens": push_tokens,
        "audit": audit,
        "audit_truncated": false,
    });
    // Newest audit records are kept when the document is too large.
    while document.to_string().len() > MAX_EXPORT_BYTES && !audit.is_empty() {
        let drop = audit.len().div_ceil(4);
        audit.drain(..drop);
        document["audit"] = Value::Array(audit.clone());
        document["audit_truncated"] = Value::Bool(true);
    }
    document
}
