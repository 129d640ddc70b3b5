//! The local server's stand-in for Stripe Checkout, used when no Stripe API
//! key is configured: sessions are kept in memory and paid on the local
//! pay page (`/_local/checkout/{id}`), which hands the webhook the
//! `checkout.session.completed` event Stripe would send, signed with the
//! webhook secret exactly as Stripe signs it. Never used in Lambda.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

use crate::domain::stripe_signature;
use crate::ports::payments::{
    CheckoutSession, CustomerRequest, GatewayError, PaymentGateway, SessionRequest,
};

/// Where the local pay pages are served.
pub const LOCAL_CHECKOUT_PATH: &str = "/_local/checkout";

/// A session as created, and whether it was paid.
#[derive(Debug, Clone)]
pub struct LocalSession {
    pub id: String,
    pub request: SessionRequest,
    pub paid: bool,
}

/// A signed event ready to post to `/webhooks/stripe`.
#[derive(Debug, Clone)]
pub struct SignedEvent {
    pub payload: String,
    /// The `Stripe-Signature` header.
    pub signature: String,
    /// Where the payer goes next.
    pub success_url: String,
}

pub struct LocalCheckout {
    webhook_secret: SecretString,
    /// Idempotency key → customer id, as Stripe keeps them.
    customers: Mutex<HashMap<String, String>>,
    sessions: Mutex<HashMap<String, LocalSession>>,
}

fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `scheme://host[:port]` of `url`: the pay page is on the service that
/// made the session (the success URL is on its public base URL).
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

impl LocalCheckout {
    pub fn new(webhook_secret: SecretString) -> Self {
        Self {
            webhook_secret,
            customers: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub fn session(&self, id: &str) -> Option<LocalSession> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Marks the session paid and returns its `checkout.session.completed`
    /// event, signed at `now`. The event id is the session's, so paying
    /// twice delivers the same event twice (applied once), as a Stripe
    /// redelivery would.
    pub fn pay(&self, id: &str, now: OffsetDateTime) -> Option<SignedEvent> {
        let session = {
            let mut sessions = self
                .sessions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let session = sessions.get_mut(id)?;
            session.paid = true;
            session.clone()
        };
        let suffix = id.trim_start_matches("cs_local_");
        let request = &session.request;
        let payload = json!({
            "id": format!("evt_local_{suffix}"),
            "object": "event",
            "type": "checkout.session.completed",
            "created": now.unix_timestamp(),
            "livemode": false,
            "data": {"object": {
                "id": session.id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": request.pack.price_cents,
                "currency": request.pack.currency,
                "customer": request.customer,
                "client_reference_id": request.user.to_string(),
                "metadata": {"pack": request.pack.name, "user_id": request.user.to_string()},
                "payment_intent": format!("pi_local_{suffix}"),
            }},
        })
        .to_string();
        let signature = stripe_signature::sign(&self.webhook_secret, payload.as_bytes(), now);
        Some(SignedEvent {
            payload,
            signature,
            success_url: request.success_url.clone(),
        })
    }
}

#[async_trait]
impl PaymentGateway for LocalCheckout {
    async fn create_customer(&self, request: &CustomerRequest) -> Result<String, GatewayError> {
        Ok(self
            .customers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(request.idempotency_key.clone())
            .or_insert_with(|| format!("cus_local_{}", random_suffix()))
            .clone())
    }

    async fn create_session(
        &self,
        request: &SessionRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        let id = format!("cs_local_{}", random_suffix());
        let url = format!("{}{LOCAL_CHECKOUT_PATH}/{id}", origin(&request.success_url));
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                id.clone(),
                LocalSession {
                    id: id.clone(),
                    request: request.clone(),
                    paid: false,
                },
            );
        Ok(CheckoutSession { id, url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin("http://127.0.0.1:3000/ui/account?x=1"),
            "http://127.0.0.1:3000"
        );
        assert_eq!(origin("https://id.example"), "https://id.example");
    }
}
