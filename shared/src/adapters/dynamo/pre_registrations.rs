//! Pre-registrations (`PREREG#<email>`): addresses that asked to be told
//! when sign-up opens, and whether they signed up since.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::{conditional, mapping_error};
use super::keys::{self, Key};
use super::one_time::window_errors;
use super::transact::{s, Condition, TransactError, Write};
use super::DynamoStore;
use crate::domain::{Email, RateWindow, UserId};
use crate::ports::one_time::{IssueError, PreRegistration, PreRegistrations};
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
const CONVERTED_USER_ID: &str = "converted_user_id";
const CONVERTED_AT: &str = "converted_at";

/// The pre-registration is new: failed, the address was known already.
const PRE_REGISTRATION_NEW: Condition = "pre_registration_new";

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
            .expression_attribute_names("#user", CONVERTED_USER_ID)
            .expression_attribute_names("#at", CONVERTED_AT)
            .expression_attribute_values(":user", s(user_id.to_string()))
            .expression_attribute_values(":at", s(super::store::format_time(at)))
            .send()
            .await;
        conditional(result)
    }
}
