//! The payment provider (Stripe) as the checkout sees it: a customer per
//! user and a Checkout session per purchase. Adapters: the Stripe HTTP API
//! (`adapters::stripe_api`) and the local server's stand-in
//! (`adapters::local_checkout`).

use async_trait::async_trait;

use crate::domain::UserId;
use crate::usecases::payments::CreditPack;

/// A customer for `user`, created at most once per `idempotency_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRequest {
    pub user: UserId,
    /// Derived from the user id: a retry or a parallel first checkout
    /// gets Stripe's first answer again instead of a second customer.
    pub idempotency_key: String,
}

impl CustomerRequest {
    pub fn for_user(user: UserId) -> Self {
        Self {
            user,
            idempotency_key: format!("customer-{user}"),
        }
    }

    /// The form body of `POST /v1/customers`. Only the user id: the same
    /// key must always carry the same parameters, and Checkout asks the
    /// payer for an email itself.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        vec![("metadata[user_id]", self.user.to_string())]
    }
}

/// A Checkout session selling one pack to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    pub user: UserId,
    pub customer: String,
    pub pack: CreditPack,
    pub success_url: String,
    pub cancel_url: String,
}

impl SessionRequest {
    /// The product name the payer sees.
    pub fn product_name(&self) -> String {
        format!("{} credits ({} pack)", self.pack.credits, self.pack.name)
    }

    /// The form body of `POST /v1/checkout/sessions`.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let user = self.user.to_string();
        vec![
            ("mode", "payment".to_owned()),
            ("customer", self.customer.clone()),
            ("client_reference_id", user.clone()),
            ("line_items[0][quantity]", "1".to_owned()),
            (
                "line_items[0][price_data][currency]",
                self.pack.currency.clone(),
            ),
            (
                "line_items[0][price_data][unit_amount]",
                self.pack.price_cents.to_string(),
            ),
            (
                "line_items[0][price_data][product_data][name]",
                self.product_name(),
            ),
            ("metadata[pack]", self.pack.name.clone()),
            ("metadata[user_id]", user.clone()),
            // On the payment too, so a refund's charge can be traced.
            (
                "payment_intent_data[metadata][pack]",
                self.pack.name.clone(),
            ),
            ("payment_intent_data[metadata][user_id]", user),
            ("success_url", self.success_url.clone()),
            ("cancel_url", self.cancel_url.clone()),
        ]
    }
}

/// A created Checkout session: where to send the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    pub id: String,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Unreachable, timed out, 429 or 5xx: worth retrying later.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// No API key configured (the secret's `api_key` is empty).
    #[error("no payment provider key is configured")]
    NotConfigured,
    /// A 4xx other than 429: a request or key the provider refuses. Only
    /// the status and Stripe's error type and code are kept, never the body.
    #[error("the payment provider refused the request: {status} {code}")]
    Refused { status: u16, code: String },
    /// The key could not be read (Secrets Manager).
    #[error(transparent)]
    Secret(#[from] crate::ports::StoreError),
}

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// The customer's id (`cus_…`).
    async fn create_customer(&self, request: &CustomerRequest) -> Result<String, GatewayError>;

    async fn create_session(
        &self,
        request: &SessionRequest,
    ) -> Result<CheckoutSession, GatewayError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_form_names_the_pack_and_the_user() {
        let user = UserId::new_random();
        let request = SessionRequest {
            user,
            customer: "cus_1".into(),
            pack: CreditPack {
                name: "starter".into(),
                credits: 100,
                price_cents: 500,
                currency: "usd".into(),
            },
            success_url: "https://id.example/ui/account?checkout=success".into(),
            cancel_url: "https://id.example/ui/account?checkout=cancelled".into(),
        };
        let form = request.form();
        let get = |name: &str| {
            form.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("mode"), Some("payment"));
        assert_eq!(get("client_reference_id"), Some(user.to_string().as_str()));
        assert_eq!(get("metadata[pack]"), Some("starter"));
        assert_eq!(get("line_items[0][price_data][unit_amount]"), Some("500"));
        assert_eq!(
            CustomerRequest::for_user(user).idempotency_key,
            format!("customer-{user}")
        );
    }
}
