//! The IP block list: one item per network, all in partition `IPBLOCK`
//! (see `keys::ip_block`). The list is small and read whole by one Query,
//! so a single partition is simplest; it is read once a minute per warm
//! instance, far below a partition's limits.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;

use super::errors::{mapping_error, store_error};
use super::keys::{self, Key};
use super::DynamoStore;
use crate::domain::ip_block::{canonical_network, IpBlock};
use crate::ports::ip_blocks::IpBlockStore;
use crate::ports::StoreError;

const ENTITY: &str = "ip_block";

#[derive(Debug, Serialize, Deserialize)]
struct IpBlockItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    /// The canonical CIDR text, as in the sort key.
    network: String,
    reason: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
}

impl IpBlockItem {
    fn new(block: &IpBlock) -> Self {
        let network = canonical_network(block.network);
        let Key { pk, sk } = keys::ip_block(&network);
        Self {
            pk,
            sk,
            entity: ENTITY.into(),
            network: network.to_string(),
            reason: block.reason.clone(),
            created_at: block.created_at,
            created_by: block.created_by.clone(),
        }
    }

    fn into_block(self) -> Result<IpBlock, StoreError> {
        let network: IpNet = self.network.parse().map_err(|_| {
            StoreError::internal(format!(
                "IP block item {:?} holds no network: {:?}",
                self.sk, self.network
            ))
        })?;
        Ok(IpBlock {
            network,
            reason: self.reason,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}

#[async_trait]
impl IpBlockStore for DynamoStore {
    async fn list(&self) -> Result<Vec<IpBlock>, StoreError> {
        let items = self.query_prefix(keys::IP_BLOCK_PARTITION, "").await?;
        let mut blocks = items
            .into_iter()
            .map(|item| {
                from_item::<_, IpBlockItem>(item)
                    .map_err(mapping_error)
                    .and_then(IpBlockItem::into_block)
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Sort keys order as text (`10.…` before `9.…`); the port promises
        // network order.
        blocks.sort_by_key(|block| block.network);
        Ok(blocks)
    }

    async fn add(&self, block: &IpBlock) -> Result<(), StoreError> {
        // A plain put: adding an existing network replaces its entry.
        let item = to_item(IpBlockItem::new(block)).map_err(mapping_error)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn remove(&self, network: &IpNet) -> Result<bool, StoreError> {
        let key = keys::ip_block(&canonical_network(*network));
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            // The old item comes back only if there was one.
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.attributes.is_some_and(|old| !old.is_empty()))
    }
}
