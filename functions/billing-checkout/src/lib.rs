//! `POST /billing/checkout`: `{pack}` → a Stripe Checkout session for the
//! signed-in user (`{checkout_url, session_id}`).

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::adapters::stripe_api::StripeApi;
use shared::app::{StartupError, Stores};
use shared::config::ConfigError;
use shared::http::auth::Authenticator;
use shared::http::base_url::public_base_url;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, Reply};
use shared::ports::payments::PaymentGateway;
use shared::serve::{Endpoint, Needs, Resources};
use shared::usecases::checkout::{Checkout, CheckoutStarted};
use shared::usecases::payments::{CreditPacks, StripeKeyRing, StripeKeysSource};

pub struct State {
    pub auth: Authenticator,
    pub stores: Stores,
    pub packs: CreditPacks,
    /// The Stripe API (its key read on the first checkout), or the local
    /// server's stand-in.
    pub gateway: Arc<dyn PaymentGateway>,
    /// `PUBLIC_BASE_URL`: where the payer comes back to.
    pub public_base_url: Option<String>,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let credits = &resources.config.credits;
        if resources.config.in_lambda
            && !matches!(credits.stripe_keys, StripeKeysSource::SecretsManager { .. })
        {
            return Err(ConfigError {
                variable: "STRIPE_SECRET_ID",
                problem: "required in Lambda: the Stripe API key lives in Secrets Manager".into(),
            }
            .into());
        }
        let gateway = match resources.payment_gateway() {
            Some(gateway) => gateway,
            None => Arc::new(StripeApi::new(
                credits.stripe_api_base.clone(),
                Arc::new(StripeKeyRing::new(credits.stripe_keys.clone())),
            )),
        };
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            packs: credits.packs.clone(),
            gateway,
            public_base_url: resources.config.public_base_url.clone(),
        })
    }
}

impl State {
    /// The configured base URL; without one, the address the request came
    /// to (as the discovery document does).
    fn base_url(&self, request: &Request) -> String {
        public_base_url(self.public_base_url.as_deref(), request.headers())
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::BillingCheckout, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let body = json_request(&request)?;
        let checkout = Checkout {
            billing: state.stores.billing(),
            gateway: state.gateway.as_ref(),
            packs: &state.packs,
        };
        let session = checkout
            .start(principal.account.id(), &body, &state.base_url(&request))
            .await?;
        Reply::new(
            StatusCode::CREATED,
            "Checkout session created",
            &CheckoutStarted::from(session),
        )
    })
    .await
}
