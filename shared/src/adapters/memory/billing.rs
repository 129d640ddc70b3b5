use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::UserId;
use crate::ports::billing::BillingAccounts;
use crate::ports::StoreError;

#[async_trait]
impl BillingAccounts for MemoryStore {
    async fn stripe_customer(&self, user: UserId) -> Result<Option<String>, StoreError> {
        Ok(self.lock().stripe_customers.get(&user).cloned())
    }

    async fn keep_stripe_customer(
        &self,
        user: UserId,
        customer: &str,
    ) -> Result<String, StoreError> {
        // The first one kept stays, as the table's condition keeps it.
        Ok(self
            .lock()
            .stripe_customers
            .entry(user)
            .or_insert_with(|| customer.to_owned())
            .clone())
    }
}
