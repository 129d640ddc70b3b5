use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{Location, LocationId, PhoneNumber, PhoneUser, UserId};
use crate::ports::phone_users::{
    CreatePhoneUserError, NewPhoneAccount, PhoneSignUpLookup, PhoneUserStore, PhoneUserView,
    UpdatePhoneUserError,
};
use crate::ports::StoreError;

#[async_trait]
impl PhoneUserStore for MemoryStore {
    async fn charge_signup_quota(
        &self,
        window: &crate::domain::RateWindow,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().charge(window))
    }

    async fn phone_signup_lookup(
        &self,
        phone: &PhoneNumber,
        quota: Option<&crate::domain::RateWindow>,
    ) -> Result<PhoneSignUpLookup, StoreError> {
        let tables = self.lock();
        Ok(PhoneSignUpLookup {
            phone_taken: tables.phones.contains_key(phone.as_e164()),
            quota_used: quota.map_or(0, |w| tables.counter(&w.key)),
        })
    }

    async fn create_phone_user(&self, new: &NewPhoneAccount) -> Result<(), CreatePhoneUserError> {
        let mut tables = self.lock();
        let user = &new.user;
        if tables.phones.contains_key(user.phone.as_e164()) {
            return Err(CreatePhoneUserError::PhoneTaken);
        }
        if tables.users.contains_key(&user.id) || tables.phone_users.contains_key(&user.id) {
            return Err(StoreError::internal("user id already exists").into());
        }
        if tables.refresh.contains_key(&new.refresh.hash) {
            return Err(StoreError::internal("refresh token already exists").into());
        }
        if let Some(quota) = &new.quota {
            let count = tables.counter(&quota.key);
            if count >= quota.max {
                return Err(CreatePhoneUserError::QuotaExhausted);
            }
            tables
                .counters
                .insert(quota.key.clone(), (count + 1, quota.ends_at));
        }
        tables
            .phones
            .insert(user.phone.as_e164().to_owned(), user.id);
        tables.phone_users.insert(user.id, user.clone());
        tables.preferences.insert(user.id, Default::default());
        if let Some(location) = &new.location {
            tables
                .locations
                .insert((user.id, location.id), location.clone());
        }
        if let Some(device) = &new.device {
            tables
                .devices
                .insert((user.id, device.id.as_str().to_owned()), device.clone());
        }
        tables
            .sessions
            .insert((user.id, new.session.id), new.session.clone());
        tables
            .refresh
            .insert(new.refresh.hash.clone(), new.refresh.clone());
        tables.audit.push(new.audit.clone());
        tables.outbox.extend_from_slice(&new.events);
        if let Some(posting) = &new.credits {
            tables.apply_posting(posting);
        }
        Ok(())
    }

    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Option<UserId>, StoreError> {
        Ok(self.lock().phones.get(phone.as_e164()).copied())
    }

    async fn update_phone_user(
        &self,
        current: &PhoneUser,
        updated: &PhoneUser,
        location: Option<&Location>,
        audit: &crate::domain::AuditRecord,
    ) -> Result<(), UpdatePhoneUserError> {
        let mut tables = self.lock();
        match tables.phone_users.get(&current.id) {
            Some(stored) if stored.updated_at == current.updated_at => {}
            _ => return Err(UpdatePhoneUserError::Stale),
        }
        tables.phone_users.insert(updated.id, updated.clone());
        if let Some(location) = location {
            tables
                .locations
                .insert((updated.id, location.id), location.clone());
        }
        tables.audit.push(audit.clone());
        Ok(())
    }

    async fn get_phone_user(&self, id: UserId) -> Result<Option<PhoneUser>, StoreError> {
        Ok(self.lock().phone_users.get(&id).cloned())
    }

    async fn phone_user_with_sessions(&self, id: UserId) -> Result<PhoneUserView, StoreError> {
        let user = self.lock().phone_users.get(&id).cloned();
        let (sessions, devices) =
            crate::ports::sessions::SessionStore::sessions_and_devices(self, id).await?;
        Ok(PhoneUserView {
            user,
            sessions,
            devices,
        })
    }

    async fn location(
        &self,
        user_id: UserId,
        id: LocationId,
    ) -> Result<Option<Location>, StoreError> {
        Ok(self.lock().locations.get(&(user_id, id)).cloned())
    }
}
