//! One-time SMS codes (`OTP#<number hash>#<purpose>`): the code only as a
//! keyed hash, a guess counter, TTL and the expiry checked on read.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::{conditional, mapping_error};
use super::keys::{self, Key};
use super::one_time::window_errors;
use super::transact::{n, s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{
    CodePurpose, NotificationEvent, PhoneCodeKey, PhoneCodeRecord, RateWindow, UserId,
};
use crate::ports::one_time::IssueError;
use crate::ports::phone_codes::{PhoneCodes, SpendCodeError};
use crate::ports::sessions::NewSession;
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
const ATTEMPTS: &str = "attempts";
const VALID_UNTIL: &str = "valid_until";
const CODE_HASH: &str = "code_hash";

#[derive(Debug, Serialize, Deserialize)]
struct PhoneCodeItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    phone_hash: String,
    purpose: CodePurpose,
    code_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<Uuid>,
    attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// Epoch seconds: the expiry checked on read (in the guess's condition).
    valid_until: i64,
    /// TTL: epoch seconds, a day after the expiry (TTL deletion is lazy;
    /// the reads never rely on it).
    expires_at: i64,
}

impl PhoneCodeItem {
    fn record(self) -> Result<PhoneCodeRecord, StoreError> {
        Ok(PhoneCodeRecord {
            key: PhoneCodeKey {
                phone_hash: self.phone_hash,
                purpose: self.purpose,
            },
            code_hash: self.code_hash,
            user_id: self.user_id.map(UserId::from_uuid),
            attempts: self.attempts,
            created_at: self.created_at,
            expires_at: OffsetDateTime::from_unix_timestamp(self.valid_until)
                .map_err(|e| StoreError::Internal(Box::new(e)))?,
        })
    }
}

fn code_key(key: &PhoneCodeKey) -> Key {
    keys::phone_code(&key.phone_hash, key.purpose.as_str())
}

/// The texted code is still the one read: failed, it was spent or replaced.
const CODE_UNSPENT: Condition = "phone_code_unspent";

#[async_trait]
impl PhoneCodes for DynamoStore {
    async fn issue_phone_code(
        &self,
        code: Option<&PhoneCodeRecord>,
        events: &[NotificationEvent],
        windows: &[RateWindow],
    ) -> Result<(), IssueError> {
        // Windows first: their cancellation reasons are read by index.
        let mut writes = Vec::new();
        for window in windows {
            writes.push(self.charge_window(window)?);
        }
        if let Some(code) = code {
            let Key { pk, sk } = code_key(&code.key);
            let item = PhoneCodeItem {
                pk,
                sk,
                entity: "phone_code".into(),
                phone_hash: code.key.phone_hash.clone(),
                purpose: code.key.purpose,
                code_hash: code.code_hash.clone(),
                user_id: code.user_id.map(|id| id.as_uuid()),
                attempts: code.attempts,
                created_at: code.created_at,
                valid_until: code.expires_at.unix_timestamp(),
                expires_at: (code.expires_at + time::Duration::days(1)).unix_timestamp(),
            };
            // A plain put: the new code replaces the number's last one.
            writes.push(Write::put(
                &self.table,
                to_item(item).map_err(mapping_error)?,
                None,
                Expression::default(),
            )?);
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

    async fn attempt_phone_code(
        &self,
        key: &PhoneCodeKey,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Option<PhoneCodeRecord>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(code_key(key).to_attributes()))
            .update_expression("SET #attempts = #attempts + :one")
            .condition_expression(
                "attribute_exists(#pk) AND #attempts < :max AND #valid_until > :now",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_names("#valid_until", VALID_UNTIL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_attempts))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(error) => {
                return match conditional::<(), _, _>(Err(error)) {
                    Ok(_) => Ok(None),
                    Err(error) => Err(error),
                }
            }
        };
        let Some(item) = output.attributes else {
            return Ok(None);
        };
        let item: PhoneCodeItem = from_item(item).map_err(mapping_error)?;
        item.record().map(Some)
    }

    async fn spend_phone_code(&self, code: &PhoneCodeRecord) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(code_key(&code.key).to_attributes()))
            .condition_expression("#code_hash = :code_hash")
            .expression_attribute_names("#code_hash", CODE_HASH)
            .expression_attribute_values(":code_hash", s(code.code_hash.clone()))
            .send()
            .await;
        conditional(result)
    }

    async fn start_phone_session(
        &self,
        code: &PhoneCodeRecord,
        new: &NewSession,
    ) -> Result<(), SpendCodeError> {
        let mut writes = vec![Write::delete(
            &self.table,
            &code_key(&code.key),
            Some("#code_hash = :code_hash"),
            Expression::default()
                .name("#code_hash", CODE_HASH)
                .value(":code_hash", s(code.code_hash.clone())),
        )?
        .named(CODE_UNSPENT)];
        writes.push(self.last_login_write(new)?);
        writes.extend(self.session_writes(new)?);
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            // The code went, or the account did, since they were read.
            Err(TransactError::Cancelled(cancelled))
                if cancelled.failed_named(CODE_UNSPENT)
                    || cancelled.failed_named(super::sessions::ACCOUNT_EXISTS) =>
            {
                Err(SpendCodeError::Spent)
            }
            Err(error) => Err(error.into_store_error().into()),
        }
    }
}
