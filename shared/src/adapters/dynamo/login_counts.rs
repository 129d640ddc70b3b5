//! A login attempt counted on its lock in one conditional update, without
//! reading the lock first (`SessionStore::count_attempt_unread`).

use aws_sdk_dynamodb::types::ReturnValue;
use serde_dynamo::from_item;

use super::errors::{conditional, mapping_error};
use super::keys::{self, Key};
use super::session_items::{ThrottleItem, THROTTLE_MEMORY};
use super::store::format_time;
use super::transact::{n, s};
use super::DynamoStore;
use crate::domain::LoginThrottle;
use crate::ports::sessions::UnreadCount;
use crate::ports::StoreError;

impl DynamoStore {
    pub(super) async fn count_unread(
        &self,
        count: &UnreadCount<'_>,
    ) -> Result<Option<(LoginThrottle, LoginThrottle)>, StoreError> {
        let policy = &count.policy;
        // A count that reaches the limit locks: that takes the versioned path.
        let Some(limit) = policy.max_failures.checked_sub(1).filter(|l| *l > 0) else {
            return Ok(None);
        };
        let now = count.at;
        let Key { pk, sk } = keys::login_throttle(count.key);
        let mut assignments = vec![
            "#failures = if_not_exists(#failures, :zero) + :one",
            "#window = if_not_exists(#window, :now)",
            "#window_epoch = if_not_exists(#window_epoch, :now_epoch)",
            "#version = if_not_exists(#version, :zero) + :one",
            "#lockouts = if_not_exists(#lockouts, :zero)",
            "#entity = :entity",
            "#expires = :expires",
        ];
        if count.owner.is_some() {
            assignments.push("#owner = :owner");
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression(format!("SET {}", assignments.join(", ")))
            // Absent, or below the limit in a running window, never locked
            // and not past its time to live.
            .condition_expression(
                "attribute_not_exists(#pk) OR (#failures < :limit AND #window_epoch > :cutoff \
                 AND attribute_not_exists(#locked) AND #expires > :now_epoch)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#failures", "failures")
            .expression_attribute_names("#window", "window_started_at")
            .expression_attribute_names("#window_epoch", "window_epoch")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#lockouts", "lockouts")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_names("#expires", "expires_at")
            .expression_attribute_names("#locked", "locked_until")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(format_time(now)))
            .expression_attribute_values(":now_epoch", n(now.unix_timestamp()))
            .expression_attribute_values(":entity", s("login_throttle".to_owned()))
            .expression_attribute_values(
                ":expires",
                n((now + THROTTLE_MEMORY).unix_timestamp()),
            )
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":cutoff", n((now - policy.window).unix_timestamp()))
            .return_values(ReturnValue::AllOld);
        if let Some(owner) = count.owner {
            request = request
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":owner", s(keys::owner(owner)));
        }
        let output = match request.send().await {
            Ok(output) => output,
            // A failed condition: the lock needs reading.
            Err(error) => return conditional::<(), _, _>(Err(error)).map(|_| None),
        };
        let before = match output.attributes {
            Some(item) if !item.is_empty() => from_item::<_, ThrottleItem>(item)
                .map_err(mapping_error)?
                .into_throttle(now),
            _ => LoginThrottle::default(),
        };
        let after = before.after_failure(policy, now);
        Ok(Some((before, after)))
    }
}
