//! The notification delivery log (`DELIVERY#<event id>`): one claim per
//! event, so that a redelivered event is sent once.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::{conditional, store_error};
use super::keys::{self, EXPIRES_AT};
use super::transact::s;
use super::DynamoStore;
use crate::ports::notifications::DeliveryLog;
use crate::ports::StoreError;

/// Delivery claims outlive any redelivery of their event.
const DELIVERY_RETENTION: time::Duration = time::Duration::days(14);
/// The attribute naming which claim wrote a delivery item.
const CLAIM: &str = "claim_id";

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
                item.insert(keys::ENTITY_ATTRIBUTE.into(), s("delivery"));
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
