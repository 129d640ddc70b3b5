//! Every key of the single table, built in one place.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::domain::push_token::PushTokenId;
use crate::domain::{DeviceId, LocationId, SessionId, TaskId, ThrottleKey, UserId};

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
/// What kind of item a row is (`user`, `phone_user`, …).
pub const ENTITY_ATTRIBUTE: &str = "entity";
/// The optimistic-lock counter of items written conditionally.
pub const VERSION: &str = "version";
/// The account an item belongs to.
pub const USER_ID: &str = "user_id";

pub const PK: &str = "PK";
pub const SK: &str = "SK";
/// The table's TTL attribute (epoch seconds).
pub const EXPIRES_AT: &str = "expires_at";
/// Items that belong to an account but live outside its partition (claims,
/// tokens, tasks, audit records, index markers) carry `owner =
/// USER#<id>`; the sparse `OwnerIndex` on it finds them all when the
/// account is deleted or exported.
pub const OWNER: &str = "owner";
pub const OWNER_INDEX: &str = "OwnerIndex";

/// Every account's profile item carries `listing_pk = USERS#<shard>` and
/// `listing_sk = <created at>#<id>`: the `ListingIndex` GSI lists accounts
/// newest first for operators. Sign-ups are spread over the shards by id,
/// so a sign-up peak writes to `LISTING_SHARDS` index partitions, not one
/// (a listing reads every shard and merges).
pub const LISTING_PK: &str = "listing_pk";
pub const LISTING_SK: &str = "listing_sk";
pub const LISTING_INDEX: &str = "ListingIndex";
pub const LISTING_SHARDS: u8 = 8;

pub fn listing_partition(shard: u8) -> String {
    format!("USERS#{shard}")
}

/// The listing position of an account: sorts by creation time, then id.
pub fn listing_position(user: UserId, created_at: OffsetDateTime) -> String {
    format!("{}#{user}", sortable(created_at))
}

/// The two listing attributes of an account's profile item.
pub fn listing_attributes(
    user: UserId,
    created_at: OffsetDateTime,
) -> [(String, AttributeValue); 2] {
    let shard = user.as_uuid().as_bytes()[0] % LISTING_SHARDS;
    [
        (
            LISTING_PK.to_owned(),
            AttributeValue::S(listing_partition(shard)),
        ),
        (
            LISTING_SK.to_owned(),
            AttributeValue::S(listing_position(user, created_at)),
        ),
    ]
}

pub fn owner(user: UserId) -> String {
    user_partition(user)
}

/// Sort keys that order by time as strings: fixed width, UTC, microseconds.
const SORTABLE_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let text = |name| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        Some(Self {
            pk: text(PK)?,
            sk: text(SK)?,
        })
    }

    pub fn to_attributes(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

pub fn user(id: UserId) -> Key {
    Key::new(user_partition(id), "PROFILE")
}

/// The state of a one-time data migration (`MIGRATION#<name>`).
pub fn migration(name: &str) -> Key {
    Key::new(format!("MIGRATION#{name}"), "STATE")
}

/// A user's avatar record, beside the profile in the user's partition
/// (so the account's erasure removes it with the rest).
pub fn avatar(id: UserId) -> Key {
    Key::new(user_partition(id), "AVATAR")
}

/// The user's billing record (the Stripe customer id), beside the
/// profile in the user's partition: the account's erasure removes it.
pub fn billing(id: UserId) -> Key {
    Key::new(user_partition(id), "BILLING")
}

pub fn username_claim(username_key: &str) -> Key {
    Key::new(format!("USERNAME#{username_key}"), "CLAIM")
}

pub fn email_claim(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "CLAIM")
}

/// A phone number's claim, keyed by its HMAC (`PhoneKeys::lookup_hash`):
/// the number itself is never part of a key.
pub fn phone_claim(lookup_hash: &str) -> Key {
    Key::new(format!("PHONE#{lookup_hash}"), "CLAIM")
}

pub const LOCATION_PREFIX: &str = "LOCATION#";

pub fn location(user_id: UserId, id: LocationId) -> Key {
    Key::new(user_partition(user_id), format!("{LOCATION_PREFIX}{id}"))
}

pub fn user_partition(id: UserId) -> String {
    format!("USER#{id}")
}

pub const SESSION_PREFIX: &str = "SESSION#";
pub const DEVICE_PREFIX: &str = "DEVICE#";

pub fn session(user_id: UserId, session_id: SessionId) -> Key {
    Key::new(
        user_partition(user_id),
        format!("{SESSION_PREFIX}{session_id}"),
    )
}

pub fn device(user_id: UserId, device_id: &DeviceId) -> Key {
    Key::new(
        user_partition(user_id),
        format!("{DEVICE_PREFIX}{}", device_id.as_str()),
    )
}

/// Refresh tokens are found by the hash of the token the client holds.
pub fn refresh_token(hash: &str) -> Key {
    Key::new(format!("REFRESH#{hash}"), "REFRESH")
}

/// The state of one lockout counter (`ThrottleKey` keeps purposes apart).
pub fn login_throttle(key: &ThrottleKey) -> Key {
    Key::new(format!("THROTTLE#{}", key.as_str()), "THROTTLE")
}

/// A fixed-window counter (`RateWindow::key` names scope, subject, window).
pub fn rate_counter(window_key: &str) -> Key {
    Key::new(format!("RATE#{window_key}"), "RATE")
}

pub fn audit_partition(day: Date) -> String {
    format!("AUDIT#{day}")
}

pub fn audit(at: OffsetDateTime, id: Uuid) -> Key {
    let at = at.to_offset(UtcOffset::UTC);
    let stamp = at.format(SORTABLE_TIME).expect("every UTC time formats");
    Key::new(audit_partition(at.date()), format!("{stamp}#{id}"))
}

/// Outbox events are spread over this many partitions, so a burst of
/// events never makes one partition hot.
pub const OUTBOX_SHARDS: u8 = 16;

pub fn outbox_partition(shard: u8) -> String {
    format!("OUTBOX#{shard:02}")
}

pub fn outbox_event(at: OffsetDateTime, id: Uuid) -> Key {
    let at = at.to_offset(UtcOffset::UTC);
    let stamp = at.format(SORTABLE_TIME).expect("every UTC time formats");
    Key::new(
        outbox_partition(id.as_bytes()[0] % OUTBOX_SHARDS),
        format!("{stamp}#{id}"),
    )
}

fn sortable(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(SORTABLE_TIME)
        .expect("every UTC time formats")
}

/// The sort-key bound of everything stamped before `at` (`sk < bound`).
pub fn stamped_before(at: OffsetDateTime) -> String {
    sortable(at)
}

pub fn task(id: TaskId) -> Key {
    Key::new(format!("TASK#{id}"), "TASK")
}

/// The count of a user's unfinished counted tasks (`open`), in the user's
/// partition so that erasing the account removes it.
pub fn open_tasks(user: UserId) -> Key {
    Key::new(user_partition(user), "OPEN_TASKS")
}

/// Started tasks are indexed by deadline, so the clean-up job finds the
/// overdue ones with a query per shard instead of a scan.
pub const RUNNING_SHARDS: u8 = 4;

pub fn running_partition(shard: u8) -> String {
    format!("RUNNING#{shard}")
}

pub fn running_task(id: TaskId, deadline: OffsetDateTime) -> Key {
    Key::new(
        running_partition(id.as_uuid().as_bytes()[0] % RUNNING_SHARDS),
        format!("{}#{id}", sortable(deadline)),
    )
}

/// One-time tokens are found by the hash of the token in the link.
pub fn one_time_token(hash: &str) -> Key {
    Key::new(format!("OTT#{hash}"), "OTT")
}

/// One-time SMS codes: by the number's keyed hash and the purpose, so a
/// new code replaces the number's previous one of that purpose.
pub fn phone_code(phone_hash: &str, purpose: &str) -> Key {
    Key::new(format!("OTP#{phone_hash}#{purpose}"), "OTP")
}

/// Accounts that never confirmed their email, by creation time.
pub const UNVERIFIED_SHARDS: u8 = 4;

pub fn unverified_partition(shard: u8) -> String {
    format!("UNVERIFIED#{shard}")
}

pub fn unverified(id: UserId, created_at: OffsetDateTime) -> Key {
    Key::new(
        unverified_partition(id.as_uuid().as_bytes()[0] % UNVERIFIED_SHARDS),
        format!("{}#{id}", sortable(created_at)),
    )
}

pub fn pre_registration(email: &str) -> Key {
    Key::new(format!("PREREG#{email}"), "PREREG")
}

/// A notification event some worker claimed to deliver.
pub fn delivery(event_id: Uuid) -> Key {
    Key::new(format!("DELIVERY#{event_id}"), "DELIVERY")
}

pub const PREFERENCES_SK: &str = "PREFS";

pub fn preferences(user: UserId) -> Key {
    Key::new(user_partition(user), PREFERENCES_SK)
}

pub const PUSH_PREFIX: &str = "PUSH#";

pub fn push_token(user: UserId, id: PushTokenId) -> Key {
    Key::new(user_partition(user), format!("{PUSH_PREFIX}{id}"))
}

/// A push token's uniqueness claim, keyed by the token's SHA-256.
pub fn push_claim(token_hash: &str) -> Key {
    Key::new(format!("PUSHTOKEN#{token_hash}"), "CLAIM")
}

/// Push tokens by last use, for the clean-up of unused ones.
pub const PUSH_USED_SHARDS: u8 = 4;

pub fn push_used_partition(shard: u8) -> String {
    format!("PUSHUSED#{shard}")
}

pub fn push_used(id: PushTokenId, last_used: OffsetDateTime) -> Key {
    Key::new(
        push_used_partition(id.as_uuid().as_bytes()[0] % PUSH_USED_SHARDS),
        format!("{}#{id}", sortable(last_used)),
    )
}

/// Account deletions under way, by start time: the clean-up resumes the
/// ones that stall.
pub const DELETING_SHARDS: u8 = 4;

pub fn deleting_partition(shard: u8) -> String {
    format!("DELETING#{shard}")
}

pub fn deleting(user: UserId, since: OffsetDateTime) -> Key {
    Key::new(
        deleting_partition(user.as_uuid().as_bytes()[0] % DELETING_SHARDS),
        format!("{}#{user}", sortable(since)),
    )
}

/// The whole IP block list is one partition: it is small (entries are added
/// by hand) and always read whole, with one Query.
pub const IP_BLOCK_PARTITION: &str = "IPBLOCK";

/// A blocked network, keyed by its canonical CIDR text (`203.0.113.0/24`).
pub fn ip_block(network: &ipnet::IpNet) -> Key {
    Key::new(IP_BLOCK_PARTITION.to_owned(), network.to_string())
}

/// A key that never holds an item: reading it proves the table answers.
pub fn health() -> Key {
    Key::new("HEALTH".to_owned(), "HEALTH")
}

/// A user's credit balance (`balance`), in the user's partition so that
/// erasing the account removes it.
pub fn credit_balance(user: UserId) -> Key {
    Key::new(user_partition(user), "CREDITS")
}

/// The sort-key prefix of a user's ledger entries.
pub const CREDIT_ENTRY_PREFIX: &str = "CREDIT#";

/// A ledger entry, by its position (time, then id) in the user's ledger.
pub fn credit_entry(user: UserId, position: &str) -> Key {
    Key::new(
        user_partition(user),
        format!("{CREDIT_ENTRY_PREFIX}{position}"),
    )
}

/// A paid credit pack, by its Stripe payment intent.
pub fn purchase(payment_intent: &str) -> Key {
    Key::new(format!("PURCHASE#{payment_intent}"), "PURCHASE")
}

/// A posting's idempotency key (e.g. a Stripe event id), claimed in the
/// posting's transaction.
pub fn credit_once(key: &str) -> Key {
    Key::new(format!("CREDITONCE#{key}"), "ONCE")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn audit_keys_sort_by_time() {
        let id = Uuid::nil();
        let a = audit(datetime!(2026-01-02 03:04:05.000007 UTC), id);
        let b = audit(datetime!(2026-01-02 13:04:05 UTC), id);
        assert_eq!(a.pk, "AUDIT#2026-01-02");
        assert_eq!(
            a.sk,
            "2026-01-02T03:04:05.000007Z#00000000-0000-0000-0000-000000000000"
        );
        assert!(a.sk < b.sk);
        // Another offset lands on the UTC day.
        let c = audit(datetime!(2026-01-02 01:00 +05:30), id);
        assert_eq!(c.pk, "AUDIT#2026-01-01");
    }
}
