//! Credits and payments: the user's statement and the operators' manual
//! entries.

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::path::Operation;
use utoipa::ToSchema;

use super::operation::Op;
pub use crate::usecases::checkout::CheckoutRequest;
use crate::usecases::checkout::CheckoutStarted;
use crate::usecases::credits::{AdminCreditEntry, CreditStatement};

const TAG: &str = "credits";

pub use crate::usecases::credits::AdminCreditRequest;

fn entry_example(amount: i64, reason: &str, reference: Value) -> Value {
    json!({"id": "0f1e2d3c-4b5a-4697-8a1b-2c3d4e5f6a7b", "amount": amount, "reason": reason,
           "reference": reference, "created_at": "2026-12-03T10:00:00Z"})
}

pub fn credits() -> Operation {
    Op::new(
        "listCredits",
        TAG,
        "Credit balance and ledger",
        "The balance and the ledger entries that made it, newest first, paged by cursor. \
         Every balance change is an entry written in the same transaction as the balance.",
    )
    .bearer()
    .query_number("limit", "Entries per page (default 20).", 1, 100)
    .query_text("cursor", "`meta.next_cursor` of the previous page.")
    .cursor_page::<CreditStatement>(
        "Credits",
        json!({"balance": 15, "items": [
            entry_example(-5, "task", json!("3c2b1a09-8f7e-4d6c-5b4a-392817161514")),
            entry_example(20, "signup", Value::Null),
        ]}),
    )
    .error(400, "A bad `limit` or `cursor` (`invalid`).")
    .uses_storage()
    .build()
}

pub fn admin_credits() -> Operation {
    Op::new(
        "adminCreditEntry",
        "admin",
        "Add a manual credit entry",
        "A ledger entry by an operator (audited with the operator as actor). A debit that \
         would take the balance below zero is refused with 402 `insufficient_credits`.",
    )
    .admin()
    .path_parameter("id", "The account's id (an unknown id is 404).")
    .body::<AdminCreditRequest>(json!({"amount": 50, "reason": "goodwill after outage"}))
    .data::<AdminCreditEntry>(
        201,
        "Credit entry added",
        json!({"entry": entry_example(50, "goodwill after outage", json!("local-admin")),
               "balance": 65}),
    )
    .error(
        402,
        "A debit larger than the balance (`insufficient_credits`).",
    )
    .error(404, "No such account (`not_found`).")
    .uses_storage()
    .build()
}

/// A Stripe event, as Stripe posts it (only what is read is listed).
#[derive(Serialize, ToSchema)]
pub struct StripeEvent {
    /// `evt_…`: each id is applied once.
    pub id: String,
    /// `checkout.session.completed`, `checkout.session.async_payment_succeeded`,
    /// `charge.refunded`; others are acknowledged.
    #[serde(rename = "type")]
    pub kind: String,
    /// `{object}`: the session (`payment_status`, `client_reference_id`,
    /// `metadata.pack`, `payment_intent`) or the charge (`payment_intent`,
    /// `refunded`).
    #[schema(value_type = Object)]
    pub data: Value,
}

/// `data` of `POST /webhooks/stripe`.
#[derive(Serialize, ToSchema)]
pub struct StripeEventReceived {
    pub received: bool,
    /// Whether this delivery changed a balance (false for a redelivery or
    /// an event with nothing to apply).
    pub applied: bool,
}

pub fn stripe_webhook() -> Operation {
    Op::new(
        "stripeWebhook",
        TAG,
        "Stripe events",
        "Called by Stripe, not by clients. The `Stripe-Signature` header (`t=…,v1=…`, HMAC-SHA-256 \
         of `t.body` with the webhook secret; several `v1` during a rotation) must verify the raw \
         body within 5 minutes of `t`. Each event is applied once: a paid \
         `checkout.session.completed` adds its pack's credits to the user named by \
         `client_reference_id`; a fully refunded `charge.refunded` removes the credits its \
         payment intent bought, even below zero. Every other event type is acknowledged.",
    )
    .body::<StripeEvent>(json!({"id": "evt_1", "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_test_1", "payment_status": "paid",
            "client_reference_id": "3c2b1a09-8f7e-4d6c-5b4a-392817161514",
            "metadata": {"pack": "starter"}, "payment_intent": "pi_1"}}}))
    .data::<StripeEventReceived>(200, "Event received", json!({"received": true, "applied": true}))
    .error(400, "A signature that does not verify (`signature_invalid`), or a body that is no \
        event (`invalid_json`).")
    .uses_storage()
    .build()
}

pub fn billing_checkout() -> Operation {
    Op::new(
        "startCheckout",
        TAG,
        "Buy a credit pack",
        "Creates a Stripe Checkout session selling the pack to the signed-in user: payment mode, \
         the pack's price, `client_reference_id` = the user's id, `metadata.pack` and \
         `metadata.user_id`. The user's Stripe customer is created on the first checkout and kept. \
         Send the payer to `checkout_url`; Stripe sends them back to `/ui/account` and tells \
         `POST /webhooks/stripe`, which adds the credits. In a local run without a Stripe key, \
         `checkout_url` is the local server's own pay page.",
    )
    .bearer()
    .body::<CheckoutRequest>(json!({"pack": "starter"}))
    .data::<CheckoutStarted>(
        201,
        "Checkout session created",
        json!({"checkout_url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3",
               "session_id": "cs_test_a1b2c3"}),
    )
    .error(400, "No pack or an unknown one (`required`, `invalid` on `pack`), or a body that is not a JSON object.")
    .retry_later(
        503,
        "Stripe or the table is unreachable or failing (`unavailable`); nothing was bought: \
         retry shortly.",
    )
    .build()
}
