use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemoryStore, Tables};
use crate::domain::{AuditRecord, LoginThrottle, NotificationEvent};
use crate::domain::{Device, DeviceId, DeviceInfo, RefreshState, Session, SessionId, UserId};
use crate::ports::accounts::StoredAccount;
use crate::ports::sessions::{
    GraceReplay, LoginFailure, LoginFailureError, LoginKeys, LoginLookup, NewSession,
    PasswordCheckEnd, RefreshView, RevokeReason, Rotation, RotationError, SessionStore,
    UnreadCount,
};
use crate::ports::StoreError;

/// Ends every live session of `user_id` but `keep`, deleting their live
/// tokens; returns how many ended.
pub(super) fn revoke_all(
    tables: &mut Tables,
    user_id: UserId,
    keep: Option<SessionId>,
    reason: RevokeReason,
    at: OffsetDateTime,
) -> usize {
    let ids: Vec<SessionId> = tables
        .sessions
        .values()
        .filter(|s| s.user_id == user_id && s.revoked_at.is_none() && Some(s.id) != keep)
        .map(|s| s.id)
        .collect();
    for id in &ids {
        revoke_one(tables, user_id, *id, reason, at);
    }
    ids.len()
}

fn revoke_one(
    tables: &mut Tables,
    user_id: UserId,
    session_id: SessionId,
    reason: RevokeReason,
    at: OffsetDateTime,
) {
    let Some(session) = tables.sessions.get_mut(&(user_id, session_id)) else {
        return;
    };
    if session.revoked_at.is_some() {
        return;
    }
    session.revoked_at = Some(at);
    session.revoked_reason = Some(reason.as_str().to_owned());
    let hash = session.current_token_hash.clone();
    tables.refresh.remove(&hash);
}

fn merge_info(new: &DeviceInfo, known: &DeviceInfo) -> DeviceInfo {
    let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
    DeviceInfo {
        platform: pick(&new.platform, &known.platform),
        model: pick(&new.model, &known.model),
        os_version: pick(&new.os_version, &known.os_version),
        app_version: pick(&new.app_version, &known.app_version),
        language_code: pick(&new.language_code, &known.language_code),
        timezone: pick(&new.timezone, &known.timezone),
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn lookup_login(&self, keys: &LoginKeys<'_>) -> Result<LoginLookup, StoreError> {
        let tables = self.lock();
        let by_username = keys
            .username_key
            .and_then(|k| tables.usernames.get(k).copied());
        let by_email = keys.email.and_then(|e| tables.emails.get(e).copied());
        Ok(LoginLookup {
            user_id: by_username.or(by_email),
            throttle: keys
                .throttle
                .and_then(|k| tables.throttles.get(k.as_str()).cloned())
                .unwrap_or_default(),
            ceiling: keys
                .ceiling
                .and_then(|k| tables.throttles.get(k.as_str()).cloned())
                .unwrap_or_default(),
            ip_failures: keys.ip_window.map_or(0, |w| tables.counter(&w.key)),
        })
    }

    async fn start_session(&self, new: &NewSession) -> Result<(), StoreError> {
        let mut tables = self.lock();
        if !tables.users.contains_key(&new.session.user_id) {
            return Err(StoreError::internal("the account is gone"));
        }
        insert_session(&mut tables, new)?;
        // The account's last login, as DynamoDB's transaction sets it.
        if let Some(user) = tables.users.get_mut(&new.session.user_id) {
            user.last_login = Some(new.session.created_at);
        }
        Ok(())
    }

    async fn record_refused_login(
        &self,
        ip_window: Option<&crate::domain::RateWindow>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        if let Some(window) = ip_window {
            let count = tables.counter(&window.key) + 1;
            tables
                .counters
                .insert(window.key.clone(), (count, window.ends_at));
        }
        tables.audit.push(audit.clone());
        Ok(())
    }

    async fn count_attempt_unread(
        &self,
        count: &UnreadCount<'_>,
    ) -> Result<Option<(LoginThrottle, LoginThrottle)>, StoreError> {
        let mut tables = self.lock();
        let key = count.key.as_str();
        let policy = &count.policy;
        let before = tables.throttles.get(key).cloned();
        let quick = match &before {
            None => policy.max_failures > 1,
            Some(seen) => {
                seen.locked_until.is_none()
                    && seen.failures + 1 < policy.max_failures
                    && seen
                        .window_started_at
                        .is_some_and(|start| count.at - start < policy.window)
            }
        };
        if !quick {
            return Ok(None);
        }
        let before = before.unwrap_or_default();
        let after = before.after_failure(policy, count.at);
        tables.throttles.insert(key.to_owned(), after.clone());
        if let Some(owner) = count.owner {
            tables.throttle_owners.insert(key.to_owned(), owner);
        }
        Ok(Some((before, after)))
    }

    async fn record_login_failure(&self, failure: &LoginFailure) -> Result<(), LoginFailureError> {
        let mut tables = self.lock();
        let updates: Vec<_> = failure.lock.iter().chain(&failure.ceiling).collect();
        for update in &updates {
            let stored = tables
                .throttles
                .get(update.key.as_str())
                .map_or(0, |t| t.version);
            if stored != update.previous.version {
                return Err(LoginFailureError::Concurrent);
            }
        }
        for update in updates {
            tables
                .throttles
                .insert(update.key.as_str().to_owned(), update.next.clone());
        }
        if let Some(owner) = failure.owner {
            for update in failure.lock.iter().chain(&failure.ceiling) {
                tables
                    .throttle_owners
                    .insert(update.key.as_str().to_owned(), owner);
            }
        }
        if let Some(window) = &failure.ip_window {
            let count = tables.counter(&window.key) + 1;
            tables
                .counters
                .insert(window.key.clone(), (count, window.ends_at));
        }
        tables.audit.extend(failure.audit.clone());
        Ok(())
    }

    async fn settle_password_check(&self, end: &PasswordCheckEnd) -> Result<(), StoreError> {
        let mut tables = self.lock();
        match end {
            PasswordCheckEnd::Right { refund } => {
                if let Some(update) = &refund.lock {
                    if tables
                        .throttles
                        .get(update.key.as_str())
                        .is_some_and(|t| t.version == update.previous.version)
                    {
                        tables
                            .throttles
                            .insert(update.key.as_str().to_owned(), update.next.clone());
                    }
                }
            }
            PasswordCheckEnd::Wrong { audit } => tables.audit.push(audit.as_ref().clone()),
        }
        Ok(())
    }

    async fn load_refresh(
        &self,
        hash: &str,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<RefreshView, StoreError> {
        let tables = self.lock();
        Ok(RefreshView {
            record: tables.refresh.get(hash).cloned(),
            session: tables.sessions.get(&(user_id, session_id)).cloned(),
            account: tables.account(user_id).map(StoredAccount::open_already),
        })
    }

    async fn rotate_refresh(&self, rotation: &Rotation) -> Result<(), RotationError> {
        let mut tables = self.lock();
        let key = (rotation.user_id, rotation.session_id);
        let token_active = matches!(tables.refresh.get(&rotation.old_hash), Some(r) if r.state == RefreshState::Active);
        let session_on_it = matches!(
            tables.sessions.get(&key),
            Some(s) if s.revoked_at.is_none() && s.current_token_hash == rotation.old_hash
        );
        if !token_active || !session_on_it || tables.refresh.contains_key(&rotation.successor.hash)
        {
            return Err(RotationError::Lost);
        }
        if let Some(old) = tables.refresh.get_mut(&rotation.old_hash) {
            old.state = RefreshState::Spent {
                at: rotation.at,
                successor_hash: rotation.successor.hash.clone(),
                sealed_successor: rotation.sealed_successor.clone(),
            };
        }
        tables
            .refresh
            .insert(rotation.successor.hash.clone(), rotation.successor.clone());
        if let Some(session) = tables.sessions.get_mut(&key) {
            session.current_token_hash = rotation.successor.hash.clone();
            session.last_used_at = rotation.at;
        }
        Ok(())
    }

    async fn record_grace_replay(&self, replay: &GraceReplay) -> Result<(), RotationError> {
        let mut tables = self.lock();
        let on_successor = matches!(
            tables.sessions.get(&(replay.user_id, replay.session_id)),
            Some(s) if s.revoked_at.is_none() && s.current_token_hash == replay.successor_hash
        );
        if !on_successor {
            return Err(RotationError::Lost);
        }
        tables.audit.push(replay.audit.clone());
        Ok(())
    }

    async fn revoke_session(
        &self,
        session: &Session,
        reason: RevokeReason,
        at: OffsetDateTime,
        audit: Option<&AuditRecord>,
        events: &[NotificationEvent],
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        revoke_one(&mut tables, session.user_id, session.id, reason, at);
        if let Some(audit) = audit {
            tables.audit.push(audit.clone());
        }
        tables.outbox.extend_from_slice(events);
        Ok(())
    }

    async fn revoke_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        reason: RevokeReason,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        Ok(revoke_all(&mut self.lock(), user_id, keep, reason, at))
    }

    async fn user_and_session(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<(Option<StoredAccount>, Option<Session>), StoreError> {
        let tables = self.lock();
        Ok((
            tables.account(user_id).map(StoredAccount::open_already),
            tables.sessions.get(&(user_id, session_id)).cloned(),
        ))
    }

    async fn sessions_and_devices(
        &self,
        user_id: UserId,
    ) -> Result<(Vec<Session>, Vec<Device>), StoreError> {
        let tables = self.lock();
        let mut sessions: Vec<Session> = tables
            .sessions
            .values()
            .filter(|s| s.user_id == user_id)
            .cloned()
            .collect();
        sessions.sort_by_key(|s| s.id.as_uuid());
        let mut devices: Vec<Device> = tables
            .devices
            .values()
            .filter(|d| d.user_id == user_id)
            .cloned()
            .collect();
        devices.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok((sessions, devices))
    }

    async fn remove_device(
        &self,
        user_id: UserId,
        device_id: &DeviceId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        if tables
            .devices
            .remove(&(user_id, device_id.as_str().to_owned()))
            .is_none()
        {
            return Ok(false);
        }
        let ids: Vec<SessionId> = tables
            .sessions
            .values()
            .filter(|s| {
                s.user_id == user_id
                    && s.device_id.as_ref() == Some(device_id)
                    && s.revoked_at.is_none()
            })
            .map(|s| s.id)
            .collect();
        super::notification_profile::drop_device_tokens(&mut tables, user_id, device_id);
        for id in ids {
            revoke_one(&mut tables, user_id, id, RevokeReason::DeviceRemoved, at);
        }
        Ok(true)
    }
}

/// The writes of `SessionStore::start_session`, under the caller's lock.
pub(super) fn insert_session(tables: &mut Tables, new: &NewSession) -> Result<(), StoreError> {
    let key = (new.session.user_id, new.session.id);
    if tables.sessions.contains_key(&key) || tables.refresh.contains_key(&new.refresh.hash) {
        return Err(StoreError::internal("session or token id already exists"));
    }
    tables.sessions.insert(key, new.session.clone());
    tables
        .refresh
        .insert(new.refresh.hash.clone(), new.refresh.clone());
    if let Some(device) = &new.device {
        let device_key = (device.user_id, device.id.as_str().to_owned());
        // A login that describes less keeps what is known (as the
        // DynamoDB update sets only the attributes given).
        let merged = match tables.devices.get(&device_key) {
            Some(known) => Device {
                first_seen: known.first_seen,
                info: merge_info(&device.info, &known.info),
                ip: device.ip.clone().or_else(|| known.ip.clone()),
                ..device.clone()
            },
            None => device.clone(),
        };
        tables.devices.insert(device_key, merged);
    }
    if let Some(throttle) = &new.clear_throttle {
        tables.throttles.remove(throttle.as_str());
    }
    tables.audit.push(new.audit.clone());
    tables.outbox.extend_from_slice(&new.events);
    Ok(())
}
