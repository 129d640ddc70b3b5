//! Ending sessions: each live session's mark and its refresh token's
//! removal, in batches that fit a transaction, with the caller's own writes
//! in the first batch.

use serde_dynamo::from_item;
use time::OffsetDateTime;

use super::errors::mapping_error;

use super::keys::{self, SESSION_PREFIX};
use super::session_items::SessionItem;
use super::store::format_time;
use super::transact::{s, Condition, Expression, TransactError, Write};
use super::DynamoStore;
use crate::domain::{Session, SessionId, UserId};
use crate::ports::sessions::RevokeReason;
use crate::ports::StoreError;

/// A transaction holds at most 100 writes; ending a session takes two.
const MAX_WRITES: usize = 100;
pub(super) const REVOKE_ATTEMPTS: usize = 3;

/// A session is still live under the refresh token it was read with:
/// failed, it rotated or ended meanwhile.
pub(super) const SESSION_CURRENT: Condition = "session_current";
impl DynamoStore {
    /// The two writes that end `session`: mark it revoked (only if it is
    /// still live on the token it was read with) and delete its live token.
    pub(super) fn end_session(
        &self,
        session: &Session,
        reason: RevokeReason,
        at: OffsetDateTime,
    ) -> Result<[Write; 2], StoreError> {
        let mark = Write::update(
            &self.table,
            &keys::session(session.user_id, session.id),
            "SET #revoked = :at, #reason = :reason",
            Some("attribute_exists(#pk) AND attribute_not_exists(#revoked) AND #current = :hash"),
            Expression::default()
                .name("#pk", keys::PK)
                .name("#revoked", super::session_items::REVOKED_AT)
                .name("#reason", super::session_items::REVOKED_REASON)
                .name("#current", super::session_items::CURRENT_TOKEN_HASH)
                .value(":at", s(format_time(at)))
                .value(":reason", s(reason.as_str()))
                .value(":hash", s(session.current_token_hash.clone())),
        )?
        .named(SESSION_CURRENT);
        let delete = Write::delete(
            &self.table,
            &keys::refresh_token(&session.current_token_hash),
            None,
            Expression::default(),
        )?;
        Ok([mark, delete])
    }

    async fn sessions_of(&self, user_id: UserId) -> Result<Vec<Session>, StoreError> {
        let items = self
            .query_prefix(&keys::user_partition(user_id), SESSION_PREFIX)
            .await?;
        items
            .into_iter()
            .map(|item| {
                from_item::<_, SessionItem>(item)
                    .map(Session::from)
                    .map_err(mapping_error)
            })
            .collect()
    }

    /// Ends every live session of the user but `keep` (and `filter` must
    /// accept it), with `first` in the same transaction as the first batch.
    /// A session that rotated meanwhile is read again and ended.
    pub(super) async fn revoke_live_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        reason: RevokeReason,
        at: OffsetDateTime,
        first: Vec<Write>,
    ) -> Result<usize, TransactError> {
        self.revoke_matching(user_id, keep, reason, at, first, |_| true)
            .await
    }

    pub(super) async fn revoke_matching(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        reason: RevokeReason,
        at: OffsetDateTime,
        first: Vec<Write>,
        filter: impl Fn(&Session) -> bool,
    ) -> Result<usize, TransactError> {
        let mut first_pending = !first.is_empty();
        let mut ended = 0;
        for _ in 0..REVOKE_ATTEMPTS {
            let live: Vec<Session> = self
                .sessions_of(user_id)
                .await?
                .into_iter()
                .filter(|s| s.revoked_at.is_none() && Some(s.id) != keep && filter(s))
                .collect();
            let mut sessions = live.iter();
            let mut moved = false;
            loop {
                let mut batch = if first_pending {
                    first.clone()
                } else {
                    Vec::new()
                };
                let mut in_batch = 0;
                while batch.len() + 2 <= MAX_WRITES {
                    let Some(session) = sessions.next() else {
                        break;
                    };
                    batch.extend(self.end_session(session, reason, at)?);
                    in_batch += 1;
                }
                if batch.is_empty() {
                    break;
                }
                match self.transact(batch).await {
                    Ok(()) => {
                        first_pending = false;
                        ended += in_batch;
                    }
                    // The caller's own writes failed their conditions.
                    Err(TransactError::Cancelled(c))
                        if first_pending
                            && c.failed_names().any(|name| name != Some(SESSION_CURRENT)) =>
                    {
                        return Err(TransactError::Cancelled(c));
                    }
                    // A session rotated or ended meanwhile: read them again.
                    Err(TransactError::Cancelled(_)) => {
                        moved = true;
                        break;
                    }
                    Err(error) => return Err(error),
                }
            }
            if !moved {
                return Ok(ended);
            }
        }
        Err(StoreError::Unavailable("sessions kept changing while being revoked".into()).into())
    }
}
