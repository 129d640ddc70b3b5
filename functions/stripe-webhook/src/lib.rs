//! `POST /webhooks/stripe`: Stripe's events, verified by their signature
//! over the raw body, each applied to the ledger once.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::StartupError;
use shared::config::ConfigError;
use shared::domain::ErrorCode;
use shared::http::body::{body_bytes, is_json_media_type, MAX_BODY_BYTES};
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Resources};
use shared::usecases::payments::{
    CreditPacks, StripeKeyRing, StripeKeysSource, Webhook, WebhookOutcome,
};

/// The stores, the packs and the Stripe keys (read on the first event).
pub struct State {
    pub stores: shared::app::Stores,
    pub packs: CreditPacks,
    pub keys: StripeKeyRing,
}

impl Endpoint for State {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let credits = &resources.config.credits;
        if resources.config.in_lambda
            && !matches!(credits.stripe_keys, StripeKeysSource::SecretsManager { .. })
        {
            return Err(ConfigError {
                variable: "STRIPE_SECRET_ID",
                problem: "required in Lambda: the webhook secret lives in Secrets Manager".into(),
            }
            .into());
        }
        Ok(Self {
            stores: resources.stores.clone(),
            packs: credits.packs.clone(),
            keys: StripeKeyRing::new(credits.stripe_keys.clone()),
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::StripeWebhook, request, |_, request| async move {
        let payload = body_bytes(&request);
        if payload.len() > MAX_BODY_BYTES {
            return Err(ApiError::payload_too_large());
        }
        // Stripe always posts JSON; anything else is refused as every JSON
        // route refuses it, before the signature is looked at.
        if !payload.is_empty() && !is_json_media_type(&request) {
            return Err(ApiError::general(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Unsupported media type",
                "Send the body as application/json.",
            ));
        }
        let signature = request
            .headers()
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok());
        let keys = state.keys.keys().await?;
        let webhook = Webhook {
            credits: state.stores.credits(),
            clock: state.stores.clock.as_ref(),
            packs: &state.packs,
        };
        let outcome = match webhook
            .receive(signature, payload, &keys.webhook_secrets)
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(error = %error, "stripe event refused");
                return Err(error.into());
            }
        };
        let applied = matches!(outcome, WebhookOutcome::Credited | WebhookOutcome::Debited);
        Reply::new(
            StatusCode::OK,
            "Event received",
            &json!({ "received": true, "applied": applied }),
        )
    })
    .await
}
