//! One-time tokens (`OTT#<hash>`): the mailed links' tokens, stored as
//! hashes, and the confirmations that spend them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::mapping_error;
use super::keys::{self, Key};
use super::transact::{s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{
    AuditRecord, Email, NotificationEvent, OneTimeTokenRecord, RateWindow, TokenPurpose, UserId,
};
use crate::ports::one_time::{ConfirmError, IssueError, OneTimeTokens};
use crate::ports::StoreError;

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

/// The rate window (by its index in the request's windows) that was full.
pub(super) fn window_errors(cancelled: &super::transact::Cancelled) -> Option<IssueError> {
    cancelled
        .failed_occurrence(super::rate_windows::WINDOW_OPEN)
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
                    .name("#status", super::items::STATUS)
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
            Some(item) => {
                from_item::<_, super::unverified::CleanupFields>(item).map_err(mapping_error)?
            }
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
                    .name("#verified", super::items::EMAIL_VERIFIED)
                    .name("#updated", super::items::UPDATED_AT)
                    .name("#email", super::items::EMAIL)
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
                    .name("#email", super::items::EMAIL)
                    .name("#pending", super::items::PENDING_EMAIL)
                    .name("#verified", super::items::EMAIL_VERIFIED)
                    .name("#updated", super::items::UPDATED_AT)
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
                    .name("#owner", keys::USER_ID)
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
