//! Credits: a balance per user that changes only by ledger entries, each
//! written in the same transaction as the balance (see `ports::credits`).

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::user::UserId;
use super::AuditRecord;

/// Admin entries and reasons are at most this many characters.
pub const MAX_REASON_CHARS: usize = 200;
/// The largest amount one entry may move (keeps sums far from overflow).
pub const MAX_ENTRY_AMOUNT: i64 = 1_000_000_000;

/// Why an entry was written; `Admin` carries the operator's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditReason {
    SignUp,
    TaskCharge,
    TaskRefund,
    Purchase,
    PurchaseRefund,
    Admin(String),
}

impl CreditReason {
    pub fn as_str(&self) -> &str {
        match self {
            Self::SignUp => "signup",
            Self::TaskCharge => "task",
            Self::TaskRefund => "task_refund",
            Self::Purchase => "purchase",
            Self::PurchaseRefund => "purchase_refund",
            Self::Admin(text) => text,
        }
    }

    /// The stored form: the fixed reasons by name, an operator's as
    /// `admin:<text>` so the two can never be confused.
    pub fn to_stored(&self) -> String {
        match self {
            Self::Admin(text) => format!("admin:{text}"),
            other => other.as_str().to_owned(),
        }
    }

    pub fn from_stored(text: &str) -> Self {
        match text {
            "signup" => Self::SignUp,
            "task" => Self::TaskCharge,
            "task_refund" => Self::TaskRefund,
            "purchase" => Self::Purchase,
            "purchase_refund" => Self::PurchaseRefund,
            other => Self::Admin(other.strip_prefix("admin:").unwrap_or(other).to_owned()),
        }
    }
}

/// One ledger entry: `amount` credits added (negative: removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub id: Uuid,
    pub user: UserId,
    pub amount: i64,
    pub reason: CreditReason,
    /// What the entry is about: a task id, a Stripe event id, an operator.
    pub reference: Option<String>,
    pub created_at: OffsetDateTime,
}

impl CreditEntry {
    pub fn new(
        user: UserId,
        amount: i64,
        reason: CreditReason,
        reference: Option<String>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            user,
            amount,
            reason,
            reference,
            created_at: now,
        }
    }

    /// Where the entry sorts in its user's ledger: time, then id. Both
    /// stores order by this string, and the cursor of a page is the last
    /// entry's position.
    pub fn position(&self) -> LedgerPosition {
        LedgerPosition(format!(
            "{:020}#{}",
            self.created_at.unix_timestamp_nanos().max(0),
            self.id
        ))
    }
}

/// A place in a user's ledger (see `CreditEntry::position`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LedgerPosition(String);

impl LedgerPosition {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A cursor handed out by `GET /users/me/credits`; anything else is
    /// refused (`None`).
    pub fn from_cursor(cursor: &str) -> Option<Self> {
        let (stamp, id) = cursor.split_once('#')?;
        let valid = stamp.len() == 20
            && stamp.bytes().all(|b| b.is_ascii_digit())
            && Uuid::parse_str(id).is_ok_and(|u| u.hyphenated().to_string() == id);
        valid.then(|| Self(cursor.to_owned()))
    }
}

/// A balance change as the stores write it: the entry, whether it may take
/// the balance below zero (a refund of a purchase may; spending may not),
/// an idempotency key (`once`: the change is applied at most once per key,
/// e.g. a Stripe event id) and an audit record written with it.
#[derive(Debug, Clone)]
pub struct Posting {
    pub entry: CreditEntry,
    pub allow_negative: bool,
    pub once: Option<String>,
    pub audit: Option<AuditRecord>,
    /// A paid pack, recorded by its payment intent so that its refund
    /// finds whom to debit and how much.
    pub purchase: Option<Purchase>,
}

/// Credits bought through Stripe, by the payment intent that paid them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub payment_intent: String,
    pub user: UserId,
    pub credits: i64,
    pub pack: String,
}

impl Posting {
    pub fn new(entry: CreditEntry) -> Self {
        Self {
            entry,
            allow_negative: false,
            once: None,
            audit: None,
            purchase: None,
        }
    }
}

/// `CREDIT_COSTS`: what each task type costs (`task_type:credits` pairs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditCosts(BTreeMap<String, u32>);

impl CreditCosts {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut costs = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, cost) = pair
                .split_once(':')
                .ok_or_else(|| format!("`{pair}` is not task_type:credits"))?;
            let cost: u32 = cost
                .trim()
                .parse()
                .map_err(|_| format!("`{pair}`: credits must be a whole number ≥ 0"))?;
            costs.insert(kind.trim().to_owned(), cost);
        }
        Ok(Self(costs))
    }

    /// What a task of this type costs (0 when not configured).
    pub fn of(&self, task_type: &str) -> u32 {
        self.0.get(task_type).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_parse() {
        let costs = CreditCosts::parse("process_data:5, add:1").unwrap();
        assert_eq!((costs.of("process_data"), costs.of("add")), (5, 1));
        assert_eq!(costs.of("long_running"), 0);
        assert!(CreditCosts::parse("add").is_err());
        assert!(CreditCosts::parse("add:-1").is_err());
        assert_eq!(CreditCosts::parse("").unwrap(), CreditCosts::default());
    }

    #[test]
    fn positions_sort_by_time_and_cursors_round_trip() {
        let user = UserId::new_random();
        let at = OffsetDateTime::now_utc();
        let a = CreditEntry::new(user, 1, CreditReason::SignUp, None, at);
        let b = CreditEntry::new(
            user,
            1,
            CreditReason::SignUp,
            None,
            at + time::Duration::SECOND,
        );
        assert!(a.position() < b.position());
        let cursor = b.position();
        assert_eq!(LedgerPosition::from_cursor(cursor.as_str()), Some(cursor));
        for bad in [
            "",
            "x#y",
            "1#2",
            "0000000000000000000a#00000000-0000-0000-0000-000000000000",
        ] {
            assert_eq!(LedgerPosition::from_cursor(bad), None);
        }
    }

    #[test]
    fn reasons_round_trip_and_admin_cannot_pose_as_fixed() {
        for reason in [
            CreditReason::SignUp,
            CreditReason::TaskRefund,
            CreditReason::Admin("signup".into()),
        ] {
            assert_eq!(CreditReason::from_stored(&reason.to_stored()), reason);
        }
    }
}
