use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;

use super::errors::{mapping_error, store_error};
use super::items::ClaimItem;
use super::keys::{self, Key};
use super::transact::{s, Condition, Expression, Item, TransactError, Write};
use crate::domain::{Account, AuditRecord, NotificationEvent, RateWindow, User, UserId};
use crate::ports::sessions::RevokeReason;
use crate::ports::{
    Conflicts, CreateUserError, HealthProbe, PasswordChange, StoreError, UpdateUserError, UserStore,
};

/// A username claim is free: failed, the username is taken.
const USERNAME_UNCLAIMED: Condition = "username_unclaimed";
/// An email claim is free: failed, the email is taken.
const EMAIL_UNCLAIMED: Condition = "email_unclaimed";

/// Every port over one DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    /// Encrypt and decrypt the phone numbers of account items.
    pub(super) phone_keys: Option<std::sync::Arc<crate::crypto::phone_crypto::PhoneKeyRing>>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            phone_keys: None,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub(super) async fn get_item(&self, key: Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.item)
    }

    pub(super) async fn claim_owner(&self, key: Key) -> Result<Option<UserId>, StoreError> {
        match self.get_item(key).await? {
            Some(item) => {
                let claim: ClaimItem = from_item(item).map_err(mapping_error)?;
                Ok(Some(UserId::from_uuid(claim.user_id)))
            }
            None => Ok(None),
        }
    }

    pub(super) fn claim(&self, key: Key, user_id: UserId) -> Result<Write, StoreError> {
        Write::create(
            &self.table,
            to_item(ClaimItem::new(key, user_id)).map_err(mapping_error)?,
        )
    }

    fn release_claim(&self, key: &Key, user_id: UserId) -> Result<Write, StoreError> {
        Write::delete(
            &self.table,
            key,
            Some("#owner = :me"),
            Expression::default()
                .name("#owner", keys::USER_ID)
                .value(":me", s(user_id.to_string())),
        )
    }

    /// Replaces the user item only if it is still `current` (same
    /// `updated_at`, password hash and last login: a login sets
    /// `last_login` without touching `updated_at`, and the put would
    /// otherwise write back the one it read).
    async fn replace_user(&self, current: &User, updated: &User) -> Result<Write, StoreError> {
        let item = self.seal_member(updated).await?;
        let expression = Expression::default()
            .name("#updated", super::items::UPDATED_AT)
            .name("#hash", super::items::PASSWORD_HASH)
            .name("#last_login", super::phone_items::LAST_LOGIN)
            .value(":updated", s(format_time(current.updated_at)))
            .value(":hash", s(current.password_hash.as_phc()));
        let (condition, expression) = match current.last_login {
            Some(at) => (
                "#updated = :updated AND #hash = :hash AND #last_login = :last_login",
                expression.value(":last_login", s(format_time(at))),
            ),
            None => (
                "#updated = :updated AND #hash = :hash AND attribute_not_exists(#last_login)",
                expression,
            ),
        };
        Write::put(&self.table, item, Some(condition), expression)
    }
}

/// Timestamps are stored as RFC 3339 strings (see items.rs).
pub(super) fn format_time(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn charge_signup_quota(&self, window: &RateWindow) -> Result<bool, StoreError> {
        self.charge_now(window).await
    }

    async fn create_with_credits(
        &self,
        user: &User,
        audit: &AuditRecord,
        quota: Option<&RateWindow>,
        events: &[NotificationEvent],
        credits: Option<&crate::domain::Posting>,
    ) -> Result<(), CreateUserError> {
        let mut writes = vec![Write::create(&self.table, self.seal_member(user).await?)?];
        if let Some(key) = user.username_key() {
            writes.push(
                self.claim(keys::username_claim(key), user.id)?
                    .named(USERNAME_UNCLAIMED),
            );
        }
        writes.push(
            self.claim(keys::email_claim(user.email.as_str()), user.id)?
                .named(EMAIL_UNCLAIMED),
        );
        writes.push(self.put_audit(audit)?);
        if let Some(quota) = quota {
            writes.push(self.charge_window(quota)?);
        }
        for event in events {
            writes.push(self.put_event(event)?);
        }
        if !user.email_verified {
            writes.push(self.put_unverified(user)?);
        }
        writes.push(self.put_default_preferences(user.id, user.created_at)?);
        if let Some(posting) = credits {
            writes.extend(self.posting_writes(posting)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) => {
                let conflicts = Conflicts {
                    username: cancelled.failed_named(USERNAME_UNCLAIMED),
                    email: cancelled.failed_named(EMAIL_UNCLAIMED),
                };
                if conflicts.any() {
                    Err(CreateUserError::Conflict(conflicts))
                } else if cancelled.failed_named(super::rate_windows::WINDOW_OPEN) {
                    Err(CreateUserError::QuotaExhausted)
                } else {
                    Err(StoreError::internal("user id or audit id already exists").into())
                }
            }
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn taken(
        &self,
        username_key: Option<&str>,
        email: Option<&str>,
    ) -> Result<Conflicts, StoreError> {
        let username = username_key.map(keys::username_claim);
        let email = email.map(keys::email_claim);
        let wanted: Vec<Key> = username.iter().chain(email.iter()).cloned().collect();
        let found = self.batch_get(&wanted).await?;
        let held = |key: &Option<Key>| {
            key.as_ref()
                .is_some_and(|k| found.contains_key(&(k.pk.clone(), k.sk.clone())))
        };
        Ok(Conflicts {
            username: held(&username),
            email: held(&email),
        })
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let account = self
            .open_optional_account(self.get_item(keys::user(id)).await?)
            .await?;
        Ok(account.and_then(|account| match account {
            Account::Member(user) => Some(user),
            Account::Phone(_) => None,
        }))
    }

    async fn get_with_device(
        &self,
        id: UserId,
        device: &crate::domain::DeviceId,
    ) -> Result<(Option<User>, bool), StoreError> {
        let (user_key, device_key) = (keys::user(id), keys::device(id, device));
        let mut found = self
            .batch_get(&[user_key.clone(), device_key.clone()])
            .await?;
        let known = found.contains_key(&(device_key.pk, device_key.sk));
        let account = self
            .open_optional_account(found.remove(&(user_key.pk, user_key.sk)))
            .await?;
        let user = account.and_then(|account| match account {
            Account::Member(user) => Some(user),
            Account::Phone(_) => None,
        });
        Ok((user, known))
    }

    async fn find_by_username(&self, username_key: &str) -> Result<Option<UserId>, StoreError> {
        self.claim_owner(keys::username_claim(username_key)).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserId>, StoreError> {
        self.claim_owner(keys::email_claim(email)).await
    }

    async fn update(
        &self,
        current: &User,
        updated: &User,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), UpdateUserError> {
        let mut writes = vec![
            self.replace_user(current, updated).await?,
            self.put_audit(audit)?,
        ];
        if current.username_key() != updated.username_key() {
            if let Some(key) = current.username_key() {
                writes.push(self.release_claim(&keys::username_claim(key), current.id)?);
            }
            if let Some(key) = updated.username_key() {
                writes.push(
                    self.claim(keys::username_claim(key), updated.id)?
                        .named(USERNAME_UNCLAIMED),
                );
            }
        }
        if current.email.as_str() != updated.email.as_str() {
            writes
                .push(self.release_claim(&keys::email_claim(current.email.as_str()), current.id)?);
            writes.push(
                self.claim(keys::email_claim(updated.email.as_str()), updated.id)?
                    .named(EMAIL_UNCLAIMED),
            );
        }
        for event in events {
            writes.push(self.put_event(event)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) => {
                let conflicts = Conflicts {
                    username: cancelled.failed_named(USERNAME_UNCLAIMED),
                    email: cancelled.failed_named(EMAIL_UNCLAIMED),
                };
                if conflicts.any() {
                    Err(UpdateUserError::Conflict(conflicts))
                } else {
                    Err(UpdateUserError::Stale)
                }
            }
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn change_password(&self, change: &PasswordChange<'_>) -> Result<(), UpdateUserError> {
        let PasswordChange {
            user,
            hash,
            keep,
            at,
            audit,
            events,
            reset,
        } = *change;
        let mut updated = user.clone();
        updated.password_hash = hash.clone();
        updated.updated_at = at;
        let mut first = vec![
            self.replace_user(user, &updated).await?,
            self.put_audit(audit)?,
        ];
        if let Some(token) = reset {
            first.push(self.spend_reset_token(token)?);
        }
        for event in events {
            first.push(self.put_event(event)?);
        }
        match self
            .revoke_live_sessions(user.id, keep, RevokeReason::PasswordChanged, at, first)
            .await
        {
            Ok(_) => Ok(()),
            Err(TransactError::Cancelled(_)) => Err(UpdateUserError::Stale),
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }
}

#[async_trait]
impl HealthProbe for DynamoStore {
    fn name(&self) -> &'static str {
        "table"
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.get_item(keys::health()).await.map(|_| ())
    }
}
