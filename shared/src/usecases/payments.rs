//! Stripe payments: the configured packs, the Stripe keys (Secrets Manager
//! on AWS), and the webhook's events applied to the ledger once each.

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::Value;

use crate::domain::stripe_signature::{self, SignatureError};
use crate::domain::{CreditEntry, CreditReason, Posting, Purchase, UserId};
use crate::ports::credits::{CreditStore, PostingError};
use crate::ports::secrets::SecretSource;
use crate::ports::{Clock, StoreError};

/// `CREDIT_PACKS`' default: one example pack.
pub const DEFAULT_PACKS: &str = "starter:100:500:usd";

/// One pack of `CREDIT_PACKS` (`pack:credits:price_in_cents:currency`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditPack {
    pub name: String,
    pub credits: u32,
    pub price_cents: u32,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditPacks(Vec<CreditPack>);

impl CreditPacks {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut packs: Vec<CreditPack> = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let parts: Vec<&str> = entry.split(':').map(str::trim).collect();
            let [name, credits, price, currency] = parts.as_slice() else {
                return Err(format!(
                    "`{entry}` is not pack:credits:price_in_cents:currency"
                ));
            };
            let valid_name = !name.is_empty()
                && name.len() <= 40
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            let credits: u32 = credits.parse().map_err(|_| format!("`{entry}`: credits"))?;
            let price: u32 = price.parse().map_err(|_| format!("`{entry}`: price"))?;
            let valid_currency =
                currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_lowercase());
            if !valid_name || credits == 0 || price == 0 || !valid_currency {
                return Err(format!(
                    "`{entry}`: a lowercase name, credits and price above 0, a lowercase ISO currency"
                ));
            }
            if packs.iter().any(|p| p.name == *name) {
                return Err(format!("pack `{name}` twice"));
            }
            packs.push(CreditPack {
                name: (*name).to_owned(),
                credits,
                price_cents: price,
                currency: (*currency).to_owned(),
            });
        }
        if packs.is_empty() {
            return Err("no pack configured".into());
        }
        Ok(Self(packs))
    }

    pub fn get(&self, name: &str) -> Option<&CreditPack> {
        self.0.iter().find(|p| p.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|p| p.name.as_str()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &CreditPack> {
        self.0.iter()
    }

    /// `CREDIT_PACKS` as `lookup` has it, or the default.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::config::ConfigError> {
        Self::parse(&lookup(Self::VARIABLE).unwrap_or_else(|| DEFAULT_PACKS.to_owned())).map_err(
            |problem| crate::config::ConfigError {
                variable: Self::VARIABLE,
                problem,
            },
        )
    }

    pub const VARIABLE: &'static str = "CREDIT_PACKS";
}

/// Where the Stripe keys come from.
#[derive(Debug, Clone)]
pub enum StripeKeysSource {
    /// `STRIPE_SECRET_ID`: a Secrets Manager secret
    /// `{"webhook_secrets": ["whsec_…"], "api_key": "sk_…"}` (`webhook_secret`
    /// for one), read on first use.
    SecretsManager { secret_id: String },
    /// Local runs: `STRIPE_WEBHOOK_SECRET` (random when unset) and
    /// `STRIPE_API_KEY` (none: the local checkout page stands in).
    Inline {
        webhook_secret: SecretString,
        api_key: Option<SecretString>,
    },
}

/// The keys as read.
#[derive(Clone)]
pub struct StripeKeys {
    pub webhook_secrets: Vec<SecretString>,
    pub api_key: Option<SecretString>,
}

/// The Stripe keys of a function, read once (from Secrets Manager on the
/// first request that needs them).
pub struct StripeKeyRing {
    source: StripeKeysSource,
    /// Tests hand one in; otherwise Secrets Manager, built on first use.
    secrets: Option<Arc<dyn SecretSource>>,
    keys: tokio::sync::OnceCell<StripeKeys>,
}

impl StripeKeyRing {
    pub fn new(source: StripeKeysSource) -> Self {
        Self {
            source,
            secrets: None,
            keys: tokio::sync::OnceCell::new(),
        }
    }

    /// Reads `SecretsManager` sources from `secrets`.
    pub fn with_secrets(mut self, secrets: Arc<dyn SecretSource>) -> Self {
        self.secrets = Some(secrets);
        self
    }

    pub async fn keys(&self) -> Result<&StripeKeys, StoreError> {
        self.keys
            .get_or_try_init(|| async {
                match &self.source {
                    StripeKeysSource::Inline {
                        webhook_secret,
                        api_key,
                    } => Ok(StripeKeys {
                        webhook_secrets: vec![webhook_secret.clone()],
                        api_key: api_key.clone(),
                    }),
                    StripeKeysSource::SecretsManager { secret_id } => {
                        let source = match &self.secrets {
                            Some(source) => source.clone(),
                            None => crate::app::secret_source().await.ok_or_else(|| {
                                StoreError::internal(
                                    "the Stripe secret needs the Secrets Manager SDK",
                                )
                            })?,
                        };
                        let text = source.secret_string(secret_id).await?;
                        parse_secret(secrecy::ExposeSecret::expose_secret(&text))
                    }
                }
            })
            .await
    }
}

fn parse_secret(text: &str) -> Result<StripeKeys, StoreError> {
    // The error never quotes the secret's text.
    let bad = || StoreError::internal("the Stripe secret is not the documented JSON");
    let value: Value = serde_json::from_str(text).map_err(|_| bad())?;
    let strings = |v: &Value| -> Vec<SecretString> {
        match v {
            Value::String(s) => vec![SecretString::from(s.clone())],
            Value::Array(list) => list
                .iter()
                .filter_map(Value::as_str)
                .map(|s| SecretString::from(s.to_owned()))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut webhook_secrets = strings(&value["webhook_secrets"]);
    webhook_secrets.extend(strings(&value["webhook_secret"]));
    if webhook_secrets.is_empty() {
        return Err(bad());
    }
    Ok(StripeKeys {
        webhook_secrets,
        api_key: value["api_key"]
            .as_str()
            .filter(|k| !k.is_empty())
            .map(|k| SecretString::from(k.to_owned())),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("signature invalid: {0}")]
    Signature(SignatureError),
    /// Signed, but not an event (not JSON, no id or type).
    #[error("not a Stripe event")]
    Malformed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Credited,
    Debited,
    /// Applied before (a redelivery): nothing changed.
    Duplicate,
    /// Nothing to do for it (another type, unpaid, unknown pack…).
    Ignored,
}

pub struct Webhook<'a> {
    pub credits: &'a dyn CreditStore,
    pub clock: &'a dyn Clock,
    pub packs: &'a CreditPacks,
}

impl Webhook<'_> {
    /// Verifies the signature over the raw `payload`, then applies the
    /// event once (its id, or for a refund its payment intent, claimed in
    /// the ledger's transaction).
    #[tracing::instrument(name = "stripe_webhook", skip_all, fields(event_id, event_type))]
    pub async fn receive(
        &self,
        signature: Option<&str>,
        payload: &[u8],
        secrets: &[SecretString],
    ) -> Result<WebhookOutcome, WebhookError> {
        let now = self.clock.now();
        stripe_signature::verify(signature, payload, secrets, now)
            .map_err(WebhookError::Signature)?;
        let event: Value = serde_json::from_slice(payload).map_err(|_| WebhookError::Malformed)?;
        let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
            return Err(WebhookError::Malformed);
        };
        let span = tracing::Span::current();
        span.record("event_id", id);
        span.record("event_type", kind);
        let object = &event["data"]["object"];
        let posting = match kind {
            "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
                self.purchase(id, object)
            }
            "charge.refunded" => self.refund(object).await?,
            _ => None,
        };
        let Some(posting) = posting else {
            tracing::info!("stripe event acknowledged, nothing to apply");
            return Ok(WebhookOutcome::Ignored);
        };
        let credited = posting.entry.amount > 0;
        match self.credits.post(&posting).await {
            Ok(()) => {
                tracing::info!(amount = posting.entry.amount, "stripe event applied");
                Ok(if credited {
                    WebhookOutcome::Credited
                } else {
                    WebhookOutcome::Debited
                })
            }
            Err(PostingError::AlreadyApplied) => {
                tracing::info!("stripe event applied before");
                Ok(WebhookOutcome::Duplicate)
            }
            Err(PostingError::Insufficient) => {
                Err(StoreError::internal("a refund may go negative").into())
            }
            Err(PostingError::Store(error)) => Err(error.into()),
        }
    }

    /// A paid session: its pack's credits to the user it names.
    fn purchase(&self, event_id: &str, session: &Value) -> Option<Posting> {
        if session["payment_status"].as_str() != Some("paid") {
            return None;
        }
        let user = session["client_reference_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .map(UserId::from_uuid);
        let pack = session["metadata"]["pack"]
            .as_str()
            .and_then(|name| self.packs.get(name));
        let (Some(user), Some(pack)) = (user, pack) else {
            tracing::warn!("paid checkout session without a known user or pack");
            return None;
        };
        let credits = i64::from(pack.credits);
        let reference = session["id"].as_str().map(str::to_owned);
        Some(Posting {
            once: Some(format!("event:{event_id}")),
            purchase: session["payment_intent"].as_str().map(|intent| Purchase {
                payment_intent: intent.to_owned(),
                user,
                credits,
                pack: pack.name.clone(),
            }),
            ..Posting::new(CreditEntry::new(
                user,
                credits,
                CreditReason::Purchase,
                reference,
                self.clock.now(),
            ))
        })
    }

    /// A fully refunded charge: the credits its payment intent bought are
    /// removed, even below zero, once per payment intent.
    async fn refund(&self, charge: &Value) -> Result<Option<Posting>, StoreError> {
        let Some(intent) = charge["payment_intent"].as_str() else {
            return Ok(None);
        };
        if charge["refunded"].as_bool() != Some(true) {
            tracing::info!("partial refund: credits kept (see README)");
            return Ok(None);
        }
        let Some(purchase) = self.credits.purchase(intent).await? else {
            tracing::warn!("refund of a payment that bought no credits");
            return Ok(None);
        };
        Ok(Some(Posting {
            allow_negative: true,
            once: Some(format!("refund:{intent}")),
            ..Posting::new(CreditEntry::new(
                purchase.user,
                -purchase.credits,
                CreditReason::PurchaseRefund,
                Some(intent.to_owned()),
                self.clock.now(),
            ))
        }))
    }
}
