//! The rotation steps on a key set: add a pending key, promote it, retire
//! one, prune what no live token can need. Each takes the time it happens
//! at, so tests run them on a clock of their own.

use time::{Duration, OffsetDateTime};

use super::{new_key, whole_seconds_utc, KeyAlgorithm, KeySet, SigningKey};

/// Where a key stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet.
    Pending,
    /// The signer.
    Active,
    /// Published, signing no more since `since`: kept until every token it
    /// signed has expired.
    Retired { since: OffsetDateTime },
    /// Retired before it ever signed: no token names it.
    Cancelled,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LifecycleError {
    #[error("no key {0:?} in the set")]
    UnknownKid(String),
    #[error("key {0:?} is not pending")]
    NotPending(String),
    #[error(
        "key {kid:?} has been published only since {published_since}; it may sign from {earliest} \
         (verifiers cache the JWKS and functions reload keys: promoting earlier would hand out \
         tokens some verifiers cannot check)"
    )]
    PublishedTooRecently {
        kid: String,
        published_since: String,
        earliest: String,
    },
    #[error("key {0:?} is the signer: promote another key first, then it retires by itself")]
    IsSigner(String),
}

impl SigningKey {
    /// Retired before it activated: it never signs.
    fn is_cancelled(&self) -> bool {
        self.retired_at
            .is_some_and(|retired| retired <= self.activates_at)
    }
}

impl KeySet {
    /// The state of every key at `now`, in the set's order.
    pub fn states_at(&self, now: OffsetDateTime) -> Vec<(&SigningKey, KeyState)> {
        let signer = self.signer_at(now).map(SigningKey::kid);
        self.keys
            .iter()
            .map(|key| {
                let state = if key.is_cancelled() {
                    KeyState::Cancelled
                } else if key.activates_at > now {
                    KeyState::Pending
                } else if Some(key.kid()) == signer {
                    KeyState::Active
                } else {
                    KeyState::Retired {
                        since: self.retired_since(key, now),
                    }
                };
                (key, state)
            })
            .collect()
    }

    /// The state of key `kid` at `now`.
    pub fn state_at(&self, kid: &str, now: OffsetDateTime) -> Option<KeyState> {
        self.states_at(now)
            .into_iter()
            .find(|(key, _)| key.kid == kid)
            .map(|(_, state)| state)
    }

    /// When an activated key stopped signing: its own retirement, or the
    /// activation of the first key that superseded it, whichever came first.
    fn retired_since(&self, key: &SigningKey, now: OffsetDateTime) -> OffsetDateTime {
        let superseded = self
            .keys
            .iter()
            .filter(|other| {
                !other.is_cancelled()
                    && other.activates_at > key.activates_at
                    && other.activates_at <= now
            })
            .map(|other| other.activates_at)
            .min();
        [superseded, key.retired_at.filter(|at| *at <= now)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now)
    }

    /// This set plus a new pending key of `alg`, published from `now` and
    /// signing from `now + delay` (and never before a key already waiting
    /// to activate).
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness.
    pub fn with_pending_key(
        &self,
        alg: KeyAlgorithm,
        now: OffsetDateTime,
        delay: Duration,
    ) -> Self {
        let now = whole_seconds_utc(now);
        let latest = self.keys[0].activates_at;
        let activates_at = (now + delay).max(latest + Duration::SECOND);
        let mut key = new_key(alg, now, &self.keys);
        key.activates_at = activates_at;
        let mut keys = vec![key];
        keys.extend(self.keys.iter().cloned());
        Self::from_keys(keys)
    }

    /// Key `kid`, pending, signs from `now` on, provided it has been
    /// published for at least `min_published` (the JWKS cache lifetime plus
    /// the key-reload interval).
    pub fn promote(
        &self,
        kid: &str,
        now: OffsetDateTime,
        min_published: Duration,
    ) -> Result<Self, LifecycleError> {
        let now = whole_seconds_utc(now);
        if self.state_at(kid, now) != Some(KeyState::Pending) {
            return Err(self.missing_or(kid, LifecycleError::NotPending(kid.to_owned())));
        }
        let mut keys = self.keys.clone();
        let key = keys
            .iter_mut()
            .find(|key| key.kid == kid)
            .ok_or_else(|| LifecycleError::UnknownKid(kid.to_owned()))?;
        let earliest = key.created_at + min_published;
        if now < earliest {
            return Err(LifecycleError::PublishedTooRecently {
                kid: kid.to_owned(),
                published_since: super::format_time(key.created_at),
                earliest: super::format_time(earliest),
            });
        }
        key.activates_at = now;
        Ok(Self::from_keys(keys))
    }

    /// Key `kid` signs nothing from `now` on: a pending key is cancelled, a
    /// superseded one marked retired. The signer cannot be retired (nothing
    /// would sign): promote its successor instead.
    pub fn retire(&self, kid: &str, now: OffsetDateTime) -> Result<Self, LifecycleError> {
        let now = whole_seconds_utc(now);
        match self.state_at(kid, now) {
            None => return Err(LifecycleError::UnknownKid(kid.to_owned())),
            Some(KeyState::Active) => return Err(LifecycleError::IsSigner(kid.to_owned())),
            Some(KeyState::Retired { .. } | KeyState::Cancelled) => return Ok(self.clone()),
            Some(KeyState::Pending) => {}
        }
        let mut keys = self.keys.clone();
        if let Some(key) = keys.iter_mut().find(|key| key.kid == kid) {
            key.retired_at = Some(now);
        }
        Ok(Self::from_keys(keys))
    }

    /// This set without the keys no live token can name: retired for at
    /// least `retention` (the access-token lifetime, its leeway and the
    /// key-reload interval), or cancelled. Returns the removed kids too.
    pub fn prune(&self, now: OffsetDateTime, retention: Duration) -> (Self, Vec<String>) {
        let mut removed = Vec::new();
        let kept: Vec<SigningKey> = self
            .states_at(now)
            .into_iter()
            .filter_map(|(key, state)| {
                let gone = match state {
                    KeyState::Retired { since } => since + retention <= now,
                    KeyState::Cancelled => true,
                    KeyState::Pending | KeyState::Active => false,
                };
                if gone {
                    removed.push(key.kid.clone());
                    None
                } else {
                    Some(key.clone())
                }
            })
            .collect();
        if kept.is_empty() {
            // Only cancelled keys: nothing was ever usable; keep the set as
            // it is rather than write an empty secret.
            return (self.clone(), Vec::new());
        }
        (Self::from_keys(kept), removed)
    }

    fn missing_or(&self, kid: &str, error: LifecycleError) -> LifecycleError {
        if self.find(kid).is_none() {
            LifecycleError::UnknownKid(kid.to_owned())
        } else {
            error
        }
    }
}
