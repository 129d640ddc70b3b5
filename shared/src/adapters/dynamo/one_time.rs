//! One-time tokens (`OTT#<hash>`), the index of unverified accounts
//! (`UNVERIFIED#<shard>`), pre-registrations (`PREREG#<email>`) and the
//! notification delivery log (`DELIVERY#<event id>`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::{conditional, mapping_error, store_error};
use super::keys::{self, Key, EXPIRES_AT};
use super::transact::{s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{
    AuditRecord, Email, NotificationEvent, OneTimeTokenRecord, RateWindow, TokenPurpose, User,
    UserId,
};
use crate::ports::notifications::DeliveryLog;
use crate::ports::one_time::{
    ConfirmError, IssueError, OneTimeTokens, PreRegistration, PreRegistrations, UnverifiedAccounts,
};
use crate::ports::StoreError;

/// Delivery claims outlive any redelivery of their event.
const DELIVERY_RETENTION: time::Duration = time::Duration::days(14);
/// The attribute naming which claim wrote a delivery item.
const CLAIM: &str = "claim_id";

#[derive(Debug, Serialize, Deserialize)]
struct OneTimeTokenItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    hash: String,
    purpose: TokenPurpose,
    user_id: Uuid,
    owner: String,
    email: String,
    /// Reset tokens: see `OneTimeTokenRecord::password_stamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_stamp: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    valid_until: OffsetDateTime,
    /// TTL: epoch seconds.
    expires_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct MarkerItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: Uuid,
    owner: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct PreRegistrationItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    email: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    converted_user_id: Option<Uuid>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    converted_at: Option<OffsetDateTime>,
}

/// The fields of an account item the clean-up needs (no decryption).
#[derive(Debug, Deserialize)]
struct AccountHead {
    entity: String,
    username_key: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl DynamoStore {
    fn put_one_time_token(&self, token: &OneTimeTokenRecord) -> Result<Write, StoreError> {
        let Key { pk, sk } = keys::one_time_token(&token.hash);
        let item = OneTimeTokenItem {
            pk,
            sk,
            entity: "one_time_token".into(),
            hash: token.hash.clone(),
            purpose: token.purpose,
            user_id: token.user_id.as_uuid(),
            owner: keys::owner(token.user_id),
            email: token.email.as_str().into(),
            password_stamp: token.password_stamp.clone(),
            created_at: token.created_at,
            valid_until: token.expires_at,
            expires_at: token.expires_at.unix_timestamp(),
        };
        Write::create(&self.table, to_item(item).map_err(mapping_error)?)
    }

    /// Lists `user` among the accounts the clean-up removes unless they
    /// confirm their email.
    pub(super) fn put_unverified(&self, user: &User) -> Result<Write, StoreError> {
        let Key { pk, sk } = keys::unverified(user.id, user.created_at);
        let item = MarkerItem {
            pk,
            sk,
            entity: "unverified".into(),
            user_id: user.id.as_uuid(),
            owner: keys::owner(user.id),
        };
        Write::create(&self.table, to_item(item).map_err(mapping_error)?)
    }

    fn spend_token(&self, token: &OneTimeTokenRecord) -> Result<Write, StoreError> {
        Write::delete(
            &self.table,
            &keys::one_time_token(&token.hash),
            Some("attribute_exists(#pk)"),
            Expression::default().name("#pk", keys::PK),
        )
        .map(|write| write.named(TOKEN_UNSPENT))
    }

    /// The reset token spend that `change_password` adds to its write.
    pub(super) fn spend_reset_token(
        &self,
        token: &OneTimeTokenRecord,
    ) -> Result<Write, StoreError> {
        self.spend_token(token)
    }

    /// Every item of the account's partition: sessions, devices,
    /// locations. Refresh tokens are keyed by their hash and expire by TTL;
    /// without the account they open nothing.
    async fn delete_partition(&self, id: UserId) -> Result<(), StoreError> {
        let items = self.query_prefix(&keys::user_partition(id), "").await?;
        self.delete_keys(items.iter().filter_map(Key::from_item).collect())
            .await
    }
}

/// The mailed token is still there: failed, it was spent.
const TOKEN_UNSPENT: Condition = "one_time_token_unspent";
/// The account is active: failed, its deletion began.
const ACCOUNT_ACTIVE: Condition = "account_active";
/// The account's email is still the one the token was sent to.
const EMAIL_UNCHANGED: Condition = "email_unchanged";
/// The new address's claim is free: failed, another account holds it.
const NEW_EMAIL_UNCLAIMED: Condition = "new_email_unclaimed";
/// The old address's claim is still the account's.
const OLD_EMAIL_HELD: Condition = "old_email_held";
/// The pre-registration is new: failed, the address was known already.
const PRE_REGISTRATION_NEW: Condition = "pre_registration_new";

/// The rate window (by its index in the request's windows) that was full.
pub(super) fn window_errors(cancelled: &super::transact::Cancelled) -> Option<IssueError> {
    cancelled
        .failed_occurrence(super::store::WINDOW_OPEN)
        .map(IssueError::RateLimited)
}

#[async_trait]
impl OneTimeTokens for DynamoStore {
    async fn request_link(
        &self,
        events: &[NotificationEvent],
        windows: &[RateWindow],
    ) -> Result<(), IssueError> {
        let mut writes = Vec::new();
        for window in windows {
            writes.push(self.charge_window(window)?);
        }
        for event in events {
            writes.push(self.put_event(event)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled)) => Err(window_errors(&cancelled)
                .unwrap_or_else(|| {
                    TransactError::Cancelled(cancelled)
                        .into_store_error()
                        .into()
                })),
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn store_token(&self, token: &OneTimeTokenRecord) -> Result<bool, StoreError> {
        let writes = vec![
            self.put_one_time_token(token)?,
            // A deletion deactivates the account first: a token written
            // after that would outlive the account's erasure.
            Write::check(
                &self.table,
                &keys::user(token.user_id),
                "#status = :active",
                Expression::default()
                    .name("#status", "status")
                    .value(":active", s("ACTIVE")),
            )?
            .named(ACCOUNT_ACTIVE),
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(cancelled)) if cancelled.failed_named(ACCOUNT_ACTIVE) => {
                Ok(false)
            }
            Err(error) => Err(error.into_store_error()),
        }
    }

    async fn find_token(&self, hash: &str) -> Result<Option<OneTimeTokenRecord>, StoreError> {
        let Some(item) = self.get_item(keys::one_time_token(hash)).await? else {
            return Ok(None);
        };
        let item: OneTimeTokenItem = from_item(item).map_err(mapping_error)?;
        let email = Email::parse(&item.email)
            .map_err(|_| StoreError::internal("stored token email does not parse"))?;
        Ok(Some(OneTimeTokenRecord {
            hash: item.hash,
            purpose: item.purpose,
            user_id: UserId::from_uuid(item.user_id),
            email,
            password_stamp: item.password_stamp,
            created_at: item.created_at,
            expires_at: item.valid_until,
        }))
    }

    async fn confirm_email(
        &self,
        token: &OneTimeTokenRecord,
        at: OffsetDateTime,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), ConfirmError> {
        let head = match self.get_item(keys::user(token.user_id)).await? {
            Some(item) => from_item::<_, AccountHead>(item).map_err(mapping_error)?,
            None => return Err(ConfirmError::Spent),
        };
        let mut writes = vec![
            self.spend_token(token)?,
            Write::update(
                &self.table,
                &keys::user(token.user_id),
                "SET #verified = :yes, #updated = :at",
                Some("#email = :email"),
                Expression::default()
                    .name("#verified", "email_verified")
                    .name("#updated", "updated_at")
                    .name("#email", "email")
                    .value(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
                    .value(":at", s(super::store::format_time(at)))
                    .value(":email", s(token.email.as_str())),
            )?
            .named(EMAIL_UNCHANGED),
            self.put_audit(audit)?,
            // Absent once confirmed before (a second token): no condition.
            Write::delete(
                &self.table,
                &keys::unverified(token.user_id, head.created_at),
                None,
                Expression::default(),
            )?,
        ];
        for event in events {
            writes.push(self.put_event(event)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(c))
                if c.failed_named(TOKEN_UNSPENT) || c.failed_named(EMAIL_UNCHANGED) =>
            {
                Err(ConfirmError::Spent)
            }
            Err(error) => Err(error.into_store_error().into()),
        }
    }

    async fn confirm_email_change(
        &self,
        token: &OneTimeTokenRecord,
        old: &Email,
        at: OffsetDateTime,
        audit: &AuditRecord,
        events: &[NotificationEvent],
    ) -> Result<(), ConfirmError> {
        let mut writes = vec![
            self.spend_token(token)?,
            Write::update(
                &self.table,
                &keys::user(token.user_id),
                "SET #email = :new, #verified = :yes, #updated = :at REMOVE #pending",
                Some("#email = :old AND #pending = :new"),
                Expression::default()
                    .name("#email", "email")
                    .name("#pending", "pending_email")
                    .name("#verified", "email_verified")
                    .name("#updated", "updated_at")
                    .value(":new", s(token.email.as_str()))
                    .value(":old", s(old.as_str()))
                    .value(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
                    .value(":at", s(super::store::format_time(at))),
            )?
            .named(EMAIL_UNCHANGED),
            self.claim(keys::email_claim(token.email.as_str()), token.user_id)?
                .named(NEW_EMAIL_UNCLAIMED),
            Write::delete(
                &self.table,
                &keys::email_claim(old.as_str()),
                Some("#owner = :me"),
                Expression::default()
                    .name("#owner", "user_id")
                    .value(":me", s(token.user_id.to_string())),
            )?
            .named(OLD_EMAIL_HELD),
            self.put_audit(audit)?,
        ];
        for event in events {
            writes.push(self.put_event(event)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(c))
                if c.failed_named(TOKEN_UNSPENT)
                    || c.failed_named(EMAIL_UNCHANGED)
                    || c.failed_named(OLD_EMAIL_HELD) =>
            {
                Err(ConfirmError::Spent)
            }
            Err(TransactError::Cancelled(c)) if c.failed_named(NEW_EMAIL_UNCLAIMED) => {
                Err(ConfirmError::Taken)
            }
            Err(error) => Err(error.into_store_error().into()),
        }
    }
}

#[async_trait]
impl PreRegistrations for DynamoStore {
    async fn pre_register(
        &self,
        email: &Email,
        at: OffsetDateTime,
        windows: &[RateWindow],
    ) -> Result<bool, IssueError> {
        let Key { pk, sk } = keys::pre_registration(email.as_str());
        let item = PreRegistrationItem {
            pk,
            sk,
            entity: "pre_registration".into(),
            email: email.as_str().into(),
            created_at: at,
            converted_user_id: None,
            converted_at: None,
        };
        let mut writes = Vec::new();
        for window in windows {
            writes.push(self.charge_window(window)?);
        }
        writes.push(
            Write::create(&self.table, to_item(item).map_err(mapping_error)?)?
                .named(PRE_REGISTRATION_NEW),
        );
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(cancelled)) => {
                if let Some(limited) = window_errors(&cancelled) {
                    return Err(limited);
                }
                if !cancelled.failed_named(PRE_REGISTRATION_NEW) {
                    return Err(TransactError::Cancelled(cancelled)
                        .into_store_error()
                        .into());
                }
                // Known already: count the request all the same.
                let mut writes = Vec::new();
                for window in windows {
                    writes.push(self.charge_window(window)?);
                }
                match self.transact(writes).await {
                    Ok(()) => Ok(false),
                    Err(TransactError::Cancelled(cancelled)) => Err(window_errors(&cancelled)
                        .unwrap_or_else(|| {
                            TransactError::Cancelled(cancelled)
                                .into_store_error()
                                .into()
                        })),
                    Err(TransactError::Store(error)) => Err(error.into()),
                }
            }
            Err(TransactError::Store(error)) => Err(error.into()),
        }
    }

    async fn pre_registration(&self, email: &Email) -> Result<Option<PreRegistration>, StoreError> {
        let Some(item) = self
            .get_item(keys::pre_registration(email.as_str()))
            .await?
        else {
            return Ok(None);
        };
        let item: PreRegistrationItem = from_item(item).map_err(mapping_error)?;
        Ok(Some(PreRegistration {
            email: email.clone(),
            created_at: item.created_at,
            converted: item
                .converted_user_id
                .zip(item.converted_at)
                .map(|(id, at)| (UserId::from_uuid(id), at)),
        }))
    }

    async fn mark_converted(
        &self,
        email: &Email,
        user_id: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::pre_registration(email.as_str()).to_attributes()))
            .update_expression("SET #user = :user, #at = :at")
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#user)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#user", "converted_user_id")
            .expression_attribute_names("#at", "converted_at")
            .expression_attribute_values(":user", s(user_id.to_string()))
            .expression_attribute_values(":at", s(super::store::format_time(at)))
            .send()
            .await;
        conditional(result)
    }
}

#[async_trait]
impl UnverifiedAccounts for DynamoStore {
    async fn unverified_before(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        let bound = keys::stamped_before(cutoff);
        let mut found = Vec::new();
        let partitions = (0..keys::UNVERIFIED_SHARDS).map(keys::unverified_partition);
        for item in self.query_below_each(partitions, &bound, limit).await? {
            let marker: MarkerItem = from_item(item).map_err(mapping_error)?;
            let key = Key::from_item(&to_item(&marker).map_err(mapping_error)?);
            found.push((key.map(|k| k.sk), UserId::from_uuid(marker.user_id)));
        }
        // Oldest first across shards (the sort key starts with the time).
        found.sort();
        Ok(found.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn remove_unverified(&self, id: UserId) -> Result<bool, StoreError> {
        let Some(item) = self.get_item(keys::user(id)).await? else {
            return Ok(false);
        };
        let head: AccountHead = from_item(item).map_err(mapping_error)?;
        let Some(email) = &head.email else {
            return Ok(false);
        };
        if head.entity != super::items::MEMBER_ENTITY || head.email_verified {
            return Ok(false);
        }
        let owned_by = |key: Key| {
            Write::delete(
                &self.table,
                &key,
                Some("#owner = :me"),
                Expression::default()
                    .name("#owner", "user_id")
                    .value(":me", s(id.to_string())),
            )
        };
        let mut writes = vec![
            // The marker first: a second clean-up fails here, removing
            // nothing twice.
            Write::delete(
                &self.table,
                &keys::unverified(id, head.created_at),
                Some("attribute_exists(#pk)"),
                Expression::default().name("#pk", keys::PK),
            )?,
            Write::delete(
                &self.table,
                &keys::user(id),
                Some("#verified = :no"),
                Expression::default()
                    .name("#verified", "email_verified")
                    .value(":no", aws_sdk_dynamodb::types::AttributeValue::Bool(false)),
            )?,
            owned_by(keys::email_claim(email))?,
        ];
        // Email-only accounts hold no username claim.
        if let Some(username_key) = &head.username_key {
            writes.push(owned_by(keys::username_claim(username_key))?);
        }
        match self.transact(writes).await {
            Ok(()) => {}
            Err(TransactError::Cancelled(_)) => return Ok(false),
            Err(TransactError::Store(error)) => return Err(error),
        }
        self.delete_partition(id).await?;
        // Its tokens, audit records and markers elsewhere in the table.
        self.delete_keys(self.owned_keys(&keys::owner(id)).await?)
            .await?;
        Ok(true)
    }
}

#[async_trait]
impl DeliveryLog for DynamoStore {
    async fn claim_delivery(&self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
        // The claim carries an id of its own, and its condition also accepts
        // that id: when the claim was written but its answer lost (a 500, a
        // timed-out attempt), the SDK's retry of the same request finds its
        // own claim and succeeds, instead of failing its condition and
        // taking this delivery for an earlier one (the email never sent).
        let claim = Uuid::new_v4().to_string();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some({
                let mut item = keys::delivery(id).to_attributes();
                item.insert("entity".into(), s("delivery"));
                item.insert(CLAIM.into(), s(claim.clone()));
                item.insert(
                    EXPIRES_AT.into(),
                    super::transact::n((at + DELIVERY_RETENTION).unix_timestamp()),
                );
                item
            }))
            .condition_expression("attribute_not_exists(#pk) OR #claim = :claim")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#claim", CLAIM)
            .expression_attribute_values(":claim", s(claim))
            .send()
            .await;
        conditional(result)
    }

    async fn release_delivery(&self, id: Uuid) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::delivery(id).to_attributes()))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
