//! The billing record: `USER#<id>` / `BILLING` with the Stripe customer id,
//! created once (`attribute_not_exists`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::errors::conditional;
use super::keys::{self, Key, PK, SK};
use super::transact::s;
use super::DynamoStore;
use crate::domain::UserId;
use crate::ports::billing::BillingAccounts;
use crate::ports::StoreError;

const CUSTOMER: &str = "stripe_customer_id";

impl DynamoStore {
    async fn read_customer(&self, user: UserId) -> Result<Option<String>, StoreError> {
        match self.get_item(keys::billing(user)).await? {
            None => Ok(None),
            Some(item) => match item.get(CUSTOMER) {
                Some(AttributeValue::S(id)) => Ok(Some(id.clone())),
                _ => Err(StoreError::internal("corrupt billing item")),
            },
        }
    }
}

#[async_trait]
impl BillingAccounts for DynamoStore {
    async fn stripe_customer(&self, user: UserId) -> Result<Option<String>, StoreError> {
        self.read_customer(user).await
    }

    async fn keep_stripe_customer(
        &self,
        user: UserId,
        customer: &str,
    ) -> Result<String, StoreError> {
        let Key { pk, sk } = keys::billing(user);
        let item = HashMap::from([
            (PK.to_owned(), s(pk)),
            (SK.to_owned(), s(sk)),
            (keys::ENTITY_ATTRIBUTE.to_owned(), s("billing")),
            (CUSTOMER.to_owned(), s(customer.to_owned())),
        ]);
        let kept = conditional(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .send()
                .await,
        )?;
        if kept {
            return Ok(customer.to_owned());
        }
        // Another checkout kept one first: that one is the user's.
        self.read_customer(user)
            .await?
            .ok_or_else(|| StoreError::internal("billing item vanished"))
    }
}
