//! Fixed-window rate counters (`RATE#<key>`): a count per window, capped
//! or not, charged inside the transaction of what it counts.

use super::keys::{self, EXPIRES_AT};
use super::transact::{n, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::RateWindow;
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
pub const COUNT: &str = "count";

/// A capped rate window still has room: failed, it is full.
pub(super) const WINDOW_OPEN: Condition = "rate_window_open";

impl DynamoStore {
    /// Counts one event in a fixed window, refused (condition failure) when
    /// the window is full.
    pub(super) fn charge_window(&self, window: &RateWindow) -> Result<Write, StoreError> {
        Write::update(
            &self.table,
            &keys::rate_counter(&window.key),
            "ADD #count :one SET #expires = :expires",
            Some("attribute_not_exists(#count) OR #count < :max"),
            Expression::default()
                .name("#count", COUNT)
                .name("#expires", EXPIRES_AT)
                .value(":one", n(1))
                .value(":max", n(window.max))
                .value(
                    ":expires",
                    n((window.ends_at + time::Duration::hours(1)).unix_timestamp()),
                ),
        )
        .map(|write| write.named(WINDOW_OPEN))
    }

    /// Counts one event in a fixed window now, in its own write; false when
    /// the window is full.
    pub(super) async fn charge_now(&self, window: &RateWindow) -> Result<bool, StoreError> {
        match self.transact(vec![self.charge_window(window)?]).await {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(cancelled)) if cancelled.failed_named(WINDOW_OPEN) => {
                Ok(false)
            }
            Err(error) => Err(error.into_store_error()),
        }
    }

    /// Counts one event in a fixed window, without a cap.
    pub(super) fn count_in_window(&self, window: &RateWindow) -> Result<Write, StoreError> {
        Write::update(
            &self.table,
            &keys::rate_counter(&window.key),
            "ADD #count :one SET #expires = :expires",
            None,
            Expression::default()
                .name("#count", COUNT)
                .name("#expires", EXPIRES_AT)
                .value(":one", n(1))
                .value(
                    ":expires",
                    n((window.ends_at + time::Duration::hours(1)).unix_timestamp()),
                ),
        )
    }
}
