//! Push tokens (`USER#id/PUSH#<id>`, a claim `PUSHTOKEN#<sha256>` per
//! token, and a last-use marker `PUSHUSED#<shard>` for the clean-up).
//!
//! Over 400 lines, kept whole: the token, its claim and its marker are one
//! entity written together, and every write below keeps the three in step.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::mapping_error;
use super::keys::{self, Key};
use super::transact::{s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::push_token::{Platform, PushToken, PushTokenId, PushTokenValue};
use crate::domain::{DeviceId, UserId};
use crate::ports::notification_profile::{PushTokenStore, ValueChange};
use crate::ports::StoreError;

// Attribute names of this file's items (their serde field names), for
// expressions and raw reads.
const LAST_USED_AT: &str = "last_used_at";
const TOKEN_ID: &str = "token_id";
const TOKEN: &str = "token";

const ATTEMPTS: usize = 4;
/// Writes per transaction when a token takes three.
const TOKENS_PER_TRANSACTION: usize = 33;

#[derive(Debug, Serialize, Deserialize)]
struct PushTokenItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: Uuid,
    user_id: Uuid,
    platform: Platform,
    token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
    active: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_used_at: OffsetDateTime,
}

/// The claim and the last-use marker share a shape: they name the token.
#[derive(Debug, Serialize, Deserialize)]
struct TokenPointer {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: Uuid,
    token_id: Uuid,
    owner: String,
}

impl PushTokenItem {
    fn new(token: &PushToken) -> Self {
        let Key { pk, sk } = keys::push_token(token.user_id, token.id);
        Self {
            pk,
            sk,
            entity: "push_token".into(),
            id: token.id.as_uuid(),
            user_id: token.user_id.as_uuid(),
            platform: token.platform,
            token: token.token.as_str().into(),
            device_id: token.device_id.as_ref().map(|d| d.as_str().to_owned()),
            active: token.active,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
        }
    }

    fn into_token(self) -> Result<PushToken, StoreError> {
        let corrupt =
            |what: &str| StoreError::internal(format!("stored push token has a bad {what}"));
        Ok(PushToken {
            id: PushTokenId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            platform: self.platform,
            token: PushTokenValue::parse(&self.token).map_err(|_| corrupt("token"))?,
            device_id: self
                .device_id
                .map(|d| DeviceId::parse(&d).map_err(|_| corrupt("device id")))
                .transpose()?,
            active: self.active,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        })
    }
}

fn pointer(key: Key, entity: &str, token: &PushToken) -> TokenPointer {
    TokenPointer {
        pk: key.pk,
        sk: key.sk,
        entity: entity.into(),
        user_id: token.user_id.as_uuid(),
        token_id: token.id.as_uuid(),
        owner: keys::owner(token.user_id),
    }
}

impl DynamoStore {
    fn put_token(&self, token: &PushToken, condition: Option<&str>) -> Result<Write, StoreError> {
        Write::put(
            &self.table,
            to_item(PushTokenItem::new(token)).map_err(mapping_error)?,
            condition,
            if condition.is_some() {
                Expression::default().name("#pk", keys::PK)
            } else {
                Expression::default()
            },
        )
    }

    fn put_pointer(&self, key: Key, entity: &str, token: &PushToken) -> Result<Write, StoreError> {
        Write::put(
            &self.table,
            to_item(pointer(key, entity, token)).map_err(mapping_error)?,
            None,
            Expression::default(),
        )
    }

    fn delete_key(&self, key: &Key) -> Result<Write, StoreError> {
        Write::delete(&self.table, key, None, Expression::default())
    }

    /// The writes that delete a token with its claim and marker; the
    /// token's own delete comes first and requires it unchanged.
    pub(super) fn delete_token_writes(&self, token: &PushToken) -> Result<Vec<Write>, StoreError> {
        Ok(vec![
            Write::delete(
                &self.table,
                &keys::push_token(token.user_id, token.id),
                Some("attribute_exists(#pk) AND #used = :used"),
                Expression::default()
                    .name("#pk", keys::PK)
                    .name("#used", LAST_USED_AT)
                    .value(":used", s(super::store::format_time(token.last_used_at))),
            )?,
            Write::delete(
                &self.table,
                &keys::push_claim(&token.token.hash()),
                Some("#token = :token"),
                Expression::default()
                    .name("#token", TOKEN_ID)
                    .value(":token", s(token.id.to_string())),
            )?,
            self.delete_key(&keys::push_used(token.id, token.last_used_at))?,
        ])
    }

    pub(super) async fn push_tokens_of(&self, user: UserId) -> Result<Vec<PushToken>, StoreError> {
        let items = self
            .query_prefix(&keys::user_partition(user), keys::PUSH_PREFIX)
            .await?;
        let mut tokens = items
            .into_iter()
            .map(|item| {
                from_item::<_, PushTokenItem>(item)
                    .map_err(mapping_error)?
                    .into_token()
            })
            .collect::<Result<Vec<_>, _>>()?;
        tokens.sort_by_key(|t| (t.created_at, t.id));
        Ok(tokens)
    }

    /// A token value's claim, and the token it points at (if still there).
    async fn claim_and_holder(
        &self,
        claim_key: Key,
    ) -> Result<(Option<TokenPointer>, Option<PushToken>), StoreError> {
        let claim = match self.get_item(claim_key).await? {
            Some(item) => Some(from_item::<_, TokenPointer>(item).map_err(mapping_error)?),
            None => None,
        };
        let held = match &claim {
            Some(claim) => {
                self.read_token(keys::push_token(
                    UserId::from_uuid(claim.user_id),
                    PushTokenId::from_uuid(claim.token_id),
                ))
                .await?
            }
            None => None,
        };
        Ok((claim, held))
    }

    async fn read_token(&self, key: Key) -> Result<Option<PushToken>, StoreError> {
        match self.get_item(key).await? {
            Some(item) => Ok(Some(
                from_item::<_, PushTokenItem>(item)
                    .map_err(mapping_error)?
                    .into_token()?,
            )),
            None => Ok(None),
        }
    }

    /// Runs `writes` in transactions of at most `TOKENS_PER_TRANSACTION`
    /// tokens; cancelled ones (a token changed meanwhile) are skipped.
    async fn write_per_token(&self, per_token: Vec<Vec<Write>>) -> Result<usize, StoreError> {
        let mut done = 0;
        for chunk in per_token.chunks(TOKENS_PER_TRANSACTION) {
            let count = chunk.len();
            match self.transact(chunk.concat()).await {
                Ok(()) => done += count,
                Err(TransactError::Cancelled(_)) => {
                    for writes in chunk {
                        if self.transact(writes.clone()).await.is_ok() {
                            done += 1;
                        }
                    }
                }
                Err(TransactError::Store(error)) => return Err(error),
            }
        }
        Ok(done)
    }
}

/// A push token is still as it was read: failed, it changed or went.
const PUSH_TOKEN_UNCHANGED: Condition = "push_token_unchanged";

#[async_trait]
impl PushTokenStore for DynamoStore {
    async fn register_push_token(&self, token: &PushToken) -> Result<PushToken, StoreError> {
        let claim_key = keys::push_claim(&token.token.hash());
        for _ in 0..ATTEMPTS {
            let (claim, held) = self.claim_and_holder(claim_key.clone()).await?;
            // One write per item: a transaction may not touch an item twice.
            let (stored, mut writes) = match held {
                // This account's already: refresh it in place, keep its id.
                Some(held) if held.user_id == token.user_id => {
                    let refreshed = PushToken {
                        platform: token.platform,
                        device_id: token.device_id.clone(),
                        active: true,
                        last_used_at: token.last_used_at,
                        ..held.clone()
                    };
                    let mut writes = vec![Write::put(
                        &self.table,
                        to_item(PushTokenItem::new(&refreshed)).map_err(mapping_error)?,
                        Some("#used = :used"),
                        Expression::default()
                            .name("#used", LAST_USED_AT)
                            .value(":used", s(super::store::format_time(held.last_used_at))),
                    )?];
                    if held.last_used_at != refreshed.last_used_at {
                        writes.push(self.delete_key(&keys::push_used(held.id, held.last_used_at))?);
                    }
                    (refreshed, writes)
                }
                // Another account's: it moves here (the claim is rewritten
                // below, so only the token and its marker are deleted).
                Some(held) => {
                    let mut writes = self.delete_token_writes(&held)?;
                    writes.remove(1);
                    writes.push(self.put_token(token, None)?);
                    (token.clone(), writes)
                }
                None => (token.clone(), vec![self.put_token(token, None)?]),
            };
            // The claim write is conditional on what was read.
            writes.push(match &claim {
                Some(read) => Write::put(
                    &self.table,
                    to_item(pointer(claim_key.clone(), "push_claim", &stored))
                        .map_err(mapping_error)?,
                    Some("#token = :token"),
                    Expression::default()
                        .name("#token", TOKEN_ID)
                        .value(":token", s(read.token_id.to_string())),
                )?,
                None => Write::create(
                    &self.table,
                    to_item(pointer(claim_key.clone(), "push_claim", &stored))
                        .map_err(mapping_error)?,
                )?,
            });
            writes.push(self.put_pointer(
                keys::push_used(stored.id, stored.last_used_at),
                "push_used",
                &stored,
            )?);
            match self.transact(writes).await {
                Ok(()) => return Ok(stored),
                Err(TransactError::Cancelled(_)) => continue,
                Err(TransactError::Store(error)) => return Err(error),
            }
        }
        Err(StoreError::Unavailable(
            "the push token kept changing".into(),
        ))
    }

    async fn push_tokens(&self, user: UserId) -> Result<Vec<PushToken>, StoreError> {
        self.push_tokens_of(user).await
    }

    async fn push_token(
        &self,
        user: UserId,
        id: PushTokenId,
    ) -> Result<Option<PushToken>, StoreError> {
        self.read_token(keys::push_token(user, id)).await
    }

    async fn update_push_token(&self, updated: &PushToken) -> Result<bool, StoreError> {
        match self
            .transact(vec![self.put_token(updated, Some("attribute_exists(#pk)"))?])
            .await
        {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(_)) => Ok(false),
            Err(TransactError::Store(error)) => Err(error),
        }
    }

    async fn change_push_token_value(
        &self,
        current: &PushToken,
        updated: &PushToken,
    ) -> Result<ValueChange, StoreError> {
        let new_claim = keys::push_claim(&updated.token.hash());
        for _ in 0..ATTEMPTS {
            let (claim, held) = self.claim_and_holder(new_claim.clone()).await?;
            let mut writes = vec![
                Write::put(
                    &self.table,
                    to_item(PushTokenItem::new(updated)).map_err(mapping_error)?,
                    Some("attribute_exists(#pk) AND #used = :used AND #token = :token"),
                    Expression::default()
                        .name("#pk", keys::PK)
                        .name("#used", LAST_USED_AT)
                        .name("#token", TOKEN)
                        .value(":used", s(super::store::format_time(current.last_used_at)))
                        .value(":token", s(current.token.as_str().to_owned())),
                )?
                .named(PUSH_TOKEN_UNCHANGED),
                Write::delete(
                    &self.table,
                    &keys::push_claim(&current.token.hash()),
                    Some("#token = :token"),
                    Expression::default()
                        .name("#token", TOKEN_ID)
                        .value(":token", s(current.id.to_string())),
                )?,
            ];
            // The new value's holder goes (its claim is rewritten below).
            if let Some(held) = &held {
                let mut held_writes = self.delete_token_writes(held)?;
                held_writes.remove(1);
                writes.extend(held_writes);
            }
            writes.push(match &claim {
                Some(read) => Write::put(
                    &self.table,
                    to_item(pointer(new_claim.clone(), "push_claim", updated))
                        .map_err(mapping_error)?,
                    Some("#token = :token"),
                    Expression::default()
                        .name("#token", TOKEN_ID)
                        .value(":token", s(read.token_id.to_string())),
                )?,
                None => Write::create(
                    &self.table,
                    to_item(pointer(new_claim.clone(), "push_claim", updated))
                        .map_err(mapping_error)?,
                )?,
            });
            match self.transact(writes).await {
                Ok(()) => return Ok(ValueChange::Done),
                Err(TransactError::Cancelled(cancelled))
                    if cancelled.failed_named(PUSH_TOKEN_UNCHANGED) =>
                {
                    let now = self
                        .read_token(keys::push_token(current.user_id, current.id))
                        .await?;
                    return Ok(match now {
                        None => ValueChange::Gone,
                        Some(_) => ValueChange::Stale,
                    });
                }
                // The new value's claim moved meanwhile: read it again.
                Err(TransactError::Cancelled(_)) => continue,
                Err(TransactError::Store(error)) => return Err(error),
            }
        }
        Err(StoreError::Unavailable(
            "the push token kept changing".into(),
        ))
    }

    async fn delete_push_token(&self, user: UserId, id: PushTokenId) -> Result<bool, StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(token) = self.read_token(keys::push_token(user, id)).await? else {
                return Ok(false);
            };
            match self.transact(self.delete_token_writes(&token)?).await {
                Ok(()) => return Ok(true),
                Err(TransactError::Cancelled(_)) => continue,
                Err(TransactError::Store(error)) => return Err(error),
            }
        }
        Err(StoreError::Unavailable(
            "the push token kept changing".into(),
        ))
    }

    async fn deactivate_push_tokens(&self, user: UserId) -> Result<usize, StoreError> {
        let per_token = self
            .push_tokens_of(user)
            .await?
            .into_iter()
            .filter(|t| t.active)
            .map(|t| {
                let inactive = PushToken { active: false, ..t };
                self.put_token(&inactive, Some("attribute_exists(#pk)"))
                    .map(|w| vec![w])
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write_per_token(per_token).await
    }

    async fn drop_device_push_tokens(
        &self,
        user: UserId,
        device: &DeviceId,
    ) -> Result<usize, StoreError> {
        let per_token = self
            .push_tokens_of(user)
            .await?
            .iter()
            .filter(|t| t.device_id.as_ref() == Some(device))
            .map(|t| self.delete_token_writes(t))
            .collect::<Result<Vec<_>, _>>()?;
        self.write_per_token(per_token).await
    }

    async fn unused_push_tokens(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PushToken>, StoreError> {
        let bound = keys::stamped_before(before);
        let mut wanted = Vec::new();
        let partitions = (0..keys::PUSH_USED_SHARDS).map(keys::push_used_partition);
        for item in self.query_below_each(partitions, &bound, limit).await? {
            let marker: TokenPointer = from_item(item).map_err(mapping_error)?;
            wanted.push(keys::push_token(
                UserId::from_uuid(marker.user_id),
                PushTokenId::from_uuid(marker.token_id),
            ));
        }
        wanted.truncate(100);
        let mut tokens = Vec::new();
        for (_, item) in self.batch_get(&wanted).await? {
            let token = from_item::<_, PushTokenItem>(item)
                .map_err(mapping_error)?
                .into_token()?;
            if token.last_used_at < before {
                tokens.push(token);
            }
        }
        tokens.sort_by_key(|t| (t.last_used_at, t.id));
        tokens.truncate(limit);
        Ok(tokens)
    }

    async fn prune_push_token(&self, token: &PushToken) -> Result<bool, StoreError> {
        match self.transact(self.delete_token_writes(token)?).await {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(_)) => Ok(false),
            Err(TransactError::Store(error)) => Err(error),
        }
    }
}
