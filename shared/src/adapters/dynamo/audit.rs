//! Audit records (`AUDIT#<day>`): one item per record, kept for
//! `AUDIT_RETENTION`, written alone or inside the transaction they record.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::errors::{mapping_error, store_error};
use super::keys::{self, Key};
use super::transact::Write;
use super::DynamoStore;
use crate::domain::{AuditAction, AuditOutcome, AuditRecord, UserId};
use crate::ports::{AuditLog, StoreError};

/// How long audit records are kept before DynamoDB's TTL removes them.
pub const AUDIT_RETENTION: time::Duration = time::Duration::days(400);

#[derive(Debug, Serialize, Deserialize)]
pub struct AuditItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub expires_at: i64,
}

impl From<&AuditRecord> for AuditItem {
    fn from(record: &AuditRecord) -> Self {
        let Key { pk, sk } = keys::audit(record.at, record.id);
        Self {
            pk,
            sk,
            entity: "audit".into(),
            id: record.id,
            at: record.at,
            action: record.action,
            outcome: record.outcome,
            user_id: record.user_id.map(|id| id.as_uuid()),
            owner: record.user_id.map(keys::owner),
            subject: record.subject.clone(),
            source_ip: record.source_ip.clone(),
            device_id: record.device_id.clone(),
            request_id: record.request_id.clone(),
            client_request_id: record.client_request_id.clone(),
            reasons: record.reasons.clone(),
            actor: record.actor.clone(),
            expires_at: (record.at + AUDIT_RETENTION).unix_timestamp(),
        }
    }
}

impl From<AuditItem> for AuditRecord {
    fn from(item: AuditItem) -> Self {
        Self {
            id: item.id,
            at: item.at,
            action: item.action,
            outcome: item.outcome,
            user_id: item.user_id.map(UserId::from_uuid),
            subject: item.subject,
            source_ip: item.source_ip,
            device_id: item.device_id,
            request_id: item.request_id,
            client_request_id: item.client_request_id,
            reasons: item.reasons,
            actor: item.actor,
        }
    }
}

impl DynamoStore {
    pub(super) fn put_audit(&self, audit: &AuditRecord) -> Result<Write, StoreError> {
        Write::create(
            &self.table,
            to_item(AuditItem::from(audit)).map_err(mapping_error)?,
        )
    }
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn record(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let item = to_item(AuditItem::from(record)).map_err(mapping_error)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn list_day(&self, day: Date) -> Result<Vec<AuditRecord>, StoreError> {
        let items = self.query_prefix(&keys::audit_partition(day), "").await?;
        items
            .into_iter()
            .map(|item| {
                from_item::<_, AuditItem>(item)
                    .map(AuditRecord::from)
                    .map_err(mapping_error)
            })
            .collect()
    }
}
