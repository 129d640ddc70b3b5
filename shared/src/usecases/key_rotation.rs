//! The scheduled signing-key rotation: the documented keytool sequence
//! (`add`, later `prune`) done by a function on a schedule. Each run reads
//! the key set, drops the keys no live token can name, and adds a pending
//! key when the signer is old enough and none is waiting; it writes the
//! secret only when something changed, so runs are idempotent.

use secrecy::ExposeSecret;
use time::{Duration, OffsetDateTime};

use crate::ports::secrets::{SecretSource, SecretWriter};
use crate::ports::{Clock, StoreError};
use crate::session_tokens::{KeyAlgorithm, KeySet, KeySetError, KeyState};

/// When and how the schedule rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// A signer active this long gets a successor.
    pub rotate_after: Duration,
    /// How long a new key is published before it signs (at least the JWKS
    /// cache lifetime plus the key reload).
    pub publish: Duration,
    /// How long a retired key stays published (at least the access-token
    /// lifetime, its leeway and the key reload).
    pub retention: Duration,
    /// The kind of the keys it adds.
    pub algorithm: KeyAlgorithm,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        Self {
            rotate_after: Duration::days(90),
            publish: Duration::hours(1),
            retention: Duration::hours(1),
            algorithm: crate::session_tokens::keyset::DEFAULT_ALGORITHM,
        }
    }
}

/// What one run did (the function's result, in its log).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RotationReport {
    pub added: Option<String>,
    pub removed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the signing-key secret does not hold a valid key set: {0}")]
    Invalid(#[from] KeySetError),
}

/// The new set for `keys` at `now` under `policy`, and what changed; `None`
/// when nothing is due.
pub fn plan(
    keys: &KeySet,
    now: OffsetDateTime,
    policy: &RotationPolicy,
) -> Option<(KeySet, RotationReport)> {
    let (mut next, removed) = keys.prune(now, policy.retention);
    let mut report = RotationReport {
        added: None,
        removed,
    };
    let waiting = next
        .states_at(now)
        .iter()
        .any(|(_, state)| *state == KeyState::Pending);
    let due = next
        .signer_at(now)
        .is_none_or(|signer| signer.activates_at() + policy.rotate_after <= now);
    if due && !waiting {
        next = next.with_pending_key(policy.algorithm, now, policy.publish);
        report.added = Some(next.latest().kid().to_owned());
    }
    (report != RotationReport::default()).then_some((next, report))
}

/// One scheduled run against secret `secret_id`.
pub async fn rotate(
    source: &dyn SecretSource,
    writer: &dyn SecretWriter,
    secret_id: &str,
    clock: &dyn Clock,
    policy: &RotationPolicy,
) -> Result<RotationReport, RotationError> {
    let current = KeySet::parse(source.secret_string(secret_id).await?.expose_secret())?;
    let Some((next, report)) = plan(&current, clock.now(), policy) else {
        return Ok(RotationReport::default());
    };
    writer
        .put_secret_string(secret_id, &next.to_secret_json())
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

    #[test]
    fn a_young_signer_is_left_alone() {
        let keys = KeySet::generate(T0);
        assert!(plan(&keys, T0 + Duration::days(89), &RotationPolicy::default()).is_none());
    }

    #[test]
    fn an_old_signer_gets_one_pending_successor_then_is_pruned() {
        let policy = RotationPolicy::default();
        let keys = KeySet::generate_with(KeyAlgorithm::EdDsa, T0);
        let at = T0 + Duration::days(90);
        let (next, report) = plan(&keys, at, &policy).expect("due");
        let added = report.added.clone().expect("a key is added");
        assert!(report.removed.is_empty());
        assert_eq!(next.state_at(&added, at), Some(KeyState::Pending));
        assert_eq!(next.find(&added).unwrap().algorithm(), policy.algorithm);
        // The next run while it waits changes nothing.
        assert!(plan(&next, at + Duration::minutes(30), &policy).is_none());
        // Once it signs, the old key stays until the retention has passed.
        let switch = at + policy.publish;
        assert!(plan(&next, switch, &policy).is_none());
        let (pruned, report) = plan(&next, switch + policy.retention, &policy).expect("prune");
        assert_eq!(report.removed, [keys.latest().kid().to_owned()]);
        assert_eq!(report.added, None);
        assert_eq!(pruned.keys().len(), 1);
    }
}
