use async_trait::async_trait;
use serde_dynamo::{from_item, to_item};

use super::errors::mapping_error;
use super::keys;
use super::phone_items::LocationItem;
use super::session_items::{RefreshItem, SessionItem};
use super::store::format_time;
use super::transact::{s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{Account, Location, LocationId, PhoneNumber, PhoneUser, UserId};
use crate::ports::phone_users::{
    CreatePhoneUserError, NewPhoneAccount, PhoneSignUpLookup, PhoneUserStore, PhoneUserView,
    UpdatePhoneUserError,
};
use crate::ports::StoreError;

/// The number's claim is free: failed, another account holds the number.
const PHONE_UNCLAIMED: Condition = "phone_unclaimed";

#[async_trait]
impl PhoneUserStore for DynamoStore {
    async fn charge_signup_quota(
        &self,
        window: &crate::domain::RateWindow,
    ) -> Result<bool, StoreError> {
        self.charge_now(window).await
    }

    async fn phone_signup_lookup(
        &self,
        phone: &PhoneNumber,
        quota: Option<&crate::domain::RateWindow>,
    ) -> Result<PhoneSignUpLookup, StoreError> {
        let hash = self.encryption_keys().await?.lookup_hash(phone);
        let claim = keys::phone_claim(&hash);
        let counter = quota.map(|w| keys::rate_counter(&w.key));
        let wanted: Vec<keys::Key> = std::iter::once(claim.clone())
            .chain(counter.clone())
            .collect();
        let found = self.batch_get(&wanted).await?;
        let held = |key: &keys::Key| found.contains_key(&(key.pk.clone(), key.sk.clone()));
        let quota_used = counter
            .and_then(|key| found.get(&(key.pk, key.sk)))
            .and_then(|item| item.get(super::rate_windows::COUNT))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(PhoneSignUpLookup {
            phone_taken: held(&claim),
            quota_used,
        })
    }

    async fn create_phone_user(&self, new: &NewPhoneAccount) -> Result<(), CreatePhoneUserError> {
        let user = &new.user;
        let phone_keys = self.encryption_keys().await?;
        let (item, hash) = self.seal_phone_user(user, &phone_keys).await?;
        let mut writes = vec![
            Write::create(&self.table, item)?,
            self.claim(keys::phone_claim(&hash), user.id)?
                .named(PHONE_UNCLAIMED),
        ];
        if let Some(quota) = &new.quota {
            writes.push(self.charge_window(quota)?);
        }
        if let Some(location) = &new.location {
            writes.push(Write::create(
                &self.table,
                to_item(LocationItem::from(location)).map_err(mapping_error)?,
            )?);
        }
        if let Some(device) = &new.device {
            writes.push(self.upsert_device(device)?);
        }
        writes.push(Write::create(
            &self.table,
            to_item(SessionItem::from(&new.session)).map_err(mapping_error)?,
        )?);
        writes.push(Write::create(
            &self.table,
            to_item(RefreshItem::from(&new.refresh)).map_err(mapping_error)?,
        )?);
        writes.push(self.put_audit(&new.audit)?);
        for event in &new.events {
            writes.push(self.put_event(event)?);
        }
        writes.push(self.put_default_preferences(user.id, user.created_at)?);
        if let Some(posting) = &new.credits {
            writes.extend(self.posting_writes(posting)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) => {
                if cancelled.failed_named(PHONE_UNCLAIMED) {
                    Err(CreatePhoneUserError::PhoneTaken)
                } else if cancelled.failed_named(super::rate_windows::WINDOW_OPEN) {
                    Err(CreatePhoneUserError::QuotaExhausted)
                } else {
                    Err(StoreError::internal("a new account's id already exists").into())
                }
            }
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Option<UserId>, StoreError> {
        let hash = self.encryption_keys().await?.lookup_hash(phone);
        self.claim_owner(keys::phone_claim(&hash)).await
    }

    async fn update_phone_user(
        &self,
        current: &PhoneUser,
        updated: &PhoneUser,
        location: Option<&Location>,
        audit: &crate::domain::AuditRecord,
    ) -> Result<(), UpdatePhoneUserError> {
        let phone_keys = self.encryption_keys().await?;
        let (item, _) = self.seal_phone_user(updated, &phone_keys).await?;
        let mut writes = vec![
            Write::put(
                &self.table,
                item,
                Some("#updated = :updated"),
                Expression::default()
                    .name("#updated", super::items::UPDATED_AT)
                    .value(":updated", s(format_time(current.updated_at))),
            )?,
            self.put_audit(audit)?,
        ];
        if let Some(location) = location {
            writes.push(Write::put(
                &self.table,
                to_item(LocationItem::from(location)).map_err(mapping_error)?,
                None,
                Expression::default(),
            )?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(_)) => Err(UpdatePhoneUserError::Stale),
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn get_phone_user(&self, id: UserId) -> Result<Option<PhoneUser>, StoreError> {
        let account = self
            .open_optional_account(self.get_item(keys::user(id)).await?)
            .await?;
        Ok(match account {
            Some(Account::Phone(user)) => Some(user),
            _ => None,
        })
    }

    async fn phone_user_with_sessions(&self, id: UserId) -> Result<PhoneUserView, StoreError> {
        let (profile, sessions, devices) = self.partition_view(id).await?;
        let user = match self.open_optional_account(profile).await? {
            Some(Account::Phone(user)) => Some(user),
            _ => None,
        };
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
        match self.get_item(keys::location(user_id, id)).await? {
            Some(item) => {
                let item: LocationItem = from_item(item).map_err(mapping_error)?;
                Ok(Some(item.into()))
            }
            None => Ok(None),
        }
    }
}
