use async_trait::async_trait;
use serde_dynamo::to_item;
use time::OffsetDateTime;

use super::errors::mapping_error;
use super::keys::{self, Key, DEVICE_PREFIX, SESSION_PREFIX};
use super::queries::{decode, take};
use super::revocation::{REVOKE_ATTEMPTS, SESSION_CURRENT};
use super::session_items::{DeviceItem, RefreshItem, SessionItem, TOKEN_ACTIVE, TOKEN_SPENT};
use super::store::format_time;
use super::transact::{s, Condition, Expression, Item, TransactError, Write};
use super::DynamoStore;
use crate::domain::{
    AuditRecord, Device, DeviceId, LoginThrottle, NotificationEvent, RefreshRecord, Session,
    SessionId, UserId,
};
use crate::ports::accounts::StoredAccount;
use crate::ports::sessions::{
    GraceReplay, LoginFailure, LoginFailureError, LoginKeys, LoginLookup, NewSession,
    PasswordCheckEnd, RefreshView, RevokeReason, Rotation, RotationError, SessionStore,
    UnreadCount,
};
use crate::ports::StoreError;

/// The account a sign-in stamps is still there.
pub(super) const ACCOUNT_EXISTS: Condition = "account_exists";
/// The device to forget is there.
const DEVICE_EXISTS: Condition = "device_exists";

impl DynamoStore {
    /// Stores a device, keeping the first sighting of a known one.
    /// The account item, sessions and devices of a user's partition, in
    /// one query.
    pub(super) async fn partition_view(
        &self,
        user_id: UserId,
    ) -> Result<(Option<Item>, Vec<Session>, Vec<Device>), StoreError> {
        let items = self
            .query_prefix(&keys::user_partition(user_id), "")
            .await?;
        let profile_key = keys::user(user_id).sk;
        let mut profile = None;
        let mut sessions = Vec::new();
        let mut devices = Vec::new();
        for item in items {
            let sort_key = Key::from_item(&item).map(|k| k.sk).unwrap_or_default();
            if sort_key.starts_with(SESSION_PREFIX) {
                sessions.push(Session::from(decode::<SessionItem>(item)?));
            } else if sort_key.starts_with(DEVICE_PREFIX) {
                devices.push(Device::from(decode::<DeviceItem>(item)?));
            } else if sort_key == profile_key {
                profile = Some(item);
            }
        }
        sessions.sort_by_key(|s| s.id.as_uuid());
        devices.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok((profile, sessions, devices))
    }

    /// The writes of a new session (see `SessionStore::start_session`).
    pub(super) fn session_writes(&self, new: &NewSession) -> Result<Vec<Write>, StoreError> {
        let mut writes = vec![
            Write::create(
                &self.table,
                to_item(SessionItem::from(&new.session)).map_err(mapping_error)?,
            )?,
            Write::create(
                &self.table,
                to_item(RefreshItem::from(&new.refresh)).map_err(mapping_error)?,
            )?,
            self.put_audit(&new.audit)?,
        ];
        if let Some(device) = &new.device {
            writes.push(self.upsert_device(device)?);
        }
        if let Some(throttle) = &new.clear_throttle {
            writes.push(Write::delete(
                &self.table,
                &keys::login_throttle(throttle),
                None,
                Expression::default(),
            )?);
        }
        for event in &new.events {
            writes.push(self.put_event(event)?);
        }
        Ok(writes)
    }

    /// The account's last sign-in, for the session's transaction, without
    /// touching `updated_at` (the profile's optimistic-concurrency
    /// version). Password and phone logins both write it.
    pub(super) fn last_login_write(&self, new: &NewSession) -> Result<Write, StoreError> {
        Write::update(
            &self.table,
            &keys::user(new.session.user_id),
            "SET #last_login = :at",
            Some("attribute_exists(#pk)"),
            Expression::default()
                .name("#pk", keys::PK)
                .name("#last_login", super::phone_items::LAST_LOGIN)
                .value(":at", s(super::store::format_time(new.session.created_at))),
        )
        .map(|write| write.named(ACCOUNT_EXISTS))
    }

    pub(super) fn upsert_device(&self, device: &Device) -> Result<Write, StoreError> {
        let mut item: Item = to_item(DeviceItem::from(device)).map_err(mapping_error)?;
        let first_seen = item.remove("first_seen");
        let mut expression = Expression::default().name("#first", super::session_items::FIRST_SEEN);
        let mut sets = vec!["#first = if_not_exists(#first, :first)".to_owned()];
        if let Some(first_seen) = first_seen {
            expression = expression.value(":first", first_seen);
        }
        for (index, (name, value)) in item
            .into_iter()
            .filter(|(k, _)| k != keys::PK && k != keys::SK)
            .enumerate()
        {
            expression = expression
                .name(&format!("#a{index}"), &name)
                .value(&format!(":v{index}"), value);
            sets.push(format!("#a{index} = :v{index}"));
        }
        Write::update(
            &self.table,
            &keys::device(device.user_id, &device.id),
            &format!("SET {}", sets.join(", ")),
            None,
            expression,
        )
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn lookup_login(&self, login: &LoginKeys<'_>) -> Result<LoginLookup, StoreError> {
        self.read_login_keys(login).await
    }

    async fn start_session(&self, new: &NewSession) -> Result<(), StoreError> {
        let mut writes = self.session_writes(new)?;
        writes.push(self.last_login_write(new)?);
        self.transact(writes)
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn record_refused_login(
        &self,
        ip_window: Option<&crate::domain::RateWindow>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut writes = vec![self.put_audit(audit)?];
        if let Some(window) = ip_window {
            writes.push(self.count_in_window(window)?);
        }
        self.transact(writes)
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn count_attempt_unread(
        &self,
        count: &UnreadCount<'_>,
    ) -> Result<Option<(LoginThrottle, LoginThrottle)>, StoreError> {
        self.count_unread(count).await
    }

    async fn record_login_failure(&self, failure: &LoginFailure) -> Result<(), LoginFailureError> {
        self.count_login_failure(failure).await
    }

    async fn settle_password_check(&self, end: &PasswordCheckEnd) -> Result<(), StoreError> {
        match end {
            PasswordCheckEnd::Right { refund } => match self.record_login_failure(refund).await {
                // Counted again since: the count stands.
                Ok(()) | Err(LoginFailureError::Concurrent) => Ok(()),
                Err(LoginFailureError::Store(error)) => Err(error),
            },
            PasswordCheckEnd::Wrong { audit } => self
                .transact(vec![self.put_audit(audit)?])
                .await
                .map_err(TransactError::into_store_error),
        }
    }

    async fn load_refresh(
        &self,
        hash: &str,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<RefreshView, StoreError> {
        let token = keys::refresh_token(hash);
        let session = keys::session(user_id, session_id);
        let user = keys::user(user_id);
        let mut found = self
            .batch_get(&[token.clone(), session.clone(), user.clone()])
            .await?;
        Ok(RefreshView {
            record: take(&mut found, &token)
                .map(decode::<RefreshItem>)
                .transpose()?
                .map(RefreshRecord::from),
            session: take(&mut found, &session)
                .map(decode::<SessionItem>)
                .transpose()?
                .map(Session::from),
            account: self.optional_stored_account(take(&mut found, &user))?,
        })
    }

    async fn rotate_refresh(&self, rotation: &Rotation) -> Result<(), RotationError> {
        let spend = Write::update(
            &self.table,
            &keys::refresh_token(&rotation.old_hash),
            "SET #state = :spent, #spent_at = :at, #successor = :successor, #sealed = :sealed",
            Some("#state = :active"),
            Expression::default()
                .name("#state", super::session_items::REFRESH_STATE)
                .name("#spent_at", super::session_items::SPENT_AT)
                .name("#successor", super::session_items::SUCCESSOR_HASH)
                .name("#sealed", super::session_items::SEALED_SUCCESSOR)
                .value(":spent", s(TOKEN_SPENT))
                .value(":active", s(TOKEN_ACTIVE))
                .value(":at", s(format_time(rotation.at)))
                .value(":successor", s(rotation.successor.hash.clone()))
                .value(":sealed", s(rotation.sealed_successor.clone())),
        )?;
        let store_successor = Write::create(
            &self.table,
            to_item(RefreshItem::from(&rotation.successor)).map_err(mapping_error)?,
        )?;
        let move_session = Write::update(
            &self.table,
            &keys::session(rotation.user_id, rotation.session_id),
            "SET #current = :successor, #used = :at",
            Some("attribute_exists(#pk) AND attribute_not_exists(#revoked) AND #current = :old"),
            Expression::default()
                .name("#pk", keys::PK)
                .name("#current", super::session_items::CURRENT_TOKEN_HASH)
                .name("#used", super::session_items::SESSION_LAST_USED_AT)
                .name("#revoked", super::session_items::REVOKED_AT)
                .value(":successor", s(rotation.successor.hash.clone()))
                .value(":old", s(rotation.old_hash.clone()))
                .value(":at", s(format_time(rotation.at))),
        )?;
        match self
            .transact(vec![spend, store_successor, move_session])
            .await
        {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(_)) => Err(RotationError::Lost),
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn record_grace_replay(&self, replay: &GraceReplay) -> Result<(), RotationError> {
        let still_current = Write::check(
            &self.table,
            &keys::session(replay.user_id, replay.session_id),
            "attribute_exists(#pk) AND attribute_not_exists(#revoked) AND #current = :successor",
            Expression::default()
                .name("#pk", keys::PK)
                .name("#revoked", super::session_items::REVOKED_AT)
                .name("#current", super::session_items::CURRENT_TOKEN_HASH)
                .value(":successor", s(replay.successor_hash.clone())),
        )?
        .named(SESSION_CURRENT);
        match self
            .transact(vec![still_current, self.put_audit(&replay.audit)?])
            .await
        {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) if cancelled.failed_named(SESSION_CURRENT) => {
                Err(RotationError::Lost)
            }
            Err(error) => Err(error.into_store_error().into()),
        }
    }

    async fn revoke_session(
        &self,
        session: &Session,
        reason: RevokeReason,
        at: OffsetDateTime,
        audit: Option<&AuditRecord>,
        events: &[NotificationEvent],
    ) -> Result<(), StoreError> {
        // The audit record and events go with the revocation, all or nothing.
        let mut records: Vec<Write> = audit
            .map(|a| self.put_audit(a))
            .transpose()?
            .into_iter()
            .collect();
        for event in events {
            records.push(self.put_event(event)?);
        }
        let mut current = session.clone();
        for _ in 0..REVOKE_ATTEMPTS {
            if current.revoked_at.is_some() {
                break;
            }
            let mut writes: Vec<Write> = self.end_session(&current, reason, at)?.into();
            writes.extend(records.iter().cloned());
            match self.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Cancelled(_)) => {
                    // Rotated or ended meanwhile: read it again.
                    match self
                        .get_item(keys::session(session.user_id, session.id))
                        .await?
                    {
                        Some(item) => current = decode::<SessionItem>(item)?.into(),
                        None => break,
                    }
                }
                Err(TransactError::Store(error)) => return Err(error),
            }
        }
        // Already ended: the audit record and events still belong in the log.
        if !records.is_empty() {
            self.transact(records)
                .await
                .map_err(TransactError::into_store_error)?;
        }
        Ok(())
    }

    async fn revoke_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        reason: RevokeReason,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        self.revoke_live_sessions(user_id, keep, reason, at, Vec::new())
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn user_and_session(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<(Option<StoredAccount>, Option<Session>), StoreError> {
        let user = keys::user(user_id);
        let session = keys::session(user_id, session_id);
        let mut found = self.batch_get(&[user.clone(), session.clone()]).await?;
        Ok((
            self.optional_stored_account(take(&mut found, &user))?,
            take(&mut found, &session)
                .map(decode::<SessionItem>)
                .transpose()?
                .map(Session::from),
        ))
    }

    async fn sessions_and_devices(
        &self,
        user_id: UserId,
    ) -> Result<(Vec<Session>, Vec<Device>), StoreError> {
        let (_, sessions, devices) = self.partition_view(user_id).await?;
        Ok((sessions, devices))
    }

    async fn remove_device(
        &self,
        user_id: UserId,
        device_id: &DeviceId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let forget = Write::delete(
            &self.table,
            &keys::device(user_id, device_id),
            Some("attribute_exists(#pk)"),
            Expression::default().name("#pk", keys::PK),
        )?
        .named(DEVICE_EXISTS);
        // The device's push tokens go in the same step.
        let mut first = vec![forget];
        for token in self.push_tokens_of(user_id).await? {
            if token.device_id.as_ref() == Some(device_id) {
                first.extend(self.delete_token_writes(&token)?);
            }
        }
        let on_device = |s: &Session| s.device_id.as_ref() == Some(device_id);
        match self
            .revoke_matching(
                user_id,
                None,
                RevokeReason::DeviceRemoved,
                at,
                first,
                on_device,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(TransactError::Cancelled(cancelled)) if cancelled.failed_named(DEVICE_EXISTS) => {
                Ok(false)
            }
            Err(error) => Err(error.into_store_error()),
        }
    }
}
