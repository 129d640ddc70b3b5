use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemoryStore, Tables};
use crate::domain::preferences::Preferences;
use crate::domain::push_token::{PushToken, PushTokenId};
use crate::domain::{DeviceId, UserId};
use crate::ports::notification_profile::{PreferencesStore, PushTokenStore, ValueChange};
use crate::ports::StoreError;

#[async_trait]
impl PreferencesStore for MemoryStore {
    async fn preferences(&self, user: UserId) -> Result<Option<Preferences>, StoreError> {
        Ok(self.lock().preferences.get(&user).cloned())
    }

    async fn put_preferences(
        &self,
        user: UserId,
        preferences: &Preferences,
        _at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.lock().preferences.insert(user, preferences.clone());
        Ok(())
    }
}

pub(super) fn remove_push_token(tables: &mut Tables, user: UserId, id: PushTokenId) -> bool {
    match tables.push_tokens.remove(&(user, id)) {
        Some(token) => {
            tables.push_claims.remove(&token.token.hash());
            true
        }
        None => false,
    }
}

#[async_trait]
impl PushTokenStore for MemoryStore {
    async fn register_push_token(&self, token: &PushToken) -> Result<PushToken, StoreError> {
        let mut tables = self.lock();
        let hash = token.token.hash();
        if let Some((owner, id)) = tables.push_claims.get(&hash).copied() {
            if owner == token.user_id {
                let stored = tables
                    .push_tokens
                    .get_mut(&(owner, id))
                    .ok_or_else(|| StoreError::internal("push claim without its token"))?;
                stored.platform = token.platform;
                stored.device_id = token.device_id.clone();
                stored.active = true;
                stored.last_used_at = token.last_used_at;
                return Ok(stored.clone());
            }
            remove_push_token(&mut tables, owner, id);
        }
        tables.push_claims.insert(hash, (token.user_id, token.id));
        tables
            .push_tokens
            .insert((token.user_id, token.id), token.clone());
        Ok(token.clone())
    }

    async fn push_tokens(&self, user: UserId) -> Result<Vec<PushToken>, StoreError> {
        let mut tokens: Vec<PushToken> = self
            .lock()
            .push_tokens
            .values()
            .filter(|t| t.user_id == user)
            .cloned()
            .collect();
        tokens.sort_by_key(|t| (t.created_at, t.id));
        Ok(tokens)
    }

    async fn push_token(
        &self,
        user: UserId,
        id: PushTokenId,
    ) -> Result<Option<PushToken>, StoreError> {
        Ok(self.lock().push_tokens.get(&(user, id)).cloned())
    }

    async fn update_push_token(&self, updated: &PushToken) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        match tables.push_tokens.get_mut(&(updated.user_id, updated.id)) {
            Some(stored) => {
                *stored = updated.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn change_push_token_value(
        &self,
        current: &PushToken,
        updated: &PushToken,
    ) -> Result<ValueChange, StoreError> {
        let mut tables = self.lock();
        let key = (current.user_id, current.id);
        match tables.push_tokens.get(&key) {
            None => return Ok(ValueChange::Gone),
            Some(stored) if stored != current => return Ok(ValueChange::Stale),
            Some(_) => {}
        }
        let new_hash = updated.token.hash();
        if let Some((owner, id)) = tables.push_claims.get(&new_hash).copied() {
            remove_push_token(&mut tables, owner, id);
        }
        let old_hash = current.token.hash();
        if tables.push_claims.get(&old_hash) == Some(&key) {
            tables.push_claims.remove(&old_hash);
        }
        tables.push_claims.insert(new_hash, key);
        tables.push_tokens.insert(key, updated.clone());
        Ok(ValueChange::Done)
    }

    async fn delete_push_token(&self, user: UserId, id: PushTokenId) -> Result<bool, StoreError> {
        Ok(remove_push_token(&mut self.lock(), user, id))
    }

    async fn deactivate_push_tokens(&self, user: UserId) -> Result<usize, StoreError> {
        let mut tables = self.lock();
        let mut changed = 0;
        for token in tables.push_tokens.values_mut() {
            if token.user_id == user && token.active {
                token.active = false;
                changed += 1;
            }
        }
        Ok(changed)
    }

    async fn drop_device_push_tokens(
        &self,
        user: UserId,
        device: &DeviceId,
    ) -> Result<usize, StoreError> {
        let mut tables = self.lock();
        Ok(drop_device_tokens(&mut tables, user, device))
    }

    async fn unused_push_tokens(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PushToken>, StoreError> {
        let mut unused: Vec<PushToken> = self
            .lock()
            .push_tokens
            .values()
            .filter(|t| t.last_used_at < before)
            .cloned()
            .collect();
        unused.sort_by_key(|t| (t.last_used_at, t.id));
        unused.truncate(limit);
        Ok(unused)
    }

    async fn prune_push_token(&self, token: &PushToken) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        match tables.push_tokens.get(&(token.user_id, token.id)) {
            Some(stored) if stored.last_used_at == token.last_used_at => {
                Ok(remove_push_token(&mut tables, token.user_id, token.id))
            }
            _ => Ok(false),
        }
    }
}

pub(super) fn drop_device_tokens(tables: &mut Tables, user: UserId, device: &DeviceId) -> usize {
    let ids: Vec<PushTokenId> = tables
        .push_tokens
        .values()
        .filter(|t| t.user_id == user && t.device_id.as_ref() == Some(device))
        .map(|t| t.id)
        .collect();
    for id in &ids {
        remove_push_token(tables, user, *id);
    }
    ids.len()
}
