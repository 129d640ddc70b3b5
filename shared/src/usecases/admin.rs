//! What operators do through `/admin/users`: find accounts, read one
//! whole, change its status, end its sessions. Every change is audited
//! with the operator as `actor`.

use serde::Serialize;
use time::OffsetDateTime;

use super::Origin;
use crate::domain::{
    Account, AuditAction, AuditOutcome, AuditRecord, Email, PhoneNumber, PhoneRegion, UserId,
    UserStatus, Username,
};
use crate::http::admin::Operator;
use crate::ports::directory::{AccountDirectory, ListingPage, ListingPosition, StatusChange};
use crate::ports::phone_users::PhoneUserStore;
use crate::ports::sessions::{RevokeReason, SessionStore};
use crate::ports::{AuditLog, Clock, StoreError, UpdateUserError, UserStore};

/// How many days of audit records the user detail shows.
pub const RECENT_AUDIT_DAYS: i64 = 7;
/// How many audit records the user detail shows at most.
pub const RECENT_AUDIT_LIMIT: usize = 50;
/// `GET /admin/audit` reads one partition per day: `since` reaches back
/// at most this far (and 7 days by default).
pub const AUDIT_MAX_DAYS: i64 = 31;
pub const AUDIT_DEFAULT_DAYS: i64 = 7;

/// One page of audit records, newest first.
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    pub next: Option<ListingPosition>,
}

/// Whether the record is about this account: its own, or an operator's
/// deletion of it (which names it as the subject).
fn names(record: &AuditRecord, user: UserId) -> bool {
    record.user_id == Some(user)
        || (record.action == AuditAction::AdminDelete
            && record.subject.as_deref() == Some(user.to_string().as_str()))
}

fn audit_position(record: &AuditRecord) -> ListingPosition {
    ListingPosition::from_key(crate::adapters::dynamo::keys::audit(record.at, record.id).sk)
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no such account")]
    NotFound,
    /// The account is being erased; its status no longer changes.
    #[error("the account is being deleted")]
    BeingDeleted,
    /// What only username accounts have (an email address).
    #[error("not a username account")]
    NotMember,
    /// The account changed while the action ran; the operator may retry.
    #[error("the account changed meanwhile")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An audit record as operators read it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditView {
    pub id: String,
    pub at: String,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    pub user_id: Option<String>,
    /// The operator's ARN (`local-admin` locally) or, for the user's own
    /// (successful) actions, the user's id; null for a refused attempt.
    pub actor: Option<String>,
    /// What the attempt named: the username typed at a login, the account
    /// an operator deleted, the network of an IP block.
    pub subject: Option<String>,
    pub source_ip: Option<String>,
    pub request_id: String,
    pub reasons: Vec<String>,
}

impl AuditView {
    pub fn new(record: &AuditRecord) -> Self {
        let user_id = record.user_id.map(|id| id.to_string());
        Self {
            id: record.id.to_string(),
            at: rfc3339(record.at),
            action: record.action,
            outcome: record.outcome,
            // A refused attempt naming the account is not known to be its
            // owner's: only what succeeded is the user's own action.
            actor: record.actor.clone().or_else(|| {
                (record.outcome == AuditOutcome::Success)
                    .then(|| user_id.clone())
                    .flatten()
            }),
            user_id,
            subject: record.subject.clone(),
            source_ip: record.source_ip.clone(),
            request_id: record.request_id.clone(),
            reasons: record.reasons.clone(),
        }
    }
}

/// A lock on the account, as operators read it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockView {
    /// `login` (one address block), `login_all_addresses` (the
    /// account-wide ceiling) or `current_password`.
    pub scope: &'static str,
    /// The address (IPv4) or /64 (IPv6) the `login` lock holds for.
    pub address: Option<String>,
    /// The login identifier (lower-cased username or email) it counts, for
    /// locks from before they were kept per account (`null` for those).
    pub identifier: Option<String>,
    pub failures: u32,
    pub locked_until: Option<String>,
}

impl LockView {
    /// From a throttle key's text (`ThrottleKey`'s formats) and state.
    fn new(key: &str, state: &crate::domain::LoginThrottle) -> Self {
        let (scope, address, identifier) = if let Some(rest) = key.strip_prefix("login-account#") {
            // One budget for the account, whichever identifier named it.
            let block = rest.split_once('#').map_or("-", |(block, _)| block);
            ("login", (block != "-").then(|| block.to_owned()), None)
        } else if key.starts_with("login-account-all#") {
            ("login_all_addresses", None, None)
        } else if let Some(rest) = key.strip_prefix("login#") {
            let (block, identifier) = rest.split_once('#').unwrap_or(("-", rest));
            let address = (block != "-").then(|| block.to_owned());
            ("login", address, Some(identifier.to_owned()))
        } else if let Some(identifier) = key.strip_prefix("login-all#") {
            ("login_all_addresses", None, Some(identifier.to_owned()))
        } else {
            ("current_password", None, None)
        };
        Self {
            scope,
            address,
            identifier,
            failures: state.failures,
            locked_until: state.locked_until.map(rfc3339),
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub struct Admin<'a> {
    pub directory: &'a dyn AccountDirectory,
    pub users: &'a dyn UserStore,
    pub phone_users: &'a dyn PhoneUserStore,
    pub sessions: &'a dyn SessionStore,
    pub audit: &'a dyn AuditLog,
    pub clock: &'a dyn Clock,
}

impl Admin<'_> {
    pub async fn list(
        &self,
        status: Option<UserStatus>,
        after: Option<&ListingPosition>,
        limit: usize,
    ) -> Result<ListingPage, StoreError> {
        self.directory.list_accounts(status, after, limit).await
    }

    /// The account `query` names exactly: an email address (any case), a
    /// phone number (through its claim's keyed hash) or a username.
    pub async fn find(
        &self,
        query: &str,
        region: PhoneRegion,
    ) -> Result<Option<Account>, StoreError> {
        let query = query.trim();
        let id = if query.contains('@') {
            match Email::parse(query) {
                Ok(email) => self.users.find_by_email(email.as_str()).await?,
                Err(_) => None,
            }
        } else if query.starts_with('+') || query.chars().all(|c| c.is_ascii_digit()) {
            match PhoneNumber::parse(query, region) {
                Ok(phone) => self.phone_users.find_by_phone(&phone).await?,
                Err(_) => None,
            }
        } else {
            match Username::parse(query) {
                Ok(username) => self.users.find_by_username(username.key()).await?,
                Err(_) => None,
            }
        };
        match id {
            Some(id) => self.directory.account(id).await,
            None => Ok(None),
        }
    }

    pub async fn account(&self, id: UserId) -> Result<Account, AdminError> {
        self.directory
            .account(id)
            .await?
            .ok_or(AdminError::NotFound)
    }

    /// The user's audit records of the last `RECENT_AUDIT_DAYS` days,
    /// newest first (one query per day partition).
    pub async fn recent_audit(&self, id: UserId) -> Result<Vec<AuditRecord>, StoreError> {
        let today = self.clock.now().to_offset(time::UtcOffset::UTC).date();
        let mut records = Vec::new();
        for back in 0..RECENT_AUDIT_DAYS {
            let day = today - time::Duration::days(back);
            let mut of_day: Vec<AuditRecord> = self
                .audit
                .list_day(day)
                .await?
                .into_iter()
                .filter(|r| names(r, id))
                .collect();
            of_day.reverse();
            records.extend(of_day);
            if records.len() >= RECENT_AUDIT_LIMIT {
                break;
            }
        }
        records.truncate(RECENT_AUDIT_LIMIT);
        Ok(records)
    }

    fn record(
        &self,
        action: AuditAction,
        id: UserId,
        operator: &Operator,
        origin: &Origin,
        at: OffsetDateTime,
    ) -> AuditRecord {
        let mut record = origin.audit(action, AuditOutcome::Success, at);
        record.user_id = Some(id);
        record.actor = Some(operator.actor.clone());
        record
    }

    /// Deactivates or reactivates the account. Deactivation also ends every
    /// session; the status alone already fails its access tokens at once,
    /// as every authenticated request reads it.
    pub async fn set_status(
        &self,
        id: UserId,
        status: UserStatus,
        operator: &Operator,
        origin: &Origin,
    ) -> Result<Account, AdminError> {
        let now = self.clock.now();
        let action = match status {
            UserStatus::Active => AuditAction::AdminActivate,
            UserStatus::Inactive => AuditAction::AdminDeactivate,
        };
        let audit = self.record(action, id, operator, origin, now);
        let account = match self.directory.set_status(id, status, now, &audit).await? {
            StatusChange::Changed(account) => *account,
            StatusChange::NotFound => return Err(AdminError::NotFound),
            StatusChange::BeingDeleted => return Err(AdminError::BeingDeleted),
        };
        if status == UserStatus::Inactive {
            self.sessions
                .revoke_sessions(id, None, RevokeReason::LogoutAll, now)
                .await?;
        }
        Ok(account)
    }

    /// Ends every session of the account; returns it and how many ended.
    pub async fn log_out_everywhere(
        &self,
        id: UserId,
        operator: &Operator,
        origin: &Origin,
    ) -> Result<(Account, usize), AdminError> {
        let account = self.account(id).await?;
        let now = self.clock.now();
        let ended = self
            .sessions
            .revoke_sessions(id, None, RevokeReason::LogoutAll, now)
            .await?;
        self.audit
            .record(&self.record(AuditAction::AdminLogoutAll, id, operator, origin, now))
            .await?;
        Ok((account, ended))
    }

    /// Marks the account's email address verified, as its confirmation
    /// link would (the clean-up of unconfirmed accounts spares it from now).
    pub async fn verify_email(
        &self,
        id: UserId,
        operator: &Operator,
        origin: &Origin,
    ) -> Result<Account, AdminError> {
        let Account::Member(current) = self.account(id).await? else {
            return Err(AdminError::NotMember);
        };
        let now = self.clock.now();
        let audit = self.record(AuditAction::AdminVerifyEmail, id, operator, origin, now);
        if !current.email_verified {
            let mut updated = current.clone();
            updated.email_verified = true;
            updated.updated_at = now;
            match self.users.update(&current, &updated, &audit, &[]).await {
                Ok(()) => {}
                Err(UpdateUserError::Stale | UpdateUserError::Conflict(_)) => {
                    return Err(AdminError::Stale)
                }
                Err(UpdateUserError::Store(error)) => return Err(error.into()),
            }
        } else {
            self.audit.record(&audit).await?;
        }
        // The unverified-accounts index may still name it: the clean-up
        // re-reads the account and leaves a verified one alone.
        self.account(id).await
    }

    /// Records that an operator deleted the account. The record names the
    /// account as its subject, not as its owner: the erasure removes what
    /// the account owns, and who deleted it must outlive that.
    pub async fn audit_deletion(
        &self,
        id: UserId,
        operator: &Operator,
        origin: &Origin,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut record = self.record(AuditAction::AdminDelete, id, operator, origin, now);
        record.user_id = None;
        record.subject = Some(id.to_string());
        self.audit.record(&record).await
    }

    /// Records an operator's action on an account that another use case
    /// carried out (a reset link, a deletion).
    pub async fn audit_action(
        &self,
        action: AuditAction,
        id: UserId,
        operator: &Operator,
        origin: &Origin,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.audit
            .record(&self.record(action, id, operator, origin, now))
            .await
    }

    /// Audit records from `since` on (of one user when given), newest
    /// first, below `after`. The log is kept in one partition per day, so
    /// this reads each day from today back to `since`.
    pub async fn audit_page(
        &self,
        user: Option<UserId>,
        since: OffsetDateTime,
        after: Option<&ListingPosition>,
        limit: usize,
    ) -> Result<AuditPage, StoreError> {
        let today = self.clock.now().to_offset(time::UtcOffset::UTC).date();
        let first = since.to_offset(time::UtcOffset::UTC).date();
        let mut records = Vec::new();
        let mut day = today;
        while day >= first && records.len() <= limit {
            let mut of_day: Vec<AuditRecord> = self
                .audit
                .list_day(day)
                .await?
                .into_iter()
                .filter(|r| r.at >= since)
                .filter(|r| user.is_none_or(|user| names(r, user)))
                .filter(|r| after.is_none_or(|after| &audit_position(r) < after))
                .collect();
            of_day.sort_by_key(|r| std::cmp::Reverse(audit_position(r)));
            records.extend(of_day);
            match day.previous_day() {
                Some(previous) => day = previous,
                None => break,
            }
        }
        let more = records.len() > limit;
        records.truncate(limit);
        let next = records.last().filter(|_| more).map(audit_position);
        Ok(AuditPage { records, next })
    }

    /// The account's locks in force now (an empty list when none).
    pub async fn locks(&self, id: UserId) -> Result<Vec<LockView>, StoreError> {
        let now = self.clock.now();
        Ok(self
            .directory
            .lockouts(id)
            .await?
            .iter()
            .filter(|(_, state)| state.locked_for(now).is_some())
            .map(|(key, state)| LockView::new(key, state))
            .collect())
    }

    /// Clears every lockout counter of the account: its login locks from
    /// every address, its account-wide ceiling, its current-password lock.
    pub async fn unlock(
        &self,
        id: UserId,
        operator: &Operator,
        origin: &Origin,
    ) -> Result<(Account, usize), AdminError> {
        let account = self.account(id).await?;
        let now = self.clock.now();
        let audit = self.record(AuditAction::AdminUnlock, id, operator, origin, now);
        let cleared = self.directory.clear_lockouts(id, &audit).await?;
        Ok((account, cleared))
    }
}
