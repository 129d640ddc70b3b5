//! Login throttles: what a login reads (claims, lock and ceiling counters,
//! the IP window), a failure counted on the versioned counters, and an
//! attempt counted on its lock in one conditional update, without reading
//! the lock first (`SessionStore::count_attempt_unread`).

use aws_sdk_dynamodb::types::ReturnValue;
use serde_dynamo::{from_item, to_item};

use super::errors::{conditional, mapping_error};
use super::items::ClaimItem;
use super::keys::{self, Key};
use super::queries::{decode, take};
use super::session_items::{ThrottleItem, THROTTLE_MEMORY};
use super::store::format_time;
use super::transact::{n, s, Condition, Expression, Item, TransactError, Write};
use super::DynamoStore;
use crate::domain::{LoginThrottle, UserId};
use crate::ports::sessions::{
    LoginFailure, LoginFailureError, LoginKeys, LoginLookup, UnreadCount,
};
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
            .expression_attribute_names("#failures", super::session_items::FAILURES)
            .expression_attribute_names("#window", super::session_items::WINDOW_STARTED_AT)
            .expression_attribute_names("#window_epoch", super::session_items::WINDOW_EPOCH)
            .expression_attribute_names("#version", keys::VERSION)
            .expression_attribute_names("#lockouts", super::session_items::LOCKOUTS)
            .expression_attribute_names("#entity", keys::ENTITY_ATTRIBUTE)
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_names("#locked", super::session_items::LOCKED_UNTIL)
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
                .expression_attribute_names("#owner", keys::OWNER)
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

/// A lock or ceiling counter still has the version it was read at.
const THROTTLE_UNCHANGED: Condition = "throttle_unchanged";

impl DynamoStore {
    /// The claims, counters and IP window a login reads, in one batch.
    pub(super) async fn read_login_keys(
        &self,
        login: &LoginKeys<'_>,
    ) -> Result<LoginLookup, StoreError> {
        let username = login.username_key.map(keys::username_claim);
        let email = login.email.map(keys::email_claim);
        let throttle = login.throttle.map(keys::login_throttle);
        let ceiling = login.ceiling.map(keys::login_throttle);
        let ip = login.ip_window.map(|w| keys::rate_counter(&w.key));
        let wanted: Vec<Key> = [
            username.clone(),
            email.clone(),
            throttle.clone(),
            ceiling.clone(),
            ip.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut found = self.batch_get(&wanted).await?;
        let owner = |key: &Option<Key>,
                     found: &mut std::collections::HashMap<(String, String), Item>|
         -> Result<Option<UserId>, StoreError> {
            match key.as_ref().and_then(|k| take(found, k)) {
                Some(item) => Ok(Some(UserId::from_uuid(decode::<ClaimItem>(item)?.user_id))),
                None => Ok(None),
            }
        };
        let by_username = owner(&username, &mut found)?;
        let by_email = owner(&email, &mut found)?;
        let throttle = match throttle.as_ref().and_then(|k| take(&mut found, k)) {
            Some(item) => decode::<ThrottleItem>(item)?.into_throttle(login.now),
            None => Default::default(),
        };
        let ceiling = match ceiling.as_ref().and_then(|k| take(&mut found, k)) {
            Some(item) => decode::<ThrottleItem>(item)?.into_throttle(login.now),
            None => Default::default(),
        };
        let ip_failures = match ip.as_ref().and_then(|k| take(&mut found, k)) {
            Some(item) => item
                .get(super::rate_windows::COUNT)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            None => 0,
        };
        Ok(LoginLookup {
            user_id: by_username.or(by_email),
            throttle,
            ceiling,
            ip_failures,
        })
    }

    /// A failed login counted on its versioned counters.
    pub(super) async fn count_login_failure(
        &self,
        failure: &LoginFailure,
    ) -> Result<(), LoginFailureError> {
        let mut writes = Vec::new();
        for update in failure.lock.iter().chain(&failure.ceiling) {
            let item = ThrottleItem::new(&update.key, &update.next, failure.at, failure.owner);
            writes.push(
                Write::put(
                    &self.table,
                    to_item(item).map_err(mapping_error)?,
                    Some("(attribute_not_exists(#pk) AND :seen = :zero) OR #version = :seen"),
                    Expression::default()
                        .name("#pk", keys::PK)
                        .name("#version", keys::VERSION)
                        .value(":seen", n(update.previous.version))
                        .value(":zero", n(0)),
                )?
                .named(THROTTLE_UNCHANGED),
            );
        }
        if let Some(audit) = &failure.audit {
            writes.push(self.put_audit(audit)?);
        }
        if let Some(window) = &failure.ip_window {
            writes.push(self.count_in_window(window)?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(cancelled))
                if cancelled.failed_named(THROTTLE_UNCHANGED) =>
            {
                Err(LoginFailureError::Concurrent)
            }
            Err(error) => Err(error.into_store_error().into()),
        }
    }
}
