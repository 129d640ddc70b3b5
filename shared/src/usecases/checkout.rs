//! `POST /billing/checkout`: a Stripe Checkout session selling one pack to
//! the signed-in user, whose Stripe customer is created once and kept.

pub use crate::requests::billing::CheckoutRequest;

use crate::domain::errors::{FieldError, FieldErrors};
use crate::domain::UserId;
use crate::ports::billing::BillingAccounts;
use crate::ports::payments::{
    CheckoutSession, CustomerRequest, GatewayError, PaymentGateway, SessionRequest,
};
use crate::ports::StoreError;
use crate::usecases::payments::{CreditPack, CreditPacks};

/// The page the payer comes back to (the service's own account page).
pub const RETURN_PAGE: &str = "/ui/account";

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("checkout rejected")]
    Rejected(FieldErrors),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The configured pack a checkout names.
pub fn pack_on_sale<'p>(
    request: &CheckoutRequest,
    packs: &'p CreditPacks,
) -> Result<&'p CreditPack, FieldErrors> {
    packs.get(request.pack.as_str()).ok_or_else(|| {
        let error = FieldError::invalid(format!(
            "Not a pack on sale; choose one of: {}.",
            packs.names().join(", ")
        ));
        FieldErrors::single("pack", error)
    })
}

/// `{success_url, cancel_url}` on the service's pages under `base_url`.
pub fn return_urls(base_url: &str) -> (String, String) {
    let base = base_url.trim_end_matches('/');
    (
        format!("{base}{RETURN_PAGE}?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"),
        format!("{base}{RETURN_PAGE}?checkout=cancelled"),
    )
}

pub struct Checkout<'a> {
    pub billing: &'a dyn BillingAccounts,
    pub gateway: &'a dyn PaymentGateway,
    pub packs: &'a CreditPacks,
}

impl Checkout<'_> {
    /// The pack is checked first; then the user's customer (created on
    /// the first checkout, under an idempotency key of the user's, and
    /// kept by a conditional write), then the session. The only write is
    /// the customer id, after Stripe has made that customer: a failure
    /// leaves nothing half-done.
    #[tracing::instrument(name = "checkout", skip_all, fields(user_id = %user))]
    pub async fn start(
        &self,
        user: UserId,
        request: &CheckoutRequest,
        base_url: &str,
    ) -> Result<CheckoutSession, CheckoutError> {
        let pack = pack_on_sale(request, self.packs).map_err(CheckoutError::Rejected)?;
        let customer = match self.billing.stripe_customer(user).await? {
            Some(customer) => customer,
            None => {
                let created = self
                    .gateway
                    .create_customer(&CustomerRequest::for_user(user))
                    .await?;
                let kept = self.billing.keep_stripe_customer(user, &created).await?;
                if kept != created {
                    // Only without Stripe's idempotency (a stand-in): the
                    // other one is an unused customer on the provider.
                    tracing::warn!("a parallel checkout kept another customer first");
                }
                kept
            }
        };
        let (success_url, cancel_url) = return_urls(base_url);
        let request = SessionRequest {
            user,
            customer,
            pack: pack.clone(),
            success_url,
            cancel_url,
        };
        let session = self.gateway.create_session(&request).await?;
        tracing::info!(session_id = %session.id, pack = %pack.name, "checkout session created");
        Ok(session)
    }
}

/// `data` of `POST /billing/checkout`.
#[derive(Debug, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutStarted {
    /// Where to send the payer: Stripe's hosted page (or, in a local run
    /// without Stripe, the local pay page).
    pub checkout_url: String,
    /// `cs_…`: the session, as the webhook's event will name it.
    pub session_id: String,
}

impl From<CheckoutSession> for CheckoutStarted {
    fn from(session: CheckoutSession) -> Self {
        Self {
            checkout_url: session.url,
            session_id: session.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::RequestBody;
    use crate::domain::ErrorCode;
    use serde_json::{json, Value};

    #[test]
    fn packs_are_checked() {
        let packs = CreditPacks::parse("starter:100:500:usd,big:1000:4000:eur").unwrap();
        let parse = |v: Value| {
            CheckoutRequest::from_fields(v.as_object().unwrap())
                .and_then(|request| pack_on_sale(&request, &packs).map(|p| p.name.clone()))
        };
        assert_eq!(parse(json!({"pack": "big"})).unwrap(), "big");
        for (body, code) in [
            (json!({}), ErrorCode::Required),
            (json!({"pack": null}), ErrorCode::Required),
            (json!({"pack": "huge"}), ErrorCode::Invalid),
            (json!({"pack": 5}), ErrorCode::Invalid),
        ] {
            assert_eq!(parse(body).unwrap_err().codes("pack"), vec![code]);
        }
    }

    #[test]
    fn the_payer_returns_to_the_account_page() {
        let (success, cancel) = return_urls("https://id.example/");
        assert!(success.starts_with("https://id.example/ui/account?checkout=success"));
        assert_eq!(cancel, "https://id.example/ui/account?checkout=cancelled");
    }
}
