//! Accounts stored before the operators' listing existed get their listing
//! attributes (`keys::listing_attributes`): a resumable scan, a page per
//! call, its position kept in `MIGRATION#listing`. Once the scan has seen
//! the whole table the marker says so and each call costs one read.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_dynamo::from_item;

use super::errors::{conditional, mapping_error, store_error};
use super::items::MEMBER_ENTITY;
use super::keys::{self, LISTING_PK, PK, SK};
use super::phone_items::PHONE_USER_ENTITY;
use super::transact::{s, Item};
use super::DynamoStore;
use crate::domain::UserId;
use crate::ports::directory::BackfillProgress;
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
const DONE: &str = "done";
const CURSOR: &str = "cursor";

const MIGRATION: &str = "listing";

#[derive(serde::Deserialize)]
struct Unlisted {
    id: uuid::Uuid,
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
}

impl DynamoStore {
    pub(super) async fn backfill_listing_page(
        &self,
        page: usize,
    ) -> Result<BackfillProgress, StoreError> {
        let marker = keys::migration(MIGRATION);
        let state = self.get_item(marker.clone()).await?.unwrap_or_default();
        if state.get(DONE).and_then(|v| v.as_bool().ok()) == Some(&true) {
            return Ok(BackfillProgress {
                listed: 0,
                done: true,
            });
        }
        let start: Option<Item> = state.get(CURSOR).and_then(|v| v.as_m().ok()).cloned();
        let scanned = self
            .client
            .scan()
            .table_name(&self.table)
            .set_exclusive_start_key(start)
            .limit(i32::try_from(page).unwrap_or(i32::MAX))
            .filter_expression(
                "#sk = :profile AND (#entity = :member OR #entity = :phone) \
                 AND attribute_not_exists(#listing)",
            )
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#entity", keys::ENTITY_ATTRIBUTE)
            .expression_attribute_names("#listing", LISTING_PK)
            .expression_attribute_values(":profile", s("PROFILE".to_owned()))
            .expression_attribute_values(":member", s(MEMBER_ENTITY.to_owned()))
            .expression_attribute_values(":phone", s(PHONE_USER_ENTITY.to_owned()))
            .projection_expression("#pk, #sk, id, created_at")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(store_error)?;
        let mut listed = 0;
        for item in scanned.items.unwrap_or_default() {
            let account: Unlisted = from_item(item).map_err(mapping_error)?;
            let id = UserId::from_uuid(account.id);
            let mut request = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(keys::user(id).to_attributes()))
                // Still there, and not listed meanwhile (by a write of the
                // account, or another run).
                .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#listing)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#listing", LISTING_PK);
            let mut assignments = Vec::new();
            for (index, (name, value)) in keys::listing_attributes(id, account.created_at)
                .into_iter()
                .enumerate()
            {
                assignments.push(format!("#a{index} = :a{index}"));
                request = request
                    .expression_attribute_names(format!("#a{index}"), name)
                    .expression_attribute_values(format!(":a{index}"), value);
            }
            let request = request.update_expression(format!("SET {}", assignments.join(", ")));
            if conditional(request.send().await)? {
                listed += 1;
            }
        }
        let next = scanned.last_evaluated_key.filter(|key| !key.is_empty());
        let done = next.is_none();
        let mut state: HashMap<String, AttributeValue> = marker.to_attributes();
        state.insert(keys::ENTITY_ATTRIBUTE.into(), s("migration".to_owned()));
        match next {
            Some(cursor) => state.insert(CURSOR.into(), AttributeValue::M(cursor)),
            None => state.insert(DONE.into(), AttributeValue::Bool(true)),
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(state))
            .send()
            .await
            .map_err(store_error)?;
        Ok(BackfillProgress { listed, done })
    }
}
