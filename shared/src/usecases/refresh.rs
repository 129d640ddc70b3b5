//! `refresh`: spend a refresh token for a new pair, detecting reuse.

pub use crate::requests::sessions::RefreshRequest;
use time::OffsetDateTime;

use super::session_tokens::TokenPair;
use super::Origin;
use crate::domain::{
    AuditAction, AuditOutcome, EventType, NotificationEvent, RefreshRecord, RefreshState,
    SessionPolicy,
};
use crate::ports::sessions::{
    GraceReplay, RefreshView, RevokeReason, Rotation, RotationError, SessionStore,
};
use crate::ports::{Clock, StoreError};
use crate::session_tokens::jwt::{SessionTokenSettings, TokenError};
use crate::session_tokens::keyset::KeySet;
use crate::session_tokens::refresh::{
    open_successor, seal_successor, RefreshToken, RefreshTokenError,
};

/// Reads again when a read saw half of a concurrent rotation.
const TORN_READ_RETRIES: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, malformed, or its session or user is gone.
    #[error("refresh token invalid")]
    Invalid,
    #[error("refresh token expired")]
    Expired,
    /// A spent token came back after the grace window, or after its
    /// successor had itself been rotated: the session is ended.
    #[error("refresh token reused")]
    Reused,
    #[error("storage failed during refresh")]
    Store(#[from] StoreError),
    #[error("token issuing failed during refresh")]
    Token(#[from] TokenError),
    #[error("refresh token generation failed")]
    Refresh(#[from] RefreshTokenError),
}

pub struct Refresh<'a> {
    pub sessions: &'a dyn SessionStore,
    pub clock: &'a dyn Clock,
    pub keys: &'a KeySet,
    pub token_settings: &'a SessionTokenSettings,
    pub policy: SessionPolicy,
}

impl Refresh<'_> {
    /// Two round trips: token, session and user in one read; the rotation
    /// (or a grace replay's conditioned audit record) in one transaction.
    /// A lost race costs one more read and answers like a retry inside the
    /// grace window.
    #[tracing::instrument(name = "refresh", skip_all)]
    pub async fn run(
        &self,
        request: RefreshRequest,
        origin: &Origin,
    ) -> Result<TokenPair, RefreshError> {
        let presented = RefreshToken::parse(request.refresh_token.expose())
            .map_err(|_| RefreshError::Invalid)?;
        let view = self.load(&presented).await?;
        self.rotate(&presented, &view, origin, TORN_READ_RETRIES)
            .await
    }

    async fn load(&self, token: &RefreshToken) -> Result<RefreshView, RefreshError> {
        Ok(self
            .sessions
            .load_refresh(
                &token.hash(),
                crate::domain::UserId::from_uuid(token.user_id()),
                crate::domain::SessionId::from_uuid(token.session_id()),
            )
            .await?)
    }

    async fn rotate(
        &self,
        presented: &RefreshToken,
        view: &RefreshView,
        origin: &Origin,
        rereads: u8,
    ) -> Result<TokenPair, RefreshError> {
        let now = self.clock.now();
        let (record, session) = self.check(presented, view, now)?;
        match &record.state {
            RefreshState::Spent { .. }
                if session.current_token_hash == record.hash && rereads > 0 =>
            {
                // Spent, yet its session still names it: the read saw half
                // of the rotation that spent it (a BatchGetItem is not
                // isolated from a transaction). Read again rather than
                // take a racing tab for a thief.
                let again = self.load(presented).await?;
                Box::pin(self.rotate(presented, &again, origin, rereads - 1)).await
            }
            RefreshState::Spent {
                at,
                successor_hash,
                sealed_successor,
            } => {
                // A retry or a racing tab gets the same successor again, but
                // only while that successor is still the session's live
                // token: once it has rotated on, the spent token is theft.
                let in_grace = now - *at <= self.policy.reuse_grace;
                if in_grace && session.current_token_hash == *successor_hash {
                    let successor =
                        open_successor(presented, sealed_successor).ok_or(RefreshError::Invalid)?;
                    if self
                        .honour_grace_replay(record, successor_hash, origin, now)
                        .await?
                    {
                        return Ok(TokenPair::issue(
                            self.keys,
                            self.token_settings,
                            record.user_id,
                            record.session_id,
                            successor,
                            now,
                        )?);
                    }
                }
                self.end_for_reuse(view, origin, now).await?;
                Err(RefreshError::Reused)
            }
            RefreshState::Active => {
                let successor =
                    RefreshToken::generate(presented.user_id(), presented.session_id())?;
                let rotation = Rotation {
                    user_id: record.user_id,
                    session_id: record.session_id,
                    old_hash: record.hash.clone(),
                    successor: RefreshRecord {
                        hash: successor.hash(),
                        user_id: record.user_id,
                        session_id: record.session_id,
                        issued_at: now,
                        expires_at: (now + self.policy.idle).min(session.absolute_expires_at),
                        state: RefreshState::Active,
                    },
                    sealed_successor: seal_successor(presented, &successor)?,
                    at: now,
                };
                match self.sessions.rotate_refresh(&rotation).await {
                    Ok(()) => Ok(TokenPair::issue(
                        self.keys,
                        self.token_settings,
                        record.user_id,
                        record.session_id,
                        successor,
                        now,
                    )?),
                    Err(RotationError::Lost) => {
                        // Someone spent it first (or the session ended):
                        // decide again from what is stored now.
                        let again = self.load(presented).await?;
                        match again.record.as_ref().map(|r| &r.state) {
                            Some(RefreshState::Spent { .. }) => {
                                Box::pin(self.rotate(presented, &again, origin, rereads)).await
                            }
                            _ => Err(RefreshError::Invalid),
                        }
                    }
                    Err(RotationError::Store(error)) => Err(error.into()),
                }
            }
        }
    }

    /// The token, its session and its user must all still be good.
    fn check<'v>(
        &self,
        presented: &RefreshToken,
        view: &'v RefreshView,
        now: OffsetDateTime,
    ) -> Result<(&'v RefreshRecord, &'v crate::domain::Session), RefreshError> {
        let record = view.record.as_ref().ok_or(RefreshError::Invalid)?;
        let belongs = record.user_id.as_uuid() == presented.user_id()
            && record.session_id.as_uuid() == presented.session_id();
        let session = view.session.as_ref().ok_or(RefreshError::Invalid)?;
        let account = view.account.as_ref().ok_or(RefreshError::Invalid)?;
        if !belongs || !account.is_active() {
            return Err(RefreshError::Invalid);
        }
        if session.revoked_at.is_some() {
            // A spent token of an ended family is still reuse.
            return match record.state {
                RefreshState::Spent { .. } => Err(RefreshError::Reused),
                RefreshState::Active => Err(RefreshError::Invalid),
            };
        }
        if record.is_expired(now) || now >= session.absolute_expires_at {
            return Err(RefreshError::Expired);
        }
        Ok((record, session))
    }

    /// Audits a replay inside the grace window, in one write conditioned on
    /// the successor still being the session's current token; false when it
    /// no longer is (it rotated on, or the session ended, since the read).
    async fn honour_grace_replay(
        &self,
        record: &RefreshRecord,
        successor_hash: &str,
        origin: &Origin,
        now: OffsetDateTime,
    ) -> Result<bool, RefreshError> {
        let mut audit = origin.audit(AuditAction::RefreshGraceReplay, AuditOutcome::Success, now);
        audit.user_id = Some(record.user_id);
        audit.reasons = vec![format!("session:{}", record.session_id)];
        let replay = GraceReplay {
            user_id: record.user_id,
            session_id: record.session_id,
            successor_hash: successor_hash.to_owned(),
            audit,
        };
        match self.sessions.record_grace_replay(&replay).await {
            Ok(()) => {
                tracing::info!(user_id = %record.user_id, session_id = %record.session_id, "refresh token replayed inside the grace window");
                Ok(true)
            }
            Err(RotationError::Lost) => Ok(false),
            Err(RotationError::Store(error)) => Err(error.into()),
        }
    }

    async fn end_for_reuse(
        &self,
        view: &RefreshView,
        origin: &Origin,
        now: OffsetDateTime,
    ) -> Result<(), RefreshError> {
        let Some(session) = &view.session else {
            return Ok(());
        };
        let mut audit = origin.audit(AuditAction::TokenReuse, AuditOutcome::Rejected, now);
        audit.user_id = Some(session.user_id);
        audit.reasons = vec![format!("session:{}", session.id)];
        tracing::warn!(user_id = %session.user_id, session_id = %session.id, "refresh token reused: session revoked");
        let reuse = NotificationEvent::new(
            EventType::TokenReuse,
            session.user_id,
            now,
            serde_json::json!({ "session_id": session.id.to_string(), "source_ip": origin.source_ip.map(|ip| ip.to_string()) }),
        );
        self.sessions
            .revoke_session(
                session,
                RevokeReason::TokenReuse,
                now,
                Some(&audit),
                &[reuse],
            )
            .await?;
        Ok(())
    }
}
