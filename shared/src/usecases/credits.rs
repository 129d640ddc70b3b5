//! Credits: the statement a user reads (`GET /users/me/credits`), the
//! operators' manual entries, and the settings (`SIGNUP_CREDITS`,
//! `CREDIT_COSTS`). Every balance change is a `Posting` (see
//! `ports::credits`).

use super::Origin;
use crate::domain::errors::FieldErrors;
use crate::domain::{
    AuditAction, AuditOutcome, CreditCosts, CreditEntry, CreditReason, LedgerPosition, Posting,
    UserId,
};
use crate::http::admin::Operator;
use crate::ports::credits::{CreditStore, LedgerPage, PostingError};
use crate::ports::directory::AccountDirectory;
use crate::ports::{Clock, StoreError};
pub use crate::requests::credits::AdminCreditRequest;

/// The credit settings of docs/API.md's configuration names.
#[derive(Debug, Clone)]
pub struct CreditSettings {
    /// `SIGNUP_CREDITS`: what a new account starts with.
    pub signup_credits: u32,
    /// `CREDIT_COSTS`: what each task type costs.
    pub costs: CreditCosts,
    /// `CREDIT_PACKS`: what `POST /billing/checkout` sells.
    pub packs: super::payments::CreditPacks,
    /// `STRIPE_SECRET_ID`, or locally `STRIPE_WEBHOOK_SECRET` and
    /// `STRIPE_API_KEY`.
    pub stripe_keys: super::payments::StripeKeysSource,
    /// `STRIPE_API_BASE`: where the Stripe API is (localstripe in tests).
    pub stripe_api_base: String,
}

impl CreditSettings {
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::config::ConfigError> {
        let signup_credits = match get("SIGNUP_CREDITS") {
            None => 0,
            Some(text) => text
                .parse::<u32>()
                .map_err(|_| crate::config::ConfigError {
                    variable: "SIGNUP_CREDITS",
                    problem: format!("expected a whole number ≥ 0, got {text:?}"),
                })?,
        };
        let costs =
            CreditCosts::parse(&get("CREDIT_COSTS").unwrap_or_default()).map_err(|problem| {
                crate::config::ConfigError {
                    variable: "CREDIT_COSTS",
                    problem,
                }
            })?;
        let packs = super::payments::CreditPacks::from_lookup(&get)?;
        let stripe_keys = match get("STRIPE_SECRET_ID") {
            Some(secret_id) => super::payments::StripeKeysSource::SecretsManager { secret_id },
            None => super::payments::StripeKeysSource::Inline {
                webhook_secret: secrecy::SecretString::from(
                    get("STRIPE_WEBHOOK_SECRET").unwrap_or_else(random_webhook_secret),
                ),
                api_key: get("STRIPE_API_KEY").map(secrecy::SecretString::from),
            },
        };
        Ok(Self {
            signup_credits,
            costs,
            packs,
            stripe_keys,
            stripe_api_base: get("STRIPE_API_BASE")
                .unwrap_or_else(|| "https://api.stripe.com".to_owned())
                .trim_end_matches('/')
                .to_owned(),
        })
    }
}

/// A local run's webhook secret when none is set: one per process, so the
/// local checkout page and the webhook agree.
fn random_webhook_secret() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the OS random source");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("whsec_local_{hex}")
}

/// The opening entry of a new account (none when it starts at 0).
pub fn opening(signup_credits: u32, user: UserId, now: time::OffsetDateTime) -> Option<Posting> {
    (signup_credits > 0).then(|| {
        Posting::new(CreditEntry::new(
            user,
            i64::from(signup_credits),
            CreditReason::SignUp,
            None,
            now,
        ))
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CreditError {
    #[error("credit entry rejected")]
    Rejected(FieldErrors),
    #[error("no such user")]
    NotFound,
    #[error("insufficient credits")]
    Insufficient,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PostingError> for CreditError {
    fn from(error: PostingError) -> Self {
        match error {
            PostingError::Insufficient => Self::Insufficient,
            // No caller here posts with a `once` key.
            PostingError::AlreadyApplied => {
                Self::Store(StoreError::internal("unexpected idempotency conflict"))
            }
            PostingError::Store(error) => Self::Store(error),
        }
    }
}

pub struct Credits<'a> {
    pub store: &'a dyn CreditStore,
    pub clock: &'a dyn Clock,
}

impl Credits<'_> {
    /// A page of the user's ledger, newest first, with the balance.
    pub async fn statement(
        &self,
        user: UserId,
        limit: usize,
        after: Option<&LedgerPosition>,
    ) -> Result<LedgerPage, StoreError> {
        self.store.ledger(user, limit, after).await
    }

    /// An operator's manual entry (`{amount, reason}`): a debit may not
    /// take the balance below zero. Audited with the operator as actor, in
    /// the entry's own transaction.
    #[tracing::instrument(name = "admin_credit_entry", skip_all, fields(user_id = %user))]
    pub async fn admin_entry(
        &self,
        directory: &dyn AccountDirectory,
        user: UserId,
        request: AdminCreditRequest,
        operator: &Operator,
        origin: &Origin,
    ) -> Result<(CreditEntry, i64), CreditError> {
        let amount = request.amount.get();
        let reason = request.reason.into_string();
        if directory.account(user).await?.is_none() {
            return Err(CreditError::NotFound);
        }
        let now = self.clock.now();
        let entry = CreditEntry::new(
            user,
            amount,
            CreditReason::Admin(reason),
            Some(operator.actor.clone()),
            now,
        );
        let mut audit = origin.audit(AuditAction::AdminCredits, AuditOutcome::Success, now);
        audit.user_id = Some(user);
        audit.actor = Some(operator.actor.clone());
        audit.reasons = vec![format!("amount:{amount}")];
        let posting = Posting {
            audit: Some(audit),
            ..Posting::new(entry.clone())
        };
        self.store.post(&posting).await?;
        tracing::info!(amount, "manual credit entry");
        let balance = self.store.balance(user).await?;
        Ok((entry, balance))
    }
}

/// A ledger entry as its user (and operators) read it.
#[derive(Debug, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditEntryView {
    pub id: String,
    /// Credits added (negative: removed).
    pub amount: i64,
    /// `signup`, `task`, `task_refund`, `purchase`, `purchase_refund`, or
    /// an operator's own words.
    pub reason: String,
    /// What the entry is about: a task id, a Stripe object, an operator.
    pub reference: Option<String>,
    pub created_at: String,
}

impl CreditEntryView {
    pub fn new(entry: &CreditEntry) -> Self {
        Self {
            id: entry.id.to_string(),
            amount: entry.amount,
            reason: entry.reason.as_str().to_owned(),
            reference: entry.reference.clone(),
            created_at: entry
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }
}

/// `data` of `GET /users/me/credits`.
#[derive(Debug, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditStatement {
    pub balance: i64,
    pub items: Vec<CreditEntryView>,
}

impl CreditStatement {
    pub fn new(page: &LedgerPage) -> Self {
        Self {
            balance: page.balance,
            items: page.entries.iter().map(CreditEntryView::new).collect(),
        }
    }
}

/// `data` of `POST /admin/users/{id}/credits`.
#[derive(Debug, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminCreditEntry {
    pub entry: CreditEntryView,
    pub balance: i64,
}
