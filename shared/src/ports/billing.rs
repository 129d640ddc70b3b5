//! What the service keeps about a user's payments beside the ledger: the
//! user's Stripe customer, created once and reused by every checkout.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::UserId;

#[async_trait]
pub trait BillingAccounts: Send + Sync {
    /// The user's Stripe customer id, if one was kept.
    async fn stripe_customer(&self, user: UserId) -> Result<Option<String>, StoreError>;

    /// Keeps `customer` as the user's Stripe customer unless one is kept
    /// already (a conditional write): returns the one kept, so two parallel
    /// first checkouts end with the same id.
    async fn keep_stripe_customer(
        &self,
        user: UserId,
        customer: &str,
    ) -> Result<String, StoreError>;
}
